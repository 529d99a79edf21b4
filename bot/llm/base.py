"""The protocol every model backend satisfies."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol


@dataclass(frozen=True)
class Message:
    role: str  # "system" | "user" | "assistant"
    content: str


@dataclass(frozen=True)
class Completion:
    text: str
    model: str
    prompt_tokens: int
    completion_tokens: int
    latency_s: float
    truncated: bool = False  # the reply stopped at max_tokens, not at its natural end


class LLMBackend(Protocol):
    name: str  # "ollama" | "openai"
    model: str
    context_window: int  # tokens the model accepts, prompt and reply together

    def check(self) -> None:
        """Raise LLMError with a message that says what to do when the backend cannot serve."""
        ...

    def complete(
        self,
        messages: Sequence[Message],
        *,
        temperature: float,
        max_tokens: int,
        seed: int | None = None,
        json_schema: Mapping[str, Any] | None = None,
    ) -> Completion: ...
