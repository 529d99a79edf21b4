"""The local sandbox's network namespace has a loopback of its own that is up: tests that
serve on 127.0.0.1 pass as in the user's own pytest run, while nothing outside (the host's
loopback included) can be reached."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.sandbox.local import LocalSandbox

NETWORK_TESTS = """\
import http.server
import socket
import threading
import urllib.request

import pytest

from calc import add

HOST_PORT = {port}


def test_add():
    assert add(2, 3) == 5


def test_serves_and_fetches_on_loopback():
    class Hello(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            self.send_response(200)
            self.end_headers()
            self.wfile.write(b"hello from 127.0.0.1")

        def log_message(self, *args):
            pass

    server = http.server.HTTPServer(("127.0.0.1", 0), Hello)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        url = f"http://127.0.0.1:{{server.server_port}}/"
        assert urllib.request.urlopen(url, timeout=5).read() == b"hello from 127.0.0.1"
    finally:
        server.shutdown()


def test_outside_stays_out_of_reach():
    with pytest.raises(OSError):
        socket.create_connection(("1.1.1.1", 53), timeout=3).close()
    with pytest.raises(OSError):  # the host's own loopback is not this one
        socket.create_connection(("127.0.0.1", HOST_PORT), timeout=3).close()
"""


@pytest.fixture
def listener() -> Iterator[socket.socket]:
    """A TCP listener on the host's loopback: the tests must never reach it."""
    server = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    server.bind(("127.0.0.1", 0))
    server.listen(8)
    server.setblocking(False)
    yield server
    server.close()


def make_project(folder: Path, port: int) -> Path:
    folder.mkdir()
    (folder / "calc.py").write_text("def add(a, b):\n    return a - b\n")
    (folder / "test_net.py").write_text(textwrap.dedent(NETWORK_TESTS.format(port=port)))
    git = ["git", "-c", "user.email=dev@example.com", "-c", "user.name=Dev"]
    subprocess.run([*git, "init", "-q", "-b", "main"], cwd=folder, check=True)
    subprocess.run([*git, "add", "-A"], cwd=folder, check=True)
    subprocess.run([*git, "commit", "-qm", "net"], cwd=folder, check=True)
    return folder


def test_loopback_works_at_the_baseline_and_outside_stays_out(
    tmp_path: Path, listener: socket.socket
) -> None:
    if not LocalSandbox().isolation().network:
        pytest.skip("this machine gives the local sandbox no network namespace")
    project = make_project(tmp_path / "net", listener.getsockname()[1])
    env = {k: v for k, v in os.environ.items() if not k.startswith("MENDBOT_")}
    done = subprocess.run(
        [sys.executable, "-m", "bot", "fix", str(project), "--sandbox", "local", "--json"],
        capture_output=True,
        text=True,
        timeout=300,
        env=env,
    )
    result = json.loads(done.stdout)
    assert result["extra"]["baseline"]["outcomes"] == {
        "test_net.py::test_add": "failed",
        "test_net.py::test_serves_and_fetches_on_loopback": "passed",
        "test_net.py::test_outside_stays_out_of_reach": "passed",
    }, done.stderr
    assert result["status"] == "fixed"
    with pytest.raises(BlockingIOError):
        listener.accept()  # nothing ever connected to the host's listener
