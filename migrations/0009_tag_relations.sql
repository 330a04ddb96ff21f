-- 0009_tag_relations: words that mean the same thing, or a broader or narrower thing, as
-- relations between normalised tags, for search's fallback when exact tags fall short
-- (docs/search.md, "Related tags"). Each relation has its source: WordNet's data files
-- (`mediaq tags wordnet`), the library's own co-occurrences, or an operator's alias.
CREATE TABLE tag_relation (
    term      text   NOT NULL CHECK (term <> ''),
    related   text   NOT NULL CHECK (related <> ''),
    relation  text   NOT NULL CHECK (relation IN ('synonym', 'similar', 'broader', 'narrower', 'alias', 'cooccurs')),
    source    text   NOT NULL CHECK (source IN ('wordnet', 'library', 'operator')),
    -- How much a match through this relation counts against an exact match (which counts 1).
    weight    float8 NOT NULL CHECK (weight > 0 AND weight <= 1),
    PRIMARY KEY (term, related, relation, source),
    CHECK (term <> related)
);

-- Which data a source's relations were loaded from, so that loading the same data again is a
-- no-op and new data (a new package) replaces the old in one transaction.
CREATE TABLE lexicon (
    source     text        PRIMARY KEY CHECK (source IN ('wordnet', 'library')),
    version    text        NOT NULL,
    relations  bigint      NOT NULL CHECK (relations >= 0),
    loaded_at  timestamptz NOT NULL DEFAULT now()
);
