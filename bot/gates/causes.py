"""Why a round found no fix, in one headline that names the real cause.

Each candidate's verdict is counted as the round goes (refused before testing, and why; the
failing tests still failing; a test that passed before breaking, and which; out of time); the
proofs that rolled back say why too. The headline picks the cause that decided the round, in
this order: the budget, no candidate at all (and why), every candidate refused before testing,
a regression elsewhere (named), the failing tests still failing under every candidate. The
failing tests are listed once, under the headline, never inside it.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from bot.models import Verdict

# a candidate that fixes at least this many failing tests while breaking one that passed is
# named in the headline, with the masking it may reveal
MASKING_HINT_FIXED = 2

REFUSAL_STAGES = {
    "guard": "change a path mendbot may not change or do not compile",
    "safety": "add a dangerous call",
    "overfit": "by the overfitting guards",
    "test-quality": "write a test that is not a real test",
}


@dataclass
class RoundCauses:
    """What happened to the candidates of one round."""

    tried: int = 0
    refused: Counter[str] = field(default_factory=Counter)  # stage -> count
    protected: int = 0  # refused because of the path they change
    path_problem: str = ""  # the first such refusal
    still_failing: int = 0
    timed_out: int = 0
    fixed_some: int = 0
    broke: Counter[str] = field(default_factory=Counter)  # test -> candidates that broke it
    rolled_back: list[str] = field(default_factory=list)  # why proofs rolled back
    # the candidate that fixed the most failing tests while breaking a passing one: how many
    # it fixed, what it changed, the first test it broke
    closest: tuple[int, str, str] | None = None

    def count(self, verdict: Verdict, description: str = "") -> None:
        self.tried += 1
        if verdict.stage in REFUSAL_STAGES:
            self.refused[verdict.stage] += 1
            if verdict.stage == "guard" and not verdict.reason.startswith("does not compile"):
                self.protected += 1
                self.path_problem = self.path_problem or verdict.reason
            return
        if verdict.timed_out:
            self.timed_out += 1
        if verdict.broken:
            self.broke.update(verdict.broken)
            if verdict.fixed and (self.closest is None or len(verdict.fixed) > self.closest[0]):
                self.closest = (len(verdict.fixed), description, verdict.broken[0])
        elif verdict.fixed:
            self.fixed_some += 1
        elif not verdict.accepted:
            self.still_failing += 1


def headline(
    causes: RoundCauses,
    *,
    localized: bool,
    broken_test_files: Sequence[str],
    model_usage: Mapping[str, float] | None,
    candidates_tried: int,
    number: int,
) -> str:
    """The not-fixed headline for a round that found no fix."""
    tried = f"({candidates_tried} candidates tried by round {number})"
    prose = _prose_only(model_usage)
    if causes.tried == 0:
        if prose:
            return prose
        if broken_test_files:
            return (
                f"no candidate at all: the test file {broken_test_files[0]} does not collect, "
                "and test files are not changed (allow them with --allow-test-edits)"
            )
        if not localized:
            return (
                "no candidate at all: nothing was localized (no line of the code under repair "
                "is on the failing tests' tracebacks or run by them)"
            )
        return "no candidate at all: the engines proposed nothing for the localized code"
    refused = sum(causes.refused.values())
    if refused == causes.tried:
        if causes.protected == causes.tried:
            return (
                "no candidate could be tried: every one changes a path mendbot may not "
                f"change ({causes.path_problem})"
            )
        parts = [f"{count} {_stage(stage)}" for stage, count in causes.refused.most_common()]
        return f"every candidate was refused before testing: {', '.join(parts)} {tried}"
    regression = [why for why in causes.rolled_back if why.startswith("breaks")]
    if regression:
        return (
            f"a candidate fixed the failing tests but {regression[0]} "
            f"(a regression elsewhere) {tried}"
        )
    if causes.broke:
        test, count = causes.broke.most_common(1)[0]
        closest = ""
        if causes.closest is not None and causes.closest[0] >= MASKING_HINT_FIXED:
            fixed, what, broken = causes.closest
            # two bugs that cancel out for some test: fixing either one alone breaks it
            closest = (
                f"; the closest fixed {fixed} failing tests but broke {broken}"
                + (f" ({what})" if what else "")
                + f": if {broken} passed only because a second bug cancels this one, "
                "fix that bug first"
            )
        return (
            f"the candidates that fixed failing tests broke a passing test: {test} "
            f"({count} of them){closest} {tried}"
        )
    if causes.rolled_back:
        return (
            "the proof rolled back every candidate that passed screening: "
            f"{causes.rolled_back[0]} {tried}"
        )
    if causes.timed_out == causes.tried - refused:
        return f"every candidate ran out of time {tried}"
    return f"the failing tests still fail under every candidate {tried}"


def _stage(stage: str) -> str:
    return REFUSAL_STAGES.get(stage, stage)


def _prose_only(usage: Mapping[str, float] | None) -> str:
    if not usage:
        return ""
    calls = int(usage.get("calls", 0))
    if calls and not usage.get("candidates") and usage.get("rejected_replies"):
        return (
            f"the model answered {calls} time{'s' if calls != 1 else ''} without a usable edit "
            "(prose or an edit that does not apply): no candidate to test"
        )
    return ""
