"""The HTML run report and the compact step summary: what they contain, that they are
self-contained, and that nothing from a run (test names, model replies) becomes markup."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest
from history_fixtures import (  # noqa: F401 - example_run_fixture provides example_run
    ExampleRun,
    cli,
    example_run_fixture,
)

from bot.history import RunRecord
from bot.models import Analysis, Failure, FailureClass, Round, RunResult, RunStatus
from bot.report import markdown
from bot.report.html import render_report
from bot.report.markdown import ReportContext
from bot.report.runview import build_view
from bot.report.stepsummary import compact_summary, rounds_diagram


class Page(HTMLParser):
    """The tags, attributes and text of a page, plus which section each text is in."""

    def __init__(self, text: str) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict[str, str]]] = []
        self.sections: dict[str, list[str]] = {}
        self._section = ""
        self.feed(text)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = {k: v or "" for k, v in attrs}
        self.tags.append((tag, attributes))
        if tag in ("section", "header") and attributes.get("id"):
            self._section = attributes["id"]

    def handle_data(self, data: str) -> None:
        if data.strip():
            self.sections.setdefault(self._section, []).append(data.strip())

    def text(self, section: str) -> str:
        return " ".join(self.sections.get(section, []))

    def count(self, tag: str, css_class: str = "") -> int:
        return sum(
            1
            for name, attrs in self.tags
            if name == tag and (not css_class or css_class in attrs.get("class", "").split())
        )


def assert_self_contained(text: str) -> None:
    page = Page(text)
    assert page.count("script") == 0 and page.count("link") == 0 and page.count("img") == 0
    assert page.count("iframe") == 0 and page.count("object") == 0
    for _, attrs in page.tags:
        assert "src" not in attrs, attrs
        assert attrs.get("href", "#").startswith("#"), attrs
    assert "url(" not in text and "@import" not in text


@pytest.fixture(scope="module")
def example_page(example_run: ExampleRun, tmp_path_factory: pytest.TempPathFactory) -> str:
    output = tmp_path_factory.mktemp("report") / "report.html"
    done = cli("report", "last", "-o", str(output), cwd=example_run.root)
    assert done.code == 0, done.stderr
    assert f"wrote {output}" in done.stderr
    return output.read_text(encoding="utf-8")


def test_report_of_a_real_run_has_every_section(example_run: ExampleRun, example_page: str) -> None:
    assert_self_contained(example_page)
    page = Page(example_page)
    overview = page.text("overview")
    assert example_run.run_id in overview and "fixed" in overview
    assert "2 kept, 1 rolled back" in overview
    timeline = page.text("timeline")
    for label in (
        "baseline",
        "round 1: search",
        "round 1: verify (kept)",
        "round 2: verify (rolled back)",
        "round 2: verify (kept)",
    ):
        assert label in timeline, label
    assert page.count("div", "bar") >= 6
    # one article per attempt, each with a Pygments-highlighted diff
    assert page.count("article", "round") == 3 and page.count("div", "diff") == 3
    assert page.count("span", "gd") >= 3 and page.count("span", "gi") >= 3
    rounds = page.text("rounds")
    assert "rolled back" in rounds and "why it was rolled back: breaks" in rounds
    assert "return high" in rounds and "if value >= high:" in rounds
    # the matrix: base, the three attempts, final
    cells = page.sections["tests"]
    headers = cells[cells.index("test") + 1 : cells.index("test") + 6]
    assert headers == ["base", "#1 round 1", "#2 round 2 (rolled back)", "#3 round 2", "final"]
    tests = page.text("tests")
    assert "tests/test_shapes.py::test_house_style ✓ pass ✓ pass ✗ fail ✓ pass ✓ pass" in tests
    assert "tests/test_shapes.py::test_scale ✗ fail ✓ pass" in tests
    candidates = page.text("candidates")
    assert "the failing tests still fail" in candidates and "every candidate" in candidates
    root_cause = page.text("root-cause")
    assert "Failure class: LOGIC" in root_cause and "AssertionError" in root_cause
    for section in ("coverage", "gates", "models"):
        assert page.text(section), section


def _record(**result: Any) -> RunRecord:
    events = result.pop("events", [])
    meta = {"run_id": "20250101T000000-abcdef", "status": result.get("status", "fixed")}
    return RunRecord("20250101T000000-abcdef", meta, result, tuple(events))


def test_run_text_is_escaped_never_markup() -> None:
    hostile = "tests/test_x.py::test_<script>alert(1)</script>"
    events = [
        {"t": 1.0, "event": "run_start", "base": "b", "trigger": "cli"},
        {"t": 2.0, "event": "baseline", "outcomes": {hostile: "failed"}},
        {
            "t": 3.0,
            "event": "analysis",
            "round": 1,
            "failures": [
                {"test": hostile, "class": "LOGIC", "message": "<img src=x onerror=alert(2)>"}
            ],
        },
        {
            "t": 4.0,
            "event": "candidate",
            "id": "c1",
            "engine": "llm",
            "template": "<b>bold</b>",
            "description": "</table><h1>owned</h1>",
            "accepted": False,
            "reason": "<i>why</i>",
        },
    ]
    text = render_report(build_view(_record(status="not_fixed", events=events)))
    assert_self_contained(text)
    assert "<script>alert" not in text and "<img src=x" not in text
    assert "<h1>owned</h1>" not in text and "<b>bold</b>" not in text and "<i>why</i>" not in text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in text
    assert "&lt;/table&gt;&lt;h1&gt;owned&lt;/h1&gt;" in text


def test_gates_coverage_and_model_usage_come_from_the_run() -> None:
    events = [
        {"t": 1.0, "event": "run_start", "base": "b"},
        {
            "t": 2.0,
            "event": "llm_call",
            "backend": "ollama",
            "model": "qwen2.5-coder:7b",
            "prompt_tokens": 1200,
            "completion_tokens": 300,
            "latency_s": 2.5,
            "outcome": "ok",
        },
        {
            "t": 5.0,
            "event": "llm_call",
            "backend": "ollama",
            "model": "qwen2.5-coder:7b",
            "prompt_tokens": 800,
            "completion_tokens": 100,
            "latency_s": 1.5,
            "outcome": "error",
        },
    ]
    extra = {
        "gates": [
            {"name": "tests", "status": "passed", "detail": "fixes 1", "round": 1},
            {"name": "ruff", "status": "failed", "detail": "E501 new", "round": 1},
            {"name": "mypy", "status": "not_run", "detail": "not run: not installed"},
        ],
        "coverage": {"covered": 3, "changed": 4, "missing": {"shapes.py": [7]}, "percent": 75.0},
        "usage": {"llm": {"calls": 2, "prompt_tokens": 2000}},
        "flaky": [{"test": "t::slow", "kind": "flaky", "detail": "passed on re-run"}],
        "baseline": {"outcomes": {"t::slow": "failed", "t::ok": "passed"}},
        "final": {"outcomes": {"t::slow": "passed", "t::ok": "passed"}},
    }
    page = Page(render_report(build_view(_record(status="fixed", events=events, extra=extra))))
    gates = page.text("gates")
    assert "tests 1 passed fixes 1" in gates and "ruff 1 failed E501 new" in gates
    assert "mypy not run not run: not installed" in gates
    assert "1 passed, 1 failed, 0 ran without a verdict, 1 not run" in gates
    coverage = page.text("coverage")
    assert "3 of 4 changed lines run by the tests; 75%" in coverage and "shapes.py 7" in coverage
    models = page.text("models")
    assert "ollama:qwen2.5-coder:7b 2 1 2000 400 4.0s 2.0s" in models
    assert "t::slow ~ flaky ~ flaky" in page.text("tests")

    bare = Page(render_report(build_view(_record(status="fixed"))))
    assert bare.text("gates") == "Gates no gates recorded"
    assert bare.text("coverage") == "Coverage of the changed lines not measured"
    assert "No model was called" in bare.text("models")


# -- the compact step summary ---------------------------------------------------------------------
def _result(**overrides: Any) -> RunResult:
    failure = Failure("tests/test_a.py::test_a", FailureClass.LOGIC, "AssertionError", "1 != 2", ())
    values: dict[str, Any] = {
        "status": RunStatus.FIXED,
        "base": "a" * 40,
        "branch": "mendbot/fix-aaaaaaaa",
        "head": "c" * 40,
        "rounds": (
            Round(
                1,
                "templates",
                "b" * 40,
                ("a.py",),
                ("tests/test_a.py::test_a",),
                "ok",
                template="off-by-one",
                description='`n` -> `n + 1` in "count" [x]',
            ),
            Round(
                2,
                "llm",
                None,
                ("a.py",),
                (),
                "rolled back: breaks tests/test_b.py::test_b",
                template="llm-patch",
                description="LLM patch of <count>()",
            ),
            Round(
                2,
                "templates",
                "c" * 40,
                ("a.py",),
                ("tests/test_b.py::test_c",),
                "ok",
                template="comparison-operator",
                description="`<` -> `<=`",
            ),
        ),
        "fixed_tests": ("tests/test_a.py::test_a", "tests/test_b.py::test_c"),
        "remaining_failures": (),
        "diff": "",
        "candidates_tried": 12,
        "duration_s": 4.2,
        "run_id": "20250101T000000-abcdef",
        "engines": ("templates", "llm"),
        "analysis": Analysis((failure,), ()),
        "extra": {
            "baseline": {"outcomes": {"t1": "failed", "t2": "failed", "t3": "passed"}},
            "final": {"outcomes": {"t1": "passed", "t2": "passed", "t3": "passed"}},
        },
    }
    values.update(overrides)
    return RunResult(**values)


def test_step_summary_has_a_mermaid_diagram_of_the_rounds() -> None:
    result = _result()
    diagram = rounds_diagram(result)
    lines = diagram.splitlines()
    assert lines[0] == "```mermaid" and lines[1] == "flowchart LR" and lines[-1] == "```"
    assert '  base(["base aaaaaaaa"])' in lines
    assert "  base --> r1" in lines and "  r1 -.-> r2" in lines and "  r1 --> r3" in lines
    assert "  r3 --> result" in lines
    assert any(
        line.startswith('  r2["round 2: LLM patch of #lt;count#gt;()<br/>rolled back')
        for line in lines
    )
    assert ":::rolled" in diagram and ":::kept" in diagram
    # labels carry no quotes, brackets or backticks that would end them early
    for line in lines[2:]:
        if '["' in line:
            inner = line.split('["', 1)[1].rsplit('"]', 1)[0]
            assert not re.search(r'["`\[\]]', inner), line

    context = ReportContext(label="issue #3", report_url="https://github.com/o/r/actions/runs/42")
    text = compact_summary(result, context, "fixed")
    assert text.startswith("## mendbot: fixed\n")
    assert "```mermaid" in text
    assert "| 2 | 2 | rolled back | llm / llm-patch |" in text
    assert "**Tests:** base 1 passed, 2 failing → final 3 passed, 0 failing." in text
    assert "[this workflow run](https://github.com/o/r/actions/runs/42)" in text
    assert "<details><summary>Root cause</summary>" in text
    plain = compact_summary(_result(rounds=(), status=RunStatus.NOTHING_TO_FIX), context, "ok")
    assert "```mermaid" not in plain and "No repair round ran." in plain


def test_pull_request_body_links_the_report() -> None:
    url = "https://github.com/o/r/actions/runs/42"
    body = markdown.pull_request_body(_result(), ReportContext(label="issue #3", report_url=url))
    assert f"attached to [the workflow run]({url}) as a `mendbot-report-*` artifact" in body
    without = markdown.pull_request_body(_result(), ReportContext(label="issue #3"))
    assert "mendbot-report" not in without


def test_report_of_a_result_that_was_never_stored(tmp_path: Path) -> None:
    """The action writes a report straight from its result when no run was stored."""
    from history_fixtures import make_project

    from bot.report.html import report_for_result

    root = make_project(tmp_path / "repo", {"a.py": "A = 1\n"})
    output = report_for_result(root, _result(), tmp_path / "out" / "report.html")
    page = Page(output.read_text())
    assert page.count("article", "round") == 3
    assert "The diff of this round is not in this repository" in page.text("rounds")
    assert "t1 ✗ fail ✓ pass" in page.text("tests")
