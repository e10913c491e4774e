#!/usr/bin/env python3
"""The access review's HTML in a real browser (ctest `html.review`).

Headless Chromium loads the page from a file, driven over the DevTools
protocol on a pipe (--remote-debugging-pipe: no port, and the page is
emulated offline), and the test checks:
  - every identity is in the rendered table, in the review's order: the
    hand-built review of tests/unit/review_fixture.h (names made to break
    pages: "<script>alert(1)</script>", CR LF, a right-to-left override, a
    byte that is not UTF-8), and two reviews made by the CLI (the demo, with
    --compare; the golden tests' IAM names a spreadsheet would run, with a
    credential report), against their --format json;
  - no script error, no Content-Security-Policy violation, no console error,
    and no request but the page itself; the inline script ran (it marks
    <html data-ct-ready>) and the page's one script is its own;
  - sorting and filtering work; without JavaScript the full table shows;
    the print stylesheet hides the controls and opens the details;
  - a screenshot (PNG, decoded here with zlib) shows more than one colour.
Chromium missing is a failure that says how to install it, not a skip.

Usage: check_review_html.py CLOUDTRACKER RENDER_TOOL SOURCE_DIR SCRATCH_DIR
(RENDER_TOOL is tests/tools/review_render.c's binary.)"""

import base64
import json
import os
import select
import shutil
import signal
import struct
import subprocess
import sys
import tempfile
import time
import unicodedata
import zlib

STEP_TIMEOUT = 30  # seconds for one protocol answer; a hung Chromium fails the test
failures = []


def check(cond, what):
    if not cond:
        failures.append(what)
        print("FAIL: " + what, file=sys.stderr)
    return cond


class Browser:
    """One headless Chromium with one page, on the DevTools pipe."""

    def __init__(self, exe, profile):
        to_chrome_r, self.to_chrome = os.pipe()
        self.from_chrome, from_chrome_w = os.pipe()

        def child_fds():
            # Chromium reads commands on fd 3 and writes answers on fd 4.
            a, b = os.dup(to_chrome_r), os.dup(from_chrome_w)
            os.dup2(a, 3)
            os.dup2(b, 4)

        args = [exe, "--headless=new", "--no-sandbox", "--disable-gpu",
                "--remote-debugging-pipe", "--user-data-dir=" + profile,
                "--no-first-run", "--no-default-browser-check", "--disable-sync",
                "--disable-background-networking", "--disable-component-update",
                "--disable-extensions", "--disable-default-apps", "--mute-audio",
                "--host-resolver-rules=MAP * ~NOTFOUND", "--window-size=1400,1000",
                "about:blank"]
        # Its own process group, so that every process it starts is stopped.
        self.proc = subprocess.Popen(args, preexec_fn=child_fds, close_fds=False,
                                     stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                     stderr=subprocess.DEVNULL, start_new_session=True)
        os.close(to_chrome_r)
        os.close(from_chrome_w)
        self.buf = b""
        self.next_id = 0
        self.events = []
        self.session = None
        targets = self.call("Target.getTargets")["targetInfos"]
        page = [t for t in targets if t["type"] == "page"][0]
        self.session = self.call("Target.attachToTarget",
                                 {"targetId": page["targetId"], "flatten": True})["sessionId"]
        for domain in ("Page", "Runtime", "Log", "Network"):
            self.call(domain + ".enable")
        self.call("Network.emulateNetworkConditions",
                  {"offline": True, "latency": 0, "downloadThroughput": -1,
                   "uploadThroughput": -1})

    def close(self):
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        self.proc.wait()
        os.close(self.to_chrome)
        os.close(self.from_chrome)

    def _read(self, deadline):
        while b"\0" not in self.buf:
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError("Chromium did not answer in %d s" % STEP_TIMEOUT)
            ready, _, _ = select.select([self.from_chrome], [], [], left)
            if ready:
                data = os.read(self.from_chrome, 1 << 20)
                if not data:
                    raise EOFError("Chromium closed the DevTools pipe (it exited %s)"
                                   % self.proc.poll())
                self.buf += data
        msg, self.buf = self.buf.split(b"\0", 1)
        return json.loads(msg)

    def call(self, method, params=None):
        self.next_id += 1
        msg = {"id": self.next_id, "method": method, "params": params or {}}
        if self.session:
            msg["sessionId"] = self.session
        os.write(self.to_chrome, json.dumps(msg).encode() + b"\0")
        deadline = time.monotonic() + STEP_TIMEOUT
        while True:
            m = self._read(deadline)
            if m.get("id") == self.next_id:
                if "error" in m:
                    raise RuntimeError("%s: %s" % (method, m["error"]))
                return m["result"]
            if "method" in m:
                self.events.append(m)

    def wait_event(self, method):
        deadline = time.monotonic() + STEP_TIMEOUT
        while True:
            for i, e in enumerate(self.events):
                if e["method"] == method:
                    del self.events[i]
                    return e
            m = self._read(deadline)
            if "method" in m:
                self.events.append(m)

    def eval(self, expr):
        r = self.call("Runtime.evaluate", {"expression": expr, "returnByValue": True})
        if "exceptionDetails" in r:
            raise RuntimeError("evaluating %r: %s" % (expr, r["exceptionDetails"]))
        return r["result"].get("value")

    def load(self, path, scripts=True):
        """Loads the file; returns the problems the browser reported."""
        self.call("Emulation.setScriptExecutionDisabled", {"value": not scripts})
        self.events = []
        url = "file://" + os.path.abspath(path)
        self.call("Page.navigate", {"url": url})
        self.wait_event("Page.loadEventFired")
        self.eval("1")  # events sent before this answer are in self.events
        problems = []
        for e in self.events:
            p = e["params"]
            if e["method"] == "Runtime.exceptionThrown":
                problems.append("exception: %s" % p["exceptionDetails"].get("text"))
            elif e["method"] == "Runtime.consoleAPICalled" and p["type"] in ("error", "assert"):
                problems.append("console.%s: %s" % (p["type"], p["args"]))
            elif e["method"] == "Log.entryAdded" and p["entry"]["level"] == "error":
                problems.append("log: %s" % p["entry"]["text"])
            elif e["method"] == "Network.requestWillBeSent" and p["request"]["url"] != url:
                problems.append("request: %s" % p["request"]["url"])
        return problems

    def screenshot(self, scale):
        size = self.eval("[document.documentElement.scrollWidth, "
                         "document.documentElement.scrollHeight]")
        r = self.call("Page.captureScreenshot",
                      {"format": "png", "captureBeyondViewport": True,
                       "clip": {"x": 0, "y": 0, "width": size[0], "height": size[1],
                                "scale": scale}})
        return base64.b64decode(r["data"])


def png_colours(png):
    """The set of colours of an 8-bit RGB or RGBA PNG (what Chromium writes)."""
    if png[:8] != b"\x89PNG\r\n\x1a\n":
        raise ValueError("not a PNG")
    pos, idat, width = 8, b"", None
    while pos < len(png):
        length, kind = struct.unpack(">I4s", png[pos:pos + 8])
        data = png[pos + 8:pos + 8 + length]
        if kind == b"IHDR":
            width, height, depth, ctype = struct.unpack(">IIBB", data[:10])
            if depth != 8 or ctype not in (2, 6):
                raise ValueError("PNG of depth %d, colour type %d" % (depth, ctype))
            bpp = 3 if ctype == 2 else 4
        elif kind == b"IDAT":
            idat += data
        pos += 12 + length
    raw = zlib.decompress(idat)
    stride = width * bpp
    prev = bytearray(stride)
    colours = set()
    for y in range(height):
        filt = raw[y * (stride + 1)]
        line = bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
        for i in range(stride):  # undo the scanline's filter (PNG spec, section 9)
            a = line[i - bpp] if i >= bpp else 0
            b = prev[i]
            c = prev[i - bpp] if i >= bpp else 0
            if filt == 1:
                line[i] = (line[i] + a) & 255
            elif filt == 2:
                line[i] = (line[i] + b) & 255
            elif filt == 3:
                line[i] = (line[i] + (a + b) // 2) & 255
            elif filt == 4:
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                pred = a if pa <= pb and pa <= pc else b if pb <= pc else c
                line[i] = (line[i] + pred) & 255
        for x in range(0, stride, bpp):
            colours.add(bytes(line[x:x + 3]))
        prev = line
    return colours


def visible(name):
    """A name as the page shows it: bytes that are not UTF-8 as U+FFFD, and
    controls and invisible characters (Unicode Cf, Zl, Zp) as \\uNNNN."""
    out = []
    for ch in name.decode("utf-8", errors="replace") if isinstance(name, bytes) else name:
        cp = ord(ch)
        if cp < 0x20 or 0x7F <= cp < 0xA0 or unicodedata.category(ch) in ("Cf", "Zl", "Zp"):
            out.append("\\U%08X" % cp if cp > 0xFFFF else "\\u%04X" % cp)
        else:
            out.append(ch)
    return "".join(out)


ROWS = "Array.from(document.querySelectorAll('#ct-identities > tbody > tr'))"
# The name of a row as shown: its <summary> without the marks after it.
NAME_OF = ("function (r) { var s = r.cells[2].querySelector('summary').cloneNode(true);"
           " s.querySelectorAll('.tag').forEach(function (t) { t.remove(); });"
           " return s.textContent; }")


def names(b, only_shown=False):
    rows = ROWS + (".filter(function (r) { return !r.hidden; })" if only_shown else "")
    return b.eval("%s.map(%s)" % (rows, NAME_OF))


def check_page(b, path, want_names, label, scratch):
    """What every review page must pass; returns whether it loaded."""
    problems = b.load(path)
    check(not problems, "%s: the browser reported %s" % (label, problems))
    state = b.eval("[document.documentElement.getAttribute('data-ct-ready'),"
                   " document.documentElement.getAttribute('data-ct-errors'),"
                   " document.scripts.length]")
    check(state[0] == "1", "%s: the inline script did not finish (data-ct-ready %r)"
          % (label, state[0]))
    check(state[1] is None, "%s: script errors: %s" % (label, state[1]))
    check(state[2] == 1, "%s: %d scripts in the page, expected its own only"
          % (label, state[2]))
    got = names(b)
    check(got == want_names, "%s: identities in the DOM %r, expected %r"
          % (label, got, want_names))
    png = b.screenshot(0.25)
    with open(os.path.join(scratch, label + ".png"), "wb") as f:
        f.write(png)
    colours = png_colours(png)
    check(len(colours) > 1, "%s: the screenshot is blank (%d colour)" % (label, len(colours)))


def check_interaction(b, label):
    """Sorting and filtering, on the loaded page."""
    rows = b.eval("%s.map(function (r) { return {name: (%s)(r), kind: r.dataset.kind,"
                  " dormant: r.dataset.dormant, admin: r.dataset.admin, priv: r.dataset.priv,"
                  " cred: r.dataset.cred, text: r.textContent.toLowerCase()}; })"
                  % (ROWS, NAME_OF))
    order = [r["name"] for r in rows]
    click = "document.querySelectorAll('#ct-identities thead button.sort')[%d].click()"
    b.eval(click % 2)  # Name
    want = sorted(order, key=lambda n: (n.lower(), order.index(n)))
    check(names(b) == want, "%s: sorted by name %r, expected %r" % (label, names(b), want))
    b.eval(click % 2)
    check(names(b) == want[::-1], "%s: sorted by name, descending: %r" % (label, names(b)))
    b.eval(click % 3)  # Last activity: days since, never last
    days = b.eval("%s.map(function (r) { return r.cells[3].dataset.v; })" % ROWS)
    nums = [int(d) for d in days if d != ""]
    check(nums == sorted(nums) and days[len(nums):] == [""] * (len(days) - len(nums)),
          "%s: sorted by last activity: %r" % (label, days))

    def shown_after(setup, predicate, what):
        b.eval("(function () { var q = document.getElementById('ct-q');"
               " document.querySelectorAll('#ct-controls input[type=checkbox]')"
               ".forEach(function (c) { c.checked = c.hasAttribute('data-kind'); });"
               " q.value = ''; %s; q.dispatchEvent(new Event('input')); })()" % setup)
        got = sorted(names(b, only_shown=True))
        want = sorted(r["name"] for r in rows if predicate(r))
        check(got == want, "%s: %s shows %r, expected %r" % (label, what, got, want))
        count = b.eval("document.getElementById('ct-shown').textContent")
        check(count == "%d of %d identities shown" % (len(want), len(rows)),
              "%s: %s says %r" % (label, what, count))
        return got

    shown_after("", lambda r: True, "no filter")
    shown_after("q.value = 'alice'", lambda r: "alice" in r["text"], "the filter 'alice'")
    shown_after("q.value = 'ALICE  admin'", lambda r: "alice" in r["text"] and
                "admin" in r["text"], "the filter 'ALICE  admin'")
    only = "document.querySelector('[data-only=%s]').checked = true"
    shown_after(only % "dormant", lambda r: r["dormant"] == "yes", "dormant only")
    shown_after(only % "admin", lambda r: r["admin"] == "yes", "administrators only")
    shown_after(only % "priv", lambda r: r["priv"] == "yes", "unused privileged only")
    shown_after(only % "cred", lambda r: r["cred"] == "yes", "unused credentials only")
    kinds = ("document.querySelector('[data-kind=user]').checked = false;"
             "document.querySelector('[data-kind=role]').checked = false")
    shown_after(kinds, lambda r: r["kind"] == "person", "people only")
    shown_after("", lambda r: True, "the filters reset")
    return rows


def check_print_and_no_script(b, path, want_names, label):
    # The print stylesheet: no controls, the details' content laid out.
    b.call("Emulation.setEmulatedMedia", {"media": "print"})
    shown = b.eval("[getComputedStyle(document.getElementById('ct-controls')).display,"
                   " document.querySelector('#ct-identities details:not([open]) dl')"
                   ".getBoundingClientRect().height]")
    check(shown[0] == "none", "%s: the controls print (%r)" % (label, shown[0]))
    check(shown[1] > 0, "%s: closed details do not print" % label)
    b.call("Emulation.setEmulatedMedia", {"media": ""})
    # Printing from the browser opens every <details> and closes them after.
    opened = b.eval("window.dispatchEvent(new Event('beforeprint'));"
                    " var n = document.querySelectorAll('details:not([open])').length;"
                    " window.dispatchEvent(new Event('afterprint'));"
                    " [n, document.querySelectorAll('details[open]').length]")
    check(opened == [0, 0], "%s: before printing, closed details %d; after, open %d"
          % (label, opened[0], opened[1]))
    # Without JavaScript: the whole table, no controls.
    problems = b.load(path, scripts=False)
    check(not problems, "%s without JavaScript: %s" % (label, problems))
    state = b.eval("[document.documentElement.getAttribute('data-ct-ready'),"
                   " document.getElementById('ct-controls').hidden,"
                   " %s.filter(function (r) { return r.offsetParent === null; }).length]" % ROWS)
    check(state == [None, True, 0], "%s without JavaScript: ready %r, controls hidden %r, "
          "%r rows not shown" % (label, state[0], state[1], state[2]))
    check(names(b) == want_names, "%s without JavaScript: identities %r" % (label, names(b)))


def check_all(b, fixture, complete, fixture_names, scratch):
    check_page(b, fixture, fixture_names, "fixture", scratch)
    check(b.eval("document.getElementById('ct-incomplete') !== null"),
          "fixture: no INCOMPLETE banner")
    check(b.eval("document.getElementById('ct-changes') !== null"),
          "fixture: no changes section")
    rows = check_interaction(b, "fixture")
    dormant = sorted(r["name"] for r in rows if r["dormant"] == "yes")
    check(dormant == sorted(["@admin", "AWSServiceRoleForSupport", "+cmd", fixture_names[11]]),
          "fixture: dormant identities %r" % dormant)
    flagged = sorted(r["name"] for r in rows if r["cred"] == "yes")
    check(flagged == ["@admin", 'a"b,c'], "fixture: unused credentials %r" % flagged)
    check_print_and_no_script(b, fixture, fixture_names, "fixture")

    check_page(b, complete, fixture_names, "fixture-complete", scratch)
    check(b.eval("document.getElementById('ct-incomplete') === null"),
          "fixture-complete: an INCOMPLETE banner")


def run(cmd, **kw):
    r = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=120, **kw)
    if r.returncode != 0:
        raise RuntimeError("%s exited %d: %s" % (cmd, r.returncode, r.stderr.decode()))
    return r.stdout


def cli_review(cloudtracker, scratch, label, config, compare=False):
    """`cloudtracker review` of a config as JSON, then as HTML (with --compare
    against that JSON); returns the page and its identities' names as shown."""
    env = dict(os.environ, CLOUDTRACKER_TODAY="2026-11-27")
    base = [cloudtracker, "review", "--config", config,
            "--store", os.path.join(scratch, label + ".db")]
    out_json = os.path.join(scratch, label + ".json")
    out_html = os.path.join(scratch, label + ".html")
    run(base + ["--format", "json", "--output", out_json], env=env, cwd=scratch)
    run(base + ["--format", "html", "--output", out_html] +
        (["--compare", out_json] if compare else []), env=env, cwd=scratch)
    with open(out_json, encoding="utf-8") as f:
        names = [visible(i["name"]) for i in json.load(f)["identities"]]
    check(len(names) > 10, "%s: the review has %d identities" % (label, len(names)))
    return out_html, names


def main():
    if len(sys.argv) != 5:
        print(__doc__, file=sys.stderr)
        return 2
    cloudtracker, render, root, scratch = (os.path.abspath(a) for a in sys.argv[1:])
    exe = os.environ.get("CHROMIUM") or shutil.which("chromium")
    if not exe:
        print("FAIL: chromium not found: the HTML test needs headless Chromium. Install it "
              "(Debian: apt-get install chromium; .ci/run does) or set CHROMIUM to its path.",
              file=sys.stderr)
        return 1
    shutil.rmtree(scratch, ignore_errors=True)
    os.makedirs(scratch)

    # The hand-built review, with and without --compare, complete or not.
    fixture = os.path.join(scratch, "fixture.html")
    complete = os.path.join(scratch, "fixture-complete.html")
    run([render, "html", fixture])
    run([render, "html", complete, "--complete", "--no-compare"])
    run([render, "names", os.path.join(scratch, "names.txt")])
    with open(os.path.join(scratch, "names.txt")) as f:
        fixture_names = [visible(bytes.fromhex(line.strip())) for line in f]

    # The demo's review through the command line, as JSON and as HTML, the
    # second time compared with the first; and the review of IAM names a
    # spreadsheet would run, with a credential report (the CLI's goldens).
    demo_html, demo_names = cli_review(cloudtracker, scratch, "demo",
                                       os.path.join(root, "config.yaml.example"), compare=True)
    odd_html, odd_names = cli_review(
        cloudtracker, scratch, "odd",
        os.path.join(root, "tests", "cli", "data", "review", "odd-names", "config.yaml"))

    with tempfile.TemporaryDirectory(prefix="ct-chromium-") as profile:
        b = Browser(exe, profile)
        try:
            check_all(b, fixture, complete, fixture_names, scratch)
            for label, path, want, compared in (("demo", demo_html, demo_names, True),
                                                ("odd", odd_html, odd_names, False)):
                check_page(b, path, want, label, scratch)
                check(b.eval("document.getElementById('ct-changes') !== null") == compared,
                      "%s: a changes section %s --compare" % (label,
                                                              "without" if compared else "with"))
                check_interaction(b, label)
            check(b.eval("document.querySelectorAll('tr[data-cred=yes]').length") > 0,
                  "odd: no user with unused credentials")
        except (RuntimeError, TimeoutError, EOFError, KeyError, TypeError) as e:
            check(False, "the browser test stopped: %s" % e)
        finally:
            b.close()
    if failures:
        print("%d failures" % len(failures), file=sys.stderr)
        return 1
    print("ok: the review's HTML in Chromium")
    return 0


if __name__ == "__main__":
    sys.exit(main())
