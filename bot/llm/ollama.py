"""The Ollama backend, through the ``ollama`` client.

Ollama cuts a prompt that does not fit ``num_ctx`` from the front without saying so, so this
backend always sends ``num_ctx`` explicitly, learns the model's real context length from
``/api/show``, and refuses a prompt that would not fit before sending it.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Mapping, Sequence
from typing import Any

import httpx
import ollama
import pydantic

from bot.errors import LLMError
from bot.llm.base import Completion, Message
from bot.llm.retry import (
    CHECK_ATTEMPTS,
    DEFAULT_ATTEMPTS,
    DEFAULT_BACKOFF,
    Remaining,
    TransientLLMError,
    call_timeout,
    with_retries,
)
from bot.llm.tokens import estimate_messages, estimate_tokens

DEFAULT_HOST = "http://127.0.0.1:11434"
DEFAULT_KEEP_ALIVE = "5m"
CONNECT_TIMEOUT = 10.0


def context_length_from_show(model_info: Mapping[str, Any] | None) -> int | None:
    """The trained context length in ``/api/show``'s model_info (``<arch>.context_length``)."""
    if not model_info:
        return None
    architecture = model_info.get("general.architecture")
    keys = [f"{architecture}.context_length"] if isinstance(architecture, str) else []
    keys += [key for key in model_info if key.endswith(".context_length")]
    for key in keys:
        value = model_info.get(key)
        if isinstance(value, int) and not isinstance(value, bool) and value > 0:
            return value
    return None


def same_model(available: str, wanted: str) -> bool:
    """Ollama names without a tag mean ``:latest``."""

    def full(name: str) -> str:
        return name if ":" in name.rsplit("/", 1)[-1] else f"{name}:latest"

    return full(available) == full(wanted)


class OllamaBackend:
    name = "ollama"

    def __init__(
        self,
        model: str,
        *,
        host: str | None = None,
        timeout: float = 120.0,
        num_ctx: int = 8192,
        keep_alive: str | float = DEFAULT_KEEP_ALIVE,
        stream: bool = True,
        attempts: int = DEFAULT_ATTEMPTS,
        backoff: float = DEFAULT_BACKOFF,
        environ: Mapping[str, str] | None = None,
        remaining: Remaining | None = None,
    ) -> None:
        env = os.environ if environ is None else environ
        self.model = model
        self.host = host or env.get("OLLAMA_HOST") or DEFAULT_HOST
        self.timeout = timeout
        self.remaining = remaining  # seconds the run has left: bounds every wait
        self._waited = timeout
        self._call_ends = float("inf")
        self.num_ctx = num_ctx
        self.context_window = num_ctx
        self.model_context: int | None = None
        self.keep_alive = keep_alive
        self.stream = stream
        self.attempts = attempts
        self.backoff = backoff
        self._client = ollama.Client(
            host=self.host,
            timeout=httpx.Timeout(timeout, connect=min(CONNECT_TIMEOUT, timeout)),
        )

    # -- errors -----------------------------------------------------------------------------

    def _unreachable(self, detail: str) -> TransientLLMError:
        return TransientLLMError(
            f"cannot reach the Ollama server at {self.host} ({detail})",
            hint="start it with `ollama serve`, or point --llm-url / OLLAMA_HOST at a running one",
        )

    def _from_response_error(self, error: ollama.ResponseError) -> LLMError:
        status, detail = error.status_code, str(error.error).strip()
        if status == 404 and "not found" in detail.lower():
            return LLMError(
                f"model {self.model!r} is not available on the Ollama server at {self.host}: "
                f"{detail}",
                hint=f"pull it first: ollama pull {self.model}",
            )
        if status == 404:
            return LLMError(
                f"{self.host} does not answer like an Ollama server (HTTP 404: {detail})",
                hint="check --llm-url / OLLAMA_HOST; for an OpenAI-compatible URL use "
                "--model openai:<name>",
            )
        if status == 429:
            return TransientLLMError(
                f"the Ollama server at {self.host} is rate limiting requests ({detail})",
                hint="wait and retry, or lower --samples and llm-max-calls",
            )
        if status in (401, 403):
            return LLMError(
                f"the Ollama server at {self.host} refused the request (HTTP {status}: {detail})",
                hint="set OLLAMA_API_KEY if the server needs a key",
            )
        if status >= 500 or status == -1:
            return TransientLLMError(
                f"the Ollama server at {self.host} failed to answer ({detail}"
                + (f", HTTP {status})" if status > 0 else ")"),
                hint="look at the server's log (`journalctl -u ollama` or the `ollama serve` "
                "output); a model too large for the machine's memory fails like this",
            )
        return LLMError(
            f"the Ollama server at {self.host} rejected the request (HTTP {status}: {detail})",
            hint="check the model name and --num-ctx",
        )

    def _bound(self) -> None:
        """Bound the next attempt by the configured timeout and the time the run has left."""
        self._waited = call_timeout(self.timeout, self.remaining)
        self._call_ends = time.monotonic() + self._waited
        self._client._client.timeout = httpx.Timeout(
            self._waited, connect=min(CONNECT_TIMEOUT, self._waited)
        )

    def _guarded(self, action: str, call: Any) -> Any:
        """Run one client call, mapping every client and transport exception to an LLMError."""
        try:
            self._bound()
            return call()
        except ollama.ResponseError as error:
            raise self._from_response_error(error) from None
        except (ConnectionError, httpx.ConnectError) as error:
            raise self._unreachable(type(error).__name__) from None
        except httpx.TimeoutException:
            raise TransientLLMError(
                f"the Ollama server at {self.host} did not answer {action} within "
                f"{self._waited:.3g} s",
                hint="raise llm-timeout (MENDBOT_LLM_TIMEOUT), use a smaller model, "
                "or check the server's load",
            ) from None
        except httpx.HTTPError as error:
            raise TransientLLMError(
                f"the connection to the Ollama server at {self.host} failed during {action} "
                f"({type(error).__name__}: {error})",
                hint="check that the server is running and reachable",
            ) from None
        except (json.JSONDecodeError, pydantic.ValidationError, ValueError, TypeError) as error:
            raise LLMError(
                f"the server at {self.host} sent an answer to {action} that is not Ollama's "
                f"format ({type(error).__name__})",
                hint="check --llm-url; for an OpenAI-compatible endpoint use --model openai:<name>",
            ) from None

    # -- protocol ---------------------------------------------------------------------------

    def check(self) -> None:
        listing = with_retries(
            lambda: self._guarded("the model list", self._client.list),
            attempts=min(self.attempts, CHECK_ATTEMPTS),
            backoff=self.backoff,
            remaining=self.remaining,
        )
        names = [m.model for m in listing.models if m.model]
        if not any(same_model(name, self.model) for name in names):
            available = ", ".join(sorted(names)[:8]) or "none"
            raise LLMError(
                f"model {self.model!r} is not pulled on the Ollama server at {self.host} "
                f"(available: {available})",
                hint=f"pull it first: ollama pull {self.model}",
            )
        shown = with_retries(
            lambda: self._guarded("the model details", lambda: self._client.show(self.model)),
            attempts=min(self.attempts, CHECK_ATTEMPTS),
            backoff=self.backoff,
            remaining=self.remaining,
        )
        self.model_context = context_length_from_show(shown.modelinfo)
        if self.model_context is not None and self.model_context < self.num_ctx:
            # asking for more than the model was trained on degrades answers; clamp
            self.num_ctx = self.model_context
        self.context_window = self.num_ctx

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
        if needed > self.num_ctx:
            raise LLMError(
                f"the prompt needs about {needed} tokens with its reply, but the context of "
                f"{self.model} is set to {self.num_ctx}",
                hint="raise num-ctx (MENDBOT_NUM_CTX or [tool.mendbot] num-ctx) if the model "
                "allows it, or use a model with a larger context",
            )
        options: dict[str, Any] = {
            "num_ctx": self.num_ctx,
            "temperature": temperature,
            "num_predict": max_tokens,
        }
        if seed is not None:
            options["seed"] = seed
        payload = [{"role": m.role, "content": m.content} for m in messages]
        schema = dict(json_schema) if json_schema is not None else None
        started = time.monotonic()
        text, final = with_retries(
            lambda: self._guarded("the chat request", lambda: self._chat(payload, options, schema)),
            attempts=self.attempts,
            backoff=self.backoff,
            remaining=self.remaining,
        )
        prompt_tokens = final.prompt_eval_count
        if prompt_tokens is not None and prompt_tokens >= self.num_ctx:
            raise LLMError(
                f"the Ollama server cut the prompt to fit num_ctx={self.num_ctx} "
                f"({prompt_tokens} tokens evaluated); the reply would be based on a partial prompt",
                hint="raise num-ctx, or use a model with a larger context",
            )
        return Completion(
            text=text,
            model=final.model or self.model,
            prompt_tokens=prompt_tokens or estimate_messages(messages),
            completion_tokens=final.eval_count or estimate_tokens(text),
            latency_s=time.monotonic() - started,
            truncated=final.done_reason == "length",
        )

    def _chat(
        self,
        payload: list[dict[str, str]],
        options: dict[str, Any],
        schema: dict[str, Any] | None,
    ) -> tuple[str, ollama.ChatResponse]:
        if not self.stream:
            response = self._client.chat(
                model=self.model,
                messages=payload,
                stream=False,
                options=options,
                keep_alive=self.keep_alive,
                format=schema,
            )
            return response.message.content or "", response
        parts: list[str] = []
        final: ollama.ChatResponse | None = None
        for chunk in self._client.chat(
            model=self.model,
            messages=payload,
            stream=True,
            options=options,
            keep_alive=self.keep_alive,
            format=schema,
        ):
            parts.append(chunk.message.content or "")
            if chunk.done:
                final = chunk
            elif time.monotonic() > self._call_ends:  # a server that trickles: a timeout too
                raise httpx.ReadTimeout("the reply took longer than the timeout")
        if final is None:
            raise TransientLLMError(
                f"the Ollama server at {self.host} ended the reply stream before it was done",
                hint="check the server's log; it may have run out of memory",
            )
        return "".join(parts), final
