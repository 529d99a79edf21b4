"""Model-written artefacts besides patches: the five-whys root-cause note and the reproduction
test for a bug report, each validated before use."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from fake_ollama import FakeOllama, Reply
from fake_openai import FakeOpenAI

from bot.config import Settings
from bot.engines.five_whys import five_whys, parse_root_cause
from bot.engines.reproduce import judge_run, reproduce_bug, write_reproduction_test
from bot.llm.ollama import OllamaBackend
from bot.llm.openai_compat import OpenAICompatBackend
from bot.models import Failure, FailureClass, Frame, TestRun, Trigger, TriggerKind
from bot.pipeline import read_sources
from bot.sandbox.registry import make_sandbox
from bot.testing.runner import TestRunner
from bot.trace import Trace, read_trace

MODEL = "qwen2.5-coder:7b"

FAILURE = Failure(
    nodeid="tests/test_center.py::test_median_even",
    failure_class=FailureClass.LOGIC,
    exception_type="AssertionError",
    message="assert 3 == 2.5",
    frames=(Frame("stats/center.py", 11, "median"),),
    traceback="E       assert 3 == 2.5",
)
DIFF = """--- a/stats/center.py
+++ b/stats/center.py
@@ -10,2 +10,4 @@
     middle = len(ordered) // 2
+    if len(ordered) % 2 == 0:
+        return (ordered[middle - 1] + ordered[middle]) / 2
     return ordered[middle]
"""
ANSWER = {
    "whys": [
        "test_median_even got 3 instead of 2.5.",
        "median returned the upper middle element for an even-length list.",
        "The function had no branch for even lengths.",
    ],
    "root_cause": "median assumed an odd number of values.",
    "fix": "Average the two middle values when the length is even.",
}


@pytest.fixture
def ollama_server() -> Iterator[FakeOllama]:
    with FakeOllama(models=(MODEL,)) as server:
        yield server


def backend_for(server: FakeOllama) -> OllamaBackend:
    return OllamaBackend(MODEL, host=server.url, timeout=10, backoff=0.01, attempts=2)


# -- five whys --------------------------------------------------------------------------------


def test_five_whys_note_from_a_valid_answer(ollama_server: FakeOllama, tmp_path: Path) -> None:
    ollama_server.add("```json\n" + json.dumps(ANSWER) + "\n```")
    note = five_whys(backend_for(ollama_server), [FAILURE], DIFF, trace=Trace(tmp_path / "t"))
    assert note is not None
    assert note.splitlines() == [
        "Five whys (model):",
        "1. test_median_even got 3 instead of 2.5.",
        "2. median returned the upper middle element for an even-length list.",
        "3. The function had no branch for even lengths.",
        "Root cause: median assumed an odd number of values.",
        "Fix: Average the two middle values when the length is even.",
    ]
    request = ollama_server.chat_requests()[0].body
    assert request["format"]["required"] == ["whys", "root_cause", "fix"]
    assert "if len(ordered) % 2 == 0:" in request["messages"][-1]["content"]
    assert [r["purpose"] for r in read_trace(tmp_path / "t")] == ["five-whys"]


@pytest.mark.parametrize(
    "reply",
    [
        Reply(content="The root cause is an off-by-one."),
        Reply(content=json.dumps({**ANSWER, "whys": [f"why {n}" for n in range(6)]})),
        Reply(content=json.dumps({"whys": ["x y z"], "root_cause": "r r r"})),
        Reply(content=json.dumps({**ANSWER, "extra": "field"})),
        Reply(content=json.dumps({**ANSWER, "fix": ""})),
        Reply(status=500, error="out of memory"),
    ],
    ids=["prose", "six whys", "missing field", "extra field", "empty fix", "server error"],
)
def test_unusable_answers_give_none(ollama_server: FakeOllama, reply: Reply) -> None:
    ollama_server.responder = lambda request: reply
    assert five_whys(backend_for(ollama_server), [FAILURE], DIFF) is None


def test_five_whys_through_openai_uses_a_json_schema_response_format() -> None:
    with FakeOpenAI() as server:
        server.add(json.dumps(ANSWER))
        backend = OpenAICompatBackend("gpt-4o-mini", base_url=server.base_url, api_key="k")
        note = five_whys(backend, [FAILURE], DIFF)
        sent = server.chat_requests()[0].body["response_format"]
    assert note is not None and note.startswith("Five whys (model):")
    assert sent["type"] == "json_schema" and sent["json_schema"]["strict"] is True


def test_parse_root_cause_needs_the_asked_shape() -> None:
    assert parse_root_cause(json.dumps(ANSWER)) is not None
    assert parse_root_cause("{not json}") is None
    assert parse_root_cause(json.dumps({**ANSWER, "whys": []})) is None


# -- reproduction tests -----------------------------------------------------------------------

CENTER = '''"""Measures of the center of a list of numbers."""


def median(values):
    ordered = sorted(values)
    middle = len(ordered) // 2
    return ordered[middle]
'''
EXISTING_TEST = (
    "from stats.center import median\n\n\ndef test_odd():\n    assert median([3, 1, 2]) == 2\n"
)
TITLE = "median of an even number of values is wrong"
BODY = "median([1, 2, 3, 4]) returns 3, but the median of 1, 2, 3, 4 is 2.5."


def repro_reply(body: str) -> str:
    return f"# FILE: tests/test_reported_bug.py\n```python\n{body}```\n"


NOT_A_TEST = repro_reply(
    "from stats.center import median\n\n\ndef test_even():\n    median([1, 2])\n    assert True\n"
)
PASSES_NOW = repro_reply(
    "from stats.center import median\n\n\ndef test_even():\n    assert median([5, 1, 3]) == 3\n"
)
WRONG_IMPORT = repro_reply(
    "from stats.centre import median\n\n\n"
    "def test_even():\n    assert median([1, 2, 3, 4]) == 2.5\n"
)
GOOD_TEST = repro_reply(
    "from stats.center import median\n\n\ndef test_even_length():\n"
    "    assert median([1, 2, 3, 4]) == 2.5\n"
)


def make_project(root: Path) -> Path:
    (root / "stats").mkdir(parents=True)
    (root / "tests").mkdir()
    (root / "stats" / "__init__.py").write_text("")
    (root / "stats" / "center.py").write_text(CENTER)
    (root / "tests" / "test_center.py").write_text(EXISTING_TEST)
    return root


def committed_project(repo: Path) -> Path:
    """A repository whose folder ``app`` holds the project, committed; returns ``repo``."""
    make_project(repo / "app")
    for args in (["init", "-q"], ["add", "-A"]):
        subprocess.run(["git", *args], cwd=repo, check=True)
    subprocess.run(
        ["git", "-c", "user.name=d", "-c", "user.email=d@e", "commit", "-qm", "x"],
        cwd=repo,
        check=True,
    )
    return repo


def pytest_on(project: Path):  # type: ignore[no-untyped-def]
    runner = TestRunner(make_sandbox("local"), project, project)

    def run_test(path: str, text: str) -> TestRun:
        target = project / path
        target.write_text(text)
        try:
            return runner.run([path], timeout=120, selection=False)
        finally:
            target.unlink()

    return runner, run_test


def test_a_reproduction_test_is_kept_only_when_it_fails_for_the_reported_reason(
    ollama_server: FakeOllama, tmp_path: Path
) -> None:
    project = make_project(tmp_path / "project")
    sources, tests = read_sources(project)
    ollama_server.add(NOT_A_TEST, PASSES_NOW, WRONG_IMPORT, GOOD_TEST)
    runner, run_test = pytest_on(project)
    trace = Trace(tmp_path / "trace.jsonl")
    try:
        found = reproduce_bug(
            backend_for(ollama_server),
            TITLE,
            BODY,
            {p: t for p, t in sources.items()},
            test_sources=tests,
            run_test=run_test,
            project_dir=project,
            trace=trace,
            attempts=4,
        )
    finally:
        runner.close()
    assert found is not None
    assert found.path == "tests/test_reported_bug.py"
    assert found.test_names == ("test_even_length",)
    assert found.failure.startswith("AssertionError")
    assert "median([1, 2, 3, 4]) == 2.5" in found.text
    reasons = [r["reason"] for r in read_trace(tmp_path / "trace.jsonl") if r.get("reason")]
    assert "asserts a constant" in reasons[0]
    assert "does not fail on the current code" in reasons[1]
    assert "ModuleNotFoundError" in reasons[2] and "a mistake in the test" in reasons[2]
    prompt = ollama_server.chat_requests()[0].body["messages"][-1]["content"]
    assert "<<<DATA issue body\n" + BODY in prompt
    assert "def median(values):" in prompt and "from stats.center import median" in prompt
    # each refusal is shown to the next attempt
    assert (
        "does not fail on the current code"
        in (ollama_server.chat_requests()[2].body["messages"][-1]["content"])
    )
    assert not (project / "tests" / "test_reported_bug.py").exists()


def test_no_reproduction_when_every_attempt_fails(ollama_server: FakeOllama) -> None:
    ollama_server.responder = lambda request: Reply(content="I cannot reproduce this.")
    found = reproduce_bug(backend_for(ollama_server), TITLE, BODY, {"stats/center.py": CENTER})
    assert found is None
    assert len(ollama_server.chat_requests()) == 3


def test_judge_checks_the_reported_exception() -> None:
    from bot.models import Outcome, TestResult

    def run(kind: str, outcome: Outcome = Outcome.FAILED) -> TestRun:
        result = TestResult("tests/t.py::test_x", outcome, exception_type=kind, message="boom")
        return TestRun(results=(result,))

    issue = "dividing an empty cart raises ZeroDivisionError"
    assert judge_run(run("ZeroDivisionError"), "tests/t.py", issue)[0] is None
    assert judge_run(run("AssertionError"), "tests/t.py", issue)[0] is None
    assert "report is about ZeroDivisionError" in str(
        judge_run(run("KeyError"), "tests/t.py", issue)[0]
    )
    assert "not the bug" in str(judge_run(run("ImportError"), "tests/t.py", issue)[0])
    assert "does not fail" in str(judge_run(run("", Outcome.PASSED), "tests/t.py", issue)[0])


def test_write_reproduction_test_for_an_issue_trigger(
    ollama_server: FakeOllama, tmp_path: Path
) -> None:
    repo = committed_project(tmp_path / "repo")
    ollama_server.add(GOOD_TEST)
    trigger = Trigger(
        kind=TriggerKind.ISSUE, repo_path=repo / "app", instruction=f"{TITLE}\n\n{BODY}"
    )
    settings = Settings(model=f"ollama:{MODEL}", llm_url=ollama_server.url)
    found = write_reproduction_test(trigger, settings)
    assert found is not None
    assert found.path == "app/tests/test_reported_bug.py"  # relative to the repository
    assert "AssertionError" in found.description
    assert (
        subprocess.run(
            ["git", "status", "--porcelain"], cwd=repo, capture_output=True, text=True, check=True
        ).stdout
        == ""
    )


def test_engine_explain_shares_the_call_budget(ollama_server: FakeOllama) -> None:
    from bot.engines.llm import LLMEngine

    engine = LLMEngine(backend_for(ollama_server), Settings(llm_max_calls=1), Trace(None))
    ollama_server.add(json.dumps(ANSWER))
    note = engine.explain([FAILURE], DIFF)
    assert note is not None and "Root cause: median assumed" in note
    assert engine.usage()["calls"] == 1
    assert engine.explain([FAILURE], DIFF) is None  # the budget is used up: no second call
    assert len(ollama_server.chat_requests()) == 1


def test_writing_a_reproduction_test_ends_with_the_time_budget(
    ollama_server: FakeOllama, tmp_path: Path
) -> None:
    """A model server that takes far longer than the run's budget: the reproduction stops
    at the budget (every call's wait is bounded by the time left), with a reason."""
    import time

    from bot.errors import LLMError

    repo = committed_project(tmp_path / "repo")
    for _ in range(6):
        ollama_server.add(Reply(content=GOOD_TEST, delay=60.0))
    trigger = Trigger(
        kind=TriggerKind.ISSUE, repo_path=repo / "app", instruction=f"{TITLE}\n\n{BODY}"
    )
    settings = Settings(
        model=f"ollama:{MODEL}", llm_url=ollama_server.url, time_budget=3.0, llm_timeout=120.0
    )
    started = time.monotonic()
    with pytest.raises(LLMError):
        write_reproduction_test(trigger, settings)
    # far below one slow answer (60 s) or the configured call timeout (120 s)
    assert time.monotonic() - started < 30.0
