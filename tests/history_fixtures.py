"""One real repair run shared by the history and report tests (it takes a dozen seconds).

The project has two bugs, so the run takes two rounds, and a house-style test that the first
candidate for the second bug breaks, so one attempt is rolled back: round 1 kept, round 2
rolled back, round 2 kept. Two of its failing tests print secrets in their assertion
messages: a token-shaped string and the value of an environment variable named like a token.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from conftest import GIT_ENV, PYPROJECT, CliResult, git, write_tree

SECRET_VALUE = "s3cr3t-7f3a9c1e5b2d4f60aa"
TOKEN_SHAPED = "ghp_" + "Zq9x" * 9
SECRET_ENV = {"MENDBOT_EXAMPLE_API_TOKEN": SECRET_VALUE}

EXAMPLE = {
    "shapes.py": '''
        def clamp(value, low, high):
            """Limit value to the closed range [low, high]."""
            if value < low:
                return low
            if value > high:
                return low
            return value


        def scale(values, factor):
            return [min(v + factor, 100) for v in values]
        ''',
    "tests/test_shapes.py": f"""
        import inspect

        import shapes
        from shapes import clamp, scale


        def test_below():
            assert clamp(-5, 0, 10) == 0


        def test_inside():
            assert clamp(5, 0, 10) == 5


        def test_above():
            assert clamp(15, 0, 10) == 10, "deploy token {TOKEN_SHAPED}"


        def test_edge():
            assert clamp(10, 0, 10) == 10


        def test_scale():
            assert scale([1, 2], 10) == [10, 20], "billing key {SECRET_VALUE}"


        def test_house_style():
            # an upper bound is checked with >=, so the edge value takes the bound's branch
            assert "value > high:\\n        return high" not in inspect.getsource(shapes)
        """,
}


def cli(
    *args: str, cwd: Path, env: Mapping[str, str] | None = None, timeout: float = 240
) -> CliResult:
    """The real `mendbot` CLI in a subprocess (as the ``run_cli`` fixture, usable anywhere)."""
    full_env = {**os.environ, **GIT_ENV, "MENDBOT_PLUGIN_AUTOLOAD": "0", **(env or {})}
    done = subprocess.run(
        [sys.executable, "-m", "bot", *args],
        cwd=cwd,
        env=full_env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    return CliResult(done.returncode, done.stdout, done.stderr)


def cli_here(
    *args: str, cwd: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> CliResult:
    """The same CLI entry point (``bot.cli.main``) run in this process: quicker, for the many
    small error cases."""
    from bot.cli import main

    monkeypatch.chdir(cwd)
    capsys.readouterr()
    with pytest.raises(SystemExit) as done:
        main(list(args))
    captured = capsys.readouterr()
    code = done.value.code
    return CliResult(code if isinstance(code, int) else 1, captured.out, captured.err)


def make_project(root: Path, files: Mapping[str, str]) -> Path:
    root.mkdir(parents=True)
    git(root, "init", "-q", "-b", "main")
    write_tree(root, {"pyproject.toml": PYPROJECT, **files})
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "initial")
    return root


@dataclass(frozen=True)
class ExampleRun:
    root: Path
    result: dict[str, Any]  # `mendbot fix --json`

    @property
    def run_id(self) -> str:
        return str(self.result["run_id"])

    @property
    def ref(self) -> str:
        return f"refs/mendbot/runs/{self.run_id}"

    def stored(self, name: str) -> str:
        return git(self.root, "cat-file", "blob", f"{self.ref}:{name}")

    def stored_json(self, name: str) -> dict[str, Any]:
        data: dict[str, Any] = json.loads(self.stored(name))
        return data


_RUNS: dict[Path, ExampleRun] = {}


@pytest.fixture(scope="session", name="example_run")
def example_run_fixture(tmp_path_factory: pytest.TempPathFactory) -> ExampleRun:
    """The example run (import ``example_run_fixture`` to use the ``example_run`` fixture)."""
    key = tmp_path_factory.getbasetemp()
    if key not in _RUNS:  # one run per session, whichever module asks first
        root = make_project(tmp_path_factory.mktemp("history") / "shop", EXAMPLE)
        done = cli("fix", "--json", "--time-budget", "120", cwd=root, env=SECRET_ENV)
        assert done.code == 0, done.stderr
        result = done.json()
        verdicts = [bool(r["commit"]) for r in result["rounds"]]
        assert result["status"] == "fixed" and verdicts == [True, False, True], result["rounds"]
        _RUNS[key] = ExampleRun(root, result)
    return _RUNS[key]
