"""The Ollama and OpenAI-compatible backends against fake servers speaking the real protocols,
driven by the unmodified ``ollama`` and ``openai`` clients."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from pathlib import Path

import pytest
from fake_ollama import FakeOllama, Reply
from fake_openai import FakeOpenAI

from bot.config import Settings
from bot.errors import ConfigError, LLMError
from bot.llm.base import Message
from bot.llm.ollama import OllamaBackend
from bot.llm.openai_compat import OpenAICompatBackend
from bot.llm.registry import (
    GITHUB_MODELS_URL,
    connect_backend,
    make_backend,
    parse_model_spec,
    resolve_key,
)

MODEL = "qwen2.5-coder:7b"
HELLO = [Message("system", "be brief"), Message("user", "say hello")]


@pytest.fixture
def ollama_server() -> Iterator[FakeOllama]:
    with FakeOllama(models=(MODEL,), context_length=32768) as server:
        yield server


@pytest.fixture
def openai_server() -> Iterator[FakeOpenAI]:
    with FakeOpenAI(models=("gpt-4o-mini",), api_key="sk-test-key-123456789") as server:
        yield server


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def ollama(server: FakeOllama, **options: object) -> OllamaBackend:
    settings: dict[str, object] = {"timeout": 5.0, "num_ctx": 8192, "backoff": 0.01}
    settings.update(options)
    return OllamaBackend(MODEL, host=server.url, **settings)  # type: ignore[arg-type]


def openai_backend(server: FakeOpenAI, **options: object) -> OpenAICompatBackend:
    settings: dict[str, object] = {
        "api_key": "sk-test-key-123456789",
        "timeout": 5.0,
        "backoff": 0.01,
    }
    settings.update(options)
    return OpenAICompatBackend("gpt-4o-mini", base_url=server.base_url, **settings)  # type: ignore[arg-type]


# -- Ollama -----------------------------------------------------------------------------------


@pytest.mark.parametrize("stream", [True, False])
def test_ollama_chat_sends_explicit_options_and_reads_the_reply(
    ollama_server: FakeOllama, stream: bool
) -> None:
    backend = ollama(ollama_server, stream=stream, keep_alive="7m")
    backend.check()
    ollama_server.add("hello there")
    completion = backend.complete(HELLO, temperature=0.3, max_tokens=100, seed=42)

    assert completion.text == "hello there"
    assert completion.completion_tokens > 0 and completion.prompt_tokens > 0
    assert not completion.truncated
    body = ollama_server.chat_requests()[-1].body
    assert body["model"] == MODEL
    assert body["stream"] is stream
    assert body["keep_alive"] == "7m"
    assert body["options"] == {"num_ctx": 8192, "temperature": 0.3, "num_predict": 100, "seed": 42}
    assert [m["role"] for m in body["messages"]] == ["system", "user"]


def test_ollama_check_reads_the_context_length_and_clamps_num_ctx() -> None:
    with FakeOllama(models=(MODEL,), context_length=4096) as server:
        backend = ollama(server, num_ctx=16384)
        backend.check()
        assert backend.context_window == 4096
        server.add("ok")
        backend.complete(HELLO, temperature=0.0, max_tokens=50)
        assert server.chat_requests()[-1].body["options"]["num_ctx"] == 4096


def test_ollama_model_not_pulled_says_how_to_pull_it(ollama_server: FakeOllama) -> None:
    backend = OllamaBackend("llama3.1:8b", host=ollama_server.url, timeout=5, backoff=0.01)
    with pytest.raises(LLMError) as caught:
        backend.check()
    assert "not pulled" in caught.value.message
    assert caught.value.hint == "pull it first: ollama pull llama3.1:8b"
    # the chat endpoint's own 404 body gives the same advice, and is not retried
    with pytest.raises(LLMError) as caught:
        backend.complete(HELLO, temperature=0.0, max_tokens=10)
    assert "ollama pull llama3.1:8b" in str(caught.value)
    assert len(ollama_server.chat_requests()) == 1


def test_ollama_unreachable_server_is_a_clear_error() -> None:
    backend = OllamaBackend(
        MODEL, host=f"http://127.0.0.1:{free_port()}", timeout=2, attempts=2, backoff=0.01
    )
    with pytest.raises(LLMError) as caught:
        backend.check()
    assert "cannot reach the Ollama server" in caught.value.message
    assert "gave up after 2 attempts" in caught.value.message
    assert "ollama serve" in caught.value.hint


def test_ollama_host_comes_from_the_environment(ollama_server: FakeOllama) -> None:
    backend = OllamaBackend(MODEL, timeout=5, environ={"OLLAMA_HOST": ollama_server.url})
    assert backend.host == ollama_server.url
    backend.check()
    assert any(r.path == "/api/tags" for r in ollama_server.requests)


def test_ollama_retries_server_errors_then_succeeds(ollama_server: FakeOllama) -> None:
    backend = ollama(ollama_server)
    ollama_server.add(Reply(status=500, error="out of memory"), Reply(status=503), "fine")
    assert backend.complete(HELLO, temperature=0.0, max_tokens=10).text == "fine"
    assert len(ollama_server.chat_requests()) == 3


@pytest.mark.parametrize(
    ("reply", "expected"),
    [
        (Reply(status=500, error="llama runner process has terminated"), "failed to answer"),
        (Reply(status=429, error="too many requests"), "rate limiting"),
        (Reply(stream_error="unexpected EOF"), "failed to answer"),
        (Reply(drop=True), "failed during the chat request"),
        (Reply(raw_body="<html>proxy error</html>"), "not Ollama's format"),
    ],
)
def test_ollama_failures_become_llm_errors_after_retries(
    ollama_server: FakeOllama, reply: Reply, expected: str
) -> None:
    backend = ollama(ollama_server, attempts=2)
    ollama_server.responder = lambda request: reply
    with pytest.raises(LLMError) as caught:
        backend.complete(HELLO, temperature=0.0, max_tokens=10)
    assert expected in caught.value.message
    assert caught.value.hint


def test_ollama_slow_server_times_out_with_advice(ollama_server: FakeOllama) -> None:
    backend = ollama(ollama_server, timeout=0.3, attempts=1)
    ollama_server.add(Reply(content="late", delay=3))
    with pytest.raises(LLMError) as caught:
        backend.complete(HELLO, temperature=0.0, max_tokens=10)
    assert "did not answer the chat request within 0.3 s" in caught.value.message
    assert "llm-timeout" in caught.value.hint


def test_ollama_refuses_a_prompt_that_would_be_cut(ollama_server: FakeOllama) -> None:
    backend = ollama(ollama_server, num_ctx=2048)
    huge = [Message("user", "def f():\n    return 1\n" * 600)]
    with pytest.raises(LLMError) as caught:
        backend.complete(huge, temperature=0.0, max_tokens=512)
    assert "context" in caught.value.message and "num-ctx" in caught.value.hint
    assert ollama_server.chat_requests() == []  # nothing was sent


def test_ollama_reports_a_reply_cut_at_the_token_limit(ollama_server: FakeOllama) -> None:
    backend = ollama(ollama_server)
    ollama_server.add(Reply(content="def f(", finish="length"))
    assert backend.complete(HELLO, temperature=0.0, max_tokens=3).truncated


def test_ollama_passes_a_json_schema_as_format(ollama_server: FakeOllama) -> None:
    backend = ollama(ollama_server, stream=False)
    schema = {"type": "object", "properties": {"a": {"type": "string"}}}
    ollama_server.add('{"a": "b"}')
    backend.complete(HELLO, temperature=0.0, max_tokens=20, json_schema=schema)
    assert ollama_server.chat_requests()[-1].body["format"] == schema


# -- OpenAI-compatible ------------------------------------------------------------------------


def test_openai_chat_round_trip(openai_server: FakeOpenAI) -> None:
    backend = openai_backend(openai_server)
    backend.check()
    openai_server.add("hi!")
    completion = backend.complete(HELLO, temperature=0.6, max_tokens=64, seed=7)
    assert completion.text == "hi!"
    assert completion.model == "gpt-4o-mini"
    request = openai_server.chat_requests()[-1]
    assert request.headers["authorization"] == "Bearer sk-test-key-123456789"
    assert request.body["temperature"] == 0.6
    assert request.body["max_tokens"] == 64
    assert request.body["seed"] == 7
    assert "response_format" not in request.body


def test_openai_check_learns_the_context_from_the_model_list() -> None:
    with FakeOpenAI(models=("Qwen/Qwen2.5-Coder-7B",), max_model_len=32768) as server:
        backend = OpenAICompatBackend(
            "Qwen/Qwen2.5-Coder-7B", base_url=server.base_url, api_key="x", context_window=8192
        )
        backend.check()
        assert backend.context_window == 32768


def test_openai_unknown_model_is_named(openai_server: FakeOpenAI) -> None:
    backend = OpenAICompatBackend(
        "gpt-9", base_url=openai_server.base_url, api_key="sk-test-key-123456789", backoff=0.01
    )
    with pytest.raises(LLMError) as caught:
        backend.check()
    assert "'gpt-9' is not served" in caught.value.message and "gpt-4o-mini" in caught.value.message
    with pytest.raises(LLMError) as caught:
        backend.complete(HELLO, temperature=0.0, max_tokens=10)
    assert "HTTP 404" in caught.value.message


def test_openai_untagged_name_is_the_latest_tag_as_the_server_resolves_it() -> None:
    """Ollama's /v1 lists `name:latest` and answers `name` with it: the untagged name is
    accepted, the listed name is the one used (and said), and a name with only other tags is
    refused with those tags."""
    models = ("qwen2.5-coder:latest", "llama3:8b", "llama3:70b")
    with FakeOpenAI(models=models, untagged_is_latest=True) as server:
        backend = OpenAICompatBackend("qwen2.5-coder", base_url=server.base_url, api_key="x")
        backend.check()
        assert backend.model == "qwen2.5-coder:latest"
        assert "'qwen2.5-coder'" in backend.notice and "'qwen2.5-coder:latest'" in backend.notice
        server.add("ok")
        assert backend.complete(HELLO, temperature=0.0, max_tokens=10).text == "ok"
        assert server.chat_requests()[-1].body["model"] == "qwen2.5-coder:latest"
        exact = OpenAICompatBackend("llama3:8b", base_url=server.base_url, api_key="x")
        exact.check()
        assert exact.model == "llama3:8b" and exact.notice == ""
        with pytest.raises(LLMError) as caught:
            OpenAICompatBackend("llama3", base_url=server.base_url, api_key="x").check()
        assert "'llama3' is not served" in caught.value.message
        assert "llama3:70b, llama3:8b" in caught.value.message
        assert "openai:llama3:70b" in caught.value.hint


def test_the_resolved_model_name_is_a_note_of_the_run(tmp_path: Path) -> None:
    from bot.cli import build_engines
    from bot.config import Settings
    from bot.trace import Trace

    with FakeOpenAI(models=("qwen2.5-coder:latest",), untagged_is_latest=True) as server:
        settings = Settings(engine="llm", model="openai:qwen2.5-coder", llm_url=server.base_url)
        engines, notes = build_engines(settings, Trace(None))
    assert len(engines) == 1
    assert any("served" in note and "qwen2.5-coder:latest" in note for note in notes)


def test_openai_bad_key_says_where_the_key_comes_from(openai_server: FakeOpenAI) -> None:
    backend = openai_backend(openai_server, api_key="wrong", key_source="MENDBOT_LLM_KEY")
    with pytest.raises(LLMError) as caught:
        backend.check()
    assert "refused the API key (HTTP 401" in caught.value.message
    assert "MENDBOT_LLM_KEY" in caught.value.hint
    assert len(openai_server.requests) == 1  # a bad key is not retried


def test_openai_rate_limit_is_retried_with_retry_after(openai_server: FakeOpenAI) -> None:
    backend = openai_backend(openai_server, backoff=5.0)  # Retry-After: 0 overrides the backoff
    limited = Reply(status=429, error="Rate limit reached", headers={"Retry-After": "0"})
    openai_server.add(limited, limited, "done")
    assert backend.complete(HELLO, temperature=0.0, max_tokens=10).text == "done"
    assert len(openai_server.chat_requests()) == 3


def test_openai_rate_limit_that_persists_is_reported(openai_server: FakeOpenAI) -> None:
    backend = openai_backend(openai_server, attempts=2)
    openai_server.responder = lambda request: Reply(status=429, error="Rate limit reached")
    with pytest.raises(LLMError) as caught:
        backend.complete(HELLO, temperature=0.0, max_tokens=10)
    assert "rate limiting" in caught.value.message and "gave up after 2" in caught.value.message


@pytest.mark.parametrize(
    ("reply", "expected"),
    [
        (Reply(status=500, error="upstream failed"), "failed (HTTP 500: upstream failed)"),
        (Reply(drop=True), "cannot reach"),
        (Reply(raw_body="not json at all"), "not OpenAI-compatible JSON"),
    ],
)
def test_openai_failures_become_llm_errors(
    openai_server: FakeOpenAI, reply: Reply, expected: str
) -> None:
    backend = openai_backend(openai_server, attempts=2)
    openai_server.responder = lambda request: reply
    with pytest.raises(LLMError) as caught:
        backend.complete(HELLO, temperature=0.0, max_tokens=10)
    assert expected in caught.value.message


def test_openai_context_error_is_explained(openai_server: FakeOpenAI) -> None:
    backend = openai_backend(openai_server)
    openai_server.add(Reply(status=400, error="This model's maximum context length is 8192 tokens"))
    with pytest.raises(LLMError) as caught:
        backend.complete(HELLO, temperature=0.0, max_tokens=10)
    assert "does not fit the context" in caught.value.message


def test_openai_timeout_and_unreachable() -> None:
    with FakeOpenAI() as server:
        server.add(Reply(content="late", delay=3))
        backend = OpenAICompatBackend(
            "gpt-4o-mini", base_url=server.base_url, api_key="x", timeout=0.3, attempts=1
        )
        with pytest.raises(LLMError) as caught:
            backend.complete(HELLO, temperature=0.0, max_tokens=10)
        assert "did not answer the chat request within 0.3 s" in caught.value.message
    down = OpenAICompatBackend(
        "gpt-4o-mini", base_url=f"http://127.0.0.1:{free_port()}/v1", api_key="x", backoff=0.01
    )
    with pytest.raises(LLMError) as caught:
        down.check()
    assert "cannot reach the model server" in caught.value.message


def test_openai_json_schema_is_sent_as_response_format(openai_server: FakeOpenAI) -> None:
    backend = openai_backend(openai_server)
    openai_server.add('{"a": "b"}')
    schema = {"type": "object", "properties": {"a": {"type": "string"}}}
    backend.complete(HELLO, temperature=0.0, max_tokens=20, json_schema=schema)
    sent = openai_server.chat_requests()[-1].body["response_format"]
    assert sent["type"] == "json_schema" and sent["json_schema"]["schema"] == schema


def test_openai_server_without_a_model_list_passes_the_check() -> None:
    with FakeOpenAI(list_models=False) as server:
        OpenAICompatBackend("gpt-4o-mini", base_url=server.base_url, api_key="k").check()


# -- registry ---------------------------------------------------------------------------------


def test_model_specs() -> None:
    assert parse_model_spec("ollama:qwen2.5-coder:7b").model == "qwen2.5-coder:7b"
    assert parse_model_spec("openai:gpt-4o-mini").provider == "openai"
    assert parse_model_spec("github:openai/gpt-4o-mini").model == "openai/gpt-4o-mini"
    for bad in ("qwen2.5-coder:7b", "gpt-4o", "ollama:", "mistral:latest"):
        with pytest.raises(ConfigError) as caught:
            parse_model_spec(bad)
        assert "ollama:qwen2.5-coder:7b" in caught.value.hint


def test_keys_come_from_the_environment_only() -> None:
    assert resolve_key(GITHUB_MODELS_URL, {"GITHUB_TOKEN": "ghs_x"})[0] == "ghs_x"
    assert resolve_key("https://api.openai.com/v1", {"GITHUB_TOKEN": "ghs_x"})[0] is None
    assert resolve_key("https://api.openai.com/v1", {"OPENAI_API_KEY": "a"})[0] == "a"
    both = {"OPENAI_API_KEY": "a", "MENDBOT_LLM_KEY": "b"}
    assert resolve_key("https://api.openai.com/v1", both)[0] == "b"
    with pytest.raises(ConfigError) as caught:
        make_backend(Settings(model="openai:gpt-4o-mini"), environ={})
    assert "OPENAI_API_KEY" in caught.value.hint
    github = make_backend(Settings(model="github:openai/gpt-4o-mini"), {"GITHUB_TOKEN": "t"})
    assert isinstance(github, OpenAICompatBackend) and github.base_url == GITHUB_MODELS_URL


def test_settings_build_working_backends(
    ollama_server: FakeOllama, openai_server: FakeOpenAI
) -> None:
    settings = Settings(model=f"ollama:{MODEL}", llm_url=ollama_server.url, num_ctx=4096)
    backend, reason = connect_backend(settings, {}, required=True)
    assert isinstance(backend, OllamaBackend) and reason == ""
    assert backend.context_window == 4096
    remote = Settings(model="openai:gpt-4o-mini", llm_url=openai_server.base_url)
    built, _ = connect_backend(remote, {"OPENAI_API_KEY": "sk-test-key-123456789"}, required=True)
    assert isinstance(built, OpenAICompatBackend)


def test_connect_backend_explains_why_there_is_no_llm() -> None:
    backend, reason = connect_backend(Settings(), {}, required=False)
    assert backend is None and "no LLM is configured" in reason
    with pytest.raises(ConfigError):
        connect_backend(Settings(), {}, required=True)
    down = Settings(model=f"ollama:{MODEL}", llm_url=f"http://127.0.0.1:{free_port()}")
    backend, reason = connect_backend(down, {}, required=False)
    assert backend is None and "cannot reach the Ollama server" in reason
