"""Markdown built from a RunResult: pull request body, comments, summary."""

from __future__ import annotations

import dataclasses

from bot.models import (
    Analysis,
    Failure,
    FailureClass,
    Frame,
    Location,
    Round,
    RunResult,
    RunStatus,
)
from bot.report import markdown
from bot.report.markdown import ReportContext

SECRET = "ghs_ReportSecret0123456789abcdefghijklmn"
FAILURE = Failure(
    nodeid="tests/test_cart.py::test_total",
    failure_class=FailureClass.LOGIC,
    exception_type="AssertionError",
    message="assert 9 == 10",
    frames=(Frame("shop/cart.py", 14, "total"),),
)
KEPT = Round(
    number=1,
    engine="templates",
    commit="a" * 40,
    files=("shop/cart.py",),
    fixed_tests=("tests/test_cart.py::test_total",),
    reason="screened",
    template="comparison-boundary",
    description="`<` -> `<=` at shop/cart.py:14",
    root_cause=f"Failure class: LOGIC.\nWhy: ask @octocat, token {SECRET}",
)
ROLLED_BACK = Round(
    number=2,
    engine="templates",
    commit=None,
    files=("shop/tax.py",),
    fixed_tests=(),
    reason="rolled back: breaks tests/test_tax.py::test_zero",
    template="swap-args",
    description="swap arguments",
    rejected_ref="refs/mendbot/rejected/run-1/2",
)
RESULT = RunResult(
    status=RunStatus.FIXED,
    base="b" * 40,
    branch="mendbot/issue-4",
    head="a" * 40,
    rounds=(KEPT, ROLLED_BACK),
    fixed_tests=("tests/test_cart.py::test_total",),
    remaining_failures=(),
    diff="diff --git a/shop/cart.py b/shop/cart.py\n@@ -1 +1 @@\n-@property\n+@cached\n",
    candidates_tried=57,
    duration_s=12.25,
    analysis=Analysis(
        failures=(FAILURE,),
        locations=(Location("shop/cart.py", 14, "Cart.total", 0.9, "traceback"),),
    ),
    project_subdir="services/shop",
    extra={
        "baseline": {"outcomes": {"t::a": "passed", "t::b": "passed", "t::c": "failed"}},
        "final": {"outcomes": {"t::a": "passed", "t::b": "passed", "t::c": "passed"}},
        "usage": {
            "templates": {},
            "llm": {"calls": 3, "prompt_tokens": 1200, "completion_tokens": 300},
        },
    },
)
CONTEXT = ReportContext(
    label="issue #4",
    repository="acme/shop",
    remote_branch="mendbot/issue-4",
    closes_issue=4,
    secrets=(SECRET,),
)


def test_pull_request_body_sections() -> None:
    body = markdown.pull_request_body(RESULT, CONTEXT)
    assert body.startswith("## Summary\n\nmendbot fixed 1 failing test for issue #4 in 1 round")
    assert "Fixes #4" in body
    assert "- **Failure class:** `LOGIC`: a wrong computation" in body
    assert "- **Location:** `shop/cart.py:14` in `Cart.total` (found by traceback)" in body
    assert "| `tests/test_cart.py::test_total` | failing | **passing** |" in body
    assert "Tests passing at base: **2**; passing after: **3** (of 3 run)." in body
    assert "No test that passed at base fails after the change." in body
    assert "### Coverage of the changed lines\n\nnot measured" in body
    assert "| 1 | templates | `aaaaaaaaaa` | `shop/cart.py` | 1 | screened |" in body
    assert "| 2 | templates | rolled back (attempt kept at `refs/mendbot/rejected/run-1/2`)" in body
    assert "1 rolled-back attempt, 57 candidates tried" in body
    assert "3 calls, 1200 prompt + 300 completion tokens" in body
    assert "- **Time:** 12.2s" in body or "- **Time:** 12.3s" in body
    assert "git fetch origin mendbot/issue-4\ngit checkout FETCH_HEAD\ncd services/shop\n" in body
    assert "python -m pytest tests/test_cart.py::test_total" in body
    assert body.rstrip().endswith("<!-- mendbot -->")


def test_secrets_are_redacted_and_mentions_defused() -> None:
    for text in (
        markdown.pull_request_body(RESULT, CONTEXT),
        markdown.step_summary(RESULT, CONTEXT, "fixed"),
        markdown.outcome_comment(RESULT, CONTEXT, "fixed it"),
        markdown.patch_comment(RESULT, CONTEXT, "fork"),
    ):
        assert SECRET not in text and "***" in text
        assert "@octocat" not in text and "@\u200boctocat" in text


def test_patch_comment_keeps_the_diff_verbatim() -> None:
    result = dataclasses.replace(RESULT, diff=RESULT.diff + "+x = '```'\n")
    text = markdown.patch_comment(result, CONTEXT, "The branch is in a fork.")
    assert "````diff\n" + result.diff.rstrip() + "\n````" in text  # decorators untouched
    assert "The branch is in a fork." in text


def test_regressions_and_remaining_failures_are_shown() -> None:
    result = dataclasses.replace(
        RESULT,
        status=RunStatus.NOT_FIXED,
        remaining_failures=("tests/test_tax.py::test_rate",),
        reason="stuck: the same failures came back three times",
        extra={
            "baseline": {"outcomes": {"t::a": "passed", "t::b": "passed"}},
            "final": {"outcomes": {"t::a": "failed", "t::b": "passed"}},
        },
    )
    body = markdown.pull_request_body(result, CONTEXT)
    assert "| `tests/test_tax.py::test_rate` | failing | still failing |" in body
    assert "Passed at base and fail now: `t::a`" in body
    comment = markdown.outcome_comment(result, CONTEXT, "could not fix this")
    assert "What was tried:" in comment
    assert "- round 2 (templates): swap arguments: rolled back; rolled back: breaks" in comment
    assert "Why it stopped: stuck: the same failures came back three times" in comment
    assert "The work is on the branch `mendbot/issue-4`." in comment


def test_coverage_when_measured() -> None:
    result = dataclasses.replace(
        RESULT,
        extra={"coverage": {"covered": 3, "changed": 4, "missing": {"shop/cart.py": [15]}}},
    )
    body = markdown.pull_request_body(result, CONTEXT)
    assert "3 of 4 changed lines run by the tests; 75%; not covered: `shop/cart.py` [15]" in body
    assert "Every kept round passed the no-regression gate" in body  # no per-test outcomes


def test_long_lists_are_cut_and_the_body_fits_github() -> None:
    many = tuple(f"tests/test_x.py::test_{n}" for n in range(500))
    result = dataclasses.replace(RESULT, fixed_tests=many, diff="x" * 200_000)
    body = markdown.pull_request_body(result, CONTEXT)
    assert "| ... and 470 more | failing | **passing** |" in body
    assert len(body) <= markdown.MAX_BODY_CHARS
    comment = markdown.patch_comment(result, CONTEXT, "fork")
    assert "too long for a comment" in comment and len(comment) < 65_536


def test_code_spans_survive_backticks() -> None:
    assert markdown.code("a`b") == "``a`b``"
    assert markdown.code("`x`") == "`` `x` ``"
    assert markdown.code("tests/t.py::test[a|b]") == "`tests/t.py::test[a|b]`"


def test_nothing_to_fix_summary() -> None:
    result = dataclasses.replace(RESULT, status=RunStatus.NOTHING_TO_FIX, rounds=(), fixed_tests=())
    assert markdown.summary_line(result, CONTEXT) == "mendbot found no failing test for issue #4."
    assert "No repair round ran." in markdown.step_summary(result, CONTEXT, "nothing to fix")
