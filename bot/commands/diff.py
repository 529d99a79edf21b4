"""`mendbot diff [RUN|BRANCH]`: the final patch of a run, on standard output, for `git apply`.

Progress and messages of `mendbot fix` go to standard error; this is how a patch becomes a
file: ``mendbot diff > fix.diff`` (or ``mendbot fix --patch fix.diff``).
"""

from __future__ import annotations

import sys
from pathlib import Path

import click

from bot.commands.history import REPO_OPTION
from bot.errors import ConfigError
from bot.history import list_runs, load_run, repository_top
from bot.workspace import branch_tip, patch_between, round_base, run_git


def _from_run(top: Path, spec: str) -> tuple[str, str]:
    record = load_run(top, spec)
    base, head = str(record.meta.get("base") or ""), str(record.meta.get("head") or "")
    if not base or not head:
        raise ConfigError(
            f"run {record.run_id} recorded no commits",
            hint="it ended before its worktree was made; `mendbot show` tells its story",
        )
    return base, head


def _latest_with_changes(top: Path) -> tuple[str, str]:
    for summary in reversed(list_runs(top)):
        base, head = str(summary.meta.get("base") or ""), str(summary.meta.get("head") or "")
        if base and head and base != head and summary.meta.get("kept"):
            return base, head
    raise ConfigError(
        "no mendbot run of this repository changed anything",
        hint="run `mendbot fix` first; `mendbot runs` lists the runs",
    )


@click.command("diff")
@click.argument("spec", required=False, default="")
@REPO_OPTION
def diff(spec: str, repo: Path) -> None:
    """Print the final patch of a run (an id, a unique prefix, `last`) or of a mendbot branch
    (default: the latest run that changed something) on standard output."""
    top = repository_top(repo)
    if not spec:
        base, head = _latest_with_changes(top)
    elif branch_tip(top, spec):
        head = branch_tip(top, spec)
        base = round_base(top, head)
    else:
        base, head = _from_run(top, spec)
    for commit in (base, head):
        if not run_git(["cat-file", "-t", commit], top, check=False).strip():
            raise ConfigError(
                f"commit {commit[:12]} is not in this repository",
                hint="fetch the run's commits: git fetch origin 'refs/mendbot/*:refs/mendbot/*'",
            )
    text = patch_between(top, base, head)
    if not text:
        raise ConfigError(f"{spec or 'the run'} changes nothing ({base[:12]}..{head[:12]})")
    sys.stdout.write(text)
