"""A run cut off mid-way still leaves a trace that `mendbot runs` lists as interrupted: after
Ctrl-C it is stored in git like any run; after SIGKILL it is read from its run folder."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import GIT_ENV, git
from history_fixtures import CliResult, cli_here, make_project

HANGING = {
    "clock.py": "def tick(n):\n    return n + 2\n",
    "tests/test_clock.py": (
        "import time\n\nfrom clock import tick\n\n\n"
        "def test_tick():\n    assert tick(1) == 2\n\n\n"
        "def test_wait_for_the_bus():\n    while True:\n        time.sleep(0.05)\n"
    ),
}


def children_of(pid: int) -> list[int]:
    """Every descendant of ``pid`` (from /proc), nearest first."""
    parents: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        parent = int(stat.rsplit(")", 1)[1].split()[1])
        parents.setdefault(parent, []).append(int(entry.name))
    found: list[int] = []
    queue = [pid]
    while queue:
        for child in parents.get(queue.pop(0), []):
            found.append(child)
            queue.append(child)
    return found


def command_line(pid: int) -> str:
    try:
        return (Path("/proc") / str(pid) / "cmdline").read_bytes().replace(b"\0", b" ").decode()
    except OSError:
        return ""


@contextlib.contextmanager
def hanging_run(root: Path) -> Iterator[subprocess.Popen[str]]:
    """`mendbot fix` with a long budget on a project whose tests hang, until its pytest runs."""
    env = {**os.environ, **GIT_ENV, "MENDBOT_PLUGIN_AUTOLOAD": "0"}
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "bot",
            "fix",
            "--json",
            "--time-budget",
            "900",
            "--test-timeout",
            "900",
        ],
        cwd=root,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        # started as a terminal starts it: Ctrl-C interrupts, whatever this test process
        # inherited (a process started with SIGINT ignored keeps ignoring it)
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )
    family: list[int] = []
    try:
        deadline = time.monotonic() + 120
        while not any("pytest" in command_line(p) for p in children_of(process.pid)):
            assert process.poll() is None, process.communicate()
            assert time.monotonic() < deadline, "the baseline test run never started"
            time.sleep(0.2)
        family = children_of(process.pid)
        yield process
    finally:
        for pid in [process.pid, *family]:  # whatever the test left running
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        process.communicate(timeout=60)


def remove_leftover_worktrees(root: Path) -> None:
    listing = git(root, "worktree", "list", "--porcelain")
    paths = [line.split(" ", 1)[1] for line in listing.splitlines() if line.startswith("worktree ")]
    for path in paths[1:]:
        git(root, "worktree", "remove", "--force", path)


def test_ctrl_c_stores_the_run_as_interrupted(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    root = make_project(tmp_path / "bus", HANGING)
    with hanging_run(root) as process:
        family = children_of(process.pid)
        process.send_signal(signal.SIGINT)
        _, stderr = process.communicate(timeout=120)
        assert process.returncode == 130, stderr
    assert "interrupted" in stderr
    assert not [pid for pid in family if command_line(pid)], "the test processes are gone"
    assert git(root, "worktree", "list").count("\n") == 1

    def run(*args: str) -> CliResult:
        return cli_here(*args, cwd=root, monkeypatch=monkeypatch, capsys=capsys)

    (listed,) = run("runs", "--json").json()
    assert listed["status"] == "interrupted" and listed["stored"] is True
    assert listed["reason"] == "interrupted (Ctrl-C)" and listed["trigger"] == "cli"
    text = run("runs").stdout
    assert "interrupted" in text and "1 run(s) were interrupted" in text
    shown = run("show", "last", "--json").json()
    assert shown["run"]["status"] == "interrupted" and shown["rounds"] == []
    stored = git(root, "cat-file", "blob", f"refs/mendbot/runs/{listed['run_id']}:trace.jsonl")
    events = [json.loads(line)["event"] for line in stored.splitlines()]
    assert events[0] == "run_start" and events[-1] == "run_interrupted"
    assert "run_end" not in events


def test_a_killed_run_is_listed_from_its_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    root = make_project(tmp_path / "bus", HANGING)

    def run(*args: str) -> CliResult:
        return cli_here(*args, cwd=root, monkeypatch=monkeypatch, capsys=capsys)

    with hanging_run(root) as process:
        (running,) = run("runs", "--json").json()
        assert running["status"] == "running" and running["stored"] is False
        for pid in [process.pid, *children_of(process.pid)]:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        process.wait(timeout=60)
    remove_leftover_worktrees(root)

    (listed,) = run("runs", "--json").json()
    assert listed["run_id"] == running["run_id"]
    assert listed["status"] == "interrupted" and listed["stored"] is False
    assert listed["reason"] == "the run was cut off" and listed["base"]
    shown = run("show", listed["run_id"], "--json").json()
    assert shown["run"]["status"] == "interrupted" and shown["stored_as"] is None
    labels = [span["label"] for span in shown["timeline"]]
    # a stage shorter than the drawing threshold is left out, so "prepare" may be missing
    # on a fast machine; when it is drawn it comes first
    assert "prepare" not in labels or labels[0] == "prepare"
    report = run("report", "last", "-o", str(tmp_path / "killed.html"))
    assert report.code == 0, report.stderr
    page = (tmp_path / "killed.html").read_text()
    assert "interrupted" in page and "not stored in git" in page
