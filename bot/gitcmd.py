"""Every git command mendbot runs is built here: the argv prefix and the environment.

Code under test can write anything it can reach, the worktree's ``.git`` pointer file
included. mendbot's own git must therefore never run anything a repository's configuration
names, and never carry a secret:

- in a worktree, the git directory and the work tree are given explicitly (``--git-dir``,
  ``--work-tree``), resolved when the worktree was created; the ``.git`` file in the worktree
  is never read;
- the settings through which configuration runs programs (fsmonitor, hooks, ssh, pager,
  external diff, askpass, credential helpers, filters of submodules...) are overridden on the
  command line, where they win over every configuration file;
- no system configuration, no global configuration (mendbot's identity is set in the
  environment). Filter, textconv and merge drivers are defined only in configuration, so an
  attributes file a test writes can name none but the repository's own; diffs are made with
  ``--no-ext-diff --no-textconv``;
- the environment is built from an allow-list: tokens and API keys never reach git. The one
  exception, a push, adds the credentials it needs explicitly (``bot/github/remote.py``).

Reading the user's repository (branch tips, commit messages, run records) needs no process at
all: ``bot/gitread.py`` reads it in-process with GitPython over its pure-Python object database,
from the directories resolved here, and GitPython is given no git executable. So GitPython reads
the user's repository in-process, and every git process mendbot starts goes through this
module.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from bot import proc
from bot.errors import RepositoryError
from bot.models import ProcessResult

IDENTITY = {
    "GIT_AUTHOR_NAME": "mendbot",
    "GIT_AUTHOR_EMAIL": "mendbot@users.noreply.github.com",
    "GIT_COMMITTER_NAME": "mendbot",
    "GIT_COMMITTER_EMAIL": "mendbot@users.noreply.github.com",
}

# Overrides on the command line: they win over every configuration file git reads.
NEUTRAL_CONFIG = (
    "core.fsmonitor=false",
    "core.hooksPath=/dev/null",
    "core.sshCommand=ssh",
    "core.pager=cat",
    "core.askPass=",
    "core.editor=false",
    "core.gitProxy=",
    "core.alternateRefsCommand=",
    "core.untrackedCache=false",
    "credential.helper=",
    "diff.external=",
    "pager.diff=false",
    "protocol.ext.allow=never",
    "submodule.recurse=false",
    "gc.auto=0",
    "maintenance.auto=false",
    "commit.gpgSign=false",
    "tag.gpgSign=false",
    "log.showSignature=false",
)

# What git may see of mendbot's environment; everything else (tokens, API keys, GIT_* set
# by a caller or a hook, proxies with credentials) stays out.
ALLOWED_ENVIRONMENT = ("PATH", "HOME", "LANG", "LANGUAGE", "TZ", "TMPDIR", "USER", "LOGNAME")
ALLOWED_PREFIXES = ("LC_",)


@dataclass(frozen=True)
class Place:
    """Where a git command runs. ``git_dir`` set: a worktree of mendbot's, addressed
    explicitly; unset: the user's own checkout at ``cwd``, found by git as usual."""

    cwd: Path
    git_dir: Path | None = None
    work_tree: Path | None = None


def environment(
    extra: Mapping[str, str] | None = None, *, user_config: bool = False
) -> dict[str, str]:
    """git's environment: the allow-list, no system or global configuration, mendbot's
    identity, no prompts, and ``extra`` (an index file, fixed dates, a push's credentials).

    ``user_config`` keeps the user's system and global configuration: only for reading a
    setting of the user's own checkout (where their hooks live), never in a worktree."""
    env = {
        key: value
        for key, value in os.environ.items()
        if key in ALLOWED_ENVIRONMENT or key.startswith(ALLOWED_PREFIXES)
    }
    env.update(IDENTITY)
    if not user_config:
        env.update({"GIT_CONFIG_NOSYSTEM": "1", "GIT_CONFIG_GLOBAL": os.devnull})
    env.update(
        {
            "GIT_TERMINAL_PROMPT": "0",
            "GIT_OPTIONAL_LOCKS": "0",  # never refresh the user's index as a side effect
            "GIT_NO_REPLACE_OBJECTS": "1",
        }
    )
    env.update(extra or {})
    return env


@functools.cache
def trusted_directories() -> tuple[str, ...]:
    """The ``safe.directory`` entries of the user's global configuration: the one setting of
    it mendbot keeps (without it git refuses a checkout owned by another user, as in CI
    containers). Read once; nothing in it is run."""
    result = proc.run(
        ["git", "config", "--global", "--get-all", "safe.directory"],
        cwd=Path(os.path.abspath(os.sep)),
        env={key: os.environ[key] for key in ("PATH", "HOME") if key in os.environ},
        timeout=30,
    )
    return tuple(line for line in result.stdout.splitlines() if line.strip())


def argv(args: Sequence[str], place: Place, *, user_config: bool = False) -> list[str]:
    """The full command line of ``git args`` at ``place``."""
    prefix = ["git"]
    if place.git_dir is not None:
        prefix.append(f"--git-dir={place.git_dir}")
        prefix.append(f"--work-tree={place.work_tree or place.cwd}")
    if user_config:
        if place.git_dir is not None:
            raise ValueError("a worktree of mendbot's is never read with the user's settings")
        return [*prefix, *args]
    for setting in NEUTRAL_CONFIG:
        prefix += ["-c", setting]
    for directory in trusted_directories():
        prefix += ["-c", f"safe.directory={directory}"]
    return [*prefix, *args]


def run(
    args: Sequence[str],
    place: Place,
    *,
    env: Mapping[str, str] | None = None,
    stdin_text: str | None = None,
    timeout: float = 120.0,
    output_limit: int = proc.DEFAULT_OUTPUT_LIMIT,
    user_config: bool = False,
) -> ProcessResult:
    """Run git; the result as it is (the caller decides what a failure means)."""
    return proc.run(
        argv(args, place, user_config=user_config),
        cwd=place.cwd,
        env=environment(env, user_config=user_config),
        stdin_text=stdin_text,
        timeout=timeout,
        output_limit=output_limit,
    )


def output(
    args: Sequence[str],
    place: Place,
    *,
    env: Mapping[str, str] | None = None,
    stdin_text: str | None = None,
    timeout: float = 120.0,
    check: bool = True,
    output_limit: int = proc.DEFAULT_OUTPUT_LIMIT,
) -> str:
    """git's standard output; a failure is a RepositoryError when ``check``."""
    result = run(
        args, place, env=env, stdin_text=stdin_text, timeout=timeout, output_limit=output_limit
    )
    if check and (result.returncode != 0 or result.timed_out):
        detail = "timed out" if result.timed_out else (result.stderr or result.stdout).strip()
        raise RepositoryError(f"git {' '.join(args[:3])} failed: {detail}")
    return result.stdout
