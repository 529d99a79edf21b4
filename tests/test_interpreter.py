"""Interpreter discovery: mendbot runs the tests with the project's environment where a user
would expect it, says which, and ``--python`` wins. Real virtual environments made with
``python -m venv``, real repositories, the real CLI."""

from __future__ import annotations

import os
import subprocess
import sys
import sysconfig
from collections.abc import Callable
from pathlib import Path

import pytest
from conftest import BUGGY_CLAMP, CliResult

from bot.errors import ConfigError
from bot.interpreter import find_interpreter

RunCli = Callable[..., CliResult]
OWN_SITE = sysconfig.get_paths()["purelib"]  # where this interpreter's pytest lives


def make_venv(folder: Path, *, marker: str = "") -> Path:
    """A real virtual environment that sees this interpreter's packages (pytest) through a
    .pth file and has a module of its own, ``envmark``, saying which environment it is."""
    subprocess.run(
        [sys.executable, "-m", "venv", "--without-pip", str(folder)], check=True, timeout=120
    )
    python = folder / "bin" / "python"
    site = subprocess.run(
        [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    Path(site, "mendbot_test_packages.pth").write_text(OWN_SITE + "\n")
    Path(site, "envmark.py").write_text(f"NAME = {marker or folder.name!r}\n")
    return python


def environ(**extra: str) -> dict[str, str]:
    env = {
        k: v for k, v in os.environ.items() if k not in ("VIRTUAL_ENV", "UV_PROJECT_ENVIRONMENT")
    }
    return {**env, **extra}


def test_the_project_venv_runs_the_tests_and_the_run_says_so(
    make_repo: Callable[..., Path], run_cli: RunCli
) -> None:
    # the tests need a package that only the project's environment has
    files = dict(BUGGY_CLAMP)
    files["tests/test_env.py"] = "import envmark\n\n\ndef test_env():\n    assert envmark.NAME\n"
    files[".gitignore"] = ".venv/\n"
    root = make_repo(files)
    python = make_venv(root / ".venv")

    result = run_cli("fix", "--json", cwd=root, env=environ())

    assert result.code == 0, result.stderr
    report = result.json()
    assert report["status"] == "fixed"
    assert report["extra"]["interpreter"] == {
        "path": str(python),
        "source": ".venv/ in the project",
    }
    assert f"tests run with {python} (.venv/ in the project)" in result.stderr


def test_python_flag_wins_and_a_bad_one_is_a_usage_error(
    make_repo: Callable[..., Path], run_cli: RunCli, tmp_path: Path
) -> None:
    root = make_repo({"shapes.py": "", "tests/test_env.py": "def test_env():\n    pass\n"})
    make_venv(root / ".venv")
    other = make_venv(tmp_path / "elsewhere")
    found = find_interpreter(str(other), root, root, environ())
    assert (found.path, found.source) == (str(other), "--python")
    relative = find_interpreter(".venv/bin/python", root, root, environ(), base=root)
    assert relative.path == str(root / ".venv" / "bin" / "python")

    result = run_cli("fix", "--python", "no/such/python", "--json", cwd=root, env=environ())
    assert result.code == 2
    assert "the interpreter 'no/such/python' (--python) does not exist" in result.stderr
    assert "--python .venv/bin/python" in result.stderr


def test_the_active_virtual_environment_comes_before_the_project_folders(
    tmp_path: Path,
) -> None:
    project = tmp_path / "project"
    project.mkdir()
    local = make_venv(project / "venv")
    active = make_venv(tmp_path / "active")
    found = find_interpreter(None, project, project, environ(VIRTUAL_ENV=str(tmp_path / "active")))
    assert (found.path, found.source) == (
        str(active),
        "the active virtual environment, VIRTUAL_ENV",
    )
    # mendbot's own environment (pre-commit's hook environment, say) is not the project's
    own = find_interpreter(None, project, project, environ(VIRTUAL_ENV=sys.prefix))
    assert (own.path, own.source) == (str(local), "venv/ in the project")


def test_a_venv_at_the_top_of_the_repository_serves_a_project_in_a_subfolder(
    tmp_path: Path,
) -> None:
    top = tmp_path / "repo"
    (top / "services" / "api").mkdir(parents=True)
    python = make_venv(top / ".venv")
    found = find_interpreter(None, top / "services" / "api", top, environ())
    assert (found.path, found.source) == (str(python), ".venv/ in the repository")


def test_uv_tox_and_nothing(tmp_path: Path) -> None:
    uv_project = tmp_path / "uv"
    uv_project.mkdir()
    (uv_project / "uv.lock").write_text("version = 1\n")
    uv_python = make_venv(uv_project / "envs" / "dev")
    found = find_interpreter(
        None, uv_project, uv_project, environ(UV_PROJECT_ENVIRONMENT="envs/dev")
    )
    assert (found.path, found.source) == (str(uv_python), "uv's UV_PROJECT_ENVIRONMENT")

    tox_project = tmp_path / "tox"
    tox_project.mkdir()
    (tox_project / "tox.ini").write_text("[tox]\nenv_list = py311, lint\n")
    make_venv(tox_project / ".tox" / "lint")
    tox_python = make_venv(tox_project / ".tox" / "py311")
    (tox_project / ".tox" / ".pkg").mkdir()
    found = find_interpreter(None, tox_project, tox_project, environ())
    assert (found.path, found.source) == (str(tox_python), "tox's environment .tox/py311")

    bare = tmp_path / "bare"
    bare.mkdir()
    found = find_interpreter(None, bare, bare, environ())
    assert found.path == sys.executable
    assert found.source.startswith("mendbot's own interpreter")


@pytest.mark.parametrize(
    ("tool", "config", "answer"),
    [
        ("poetry", {"poetry.lock": ""}, "env info -p"),
        ("hatch", {"pyproject.toml": "[tool.hatch.envs.default]\n"}, "env find"),
    ],
)
def test_poetry_and_hatch_are_asked_only_where_configured(
    tmp_path: Path, tool: str, config: dict[str, str], answer: str
) -> None:
    """poetry and hatch are not installed here: a stand-in command on PATH answers as the
    real one does (the environment's folder on its first line, for exactly these
    arguments), so the question asked and the reading of the answer are what is tested."""
    python = make_venv(tmp_path / "tool-env")
    tools = tmp_path / "bin"
    tools.mkdir()
    script = tools / tool
    script.write_text(f'#!/bin/sh\n[ "$*" = "{answer}" ] || exit 2\necho {tmp_path / "tool-env"}\n')
    script.chmod(0o755)
    path = f"{tools}{os.pathsep}{os.environ.get('PATH', '')}"
    configured = tmp_path / "configured"
    configured.mkdir()
    for name, text in config.items():
        (configured / name).write_text(text)
    found = find_interpreter(None, configured, configured, environ(PATH=path))
    assert found.path == str(python) and tool in found.source
    # a project that does not use the tool never asks it
    plain = tmp_path / "plain"
    plain.mkdir()
    assert find_interpreter(None, plain, plain, environ(PATH=path)).path == sys.executable


def test_a_configured_interpreter_that_is_missing_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="does not exist"):
        find_interpreter("python-that-is-not-there", tmp_path, tmp_path, environ())
