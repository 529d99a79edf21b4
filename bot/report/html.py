"""The HTML run report: one self-contained file (inline CSS, no scripts, no external URLs).

Jinja2 renders it with autoescape on, so every text from a run (test names, model replies,
reasons) is escaped by the template engine; Pygments highlights the diffs, with its
stylesheet inlined. The templates live in ``bot/report/templates``.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from jinja2 import Environment, PackageLoader, StrictUndefined
from markupsafe import Markup
from pygments import highlight
from pygments.formatters import HtmlFormatter
from pygments.lexers import DiffLexer

from bot import __version__
from bot.errors import ConfigError
from bot.history import RunRecord, list_runs, load_run, record_from_result, resolve_run
from bot.models import RunResult
from bot.redaction import known_secrets, redact
from bot.report.runview import (
    FAIL,
    FLAKY,
    NOT_RUN,
    PASS,
    SKIP,
    RunView,
    build_view,
    duration_text,
    short,
    when_text,
)

DIFF_CLASS = "diff"
STATE_MARK = {PASS: "✓ pass", FAIL: "✗ fail", FLAKY: "~ flaky", SKIP: "skip", NOT_RUN: "not run"}
STATE_CLASS = {PASS: "pass", FAIL: "fail", FLAKY: "flaky", SKIP: "skip", NOT_RUN: "notrun"}


def _environment() -> Environment:
    environment = Environment(
        loader=PackageLoader("bot.report", "templates"),
        autoescape=True,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    environment.filters["duration"] = duration_text
    environment.filters["when"] = when_text
    environment.filters["short"] = short
    return environment


@dataclass(frozen=True)
class Bar:
    label: str
    kind: str
    left: float  # percent of the run
    width: float
    start_s: float
    duration_s: float
    detail: str


def timeline_bars(view: RunView) -> list[Bar]:
    total = view.timeline.total_s or 1.0
    bars = []
    for span in view.timeline.spans:
        left = max(0.0, min(100.0, 100.0 * span.start_s / total))
        width = max(0.6, min(100.0 - left, 100.0 * span.duration_s / total))
        bars.append(
            Bar(
                span.label,
                span.kind,
                round(left, 2),
                round(width, 2),
                span.start_s,
                span.duration_s,
                span.detail,
            )
        )
    return bars


def highlighted(diff: str) -> Markup:
    """A diff as HTML from Pygments (which escapes the text itself)."""
    formatter = HtmlFormatter(cssclass=DIFF_CLASS)
    return Markup(highlight(diff.rstrip() + "\n", DiffLexer(), formatter))


def stylesheet() -> Markup:
    formatter = HtmlFormatter(cssclass=DIFF_CLASS)
    rules: str = formatter.get_style_defs(f".{DIFF_CLASS}")  # type: ignore[no-untyped-call]
    return Markup(rules)


def _status_class(status: str) -> str:
    return {
        "fixed": "good",
        "nothing_to_fix": "good",
        "not_fixed": "bad",
        "error": "bad",
        "interrupted": "warn",
        "running": "warn",
    }.get(status, "warn")


META_DEFAULTS: dict[str, Any] = {
    key: None
    for key in (
        "run_id",
        "reason",
        "started",
        "duration_s",
        "trigger",
        "label",
        "base",
        "branch",
        "head",
        "candidates_tried",
    )
} | {"engines": [], "models": [], "trace": {}}


def context_for(view: RunView) -> dict[str, Any]:
    meta: Mapping[str, Any] = {**META_DEFAULTS, **view.meta}
    matrix = view.matrix
    counts = [matrix.counts(index) for index in range(len(matrix.columns))]
    kept = [a for a in view.attempts if a.kept]
    return {
        "view": view,
        "meta": meta,
        "status": str(meta.get("status") or "interrupted"),
        "status_class": _status_class(str(meta.get("status") or "")),
        "bars": timeline_bars(view),
        "diffs": {a.number: highlighted(a.diff) for a in view.attempts if a.diff},
        "kept": kept,
        "rolled_back": [a for a in view.attempts if not a.kept],
        "counts": counts,
        "states": [PASS, FAIL, FLAKY, SKIP, NOT_RUN],
        "state_mark": STATE_MARK,
        "state_class": STATE_CLASS,
        "gate_counts": Counter(g.state for g in view.gates or ()),
        "stylesheet": stylesheet(),
        "version": __version__,
    }


def render_report(view: RunView) -> str:
    text = _environment().get_template("report.html.j2").render(**context_for(view))
    return redact(text, known_secrets())


def write_html(text: str, output: Path) -> Path:
    try:
        output.parent.mkdir(parents=True, exist_ok=True)
        output.write_text(text, encoding="utf-8")
    except OSError as error:
        raise ConfigError(
            f"cannot write the report to {output}: {error.strerror or error}",
            hint="pass -o with a path in a folder you can write to",
        ) from None
    return output


def write_report(top: Path, spec: str, output: Path) -> Path:
    """Render run ``spec`` of the repository at ``top`` into ``output``."""
    record = load_run(top, spec)
    return write_html(render_report(build_view(record, top)), output)


def report_for_result(top: Path, result: RunResult, output: Path) -> Path:
    """The report of a run that just ended: from git when it was stored, else from the result."""
    record: RunRecord | None = None
    if result.run_id and any(r.run_id == result.run_id for r in list_runs(top)):
        record = load_run(top, resolve_run(top, result.run_id))
    if record is None:
        record = record_from_result(result)
    return write_html(render_report(build_view(record, top)), output)
