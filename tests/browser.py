"""Open a page in headless Chromium and report whether its images loaded.

Speaks the Chrome DevTools protocol over ``--remote-debugging-pipe`` (commands on file
descriptor 3, replies on 4, JSON messages ending in a NUL byte): no extra package.
"""

from __future__ import annotations

import base64
import json
import os
import shutil
import subprocess
import time
from pathlib import Path

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser") or "/usr/bin/chromium"

_COUNT_IMAGES = """
new Promise(done => {
  const report = () => done({
    images: document.images.length,
    loaded: [...document.images].filter(i => i.complete && i.naturalWidth > 0).length,
    title: document.title,
    url: location.href,
    ready: document.readyState === "complete",
  });
  if (document.readyState === "complete") report(); else addEventListener("load", report);
})
"""


class _Pipe:
    def __init__(self, to_browser: int, from_browser: int):
        self.out, self.inp, self.buf, self.next_id = to_browser, from_browser, b"", 0

    def call(self, method: str, params: dict | None = None, session: str | None = None) -> dict:
        self.next_id += 1
        msg = {"id": self.next_id, "method": method, "params": params or {}}
        if session:
            msg["sessionId"] = session
        os.write(self.out, json.dumps(msg).encode() + b"\0")
        while True:
            while b"\0" not in self.buf:
                chunk = os.read(self.inp, 1 << 20)
                if not chunk:
                    raise RuntimeError(f"Chromium closed the pipe during {method}")
                self.buf += chunk
            raw, self.buf = self.buf.split(b"\0", 1)
            reply = json.loads(raw)
            if reply.get("id") == self.next_id:
                if "error" in reply:
                    raise RuntimeError(f"{method}: {reply['error']}")
                return reply["result"]


def check_page(html: Path, screenshot: Path, width: int = 1280, height: int = 2400) -> dict:
    """Load ``html`` headless; save a screenshot; return {images, loaded, title}."""
    cmd_r, cmd_w = os.pipe()
    rep_r, rep_w = os.pipe()
    hi_cmd, hi_rep = os.dup(cmd_r), os.dup(rep_w)  # out of the way of fds 3 and 4

    def child():
        os.dup2(hi_cmd, 3)
        os.dup2(hi_rep, 4)

    args = [
        CHROMIUM, "--headless=new", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
        "--remote-debugging-pipe", f"--window-size={width},{height}", "about:blank",
    ]  # fmt: skip
    proc = subprocess.Popen(
        args, preexec_fn=child, pass_fds=(3, 4), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    for fd in (cmd_r, rep_w, hi_cmd, hi_rep):
        os.close(fd)
    pipe = _Pipe(cmd_w, rep_r)
    try:
        url = html.resolve().as_uri()
        target = pipe.call("Target.createTarget", {"url": "about:blank"})["targetId"]
        session = pipe.call("Target.attachToTarget", {"targetId": target, "flatten": True})["sessionId"]
        pipe.call("Page.navigate", {"url": url}, session)
        report = None
        for _ in range(200):  # until the page itself (not about:blank) has loaded
            report = pipe.call(
                "Runtime.evaluate",
                {"expression": _COUNT_IMAGES, "awaitPromise": True, "returnByValue": True},
                session,
            )["result"]["value"]
            if report["url"] == url and report["ready"]:
                break
            time.sleep(0.1)
        shot = pipe.call("Page.captureScreenshot", {"format": "png"}, session)["data"]
        screenshot.parent.mkdir(parents=True, exist_ok=True)
        screenshot.write_bytes(base64.b64decode(shot))
        pipe.call("Browser.close")
        return report
    finally:
        os.close(cmd_w)
        os.close(rep_r)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
