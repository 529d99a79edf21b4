"""Markdown built from a RunResult: the pull request body, the job summary and comments.

Every function here is pure (RunResult in, text out) and every text leaves through
``_clean``, which redacts secrets and defuses @-mentions, so a report never leaks a token or
pings people because a test name or a model's note said so.
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from bot.gates.summary import gates_section
from bot.models import FailureClass, Round, RunResult, RunStatus
from bot.testing.outcomes import ListedOutcomes
from bot.trace import redact

MARKER = "<!-- mendbot -->"
MAX_BODY_CHARS = 60_000  # GitHub refuses bodies above 65,536 characters
MAX_LISTED = 30

CLASS_MEANING = {
    FailureClass.FORMAT: "the code cannot be parsed or imported",
    FailureClass.CONTRACT: "an input/output contract is violated",
    FailureClass.RUNTIME_SAFETY: "an unsafe access (None, index, key, division)",
    FailureClass.LOGIC: "a wrong computation",
}

STATUS_HEADLINE = {
    RunStatus.FIXED: "fixed",
    RunStatus.NOT_FIXED: "could not fix",
    RunStatus.NOTHING_TO_FIX: "found nothing to fix",
    RunStatus.ERROR: "stopped with an error",
}


@dataclass(frozen=True)
class ReportContext:
    """What a report needs besides the RunResult."""

    label: str  # "issue #12", "pull request #7"
    repository: str = ""
    server_url: str = "https://github.com"
    remote: str = "origin"
    remote_branch: str = ""  # where the work was pushed ("" = not pushed)
    closes_issue: int | None = None
    secrets: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()  # extra facts worth a line (a reproduction test was added, ...)
    report_url: str = ""  # the workflow run whose artifacts hold the HTML run report


def _clean(text: str, context: ReportContext) -> str:
    text = redact(text, context.secrets)
    return re.sub(r"@(?=[A-Za-z0-9-])", "@\u200b", text)


def code(text: str) -> str:
    """An inline code span that survives backticks inside ``text``."""
    text = " ".join(text.split())
    longest = max((len(run) for run in re.findall(r"`+", text)), default=0)
    fence = "`" * (longest + 1)
    pad = " " if text.startswith("`") or text.endswith("`") else ""
    return f"{fence}{pad}{text}{pad}{fence}"


def fenced(text: str, language: str = "") -> str:
    longest = max((len(run) for run in re.findall(r"`{3,}", text)), default=0)
    fence = "`" * max(3, longest + 1)
    return f"{fence}{language}\n{text.rstrip()}\n{fence}"


def _cell(text: str) -> str:
    return text.replace("\\", "\\\\").replace("|", "\\|").replace("\n", " ")


def _short(sha: str | None) -> str:
    return sha[:10] if sha else ""


def _listed(items: Sequence[str]) -> tuple[Sequence[str], int]:
    return items[:MAX_LISTED], max(0, len(items) - MAX_LISTED)


def _number(value: object) -> float | None:
    if isinstance(value, bool):
        return None
    return float(value) if isinstance(value, int | float) else None


def _plural(count: int, word: str) -> str:
    return f"{count} {word}{'' if count == 1 else 's'}"


def summary_line(result: RunResult, context: ReportContext) -> str:
    kept = [r for r in result.rounds if r.commit]
    if result.status is RunStatus.FIXED:
        return (
            f"mendbot fixed {_plural(len(result.fixed_tests), 'failing test')} for "
            f"{context.label} in {_plural(len(kept), 'round')}; every change below was "
            "verified by running the tests."
        )
    if result.status is RunStatus.NOTHING_TO_FIX:
        return f"mendbot found no failing test for {context.label}."
    fixed = (
        f"; {_plural(len(result.fixed_tests), 'test')} fixed so far" if result.fixed_tests else ""
    )
    reason = f" It stopped because {result.reason.rstrip('.')}." if result.reason else ""
    return (
        f"mendbot {STATUS_HEADLINE[result.status]} the failing tests for {context.label}"
        f"{fixed}.{reason}"
    )


def root_cause_section(result: RunResult, context: ReportContext) -> list[str]:
    lines = ["### Root cause"]
    analysis = result.analysis
    if analysis is not None and analysis.failures:
        failure_class = analysis.primary_class
        lines.append(
            f"- **Failure class:** `{failure_class.value}`: {CLASS_MEANING[failure_class]}"
        )
    else:
        lines.append("- **Failure class:** not analysed")
    location = ""
    if analysis is not None and analysis.locations:
        top = analysis.locations[0]
        where = f" in {code(top.function)}" if top.function else ""
        location = f"{code(f'{top.file}:{top.line}')}{where} (found by {top.reason})"
    elif analysis is not None and analysis.failures and analysis.failures[0].frames:
        frame = analysis.failures[0].frames[-1]
        location = f"{code(f'{frame.file}:{frame.line}')} in {code(frame.function)} (traceback)"
    lines.append(f"- **Location:** {location or 'not localized'}")
    if analysis is not None:
        for failure in analysis.failures[:5]:
            message = failure.message or failure.exception_type
            lines.append(f"  - {code(failure.nodeid)}: {code(message[:200])}")
    for round_ in (r for r in result.rounds if r.commit):
        lines.append("")
        kind = "model's analysis" if round_.engine == "llm" else "deterministic note"
        lines.append(f"**Round {round_.number} ({code(round_.engine)}), {kind}:**")
        lines.append("")
        note = round_.root_cause.strip()
        if not note:
            template = f" with template {code(round_.template)}" if round_.template else ""
            note = (
                f"The {round_.engine} engine{template} made this edit: {round_.description}. "
                "It was kept because the failing tests pass with it and no passing test broke."
            )
        lines += [
            f"> {_clean(line.strip(), context)}" for line in note.splitlines() if line.strip()
        ]
    return lines


def tests_section(result: RunResult) -> list[str]:
    lines = ["### Tests", ""]
    if not result.fixed_tests and not result.remaining_failures:
        return [*lines, "No failing tests were found."]
    lines += ["| test | before | after |", "|---|---|---|"]
    shown, more = _listed(result.fixed_tests)
    lines += [f"| {_cell(code(test))} | failing | **passing** |" for test in shown]
    if more:
        lines.append(f"| ... and {more} more | failing | **passing** |")
    shown, more = _listed(result.remaining_failures)
    lines += [f"| {_cell(code(test))} | failing | still failing |" for test in shown]
    if more:
        lines.append(f"| ... and {more} more | failing | still failing |")
    return lines


def regression_section(result: RunResult) -> list[str]:
    """Tests passing at base and after, from the run's baseline and final test runs (in a
    big suite the summaries list the tests that did not pass and count the others)."""
    lines = ["### Regression check", ""]
    before_summary, after_summary = result.extra.get("baseline"), result.extra.get("final")
    before = ListedOutcomes.of(before_summary)
    after = ListedOutcomes.of(after_summary)
    if before and after:
        counted_before = before.counts(_mapping(before_summary))
        counted_after = after.counts(_mapping(after_summary))
        broken = sorted(
            t for t in {*before, *after} if before.get(t) == "passed" != after.get(t, "")
        )
        lines.append(
            f"Tests passing at base: **{counted_before['passed']}**; passing after: "
            f"**{counted_after['passed']}** (of {sum(counted_after.values())} run)."
        )
        if broken:
            shown, more = _listed(broken)
            extra = f" and {more} more" if more else ""
            lines.append(
                "Passed at base and fail now: " + ", ".join(code(t) for t in shown) + extra
            )
        else:
            lines.append("No test that passed at base fails after the change.")
        return lines
    if any(r.commit for r in result.rounds):
        lines.append(
            "Every kept round passed the no-regression gate: no test that passed at base fails "
            "after it (the per-test outcomes were not recorded)."
        )
    else:
        lines.append("No round was kept, so the code is unchanged.")
    return lines


def _mapping(value: object) -> Mapping[str, object] | None:
    return value if isinstance(value, Mapping) else None


def coverage_section(result: RunResult) -> list[str]:
    lines = ["### Coverage of the changed lines", ""]
    data = result.extra.get("coverage")
    if isinstance(data, Mapping):
        covered = _number(data.get("covered"))
        total = _number(data.get("changed") if "changed" in data else data.get("total"))
        percent = _number(data.get("percent"))
        if percent is None and covered is not None and total:
            percent = 100.0 * covered / total
        parts = []
        if covered is not None and total is not None:
            parts.append(f"{covered:.0f} of {total:.0f} changed lines run by the tests")
        if percent is not None:
            parts.append(f"{percent:.0f}%")
        missing = data.get("missing") or data.get("uncovered")
        if isinstance(missing, Mapping) and missing:
            parts.append(
                "not covered: "
                + ", ".join(f"{code(str(f))} {list(v)}" for f, v in list(missing.items())[:10])
            )
        lines.append(
            "; ".join(parts) if parts else "reported, but in a form this report cannot read"
        )
    elif isinstance(data, int | float) and not isinstance(data, bool):
        lines.append(f"{float(data):.0f}% of the changed lines run by the tests")
    else:
        lines.append("not measured")
    return lines


def _round_row(round_: Round) -> str:
    commit = f"`{_short(round_.commit)}`" if round_.commit else "rolled back"
    if round_.rejected_ref:
        commit += f" (attempt kept at {code(round_.rejected_ref)})"
    if round_.partial:
        commit += " (partial, unproven: not offered)"
    files = ", ".join(code(f) for f in round_.files) or "-"
    fixed = str(len(round_.fixed_tests))
    return (
        f"| {round_.number} | {_cell(round_.engine)} | {_cell(commit)} | {_cell(files)} | "
        f"{fixed} | {_cell(round_.reason)} |"
    )


def _proof_lines(result: RunResult) -> list[str]:
    """For every kept patch: what proved it, which tests run its lines, any doubt."""
    lines: list[str] = []
    for round_ in result.rounds:
        if not round_.commit or not (round_.proved_by or round_.partial):
            continue
        lines += ["", f"Round {round_.number}:"]
        if round_.partial:
            lines.append("- partial and unproven: not offered for merge")
        if round_.proved_by:
            lines.append(f"- proved by: {_cell(round_.proved_by)}")
        shown = ", ".join(code(t) for t in round_.exercised_by[:10]) or "none"
        more = len(round_.exercised_by) - 10
        lines.append(
            f"- tests that run the changed lines: {shown}" + (f" (+{more})" if more > 0 else "")
        )
        lines += [f"- doubt: {_cell(d)}" for d in round_.doubts]
    return lines


def rounds_section(result: RunResult) -> list[str]:
    lines = ["### Rounds", ""]
    if not result.rounds:
        return [*lines, "No repair round ran."]
    lines += [
        "| round | engine | commit | files | tests fixed | outcome |",
        "|---|---|---|---|---|---|",
    ]
    lines += [_round_row(r) for r in result.rounds]
    rolled_back = [r for r in result.rounds if not r.commit]
    lines += _proof_lines(result)
    lines.append("")
    lines.append(
        f"Base `{_short(result.base)}`, head `{_short(result.head)}`, "
        f"{_plural(len(rolled_back), 'rolled-back attempt')}, "
        f"{_plural(result.candidates_tried, 'candidate')} tried."
    )
    return lines


def _usage(extra: Mapping[str, object]) -> str:
    """Model, calls and tokens, from ``extra["model_usage"]`` or the engines' counters."""
    usage = extra.get("model_usage")
    if not isinstance(usage, Mapping) or not usage:
        engines = extra.get("usage")
        llm = engines.get("llm") if isinstance(engines, Mapping) else None
        usage = llm if isinstance(llm, Mapping) else {}
    if not usage:
        return "no model used"
    parts = []
    if usage.get("model"):
        parts.append(f"model {code(str(usage['model']))}")
    calls = _number(usage.get("calls"))
    if calls is not None:
        parts.append(_plural(int(calls), "call"))
    prompt = _number(usage.get("prompt_tokens"))
    completion = _number(usage.get("completion_tokens"))
    total = _number(usage.get("tokens"))
    if prompt is not None or completion is not None:
        parts.append(f"{prompt or 0:.0f} prompt + {completion or 0:.0f} completion tokens")
    elif total is not None:
        parts.append(f"{total:.0f} tokens")
    seconds = _number(usage.get("seconds"))
    if seconds is not None:
        parts.append(f"{seconds:.1f}s in the model")
    return ", ".join(parts) or "model used (no counters reported)"


def engine_section(result: RunResult) -> list[str]:
    engines = ", ".join(code(e) for e in result.engines) or "none"
    return [
        "### Engine",
        "",
        f"- **Engines:** {engines}",
        f"- **Model:** {_usage(result.extra)}",
        f"- **Time:** {result.duration_s:.1f}s",
        *screening_lines(result.extra),
    ]


def screening_lines(extra: Mapping[str, object]) -> list[str]:
    """How candidates were screened, and why any fell back to a fresh pytest each."""
    stats = extra.get("screening")
    if not isinstance(stats, Mapping) or not _number(stats.get("screened")):
        return []
    fast, naive = _number(stats.get("fast")) or 0, _number(stats.get("naive")) or 0
    lines = [
        f"- **Screening:** {int(fast) + int(naive)} candidates, {int(fast)} in the forked "
        f"worker, {int(naive)} by a fresh pytest each"
    ]
    causes = stats.get("fallbacks")
    if isinstance(causes, Mapping):
        for cause, count in sorted(causes.items(), key=lambda item: -int(item[1])):
            lines.append(f"  - {int(count)} fell back: {_cell(str(cause))}")
    return lines


def pytest_command(result: RunResult) -> str:
    tests = list(result.fixed_tests or result.remaining_failures)[:10]
    return (
        "python -m pytest " + " ".join(shlex.quote(t) for t in tests)
        if tests
        else "python -m pytest"
    )


def reproduce_section(result: RunResult, context: ReportContext) -> list[str]:
    lines = ["### Reproduce locally", ""]
    commands = []
    if context.remote_branch:
        branch = shlex.quote(context.remote_branch)
        commands += [f"git fetch {context.remote} {branch}", "git checkout FETCH_HEAD"]
    elif result.head:
        commands.append(f"git checkout {result.head}  # the commit exists only in the run's clone")
    if result.project_subdir:
        commands.append(f"cd {shlex.quote(result.project_subdir)}")
    commands.append(pytest_command(result))
    if result.base and result.head and result.base != result.head:
        commands.append(f"git diff {_short(result.base)} {_short(result.head)}  # the patch")
    lines.append(fenced("\n".join(commands), "sh"))
    return lines


def warnings_section(result: RunResult, context: ReportContext) -> list[str]:
    items = [*context.notes, *result.warnings]
    if not items:
        return []
    return ["### Notes", "", *(f"- {_clean(item, context)}" for item in items)]


def _limit(text: str) -> str:
    if len(text) <= MAX_BODY_CHARS:
        return text
    return text[: MAX_BODY_CHARS - 200] + "\n\n[... report cut to fit GitHub's size limit ...]\n"


def _join(sections: Iterable[list[str]]) -> str:
    return "\n\n".join("\n".join(section) for section in sections if section)


def full_report(result: RunResult, context: ReportContext) -> str:
    """Every section: the body of a pull request and of the job summary."""
    return _join(
        [
            root_cause_section(result, context),
            tests_section(result),
            regression_section(result),
            coverage_section(result),
            gates_section(result.extra),
            rounds_section(result),
            engine_section(result),
            reproduce_section(result, context),
            warnings_section(result, context),
        ]
    )


def pull_request_body(result: RunResult, context: ReportContext) -> str:
    head = ["## Summary", "", summary_line(result, context)]
    if context.closes_issue is not None:
        head += ["", f"Fixes #{context.closes_issue}"]
    head += ["", "This pull request was opened by mendbot. Review it like any other change."]
    if context.report_url:
        head += [
            "",
            "The full run report (timeline, diffs of every round, test matrix, candidates) is "
            f"attached to [the workflow run]({context.report_url}) as a `mendbot-report-*` "
            "artifact.",
        ]
    text = _join([head]) + "\n\n" + full_report(result, context) + f"\n\n{MARKER}\n"
    return _limit(_clean(text, context))


def step_summary(result: RunResult, context: ReportContext, headline: str) -> str:
    text = f"## mendbot: {headline}\n\n{summary_line(result, context)}\n\n" + full_report(
        result, context
    )
    return _limit(_clean(text, context))


def outcome_comment(
    result: RunResult, context: ReportContext, headline: str, *, details: bool = True
) -> str:
    """A comment on the issue or pull request: what happened, and the full report folded."""
    lines = [f"**mendbot {headline}**", "", summary_line(result, context)]
    if result.status is not RunStatus.FIXED and result.rounds:
        lines += ["", "What was tried:"]
        for round_ in result.rounds[:MAX_LISTED]:
            state = f"kept as `{_short(round_.commit)}`" if round_.commit else "rolled back"
            what = round_.description or round_.template or "an edit"
            lines.append(
                f"- round {round_.number} ({round_.engine}): {_clean(what, context)}: {state}; "
                f"{_clean(round_.reason, context)}"
            )
    if result.status is not RunStatus.FIXED:
        lines += ["", f"{_plural(result.candidates_tried, 'candidate patch')} tried in total."]
        if result.reason:
            lines.append(f"Why it stopped: {_clean(result.reason, context)}")
    if context.remote_branch:
        lines += ["", f"The work is on the branch {code(context.remote_branch)}."]
    if details:
        lines += ["", "<details><summary>Full report</summary>", "", full_report(result, context)]
        lines += ["", "</details>"]
    lines += ["", MARKER]
    return _limit(_clean("\n".join(lines), context))


def patch_comment(result: RunResult, context: ReportContext, why: str) -> str:
    """The verified patch in a comment, for pull requests mendbot cannot push to."""
    head = [
        "**mendbot fixed the failing tests, but cannot push to this pull request's branch.**",
        "",
        why,
        "",
        summary_line(result, context),
    ]
    tail = [
        "<details><summary>Full report</summary>",
        "",
        full_report(result, context),
        "",
        "</details>",
        "",
        MARKER,
    ]
    diff = redact(result.diff, context.secrets)
    if len(diff) > MAX_BODY_CHARS // 2:
        patch = [
            f"The patch ({len(diff)} characters) is too long for a comment; fetch the branch "
            "named above instead.",
        ]
    else:
        # the diff is shown as it is (no mention defusing), inside a fence longer than any in it
        patch = [
            "Apply the verified patch with `git apply`:",
            "",
            fenced(diff or "(empty)", "diff"),
        ]
    cleaned_head = _clean("\n".join(head), context)
    cleaned_tail = _limit(_clean("\n".join(tail), context))
    return "\n\n".join([cleaned_head, "\n".join(patch), cleaned_tail])


def message_comment(text: str, context: ReportContext) -> str:
    return _clean(f"{text}\n\n{MARKER}", context)
