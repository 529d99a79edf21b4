"""Docker tests skip, with the reason, where the sandbox image was never prepared (as where no
engine answers), unless MENDBOT_REQUIRE_DOCKER says the machine must run them."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DOCKER_TEST = "tests/test_sandbox_docker.py::test_fix_with_the_docker_sandbox_end_to_end"


def run_docker_test(tmp_path: Path, **extra: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("MENDBOT_")}
    env.update(
        MENDBOT_TEST_BASE_IMAGE="mendbot-never-prepared:none",
        MENDBOT_TEST_WHEELHOUSE=str(tmp_path / "no-wheels"),
        **extra,
    )
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-rsE", "-p", "no:cacheprovider", DOCKER_TEST],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        env=env,
    )


def test_an_unprepared_docker_machine_skips_with_the_reason(tmp_path: Path) -> None:
    done = run_docker_test(tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "1 skipped" in done.stdout
    assert "docker-setup.sh" in done.stdout  # the reason says how to prepare the machine


@pytest.mark.parametrize("value", ["1", "yes"])
def test_a_machine_that_must_run_them_fails_instead(tmp_path: Path, value: str) -> None:
    done = run_docker_test(tmp_path, MENDBOT_REQUIRE_DOCKER=value)
    assert done.returncode == 1, done.stdout + done.stderr
    assert "MENDBOT_REQUIRE_DOCKER is set" in done.stdout
