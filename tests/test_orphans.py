"""The sandbox dies with mendbot: after a SIGKILL of `mendbot fix` no process of the run lives on.

A real `mendbot fix` under the local sandbox, on a project whose test starts sleeping children
and keeps forking more. Once those children run, mendbot gets SIGKILL (no chance to clean up);
within a few seconds every process that descended from it (the namespace tool, the confining
reaper, pytest, the screening worker, the test's children) must be gone.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path
from typing import Any

import pytest

from bot.sandbox.local import bubblewrap_isolation

FORKING_TEST = """\
import subprocess
import sys
import time

from calc import add


def test_add():
    assert add(2, 3) == 5


def test_sleeps_and_forks():
    while True:
        subprocess.Popen([sys.executable, "-c", "import time; time.sleep(600)", {marker!r}])
        time.sleep(0.5)
"""


# the same pyproject as the docker sandbox's end-to-end test, so the prepared image is shared
SHOP_PYPROJECT = """\
[project]
name = "shop"
version = "0.1.0"
[project.optional-dependencies]
test = ["pytest"]
[tool.mendbot]
base-image = "{base_image}"
"""
LIMITS = ("--test-timeout", "120", "--time-budget", "300")


def process_table() -> dict[int, tuple[int, str]]:
    """pid -> (parent pid, start time) of every process this host shows."""
    table: dict[int, tuple[int, str]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        table[int(entry.name)] = (int(fields[1]), fields[19])
    return table


def descendants(root: int) -> set[tuple[int, str]]:
    """(pid, start time) of every process below ``root``, a pid being reused is not them."""
    table = process_table()
    found: set[tuple[int, str]] = set()
    parents = {root}
    while True:
        children = {pid for pid, (ppid, _) in table.items() if ppid in parents} - parents
        children -= {pid for pid, _ in found}
        if not children:
            return found
        found |= {(pid, table[pid][1]) for pid in children}
        parents |= children


def alive(processes: set[tuple[int, str]]) -> set[tuple[int, str]]:
    table = process_table()
    return {(pid, start) for pid, start in processes if table.get(pid, (0, ""))[1] == start}


def with_marker(marker: str) -> set[int]:
    found = set()
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if marker.encode() in (entry / "cmdline").read_bytes():
                    found.add(int(entry.name))
            except OSError:
                continue
    return found


def make_project(folder: Path, marker: str) -> Path:
    folder.mkdir()
    (folder / "calc.py").write_text("def add(a, b):\n    return a - b\n")
    (folder / "test_calc.py").write_text(FORKING_TEST.format(marker=marker))
    git = ["git", "-c", "user.email=dev@example.com", "-c", "user.name=Dev"]
    subprocess.run([*git, "init", "-q", "-b", "main"], cwd=folder, check=True)
    subprocess.run([*git, "add", "-A"], cwd=folder, check=True)
    subprocess.run([*git, "commit", "-qm", "calc"], cwd=folder, check=True)
    return folder


def wait_for(check: object, seconds: float) -> bool:
    ends = time.monotonic() + seconds
    while time.monotonic() < ends:
        if check():  # type: ignore[operator]
            return True
        time.sleep(0.2)
    return bool(check())  # type: ignore[operator]


@pytest.mark.parametrize("isolation", ["strongest", "bubblewrap", "none"])
def test_no_process_of_the_run_outlives_a_sigkill_of_mendbot(
    tmp_path: Path, isolation: str
) -> None:
    if isolation == "bubblewrap" and bubblewrap_isolation() is None:
        pytest.skip("bubblewrap is not installed or refused here")
    marker = f"mendbot-orphan-{uuid.uuid4().hex}"
    project = make_project(tmp_path / "calc", marker)
    env = {k: v for k, v in os.environ.items() if not k.startswith("MENDBOT_")}
    # the weaker local modes, as a machine that refuses namespaces would use them
    code = (
        "import sys\n"
        "from bot.sandbox import local\n"
        f"mode = {isolation!r}\n"
        "if mode == 'none':\n"
        "    local.probe_isolation = lambda: local.Isolation('none')\n"
        "elif mode == 'bubblewrap':\n"
        "    local.probe_isolation = local.bubblewrap_isolation\n"
        "from bot.cli import main\n"
        "main(sys.argv[1:])\n"
    )
    mendbot = subprocess.Popen(
        [sys.executable, "-c", code, "fix", str(project), "--sandbox", "local", *LIMITS],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        assert wait_for(lambda: len(with_marker(marker)) >= 2, 90), "the test never started"
        run = descendants(mendbot.pid)
        assert len(run) >= 4  # at least the reaper, pytest and the test's children
        mendbot.kill()
        mendbot.wait()
        assert wait_for(lambda: not alive(run) and not with_marker(marker), 10), sorted(alive(run))
    finally:
        mendbot.kill()
        for pid in with_marker(marker):
            os.kill(pid, signal.SIGKILL)


@pytest.mark.docker
def test_no_container_of_the_run_outlives_a_sigkill_of_mendbot(
    tmp_path: Path, docker_client: Any, docker_base_image: str, docker_wheelhouse: Path
) -> None:
    from bot.sandbox.docker import LABEL_OWNER
    from bot.sandbox.prepare import prepare_image, read_recipe

    marker = f"mendbot-orphan-{uuid.uuid4().hex}"
    project = make_project(tmp_path / "calc", marker)
    (project / "pyproject.toml").write_text(SHOP_PYPROJECT.format(base_image=docker_base_image))
    recipe = read_recipe(project, docker_base_image)
    prepare_image(docker_client, project, recipe, wheelhouse=docker_wheelhouse)
    env = {k: v for k, v in os.environ.items() if not k.startswith("MENDBOT_")}
    mendbot = subprocess.Popen(
        [sys.executable, "-m", "bot", "fix", str(project), "--sandbox", "docker", *LIMITS],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )

    def containers() -> list[Any]:
        return [
            container
            for container in docker_client.containers.list(all=True)
            if container.labels.get(LABEL_OWNER, "").startswith(f"{mendbot.pid}-")
        ]

    try:
        assert wait_for(lambda: bool(containers()), 120), "no container started"
        assert wait_for(lambda: any(c.status == "running" for c in containers()), 60)
        mendbot.kill()
        mendbot.wait()
        assert wait_for(lambda: not containers(), 30), [c.name for c in containers()]
    finally:
        mendbot.kill()
        for container in containers():
            container.remove(force=True)
