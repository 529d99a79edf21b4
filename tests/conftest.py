"""Shared fixtures: real git repositories of small Python projects, and the real CLI."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from docker_fixtures import *  # noqa: F403 - docker engine fixtures for the sandbox tests

GIT_ENV = {
    "GIT_AUTHOR_NAME": "Test User",
    "GIT_AUTHOR_EMAIL": "user@example.com",
    "GIT_COMMITTER_NAME": "Test User",
    "GIT_COMMITTER_EMAIL": "user@example.com",
}
PYPROJECT = '[tool.pytest.ini_options]\npythonpath = ["."]\ntestpaths = ["tests"]\n'


def git(cwd: Path, *args: str) -> str:
    env = {**os.environ, **GIT_ENV}
    done = subprocess.run(
        ["git", *args], cwd=cwd, env=env, capture_output=True, text=True, check=True, timeout=60
    )
    return done.stdout


def write_tree(root: Path, files: Mapping[str, str]) -> None:
    for relative, text in files.items():
        path = root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text).lstrip("\n"))


@pytest.fixture
def make_repo(tmp_path: Path) -> Callable[..., Path]:
    """A committed git repository holding ``files`` (a pyproject with pytest settings is added)."""
    counter = [0]

    def make(files: Mapping[str, str], *, name: str = "", pyproject: bool = True) -> Path:
        counter[0] += 1
        root = tmp_path / (name or f"repo{counter[0]}")
        root.mkdir(parents=True)
        git(root, "init", "-q", "-b", "main")
        tree = dict(files)
        if pyproject:
            tree.setdefault("pyproject.toml", PYPROJECT)
        write_tree(root, tree)
        git(root, "add", "-A")
        git(root, "commit", "-q", "-m", "initial")
        return root

    return make


@dataclass
class CliResult:
    code: int
    stdout: str
    stderr: str

    def json(self) -> Any:
        return json.loads(self.stdout)


@pytest.fixture
def run_cli() -> Callable[..., CliResult]:
    """Run the real `mendbot` CLI (``python -m bot``) in a subprocess."""

    def run(
        *args: str, cwd: Path, env: Mapping[str, str] | None = None, timeout: float = 240
    ) -> CliResult:
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

    return run


def snapshot(root: Path) -> dict[str, Any]:
    """Everything of the user's checkout that mendbot must leave byte-identical."""
    files = {}
    for path in sorted(root.rglob("*")):
        if ".git" in path.relative_to(root).parts or not path.is_file():
            continue
        if "__pycache__" in path.parts:
            continue
        files[path.relative_to(root).as_posix()] = path.read_bytes()
    git_dir = root / ".git"
    return {
        "files": files,
        "head": git(root, "rev-parse", "HEAD"),
        "symbolic": git(root, "symbolic-ref", "-q", "HEAD"),
        "index": (git_dir / "index").read_bytes() if (git_dir / "index").exists() else b"",
        "status": git(root, "--no-optional-locks", "status", "--porcelain=v1", "-uall"),
        "stash": git(root, "stash", "list"),
        "branches": git(
            root, "for-each-ref", "--format=%(refname) %(objectname)", "refs/heads/main"
        ),
    }


BUGGY_CLAMP = {
    "shapes.py": '''
        def clamp(value, low, high):
            """Limit value to the closed range [low, high]."""
            if value < low:
                return low
            if value > high:
                return low
            return value


        def scale(values, factor):
            return [clamp(v * factor, 0, 100) for v in values]
        ''',
    "tests/test_shapes.py": """
        from shapes import clamp, scale


        def test_below():
            assert clamp(-5, 0, 10) == 0


        def test_inside():
            assert clamp(5, 0, 10) == 5


        def test_above():
            assert clamp(15, 0, 10) == 10


        def test_scale():
            assert scale([1, 2], 10) == [10, 20]
        """,
}


@pytest.fixture
def buggy_clamp(make_repo: Callable[..., Path]) -> Path:
    return make_repo(BUGGY_CLAMP)
