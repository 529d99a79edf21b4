"""Model calls never outlive the run: the client timeout is bounded by the time the run has
left, no retry starts after it, and `mendbot fix --time-budget` ends on time against a model
server that never answers (fake servers on 127.0.0.1, the unmodified clients)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from fake_ollama import FakeOllama, Reply
from fake_openai import FakeOpenAI
from test_llm_cli import MODEL, ROOT, make_repo

from bot.errors import LLMError
from bot.llm.base import Message
from bot.llm.ollama import OllamaBackend
from bot.llm.openai_compat import OpenAICompatBackend
from bot.llm.retry import BudgetSpent

HELLO = [Message("user", "say hello")]
NEVER = 600.0  # the fake answers after this long: never, as far as a run is concerned


def run_mendbot(*args: str) -> subprocess.CompletedProcess[str]:
    """The real CLI, given far less than the old worst case (360 s) to end."""
    environment = {k: v for k, v in os.environ.items() if not k.startswith(("MENDBOT_", "OLLAMA"))}
    return subprocess.run(
        [sys.executable, "-m", "bot", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=150,
        env=environment,
    )


def clock(seconds: float) -> Callable[[], float]:
    """The seconds left of a budget of ``seconds`` started now."""
    started = time.monotonic()
    return lambda: seconds - (time.monotonic() - started)


def test_ollama_call_gets_only_the_time_the_run_has_left() -> None:
    with FakeOllama(models=(MODEL,)) as server:
        server.responder = lambda request: Reply(content="late", delay=NEVER)
        backend = OllamaBackend(MODEL, host=server.url, timeout=120.0, remaining=clock(3.0))
        with pytest.raises(LLMError) as caught:
            backend.complete(HELLO, temperature=0.0, max_tokens=10)
        calls = len(server.chat_requests())
    # the configured 120 s x 3 attempts became one attempt bounded by the 3 s left
    assert "within 120 s" not in caught.value.message
    assert "time budget ran out" in caught.value.message
    assert isinstance(caught.value, BudgetSpent)
    assert calls == 1


def test_openai_call_gets_only_the_time_the_run_has_left() -> None:
    with FakeOpenAI() as server:
        server.responder = lambda request: Reply(content="late", delay=NEVER)
        backend = OpenAICompatBackend(
            "gpt-4o-mini",
            base_url=server.base_url,
            api_key="x",
            timeout=120.0,
            remaining=clock(3.0),
        )
        with pytest.raises(BudgetSpent) as caught:
            backend.complete(HELLO, temperature=0.0, max_tokens=10)
        calls = len(server.chat_requests())
    assert "within 120 s" not in caught.value.message
    assert calls == 1


def test_no_retry_starts_after_the_end_even_when_the_server_asks_to_wait() -> None:
    with FakeOpenAI() as server:
        server.responder = lambda request: Reply(
            status=503, error="overloaded", headers={"Retry-After": "20"}
        )
        backend = OpenAICompatBackend(
            "gpt-4o-mini",
            base_url=server.base_url,
            api_key="x",
            timeout=120.0,
            backoff=0.01,
            remaining=clock(3.0),
        )
        with pytest.raises(BudgetSpent) as caught:
            backend.complete(HELLO, temperature=0.0, max_tokens=10)
        calls = len(server.chat_requests())
    assert "HTTP 503" in caught.value.message
    assert calls < 3  # without the budget: 3 attempts, 20 s apart


def test_a_run_out_of_time_asks_nothing() -> None:
    with FakeOllama(models=(MODEL,)) as server:
        backend = OllamaBackend(MODEL, host=server.url, remaining=lambda: -1.0)
        with pytest.raises(BudgetSpent):
            backend.complete(HELLO, temperature=0.0, max_tokens=10)
        assert server.chat_requests() == []


def test_fix_ends_within_its_budget_when_the_model_never_answers(tmp_path: Path) -> None:
    """Before, a 60 s budget ran past 300 s: the 120 s client timeout, three times."""
    with FakeOllama(models=(MODEL,)) as server:
        server.responder = lambda request: Reply(content="late", delay=NEVER)
        repo = make_repo(tmp_path)
        done = run_mendbot(
            "fix",
            str(repo),
            "--engine",
            "llm",
            "--model",
            f"ollama:{MODEL}",
            "--llm-url",
            server.url,
            "--time-budget",
            "20",
            "--json",
        )
    result = json.loads(done.stdout)
    assert done.returncode == 1, done.stderr
    assert result["status"] == "not_fixed"
    said = " ".join([result["reason"], *result["warnings"]])
    assert "time budget" in said, said
