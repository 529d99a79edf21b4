"""Tests that defeat the per-test time limit are killed hard and named; the run goes on.

A real repository whose suite holds a test that ignores SIGALRM and one that catches every
exception and loops on. Before, the baseline ate the whole budget and the run ended as
``error`` with exit 2; now each is killed by the plugin's watchdog, recorded as a timeout by
name, and the other tests' verdicts stand.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

import mendbot_pytest

HOSTILE = textwrap.dedent(
    """\
    import signal
    import time

    from calc import add


    def test_add():
        assert add(2, 3) == 5


    def test_ignores_the_alarm():
        signal.signal(signal.SIGALRM, signal.SIG_IGN)
        while True:
            time.sleep(0.1)


    def test_swallows_every_exception():
        while True:
            try:
                while True:
                    pass
            except BaseException:
                pass


    def test_other():
        assert add(0, 0) == 0
    """
)


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
LIMITS = ("--test-timeout", "2", "--time-budget", "150", "--json")


def make_project(folder: Path) -> Path:
    folder.mkdir()
    (folder / "calc.py").write_text("def add(a, b):\n    return a - b\n")
    (folder / "test_calc.py").write_text(HOSTILE)
    git = ["git", "-c", "user.email=dev@example.com", "-c", "user.name=Dev"]
    subprocess.run([*git, "init", "-q", "-b", "main"], cwd=folder, check=True)
    subprocess.run([*git, "add", "-A"], cwd=folder, check=True)
    subprocess.run([*git, "commit", "-qm", "calc"], cwd=folder, check=True)
    return folder


@pytest.fixture(params=["local", pytest.param("docker", marks=pytest.mark.docker)])
def sandbox(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "docker":
        from bot.sandbox.prepare import prepare_image, read_recipe

        base = request.getfixturevalue("docker_base_image")
        client = request.getfixturevalue("docker_client")
        wheels = request.getfixturevalue("docker_wheelhouse")
        recipe_project = tmp_path / "recipe"
        recipe_project.mkdir()
        (recipe_project / "pyproject.toml").write_text(SHOP_PYPROJECT.format(base_image=base))
        prepare_image(client, recipe_project, read_recipe(recipe_project, base), wheelhouse=wheels)
    return str(request.param)


def test_tests_that_defeat_the_time_limit_are_killed_and_named(
    tmp_path: Path, sandbox: str, request: pytest.FixtureRequest
) -> None:
    project = make_project(tmp_path / "calc")
    if sandbox == "docker":
        base = request.getfixturevalue("docker_base_image")
        (project / "pyproject.toml").write_text(SHOP_PYPROJECT.format(base_image=base))
        subprocess.run(["git", "add", "-A"], cwd=project, check=True)
        subprocess.run(
            [
                "git",
                "-c",
                "user.email=d@example.com",
                "-c",
                "user.name=D",
                "commit",
                "-qm",
                "image",
            ],
            cwd=project,
            check=True,
        )
    env = {k: v for k, v in os.environ.items() if not k.startswith("MENDBOT_")}
    done = subprocess.run(
        [sys.executable, "-m", "bot", "fix", str(project), "--sandbox", sandbox, *LIMITS],
        capture_output=True,
        text=True,
        timeout=300,
        env=env,
    )
    assert done.returncode != 2, done.stderr  # 2 means a usage error: it never was one
    result = json.loads(done.stdout)
    assert result["status"] != "error", result
    outcomes = result["extra"]["baseline"]["outcomes"]
    assert outcomes == {
        "test_calc.py::test_add": "failed",
        "test_calc.py::test_ignores_the_alarm": "timeout",
        "test_calc.py::test_swallows_every_exception": "timeout",
        "test_calc.py::test_other": "passed",
    }
    # the bug the other tests show is still repaired; the run does not end fixed (the hostile
    # tests fail however the code is changed), so the repair is kept aside, not offered
    partial = result["extra"]["partial"]
    assert partial["tests_passing"] == ["test_calc.py::test_add"]
    kept = subprocess.run(
        ["git", "diff", result["base"], partial["ref"]],
        cwd=project,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert "return a + b" in kept
    assert "test_calc.py::test_add" in result["fixed_tests"] or "test_calc.py::test_add" in str(
        result["rounds"]
    )


def test_the_hard_limit_leaves_the_alarm_time_to_work() -> None:
    for limit in (0.5, 2.0, 30.0, 300.0):
        assert mendbot_pytest.hard_limit(limit) >= limit + 5.0
