"""What the stages ask of the run's one time budget (``bot/deadline.py``): whether a proof
still fits, and how the run says the budget stopped it."""

from __future__ import annotations

from bot.stages.context import Run, RunState


def proof_seconds(state: RunState) -> float:
    """What one proof is expected to take: the whole selection again with coverage (the
    final runs go beside it on the other core), from the baseline's duration."""
    return 1.5 * state.suite_seconds + 2.0


def room_for_proof(run: Run) -> bool:
    """Whether a candidate found now could still be proven before the deadline; a proof
    that cannot finish is never started (it would prove nothing)."""
    if run.clock.fits(proof_seconds(run.state)):
        return True
    run.state.out_of_time = True
    return False


def budget_reason(run: Run) -> str:
    clock, state = run.clock, run.state
    if state.out_of_time and not clock.expired():
        return (
            f"the time budget ran out: {clock.remaining():.0f}s left, and proving a "
            f"candidate on the whole selection takes about {proof_seconds(state):.0f}s"
        )
    return f"the time budget of {clock.budget:.0f}s ran out"
