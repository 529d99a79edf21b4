"""Markdown lines for reports: which gates ran and what they found, flaky tests, runners-up.

Reads only ``RunResult.extra`` (``gates``, ``flaky``, ``runners_up``), so any report (the pull
request body, the job summary) can include it. A gate that could not run says "not run" and
why; it is never shown as passed.
"""

from __future__ import annotations

from collections.abc import Mapping

SHOWN = {"passed": "passed", "failed": "**failed**", "not_run": "not run", "doubt": "**doubt**"}
MAX_RUNNERS_UP = 3


def _cell(text: object) -> str:
    return " ".join(str(text).split()).replace("|", "\\|")[:300]


def gates_section(extra: Mapping[str, object]) -> list[str]:
    gates = extra.get("gates")
    lines = ["### Gates", ""]
    if not isinstance(gates, list) or not gates:
        return [*lines, "No gate results were recorded."]
    lines += ["| gate | round | result | detail |", "|---|---|---|---|"]
    for gate in gates:
        if not isinstance(gate, Mapping):
            continue
        status = str(gate.get("status", ""))
        number = gate.get("round")
        lines.append(
            f"| {_cell(gate.get('name', '?'))} | {number if number is not None else 'run'} | "
            f"{SHOWN.get(status, _cell(status))} | {_cell(gate.get('detail', ''))} |"
        )
    flaky = extra.get("flaky")
    if isinstance(flaky, list) and flaky:
        lines += [
            "",
            "Flaky tests (never counted as fixed) and order-dependent ones (they must still "
            "pass in the normal order):",
        ]
        lines += [
            f"- `{item.get('test')}` ({item.get('kind')}): {_cell(item.get('detail', ''))}"
            for item in flaky
            if isinstance(item, Mapping)
        ]
    runners_up = extra.get("runners_up")
    if isinstance(runners_up, list) and runners_up:
        lines += ["", "Other patches that passed the tests, ranked lower:"]
        for item in runners_up[:MAX_RUNNERS_UP]:
            if not isinstance(item, Mapping):
                continue
            distance = item.get("distance")
            changed = distance.get("recorded") if isinstance(distance, Mapping) else None
            why = (
                f"changes {changed:.0%} of the passing tests' calls"
                if isinstance(changed, float)
                else "behaviour not compared"
            )
            flags = item.get("flags")
            if isinstance(flags, list) and flags:
                why += "; flagged: " + _cell("; ".join(str(f) for f in flags))
            lines.append(f"- {_cell(item.get('description', ''))} ({why})")
    return lines
