"""Coverage of changed lines and total coverage, computed from per-test line data."""

from __future__ import annotations

import textwrap

from bot.gates.coverage import executed, gate, kept_lines, measure, new_lines, shape
from bot.models import Outcome, TestResult, TestRun

OLD = textwrap.dedent(
    '''
    """Shipping costs."""
    RATE = 2


    def cost(weight, express=False):
        if weight <= 0:
            raise ValueError("weight must be positive")
        total = (weight *
                 RATE)
        if express:
            total += 5
        return total


    if __name__ == "__main__":
        print(cost(1))
    '''
).lstrip()


def test_shape_follows_coverage_py() -> None:
    found = shape(OLD)
    # the docstring is not a statement; the two-line assignment is one statement on line 8
    assert sorted(found.statements) == [2, 5, 6, 7, 8, 10, 11, 12, 15, 16]
    assert found.first_line[9] == 8
    # imports, constants and def lines run at import; function bodies and __main__ do not
    assert sorted(found.import_time) == [2, 5, 15]


def test_changed_and_kept_lines() -> None:
    new = OLD.replace("total += 5", "total += 7").replace("RATE = 2\n", "RATE = 2\nFEE = 1\n")
    assert new_lines(OLD, new) == {3, 12}
    mapping = kept_lines(OLD, new)
    assert mapping[2] == 2 and mapping[10] == 11 and mapping[12] == 13
    assert 11 not in mapping  # line 11 of OLD was rewritten


def test_a_covered_change() -> None:
    new = OLD.replace("total += 5", "total += 7")
    before = {"ship.py": {6, 8, 10, 12}}  # a passing test ran cost(1) before the change
    after = {"ship.py": {6, 8, 10, 11, 12}}  # and a test with express=True after
    result = measure({"ship.py": OLD}, {"ship.py": new}, before, after)
    assert (result.covered, result.changed, dict(result.missing), dict(result.lost)) == (
        1,
        1,
        {},
        {},
    )
    # 10 statements; before: 3 import-time + 4 run = 7, after: 8
    assert (result.before.executed, result.before.executable) == (7, 10)
    assert (result.after.executed, result.after.executable) == (8, 10)
    assert result.to_json()["total_before"] == 70.0 and result.to_json()["total_after"] == 80.0
    assert [g.status.value for g in gate(result)] == ["passed", "passed"]


def test_an_uncovered_change_is_a_doubt_and_a_lost_line_fails() -> None:
    new = OLD.replace("total += 5", "total += 7")
    before = {"ship.py": {6, 7, 8, 10, 12}}
    after = {"ship.py": {6, 8, 10, 12}}  # line 7 (the raise) no longer runs, 11 never does
    result = measure({"ship.py": OLD}, {"ship.py": new}, before, after)
    assert result.missing == {"ship.py": (11,)}
    assert result.lost == {"ship.py": (7,)}
    changed_gate, total_gate = gate(result)
    assert changed_gate.status.value == "doubt" and not changed_gate.failed
    assert "0 of 1 changed lines" in changed_gate.detail and "ship.py [11]" in changed_gate.detail
    assert total_gate.failed and "ship.py [7]" in total_gate.detail


def test_a_helper_the_patch_no_longer_calls_is_a_doubt_not_a_loss() -> None:
    """A rewrite that stops calling a helper in another file (an algorithm replaced) passes
    every test: the helper's lines that no longer run are named for review, the patch kept."""
    helper = "def cost(path):\n    return len(path)\n"
    new = OLD.replace("total += 5", "total += 7")
    before = {"ship.py": {6, 7, 8, 10, 11, 12}, "helper.py": {1, 2}}
    after = {"ship.py": {6, 7, 8, 10, 11, 12}, "helper.py": {1}}
    result = measure(
        {"ship.py": OLD, "helper.py": helper}, {"ship.py": new, "helper.py": helper}, before, after
    )
    assert result.lost == {} and result.unused == {"helper.py": (2,)}
    changed_gate, total_gate = gate(result)
    assert not changed_gate.failed
    assert total_gate.status.value == "doubt" and not total_gate.failed
    assert "helper.py [2]" in total_gate.detail
    assert result.to_json()["no_longer_used"] == {"helper.py": [2]}


def test_a_deleted_covered_line_is_not_lost_coverage() -> None:
    new = OLD.replace("        total += 5\n", "        pass\n")
    before = {"ship.py": {6, 8, 10, 11, 12}}
    after = {"ship.py": {6, 8, 10, 11, 12}}
    result = measure({"ship.py": OLD}, {"ship.py": new}, before, after)
    assert result.lost == {} and result.missing == {}
    assert result.changed == 1 and result.covered == 1  # `pass` is a statement, and it ran


def test_executed_counts_passing_tests_only() -> None:
    run = TestRun(
        results=(
            TestResult("t.py::test_ok", Outcome.PASSED),
            TestResult("t.py::test_bad", Outcome.FAILED),
        ),
        coverage={
            "t.py::test_ok": {"ship.py": frozenset({6, 8})},
            "t.py::test_bad": {"ship.py": frozenset({7})},
        },
    )
    assert executed(run) == {"ship.py": {6, 8}}


def test_no_coverage_data_is_not_run_never_passed() -> None:
    changed_gate, total_gate = gate(None, "no per-test coverage")
    assert changed_gate.status.value == "not_run" and total_gate.status.value == "not_run"
    assert changed_gate.detail == "not run: no per-test coverage"


def test_changed_lines_for_another_python_version_do_not_count() -> None:
    old = (
        "import sys\n\n\ndef width(text):\n"
        "    if sys.version_info < (3, 8):\n        return len(text.encode())\n"
        "    return len(text)\n"
    )
    new = old.replace("len(text.encode())", "len(text.strip())").replace(
        "    return len(text)\n", "    return len(text.strip())\n"
    )
    result = measure({"w.py": old}, {"w.py": new}, {"w.py": {5, 7}}, {"w.py": {5, 7}})
    assert result.elsewhere == {"w.py": (6,)}
    assert (result.covered, result.changed, dict(result.missing)) == (1, 1, {})
    changed_gate, _ = gate(result)
    assert changed_gate.status.value == "passed" and "version or platform" in changed_gate.detail
