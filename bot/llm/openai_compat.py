"""OpenAI-compatible chat endpoints through the ``openai`` client.

One backend serves OpenAI itself, GitHub Models, vLLM, the llama.cpp server and Ollama's
``/v1``. The client's own retries are off (``max_retries=0``): retries happen in one place,
``bot.llm.retry``, for transient failures only.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from typing import Any

import openai

from bot.errors import LLMError
from bot.llm.base import Completion, Message
from bot.llm.retry import (
    CHECK_ATTEMPTS,
    DEFAULT_ATTEMPTS,
    DEFAULT_BACKOFF,
    Remaining,
    TransientLLMError,
    call_timeout,
    parse_retry_after,
    with_retries,
)
from bot.llm.tokens import estimate_messages, estimate_tokens

_CONTEXT_KEYS = ("max_model_len", "context_length", "context_window", "max_context_length")
DEFAULT_TAG = "latest"


def _has_tag(name: str) -> bool:
    return ":" in name.rsplit("/", 1)[-1]


def served_name(wanted: str, served: Sequence[str]) -> str | None:
    """The listed name the server answers ``wanted`` with, None when it serves no such model.

    Servers that tag their models (Ollama's ``/v1`` lists ``name:latest``) resolve an untagged
    name to its ``:latest`` tag; a listing without tags (OpenAI, vLLM) needs the exact name.
    """
    if wanted in served:
        return wanted
    if not _has_tag(wanted) and f"{wanted}:{DEFAULT_TAG}" in served:
        return f"{wanted}:{DEFAULT_TAG}"
    return None


def _error_detail(error: openai.APIStatusError) -> tuple[str, str]:
    """The server's own message and error code, whatever shape the body has."""
    body = error.body
    message, code = "", ""
    if isinstance(body, Mapping):
        message = str(body.get("message") or "")
        code = str(body.get("code") or body.get("type") or "")
    elif isinstance(body, str):
        message = body
    return (message.strip() or error.message), code


class OpenAICompatBackend:
    name = "openai"

    def __init__(
        self,
        model: str,
        *,
        base_url: str,
        api_key: str,
        timeout: float = 120.0,
        context_window: int = 8192,
        key_source: str = "OPENAI_API_KEY or MENDBOT_LLM_KEY",
        attempts: int = DEFAULT_ATTEMPTS,
        backoff: float = DEFAULT_BACKOFF,
        remaining: Remaining | None = None,
    ) -> None:
        self.model = model
        self.base_url = base_url
        self.timeout = timeout
        self.remaining = remaining  # seconds the run has left: bounds every wait
        self._waited = timeout
        self.context_window = context_window
        self.key_source = key_source
        self.notice = ""  # what check() learned that the user should hear (a resolved name)
        self.attempts = attempts
        self.backoff = backoff
        self._client = openai.OpenAI(
            base_url=base_url, api_key=api_key, timeout=timeout, max_retries=0
        )

    # -- errors -----------------------------------------------------------------------------

    def _translate(self, error: Exception, action: str) -> LLMError:
        where = self.base_url
        if isinstance(error, openai.APITimeoutError):
            return TransientLLMError(
                f"{where} did not answer {action} within {self._waited:.3g} s",
                hint="raise llm-timeout (MENDBOT_LLM_TIMEOUT) or check the server's load",
            )
        if isinstance(error, openai.APIConnectionError):
            return TransientLLMError(
                f"cannot reach the model server at {where} ({error.message})",
                hint="start the server, or fix --llm-url",
            )
        if isinstance(error, openai.APIStatusError):
            detail, code = _error_detail(error)
            status = error.status_code
            if status in (401, 403):
                return LLMError(
                    f"{where} refused the API key (HTTP {status}: {detail})",
                    hint=f"set a valid key in {self.key_source}",
                )
            if status == 404:
                return LLMError(
                    f"model {self.model!r} is not available at {where} (HTTP 404: {detail})",
                    hint="check the model name in --model and the --llm-url",
                )
            if status == 429:
                return TransientLLMError(
                    f"{where} is rate limiting requests (HTTP 429: {detail})",
                    hint="wait and retry, or lower --samples and llm-max-calls",
                    retry_after=parse_retry_after(error.response.headers.get("retry-after")),
                )
            if status >= 500:
                return TransientLLMError(
                    f"the model server at {where} failed (HTTP {status}: {detail})",
                    hint="retry later; look at the server's log",
                    retry_after=parse_retry_after(error.response.headers.get("retry-after")),
                )
            lowered = f"{detail} {code}".lower()
            if "context" in lowered and ("length" in lowered or "window" in lowered):
                return LLMError(
                    f"the prompt does not fit the context of {self.model} at {where} ({detail})",
                    hint="use a model with a larger context, or lower num-ctx so mendbot trims "
                    "prompts to fit",
                )
            return LLMError(f"{where} rejected the request (HTTP {status}: {detail})")
        if isinstance(error, ValueError):  # a 200 whose body is not JSON
            return LLMError(
                f"{where} sent an answer to {action} that is not OpenAI-compatible JSON",
                hint="check --llm-url: OpenAI-compatible servers answer under /v1 "
                "(for Ollama's own API use --model ollama:<name>)",
            )
        if isinstance(error, openai.OpenAIError):
            return LLMError(f"the model server at {where} answered badly during {action}: {error}")
        return LLMError(
            f"unexpected failure talking to {where} during {action}: "
            f"{type(error).__name__}: {error}"
        )

    def _attempt_timeout(self) -> float:
        self._waited = call_timeout(self.timeout, self.remaining)
        return self._waited

    def _guarded(self, action: str, call: Any) -> Any:
        try:
            return call()
        except LLMError:
            raise
        except Exception as error:  # the boundary: no client exception escapes a backend
            raise self._translate(error, action) from None

    # -- protocol ---------------------------------------------------------------------------

    def check(self) -> None:
        try:
            listing = with_retries(
                lambda: self._guarded(
                    "the model list",
                    lambda: list(self._client.models.list(timeout=self._attempt_timeout())),
                ),
                attempts=min(self.attempts, CHECK_ATTEMPTS),
                backoff=self.backoff,
                remaining=self.remaining,
            )
        except LLMError as error:
            if "HTTP 404" in error.message:
                return  # the server has no model listing (GitHub Models): nothing to verify
            raise
        ids = [model.id for model in listing]
        if ids:
            self._resolve(ids)
        for model in listing:
            if model.id != self.model:
                continue
            extra = model.model_extra or {}
            for key in _CONTEXT_KEYS:
                value = extra.get(key)
                if isinstance(value, int) and not isinstance(value, bool) and value > 0:
                    self.context_window = value
                    break

    def _resolve(self, ids: Sequence[str]) -> None:
        """Use the name the server lists for ``self.model``, or say it is not served."""
        served = served_name(self.model, ids)
        if served is None:
            tagged = sorted(i for i in ids if i.startswith(f"{self.model}:"))
            raise LLMError(
                f"model {self.model!r} is not served at {self.base_url} "
                f"(available: {', '.join((tagged or sorted(ids))[:8])})",
                hint=f"name one of its tags in --model, for example openai:{tagged[0]}"
                if tagged
                else "fix the name in --model",
            )
        if served != self.model:
            self.notice = f"model {self.model!r} is served at {self.base_url} as {served!r}"
            self.model = served

    def complete(
        self,
        messages: Sequence[Message],
        *,
        temperature: float,
        max_tokens: int,
        seed: int | None = None,
        json_schema: Mapping[str, Any] | None = None,
    ) -> Completion:
        needed = estimate_messages(messages) + max_tokens
        if needed > self.context_window:
            raise LLMError(
                f"the prompt needs about {needed} tokens with its reply, but the context of "
                f"{self.model} is {self.context_window}",
                hint="use a model with a larger context, or raise num-ctx if the server allows it",
            )
        payload = [{"role": m.role, "content": m.content} for m in messages]
        arguments: dict[str, Any] = {
            "model": self.model,
            "messages": payload,
            "temperature": temperature,
            "max_tokens": max_tokens,
        }
        if seed is not None:
            arguments["seed"] = seed
        if json_schema is not None:
            arguments["response_format"] = {
                "type": "json_schema",
                "json_schema": {"name": "answer", "schema": dict(json_schema), "strict": True},
            }
        started = time.monotonic()
        response = with_retries(
            lambda: self._guarded(
                "the chat request",
                lambda: self._client.chat.completions.create(
                    **arguments, timeout=self._attempt_timeout()
                ),
            ),
            attempts=self.attempts,
            backoff=self.backoff,
            remaining=self.remaining,
        )
        if not response.choices:
            raise LLMError(f"{self.base_url} answered without any choices")
        choice = response.choices[0]
        text = choice.message.content or ""
        usage = response.usage
        return Completion(
            text=text,
            model=response.model or self.model,
            prompt_tokens=usage.prompt_tokens if usage else estimate_messages(messages),
            completion_tokens=usage.completion_tokens if usage else estimate_tokens(text),
            latency_s=time.monotonic() - started,
            truncated=choice.finish_reason == "length",
        )
