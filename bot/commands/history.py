"""`mendbot runs`, `show`, `report` and `stats`: the run history kept in git.

They read only git (refs/mendbot/runs/*, the round commits and rolled-back attempts) and the
run folders of interrupted runs, so a run made in CI can be inspected in any clone after
``git fetch origin 'refs/mendbot/*:refs/mendbot/*'``.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import click

from bot.config import load_settings
from bot.engines.mutations.learned import LearnedPriors
from bot.history import (
    INTERRUPTED,
    RunRecord,
    list_runs,
    load_run,
    prune_runs,
    repository_top,
)
from bot.redaction import echo
from bot.report.runview import (
    RunView,
    build_view,
    duration_text,
    short,
    view_to_json,
)

REPO_OPTION = click.option(
    "-C",
    "--repo",
    "repo",
    type=click.Path(path_type=Path, file_okay=False),
    default=Path("."),
    show_default=True,
    help="the repository whose runs to read",
)


def _table(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    widths = [len(h) for h in headers]
    for row in rows:
        widths = [max(w, len(cell)) for w, cell in zip(widths, row, strict=True)]
    lines = ["  ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True)).rstrip()]
    for row in rows:
        lines.append("  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip())
    return "\n".join(lines)


def _when(epoch: object) -> str:
    import time

    if not isinstance(epoch, int | float) or not epoch:
        return "?"
    return time.strftime("%Y-%m-%d %H:%M", time.localtime(float(epoch)))


def _engine(meta: dict[str, Any] | Any) -> str:
    engines = ", ".join(str(e) for e in meta.get("engines") or []) or "?"
    models = meta.get("models") or []
    return f"{engines} ({', '.join(models)})" if models else engines


def run_row(record: RunRecord) -> list[str]:
    meta = record.meta
    rounds = meta.get("rounds")
    kept = meta.get("kept")
    trigger = str(meta.get("trigger") or "?")
    label = str(meta.get("label") or "")
    if label and label != trigger:
        trigger = f"{trigger} ({label})"
    duration = meta.get("duration_s")
    return [
        _when(meta.get("started")),
        record.run_id,
        trigger,
        short(str(meta.get("base") or "")) or "?",
        str(meta.get("branch") or "-"),
        record.status.replace("_", " "),
        f"{rounds} ({kept} kept)" if isinstance(rounds, int) else "?",
        duration_text(float(duration)) if isinstance(duration, int | float) else "?",
        _engine(meta),
    ]


@click.command("runs")
@click.argument("path", type=click.Path(path_type=Path), default=Path("."), required=False)
@click.option("--json", "as_json", is_flag=True, help="print a JSON list")
@click.option("--prune", is_flag=True, help="remove all but the newest runs (see --keep)")
@click.option(
    "--keep",
    type=int,
    default=None,
    help="with --prune: how many of the newest runs to keep (default: the keep-runs setting)",
)
def runs(path: Path, as_json: bool, prune: bool, keep: int | None) -> None:
    """List the mendbot runs of the repository at PATH, oldest first.

    Stored runs come from refs/mendbot/runs/*; a run that was killed before it could be stored
    is listed from its folder as interrupted. With --prune, the oldest runs are removed
    instead (their refs and folders; git gc reclaims the objects), the newest --keep stay.
    """
    top = repository_top(path)
    if keep is not None and not prune:
        raise click.UsageError("--keep goes with --prune")
    if prune:
        if keep is None:
            keep = load_settings(path if path.is_dir() else top).keep_runs
            if keep == 0:
                raise click.UsageError("keep-runs is 0 (keep every run): give --keep N")
        pruned = prune_runs(top, keep)
        if as_json:
            click.echo(json.dumps({"removed": list(pruned.removed), "kept": pruned.kept}))
        else:
            removed = f" ({', '.join(pruned.removed)})" if pruned.removed else ""
            click.echo(f"removed {len(pruned.removed)} run(s){removed}; kept the newest {keep}")
        return
    records = list_runs(top)
    if as_json:
        listed = [{**record.meta, "stored": bool(record.commit)} for record in records]
        echo(json.dumps(listed, indent=2, default=str))
        return
    if not records:
        echo(
            "no mendbot runs yet (runs made in CI arrive with "
            "git fetch origin 'refs/mendbot/*:refs/mendbot/*')"
        )
        return
    headers = ["when", "run", "trigger", "base", "branch", "status", "rounds", "time", "engine"]
    echo(_table(headers, [run_row(r) for r in records]))
    interrupted = sum(1 for r in records if r.status == INTERRUPTED)
    if interrupted:
        echo(f"\n{interrupted} run(s) were interrupted before they finished.")


def _indent(text: str, prefix: str = "    ") -> str:
    return "\n".join(prefix + line if line else line for line in text.splitlines())


def show_text(view: RunView) -> str:
    meta = view.meta
    lines = [
        f"run {view.record.run_id}: {view.record.status.replace('_', ' ')}"
        + (f" ({meta.get('reason')})" if meta.get("reason") else ""),
        f"  trigger {meta.get('trigger') or '?'}"
        + (
            f" ({meta.get('label')})"
            if meta.get("label") and meta.get("label") != meta.get("trigger")
            else ""
        )
        + f", {_when(meta.get('started'))}, took {duration_text(meta.get('duration_s'))}, "
        f"engine {_engine(meta)}",
        f"  base {short(meta.get('base'))}  branch {meta.get('branch') or '-'}  "
        f"head {short(meta.get('head'))}",
    ]
    if view.failures:
        lines.append("")
        lines.append("failing at base:")
        for failure in view.failures:
            lines.append(
                f"  {failure.test} [{failure.failure_class}] {failure.error}: {failure.message}"
            )
    for attempt in view.attempts:
        lines.append("")
        where = attempt.commit[:10] if attempt.commit else "?"
        if not attempt.kept and attempt.rejected_ref:
            where += f" (kept at {attempt.rejected_ref})"
        lines.append(
            f"round {attempt.round}: {attempt.verdict} {where} "
            f"[{attempt.engine} / {attempt.template}] {attempt.description}"
        )
        lines.append(f"  verdict: {attempt.reason}")
        if attempt.root_cause:
            lines.append("  root cause:")
            lines.append(_indent(attempt.root_cause))
        if attempt.flips:
            lines.append("  tests flipped:")
            lines += [f"    {f.test}: {f.before} -> {f.after}" for f in attempt.flips]
        if attempt.diff:
            lines.append("  diff:")
            lines.append(_indent(attempt.diff.rstrip()))
        elif attempt.commit:
            lines.append("  diff: not in this repository (fetch refs/mendbot/*)")
    rejected = [row for row in view.templates if row.rejected]
    if rejected:
        lines.append("")
        lines.append("rejected candidates, per template:")
        for row in rejected:
            reasons = "; ".join(f"{reason} ({count})" for reason, count in row.reasons)
            lines.append(f"  {row.engine}/{row.template}: {row.rejected} rejected: {reasons}")
    if view.remaining:
        lines.append("")
        lines.append("still failing: " + ", ".join(view.remaining))
    return "\n".join(lines)


@click.command("show")
@click.argument("run")
@REPO_OPTION
@click.option("--json", "as_json", is_flag=True, help="print one JSON object")
def show(run: str, repo: Path, as_json: bool) -> None:
    """Show one run: each round with its verdict, root cause, diff and the tests it flipped,
    and the rejected candidates. RUN is a run id, a unique prefix of one, or `last`."""
    top = repository_top(repo)
    view = build_view(load_run(top, run), top)
    if as_json:
        echo(json.dumps(view_to_json(view), indent=2, default=str))
    else:
        echo(show_text(view))


@click.command("report")
@click.argument("run")
@REPO_OPTION
@click.option(
    "-o",
    "--output",
    type=click.Path(path_type=Path, dir_okay=False),
    default=None,
    help="the HTML file to write (default: mendbot-report-RUN.html)",
)
def report(run: str, repo: Path, output: Path | None) -> None:
    """Write one run as a single self-contained HTML file (no network needed to view it)."""
    from bot.report.html import render_report, write_html

    top = repository_top(repo)
    record = load_run(top, run)
    target = output or Path(f"mendbot-report-{record.run_id}.html")
    write_html(render_report(build_view(record, top)), target)
    echo(f"wrote {target}", err=True)


@click.command("stats")
@click.argument("path", type=click.Path(path_type=Path), default=Path("."), required=False)
@click.option("--json", "as_json", is_flag=True, help="print one JSON object")
def stats(path: Path, as_json: bool) -> None:
    """What worked in this repository: fix rate by failure class and template, time to fix,
    and the templates and models that pay off."""
    from bot.engines.mutations.learned import MAX_RUNS, MAX_TRACE_BYTES, learn
    from bot.history import iter_records, recent_records
    from bot.report.aggregate import collect, learned_to_json, stats_to_json

    top = repository_top(path)
    summary = collect(iter_records(top))
    learned = learn(recent_records(top, MAX_RUNS, MAX_TRACE_BYTES))
    enabled = load_settings(path if path.is_dir() else top).learned_priors
    data = {**stats_to_json(summary), "learned_priors": learned_to_json(learned, enabled)}
    if as_json:
        echo(json.dumps(data, indent=2))
        return
    if not summary.runs:
        echo("no mendbot runs yet")
        return
    statuses = ", ".join(f"{n} {s.replace('_', ' ')}" for s, n in sorted(summary.by_status.items()))
    lines = [f"{summary.runs} run(s): {statuses}"]
    if summary.median_time_to_fix_s is not None:
        lines.append(
            f"median time to fix: {duration_text(summary.median_time_to_fix_s)} "
            f"({summary.median_rounds_to_fix} kept round(s))"
        )
    if summary.classes:
        lines += ["", "by failure class:"]
        rows = [
            [
                c.failure_class,
                f"{c.runs_fixed}/{c.runs}",
                f"{c.tests_fixed}/{c.tests}",
                f"{100 * c.test_fix_rate:.0f}%",
            ]
            for c in summary.classes
        ]
        lines.append(_indent(_table(["class", "runs fixed", "tests fixed", "rate"], rows), "  "))
    if summary.templates:
        lines += ["", "by template (what pays off first):"]
        rows = [
            [
                f"{t.engine}/{t.template}",
                str(t.tried),
                str(t.screened),
                str(t.kept),
                str(t.rolled_back),
                f"{100 * t.payoff:.1f}%",
            ]
            for t in summary.templates
        ]
        headers = ["template", "tried", "screened", "kept", "rolled back", "kept/tried"]
        lines.append(_indent(_table(headers, rows), "  "))
    lines += _learned_lines(learned, enabled)
    if summary.models:
        lines += ["", "by model:"]
        rows = [
            [
                m.model,
                str(m.calls),
                str(m.tokens),
                duration_text(m.seconds),
                str(m.candidates),
                str(m.kept),
            ]
            for m in summary.models
        ]
        headers = ["model", "calls", "tokens", "time", "candidates", "kept"]
        lines.append(_indent(_table(headers, rows), "  "))
    echo("\n".join(lines))


def _learned_lines(learned: LearnedPriors, enabled: bool) -> list[str]:
    """The multiplier of the built-in prior each template gets in the next run here."""
    if not learned.evidence:
        return ["", "learned priors: none yet (no kept template round); the built-in order holds"]
    state = "" if enabled else "; off here (learned-priors = false), so runs do not use them"
    lines = ["", f"learned priors (x the built-in prior, from {learned.runs} run(s){state}):"]
    ordered = sorted(learned.evidence, key=lambda e: (e.failure_class, -e.multiplier, e.template))
    rows = [
        [e.failure_class.value, e.template, str(e.tried), str(e.kept), f"x{e.multiplier:g}"]
        for e in ordered
    ]
    headers = ["class", "template", "rounds tried", "rounds kept", "multiplier"]
    return [*lines, _indent(_table(headers, rows), "  ")]
