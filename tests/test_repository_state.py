"""The repository mendbot works in: read-only, shared by two runs, left behind by a killed
run. Real repositories, the real CLI, real signals."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from conftest import BUGGY_CLAMP, GIT_ENV, CliResult, git, snapshot

RunCli = Callable[..., CliResult]

SLOW_TEST = """
    import time


    def test_slow():
        time.sleep(40)
    """


def start_cli(root: Path, *args: str) -> subprocess.Popen[str]:
    env = {**os.environ, **GIT_ENV, "MENDBOT_PLUGIN_AUTOLOAD": "0"}
    return subprocess.Popen(
        [sys.executable, "-m", "bot", "fix", "--test-timeout", "120", *args],
        cwd=root,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def wait_for(condition: Callable[[], bool], seconds: float = 60) -> None:
    give_up = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < give_up, "timed out waiting"
        time.sleep(0.2)


def worktrees(root: Path) -> int:
    return git(root, "worktree", "list", "--porcelain").count("worktree ")


def slow_repo(make_repo: Callable[..., Path]) -> Path:
    files = dict(BUGGY_CLAMP)
    files["tests/test_slow.py"] = SLOW_TEST
    return make_repo(files)


@pytest.mark.skipif(shutil.which("unshare") is None, reason="needs unshare for a read-only mount")
def test_a_read_only_repository_is_a_clear_usage_error(buggy_clamp: Path, tmp_path: Path) -> None:
    probe = subprocess.run(["unshare", "-rm", "true"], capture_output=True)
    if probe.returncode != 0:
        pytest.skip("user namespaces are not available here")
    before = snapshot(buggy_clamp)
    script = (
        f"mount --bind -o ro {buggy_clamp} {buggy_clamp} && "
        f"cd {buggy_clamp} && exec {sys.executable} -m bot fix"
    )
    env = {**os.environ, **GIT_ENV, "MENDBOT_PLUGIN_AUTOLOAD": "0"}
    done = subprocess.run(
        ["unshare", "-rm", "sh", "-c", script], env=env, capture_output=True, text=True, timeout=120
    )

    assert done.returncode == 2, done.stderr
    assert "is not writable" in done.stderr and "Read-only file system" in done.stderr
    assert "hint:" in done.stderr and "Traceback" not in done.stderr
    assert snapshot(buggy_clamp) == before


def test_a_second_run_on_the_same_repository_is_refused_with_the_owner(
    make_repo: Callable[..., Path], run_cli: RunCli
) -> None:
    root = slow_repo(make_repo)
    first = start_cli(root)
    try:
        wait_for(lambda: worktrees(root) == 2)
        second = run_cli("fix", cwd=root, timeout=120)
    finally:
        first.send_signal(signal.SIGTERM)
        first.communicate(timeout=60)

    assert second.code == 2, second.stderr
    assert f"another mendbot run (pid {first.pid})" in second.stderr
    assert "hint:" in second.stderr and "Traceback" not in second.stderr
    # the first run was stopped: its lock went with it, and the next run starts
    assert not (root / ".git" / "mendbot" / "lock").exists()


def test_a_lock_left_by_a_dead_run_is_taken_over(buggy_clamp: Path, run_cli: RunCli) -> None:
    dead = subprocess.Popen(["true"])
    dead.wait()
    lock = buggy_clamp / ".git" / "mendbot" / "lock"
    lock.parent.mkdir(parents=True)
    lock.write_text(json.dumps({"pid": dead.pid, "start": "1", "since": 0}))

    result = run_cli("fix", "--json", cwd=buggy_clamp)

    assert result.code == 0, result.stderr
    assert result.json()["status"] == "fixed"
    assert not lock.exists()


def test_the_next_run_cleans_what_killed_runs_left(
    make_repo: Callable[..., Path], run_cli: RunCli
) -> None:
    root = slow_repo(make_repo)
    before = snapshot(root)
    killed: list[int] = []
    for _ in range(3):
        process = start_cli(root)
        wait_for(lambda: worktrees(root) >= 2)
        os.kill(process.pid, signal.SIGKILL)  # mendbot alone, as the OOM killer would
        process.communicate(timeout=30)
        killed.append(process.pid)
        # the next run finds the leftovers and removes them before anything else
        assert worktrees(root) >= 2
    leftovers = [
        folder
        for folder in Path(tempfile.gettempdir()).glob("mendbot-wt-*")
        if (folder / ".mendbot-owner").exists()
        and json.loads((folder / ".mendbot-owner").read_text())["pid"] in killed
    ]
    assert leftovers  # what the killed runs left

    result = run_cli("fix", "--json", cwd=root, timeout=300)

    assert "cleaned up after an interrupted run: removed" in result.stderr
    assert worktrees(root) == 1
    assert not any(folder.exists() for folder in leftovers)
    for branch in git(root, "branch", "--list", "--format=%(refname:short)", "mendbot/*").split():
        git(root, "branch", "-D", branch)  # no "checked out at ..." refusal
    assert snapshot(root) == before


def test_a_live_runs_worktree_is_never_cleaned(
    make_repo: Callable[..., Path], run_cli: RunCli
) -> None:
    """The cleaning looks at the owner of each worktree: a live one stays, even when the
    lock is gone (here: removed by hand while the run goes on)."""
    root = slow_repo(make_repo)
    first = start_cli(root)
    try:
        wait_for(lambda: worktrees(root) == 2)
        (root / ".git" / "mendbot" / "lock").unlink()
        from bot import workspace as ws

        repository = ws.open_repository(root)[0]
        note = ws.clean_leftovers(repository)
        assert note == ""
        assert worktrees(root) == 2
    finally:
        first.send_signal(signal.SIGTERM)
        first.communicate(timeout=60)
    assert worktrees(root) == 1


def test_the_hook_cleans_a_worktree_a_killed_fix_left(
    buggy_clamp: Path, run_cli: RunCli, tmp_path: Path
) -> None:
    """Any mode cleans up: here a worktree of a `mendbot fix` whose process is gone (its
    owner record names a pid that no longer runs), found by the pre-commit hook."""
    dead = subprocess.Popen(["true"])
    dead.wait()
    folder = Path(tempfile.mkdtemp(prefix="mendbot-wt-"))
    (folder / ".mendbot-owner").write_text(
        json.dumps({"pid": dead.pid, "start": "1", "repository": str(buggy_clamp / ".git")})
    )
    git(buggy_clamp, "worktree", "add", "-q", "-b", "mendbot/fix-left", str(folder / "repo"))

    done = run_cli("hook", cwd=buggy_clamp)

    assert "cleaned up after an interrupted run: removed 1 stale worktree(s)" in (
        done.stdout + done.stderr
    )
    assert not folder.exists()
    assert worktrees(buggy_clamp) == 1
    git(buggy_clamp, "branch", "-D", "mendbot/fix-left")
