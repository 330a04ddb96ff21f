#!/usr/bin/env python3
"""Drives Debian's headless Chromium through a curation, as a person at the browser would.

BrowserTests runs it: Chromium's DevTools protocol over --remote-debugging-pipe (file
descriptors 3 and 4, messages ended by NUL), so nothing but the Python standard library is
needed. Two browser contexts, each with its own cookies:

* "signed in": opens /login, types the token into the form and submits it, opens the asset
  page, and submits its "hide" form (which carries the page's CSRF field);
* "no token": opens the asset page (which then has no curation forms) and submits a form of its
  own making to the same action, as a hostile page or a person without the token would.

Prints one JSON object: what each step saw (URL, page text, the forms present). The Swift test
judges it and checks the database.

usage: curate-in-browser.py CHROMIUM BASE_URL ASSET_ID TOKEN
"""

import json
import os
import subprocess
import sys
import tempfile
import time


class Browser:
    def __init__(self, chromium):
        self.to_chromium_read, self.to_chromium = os.pipe()
        self.from_chromium, self.from_chromium_write = os.pipe()
        profile = tempfile.mkdtemp(prefix="chromium-cdp-")
        # Chromium reads commands on fd 3 and writes answers on fd 4. The pipes may hold those
        # very numbers in this process, so they go through high numbers first; and subprocess
        # closes every descriptor not in pass_fds after preexec_fn, hence 3 and 4 there.
        def wire():
            os.dup2(self.to_chromium_read, 100)
            os.dup2(self.from_chromium_write, 101)
            os.dup2(100, 3)
            os.dup2(101, 4)

        self.process = subprocess.Popen(
            [chromium, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
             "--disable-dev-shm-usage", "--remote-debugging-pipe", "--user-data-dir=" + profile,
             "about:blank"],
            preexec_fn=wire, pass_fds=(3, 4),
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        os.close(self.to_chromium_read)
        os.close(self.from_chromium_write)
        self.buffer = b""
        self.next_id = 0

    def call(self, method, params=None, session=None, timeout=60):
        self.next_id += 1
        message = {"id": self.next_id, "method": method, "params": params or {}}
        if session:
            message["sessionId"] = session
        os.write(self.to_chromium, json.dumps(message).encode() + b"\0")
        deadline = time.monotonic() + timeout
        while True:
            while b"\0" in self.buffer:
                raw, self.buffer = self.buffer.split(b"\0", 1)
                answer = json.loads(raw)
                if answer.get("id") == self.next_id:
                    if "error" in answer:
                        raise RuntimeError(f"{method}: {answer['error']}")
                    return answer.get("result", {})
            if time.monotonic() > deadline:
                raise TimeoutError(f"{method}: no answer in {timeout} s")
            chunk = os.read(self.from_chromium, 65536)
            if not chunk:
                raise RuntimeError("chromium closed its pipe")
            self.buffer += chunk

    def close(self):
        try:
            self.call("Browser.close", timeout=5)
        except Exception:
            pass
        self.process.kill()
        self.process.wait()


class Tab:
    """A page in a browser context of its own (own cookies)."""

    def __init__(self, browser):
        self.browser = browser
        context = browser.call("Target.createBrowserContext")["browserContextId"]
        target = browser.call("Target.createTarget",
                              {"url": "about:blank", "browserContextId": context})["targetId"]
        self.session = browser.call("Target.attachToTarget",
                                    {"targetId": target, "flatten": True})["sessionId"]
        self.call("Page.enable")
        self.call("Runtime.enable")

    def call(self, method, params=None):
        return self.browser.call(method, params, session=self.session)

    def evaluate(self, expression):
        result = self.call("Runtime.evaluate", {"expression": expression, "returnByValue": True})
        if "exceptionDetails" in result:
            raise RuntimeError(f"{expression!r}: {result['exceptionDetails']}")
        return result["result"].get("value")

    def wait_for_load(self, leaving):
        """Waits until the document is a new one (not `leaving`) and fully loaded. Generous:
        beside a whole test suite on two cores, the server's answer to a POST can take long."""
        deadline = time.monotonic() + 90
        state = None
        while time.monotonic() < deadline:
            try:
                state = self.evaluate("[document.readyState, window.__marker || null, location.href]")
            except RuntimeError as error:  # the context went away mid-navigation: ask again
                state = [str(error)]
            if len(state) == 3 and state[0] == "complete" and state[1] != leaving:
                return
            time.sleep(0.1)
        raise TimeoutError(f"the page did not load within 90 s (last seen: {state})")

    def mark(self):
        """Marks the current document, so a navigation away from it can be recognised."""
        marker = f"m{time.monotonic_ns()}"
        self.evaluate(f"window.__marker = {json.dumps(marker)}")
        return marker

    def open(self, url):
        marker = self.mark()
        self.call("Page.navigate", {"url": url})
        self.wait_for_load(marker)

    def submit(self, script):
        """Runs `script`, which submits a form, and waits for the page it leads to."""
        marker = self.mark()
        self.evaluate(script)
        self.wait_for_load(marker)

    def seen(self):
        return self.evaluate(
            "({url: location.href, text: document.body ? document.body.innerText : '',"
            " forms: [...document.forms].map(f => new URL(f.action).pathname)})")


def main():
    chromium, base, asset, token = sys.argv[1:5]
    browser = Browser(chromium)
    report = {}
    try:
        signed_in = Tab(browser)
        signed_in.open(f"{base}/login?next=/assets/{asset}")
        report["loginPage"] = signed_in.seen()
        signed_in.submit(
            "document.querySelector('input[name=token]').value = " + json.dumps(token) + ";"
            "document.querySelector('form[action=\"/login\"]').submit()")
        report["afterLogin"] = signed_in.seen()
        signed_in.open(f"{base}/assets/{asset}")
        report["assetPageSignedIn"] = signed_in.seen()
        signed_in.submit(f"document.querySelector('form[action=\"/assets/{asset}/hide\"]').submit()")
        report["afterHide"] = signed_in.seen()

        no_token = Tab(browser)
        no_token.open(f"{base}/assets/{asset}")
        report["assetPageNoToken"] = no_token.seen()
        no_token.submit(
            "const f = document.createElement('form'); f.method = 'post';"
            f" f.action = '/assets/{asset}/unhide'; document.body.appendChild(f); f.submit()")
        report["afterForgedUnhide"] = no_token.seen()
    finally:
        browser.close()
    print(json.dumps(report))


if __name__ == "__main__":
    main()
