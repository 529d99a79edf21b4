"""Proof: the plausible candidates ranked (``gates/ranking.py``), then proven in that order.
A candidate is committed and judged from the committed tree; cheap gates first: static tools,
the tests it writes, the whole suite, the tests beyond the selection that reach the change,
the import check, coverage of the changed lines, then the final runs, which go beside the
proof run on a copy of the committed tree (``gates/keeper.py``)."""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence

from bot import workspace as ws
from bot.analysis.classify import is_test_path
from bot.analysis.rca import root_cause_note
from bot.gates import flaky as flaky_gate
from bot.gates.base import GateResult, first_failure, passed
from bot.gates.behaviour import Target, TargetResult, target_results
from bot.gates.ranking import Ranked, rank
from bot.gates.reach import Wider, selects_tests
from bot.models import Candidate, Outcome, TestRun, Verdict
from bot.stages.budget import room_for_proof
from bot.stages.context import RoundInputs, Run, tampered
from bot.stages.rounds import Attempt, Proof, commit_message, keep, reject
from bot.testing.outcomes import run_summary


def prove_ranked(
    run: Run,
    inputs: RoundInputs,
    plausible: list[tuple[Candidate, Verdict]],
    screened: Mapping[str, Mapping[str, object]] | None = None,
) -> TestRun | None:
    """Rank the plausible candidates and prove them in that order; record the runners-up.

    Behaviour comes from the screening worker's probe when it compared these candidates
    (``screened``), else from a probe run of its own."""

    def probe(targets: Sequence[Target], tests: Sequence[str]) -> dict[str, TargetResult] | str:
        if screened is not None:
            found = target_results(screened)
            if all(
                t.key in found and set(t.variants) <= set(found[t.key].differences) for t in targets
            ):
                return found
        run.stage(inputs.stage, f"comparing {len(plausible)} plausible candidates")
        return run.trust.prober.probe(
            targets, tests, same_path=True, test_timeout=run.test_timeout(inputs.current)
        )

    ranked, note = rank(
        plausible, inputs.code, inputs.current, literals=inputs.literals, probe=probe
    )
    _trace_ranking(run, inputs, ranked, note)
    for position, item in enumerate(ranked):
        if not room_for_proof(run):
            break
        proven = prove(run, inputs, item.candidate, item.verdict, ranked=item)
        if proven is not None:
            run.state.ranking.append(
                {
                    "round": inputs.number,
                    "plausible": len(ranked),
                    "chosen": item.candidate.id,
                    "position": position + 1,
                    "note": note,
                }
            )
            for other in ranked[position + 1 :]:
                run.state.runners_up.append({"round": inputs.number, **other.to_json(inputs.code)})
            return proven
    return None


def _trace_ranking(run: Run, inputs: RoundInputs, ranked: Sequence[Ranked], note: str) -> None:
    run.ports.trace.write(
        "ranking",
        round=inputs.number,
        note=note,
        order=[
            {
                "id": r.candidate.id,
                "flags": list(r.flags),
                "recorded": r.recorded_distance,
                "variations": r.variation_distance,
                "size": r.candidate.size,
                "prior": r.candidate.prior,
            }
            for r in ranked
        ],
    )


def prove(
    run: Run,
    inputs: RoundInputs,
    candidate: Candidate,
    verdict: Verdict,
    *,
    ranked: Ranked | None = None,
) -> TestRun | None:
    """Commit the candidate, run the gates and the whole suite from the committed tree, keep
    it or roll it back. Cheap gates run first: static tools, then tests, then coverage."""
    workspace, keeper = run.workspace, run.trust.keeper
    started = time.monotonic()
    changed = tampered(run.state)  # by a probe run of the candidates
    if changed:
        run.ports.trace.write("candidate", id=candidate.id, accepted=False, reason=changed)
        return None
    previous = ws.current_commit(workspace)
    gates: list[GateResult] = [
        passed("syntax", f"{len(candidate.edits)} changed file(s) compile"),
    ]
    written = keeper.written_tests(candidate, inputs.tests)
    if written:
        gates.append(_written_tests_before(run, inputs, candidate, written))
    static_before = keeper.static_before(candidate)
    old_texts = {
        e.path: inputs.code.get(e.path, inputs.tests.get(e.path, "")) for e in candidate.edits
    }
    ws.write_files(workspace, {e.path: e.new_text for e in candidate.edits})
    passed_before = set(inputs.current.passing)
    note = root_cause_note(inputs.analysis, candidate, verdict.fixed, len(passed_before))
    message = commit_message(inputs.number, candidate, verdict, note, workspace)
    commit = ws.commit_round(workspace, candidate.files, message)
    attempt = Attempt(
        candidate, verdict, ranked, gates, previous, commit, started, note, written, old_texts
    )
    gates += keeper.static_after(candidate, static_before)
    problem = first_failure(gates)
    if problem is not None:
        reject(run, inputs, attempt, f"{problem.name}: {problem.detail}")
        return None
    run.stage(inputs.stage, f"verifying {candidate.description[:60]}")
    final = _final_runs(run, inputs, commit)
    try:
        return _verify(run, inputs, attempt, final)
    finally:
        if final is not None:
            final.cancel()  # a no-op once its result was taken


def _written_tests_before(
    run: Run, inputs: RoundInputs, candidate: Candidate, written: list[str]
) -> GateResult:
    """A written test must fail on the code before the fix: write only the test files."""
    workspace = run.workspace
    ws.write_files(workspace, {e.path: e.new_text for e in candidate.edits if is_test_path(e.path)})
    options = flaky_gate.option_arguments(run.settings.pytest_args, workspace.project_dir)
    before_run = run.runner.run(
        [*options, *written],
        timeout=60.0,
        per_test_timeout=run.test_timeout(inputs.current),
        selection=False,
    )
    ws.restore_clean(workspace)
    return run.trust.keeper.written_tests_before(before_run, written)


def _final_runs(run: Run, inputs: RoundInputs, commit: str) -> flaky_gate.FinalRunsJob | None:
    """The final runs of the whole suite, started beside the proof run."""
    if run.settings.final_runs <= 0:
        return None
    return flaky_gate.FinalRunsJob(
        run.runner,
        commit,
        run.workspace.project_subdir,
        run.settings.final_runs,
        run.state.excluded,
        per_test_timeout=run.test_timeout(inputs.current),
        deadline=run.clock.at,
    )


def _verify(
    run: Run, inputs: RoundInputs, attempt: Attempt, final: flaky_gate.FinalRunsJob | None
) -> TestRun | None:
    """The proof run from the committed tree, the gates on it, and the final runs."""
    raw = _proof_run(run, inputs, attempt)
    if raw is None:
        return None
    masked = flaky_gate.mask(raw, run.state.excluded)
    fixed = _compare(run, inputs, attempt, raw, masked)
    if fixed is None:
        return None
    attempt.gates.append(passed("tests", f"fixes {len(fixed)}, no test that passed before fails"))
    wider, refused = _prove_wider(run, inputs, attempt)
    if refused:
        reject(run, inputs, attempt, refused)
        return None
    proof = Proof(raw, masked, fixed, wider, _proved_by(run, wider, masked))
    attempt.gates.append(passed("proved by", proof.proved_by))
    problem = _gates_after(run, inputs, attempt, masked, final)
    if problem is not None:
        reject(run, inputs, attempt, f"{problem.name}: {problem.detail}")
        return None
    keep(run, inputs, attempt, proof)
    return raw


def _proof_run(run: Run, inputs: RoundInputs, attempt: Attempt) -> TestRun | None:
    """The whole selection from the committed tree; None when it proves nothing (rolled back)."""
    raw = run.runner.run(
        timeout=run.clock.limit(),
        per_test_timeout=run.test_timeout(inputs.current),
        coverage=True,
    )
    changed = tampered(run.state)
    ws.restore_clean(run.workspace)
    if changed:
        reject(run, inputs, attempt, changed)
        return None
    if raw.timed_out:
        # cut by the budget: a run that did not finish proves nothing, and the tests it did
        # not reach are not broken
        run.state.cut_short = True
        why = "the proof run did not finish before the time budget ran out (it proves nothing)"
        reject(run, inputs, attempt, why)
        return None
    return raw


def _compare(
    run: Run, inputs: RoundInputs, attempt: Attempt, raw: TestRun, masked: TestRun
) -> list[str] | None:
    """The tests the candidate fixes; None when it breaks one or fixes none (rolled back)."""
    current = inputs.current
    by_id = masked.by_id()
    passed_before = set(current.passing)
    broken = sorted(n for n in passed_before if n not in by_id or by_id[n].outcome.is_bad)
    fixed = sorted(n for n in current.failing if n in by_id and by_id[n].outcome is Outcome.PASSED)
    fixed += [
        e.path
        for e in current.collection_errors
        if e.path and not any(c.path == e.path for c in masked.collection_errors)
    ]
    new_errors = [
        e
        for e in masked.collection_errors
        if not any(c.path == e.path for c in current.collection_errors)
    ]
    run.ports.trace.write(
        "verify",
        candidate=attempt.candidate.id,
        commit=attempt.commit,
        fixed=fixed,
        broken=broken,
        **run_summary(raw),  # as pytest ran it: a test that ran shows how it ended
    )
    if not (masked.damage or broken or new_errors or not fixed):
        return fixed
    why = (
        masked.damage  # what it removed of the worktree (restored)
        if masked.damage
        else f"breaks {', '.join(broken[:3])}"
        if broken
        else "new collection errors"
        if new_errors
        else "the full run did not confirm the fix"
    )
    reject(run, inputs, attempt, why)
    return None


def _gates_after(
    run: Run,
    inputs: RoundInputs,
    attempt: Attempt,
    masked: TestRun,
    final: flaky_gate.FinalRunsJob | None,
) -> GateResult | None:
    """The gates on the proof run (written tests, imports, coverage), then the final runs;
    the first that failed, or None."""
    keeper, gates, candidate = run.trust.keeper, attempt.gates, attempt.candidate
    if attempt.written:
        gates.append(keeper.written_tests_after(masked, attempt.written))
    gates.append(keeper.imports(candidate, attempt.old_texts, masked))
    new_code = dict(inputs.code)
    new_code.update({e.path: e.new_text for e in candidate.edits if e.path not in inputs.tests})
    gates += keeper.coverage(inputs.code, new_code, inputs.current, masked)[0]
    problem = first_failure(gates)
    if problem is None and masked.green:
        run.stage(inputs.stage, "final runs of the whole suite")
        gates.append(
            final.result()
            if final is not None
            else keeper.final(
                0, per_test_timeout=run.test_timeout(inputs.current), deadline=run.clock.at
            )
        )
        problem = first_failure(gates)
    return problem


def _prove_wider(
    run: Run, inputs: RoundInputs, attempt: Attempt
) -> tuple[tuple[Wider, TestRun] | None, str]:
    """The tests beyond the user's selection that reach the change, run on the patched tree
    and compared with the base (``gates/reach.py``): (what ran, why the patch is rolled back
    or "")."""
    reach, timeout_per_test = run.trust.reach, run.test_timeout(inputs.current)
    changed = [e.path for e in attempt.candidate.edits if not is_test_path(e.path)]
    wider = reach.wider(
        attempt.previous,
        changed,
        inputs.tests,
        inputs.code,
        per_test_timeout=timeout_per_test,
        deadline=run.clock.at,
    )
    if wider is None:
        return None, ""
    run.stage(inputs.stage, f"proving on the {wider.mode}")
    after = run.runner.run(
        list(wider.arguments),
        timeout=run.clock.limit(),
        per_test_timeout=timeout_per_test,
        coverage=True,
        selection=False,
    )
    ws.restore_clean(run.workspace)
    run.ports.trace.write(
        "verify_wider", candidate=attempt.candidate.id, mode=wider.mode, **run_summary(after)
    )
    if after.timed_out or wider.base.timed_out:
        # cut by the budget: a run that did not finish proves nothing either way
        run.state.cut_short = True
        return (wider, after), (
            f"the proof beyond the selection ({wider.mode}) did not finish before the time "
            "budget ran out (it proves nothing)"
        )
    broken = reach.regressions(wider, after)
    return (wider, after), f"breaks {', '.join(broken[:3])}" if broken else ""


def _proved_by(run: Run, wider: tuple[Wider, TestRun] | None, masked: TestRun) -> str:
    if wider is not None:
        return wider[0].describe(len(masked.results))
    if selects_tests(run.runner):
        return (
            f"the selection ({len(masked.results)} tests): no test outside it imports the "
            "changed code"
        )
    return f"whole suite ({len(masked.results)} tests)"
