"""What a run owns on disk, and what a killed run leaves behind.

A run holds its repository's lock (``<common-dir>/mendbot/lock``: the owner's pid and the
time its process started, which together name a process even when pids are reused) and marks
each worktree folder it makes with the same owner record. The next run of any mode removes
the worktrees and folders whose owner is gone, and never one whose owner still runs.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import tempfile
import time
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import TYPE_CHECKING

from bot import gitcmd
from bot.errors import RepositoryError

if TYPE_CHECKING:
    from bot.workspace import Repository

WORKTREE_PREFIX = "mendbot-wt-"
FINAL_PREFIX = "mendbot-final-"
OWNER_FILE = ".mendbot-owner"
LOCK_WAIT = 10.0  # seconds a second run waits for the first to finish before refusing


def process_start(pid: int) -> str:
    """When process ``pid`` started (in clock ticks since boot), "" when there is none: with
    the pid it names a process uniquely, pid reuse included."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return ""
    fields = stat[stat.rfind(")") + 2 :].split()
    return fields[19] if len(fields) > 19 else ""


def owner_record() -> dict[str, object]:
    return {"pid": os.getpid(), "start": process_start(os.getpid()), "since": time.time()}


def owner_alive(record: Mapping[str, object]) -> bool:
    pid = record.get("pid")
    if not isinstance(pid, int) or pid <= 0:
        return False
    start = process_start(pid)
    return bool(start) and start == record.get("start")


def _read_owner(path: Path) -> dict[str, object] | None:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


@contextlib.contextmanager
def repository_lock(repository: Repository, wait: float = LOCK_WAIT) -> Iterator[None]:
    """One mendbot run per repository at a time (``<common-dir>/mendbot/lock``, holding the
    owner's pid). A lock whose owner is gone is taken over; a live one is waited for a little,
    then refused with the owner's pid."""
    path = repository.common_dir / "mendbot" / "lock"
    path.parent.mkdir(parents=True, exist_ok=True)
    give_up = time.monotonic() + wait
    record = owner_record()
    while True:
        try:
            handle = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
        except FileExistsError:
            owner = _read_owner(path)
            if owner is None or not owner_alive(owner):
                # a dead run's lock (or one being written this instant: look again)
                if owner is not None or _older_than(path, 2.0):
                    with contextlib.suppress(FileNotFoundError):
                        path.unlink()
                    continue
            elif owner.get("pid") == os.getpid():
                raise RepositoryError(
                    "this process is already running mendbot on this repository"
                ) from None
            if time.monotonic() > give_up:
                pid = owner.get("pid") if owner else "?"
                raise RepositoryError(
                    f"another mendbot run (pid {pid}) is working on {repository.top}",
                    hint=f"wait for it to finish, or stop it (`kill {pid}`); its lock is {path}",
                ) from None
            time.sleep(0.2)
            continue
        with os.fdopen(handle, "w") as out:
            json.dump(record, out)
        break
    try:
        yield
    finally:
        if _read_owner(path) == json.loads(json.dumps(record)):
            with contextlib.suppress(FileNotFoundError):
                path.unlink()


def _older_than(path: Path, seconds: float) -> bool:
    try:
        return time.time() - path.stat().st_mtime > seconds
    except OSError:
        return True


def clean_leftovers(repository: Repository) -> str:
    """Remove what an interrupted run (killed, say) left: its worktrees (their folders and
    git's records of them) and its temporary folders. Never one whose owner still runs.
    Returns one line saying what was removed, "" when there was nothing."""
    top = repository.top
    worktrees = folders = 0
    listing = gitcmd.output(["worktree", "list", "--porcelain"], gitcmd.Place(top), check=False)
    for line in listing.splitlines():
        if not line.startswith("worktree "):
            continue
        path = Path(line.removeprefix("worktree "))
        folder = path.parent
        if path == top or not folder.name.startswith((WORKTREE_PREFIX, FINAL_PREFIX)):
            continue
        owner = _read_owner(folder / OWNER_FILE)
        if owner is not None and owner_alive(owner):
            continue
        shutil.rmtree(folder, ignore_errors=True)
        worktrees += 1
    common = str(repository.common_dir)
    for folder in Path(tempfile.gettempdir()).glob("mendbot-*"):
        if not folder.name.startswith((WORKTREE_PREFIX, FINAL_PREFIX)) or not folder.is_dir():
            continue
        owner = _read_owner(folder / OWNER_FILE)
        if owner is None or owner.get("repository") != common or owner_alive(owner):
            continue
        shutil.rmtree(folder, ignore_errors=True)
        folders += 1
    gitcmd.output(["worktree", "prune"], gitcmd.Place(top), check=False)
    if not worktrees and not folders:
        return ""
    return (
        f"cleaned up after an interrupted run: removed {worktrees} stale worktree(s) and "
        f"{folders} temporary folder(s)"
    )
