"""Deterministic root-cause notes for accepted rounds."""

from __future__ import annotations

from collections.abc import Sequence

from bot.models import Analysis, Candidate, Failure

CLASS_MEANING = {
    "FORMAT": "the code could not be parsed or imported",
    "CONTRACT": "a function broke its input/output contract",
    "RUNTIME_SAFETY": "the code made an unsafe access",
    "LOGIC": "the code computed a wrong result",
}


def _short(failure: Failure) -> str:
    message = failure.message.strip().splitlines()[0] if failure.message.strip() else ""
    if message.startswith(failure.exception_type):
        error = message  # the message already names the exception
    else:
        error = failure.exception_type + (f": {message}" if message else "")
    return f"{failure.nodeid} ({error[:160]})"


def root_cause_note(
    analysis: Analysis, candidate: Candidate, fixed: Sequence[str], regressions_checked: int
) -> str:
    fixed_set = set(fixed)
    addressed = [f for f in analysis.failures if f.nodeid in fixed_set] or list(analysis.failures)
    failure_class = addressed[0].failure_class if addressed else analysis.primary_class
    lines = [
        f"Failure class: {failure_class.value}: {CLASS_MEANING[failure_class.value]}.",
        "Failing tests: "
        + "; ".join(_short(f) for f in addressed[:5])
        + (f" and {len(addressed) - 5} more" if len(addressed) > 5 else ""),
    ]
    location = candidate.location
    if location is not None:
        where = f"{location.file}:{location.line}"
        if location.function:
            where += f" in {location.function}()"
        lines.append(f"Location: {where} (found by {location.reason}).")
    lines.append(f"Change ({candidate.template}): {candidate.description}.")
    why = candidate.rationale or "the edit makes the failing tests pass"
    lines.append(
        f"Why: {why}; with the change the {len(fixed)} failing test(s) pass and the "
        f"{regressions_checked} test(s) that passed before still pass."
    )
    return "\n".join(lines)
