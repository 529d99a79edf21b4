"""The compact job summary (``$GITHUB_STEP_SUMMARY``): a mermaid diagram of the rounds, one
table row per round, the tests before and after, and where the full HTML report is.

Built from the RunResult alone (its rounds hold the rolled-back attempts too, and its extra
holds the per-test outcomes of the base and final runs), so it works for any run.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from bot.models import Round, RunResult, RunStatus
from bot.report.markdown import (
    ReportContext,
    _cell,
    _clean,
    _limit,
    _plural,
    code,
    root_cause_section,
    summary_line,
)
from bot.testing.outcomes import ListedOutcomes

MAX_DIAGRAM_ROUNDS = 20
MAX_LABEL = 60


def _label(text: str) -> str:
    """Text that is safe inside a quoted mermaid label (no quotes, tags or backticks)."""
    text = " ".join(text.replace("`", "").split())
    if len(text) > MAX_LABEL:
        text = text[: MAX_LABEL - 1] + "…"
    for raw, entity in (("&", "#amp;"), ('"', "#quot;"), ("<", "#lt;"), (">", "#gt;")):
        text = text.replace(raw, entity)
    return re.sub(r"[\[\]{}|]", " ", text)


def _what(round_: Round) -> str:
    return round_.description or round_.template or "an edit"


def rounds_diagram(result: RunResult) -> str:
    """A mermaid flowchart: base, then each kept round, with rolled-back attempts branching off."""
    lines = ["flowchart LR", f'  base(["base {result.base[:8]}"])']
    previous = "base"
    shown = result.rounds[:MAX_DIAGRAM_ROUNDS]
    for index, round_ in enumerate(shown, start=1):
        node = f"r{index}"
        what = _label(_what(round_))
        if round_.commit:
            lines.append(
                f'  {node}["round {round_.number}: {what}<br/>kept {round_.commit[:8]}"]:::kept'
            )
            lines.append(f"  {previous} --> {node}")
            previous = node
        else:
            why = _label(round_.reason.removeprefix("rolled back: "))
            lines.append(
                f'  {node}["round {round_.number}: {what}<br/>rolled back: {why}"]:::rolled'
            )
            lines.append(f"  {previous} -.-> {node}")
    if len(result.rounds) > len(shown):
        lines.append(f'  more["{len(result.rounds) - len(shown)} more rounds"]')
        lines.append(f"  {previous} -.-> more")
    fixed = len(result.fixed_tests)
    left = len(result.remaining_failures)
    state = result.status.value.replace("_", " ")
    style = "good" if result.status in (RunStatus.FIXED, RunStatus.NOTHING_TO_FIX) else "bad"
    lines.append(f'  result(["{state}: {fixed} fixed, {left} still failing"]):::{style}')
    lines.append(f"  {previous} --> result")
    lines += [
        "  classDef kept fill:#dafbe1,stroke:#1a7f37,color:#1f2328",
        "  classDef rolled fill:#ffebe9,stroke:#cf222e,stroke-dasharray:4 3,color:#1f2328",
        "  classDef good fill:#dafbe1,stroke:#1a7f37,color:#1f2328",
        "  classDef bad fill:#fff8c5,stroke:#9a6700,color:#1f2328",
    ]
    return "```mermaid\n" + "\n".join(lines) + "\n```"


def _counts(summary: object) -> tuple[int, int] | None:
    if not isinstance(summary, Mapping) or not isinstance(summary.get("outcomes"), Mapping):
        return None
    counts = ListedOutcomes.of(summary).counts(summary)
    return counts["passed"], counts["failed"] + counts["error"] + counts["timeout"]


def rounds_table(result: RunResult) -> list[str]:
    if not result.rounds:
        return ["No repair round ran."]
    lines = [
        "| # | round | verdict | engine / template | change | tests |",
        "|---|---|---|---|---|---|",
    ]
    for index, round_ in enumerate(result.rounds, start=1):
        if round_.commit:
            verdict = f"kept `{round_.commit[:10]}`"
            tests = f"fixed {len(round_.fixed_tests)}"
        else:
            verdict = "rolled back"
            tests = round_.reason.removeprefix("rolled back: ")
        engine = f"{round_.engine} / {round_.template}" if round_.template else round_.engine
        lines.append(
            f"| {index} | {round_.number} | {_cell(verdict)} | {_cell(engine)} | "
            f"{_cell(code(_what(round_)))} | {_cell(tests)} |"
        )
    return lines


def tests_line(result: RunResult) -> str:
    before = _counts(result.extra.get("baseline"))
    after = _counts(result.extra.get("final"))
    if before is None or after is None:
        return (
            f"**Tests:** {_plural(len(result.fixed_tests), 'test')} fixed, "
            f"{len(result.remaining_failures)} still failing."
        )
    text = (
        f"**Tests:** base {before[0]} passed, {before[1]} failing → "
        f"final {after[0]} passed, {after[1]} failing."
    )
    if result.remaining_failures:
        shown = ", ".join(code(t) for t in result.remaining_failures[:5])
        more = len(result.remaining_failures) - 5
        text += f" Still failing: {shown}" + (f" and {more} more" if more > 0 else "") + "."
    return text


def compact_summary(result: RunResult, context: ReportContext, headline: str) -> str:
    """The step summary: short enough to read at a glance, with the rounds as a diagram."""
    parts = [
        f"## mendbot: {headline}",
        summary_line(result, context),
    ]
    if result.rounds:
        parts.append(rounds_diagram(result))
    parts.append("\n".join(rounds_table(result)))
    parts.append(tests_line(result))
    parts.append(
        f"**Time:** {result.duration_s:.1f}s, "
        f"{_plural(result.candidates_tried, 'candidate')} tried"
        + (f", engines {', '.join(code(e) for e in result.engines)}" if result.engines else "")
        + "."
    )
    if context.report_url:
        parts.append(
            "**Full report** (timeline, diffs, test matrix, candidates): the "
            f"`mendbot-report-*` artifact of [this workflow run]({context.report_url})."
        )
    if result.analysis is not None and result.analysis.failures:
        notes = "\n".join(root_cause_section(result, context)[1:])
        parts.append(f"<details><summary>Root cause</summary>\n\n{notes}\n\n</details>")
    return _limit(_clean("\n\n".join(parts) + "\n", context))
