"""The not-fixed headline names the real cause, and the failing tests are listed once (under
it, not inside it). Real repositories, real pytest runs; an engine that proposes given
patches (or a model server speaking the real Ollama protocol) stands in at the engine port."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from pathlib import Path

from conftest import BUGGY_CLAMP
from fake_ollama import FakeOllama
from test_gates_flow import CLAMP, FixedEngine, run_repair

from bot.config import Settings
from bot.engines.base import RepairContext
from bot.engines.llm import LLMEngine
from bot.llm.ollama import OllamaBackend
from bot.models import Candidate, RunStatus, Trigger, TriggerKind
from bot.pipeline import Ports, repair
from bot.sandbox.registry import make_sandbox
from bot.trace import Trace

MakeRepo = Callable[..., Path]
FAILING = "tests/test_shapes.py::test_above"


def not_fixed_reason(root: Path, engine: FixedEngine, **changes: object) -> str:
    result = run_repair(root, engine, max_rounds=1, **changes)
    assert result.status is RunStatus.NOT_FIXED, result.reason
    assert result.remaining_failures == (FAILING,) or FAILING not in result.remaining_failures
    assert FAILING not in result.reason  # the failing tests are listed apart
    return result.reason


def test_no_candidate_at_all(make_repo: MakeRepo) -> None:
    root = make_repo(BUGGY_CLAMP)
    reason = not_fixed_reason(root, FixedEngine([]))
    assert reason.startswith("no candidate at all: the engines proposed nothing")


def test_a_broken_test_file_gives_no_candidate(make_repo: MakeRepo) -> None:
    broken = {**BUGGY_CLAMP, "tests/test_broken.py": "def test_x(:\n    pass\n"}
    root = make_repo(broken)
    result = run_repair(root, FixedEngine([]), max_rounds=1)
    assert result.status is RunStatus.NOT_FIXED
    assert "the test file tests/test_broken.py does not collect" in result.reason
    assert "--allow-test-edits" in result.reason


def test_every_candidate_on_a_protected_path(make_repo: MakeRepo) -> None:
    root = make_repo(BUGGY_CLAMP)
    general = CLAMP.replace(
        "value > high:\n        return low", "value > high:\n        return high"
    )
    reason = not_fixed_reason(
        root, FixedEngine([("general", {"shapes.py": general})]), protected=("shapes.py",)
    )
    assert reason.startswith("no candidate could be tried: every one changes a path")
    assert "shapes.py is protected" in reason


def test_the_failing_tests_still_fail(make_repo: MakeRepo) -> None:
    root = make_repo(BUGGY_CLAMP)
    useless = CLAMP.replace("if value < low:", "if value <= low:")
    reason = not_fixed_reason(root, FixedEngine([("useless", {"shapes.py": useless})]))
    assert reason.startswith("the failing tests still fail under every candidate (1 candidates")


def test_a_regression_elsewhere_is_named(make_repo: MakeRepo) -> None:
    root = make_repo(BUGGY_CLAMP)
    breaking = CLAMP.replace(
        "    if value < low:\n        return low\n    if value > high:\n        return low",
        "    if value < low:\n        return high\n    if value > high:\n        return high",
    )
    reason = not_fixed_reason(root, FixedEngine([("breaks below", {"shapes.py": breaking})]))
    assert "broke a passing test: tests/test_shapes.py::test_below" in reason


SIGNS = {
    "signs.py": (
        "def compare(a, b):\n"
        "    return (a > b) - (a <= b)\n\n\n"
        "def order(a, b):\n"
        "    return 1 if compare(a, b) < 0 else 0\n"
    ),
    # order() has a second bug that cancels the first one for test_order
    "tests/test_signs.py": (
        "from signs import compare, order\n\n\n"
        "def test_equal():\n    assert compare(2, 2) == 0\n\n\n"
        "def test_equal_strings():\n    assert compare('a', 'a') == 0\n\n\n"
        "def test_less():\n    assert compare(1, 2) == -1\n\n\n"
        "def test_order():\n    assert order(1, 1) == 1\n"
    ),
}


def test_a_fix_that_reveals_a_second_bug_is_named_with_the_masking(make_repo: MakeRepo) -> None:
    root = make_repo(SIGNS)
    fixed = SIGNS["signs.py"].replace("(a <= b)", "(a < b)")
    result = run_repair(root, FixedEngine([("`<=` -> `<`", {"signs.py": fixed})]), max_rounds=1)
    assert result.status is RunStatus.NOT_FIXED, result.reason
    assert "broke a passing test: tests/test_signs.py::test_order" in result.reason
    assert (
        "the closest fixed 2 failing tests but broke tests/test_signs.py::test_order "
        "(`<=` -> `<`): if tests/test_signs.py::test_order passed only because a second bug "
        "cancels this one, fix that bug first"
    ) in result.reason, result.reason


def test_a_model_that_answers_only_prose(make_repo: MakeRepo) -> None:
    root = make_repo(BUGGY_CLAMP)
    with FakeOllama(models=("qwen2.5-coder:7b",)) as server:
        server.add(*["The clamp function returns the wrong bound, I think."] * 20)
        backend = OllamaBackend("qwen2.5-coder:7b", host=server.url, timeout=10, backoff=0.01)
        settings = Settings(
            plugin_autoload=False, time_budget=120.0, max_rounds=1, llm_max_calls=3, engine="llm"
        )
        engine = LLMEngine(backend, settings, Trace(None))
        ports = Ports(sandbox=make_sandbox(settings, project=root), engines=[engine])
        result = repair(Trigger(kind=TriggerKind.CLI, repo_path=root), settings, ports)
    assert result.status is RunStatus.NOT_FIXED
    assert result.reason.startswith("the model answered 3 times without a usable edit")


class SlowEngine(FixedEngine):
    """Thinks until the run's budget is over, then proposes nothing."""

    def propose(self, context: RepairContext) -> Iterator[Candidate]:
        time.sleep(max(0.0, context.deadline - time.monotonic()) + 0.1)
        yield from ()


def test_the_budget_ran_out(make_repo: MakeRepo) -> None:
    root = make_repo(BUGGY_CLAMP)
    settings = Settings(plugin_autoload=False, time_budget=15.0)
    ports = Ports(sandbox=make_sandbox(settings, project=root), engines=[SlowEngine([])])
    result = repair(Trigger(kind=TriggerKind.CLI, repo_path=root), settings, ports)
    assert result.status is RunStatus.NOT_FIXED
    assert result.reason.startswith("the time budget of 15s ran out before a verified fix")
