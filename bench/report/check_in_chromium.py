#!/usr/bin/python3
"""Opens OUT/report.html in headless Chromium (Debian's) and checks that it loads with no failed
request, no request outside the file itself (data: URIs are inline), no console error and no
uncaught exception; then takes a 1280x2000 screenshot to OUT/screenshot.png and checks its size.

    /usr/bin/python3 bench/report/check_in_chromium.py OUT
    /usr/bin/python3 bench/report/check_in_chromium.py OUT URL [SPKI]

With a URL (a page served over http or https, `zcopy serve`'s listing say) it opens that instead,
allows requests to its origin only, and prints the page's table rows as one JSON line
("rows: [[cell, ...], ...]") for the caller to check; SPKI, the base64 SHA-256 of the server's
public key, is the one certificate Chromium then accepts without knowing its CA.

Chromium is driven over the DevTools protocol on a pipe (--remote-debugging-pipe: file
descriptors 3 and 4, NUL-terminated JSON messages), so no port is opened. Exits 1 with one line
per problem; 77 (skipped) when chromium is missing.
"""
import base64
import json
import os
import select
import shutil
import subprocess
import sys
import tempfile
import time

WIDTH, HEIGHT = 1280, 2000
TIMEOUT_S = 90


class DevTools:
    def __init__(self, process, to_browser, from_browser):
        self.process = process
        self.to_browser = to_browser
        self.from_browser = from_browser
        self.buffer = b""
        self.next_id = 0
        self.events = []

    def send(self, method, params=None, session=None):
        self.next_id += 1
        message = {"id": self.next_id, "method": method, "params": params or {}}
        if session:
            message["sessionId"] = session
        os.write(self.to_browser, json.dumps(message).encode() + b"\0")
        return self.wait(lambda m: m.get("id") == self.next_id)

    def wait(self, done, deadline=None):
        deadline = deadline or time.monotonic() + TIMEOUT_S
        while True:
            while b"\0" in self.buffer:
                raw, self.buffer = self.buffer.split(b"\0", 1)
                message = json.loads(raw)
                if "method" in message:
                    self.events.append(message)
                if done(message):
                    if "error" in message:
                        raise RuntimeError(f"DevTools error: {message['error']}")
                    return message
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError("Chromium did not answer in time")
            ready, _, _ = select.select([self.from_browser], [], [], left)
            if ready:
                chunk = os.read(self.from_browser, 1 << 20)
                if not chunk:
                    raise RuntimeError("Chromium closed the DevTools pipe")
                self.buffer += chunk


def missing(reason):
    """A missing program skips the test (exit 77), or fails it under ZCOPY_REQUIRE_ALL=1."""
    require_all = os.environ.get("ZCOPY_REQUIRE_ALL", "") not in ("", "0")
    print(f"{reason}{' (ZCOPY_REQUIRE_ALL=1)' if require_all else ''}")
    sys.exit(1 if require_all else 77)


def main():
    if len(sys.argv) not in (2, 3, 4):
        sys.exit("usage: check_in_chromium.py OUT [URL [SPKI]]")
    out = os.path.abspath(sys.argv[1])
    report = os.path.join(out, "report.html")
    page = sys.argv[2] if len(sys.argv) > 2 else "file://" + report
    allowed = ("file://" + out) if len(sys.argv) == 2 else page.split("/", 3)[:3]
    if isinstance(allowed, list):
        allowed = "/".join(allowed) + "/"
    spki = sys.argv[3] if len(sys.argv) > 3 else None
    screenshot = os.path.join(out, "screenshot.png")
    chromium = shutil.which("chromium")
    if not chromium:
        missing("chromium is not installed (scripts/install-deps.sh installs it)")
    profile = tempfile.mkdtemp(prefix="zcopy-chromium-")
    # fds 3 and 4 in the child: it reads commands from 3 and writes answers to 4.
    commands_r, commands_w = os.pipe()
    answers_r, answers_w = os.pipe()

    def place_fds():
        # Through fresh numbers first: a pipe end may already be 3 or 4, or sit where the other
        # must go; and dup2 onto itself would leave close-on-exec set.
        commands, answers = os.dup(commands_r), os.dup(answers_w)
        os.dup2(commands, 3)
        os.dup2(answers, 4)

    args = [chromium, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
            "--no-first-run", "--disable-background-networking", "--disable-component-update",
            "--disable-sync", "--disable-extensions", "--mute-audio", f"--user-data-dir={profile}",
            f"--window-size={WIDTH},{HEIGHT}", "--remote-debugging-pipe", "about:blank"]
    if spki:
        args.insert(-1, f"--ignore-certificate-errors-spki-list={spki}")
    log = open(os.path.join(out, "chromium.log"), "w")
    # Python's descriptors are close-on-exec, and dup2 clears the flag on 3 and 4 only: nothing
    # else leaks into Chromium without close_fds, which would close 3 and 4 after place_fds.
    process = subprocess.Popen(args, stdin=subprocess.DEVNULL, stdout=log, stderr=log,
                               preexec_fn=place_fds, close_fds=False)
    os.close(commands_r)
    os.close(answers_w)
    problems = []
    try:
        tools = DevTools(process, commands_w, answers_r)
        target = tools.send("Target.createTarget", {"url": "about:blank"})["result"]["targetId"]
        session = tools.send("Target.attachToTarget",
                             {"targetId": target, "flatten": True})["result"]["sessionId"]
        for domain in ("Page", "Runtime", "Log", "Network"):
            tools.send(f"{domain}.enable", session=session)
        tools.send("Emulation.setDeviceMetricsOverride",
                   {"width": WIDTH, "height": HEIGHT, "deviceScaleFactor": 1, "mobile": False},
                   session=session)
        tools.send("Page.navigate", {"url": page}, session=session)
        tools.wait(lambda m: m.get("method") == "Page.loadEventFired")
        time.sleep(0.5)  # late console messages
        if len(sys.argv) > 2:
            rows = tools.send("Runtime.evaluate", {
                "expression": "JSON.stringify([...document.querySelectorAll('tbody tr')]"
                              ".map(r => [...r.cells].map(c => c.innerText)))",
                "returnByValue": True}, session=session)
            print("rows: " + rows["result"]["result"].get("value", "null"))
        shot = tools.send("Page.captureScreenshot", {"format": "png"}, session=session)
        with open(screenshot, "wb") as f:
            f.write(base64.b64decode(shot["result"]["data"]))
        for event in tools.events:
            method, params = event["method"], event.get("params", {})
            if method == "Network.requestWillBeSent":
                url = params["request"]["url"]
                if not (url.startswith(allowed) or url.startswith("data:")):
                    problems.append(f"request outside the page's origin: {url[:120]}")
            elif method == "Network.loadingFailed":
                problems.append(f"failed request: {params.get('errorText')} ({params.get('type')})")
            elif method == "Network.responseReceived":
                status = params["response"].get("status", 200)
                if status >= 400:
                    problems.append(f"HTTP {status} for {params['response']['url'][:120]}")
            elif method == "Runtime.consoleAPICalled" and params.get("type") in ("error", "assert"):
                problems.append(f"console error: {params.get('args')}")
            elif method == "Runtime.exceptionThrown":
                problems.append(f"exception: {params['exceptionDetails'].get('text')}")
            elif method == "Log.entryAdded" and params["entry"].get("level") == "error":
                problems.append(f"console error: {params['entry'].get('text')}")
        try:
            tools.send("Browser.close")
        except (RuntimeError, TimeoutError):
            pass
    except (RuntimeError, TimeoutError, KeyError) as error:
        problems.append(f"driving Chromium: {error}")
    finally:
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()
        shutil.rmtree(profile, ignore_errors=True)

    if not os.path.isfile(screenshot):
        problems.append("no screenshot")
    else:
        with open(screenshot, "rb") as f:
            head = f.read(24)
        if head[:8] != b"\x89PNG\r\n\x1a\n":
            problems.append("the screenshot is not a PNG")
        else:
            width = int.from_bytes(head[16:20], "big")
            height = int.from_bytes(head[20:24], "big")
            if (width, height) != (WIDTH, HEIGHT):
                problems.append(f"screenshot is {width}x{height}, expected {WIDTH}x{HEIGHT}")
            # A report fills the page; a listing of a few rows may be small, but never empty.
            if os.path.getsize(screenshot) < (20_000 if len(sys.argv) == 2 else 4_000):
                problems.append(f"screenshot is only {os.path.getsize(screenshot)} bytes: blank?")
    for p in problems:
        print(p)
    if problems:
        sys.exit(1)
    print(f"{page} opened in Chromium with no failed request and no console error; "
          f"screenshot {screenshot} ({os.path.getsize(screenshot)} bytes)")


if __name__ == "__main__":
    main()
