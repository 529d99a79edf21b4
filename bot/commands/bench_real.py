"""Printing for `mendbot bench --suite real` (the logic lives in ``bot.bench_real``)."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import click
from rich.console import Console
from rich.markup import escape
from rich.table import Table

import bot
from bot.bench_real import Settings, load_libraries, outcome_to_json, run_bench, summarize


def _tools_folder() -> Path:
    here = Path("benchmarks/real")
    if (here / "libraries.toml").is_file():
        return here.resolve()
    return Path(bot.__file__).resolve().parent.parent / "benchmarks" / "real"


def bench_real(
    libraries: tuple[str, ...],
    *,
    bugs_per_library: int,
    seed: int,
    plain_runs: int,
    time_budget: float | None,
    cache: Path | None,
    validation: str,
    as_json: bool,
    compare_count: int = 0,
) -> None:
    err = Console(stderr=True, highlight=False)
    tools = _tools_folder()
    settings = Settings(
        cache=(cache or Path.home() / ".cache" / "mendbot" / "real").expanduser().resolve(),
        tools=tools,
        bugs_per_library=bugs_per_library,
        seed=seed,
        plain_runs=plain_runs,
        time_budget=time_budget,
        validation=validation,
        compare_count=compare_count,
        progress=lambda line: err.print(f"[dim]bench real: {escape(line)}[/dim]"),
    )
    chosen = load_libraries(tools / "libraries.toml", libraries)
    per_library, outcomes = run_bench(chosen, settings)
    summary = summarize(per_library)
    if as_json:
        click.echo(
            json.dumps(
                {
                    "summary": summary,
                    "libraries": per_library,
                    "bugs": [outcome_to_json(o) for o in outcomes],
                },
                indent=2,
            )
        )
        return
    print_real(per_library, summary)


def _cell(value: Any, suffix: str = "") -> str:
    return "-" if value is None else f"{value}{suffix}"


def print_real(per_library: list[dict[str, Any]], summary: dict[str, Any]) -> None:
    out = Console(file=sys.stdout, highlight=False, width=200)
    table = Table(title="mendbot bench --suite real")
    columns = (
        "library",
        "tests",
        "plain s",
        "fixed",
        "exact",
        "plausible",
        "false claims",
        "median fix s",
        "fix / plain",
        "target s",
        "cands/s",
        "fallbacks",
        "peak MB",
        "plain MB",
        "overrun s",
    )
    for column in columns:
        table.add_column(column)
    for lib in per_library:
        table.add_row(
            lib["library"],
            str(lib["tests"])
            + (f" ({len(lib['already_failing'])} failing)" if lib["already_failing"] else ""),
            _cell(lib["plain_suite_s"]),
            f"{lib['fixed']}/{lib['bugs']}",
            str(lib["exact_reverts"]),
            str(lib["plausible_others"]),
            str(lib["false_claims"]),
            _cell(lib["median_time_to_fix_s"]),
            _cell(lib["time_per_plain_suite"], "x"),
            _cell(lib["target_time_s"]),
            _cell(lib["candidates_per_s"]),
            f"{lib['fallbacks']}/{lib['candidates_screened']}",
            _cell(lib["peak_memory_mb"]),
            _cell(lib["plain_peak_memory_mb"]),
            _cell(lib["largest_overrun_s"]),
        )
    out.print(table)
    for lib in per_library:
        found = lib.get("screening_comparison")
        if found:
            out.print(
                f"{lib['library']}: the same {found['candidates']} candidates screened side by "
                f"side: fast {found['fast_s']} s, naive {found['naive_s']} s "
                f"({_cell(found['naive_per_fast'], 'x')}); verdicts that differ: "
                f"{len(found['disagreements'])}"
            )
        for cause, count in lib["fallback_causes"].items():
            out.print(f"{lib['library']}: fallback x{count}: {cause}", markup=False)
        for nodeid in lib["already_failing"]:
            out.print(
                f"{lib['library']}: fails before any bug (deselected): {nodeid}", markup=False
            )
    out.print(
        f"fixed {summary['fixed']}/{summary['bugs']} "
        f"({_cell(summary['fix_rate'])}); false claims {summary['false_claims']}; "
        f"median time to fix within 3x plain + 10 s on {summary['within_time_target']} of "
        f"{summary['libraries']} libraries; "
        f"largest budget overrun {summary['largest_overrun_s']} s; "
        f"bugs injected with {summary['mutation_tool']}"
    )
