"""`mendbot hook` (the pre-commit hook) and `mendbot install-hook` (the plain git hook)."""

from __future__ import annotations

import os
import shutil
import signal
import stat
import sys
from pathlib import Path
from types import FrameType

import click
from rich.markup import escape

from bot import gitcmd
from bot.config import Settings, load_settings
from bot.errors import ConfigError, RepositoryError
from bot.hook import (
    DEFAULT_TIME_BUDGET,
    HookReport,
    HookRequest,
    Mode,
    run_hook,
    skip_requested,
)
from bot.interpreter import Interpreter, find_interpreter
from bot.models import RunResult, Trigger
from bot.redaction import RedactingConsole as Console
from bot.redaction import echo

SCRIPT_MARKER = "# mendbot-hook-script"
PYTHON_LINE = 'MENDBOT_PYTHON=""'
HOOK_TYPES = ("pre-commit", "pre-push")

# The script `mendbot install-hook` writes; hooks/pre-commit in the source tree is this text.
GIT_HOOK_SCRIPT = r"""#!/bin/sh
# mendbot-hook-script: a plain git hook for repositories without the pre-commit framework.
# Installed by `mendbot install-hook` (see docs/pre-commit.md). It runs `mendbot hook`: the
# tests related to the commit run, and a failure is repaired in the working tree (the commit
# stops so you can review the fix). Skip it once with `SKIP=mendbot git commit ...` or
# `git commit --no-verify`.
MENDBOT_PYTHON=""

case ",${SKIP:-}," in
    *,mendbot,*) echo "mendbot: skipped (SKIP=$SKIP)"; exit 0 ;;
esac

if [ -n "$MENDBOT_PYTHON" ] && "$MENDBOT_PYTHON" -c "import bot.hook" >/dev/null 2>&1; then
    run_mendbot() { "$MENDBOT_PYTHON" -m bot "$@"; }
elif command -v mendbot >/dev/null 2>&1; then
    run_mendbot() { mendbot "$@"; }
else
    echo "mendbot: not found (install it with \`pip install mendbot\`, or skip this hook" >&2
    echo "once with SKIP=mendbot, or remove $0)" >&2
    exit 1
fi

case "$(basename "$0")" in
    pre-push)
        # stdin: <local ref> <local sha> <remote ref> <remote sha>, one line per pushed ref
        zero=0000000000000000000000000000000000000000
        status=0
        while read -r local_ref local_sha remote_ref remote_sha; do
            [ "$local_sha" = "$zero" ] && continue
            from="$remote_sha"
            if [ "$from" = "$zero" ]; then
                first=$(git rev-list --topo-order --reverse "$local_sha" \
                    --not --remotes="$1" | head -n 1)
                [ -z "$first" ] && continue
                from=$(git rev-parse -q --verify "$first^") || from="$zero"
            fi
            PRE_COMMIT_FROM_REF="$from" PRE_COMMIT_TO_REF="$local_sha" \
                run_mendbot hook </dev/null || status=$?
        done
        exit $status
        ;;
    *)
        run_mendbot hook
        ;;
esac
"""

out = Console(stderr=True, highlight=False, soft_wrap=True)


class HookProgress:
    """Notes always; stages only as the live status line of a terminal (pre-commit captures
    the output, and a failing hook's output should stay short)."""

    def __init__(self, console: Console) -> None:
        from bot.cli import ConsoleProgress

        self.console = console
        self.live = ConsoleProgress(console, quiet=not console.is_terminal)

    def stage(self, name: str, detail: str = "") -> None:
        self.live.stage(name, detail)

    def note(self, message: str) -> None:
        self.console.print(f"mendbot: {message}", markup=False)

    def close(self) -> None:
        self.live.close()


def say(text: str) -> None:
    out.print(text, markup=False)


def _terminate(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt  # run the cleanup (restore set-aside changes, remove the worktree)


def print_report(report: HookReport) -> None:
    for note in report.notes:
        out.print(f"mendbot: note: {note}", markup=False)
    mark = "[green]" if report.exit_code == 0 else "[red]"
    out.print(f"{mark}mendbot:[/] {escape(report.message)}", markup=True)
    for line in report.details:
        out.print(f"  {line}", markup=False)
    if report.tests:
        out.print("related tests:", markup=False)
        for line in report.tests:
            out.print(f"  {line}", markup=False)
    for cause in report.root_causes:
        out.print("root cause:", markup=False)
        for line in cause.splitlines():
            out.print(f"  {line}", markup=False)
    if report.diff:
        out.print(report.diff.rstrip(), markup=False)


@click.command("hook")
@click.argument("files", nargs=-1, type=click.Path(path_type=Path))
@click.option(
    "--project",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("."),
    show_default=True,
    help="the project folder whose tests run (pre-commit runs hooks at the repository top)",
)
@click.option("--check-only", is_flag=True, help="run the related tests; never repair")
@click.option(
    "--report-only",
    is_flag=True,
    help="repair, but change no file: print the fix and the branch that holds it",
)
@click.option(
    "--all",
    "run_all",
    is_flag=True,
    help="run every test (not only the related ones) and record which files each test runs",
)
@click.option(
    "--time-budget",
    type=float,
    default=DEFAULT_TIME_BUDGET,
    show_default=True,
    help="seconds the repair may take",
)
@click.option("--engine", type=click.Choice(["auto", "templates", "llm"]), default=None)
@click.option("--model", default=None, help="LLM spec (default: the configured one, if any)")
@click.option("--llm-url", default=None, help="base URL of the model server")
@click.option("--python", "python", default=None, help="interpreter that runs the tests")
@click.option("--sandbox", type=click.Choice(["local", "docker", "auto"]), default=None)
def hook(
    files: tuple[Path, ...],
    project: Path,
    check_only: bool,
    report_only: bool,
    run_all: bool,
    time_budget: float,
    engine: str | None,
    model: str | None,
    llm_url: str | None,
    python: str | None,
    sandbox: str | None,
) -> None:
    """The pre-commit hook: run the tests related to the staged Python files and, when they
    fail, repair the code and write the verified fix to the working tree (exit 1).

    FILES, when given (pass_filenames: true), are the changed files instead of the staged
    ones. Honours SKIP=mendbot, and PRE_COMMIT_FROM_REF/PRE_COMMIT_TO_REF for pre-push.
    """
    if check_only and report_only:
        raise ConfigError("--check-only and --report-only exclude each other", hint="pick one")
    environ = dict(os.environ)
    if skip_requested(environ):
        out.print(f"mendbot: skipped (SKIP={environ.get('SKIP', '')})", markup=False)
        raise SystemExit(0)
    # git names the index of the commit being made; nothing after this point may use it
    for name in ("GIT_INDEX_FILE", "GIT_DIR", "GIT_WORK_TREE"):
        os.environ.pop(name, None)
    mode = Mode.CHECK_ONLY if check_only else Mode.REPORT_ONLY if report_only else Mode.APPLY
    flags = {
        "time_budget": time_budget,
        "engine": engine,
        "model": model,
        "llm_url": llm_url,
        "python": python,
        "sandbox": sandbox,
    }
    settings = load_settings(project if project.is_dir() else Path("."), flags)
    interpreter: Interpreter | None = None
    if project.is_dir() and settings.sandbox != "docker":
        # a relative path is the project's (the tests run elsewhere: an export of it)
        top = gitcmd.run(["rev-parse", "--show-toplevel"], gitcmd.Place(project), timeout=30)
        interpreter = find_interpreter(
            settings.python,
            project.resolve(),
            Path(top.stdout.strip() or project).resolve(),
            environ,
            base=project.resolve(),
        )
        settings = settings.replace(python=str(Path(interpreter.path).absolute()))
    request = HookRequest(
        project=project,
        mode=mode,
        run_all=run_all,
        files=tuple(str(f) for f in files),
        environ=environ,
    )
    from bot.sandbox.registry import make_sandbox

    signal.signal(signal.SIGTERM, _terminate)
    progress = HookProgress(out)

    def repair(trigger: Trigger, repair_settings: Settings) -> RunResult:
        from bot.cli import run_fix

        return run_fix(trigger, repair_settings, progress.live, interpreter)

    try:
        if interpreter is not None:
            progress.note(interpreter.describe())
        report = run_hook(
            request, settings, make_sandbox(settings, project=project), repair, progress
        )
    finally:
        progress.close()
    print_report(report)
    raise SystemExit(report.exit_code)


def script_text(python: str | None = None) -> str:
    """The plain git hook script; with ``python``, pinned to that interpreter."""
    if python:
        return GIT_HOOK_SCRIPT.replace(PYTHON_LINE, f"MENDBOT_PYTHON={_sh_quote(python)}", 1)
    return GIT_HOOK_SCRIPT


def _sh_quote(text: str) -> str:
    return "'" + text.replace("'", "'\"'\"'") + "'"


def hooks_folder(path: Path) -> Path:
    """The folder git runs hooks from (core.hooksPath respected)."""
    # the user's own settings (a core.hooksPath of theirs decides where git looks)
    result = gitcmd.run(
        ["rev-parse", "--git-path", "hooks"], gitcmd.Place(path), timeout=30, user_config=True
    )
    if result.returncode != 0:
        raise RepositoryError(
            f"{path.resolve()} is not inside a git repository",
            hint="run `mendbot install-hook` in the repository the hook is for",
        )
    folder = Path(result.stdout.strip())
    return folder if folder.is_absolute() else (path / folder).resolve()


@click.command("install-hook")
@click.argument("path", type=click.Path(file_okay=False, path_type=Path), default=Path("."))
@click.option(
    "--hook-type",
    type=click.Choice(HOOK_TYPES),
    default="pre-commit",
    show_default=True,
    help="which git hook runs mendbot",
)
@click.option("--force", is_flag=True, help="replace a different existing hook (kept as a backup)")
@click.option("--print", "print_only", is_flag=True, help="print the script instead")
def install_hook(path: Path, hook_type: str, force: bool, print_only: bool) -> None:
    """Install mendbot as a plain git hook (for repositories without the pre-commit
    framework): `git commit` then runs `mendbot hook`."""
    text = script_text(sys.executable)
    if print_only:
        echo(text, nl=False)
        raise SystemExit(0)
    folder = hooks_folder(path)
    target = folder / hook_type
    if target.exists() or target.is_symlink():
        current = target.read_text(encoding="utf-8", errors="replace") if target.exists() else ""
        if current == text:
            out.print(
                f"mendbot: the {hook_type} hook is already installed at {target}", markup=False
            )
            raise SystemExit(0)
        if "pre-commit.com" in current or "File generated by pre-commit" in current:
            hint = (
                "this repository uses the pre-commit framework: add mendbot to "
                ".pre-commit-config.yaml instead (see docs/pre-commit.md)"
            )
        else:
            hint = "pass --force to replace it (the old hook is kept as a backup)"
        if not force and SCRIPT_MARKER not in current:
            raise ConfigError(f"{target} already exists and is not mendbot's hook", hint=hint)
        if SCRIPT_MARKER not in current:
            backup = _backup_name(target)
            shutil.move(target, backup)
            say(f"mendbot: moved the existing hook to {backup}")
    folder.mkdir(parents=True, exist_ok=True)
    target.write_text(text, encoding="utf-8")
    target.chmod(target.stat().st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)
    say(f"mendbot: installed the {hook_type} hook at {target}")
    out.print(
        "  skip it once with SKIP=mendbot git commit ... (or git commit --no-verify)", markup=False
    )


def _backup_name(target: Path) -> Path:
    candidate = target.with_name(f"{target.name}.mendbot-backup")
    number = 1
    while candidate.exists():
        number += 1
        candidate = target.with_name(f"{target.name}.mendbot-backup.{number}")
    return candidate
