"""The record every gate leaves: its name, whether it passed, failed or could not run, and why.

A gate that could not run (a tool that is not installed, no coverage data) is ``not_run``;
it is never reported as passed. A gate that raises a ``doubt`` lets the patch through and says
what to review (the report, the JSON and the pull request name it).
"""

from __future__ import annotations

import enum
from collections.abc import Iterable
from dataclasses import dataclass


class GateStatus(enum.StrEnum):
    PASSED = "passed"
    FAILED = "failed"
    NOT_RUN = "not_run"
    DOUBT = "doubt"  # it ran and found something to review, not enough to reject the patch


@dataclass(frozen=True)
class GateResult:
    name: str
    status: GateStatus
    detail: str = ""

    @property
    def failed(self) -> bool:
        return self.status is GateStatus.FAILED

    def to_json(self, round_number: int | None = None) -> dict[str, object]:
        found: dict[str, object] = {
            "name": self.name,
            "status": self.status.value,
            "detail": self.detail,
        }
        if round_number is not None:
            found["round"] = round_number
        return found


def passed(name: str, detail: str = "") -> GateResult:
    return GateResult(name, GateStatus.PASSED, detail)


def failed(name: str, detail: str) -> GateResult:
    return GateResult(name, GateStatus.FAILED, detail)


def not_run(name: str, why: str) -> GateResult:
    return GateResult(name, GateStatus.NOT_RUN, f"not run: {why}")


def doubt(name: str, detail: str) -> GateResult:
    return GateResult(name, GateStatus.DOUBT, detail)


def first_failure(results: Iterable[GateResult]) -> GateResult | None:
    return next((result for result in results if result.failed), None)


def trailer(results: Iterable[GateResult]) -> list[str]:
    """Commit-message trailers: one ``Mendbot-Gate: name: status`` line per gate."""
    return [f"Mendbot-Gate: {r.name}: {r.status.value}" for r in results]
