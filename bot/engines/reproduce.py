"""Reproduction tests for bug reports: the model writes a pytest test from the issue text.

A written test is kept only when it is a real test (``bot.gates.test_quality``) and when it
fails on the current code for the reported reason: not ImportError, not SyntaxError, not a
collection error, not a passing test. Running it needs a sandbox, so the caller passes
``run_test``, which runs pytest on one file and returns the TestRun.
"""

from __future__ import annotations

import re
import shutil
import tarfile
import tempfile
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from bot.config import Settings
from bot.deadline import Deadline
from bot.edits import EditRejected, check_path
from bot.engines.llm_context import outline
from bot.engines.prompts import reproduction_messages
from bot.engines.replies import parse_reply
from bot.errors import LLMError
from bot.gates.test_quality import check_test_source, modules_of
from bot.llm.base import LLMBackend
from bot.llm.calls import ModelCaller
from bot.models import Outcome, TestRun, Trigger
from bot.trace import Trace

RunTest = Callable[[str, str], TestRun]  # (project-relative path, test text) -> the run

NOT_THE_BUG = {
    "ImportError",
    "ModuleNotFoundError",
    "SyntaxError",
    "IndentationError",
    "NameError",
    "fixture",
}
TEMPERATURES = (0.0, 0.4, 0.7)
MAX_FULL_FILES = 3
MAX_FULL_CHARS = 12_000
REPLY_TOKENS = 1500


@dataclass(frozen=True)
class ReproTest:
    path: str  # project-relative posix path of the new test file
    text: str
    description: str
    test_names: tuple[str, ...] = ()
    failure: str = ""  # how it fails before the fix: "ZeroDivisionError: division by zero"


def mentioned_exceptions(text: str) -> set[str]:
    return set(re.findall(r"\b([A-Z]\w*(?:Error|Exception))\b", text))


def _error_line(message: str, traceback: str) -> str:
    errors = [line[1:].strip() for line in traceback.splitlines() if line.startswith("E ")]
    errors = [line for line in errors if line]
    if errors:
        return errors[-1][:200]
    lines = message.strip().splitlines()
    return lines[0][:200] if lines else "collection error"


def judge_run(run: TestRun, path: str, issue_text: str) -> tuple[str | None, str]:
    """Why the run does not show the reported bug (None when it does), and how it failed."""
    for error in run.collection_errors:
        if not error.path or error.path == path or error.path.endswith("/" + path):
            return (
                f"the test file does not load ({_error_line(error.message, error.traceback)}): "
                "a mistake in the test, not the bug",
                "",
            )
    results = [r for r in run.results if r.nodeid.split("::", 1)[0] == path]
    if not results:
        return "pytest ran no test from the file", ""
    if run.timed_out:
        return "the test run timed out", ""
    bad = [r for r in results if r.outcome.is_bad]
    if not bad:
        outcomes = ", ".join(sorted({r.outcome.value for r in results}))
        return (
            f"the test does not fail on the current code ({outcomes}): it does not show the bug",
            "",
        )
    reported = mentioned_exceptions(issue_text)
    for result in bad:
        kind = result.exception_type or "failure"
        how = f"{kind}: {result.message}".strip().rstrip(":")
        if result.outcome is Outcome.ERROR and not result.exception_type:
            return f"{result.nodeid} errors in setup, not in the code under test: {how}", ""
        if kind in NOT_THE_BUG and kind not in reported:
            return f"{result.nodeid} fails with {how}, a mistake in the test, not the bug", ""
        if reported and kind not in reported | {"AssertionError", "Failed", "failure"}:
            return (
                f"{result.nodeid} fails with {kind}, but the report is about "
                f"{', '.join(sorted(reported))}",
                "",
            )
    first = bad[0]
    return None, f"{first.exception_type or 'failure'}: {first.message}".strip()


def _relevant_files(
    sources: Mapping[str, str], text: str
) -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
    """Files to show whole (those the report names most) and the outlines of the rest."""
    words = set(re.findall(r"[A-Za-z_]\w+", text))

    def score(item: tuple[str, str]) -> int:
        path, source = item
        stem = PurePosixPath(path).stem
        defined = set(re.findall(r"^\s*(?:def|class)\s+(\w+)", source, re.M))
        return (5 if stem in words else 0) + len(defined & words)

    ranked = sorted(sources.items(), key=lambda item: (-score(item), item[0]))
    full: list[tuple[str, str]] = []
    total = 0
    for path, source in ranked:
        if len(full) >= MAX_FULL_FILES or total + len(source) > MAX_FULL_CHARS:
            break
        if score((path, source)) == 0 and full:
            break
        full.append((path, source))
        total += len(source)
    shown = {path for path, _ in full}
    outlines = [(p, outline(s)) for p, s in ranked if p not in shown][:10]
    return full, [(p, o) for p, o in outlines if o]


def _test_path(test_sources: Mapping[str, str], wanted: str) -> str:
    if wanted not in test_sources:
        return wanted
    stem, suffix = wanted[: -len(".py")], 2
    while f"{stem}_{suffix}.py" in test_sources:
        suffix += 1
    return f"{stem}_{suffix}.py"


def _extract_test(reply: str, path: str) -> str:
    for section in parse_reply(reply, max_chars=60_000):
        named_elsewhere = section.path is not None and not section.path.endswith(".py")
        if section.codes and not named_elsewhere:
            return max(section.codes, key=len)
    raise EditRejected("the reply has no test file in a code block")


def reproduce_bug(
    backend: LLMBackend | ModelCaller,
    issue_title: str,
    issue_body: str,
    sources: Mapping[str, str],
    *,
    test_sources: Mapping[str, str] | None = None,
    run_test: RunTest | None = None,
    project_dir: Path | None = None,
    test_path: str = "tests/test_reported_bug.py",
    trace: Trace | None = None,
    attempts: int = 3,
    deadline: Deadline | None = None,
) -> ReproTest | None:
    """A test that fails on the current code for the reported reason, or None.

    Without ``run_test`` only the static checks apply (the caller must then run the test
    itself before trusting it). No attempt starts past ``deadline``.
    """
    caller = (
        backend if isinstance(backend, ModelCaller) else ModelCaller(backend, trace or Trace(None))
    )
    tests = dict(test_sources or {})
    path = _test_path(tests, test_path)
    if project_dir is not None:
        refusal = check_path(path, project_dir, (), allow_tests=True)
        if refusal:
            raise LLMError(f"cannot write the reproduction test: {refusal}")
    issue_text = f"{issue_title}\n{issue_body}"
    full, outlines = _relevant_files(sources, issue_text)
    example = next(iter(sorted(tests.items())), ("", ""))[1][:1500]
    modules = modules_of(sources)
    names: set[str] = set()
    for source in sources.values():
        names.update(re.findall(r"^(?:def|class)\s+(\w+)", source, re.M))
    refusals: list[str] = []
    for attempt in range(max(1, attempts)):
        if deadline is not None and deadline.expired():
            caller.trace.write("reproduction_failed", reason="the time budget ran out")
            raise LLMError(
                "the time budget ran out before a test reproducing the issue was written",
                hint="raise the time budget (time-budget) or llm-timeout, or add a failing test",
            )
        messages = reproduction_messages(
            issue_title, issue_body, full, outlines, path, example, refusals
        )
        try:
            call_id, completion = caller.call(
                messages,
                purpose="reproduce",
                temperature=TEMPERATURES[attempt % len(TEMPERATURES)],
                max_tokens=REPLY_TOKENS,
                seed=attempt,
            )
        except LLMError as error:
            caller.trace.write("reproduction_failed", reason=str(error))
            raise
        try:
            text = _extract_test(completion.text, path)
        except EditRejected as error:
            caller.reject(call_id, error.reason, purpose="reproduce")
            refusals.append(error.reason)
            continue
        quality = check_test_source(text, code_modules=modules, code_names=names, path=path)
        if not quality.ok:
            reason = "; ".join(quality.problems)
            caller.reject(call_id, reason, purpose="reproduce")
            refusals.append(reason)
            continue
        failure = ""
        if run_test is not None:
            problem, failure = judge_run(run_test(path, text), path, issue_text)
            if problem is not None:
                caller.reject(call_id, problem, purpose="reproduce")
                refusals.append(problem)
                continue
        caller.trace.write(
            "reproduction_test", call_id=call_id, path=path, tests=list(quality.test_names)
        )
        description = (
            f"{', '.join(quality.test_names)} reproduces the report"
            + (f": before the fix it fails with {failure}" if failure else "")
            + "."
        )
        return ReproTest(path, text, description, quality.test_names, failure)
    return None


# -- the GitHub issue trigger's entry point ---------------------------------------------------


def _export_tree(repo_path: Path, base_ref: str, destination: Path) -> Path:
    """The tree of ``base_ref`` in ``destination``; returns the project folder inside it."""
    from bot.workspace import run_git as git

    top = Path(git(["rev-parse", "--show-toplevel"], cwd=repo_path).strip())
    archive = destination / "tree.tar"
    git(["archive", "--format=tar", "-o", str(archive), base_ref], cwd=top)
    root = destination / "tree"
    root.mkdir()
    with tarfile.open(archive) as tar:
        tar.extractall(root, filter="data")
    archive.unlink()
    relative = repo_path.resolve().relative_to(top.resolve())
    return root / relative


def write_reproduction_test(trigger: Trigger, settings: Settings) -> ReproTest | None:
    """Write a failing test for the issue in ``trigger.instruction`` (title, blank line, body).

    The test runs against a copy of ``trigger.base_ref`` in the configured sandbox; the
    returned path is relative to the repository's top level, ready to be committed.
    """
    from bot.analysis.classify import is_test_path
    from bot.llm.registry import make_backend
    from bot.pipeline import read_sources
    from bot.sandbox.registry import make_sandbox
    from bot.testing.runner import TestRunner
    from bot.workspace import run_git as git

    # one budget for the whole reproduction: every model call and every test run ends by it
    deadline = Deadline.start(settings.time_budget)
    backend = make_backend(settings)
    if hasattr(backend, "remaining"):
        backend.remaining = deadline.remaining
    backend.check()
    title, _, body = trigger.instruction.partition("\n")
    scratch = Path(tempfile.mkdtemp(prefix="mendbot-repro-"))
    try:
        project = _export_tree(trigger.repo_path, trigger.base_ref, scratch)
        root = scratch / "tree"
        sources, tests = read_sources(project)
        sandbox = make_sandbox(settings, project=project)
        runner = TestRunner(sandbox, root, project)

        def run_test(path: str, text: str) -> TestRun:
            target = project / path
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(text, encoding="utf-8")
            try:
                return runner.run(
                    [path], timeout=max(1.0, deadline.limit(settings.test_timeout)), selection=False
                )
            finally:
                target.unlink(missing_ok=True)

        try:
            found = reproduce_bug(
                backend,
                title.strip(),
                body.strip(),
                {p: t for p, t in sources.items() if not is_test_path(p)},
                test_sources=tests,
                run_test=run_test,
                project_dir=project,
                deadline=deadline,
            )
        finally:
            runner.close()
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    if found is None:
        return None
    top = Path(git(["rev-parse", "--show-toplevel"], cwd=trigger.repo_path).strip())
    prefix = trigger.repo_path.resolve().relative_to(top.resolve()).as_posix()
    repo_path = found.path if prefix in ("", ".") else f"{prefix}/{found.path}"
    return ReproTest(repo_path, found.text, found.description, found.test_names, found.failure)
