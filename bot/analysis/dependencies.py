"""Test dependencies the test interpreter does not have.

A test module that imports a package the interpreter lacks (``freezegun``, say) fails to
collect with ``ModuleNotFoundError``. That is a setup problem, not a bug: no edit of the code
under repair can install a package, so mendbot says what is missing and how to install it
instead of searching for a fix.

A missing name is a dependency only when it is none of the project's own modules (a module
the project holds somewhere in its tree, whose import fails because of a bug) and does not
look like a misspelling of one of them or of a standard-library module (``import jsno``: a
bug that the template engine repairs).
"""

from __future__ import annotations

import difflib
import os
import re
import sys
from collections.abc import Iterator, Sequence
from pathlib import Path

from bot.errors import TestSetupError
from bot.models import Outcome, TestRun

_MISSING = re.compile(r"ModuleNotFoundError: No module named '([\w.]+)'")
# folders that hold installed or generated code, not the project's own modules
_NOT_PROJECT = {".git", ".hg", ".tox", ".nox", "node_modules", "site-packages", "__pycache__"}
_SPELLING = 0.75  # difflib ratio from which a missing name reads as a misspelling
# import names whose distribution on PyPI is named otherwise
DISTRIBUTIONS = {
    "attr": "attrs",
    "bs4": "beautifulsoup4",
    "cv2": "opencv-python",
    "dateutil": "python-dateutil",
    "dotenv": "python-dotenv",
    "git": "GitPython",
    "jwt": "PyJWT",
    "magic": "python-magic",
    "OpenSSL": "pyOpenSSL",
    "PIL": "Pillow",
    "serial": "pyserial",
    "sklearn": "scikit-learn",
    "yaml": "PyYAML",
    "zmq": "pyzmq",
}


def missing_names(run: TestRun) -> list[str]:
    """Top-level names of the modules the run could not import, in the order first seen."""
    texts = [f"{error.message}\n{error.traceback}" for error in run.collection_errors]
    texts += [
        f"{result.message}\n{result.traceback}"
        for result in run.results
        if result.outcome in (Outcome.FAILED, Outcome.ERROR)
        and result.exception_type == "ModuleNotFoundError"
    ]
    found: dict[str, None] = {}
    for text in texts:
        for match in _MISSING.finditer(text):
            found[match.group(1).split(".")[0]] = None
    return list(found)


def _is_environment(folder: Path) -> bool:
    return (folder / "pyvenv.cfg").is_file()


def project_modules(*folders: Path) -> set[str]:
    """Names a project's own code can be imported by: every module file and package folder
    in its tree (``src/`` layouts, nested packages and test helpers included), leaving out
    virtual environments and other installed code."""
    names: set[str] = set()
    for top in dict.fromkeys(folder.resolve() for folder in folders):
        for _, subfolders, files in _walk(top):
            names.update(name[:-3] for name in files if name.endswith(".py"))
            names.update(subfolders)
    return {name for name in names if name.isidentifier()}


def _walk(top: Path) -> Iterator[tuple[str, list[str], list[str]]]:
    for folder, subfolders, files in os.walk(top):
        subfolders[:] = [
            name
            for name in subfolders
            if name not in _NOT_PROJECT and not _is_environment(Path(folder) / name)
        ]
        yield folder, subfolders, files


def missing_dependencies(run: TestRun, *folders: Path) -> list[str]:
    """The names ``run`` could not import that are dependencies to install: neither the
    project's own modules (found under ``folders``) nor misspellings of one of them or of
    a standard-library module."""
    names = missing_names(run)
    if not names:
        return []
    own = project_modules(*folders)
    known = sorted(own | set(sys.stdlib_module_names))
    return [
        name
        for name in names
        if name not in own
        and not difflib.get_close_matches(name, [k for k in known if k != name], 1, _SPELLING)
    ]


def distribution(name: str) -> str:
    return DISTRIBUTIONS.get(name, name)


def sandbox_python(sandbox: object) -> str | None:
    """The interpreter a sandbox runs the tests with, where it is one on this machine."""
    python = getattr(sandbox, "python", None)
    return python if isinstance(python, str) else None


def check_dependencies(run: TestRun, folders: Sequence[Path], python: str | None) -> None:
    """Raise a setup error naming the packages to install when the tests cannot import
    them. ``python`` is the interpreter that runs the tests (None: not one on this machine,
    as in a container)."""
    missing = missing_dependencies(run, *folders)
    if not missing:
        return
    packages = " ".join(distribution(name) for name in missing)
    listed = ", ".join(missing)
    where = f"the test interpreter {python}" if python else "the sandbox's test interpreter"
    plural = "modules" if len(missing) > 1 else "module"
    if python:
        hint = (
            f"install them: {python} -m pip install {packages} (or the project's test "
            "dependencies), or run the tests with an interpreter that has them (--python)"
        )
    else:
        hint = (
            f"add {packages} to the test dependencies the sandbox image is prepared with "
            "(mendbot sandbox prepare), or use --sandbox local"
        )
    raise TestSetupError(
        f"the tests import {plural} that {where} does not have: {listed}", hint=hint
    )
