"""The `mendbot` command line: builds Settings and adapters, calls the pipeline, prints.

No repair logic lives here. One handler, ``main``, owns printing errors and exit codes.
"""

from __future__ import annotations

import dataclasses
import importlib
import json
import os
import signal
import sys
import tempfile
import threading
import time
import traceback
import warnings
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import click
from rich.markup import escape

from bot import __version__
from bot.config import Settings, load_settings
from bot.deadline import Deadline
from bot.engines.base import Engine
from bot.engines.templates import TemplateEngine
from bot.errors import ConfigError, ExitCode, MendbotError
from bot.interpreter import Interpreter, find_interpreter
from bot.models import RunResult, RunStatus, Trigger, TriggerKind
from bot.pipeline import Ports, repair
from bot.redaction import RedactingConsole as Console
from bot.redaction import echo, known_secrets, redact
from bot.report.summary import result_to_json
from bot.trace import Trace

stderr = Console(stderr=True, highlight=False, soft_wrap=True)


class ConsoleProgress:
    """Progress on stderr: a live status line on a terminal, plain lines otherwise.

    A stage that takes long (a big suite's baseline, a proof) is never silent: every
    ``HEARTBEAT`` seconds without a line, the current stage is said again with its time so far.
    """

    HEARTBEAT = 5.0

    def __init__(self, console: Console, quiet: bool = False) -> None:
        self.console = console
        self.quiet = quiet
        self.status: Any = None
        self._lock = threading.Lock()
        self._text = "starting"
        self._stage_started = self._said = time.monotonic()
        self._stopped = threading.Event()
        self._beat: threading.Thread | None = None
        if quiet:
            return
        if console.is_terminal:
            self.status = console.status("mendbot: starting")
            self.status.start()
        self._beat = threading.Thread(target=self._heartbeat, name="mendbot-progress", daemon=True)
        self._beat.start()

    def _heartbeat(self) -> None:
        while not self._stopped.wait(1.0):
            with self._lock:
                now = time.monotonic()
                if now - self._said < self.HEARTBEAT:
                    continue
                line = f"mendbot: {self._text} ({now - self._stage_started:.0f}s so far)"
                if self.status is not None:
                    self.status.update(escape(line))
                else:
                    self.console.print(f"[dim]{escape(line)}[/dim]", markup=True)
                self._said = now

    def stage(self, name: str, detail: str = "") -> None:
        text = f"{name}: {detail}" if detail else name
        with self._lock:
            if text != self._text:
                self._stage_started = time.monotonic()
            self._text = text
            self._said = time.monotonic()
            if self.status is not None:
                self.status.update(f"mendbot: {escape(text)}")
            elif not self.quiet:
                self.console.print(f"[dim]mendbot: {escape(text)}[/dim]")

    def note(self, message: str) -> None:
        if not self.quiet:
            with self._lock:
                self._said = time.monotonic()
                self.console.print(f"mendbot: {message}", markup=False)

    def close(self) -> None:
        self._stopped.set()
        if self._beat is not None:
            self._beat.join(timeout=2)
            self._beat = None
        if self.status is not None:
            self.status.stop()
            self.status = None


def build_engines(
    settings: Settings, trace: Trace, remaining: Callable[[], float] | None = None
) -> tuple[list[Engine], list[str]]:
    """The engines for ``settings.engine``, and notes for the result; every model call and
    retry is bounded by ``remaining`` (the seconds the run has left)."""
    notes: list[str] = []
    engines: list[Engine] = []
    if settings.engine in ("auto", "templates"):
        engines.append(TemplateEngine())
    if settings.engine in ("auto", "llm"):
        if not settings.model:
            if settings.engine == "llm":
                raise ConfigError(
                    "--engine llm needs a model",
                    hint="pass --model ollama:qwen2.5-coder:7b (or openai:MODEL with --llm-url), "
                    "or set model in [tool.mendbot]",
                )
            notes.append("no LLM configured: only the template engine ran (set --model to add one)")
        else:
            from bot.engines.llm import LLMEngine
            from bot.llm.registry import make_backend

            backend = make_backend(settings)
            if remaining is not None and hasattr(backend, "remaining"):
                backend.remaining = remaining
            try:
                backend.check()
            except MendbotError:
                if settings.engine == "llm":
                    raise
                notes.append("the configured LLM is not reachable: only the template engine ran")
            else:
                notice = str(getattr(backend, "notice", ""))  # e.g. the name the server uses
                notes.extend([notice] if notice else [])
                engines.append(LLMEngine(backend, settings, trace))
    return engines, notes


def trace_path(repo_hint: Path, run_label: str) -> Path | None:
    """Where a run's JSONL trace goes: inside git's own folder, so it never dirties the tree."""
    from bot.workspace import run_git

    try:
        common = run_git(["rev-parse", "--git-common-dir"], repo_hint).strip()
    except MendbotError:
        return None
    base = Path(common)
    if not base.is_absolute():
        base = (repo_hint / base).resolve()
    return base / "mendbot" / "runs" / run_label / "trace.jsonl"


def run_fix(
    trigger: Trigger,
    settings: Settings,
    progress: ConsoleProgress,
    interpreter: Interpreter | None = None,
) -> RunResult:
    """One repair run, stored in the repository's run history. ``interpreter`` is the one
    the caller already found for the tests; otherwise it is found here (and said)."""
    from bot.history import RunRecorder
    from bot.sandbox.registry import make_sandbox
    from bot.workspace import check_writable, new_run_id, open_repository

    repository, top, _ = open_repository(trigger.repo_path)  # a clear error for a bad path
    check_writable(repository)  # and for a repository mendbot cannot write to, first
    if interpreter is None and settings.sandbox != "docker":
        interpreter = find_interpreter(settings.python, trigger.repo_path, top)
        progress.note(interpreter.describe())
    if interpreter is not None:
        settings = settings.replace(python=interpreter.path)
    run_id = new_run_id()
    deadline = Deadline.start(settings.time_budget)  # the run's one clock, model calls included
    path = trace_path(top, run_id) if settings.trace else None
    trace = Trace(path)
    engines, notes = build_engines(settings, trace, deadline.remaining)
    sandbox = make_sandbox(settings, project=trigger.repo_path)
    ports = Ports(sandbox=sandbox, engines=engines, progress=progress, trace=trace, notes=notes)
    # the run is stored under refs/mendbot/runs/<run_id> however it ends (Ctrl-C included)
    try:
        with RunRecorder(top, run_id, path) as recorder:
            result = repair(trigger, settings, ports, run_id=run_id, deadline=deadline)
            if interpreter is not None:
                extra = {**result.extra, "interpreter": interpreter.to_json()}
                result = dataclasses.replace(result, extra=extra)
            return recorder.keep(result)
    finally:
        prune_old_runs(top, settings.keep_runs, progress)


def prune_old_runs(top: Path, keep: int, progress: ConsoleProgress) -> None:
    """Keep the run history bounded: all but the newest ``keep`` runs go (0: none)."""
    from bot.history import prune_runs

    if keep <= 0:
        return
    try:
        pruned = prune_runs(top, keep)
    except MendbotError as problem:
        progress.note(f"old runs were not pruned: {problem.message}")
        return
    if pruned.removed:
        progress.note(
            f"removed the {len(pruned.removed)} oldest run record(s) from refs/mendbot/runs, "
            f"keeping the newest {keep} (keep-runs; mendbot runs --prune --keep N)"
        )


def take_advice(result: RunResult, top: Path) -> str:
    """How to take the fix into the user's tree as it is now: `git merge` only when the tree
    is clean and the run started from its HEAD (the base is then a commit of the user's);
    else the patch, which applies over uncommitted changes and never brings mendbot's
    snapshot commit into the user's history."""
    from bot.workspace import run_git

    head = run_git(["rev-parse", "HEAD"], top, check=False).strip()
    dirty = run_git(["status", "--porcelain", "--untracked-files=no"], top, check=False).strip()
    if head == result.base and not dirty:
        return f"take the fix: git merge {result.branch}   or: mendbot fix --apply"
    return (
        f"take the fix: mendbot fix --apply   or: git diff {result.base[:12]} {result.branch} "
        "| git apply"
    )


def print_human(result: RunResult, advice: str = "") -> None:
    out = Console(stderr=True, highlight=False, soft_wrap=True)
    for warning in result.warnings:
        out.print(f"[yellow]warning:[/yellow] {escape(warning)}")
    if result.status is RunStatus.NOTHING_TO_FIX:
        reason = result.reason or "all selected tests pass"
        out.print(f"[green]nothing to fix:[/green] {escape(reason)}")
        return
    for round_ in result.rounds:
        mark = (
            "[yellow]partial, unproven[/yellow]"
            if round_.partial
            else "[green]kept[/green]"
            if round_.commit
            else "[red]rolled back[/red]"
        )
        sha = round_.commit[:10] if round_.commit else (round_.rejected_ref or "")
        out.print(
            f"round {round_.number} ({round_.engine}, {round_.template}) {mark} {sha}: "
            f"{escape(round_.description)}"
        )
        if round_.root_cause:
            for line in round_.root_cause.splitlines():
                out.print(f"    {line}", markup=False)
        if round_.proved_by:
            out.print(f"    proved by: {round_.proved_by}", markup=False)
        for doubt in round_.doubts:
            out.print(f"    doubt: {doubt}", markup=False)
    if result.status is RunStatus.FIXED and not result.rounds:  # an earlier run's fix
        out.print(f"[green]fixed:[/green] {escape(result.reason)}")
    elif result.status is RunStatus.FIXED:
        out.print(
            f"[green]fixed[/green] {len(result.fixed_tests)} test(s) in "
            f"{result.duration_s:.1f}s after {result.candidates_tried} candidates"
        )
    else:
        out.print(f"[red]not fixed:[/red] {escape(result.reason)}")
        for nodeid in result.remaining_failures[:10]:
            out.print(f"    still failing: {nodeid}", markup=False)
    if result.diff:
        out.print(result.diff.rstrip(), markup=False, highlight=False)
    partial = result.extra.get("partial")
    if isinstance(partial, dict):
        out.print(f"[yellow]kept aside:[/yellow] {escape(str(partial.get('note', '')))}")
    if result.branch:
        out.print(f"branch: {result.branch} (base {result.base[:10]})", markup=False)
        if advice and result.status is RunStatus.FIXED:
            out.print(advice, markup=False)


# Commands that live in their own modules: imported only when used, so that a quick
# command (the pre-commit hook on a clean commit) does not pay for the GitHub client.
OPTIONAL_COMMANDS: dict[str, tuple[str, str]] = {
    "bench": ("bot.commands.bench", "bench"),
    "sandbox": ("bot.commands.sandbox", "sandbox"),
    "trace": ("bot.commands.trace", "trace"),
    "action": ("bot.commands.action", "action"),
    "hook": ("bot.commands.hook", "hook"),
    "install-hook": ("bot.commands.hook", "install_hook"),
    "runs": ("bot.commands.history", "runs"),
    "show": ("bot.commands.history", "show"),
    "report": ("bot.commands.history", "report"),
    "stats": ("bot.commands.history", "stats"),
    "diff": ("bot.commands.diff", "diff"),
}


class LazyGroup(click.Group):
    """A click group that imports a subcommand's module only when that command runs."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*super().list_commands(ctx), *OPTIONAL_COMMANDS})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        found = super().get_command(ctx, cmd_name)
        if found is not None or cmd_name not in OPTIONAL_COMMANDS:
            return found
        module_name, attribute = OPTIONAL_COMMANDS[cmd_name]
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError as error:
            if error.name and module_name.startswith(error.name):
                return None
            raise
        command = getattr(module, attribute, None)
        return command if isinstance(command, click.Command) else None


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="mendbot")
def cli() -> None:
    """mendbot: repair failing pytest tests with verified, minimal patches recorded in git."""


@cli.command(context_settings={"ignore_unknown_options": False})
@click.argument("path", type=click.Path(path_type=Path), default=Path("."), required=False)
@click.argument("pytest_args", nargs=-1, type=click.UNPROCESSED)
@click.option(
    "--engine",
    type=click.Choice(["auto", "templates", "llm"]),
    default=None,
    help="which engines propose patches (default auto: templates, then an LLM if configured)",
)
@click.option("--max-rounds", type=int, default=None, help="repair rounds at most (default 5)")
@click.option(
    "--time-budget", type=float, default=None, help="seconds for the whole run (default 300)"
)
@click.option(
    "--test-timeout",
    type=float,
    default=None,
    help="seconds one test may take before it counts as hanging (default 30)",
)
@click.option(
    "--validation",
    type=click.Choice(["fast", "naive"]),
    default=None,
    help="how candidates are screened before the real run (default fast)",
)
@click.option(
    "--sandbox",
    type=click.Choice(["local", "docker", "auto"]),
    default=None,
    help="where tests run (default local)",
)
@click.option("--python", "python", default=None, help="interpreter that runs the tests")
@click.option(
    "--model", default=None, help="LLM spec, e.g. ollama:qwen2.5-coder:7b or openai:gpt-4o-mini"
)
@click.option("--llm-url", default=None, help="base URL of the model server")
@click.option(
    "--no-learned-priors",
    "no_learned_priors",
    is_flag=True,
    help="order the templates by their built-in priors only, not also by what paid off in "
    "this repository's earlier runs (setting: learned-priors = false)",
)
@click.option("--json", "as_json", is_flag=True, help="print one JSON object on stdout")
@click.option(
    "--apply",
    "apply",
    is_flag=True,
    help="apply the verified patch to your working tree (never the index)",
)
@click.option(
    "--patch",
    "patch",
    default=None,
    metavar="FILE|-",
    help="write the verified patch (for `git apply`) to FILE; `-` writes it to standard "
    "output, and nothing else goes there",
)
def fix(
    path: Path,
    pytest_args: tuple[str, ...],
    engine: str | None,
    max_rounds: int | None,
    time_budget: float | None,
    test_timeout: float | None,
    validation: str | None,
    sandbox: str | None,
    python: str | None,
    model: str | None,
    llm_url: str | None,
    no_learned_priors: bool,
    as_json: bool,
    apply: bool,
    patch: str | None,
) -> None:
    """Repair the failing tests of the project at PATH (default: the current folder).

    Arguments after `--` go to pytest to select tests, e.g. `mendbot fix . -- tests/test_cart.py`.
    """
    if str(path).startswith("-") and not path.exists():
        # `mendbot fix -- -k cart`: no PATH before `--`, so the first pytest argument landed
        # in PATH; the project is the current folder, as without `--`
        pytest_args, path = (str(path), *pytest_args), Path(".")
    flags = {
        "engine": engine,
        "max_rounds": max_rounds,
        "time_budget": time_budget,
        "test_timeout": test_timeout,
        "validation": validation,
        "sandbox": sandbox,
        "python": python,
        "model": model,
        "llm_url": llm_url,
        "pytest_args": list(pytest_args) if pytest_args else None,
        "learned_priors": False if no_learned_priors else None,
    }
    if patch == "-" and as_json:
        raise ConfigError(
            "--patch - and --json both want standard output",
            hint="write the patch to a file (--patch fix.diff) or drop --json",
        )
    settings = load_settings(path if path.is_dir() else Path("."), flags)
    trigger = Trigger(kind=TriggerKind.CLI, repo_path=path, label="cli")
    progress = ConsoleProgress(stderr, quiet=False)
    try:
        result = run_fix(trigger, settings, progress)
    finally:
        progress.close()
    from bot.workspace import apply_to_checkout, open_repository

    _, top, _ = open_repository(path)
    if apply and result.status is RunStatus.FIXED and result.diff:
        if apply_to_checkout(top, result.diff):
            stderr.print("applied the verified patch to your working tree (the index is untouched)")
        else:
            stderr.print("the verified patch is already in your working tree: nothing to apply")
    if patch is not None:
        write_patch(result, patch)
    if as_json:
        echo(json.dumps(result_to_json(result), indent=2))
    else:
        advice = take_advice(result, top) if result.branch and not apply else ""
        print_human(result, advice)
    raise SystemExit(
        ExitCode.OK
        if result.status in (RunStatus.FIXED, RunStatus.NOTHING_TO_FIX)
        else ExitCode.NOT_FIXED
    )


def write_patch(result: RunResult, target: str) -> None:
    """The verified patch to ``target`` (``-``: standard output); nothing when there is none."""
    if result.status is not RunStatus.FIXED or not result.diff:
        where = "standard output" if target == "-" else target
        stderr.print(f"mendbot: no verified patch, so nothing was written to {where}", markup=False)
        return
    if target == "-":
        sys.stdout.write(result.diff)
        sys.stdout.flush()
        return
    Path(target).write_text(result.diff, encoding="utf-8")
    stderr.print(
        f"wrote the verified patch to {target} (apply it with `git apply {target}`)", markup=False
    )


def _terminate(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def _internal_error_log(error: BaseException) -> Path:
    handle, name = tempfile.mkstemp(prefix="mendbot-error-", suffix=".log")
    text = f"mendbot {__version__}\nargv: {sys.argv}\n\n" + "".join(
        traceback.format_exception(error)
    )
    with os.fdopen(handle, "w") as log:
        log.write(redact(text, known_secrets()))  # the log is meant to be shared
    return Path(name)


def main(argv: Sequence[str] | None = None, *, entry: click.Command | None = None) -> None:
    """The one top-level handler: exit codes 0, 1, 2 (usage/config), 3 (internal), 130."""
    command = entry or cli
    # SIGTERM (a CI cancel, a killed pre-commit) unwinds like Ctrl-C, so that the sandboxed
    # test processes are killed and the worktree is removed on the way out
    signal.signal(signal.SIGTERM, _terminate)
    # mendbot parses the project's code and thousands of candidate edits of it; what Python
    # would warn about in them ("is" with a literal, say) is the code's business, not output
    warnings.filterwarnings("ignore", category=SyntaxWarning)
    try:
        command.main(args=list(argv) if argv is not None else None, standalone_mode=False)
    except SystemExit:
        raise
    except click.exceptions.Abort:
        stderr.print("mendbot: interrupted")
        raise SystemExit(ExitCode.INTERRUPTED) from None
    except click.ClickException as error:
        error.show(file=sys.stderr)
        raise SystemExit(ExitCode.USAGE) from None
    except MendbotError as error:
        stderr.print(f"[red]mendbot:[/red] {escape(error.message)}", markup=True, highlight=False)
        if error.hint:
            stderr.print(f"  hint: {error.hint}", markup=False, highlight=False)
        if "--json" in (argv or sys.argv):
            echo(json.dumps({"status": "error", "error": error.message, "hint": error.hint}))
        raise SystemExit(error.exit_code) from None
    except KeyboardInterrupt:
        stderr.print("mendbot: interrupted; the worktree was removed and your files are untouched")
        raise SystemExit(ExitCode.INTERRUPTED) from None
    except Exception as error:
        log = _internal_error_log(error)
        stderr.print(f"mendbot: internal error: {type(error).__name__}: {error}", markup=False)
        stderr.print(f"  details: {log} (please include it in a bug report)", markup=False)
        if "--json" in (argv or sys.argv):
            echo(json.dumps({"status": "error", "error": str(error), "log": str(log)}))
        raise SystemExit(ExitCode.INTERNAL) from None
    raise SystemExit(ExitCode.OK)
