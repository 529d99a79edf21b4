"""The git side of a run: snapshot the base, work in a worktree on a branch, commit rounds,
roll back regressions under refs/mendbot/rejected/, and hand the result back.

The user's checkout is never touched: the base snapshot comes from `git stash create` (which
writes objects only) and all edits happen in a worktree in a temporary folder.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import secrets
import shutil
import tempfile
import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from bot import gitcmd, gitread, proc
from bot.errors import RepositoryError
from bot.ignored import bring_ignored, copy_ignored
from bot.leftovers import (
    FINAL_PREFIX,
    OWNER_FILE,
    WORKTREE_PREFIX,
    clean_leftovers,
    owner_record,
    repository_lock,
)
from bot.models import Trigger, Workspace

IDENTITY = gitcmd.IDENTITY
REJECTED_PREFIX = "refs/mendbot/rejected"
RUNS_PREFIX = "refs/mendbot/runs"
ROUNDS_READ_LIMIT = 1000  # commits read below a branch's tip looking for its base

# mendbot's own worktrees: their folder -> where git finds their metadata. Filled when a
# worktree is created (before any test runs), so that no git command mendbot runs in one
# ever reads the ``.git`` file a test could have rewritten.
_WORKTREES: dict[str, gitcmd.Place] = {}
_REPOSITORIES: dict[str, Repository] = {}  # the same folders -> the user's repository
_OPENED: dict[str, Repository] = {}  # the user's top levels -> their repository


def git_env() -> dict[str, str]:
    """git's environment (``bot.gitcmd.environment``): allow-listed, no secrets."""
    return gitcmd.environment()


def place(cwd: Path) -> gitcmd.Place:
    """Where a git command at ``cwd`` runs: inside a worktree of mendbot's, with its git
    directory and work tree given explicitly; elsewhere (the user's checkout) as git finds it."""
    known_now = list(_WORKTREES.items())  # a copy: the final runs' thread adds and removes
    for key in {os.path.abspath(cwd), str(cwd.resolve())}:
        for root, known in known_now:
            if key == root or key.startswith(root + os.sep):
                return gitcmd.Place(cwd, known.git_dir, known.work_tree)
    return gitcmd.Place(cwd)


def run_git(
    args: Sequence[str],
    cwd: Path,
    *,
    check: bool = True,
    env: Mapping[str, str] | None = None,
    stdin_text: str | None = None,
    timeout: float = 120.0,
    output_limit: int = proc.DEFAULT_OUTPUT_LIMIT,
) -> str:
    """git's output at ``cwd`` (see ``place``); a failure is a RepositoryError when ``check``."""
    return gitcmd.output(
        args,
        place(cwd),
        env=env,
        stdin_text=stdin_text,
        check=check,
        timeout=timeout,
        output_limit=output_limit,
    )


@dataclass(frozen=True)
class Repository:
    """The user's repository: its top level, its git directory and the common one."""

    top: Path
    git_dir: Path
    common_dir: Path


def open_repository(path: Path) -> tuple[Repository, Path, str]:
    """The repository that holds ``path``, its top level and the project subfolder."""
    if not path.exists():
        raise RepositoryError(f"{path} does not exist", hint="give the folder of a Python project")
    if not path.is_dir():
        raise RepositoryError(f"{path} is not a folder", hint="give the folder of a Python project")
    found = gitcmd.run(
        ["rev-parse", "--is-bare-repository", "--absolute-git-dir", "--git-common-dir"],
        gitcmd.Place(path),
    )
    lines = found.stdout.splitlines()
    if found.returncode != 0 or len(lines) != 3:
        raise RepositoryError(
            f"{path.resolve()} is not inside a git repository",
            hint="run `git init && git add -A && git commit -m initial` first; mendbot records "
            "every repair round as a git commit",
        )
    if lines[0] == "true":
        raise RepositoryError(f"{path} is a bare repository", hint="run mendbot in a checkout")
    git_dir = Path(lines[1])
    common = Path(lines[2])
    common = common if common.is_absolute() else (path / common)
    top_text = run_git(["rev-parse", "--show-toplevel"], path, check=False).strip()
    if not top_text:
        raise RepositoryError(f"{path} is not in a work tree", hint="run mendbot in a checkout")
    top = Path(top_text).resolve()
    if not run_git(["rev-parse", "-q", "--verify", "HEAD^{commit}"], top, check=False).strip():
        raise RepositoryError(
            f"the repository at {top} has no commits yet",
            hint="commit your project once (`git add -A && git commit -m initial`)",
        )
    subdir = path.resolve().relative_to(top).as_posix()
    repository = Repository(top=top, git_dir=git_dir.resolve(), common_dir=common.resolve())
    _OPENED[str(top)] = repository
    return repository, top, "" if subdir == "." else subdir


def check_writable(repository: Repository) -> None:
    """A run writes objects, refs and a worktree's metadata into the repository's git folder
    and its worktree into the temporary folder: say which one refuses, before anything."""
    for folder, what in (
        (repository.common_dir, "the repository's git folder"),
        (Path(tempfile.gettempdir()), "the temporary folder"),
    ):
        try:
            probe = folder / "mendbot" if folder == repository.common_dir else folder
            probe.mkdir(exist_ok=True)
            handle, name = tempfile.mkstemp(prefix=".mendbot-probe-", dir=probe)
            os.close(handle)
            os.unlink(name)
        except OSError as error:
            raise RepositoryError(
                f"{what} {folder} is not writable ({error.strerror or error})",
                hint="mendbot records every repair round as a git commit and works in a "
                "worktree: run it where you can write (a clone of your own, or make "
                f"{folder} writable); nothing was changed",
            ) from None


def new_run_id() -> str:
    return time.strftime("%Y%m%dT%H%M%S", time.gmtime()) + "-" + secrets.token_hex(3)


def snapshot_base(top: Path, base_ref: str, include_uncommitted: bool) -> str:
    """The commit a run starts from: ``base_ref`` plus uncommitted changes to tracked files.

    The snapshot commit is deterministic (mendbot's identity, the date of the commit it builds
    on): the same uncommitted state gives the same commit, so the same working branch."""
    head = run_git(["rev-parse", "-q", "--verify", f"{base_ref}^{{commit}}"], top, check=False)
    head = head.strip()
    if not head:
        raise RepositoryError(f"unknown revision {base_ref!r}", hint="give a commit, branch or tag")
    if not include_uncommitted or base_ref != "HEAD":
        return head
    # Stage the working tree's tracked files into a throwaway copy of the index: the user's
    # index file is never written, not even its cached stat data (`git stash create` would).
    index_path = Path(run_git(["rev-parse", "--git-path", "index"], top).strip())
    if not index_path.is_absolute():
        index_path = top / index_path
    with tempfile.TemporaryDirectory(prefix="mendbot-index-") as scratch:
        copy = Path(scratch) / "index"
        if index_path.exists():
            shutil.copyfile(index_path, copy)
        env = {"GIT_INDEX_FILE": str(copy)}
        run_git(["add", "-u", "--", "."], top, env=env)
        tree = run_git(["write-tree"], top, env=env).strip()
    if tree == run_git(["rev-parse", f"{head}^{{tree}}"], top).strip():
        return head
    message = (
        "mendbot: snapshot of uncommitted changes\n\n"
        "The tracked files as they were in the working tree when mendbot started."
    )
    return commit_tree(top, tree, [head], message, date_of=head)


def commit_tree(top: Path, tree: str, parents: Sequence[str], message: str, date_of: str) -> str:
    """``git commit-tree`` with mendbot's identity and the date of commit ``date_of``: the
    same tree, parents and message always give the same commit."""
    date = run_git(["show", "-s", "--format=%ct", date_of], top).strip()
    fixed = {"GIT_AUTHOR_DATE": f"@{date} +0000", "GIT_COMMITTER_DATE": f"@{date} +0000"}
    arguments = ["commit-tree", tree]
    for parent in parents:
        arguments += ["-p", parent]
    return run_git([*arguments, "-m", message], top, env=fixed).strip()


def reader(top: Path) -> gitread.Reader:
    """GitPython's reader of the user's repository that holds ``top`` (a worktree of mendbot's
    stands for the user's repository recorded when it was made), from the directories gitcmd
    resolved: reading refs, commits and blobs starts no process."""
    return gitread.open_reader(*_git_directories(top))


def _git_directories(top: Path) -> tuple[Path, Path]:
    repository = _OPENED.get(str(top)) or repository_of(top)
    return repository.git_dir, repository.common_dir


def branch_tip(top: Path, name: str) -> str:
    """The commit branch ``name`` points to in the user's repository, "" when there is none."""
    return gitread.commit_of(reader(top), f"refs/heads/{name}")


def is_ancestor(top: Path, older: str, newer: str) -> bool:
    result = gitcmd.run(["merge-base", "--is-ancestor", older, newer], place(top))
    return result.returncode == 0


def choose_branch(top: Path, wanted: str | None, base: str) -> tuple[str, bool]:
    """The working branch: reuse one that already builds on ``base``, else a fresh name."""
    name = wanted or f"mendbot/fix-{base[:8]}"
    candidates = [name] + [f"{name}-{n}" for n in range(2, 100)]
    for candidate in candidates:
        tip = branch_tip(top, candidate)
        if not tip:
            return candidate, False
        if is_ancestor(top, base, tip):
            return candidate, True
        if wanted:  # a forced name (issue/PR branch): reuse it, it will be reset to base
            return candidate, True
    raise RepositoryError(f"too many mendbot branches named {name}-N", hint="delete old ones")


def prune(top: Path) -> None:
    """Forget worktrees whose folders are gone (a run that was killed)."""
    run_git(["worktree", "prune"], top, check=False)


def _admin_dir(repository: Repository, worktree: Path) -> Path:
    """The git directory of a worktree just added, found from the repository's side (its
    ``worktrees/*/gitdir`` records), never from the ``.git`` file inside the worktree."""
    wanted = {os.path.abspath(worktree / ".git"), str((worktree / ".git").resolve())}
    for record in sorted((repository.common_dir / "worktrees").glob("*/gitdir")):
        pointed = record.read_text(encoding="utf-8").strip()
        if pointed in wanted or os.path.abspath(pointed) in wanted:
            return record.parent
    raise RepositoryError(f"git did not record the worktree {worktree}")


@contextlib.contextmanager
def worktree_folder(repository: Repository, prefix: str) -> Iterator[Path]:
    """A temporary folder for a worktree, marked with its owner (this process) so that a later
    run can tell a live run's worktree from one a killed run left; removed on the way out,
    together with git's record of the worktree."""
    folder = Path(tempfile.mkdtemp(prefix=prefix))
    try:
        owner = {**owner_record(), "repository": str(repository.common_dir)}
        (folder / OWNER_FILE).write_text(json.dumps(owner), encoding="utf-8")
        yield folder
    finally:
        prefixes = (str(folder) + os.sep, str(folder.resolve()) + os.sep)
        for key in [k for k in list(_WORKTREES) if k.startswith(prefixes)]:
            del _WORKTREES[key]
            _REPOSITORIES.pop(key, None)
        shutil.rmtree(folder, ignore_errors=True)
        prune(repository.top)


def add_worktree(repository: Repository, worktree: Path, args: Sequence[str]) -> gitcmd.Place:
    """``git worktree add`` (``args`` after the path's place), registered for explicit use."""
    run_git(["worktree", "add", *args[:-1], str(worktree), *args[-1:]], repository.top)
    known = gitcmd.Place(worktree, _admin_dir(repository, worktree), worktree)
    for key in {os.path.abspath(worktree), str(worktree.resolve())}:
        _WORKTREES[key] = known
        _REPOSITORIES[key] = repository
    return known


def repository_of(path: Path) -> Repository:
    """The user's repository: of a worktree of mendbot's as recorded when it was made (never
    from its ``.git`` file), else the one that holds ``path``."""
    for key in {os.path.abspath(path), str(path.resolve())}:
        if key in _REPOSITORIES:
            return _REPOSITORIES[key]
    return open_repository(path)[0]


@contextlib.contextmanager
def open_workspace(trigger: Trigger, run_id: str | None = None) -> Iterator[Workspace]:
    """Create the worktree and branch; always remove the worktree again, keep the branch.

    The run holds the repository's lock throughout, and first cleans what an interrupted run
    left behind."""
    repository, top, subdir = open_repository(trigger.repo_path)
    check_writable(repository)
    with repository_lock(repository):
        notes = [note for note in [clean_leftovers(repository)] if note]
        base = snapshot_base(top, trigger.base_ref, trigger.include_uncommitted)
        branch, reused = choose_branch(top, trigger.branch_name, base)
        run_id = run_id or new_run_id()
        with worktree_folder(repository, WORKTREE_PREFIX) as folder:
            worktree = folder / (top.name or "repo")
            if reused:
                add_worktree(repository, worktree, ["--force", branch])
                if trigger.branch_name and not is_ancestor(top, base, branch_tip(top, branch)):
                    run_git(["reset", "-q", "--hard", base], worktree)
            else:
                add_worktree(repository, worktree, ["-b", branch, base])
            brought, ignored = copy_ignored(top, worktree)
            notes += [brought] if brought else []
            head = run_git(["rev-parse", "HEAD"], top).strip()
            project_dir = worktree / subdir if subdir else worktree
            if not project_dir.is_dir():
                raise RepositoryError(
                    f"{subdir} is not in the committed tree",
                    hint="commit the project folder (mendbot works from tracked files)",
                )
            yield Workspace(
                repo_root=top,
                worktree=worktree,
                project_dir=project_dir,
                project_subdir=subdir,
                base_commit=base,
                head_commit=head,
                branch=branch,
                run_id=run_id,
                reused_branch=reused,
                notes=tuple(notes),
                ignored=ignored,
            )


def current_commit(workspace: Workspace) -> str:
    return run_git(["rev-parse", "HEAD"], workspace.worktree).strip()


def tree_id(workspace: Workspace) -> str:
    """The id of the tree HEAD holds: what a clean worktree contains."""
    return run_git(["rev-parse", "HEAD^{tree}"], workspace.worktree).strip()


def write_files(workspace: Workspace, files: dict[str, str]) -> None:
    for relative, text in files.items():
        path = workspace.project_dir / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")


def commit_round(workspace: Workspace, files: Sequence[str], message: str) -> str:
    """Stage exactly ``files`` (project-relative) in the worktree and commit them."""
    paths = [str(workspace.project_dir / f) for f in files]
    run_git(["add", "--", *paths], workspace.worktree)
    run_git(["commit", "--no-verify", "-q", "-m", message], workspace.worktree)
    return current_commit(workspace)


def rollback(workspace: Workspace, to_commit: str, round_number: int) -> str:
    """Move the branch back to ``to_commit``; the rejected commit stays under a ref."""
    rejected = current_commit(workspace)
    ref = f"{REJECTED_PREFIX}/{workspace.run_id}/{round_number}"
    run_git(["update-ref", ref, rejected], workspace.worktree)
    run_git(["reset", "-q", "--hard", to_commit], workspace.worktree)
    return ref


def restore_clean(workspace: Workspace) -> None:
    """Throw away anything the tests wrote into the worktree."""
    run_git(["reset", "-q", "--hard"], workspace.worktree, check=False)
    run_git(["clean", "-fdq", "-e", "__pycache__"], workspace.worktree, check=False)


def diff(workspace: Workspace, base: str, head: str) -> str:
    return patch_between(workspace.worktree, base, head)


def patch_between(cwd: Path, base: str, head: str) -> str:
    """The patch from ``base`` to ``head``, as `git apply` takes it from the top level."""
    return run_git(["diff", "--no-color", "--no-ext-diff", "--no-textconv", base, head], cwd)


def delete_branch(top: Path, branch: str) -> None:
    run_git(["branch", "-D", branch], top, check=False)


def apply_to_checkout(top: Path, patch: str) -> bool:
    """Apply the verified patch to the user's working tree (never the index). False when the
    working tree already holds it."""
    if not patch.strip():
        return False
    check = gitcmd.run(["apply", "--check", "-"], place(top), stdin_text=patch, timeout=60)
    if check.returncode != 0:
        reverse = ["apply", "--check", "--reverse", "-"]
        if gitcmd.run(reverse, place(top), stdin_text=patch, timeout=60).returncode == 0:
            return False
        raise RepositoryError(
            "the fix does not apply to your working tree: " + check.stderr.strip(),
            hint="your files changed since the run started; merge the branch instead",
        )
    result = gitcmd.run(["apply", "-"], place(top), stdin_text=patch, timeout=60)
    if result.returncode != 0:
        raise RepositoryError("git apply failed: " + result.stderr.strip())
    return True


def with_branch(workspace: Workspace, branch: str) -> Workspace:
    return replace(workspace, branch=branch)


def index_file(top: Path, environ: Mapping[str, str] | None = None) -> Path:
    """The index a commit is being made from: ``GIT_INDEX_FILE`` when git set it for a hook
    (``git commit -a`` and ``git commit <paths>`` use a temporary one), else the repository's."""
    named = (environ if environ is not None else os.environ).get("GIT_INDEX_FILE")
    if named:
        path = Path(named)
        return path if path.is_absolute() else top / path
    path = Path(run_git(["rev-parse", "--git-path", "index"], top).strip())
    return path if path.is_absolute() else top / path


def snapshot_index(top: Path, index: Path, parent: str | None, message: str) -> str:
    """A commit of the tree staged in ``index``, made from a copy of it: the index itself is
    never written (``git write-tree`` on it would rewrite its cache)."""
    with tempfile.TemporaryDirectory(prefix="mendbot-index-") as scratch:
        copy = Path(scratch) / "index"
        if index.exists():
            shutil.copyfile(index, copy)
        tree = run_git(["write-tree"], top, env={"GIT_INDEX_FILE": str(copy)}).strip()
    parents = ["-p", parent] if parent else []
    return run_git(["commit-tree", tree, *parents, "-m", message], top).strip()


def export_tree(top: Path, commit: str, folder: Path) -> None:
    """Write the files of ``commit`` into ``folder`` (a plain folder: no worktree to register,
    nothing left in the repository when the process is killed)."""
    folder.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="mendbot-index-") as scratch:
        env = {"GIT_INDEX_FILE": str(Path(scratch) / "index")}
        run_git(["read-tree", commit], top, env=env)
        run_git(["checkout-index", "-a", "-f", f"--prefix={folder}/"], top, env=env)


# -- what code under test must not change ----------------------------------------------------
def _metadata_files(known: gitcmd.Place, common: Path) -> list[Path]:
    """The files through which a git directory decides what git reads or runs."""
    assert known.git_dir is not None
    admin = known.git_dir
    return [
        (known.work_tree or known.cwd) / ".git",
        admin / "commondir",
        admin / "gitdir",
        admin / "config.worktree",
        admin / "HEAD",
        common / "config",
        common / "config.worktree",
        common / "commondir",
        common / "objects" / "info" / "alternates",
        common / "info" / "attributes",
        common / "info" / "grafts",
        common / "shallow",
    ]


def _read_bytes(path: Path) -> bytes | None:
    try:
        return (
            path.read_bytes()
            if not path.is_symlink()
            else b"symlink:" + str(path.readlink()).encode()
        )
    except OSError:
        return None


class MetadataGuard:
    """What a worktree's git metadata looked like when mendbot last left it. ``check`` after a
    test run says what the tests changed (the ``.git`` pointer file, the worktree's or the
    repository's configuration, alternates...) and puts it back."""

    def __init__(self, worktree: Path) -> None:
        known = place(worktree)
        if known.git_dir is None:
            raise RepositoryError(f"{worktree} is not a worktree of mendbot's")
        common_text = _read_bytes(known.git_dir / "commondir") or b"."
        common = (known.git_dir / common_text.decode().strip()).resolve()
        self.files = _metadata_files(known, common)
        self.saved = {path: _read_bytes(path) for path in self.files}

    def refresh(self) -> None:
        """Take the present state as the expected one (after mendbot's own git work)."""
        self.saved = {path: _read_bytes(path) for path in self.files}

    def check(self) -> list[str]:
        """The metadata files the tests changed (restored as they were); [] when none."""
        changed: list[str] = []
        for path in self.files:
            if _read_bytes(path) == self.saved[path]:
                continue
            changed.append(str(path))
            if path.is_symlink() or path.is_file():
                path.unlink()
            elif path.is_dir():
                shutil.rmtree(path, ignore_errors=True)
            content = self.saved[path]
            if content is not None:
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_bytes(content)
        return changed


def tampering_message(changed: Sequence[str]) -> str:
    shown = ", ".join(changed[:3]) + (" ..." if len(changed) > 3 else "")
    return f"the tests changed git metadata ({shown}); it was restored"


# -- checking what a run claims ---------------------------------------------------------------
def verify_claim(top: Path, branch: str, head: str, base: str) -> None:
    """In the user's repository (from its own path, not the worktree): ``branch`` exists,
    points at ``head``, and ``head`` builds on ``base``. Anything else is an error."""
    if not branch:
        return
    tip = branch_tip(top, branch)
    if tip != head:
        raise RepositoryError(
            f"the run claims {branch} at {head[:12]}, but in {top} it is "
            + (f"at {tip[:12]}" if tip else "missing"),
            hint="mendbot reports nothing it cannot find in your repository; run it again",
        )
    if not is_ancestor(top, base, head):
        raise RepositoryError(
            f"the commit {head[:12]} on {branch} does not build on the base {base[:12]}",
            hint="mendbot reports nothing it cannot find in your repository; run it again",
        )


_TRAILER = re.compile(r"^(Mendbot-[A-Za-z]+):\s*(.+)$", re.MULTILINE)


def round_base(top: Path, tip: str) -> str:
    """The commit a mendbot branch builds on: the first commit below ``tip`` (following first
    parents) that is not a mendbot round."""
    for commit in gitread.first_parents(reader(top), tip, limit=1000):
        if "Mendbot-Round" not in dict(_TRAILER.findall(commit.message)):
            return commit.sha
    raise RepositoryError(f"{tip[:12]} holds no commit below its mendbot rounds")


def earlier_fix(workspace: Workspace) -> str:
    """The id of the run whose verified fix the reused branch already holds: every commit
    after the base is a mendbot round (with its trailers) and that run's record says fixed.
    "" when the branch holds no such fix."""
    if not workspace.reused_branch:
        return ""
    top, base = workspace.repo_root, workspace.base_commit
    tip = branch_tip(top, workspace.branch)
    if not tip or tip == base:
        return ""
    repository = reader(top)
    runs: list[str] = []
    # Rounds form a line of single-parent commits from the tip down to the base.
    for commit in gitread.first_parents(repository, tip, limit=ROUNDS_READ_LIMIT):
        if commit.sha == base:
            break
        trailers = dict(_TRAILER.findall(commit.message))
        if len(commit.parents) != 1 or "Mendbot-Round" not in trailers:
            return ""
        if "Mendbot-Run" not in trailers:
            return ""
        runs.append(trailers["Mendbot-Run"].strip())
    else:
        return ""
    latest = runs[0]  # newest first
    record = gitread.file_at(repository, f"{RUNS_PREFIX}/{latest}", "run.json")
    try:
        meta = json.loads(record) if record is not None else {}
    except ValueError:
        return ""
    fixed = meta.get("status") == "fixed" and meta.get("head") == tip
    return latest if fixed else ""


# -- a second checkout of a commit, for runs beside the worktree's -----------------------------
@contextlib.contextmanager
def checkout(source: Path, commit: str) -> Iterator[tuple[Path, MetadataGuard]]:
    """A detached worktree of ``commit`` in the repository of ``source`` (a worktree of
    mendbot's or the user's checkout), with a ``.git`` as the run's own worktree has and the
    user's ignored files; removed on the way out."""
    repository = repository_of(source)
    top = repository.top
    with worktree_folder(repository, FINAL_PREFIX) as folder:
        tree = folder / (top.name or "repo")
        add_worktree(repository, tree, ["--detach", commit])
        bring_ignored(top, tree)
        yield tree, MetadataGuard(tree)
