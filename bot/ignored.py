"""Files git ignores that the tests may need (generated data, compiled translations, build
products), copied from the user's checkout into a worktree of mendbot's.

Never environments (``.venv``, anything with a ``pyvenv.cfg``), caches, version-control
folders or secrets (``.env*``, keys, credentials); never a symlink (nothing may lead back into
the user's tree); within a cap on sizes and on the number of files.
"""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import Iterator
from pathlib import Path

from bot import gitcmd

IGNORED_SKIPPED_DIRS = frozenset(
    {
        ".git",
        ".hg",
        ".svn",
        "__pycache__",
        ".pytest_cache",
        ".mypy_cache",
        ".ruff_cache",
        ".tox",
        ".nox",
        ".venv",
        "venv",
        "node_modules",
        ".eggs",
        ".ipynb_checkpoints",
        ".idea",
        ".vscode",
        ".aws",
        ".ssh",
        ".gnupg",
        ".docker",
    }
)
SECRET_NAMES = re.compile(
    r"^(\.env.*|.*\.pem|.*\.key|id_.*|\.netrc|\.pypirc|\.git-credentials|.*credentials.*"
    r"|.*\.p12|.*\.pfx|.*\.keystore|.*\.jks|\.npmrc|\.htpasswd|secrets?\..*)$",
    re.IGNORECASE,
)
MAX_IGNORED_FILE = 20 * 1024 * 1024
MAX_IGNORED_TOTAL = 100 * 1024 * 1024
MAX_IGNORED_FILES = 20_000


def _wanted_ignored(relative: Path) -> bool:
    name = relative.name
    if SECRET_NAMES.match(name) or name.endswith((".pyc", ".pyo")):
        return False
    return not any(part in IGNORED_SKIPPED_DIRS for part in relative.parts[:-1])


def _ignored_files(top: Path) -> Iterator[Path]:
    """The user's ignored files (relative to ``top``), without environments, caches and
    secrets; symlinks are never followed."""
    listing = gitcmd.output(
        ["ls-files", "-z", "--others", "--ignored", "--exclude-standard", "--directory"],
        gitcmd.Place(top),
    )
    for entry in listing.split("\0"):
        if not entry:
            continue
        relative = Path(entry.rstrip("/"))
        path = top / relative
        if any(part in IGNORED_SKIPPED_DIRS for part in relative.parts):
            continue
        if path.is_symlink():
            continue
        if path.is_file():
            if _wanted_ignored(relative):
                yield relative
            continue
        for folder, dirs, files in os.walk(path):
            here = Path(folder)
            dirs[:] = sorted(
                d
                for d in dirs
                if d not in IGNORED_SKIPPED_DIRS
                and not (here / d).is_symlink()
                and not (here / d / "pyvenv.cfg").exists()
            )
            if (here / "pyvenv.cfg").exists():
                dirs[:] = []
                continue
            for name in sorted(files):
                candidate = (here / name).relative_to(top)
                if not (here / name).is_symlink() and _wanted_ignored(candidate):
                    yield candidate


def bring_ignored(top: Path, worktree: Path) -> str:
    """Copy the user's ignored files the tests may need into ``worktree``; one line saying
    what was brought, "" when nothing was (see ``copy_ignored``)."""
    return copy_ignored(top, worktree)[0]


def copy_ignored(top: Path, worktree: Path) -> tuple[str, frozenset[str]]:
    """Copy the user's ignored files the tests may need (generated data, compiled
    translations, build products) into the worktree: copies, never links into the user's
    tree; never environments, caches or secrets; within a size cap. Returns one line saying
    what was brought ("" when nothing was) and the repository-relative paths brought."""
    count = size = skipped = 0
    brought: set[str] = set()
    for relative in _ignored_files(top):
        if count >= MAX_IGNORED_FILES:
            skipped += 1
            break  # the rest is not even looked at
        source, target = top / relative, worktree / relative
        if target.exists() or target.is_symlink():
            continue
        try:
            length = source.stat().st_size
        except OSError:
            continue
        if length > MAX_IGNORED_FILE or size + length > MAX_IGNORED_TOTAL:
            skipped += 1
            continue
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target, follow_symlinks=False)
        except OSError:
            skipped += 1
            continue
        count += 1
        size += length
        brought.add(relative.as_posix())
    if not count and not skipped:
        return "", frozenset()
    line = f"brought {count} file(s) git ignores ({size / 1024:.0f} KiB) into the worktree"
    if skipped:
        line += (
            f"; {skipped} left out (a file over {MAX_IGNORED_FILE // (1024 * 1024)} MiB, or "
            f"past {MAX_IGNORED_TOTAL // (1024 * 1024)} MiB or {MAX_IGNORED_FILES} files in all)"
        )
    return line + " (no environments, caches or secrets)", frozenset(brought)
