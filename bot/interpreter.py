"""Which Python interpreter runs the project's tests.

mendbot looks where a user would expect the project's environment to be, and says which one
it took. In order:

1. ``--python`` (or ``python`` in ``[tool.mendbot]``, or ``MENDBOT_PYTHON``);
2. the active virtual environment (``VIRTUAL_ENV``), unless it is mendbot's own (under the
   pre-commit framework, ``VIRTUAL_ENV`` is the hook's environment, which has mendbot but
   not the project's dependencies);
3. ``.venv/`` or ``venv/`` in the project folder, then at the top of the repository (uv's
   ``UV_PROJECT_ENVIRONMENT`` first, where the project has a ``uv.lock``);
4. the environment of the tool the project is configured for: poetry (``poetry env info
   -p``), hatch (``hatch env find``), tox (``.tox/<env>``). Tools are asked only when they
   are configured and installed, with a short time limit, and never create anything;
5. mendbot's own interpreter.
"""

from __future__ import annotations

import os
import shutil
import sys
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

from bot import proc
from bot.errors import ConfigError

TOOL_TIMEOUT = 5.0  # seconds a tool may take to name its environment
VENV_FOLDERS = (".venv", "venv")


@dataclass(frozen=True)
class Interpreter:
    path: str
    source: str  # how it was found, for the user: "--python", ".venv in the project", ...

    def describe(self) -> str:
        return f"tests run with {self.path} ({self.source})"

    def to_json(self) -> dict[str, str]:
        return {"path": self.path, "source": self.source}


def environment_python(folder: Path) -> Path | None:
    """The interpreter of the virtual environment in ``folder``, if it is one."""
    for relative in ("bin/python", "Scripts/python.exe"):
        candidate = folder / relative
        if candidate.is_file() and os.access(candidate, os.X_OK):
            return candidate
    return None


def _own_environment(folder: Path) -> bool:
    try:
        return folder.resolve() == Path(sys.prefix).resolve()
    except OSError:
        return False


def configured(python: str, base: Path) -> Interpreter:
    """The interpreter the user named: a path (relative to ``base``) or a command name."""
    if os.sep in python or "/" in python:
        path = Path(python) if Path(python).is_absolute() else base / python
        found = str(path) if path.is_file() and os.access(path, os.X_OK) else None
    else:
        found = shutil.which(python)
    if found is None:
        raise ConfigError(
            f"the interpreter {python!r} (--python) does not exist or cannot be run",
            hint="name an interpreter that runs your tests, e.g. --python .venv/bin/python, "
            "or leave --python out to let mendbot find the project's environment",
        )
    return Interpreter(found, "--python")


def find_interpreter(
    python: str | None,
    project_dir: Path,
    top: Path,
    environ: Mapping[str, str] | None = None,
    *,
    base: Path | None = None,
) -> Interpreter:
    """The interpreter for the tests of ``project_dir`` (inside the repository at ``top``);
    ``python`` is the configured one, if any, relative to ``base`` (default: the current
    folder)."""
    environ = os.environ if environ is None else environ
    if python:
        return configured(python, base or Path.cwd())
    for interpreter in _candidates(project_dir.resolve(), top.resolve(), environ):
        return interpreter
    return Interpreter(sys.executable, "mendbot's own interpreter: no project environment found")


def _candidates(project: Path, top: Path, environ: Mapping[str, str]) -> Iterator[Interpreter]:
    active = environ.get("VIRTUAL_ENV")
    if active and not _own_environment(Path(active)):
        found = environment_python(Path(active))
        if found is not None:
            yield Interpreter(str(found), "the active virtual environment, VIRTUAL_ENV")
    folders = list(dict.fromkeys([project, top]))
    for folder in folders:
        uv_environment = environ.get("UV_PROJECT_ENVIRONMENT")
        if uv_environment and (folder / "uv.lock").is_file():
            found = environment_python(folder / uv_environment)
            if found is not None:
                yield Interpreter(str(found), "uv's UV_PROJECT_ENVIRONMENT")
        for name in VENV_FOLDERS:
            found = environment_python(folder / name)
            if found is not None and not _own_environment(folder / name):
                where = "the project" if folder == project else "the repository"
                tool = " (uv)" if (folder / "uv.lock").is_file() else ""
                yield Interpreter(str(found), f"{name}/ in {where}{tool}")
    for folder in folders:
        yield from _tool_environments(folder, environ)


def _pyproject_mentions(folder: Path, table: str) -> bool:
    try:
        return f"[{table}" in (folder / "pyproject.toml").read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return False


def _tool_environments(folder: Path, environ: Mapping[str, str]) -> Iterator[Interpreter]:
    if (folder / "poetry.lock").is_file() or _pyproject_mentions(folder, "tool.poetry"):
        found = _ask_tool(["poetry", "env", "info", "-p"], folder, environ)
        if found is not None:
            yield Interpreter(str(found), "poetry's environment (poetry env info -p)")
    if (folder / "hatch.toml").is_file() or _pyproject_mentions(folder, "tool.hatch"):
        found = _ask_tool(["hatch", "env", "find"], folder, environ)
        if found is not None:
            yield Interpreter(str(found), "hatch's default environment (hatch env find)")
    tox = folder / ".tox"
    if tox.is_dir() and ((folder / "tox.ini").is_file() or _pyproject_mentions(folder, "tool.tox")):
        # the newest Python's environment first (py313 before py311), then any other
        names = sorted((p.name for p in tox.iterdir() if not p.name.startswith(".")), reverse=True)
        names.sort(key=lambda name: not name.startswith("py"))
        for name in names:
            found = environment_python(tox / name)
            if found is not None:
                yield Interpreter(str(found), f"tox's environment .tox/{name}")
                return


def _ask_tool(argv: list[str], folder: Path, environ: Mapping[str, str]) -> Path | None:
    """The environment folder a tool names for ``folder`` (its first line of output), when
    the tool is installed, answers in time and the folder holds an interpreter."""
    executable = shutil.which(argv[0], path=environ.get("PATH"))
    if executable is None:
        return None
    try:
        done = proc.run(
            [executable, *argv[1:]], cwd=folder, env=dict(environ), timeout=TOOL_TIMEOUT
        )
    except OSError:
        return None
    lines = done.stdout.strip().splitlines()
    if done.timed_out or done.returncode != 0 or not lines:
        return None
    return environment_python(Path(lines[0].strip()))
