"""The gates section of the reports."""

from __future__ import annotations

from bot.gates.summary import gates_section


def test_the_gates_section_never_shows_a_gate_that_did_not_run_as_passed() -> None:
    extra: dict[str, object] = {
        "gates": [
            {"name": "flaky tests", "status": "passed", "detail": "none found"},
            {"name": "ruff", "status": "passed", "detail": "no new findings", "round": 1},
            {
                "name": "bandit",
                "status": "not_run",
                "detail": "not run: bandit is not installed where the tests run",
                "round": 1,
            },
            {
                "name": "coverage of changed lines",
                "status": "failed",
                "detail": "0 of 1",
                "round": 2,
            },
        ],
        "flaky": [{"test": "t.py::test_x", "kind": "flaky", "detail": "passed on re-run 1"}],
        "runners_up": [
            {"description": "`+` -> `*`", "distance": {"recorded": 0.5}, "flags": []},
        ],
    }
    lines = gates_section(extra)
    assert (
        "| bandit | 1 | not run | not run: bandit is not installed where the tests run |" in lines
    )
    assert "| ruff | 1 | passed | no new findings |" in lines
    assert "| flaky tests | run | passed | none found |" in lines
    assert "| coverage of changed lines | 2 | **failed** | 0 of 1 |" in lines
    assert "- `t.py::test_x` (flaky): passed on re-run 1" in lines
    assert "- `+` -> `*` (changes 50% of the passing tests' calls)" in lines
    assert gates_section({}) == ["### Gates", "", "No gate results were recorded."]
