"""What a screening child changed on disk, and how to put it back.

mendbot's screening worker forks a child per candidate; the children share one file system.
A candidate whose code writes a file (a cache, a log, a database) would leave it behind for
the candidates after it, and one running at the same time could read it mid-run. This module
keeps that from deciding any other candidate's verdict:

* ``install()`` adds an audit hook (PEP 578) once, in the worker. It stays inert until a child
  calls ``arm()``; an audit hook cannot be removed, so this is how it stays out of the way.
* In an armed child, before the first change to a path outside the child's own folders, the
  hook saves what was there (a copy of the file or folder, a symlink's target, or "absent")
  and appends a line to the child's journal. The journal is written before the change, so it
  is complete however the child ends: an exit, a crash, a kill at its time limit.
* ``restore()`` runs in the worker after the child ended: it puts every journaled path back,
  newest change first, and says whether the child changed anything.

Two things cannot be journaled from inside Python: files written by another program the code
under test starts, and files written through a directory descriptor that no longer resolves.
For those the journal says ``unknown``, and the worker hands the candidate to the naive path
(a fresh pytest run on a clean tree). Starting a program is journaled for a second reason:
the program runs the code on disk, not the candidate the child swapped in, so the child could
not judge the candidate anyway.

Standard library only: it runs inside the project's test process, also in containers where
only pytest is installed.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import sys
import tempfile
from typing import Any

# Audit events that change the file system, and which of their arguments are paths.
_PATH_EVENTS: dict[str, tuple[int, ...]] = {
    "os.remove": (0,),
    "os.rmdir": (0,),
    "os.mkdir": (0,),
    "os.rename": (0, 1),
    "os.truncate": (0,),
    "os.chmod": (0,),
    "os.link": (1,),
    "os.symlink": (1,),
    "shutil.rmtree": (0,),
    "shutil.move": (0, 1),
    "sqlite3.connect": (0,),
}
# The dir_fd argument of the events above, where they have one.
_DIR_FD = {"os.remove": 1, "os.rmdir": 1, "os.mkdir": 2, "os.rename": 2, "os.symlink": 2}
# Starting another program: its writes, and the code it runs, are out of sight.
_SPAWN_EVENTS = frozenset(
    {"subprocess.Popen", "os.system", "os.posix_spawn", "os.exec", "os.spawn", "pty.spawn"}
)
_WRITE_FLAGS = os.O_WRONLY | os.O_RDWR | os.O_CREAT | os.O_TRUNC | os.O_APPEND
_SQLITE_SIDE_FILES = ("-journal", "-wal", "-shm")


class _State:
    armed = False
    busy = False  # the hook is saving a path: the copies it makes are not changes
    folder = ""
    journal_fd = -1
    saved_dir = ""
    ignored: tuple[str, ...] = ()
    seen: set[str] = set()  # one set per process, reset by arm()
    count = 0


_STATE = _State()
_INSTALLED: list[bool] = []


def install() -> None:
    """Add the audit hook to this process (once)."""
    if not _INSTALLED:
        sys.addaudithook(_hook)
        _INSTALLED.append(True)


def arm(folder: str, ignored: tuple[str, ...] = ()) -> None:
    """Journal this process's changes into ``folder`` (the child's own, created here), and
    give it a temporary folder of its own inside it. Paths under ``ignored`` and ``folder``
    are the child's alone and are not journaled."""
    private_tmp = os.path.join(folder, "tmp")
    os.makedirs(private_tmp, exist_ok=True)
    # the journal and the folder of saved copies are made at the first change (most
    # candidates change nothing): a child that has no journal changed nothing
    _STATE.folder = folder
    _STATE.journal_fd = -1
    _STATE.saved_dir = os.path.join(folder, "saved")
    _STATE.ignored = tuple(os.path.join(os.path.realpath(p), "") for p in (folder, *ignored) if p)
    _STATE.seen = set()
    _STATE.count = 0
    # tempfile's names are random, but a folder of its own costs nothing and keeps even a
    # fixed name under it from meeting another candidate's
    os.environ["TMPDIR"] = private_tmp
    tempfile.tempdir = private_tmp
    sys.dont_write_bytecode = True  # cached bytecode is not the candidate's doing
    _STATE.armed = True


def journal_path(folder: str) -> str:
    return os.path.join(folder, "journal")


def _text(path: Any) -> str | None:
    if isinstance(path, bytes):
        return os.fsdecode(path)
    if isinstance(path, str):
        return path
    if isinstance(path, os.PathLike):
        value = os.fspath(path)
        return os.fsdecode(value) if isinstance(value, bytes) else value
    return None


def _absolute(path: Any, dir_fd: Any) -> str | None:
    text = _text(path)
    if text is None:
        return None
    if not os.path.isabs(text) and isinstance(dir_fd, int) and dir_fd >= 0:
        try:
            base = os.readlink(f"/proc/self/fd/{dir_fd}")
        except OSError:
            return None
        text = os.path.join(base, text)
    return os.path.abspath(text)


def _inside(path: str) -> bool:
    """Whether ``path`` lies in one of the child's own folders."""
    return (path + os.sep).startswith(_STATE.ignored)


def _write(entry: dict[str, Any]) -> None:
    line = (json.dumps(entry) + "\n").encode()
    with contextlib.suppress(OSError):
        if _STATE.journal_fd < 0:
            _STATE.journal_fd = os.open(
                journal_path(_STATE.folder), os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600
            )
        os.write(_STATE.journal_fd, line)


def _save(path: str) -> None:
    """Journal what ``path`` holds now, once per path and process."""
    if path in _STATE.seen or _inside(path):
        return
    _STATE.seen.add(path)
    real = os.path.realpath(path)
    if _inside(real) or real.startswith(("/proc/", "/dev/", "/sys/")):
        return
    _STATE.count += 1
    with contextlib.suppress(OSError):
        os.makedirs(_STATE.saved_dir, exist_ok=True)
    backup = os.path.join(_STATE.saved_dir, f"{os.getpid()}-{_STATE.count}")
    entry: dict[str, Any] = {"path": path}
    try:
        if os.path.islink(path):
            entry.update(kind="link", target=os.readlink(path))
        elif os.path.isdir(path):
            shutil.copytree(path, backup, symlinks=True)
            entry.update(kind="dir", backup=backup)
        elif os.path.isfile(path):
            shutil.copy2(path, backup)
            entry.update(kind="file", backup=backup)
        elif os.path.exists(path):  # a fifo or a device: nothing a test changes by writing
            return
        else:
            entry.update(kind="absent")
    except OSError as error:
        entry = {"unknown": f"cannot save {path}: {error}"}
    _write(entry)


def _hook(event: str, args: tuple[Any, ...]) -> None:
    if not _STATE.armed or _STATE.busy:
        return
    if event == "open":
        path, mode, flags = (*args, None, None, None)[:3]
        if isinstance(mode, str):
            writes = any(letter in mode for letter in "wax+")
        else:
            writes = isinstance(flags, int) and bool(flags & _WRITE_FLAGS)
        if not writes or isinstance(path, int):
            return
        paths: list[str | None] = [_absolute(path, None)]
    elif event in _PATH_EVENTS:
        dir_fd = args[_DIR_FD[event]] if event in _DIR_FD and len(args) > _DIR_FD[event] else None
        paths = [_absolute(args[i], dir_fd) if i < len(args) else None for i in _PATH_EVENTS[event]]
        if event == "sqlite3.connect":
            name = _text(args[0]) if args else None
            if not name or name == ":memory:" or name.startswith("file:"):
                if name and name.startswith("file:") and "mode=memory" not in name:
                    paths = [None]  # a URI: where it points is not worth parsing here
                else:
                    return
            else:
                base = paths[0]
                paths += [base + suffix for suffix in _SQLITE_SIDE_FILES] if base else []
    elif event in _SPAWN_EVENTS:
        _STATE.busy = True
        try:
            _write({"unknown": f"starts another program ({event})"})
        finally:
            _STATE.busy = False
        return
    else:
        return
    _STATE.busy = True
    try:
        for path in paths:
            if path is None:
                _write({"unknown": f"{event} on a path that cannot be resolved"})
            else:
                _save(path)
    finally:
        _STATE.busy = False


def read_journal(path: str) -> list[dict[str, Any]]:
    entries: list[dict[str, Any]] = []
    with contextlib.suppress(OSError), open(path, encoding="utf-8") as journal:
        for line in journal:
            with contextlib.suppress(ValueError):
                item = json.loads(line)
                if isinstance(item, dict):
                    entries.append(item)
    return entries


def _remove(path: str) -> None:
    if os.path.islink(path) or os.path.isfile(path):
        os.unlink(path)
    elif os.path.isdir(path):
        shutil.rmtree(path)
    elif os.path.exists(path):
        os.unlink(path)


def _refill(path: str, backup: str) -> None:
    """Give the folder ``path`` the contents saved in ``backup``, keeping the folder itself:
    it may be a mount point (the sandbox's view of the tree under test) or lie in a folder
    that cannot be written, where removing and copying it whole would fail."""
    for name in os.listdir(path):
        _remove(os.path.join(path, name))
    shutil.copytree(backup, path, symlinks=True, dirs_exist_ok=True)


def restore(folder: str) -> tuple[bool, str]:
    """Put back what the child journaled in ``folder``, newest change first.

    Returns (whether it changed anything, why its changes are unknown or "").
    """
    entries = read_journal(journal_path(folder))
    unknown = next((str(e["unknown"]) for e in entries if "unknown" in e), "")
    for entry in reversed(entries):
        path = entry.get("path")
        if not isinstance(path, str):
            continue
        try:
            kind = entry.get("kind")
            if kind == "absent":
                if os.path.lexists(path):
                    _remove(path)
                continue
            if kind == "dir" and os.path.isdir(path) and not os.path.islink(path):
                _refill(path, str(entry["backup"]))
                continue
            if os.path.lexists(path):
                _remove(path)
            os.makedirs(os.path.dirname(path) or ".", exist_ok=True)
            if kind == "link":
                os.symlink(str(entry["target"]), path)
            elif kind == "dir":
                shutil.copytree(str(entry["backup"]), path, symlinks=True)
            elif kind == "file":
                shutil.copy2(str(entry["backup"]), path)
        except OSError as error:
            unknown = unknown or f"cannot put {path} back: {error}"
    return bool(entries), unknown
