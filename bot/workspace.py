"""The git side of a run: snapshot the base, work in a worktree on a branch, commit rounds,
roll back regressions under refs/mendbot/rejected/, and hand the result back.

The user's checkout is never touched: the base snapshot comes from `git stash create` (which
writes objects only) and all edits happen in a worktree in a temporary folder.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import shutil
import tempfile
import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import replace
from pathlib import Path

import git

from bot import proc
from bot.errors import RepositoryError
from bot.models import Trigger, Workspace

IDENTITY = {
    "GIT_AUTHOR_NAME": "mendbot",
    "GIT_AUTHOR_EMAIL": "mendbot@users.noreply.github.com",
    "GIT_COMMITTER_NAME": "mendbot",
    "GIT_COMMITTER_EMAIL": "mendbot@users.noreply.github.com",
}
REJECTED_PREFIX = "refs/mendbot/rejected"
RUNS_PREFIX = "refs/mendbot/runs"


def git_env() -> dict[str, str]:
    env = dict(os.environ)
    env.update(IDENTITY)
    env["GIT_TERMINAL_PROMPT"] = "0"
    env["GIT_OPTIONAL_LOCKS"] = "0"  # never refresh the user's index as a side effect
    # hooks of the user's repository must not run on mendbot's own commits
    env.pop("GIT_INDEX_FILE", None)
    env.pop("GIT_DIR", None)
    env.pop("GIT_WORK_TREE", None)
    return env


def run_git(
    args: Sequence[str], cwd: Path, *, check: bool = True, env: dict[str, str] | None = None
) -> str:
    # the user's hooks (post-checkout, pre-commit, ...) never run on mendbot's own git work
    result = proc.run(
        ["git", "-c", "core.hooksPath=/dev/null", *args],
        cwd=cwd,
        env={**git_env(), **(env or {})},
        timeout=120,
    )
    if check and (result.returncode != 0 or result.timed_out):
        detail = (result.stderr or result.stdout).strip()
        raise RepositoryError(f"git {' '.join(args[:3])} failed: {detail}")
    return result.stdout


def open_repository(path: Path) -> tuple[git.Repo, Path, str]:
    """The repository that holds ``path``, its top level and the project subfolder."""
    if not path.exists():
        raise RepositoryError(f"{path} does not exist", hint="give the folder of a Python project")
    if not path.is_dir():
        raise RepositoryError(f"{path} is not a folder", hint="give the folder of a Python project")
    try:
        repo = git.Repo(path, search_parent_directories=True)
    except (git.InvalidGitRepositoryError, git.NoSuchPathError):
        raise RepositoryError(
            f"{path.resolve()} is not inside a git repository",
            hint="run `git init && git add -A && git commit -m initial` first; mendbot records "
            "every repair round as a git commit",
        ) from None
    if repo.bare or repo.working_tree_dir is None:
        raise RepositoryError(f"{path} is a bare repository", hint="run mendbot in a checkout")
    top = Path(repo.working_tree_dir).resolve()
    if not repo.head.is_valid():
        raise RepositoryError(
            f"the repository at {top} has no commits yet",
            hint="commit your project once (`git add -A && git commit -m initial`)",
        ) from None
    subdir = path.resolve().relative_to(top).as_posix()
    return repo, top, "" if subdir == "." else subdir


def new_run_id() -> str:
    return time.strftime("%Y%m%dT%H%M%S", time.gmtime()) + "-" + secrets.token_hex(3)


def snapshot_base(repo: git.Repo, top: Path, base_ref: str, include_uncommitted: bool) -> str:
    """The commit a run starts from: ``base_ref`` plus uncommitted changes to tracked files."""
    try:
        head = repo.commit(base_ref).hexsha
    except (git.BadName, ValueError):
        raise RepositoryError(
            f"unknown revision {base_ref!r}", hint="give a commit, branch or tag"
        ) from None
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
    if tree == repo.commit(head).tree.hexsha:
        return head
    message = (
        "mendbot: snapshot of uncommitted changes\n\n"
        "The tracked files as they were in the working tree when mendbot started."
    )
    return run_git(["commit-tree", tree, "-p", head, "-m", message], top).strip()


def _branch_exists(repo: git.Repo, name: str) -> bool:
    return any(head.name == name for head in repo.heads)


def choose_branch(repo: git.Repo, wanted: str | None, base: str) -> tuple[str, bool]:
    """The working branch: reuse one that already builds on ``base``, else a fresh name."""
    name = wanted or f"mendbot/fix-{base[:8]}"
    candidates = [name] + [f"{name}-{n}" for n in range(2, 100)]
    for candidate in candidates:
        if not _branch_exists(repo, candidate):
            return candidate, False
        tip = repo.heads[candidate].commit.hexsha
        if repo.is_ancestor(repo.commit(base), repo.commit(tip)):
            return candidate, True
        if wanted:  # a forced name (issue/PR branch): reuse it, it will be reset to base
            return candidate, True
    raise RepositoryError(f"too many mendbot branches named {name}-N", hint="delete old ones")


def prune(top: Path) -> None:
    """Forget worktrees whose folders are gone (a run that was killed)."""
    run_git(["worktree", "prune"], top, check=False)


@contextlib.contextmanager
def open_workspace(trigger: Trigger, run_id: str | None = None) -> Iterator[Workspace]:
    """Create the worktree and branch; always remove the worktree again, keep the branch."""
    repo, top, subdir = open_repository(trigger.repo_path)
    prune(top)
    base = snapshot_base(repo, top, trigger.base_ref, trigger.include_uncommitted)
    branch, reused = choose_branch(repo, trigger.branch_name, base)
    run_id = run_id or new_run_id()
    folder = Path(tempfile.mkdtemp(prefix="mendbot-wt-"))
    worktree = folder / (top.name or "repo")
    try:
        if (
            reused
            and trigger.branch_name
            and not repo.is_ancestor(repo.commit(base), repo.heads[branch].commit)
        ):
            run_git(["worktree", "add", "--force", str(worktree), branch], top)
            run_git(["reset", "--hard", base], worktree)
        elif reused:
            run_git(["worktree", "add", "--force", str(worktree), branch], top)
        else:
            run_git(["worktree", "add", "-b", branch, str(worktree), base], top)
        head = repo.head.commit.hexsha
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
        )
    finally:
        run_git(["worktree", "remove", "--force", str(worktree)], top, check=False)
        shutil.rmtree(folder, ignore_errors=True)
        prune(top)


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
    return run_git(["diff", "--no-color", f"{base}..{head}"], workspace.worktree)


def delete_branch(top: Path, branch: str) -> None:
    run_git(["branch", "-D", branch], top, check=False)


def apply_to_checkout(top: Path, patch: str) -> None:
    """Apply the verified patch to the user's working tree (never the index)."""
    if not patch.strip():
        return
    check = proc.run(
        ["git", "apply", "--check", "-"], cwd=top, env=git_env(), stdin_text=patch, timeout=60
    )
    if check.returncode != 0:
        raise RepositoryError(
            "the fix does not apply to your working tree: " + check.stderr.strip(),
            hint="your files changed since the run started; merge the branch instead",
        )
    result = proc.run(["git", "apply", "-"], cwd=top, env=git_env(), stdin_text=patch, timeout=60)
    if result.returncode != 0:
        raise RepositoryError("git apply failed: " + result.stderr.strip())


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
