"""Reading the user's repository in-process, with GitPython over its pure-Python object database.

Refs, commits, their messages and blobs are read from the files of the git directory
(``git.Repo(..., odbt=git.GitDB)``): no git process starts, nothing the repository's
configuration names can run, and the environment plays no part. Every git *process* mendbot
starts goes through ``bot/gitcmd.py``; this module is the one place that imports GitPython.

Only the user's repository is read here, from the directories gitcmd resolved (never a
worktree of mendbot's, whose ``.git`` the tests could rewrite). Writing, and what needs git's
own algorithms (ancestry over long histories, diffs, applying patches), stays a git process.
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path


def _import_gitpython() -> None:
    """GitPython runs ``git version`` when it is imported, to find its executable: mendbot's
    GitPython gets none (a path that cannot exist), so importing it starts no process and any
    later attempt to run git through it fails instead of running a program."""
    names = ("GIT_PYTHON_GIT_EXECUTABLE", "GIT_PYTHON_REFRESH")
    saved = {name: os.environ.get(name) for name in names}
    os.environ.update({names[0]: NO_EXECUTABLE, names[1]: "quiet"})
    try:
        import git  # noqa: F401
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


NO_EXECUTABLE = "/nonexistent/mendbot-runs-git-only-through-gitcmd"
_import_gitpython()

import git  # noqa: E402

git.cmd.Git.GIT_PYTHON_GIT_EXECUTABLE = NO_EXECUTABLE

Reader = git.Repo
_MISSING = (ValueError, TypeError, KeyError, OSError, git.BadName, git.BadObject)


@dataclass(frozen=True)
class CommitInfo:
    """One commit as read: its id, its message and its parents' ids."""

    sha: str
    message: str
    parents: tuple[str, ...]


def open_reader(git_dir: Path, common_dir: Path) -> Reader:
    """The reader of the user's repository whose (common) git directory gitcmd resolved.

    GitPython would take ``GIT_COMMON_DIR`` and ``GIT_OBJECT_DIRECTORY`` from the environment;
    the refs and objects read are the ones of ``common_dir``, as for every git of gitcmd's."""
    with warnings.catch_warnings():
        # GitPython prefers its object database that runs `git cat-file`; no process is the point
        warnings.filterwarnings("ignore", "GitDB is deprecated", DeprecationWarning)
        reader = git.Repo(git_dir, odbt=git.GitDB, search_parent_directories=False)
    reader._common_dir = os.fspath(common_dir)
    reader.odb = git.GitDB(os.fspath(common_dir / "objects"))
    return reader


def commit_of(reader: Reader, ref: str) -> str:
    """The commit the full ref name ``ref`` points to (tags peeled), "" when there is none."""
    try:
        return str(git.Reference(reader, ref).commit.hexsha)
    except _MISSING:
        return ""


def read_commit(reader: Reader, sha: str) -> CommitInfo:
    commit = reader.commit(sha)
    message = commit.message
    text = message if isinstance(message, str) else message.decode("utf-8", "replace")
    return CommitInfo(commit.hexsha, text, tuple(parent.hexsha for parent in commit.parents))


def first_parents(reader: Reader, tip: str, limit: int) -> Iterator[CommitInfo]:
    """``tip`` and its first parents, newest first, at most ``limit`` commits."""
    sha = tip
    for _ in range(limit):
        info = read_commit(reader, sha)
        yield info
        if not info.parents:
            return
        sha = info.parents[0]


def file_at(reader: Reader, ref: str, path: str) -> bytes | None:
    """The content of ``path`` in the commit ``ref`` points to; None when either is missing."""
    commit = commit_of(reader, ref)
    if not commit:
        return None
    try:
        blob = reader.commit(commit).tree / path
        data: bytes = blob.data_stream.read()
    except _MISSING:
        return None
    return data
