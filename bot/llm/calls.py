"""Every model call in one place: counted against the budgets and written to the trace."""

from __future__ import annotations

import itertools
import time
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Any

from bot.errors import LLMError
from bot.llm.base import Completion, LLMBackend, Message
from bot.trace import Trace


@dataclass
class Usage:
    calls: int = 0
    failed_calls: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    seconds: float = 0.0
    rejected_replies: int = 0
    candidates: int = 0

    @property
    def tokens(self) -> int:
        return self.prompt_tokens + self.completion_tokens

    def as_dict(self) -> dict[str, float]:
        counters: dict[str, float] = dict(asdict(self))
        counters["seconds"] = round(self.seconds, 3)
        return counters


class ModelCaller:
    """Wraps a backend: each call gets an id, is counted in ``usage`` and traced as ``llm_call``."""

    def __init__(self, backend: LLMBackend, trace: Trace, usage: Usage | None = None) -> None:
        self.backend = backend
        self.trace = trace
        self.usage = usage if usage is not None else Usage()
        self._numbers = itertools.count(1)

    def call(
        self,
        messages: Sequence[Message],
        *,
        purpose: str,
        temperature: float,
        max_tokens: int,
        seed: int | None = None,
        json_schema: Mapping[str, Any] | None = None,
        details: Mapping[str, Any] | None = None,
    ) -> tuple[str, Completion]:
        call_id = f"{purpose}-{next(self._numbers)}"
        record: dict[str, Any] = {
            "call_id": call_id,
            "purpose": purpose,
            "backend": self.backend.name,
            "model": self.backend.model,
            "temperature": temperature,
            "seed": seed,
            "max_tokens": max_tokens,
            "prompt": [{"role": m.role, "content": m.content} for m in messages],
            **(details or {}),
        }
        started = time.monotonic()
        try:
            completion = self.backend.complete(
                messages,
                temperature=temperature,
                max_tokens=max_tokens,
                seed=seed,
                json_schema=json_schema,
            )
        except LLMError as error:
            elapsed = time.monotonic() - started
            self.usage.calls += 1
            self.usage.failed_calls += 1
            self.usage.seconds += elapsed
            self.trace.write(
                "llm_call", **record, outcome="error", error=str(error), latency_s=elapsed
            )
            raise
        self.usage.calls += 1
        self.usage.prompt_tokens += completion.prompt_tokens
        self.usage.completion_tokens += completion.completion_tokens
        self.usage.seconds += completion.latency_s
        self.trace.write(
            "llm_call",
            **record,
            reply=completion.text,
            prompt_tokens=completion.prompt_tokens,
            completion_tokens=completion.completion_tokens,
            latency_s=round(completion.latency_s, 3),
            outcome="truncated" if completion.truncated else "ok",
        )
        return call_id, completion

    def reject(self, call_id: str, reason: str, **details: Any) -> None:
        """Record an unusable reply: a value with a reason, never an exception."""
        self.usage.rejected_replies += 1
        self.trace.write("llm_reply_rejected", call_id=call_id, reason=reason, **details)
