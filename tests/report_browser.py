"""Headless Chromium driven over the DevTools protocol on a pipe (``--remote-debugging-pipe``).

No driver library is needed: Chromium reads JSON commands from file descriptor 3 and writes
replies and events to descriptor 4, each message ending in a NUL byte. The tests use it to
open a report as a person would, ask the page what is visible, collect console errors,
exceptions and network requests, and take screenshots.
"""

from __future__ import annotations

import base64
import contextlib
import json
import os
import select
import shutil
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any

FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--hide-scrollbars",
    "--remote-debugging-pipe",
)


def chromium_path() -> str | None:
    for name in ("chromium", "chromium-browser", "google-chrome", "chrome"):
        found = shutil.which(name)
        if found:
            return found
    return None


class BrowserError(RuntimeError):
    pass


class Browser:
    """One Chromium process with one page; use as a context manager."""

    def __init__(self, executable: str, *, width: int = 1280, height: int = 900) -> None:
        self.executable = executable
        self.width = width
        self.height = height
        self.events: list[dict[str, Any]] = []
        self._buffer = b""
        self._next_id = 0
        self._profile = tempfile.mkdtemp(prefix="mendbot-chromium-")
        self._session = ""

    def __enter__(self) -> Browser:
        to_child_read, self._write = os.pipe()
        self._read, from_child_write = os.pipe()

        def wire() -> None:  # runs in the child: the pipe ends become fds 3 and 4
            commands, replies = os.dup(to_child_read), os.dup(from_child_write)
            os.dup2(commands, 3)
            os.dup2(replies, 4)
            os.set_inheritable(3, True)
            os.set_inheritable(4, True)

        self.process = subprocess.Popen(
            [
                self.executable,
                *FLAGS,
                f"--user-data-dir={self._profile}",
                f"--window-size={self.width},{self.height}",
                "about:blank",
            ],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            close_fds=False,
            preexec_fn=wire,
            start_new_session=True,
        )
        os.close(to_child_read)
        os.close(from_child_write)
        target = self.call("Target.createTarget", {"url": "about:blank"})["targetId"]
        attached = self.call("Target.attachToTarget", {"targetId": target, "flatten": True})
        self._session = attached["sessionId"]
        for domain in ("Page", "Runtime", "Log", "Network"):
            self.call(f"{domain}.enable")
        self.call(
            "Emulation.setDeviceMetricsOverride",
            {"width": self.width, "height": self.height, "deviceScaleFactor": 1, "mobile": False},
        )
        return self

    def __exit__(self, *exc: object) -> None:
        try:
            self._session = ""
            self.call("Browser.close", timeout=10)
        except (BrowserError, OSError, TimeoutError):
            pass
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, 9)
            self.process.wait(timeout=15)
        for fd in (self._write, self._read):
            with contextlib.suppress(OSError):
                os.close(fd)
        shutil.rmtree(self._profile, ignore_errors=True)

    # -- the protocol -------------------------------------------------------------------------
    def _receive(self, deadline: float) -> dict[str, Any]:
        while b"\0" not in self._buffer:
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError("Chromium did not answer in time")
            ready, _, _ = select.select([self._read], [], [], left)
            if not ready:
                continue
            chunk = os.read(self._read, 1 << 20)
            if not chunk:
                raise BrowserError("Chromium closed the DevTools pipe")
            self._buffer += chunk
        message, _, self._buffer = self._buffer.partition(b"\0")
        decoded: dict[str, Any] = json.loads(message)
        return decoded

    def call(
        self, method: str, params: dict[str, Any] | None = None, *, timeout: float = 60
    ) -> dict[str, Any]:
        self._next_id += 1
        message: dict[str, Any] = {"id": self._next_id, "method": method, "params": params or {}}
        if self._session:
            message["sessionId"] = self._session
        os.write(self._write, json.dumps(message).encode() + b"\0")
        deadline = time.monotonic() + timeout
        while True:
            reply = self._receive(deadline)
            if reply.get("id") == self._next_id:
                if "error" in reply:
                    raise BrowserError(f"{method}: {reply['error']}")
                result: dict[str, Any] = reply.get("result", {})
                return result
            self.events.append(reply)

    def wait_for(self, method: str, *, timeout: float = 60) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        for event in self.events:
            if event.get("method") == method:
                return event
        while True:
            event = self._receive(deadline)
            self.events.append(event)
            if event.get("method") == method:
                return event

    # -- what the tests use -------------------------------------------------------------------
    def open(self, path: Path) -> None:
        self.events.clear()
        navigation = self.call("Page.navigate", {"url": path.resolve().as_uri()})
        if navigation.get("errorText"):
            raise BrowserError(f"cannot open {path}: {navigation['errorText']}")
        self.wait_for("Page.loadEventFired")
        self.evaluate("new Promise(done => requestAnimationFrame(() => done(true)))")

    def evaluate(self, expression: str) -> Any:
        reply = self.call(
            "Runtime.evaluate",
            {"expression": expression, "returnByValue": True, "awaitPromise": True},
        )
        if "exceptionDetails" in reply:
            raise BrowserError(f"page script failed: {reply['exceptionDetails']}")
        return reply.get("result", {}).get("value")

    def console_errors(self) -> list[str]:
        """Console errors and warnings, uncaught exceptions, and log entries of level error."""
        problems = []
        for event in self.events:
            method, params = event.get("method"), event.get("params", {})
            if method == "Runtime.consoleAPICalled" and params.get("type") in ("error", "warning"):
                args = [str(a.get("value", a.get("description", ""))) for a in params["args"]]
                problems.append(f"console.{params['type']}: {' '.join(args)}")
            elif method == "Runtime.exceptionThrown":
                details = params.get("exceptionDetails", {})
                thrown = details.get("exception", {}).get("description") or details.get("text")
                problems.append(f"exception: {thrown}")
            elif method == "Log.entryAdded" and params.get("entry", {}).get("level") == "error":
                problems.append(f"log: {params['entry'].get('text')}")
        return problems

    def requests(self) -> list[str]:
        return [
            e["params"]["request"]["url"]
            for e in self.events
            if e.get("method") == "Network.requestWillBeSent"
        ]

    def screenshot(self, output: Path, *, full_page: bool = False, height: int = 0) -> Path:
        params: dict[str, Any] = {"format": "png", "captureBeyondViewport": full_page}
        if full_page or height:
            size = self.evaluate(
                "[document.documentElement.scrollWidth, document.documentElement.scrollHeight]"
            )
            tall = size[1] if full_page else min(height, size[1])
            params["clip"] = {"x": 0, "y": 0, "width": self.width, "height": tall, "scale": 1}
            params["captureBeyondViewport"] = True
        data = self.call("Page.captureScreenshot", params)["data"]
        output.write_bytes(base64.b64decode(data))
        return output


def main(argv: list[str]) -> int:
    """``python tests/report_browser.py REPORT.html OUT.png [HEIGHT]``: a screenshot of a page
    (this is how docs/report.png is made)."""
    if len(argv) not in (2, 3):
        print(main.__doc__)
        return 2
    executable = chromium_path()
    if executable is None:
        print("chromium is not installed (apt-get install -y chromium)")
        return 1
    with Browser(executable, width=1280, height=900) as browser:
        browser.open(Path(argv[0]))
        problems = browser.console_errors()
        if problems:
            print("\n".join(problems))
            return 1
        height = int(argv[2]) if len(argv) == 3 else 0
        browser.screenshot(Path(argv[1]), full_page=not height, height=height)
    return 0


if __name__ == "__main__":
    import sys

    raise SystemExit(main(sys.argv[1:]))
