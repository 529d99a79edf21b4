"""Handing a verified fix back without losing a line of the user's work.

* Unstaged changes to the files a fix touches are set aside exactly as pre-commit does:
  ``git diff --binary`` into a patch kept under ``<git-dir>/mendbot/hook/``, the staged
  version checked out (from a copy of the index: the index is never written), the fix
  applied, the patch applied again. When the patch conflicts with the fix, the user's
  version wins. Files the fix does not touch are not touched at all.
* One hook run at a time per repository (a lock file), and each run records its temporary
  folder before creating anything in it, so the next run after a killed one restores a patch
  left set aside and removes the folder and the worktree in it.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import shutil
import tempfile
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from bot import gitcmd
from bot import workspace as ws
from bot.errors import RepositoryError
from bot.leftovers import clean_leftovers

FIX_PATCH = "fix.patch"


def git_common_dir(top: Path) -> Path:
    common = Path(ws.run_git(["rev-parse", "--git-common-dir"], top).strip())
    return common if common.is_absolute() else (top / common).resolve()


def git_dir(top: Path) -> Path:
    return Path(ws.run_git(["rev-parse", "--absolute-git-dir"], top).strip())


@dataclass(frozen=True)
class HookRun:
    top: Path
    folder: Path  # <git-dir>/mendbot/hook: the run record and any changes set aside
    scratch: Path  # this run's temporary folder (the export, the pipeline's worktree)
    notes: tuple[str, ...]


def _worktrees_inside(top: Path, folder: Path) -> list[str]:
    listing = ws.run_git(["worktree", "list", "--porcelain"], top, check=False)
    inside: list[str] = []
    for line in listing.splitlines():
        if line.startswith("worktree "):
            path = Path(line[len("worktree ") :])
            if path == folder or folder in path.parents:
                inside.append(str(path))
    return inside


def _remove_scratch(top: Path, scratch: Path) -> None:
    # the folders go, then git forgets them: nothing of a worktree a test could have
    # written is read on the way
    for path in _worktrees_inside(top, scratch.resolve()):
        shutil.rmtree(path, ignore_errors=True)
    shutil.rmtree(scratch, ignore_errors=True)
    ws.prune(top)


def recover(top: Path, folder: Path) -> list[str]:
    """Undo what a killed run left: a patch set aside, its temporary folder and worktree."""
    notes: list[str] = []
    if (folder / SetAside.PATCH).exists():
        notes.append(SetAside(top, folder).restore_after_crash())
    (folder / FIX_PATCH).unlink(missing_ok=True)
    record = folder / "run.json"
    if record.exists():
        try:
            data = json.loads(record.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            data = {}
        scratch = data.get("scratch") if isinstance(data, dict) else None
        if isinstance(scratch, str) and scratch:
            _remove_scratch(top, Path(scratch))
        ws.prune(top)
        record.unlink(missing_ok=True)
        pid = data.get("pid", "?") if isinstance(data, dict) else "?"
        notes.append(f"cleaned up after an interrupted mendbot run (pid {pid})")
    return notes


@contextlib.contextmanager
def hook_run(top: Path, run_id: str) -> Iterator[HookRun]:
    """One hook run at a time per repository (they share the ``mendbot/hook`` branch);
    everything temporary lives in one folder that is recorded first, so a killed run can
    always be cleaned up by the next. The record and any changes set aside belong to this
    checkout's own git folder (a linked worktree has its own)."""
    folder = git_dir(top) / "mendbot" / "hook"
    folder.mkdir(parents=True, exist_ok=True)
    shared = git_common_dir(top) / "mendbot"
    with open(shared / "hook.lock", "a+") as lock:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise RepositoryError(
                "another mendbot hook run is active in this repository",
                hint="wait for it to finish; pre-commit's require_serial keeps its own runs apart",
            ) from None
        notes = recover(top, folder)
        # worktrees and folders of other killed runs (fix, action) go too, live ones stay
        cleaned = clean_leftovers(ws.open_repository(top)[0])
        notes += [cleaned] if cleaned else []
        scratch = Path(tempfile.mkdtemp(prefix="mendbot-hook-")).resolve()
        record = folder / "run.json"
        record.write_text(
            json.dumps({"pid": os.getpid(), "run_id": run_id, "scratch": str(scratch)}),
            encoding="utf-8",
        )
        previous = tempfile.tempdir
        tempfile.tempdir = str(scratch)  # the pipeline's worktree and scratch files go here
        try:
            yield HookRun(top=top, folder=folder, scratch=scratch, notes=tuple(notes))
        finally:
            tempfile.tempdir = previous
            _remove_scratch(top, scratch)
            record.unlink(missing_ok=True)


@dataclass
class SetAside:
    """Unstaged changes to the files a fix touches, set aside the way pre-commit does."""

    PATCH = "unstaged.patch"
    INDEX = "unstaged.index"
    FILES = "unstaged.json"

    top: Path
    folder: Path

    @property
    def patch(self) -> Path:
        return self.folder / self.PATCH

    def _index_env(self) -> dict[str, str]:
        return {"GIT_INDEX_FILE": str(self.folder / self.INDEX)}

    def files(self) -> list[str]:
        try:
            data = json.loads((self.folder / self.FILES).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return []
        return [str(f) for f in data] if isinstance(data, list) else []

    def save(self, index: Path, files: Sequence[str]) -> bool:
        """Record the unstaged changes to ``files``; False when there are none."""
        if not index.exists():
            return False
        shutil.copyfile(index, self.folder / self.INDEX)
        (self.folder / self.FILES).write_text(json.dumps(list(files)), encoding="utf-8")
        ws.run_git(
            [
                "diff",
                "--binary",
                "--no-color",
                "--no-ext-diff",
                "--ignore-submodules",
                f"--output={self.patch}",
                "--",
                *files,
            ],
            self.top,
            env=self._index_env(),
        )
        if self.patch.stat().st_size == 0:
            self.discard()
            return False
        return True

    def checkout_staged(self) -> None:
        """Put the staged version of the files back in the working tree (from the copy of
        the index: the index itself is not written)."""
        ws.run_git(
            ["checkout-index", "-f", "--", *self.files()],
            self.top,
            env=self._index_env(),
            check=False,
        )

    def reapply(self) -> bool:
        return _git_apply(self.top, self.patch)

    def discard(self) -> None:
        for name in (self.PATCH, self.INDEX, self.FILES):
            (self.folder / name).unlink(missing_ok=True)

    def restore_after_crash(self) -> str:
        """Bring back the changes a killed run had set aside, wherever it stopped."""
        # "already in place" is asked first: applying the changes twice would duplicate lines
        if _git_apply(self.top, self.patch, "--check", "-R"):
            outcome = "your unstaged changes were already in place"
        elif _git_apply(self.top, self.patch):
            outcome = "restored your unstaged changes"
        else:
            self.checkout_staged()
            if not _git_apply(self.top, self.patch):
                kept = self.folder / f"unrestored-{int(time.time())}.patch"
                shutil.copyfile(self.patch, kept)
                self.discard()
                return (
                    "an interrupted mendbot run left unstaged changes it could not re-apply; "
                    f"they are saved in {kept} (apply with `git apply {kept}`)"
                )
            outcome = "restored your unstaged changes (over an unfinished fix)"
        kept = self.folder / f"restored-{int(time.time())}.patch"
        shutil.copyfile(self.patch, kept)
        self.discard()
        return (
            f"an interrupted mendbot run had set aside unstaged changes: {outcome} (copy: {kept})"
        )


def _git_apply(top: Path, patch: Path, *extra: str) -> bool:
    result = gitcmd.run(["apply", "--whitespace=nowarn", *extra, str(patch)], ws.place(top))
    return result.returncode == 0 and not result.timed_out


def patch_files(top: Path, patch: str) -> list[str]:
    """Repository-relative paths a patch changes (as git reads it: quoted names included)."""
    result = gitcmd.run(["apply", "--numstat", "-z", "-"], ws.place(top), stdin_text=patch)
    files: list[str] = []
    for record in result.stdout.split("\0"):
        path = record.split("\t", 2)[-1] if "\t" in record else record
        if path and path not in files:
            files.append(path)
    return files


@dataclass(frozen=True)
class HandBack:
    applied: bool
    already: bool = False  # the working tree held the fix already
    conflict_files: tuple[str, ...] = ()
    reason: str = ""


def hand_back(top: Path, folder: Path, index: Path, patch: str) -> HandBack:
    """Apply ``patch`` to the working tree, keeping unstaged changes to its files as
    pre-commit does: set aside, apply the fix, re-apply; on a conflict the user's version
    wins. Files the fix does not touch are not touched at all."""
    files = patch_files(top, patch)
    fix = folder / FIX_PATCH
    fix.write_text(patch, encoding="utf-8")
    aside = SetAside(top, folder)
    try:
        if _git_apply(top, fix, "--check", "-R"):  # an earlier run's fix, not yet staged
            return HandBack(applied=True, already=True)
        if not aside.save(index, files):
            if _git_apply(top, fix):
                return HandBack(applied=True)
            return HandBack(
                applied=False,
                conflict_files=tuple(files),
                reason="the fix does not apply to your working tree",
            )
        try:
            return _swap(top, folder, aside, fix, files)
        finally:
            if aside.patch.exists():  # interrupted half way (Ctrl-C, SIGTERM): undo now
                aside.restore_after_crash()
    finally:
        fix.unlink(missing_ok=True)


def _swap(top: Path, folder: Path, aside: SetAside, fix: Path, files: Sequence[str]) -> HandBack:
    aside.checkout_staged()
    if _git_apply(top, fix) and aside.reapply():
        aside.discard()
        return HandBack(applied=True)
    # the user's changes win: back to their version, without the fix
    aside.checkout_staged()
    if not aside.reapply():
        kept = folder / f"unrestored-{int(time.time())}.patch"
        shutil.copyfile(aside.patch, kept)
        aside.discard()
        raise RepositoryError(
            f"could not re-apply your unstaged changes; they are saved in {kept}",
            hint=f"run `git apply {kept}` to get them back",
        )
    aside.discard()
    return HandBack(
        applied=False,
        conflict_files=tuple(files),
        reason="the fix conflicts with your unstaged changes",
    )
