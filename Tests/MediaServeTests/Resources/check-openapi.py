#!/usr/bin/python3
"""Checks mediaq serve's OpenAPI document, and real answers against it.

1. The document is valid OpenAPI 3.0: checked against the OpenAPI Initiative's published JSON
   Schema of 3.0 documents (openapi-3.0-schema.json beside this file, Apache-2.0, as shipped by
   the openapi-spec-validator project), and every "$ref" in it resolves.
2. Each answer given is valid against the schema the document gives for its operation and
   status. Strictly: an object schema that lists properties allows no others, so a field the
   server sends and the document does not describe is an error too. OpenAPI 3.0's
   `nullable: true` becomes JSON Schema's null type.

usage: check-openapi.py DOCUMENT ANSWERS
  ANSWERS: a JSON list of {"method", "path" (the document's path template), "status", "body"}.
Prints one line per problem and exits 1 when there is any; prints a count and exits 0 otherwise.
Needs Debian's python3-jsonschema (scripts/install-deps.sh).
"""

import copy
import json
import os
import sys

import jsonschema

HERE = os.path.dirname(os.path.abspath(__file__))


def refs(node, found):
    if isinstance(node, dict):
        if isinstance(node.get("$ref"), str):
            found.append(node["$ref"])
        for value in node.values():
            refs(value, found)
    elif isinstance(node, list):
        for value in node:
            refs(value, found)
    return found


def pointer(document, ref):
    if not ref.startswith("#/"):
        raise KeyError(ref)
    node = document
    for part in ref[2:].split("/"):
        node = node[part.replace("~1", "/").replace("~0", "~")]
    return node


def as_json_schema(schema):
    """An OpenAPI 3.0 schema object as strict JSON Schema (draft 4), walked by structure so a
    property that happens to be called "nullable" or "example" is left alone."""
    if not isinstance(schema, dict):
        return schema
    out = dict(schema)
    for key in ("example", "discriminator", "xml", "externalDocs", "deprecated", "readOnly", "writeOnly"):
        out.pop(key, None)
    if "properties" in out:
        out["properties"] = {name: as_json_schema(value) for name, value in out["properties"].items()}
        out.setdefault("additionalProperties", False)
    for key in ("items", "not", "additionalProperties"):
        if isinstance(out.get(key), dict):
            out[key] = as_json_schema(out[key])
    for key in ("allOf", "anyOf", "oneOf"):
        if key in out:
            out[key] = [as_json_schema(value) for value in out[key]]
    if out.pop("nullable", False):
        if "$ref" in out or "allOf" in out or "oneOf" in out or "anyOf" in out:
            return {"anyOf": [{"type": "null"}, out]}
        if "type" in out:
            out["type"] = [out["type"], "null"]
        if "enum" in out:
            out["enum"] = out["enum"] + [None]
    return out


def main():
    document_path, answers_path = sys.argv[1:3]
    with open(document_path) as f:
        document = json.load(f)
    with open(os.path.join(HERE, "openapi-3.0-schema.json")) as f:
        meta = json.load(f)
    with open(answers_path) as f:
        answers = json.load(f)

    problems = []
    for error in jsonschema.Draft4Validator(meta).iter_errors(document):
        problems.append(f"document: {'/'.join(map(str, error.absolute_path))}: {error.message}")
    for ref in refs(document, []):
        try:
            pointer(document, ref)
        except (KeyError, TypeError):
            problems.append(f"document: $ref {ref} does not resolve")

    components = copy.deepcopy(document.get("components", {}))
    components["schemas"] = {name: as_json_schema(value) for name, value in components.get("schemas", {}).items()}
    strict = {"components": components}
    checked = 0
    for answer in answers:
        where = f"{answer['method'].upper()} {answer['path']} {answer['status']}"
        operation = document["paths"].get(answer["path"], {}).get(answer["method"].lower())
        if operation is None:
            problems.append(f"{where}: the document has no such operation")
            continue
        responses = operation.get("responses", {})
        response = responses.get(str(answer["status"])) or responses.get("default")
        if response is None:
            problems.append(f"{where}: the document lists no such status (it lists {sorted(responses)})")
            continue
        if "$ref" in response:
            response = pointer(document, response["$ref"])
        schema = response.get("content", {}).get("application/json", {}).get("schema")
        if schema is None:
            problems.append(f"{where}: the document gives no JSON schema for it")
            continue
        root = dict(strict)
        root.update(as_json_schema(schema))
        validator = jsonschema.Draft4Validator(root)
        for error in validator.iter_errors(answer["body"]):
            problems.append(f"{where}: {'/'.join(map(str, error.absolute_path)) or '(top)'}: {error.message}")
        checked += 1

    for problem in problems:
        print(problem)
    if problems:
        return 1
    print(f"document valid; {checked} answers valid")
    return 0


if __name__ == "__main__":
    sys.exit(main())
