"""Behavioural distance through the real probe (pytest in the sandbox), ranking, and the
screening stopping rule that gathers more than one plausible candidate."""

from __future__ import annotations

import textwrap
from pathlib import Path

from bot.gates.behaviour import Prober, Target
from bot.gates.probe_plugin import variations
from bot.gates.ranking import rank
from bot.models import Candidate, FileEdit, Outcome, TestResult, TestRun, Verdict
from bot.sandbox.registry import make_sandbox
from bot.validate import cutoff

SHIPPING = textwrap.dedent(
    """
    def cost(weight, express=False):
        if weight <= 0:
            raise ValueError("weight must be positive")
        total = weight * 2
        if express:
            total += 5
        return total


    def counter():
        calls = []

        def tick():
            calls.append(1)
            return len(calls)

        return tick


    def run_twice(action):
        action()
        return action()
    """
).lstrip()

TESTS = textwrap.dedent(
    """
    from shipping import cost, counter, run_twice


    def test_cost():
        assert cost(3) == 6
        assert cost(1, express=True) == 7


    def test_run_twice():
        assert run_twice(counter()) == 2
    """
).lstrip()


def project(tmp_path: Path) -> Path:
    root = tmp_path / "shop"
    (root / "tests").mkdir(parents=True)
    (root / "shipping.py").write_text(SHIPPING)
    (root / "tests" / "test_shipping.py").write_text(TESTS)
    (root / "pyproject.toml").write_text('[tool.pytest.ini_options]\npythonpath = ["."]\n')
    return root


def prober(root: Path, tmp_path: Path) -> Prober:
    return Prober(make_sandbox("local"), root, root, tmp_path / "probe", autoload=False)


def test_variations_are_deterministic_and_nudge_one_argument_at_a_time() -> None:
    call = ((3,), {"express": False})
    first = variations(call, 6)
    assert first == variations(call, 6)
    assert first[:2] == [((4,), {"express": False}), ((3,), {"express": True})]
    assert all(sum([a != 3, k["express"]]) == 1 for (a,), k in first)


def test_the_probe_counts_differences_on_recorded_calls_and_variations(tmp_path: Path) -> None:
    root = project(tmp_path)
    same = SHIPPING.replace("total += 5", "total = total + 5")
    cheaper = SHIPPING.replace("total += 5", "total += 4")
    message = SHIPPING.replace('"weight must be positive"', '"bad weight"')
    target = Target(
        "shipping.py::cost",
        "shipping.py",
        "cost",
        SHIPPING,
        {"same": same, "cheaper": cheaper, "message": message, "broken": "def cost(:\n"},
    )
    found = prober(root, tmp_path).probe(
        [target], ["tests/test_shipping.py::test_cost"], same_path=False
    )
    assert not isinstance(found, str), found
    result = found["shipping.py::cost"]
    assert result.recorded == 2  # cost(3) and cost(1, express=True)
    assert result.variations > 5
    assert result.differences["same"].recorded == 0
    assert result.differences["same"].variations == 0
    assert result.differences["cheaper"].recorded == 1  # the express call
    assert "('returned', 7) -> ('returned', 6)" in result.examples["cheaper"]
    # only variations that reach the raise tell the messages apart
    assert result.differences["message"].recorded == 0
    assert result.differences["message"].variations > 0
    assert "weight must be positive" in result.examples["message"]
    assert result.unloadable == ("broken",)


def test_same_path_keeps_only_variations_where_the_original_goes_the_same_way(
    tmp_path: Path,
) -> None:
    root = project(tmp_path)
    message = SHIPPING.replace('"weight must be positive"', '"bad weight"')
    target = Target("shipping.py::cost", "shipping.py", "cost", SHIPPING, {"message": message})
    found = prober(root, tmp_path).probe(
        [target], ["tests/test_shipping.py::test_cost"], same_path=True
    )
    assert not isinstance(found, str), found
    result = found["shipping.py::cost"]
    # the recorded calls never raise, so no kept variation reaches the changed message
    assert result.differences["message"].variations == 0
    assert result.variations > 0


def test_stateful_arguments_do_not_make_equal_versions_differ(tmp_path: Path) -> None:
    root = project(tmp_path)
    same = SHIPPING.replace(
        "    action()\n    return action()", "    action()\n    return (action())"
    )
    target = Target("shipping.py::run_twice", "shipping.py", "run_twice", SHIPPING, {"same": same})
    found = prober(root, tmp_path).probe(
        [target], ["tests/test_shipping.py::test_run_twice"], same_path=False
    )
    assert not isinstance(found, str), found
    result = found["shipping.py::run_twice"]
    assert result.recorded == 1
    assert result.differences["same"].recorded == 0


def candidate(name: str, text: str, *, size: int = 1, prior: float = 1.0) -> Candidate:
    return Candidate(
        id=name,
        engine="test",
        template="given",
        description=name,
        edits=(FileEdit("shipping.py", text),),
        size=size,
        prior=prior,
    )


def current_run() -> TestRun:
    return TestRun(
        results=(TestResult("tests/test_shipping.py::test_cost", Outcome.PASSED),),
        coverage={"tests/test_shipping.py::test_cost": {"shipping.py": frozenset({2, 4, 5, 6, 7})}},
    )


def test_rank_puts_the_behaviour_preserving_candidate_first(tmp_path: Path) -> None:
    root = project(tmp_path)
    broad = candidate("broad", SHIPPING.replace("total = weight * 2", "total = weight * 2 + 0.5"))
    narrow = candidate("narrow", SHIPPING.replace("total += 5", "total += 2 + 3"), prior=0.5)
    probe = prober(root, tmp_path)
    ranked, note = rank(
        [(broad, Verdict("broad", True, "")), (narrow, Verdict("narrow", True, ""))],
        {"shipping.py": SHIPPING},
        current_run(),
        probe=lambda targets, tests: probe.probe(targets, tests, same_path=True),
    )
    assert [r.candidate.id for r in ranked] == ["narrow", "broad"]
    assert ranked[0].recorded_distance == 0.0 and ranked[1].recorded_distance == 1.0
    assert note == "behaviour compared on the calls of 1 passing test(s)"
    summary = ranked[1].to_json({"shipping.py": SHIPPING})
    assert summary["diff"].startswith("--- a/shipping.py")  # type: ignore[union-attr]


def test_rank_without_a_probe_keeps_flags_size_and_prior_order() -> None:
    removes = SHIPPING.replace("        total += 5\n", "        pass\n")
    flagged = candidate("flagged", removes, prior=2.0)
    bigger = candidate("bigger", SHIPPING.replace("* 2", "* 2 * 1"), size=3, prior=3.0)
    plain = candidate("plain", SHIPPING.replace("* 2", "* 2.0"), size=1, prior=0.1)
    ranked, note = rank(
        [(c, Verdict(c.id, True, "")) for c in (flagged, bigger, plain)],
        {"shipping.py": SHIPPING},
        current_run(),
    )
    assert [r.candidate.id for r in ranked] == ["plain", "bigger", "flagged"]
    assert ranked[-1].flags and "removes-statements" in ranked[-1].flags[0]
    assert note == "behaviour not compared: ranked by flags, size and prior"


def verdict(accepted: bool) -> Verdict:
    return Verdict("c", accepted, "", fixed=("t",) if accepted else ())


def test_cutoff_stops_at_the_wanted_count_or_the_slice() -> None:
    yes, no = verdict(True), verdict(False)
    assert cutoff([no, no], 1, 0) is None
    assert cutoff([no, yes, no, yes], 1, 0) == 1  # the old rule: the first complete one
    assert cutoff([no, yes, no, yes, no], 2, 10) == 3  # the second complete one
    assert cutoff([yes, no, no, no, no, yes], 4, 2) == 2  # two more after the first
    assert cutoff([yes, None], 4, 16) is None  # not decided yet: more may come


def test_cutoff_charges_a_candidate_that_ran_out_of_time_more() -> None:
    yes, no = verdict(True), verdict(False)
    hung = Verdict("c", False, "timed out", timed_out=True)
    # the slice of 10: the first hang costs 8, the next plain one 1, the second hang ends it
    assert cutoff([yes, hung, no, hung, yes, yes], 4, 10) == 3
    assert cutoff([yes, no, no, no, no, yes, no], 4, 5) == 5  # without hangs, five fit
    assert cutoff([no, hung, yes, hung, yes], 2, 8) == 3  # hangs before the first one are free
