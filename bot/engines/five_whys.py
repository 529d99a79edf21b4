"""A root-cause note from the model: a short five-whys chain, asked for as JSON and validated.

The note is a nicety on top of the deterministic one. Any problem (the server fails, the reply
is not JSON, a field is missing or absurd) gives None and the caller keeps its own note.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, ValidationError

from bot.errors import LLMError
from bot.llm.base import LLMBackend
from bot.llm.calls import ModelCaller
from bot.models import Failure, FailureClass
from bot.trace import Trace

Sentence = Annotated[str, StringConstraints(strip_whitespace=True, min_length=3, max_length=400)]

MAX_NOTE_TOKENS = 600


class RootCause(BaseModel):
    model_config = ConfigDict(extra="forbid")

    whys: list[Sentence] = Field(min_length=1, max_length=5)
    root_cause: Sentence
    fix: Sentence


def parse_root_cause(text: str) -> RootCause | None:
    """The validated answer, tolerating a code fence or words around the JSON object."""
    start, end = text.find("{"), text.rfind("}")
    if start < 0 or end <= start:
        return None
    try:
        data = json.loads(text[start : end + 1])
        return RootCause.model_validate(data)
    except (json.JSONDecodeError, ValidationError):
        return None


def _one_line(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()


def format_note(cause: RootCause) -> str:
    lines = ["Five whys (model):"]
    lines += [f"{number}. {_one_line(why)}" for number, why in enumerate(cause.whys, 1)]
    lines.append(f"Root cause: {_one_line(cause.root_cause)}")
    lines.append(f"Fix: {_one_line(cause.fix)}")
    return "\n".join(lines)


def five_whys(
    backend: LLMBackend | ModelCaller,
    failures: Sequence[Failure],
    diff: str,
    *,
    trace: Trace | None = None,
) -> str | None:
    """A five-whys note for a verified fix, or None when the model's answer is unusable."""
    from bot.engines.prompts import FIVE_WHYS_SCHEMA, FailingTest, five_whys_messages

    if not failures or not diff.strip():
        return None
    caller = (
        backend if isinstance(backend, ModelCaller) else ModelCaller(backend, trace or Trace(None))
    )
    tests = [
        FailingTest(
            f.nodeid, "", f.exception_type + (f": {f.message}" if f.message else ""), f.traceback
        )
        for f in failures
    ]
    failure_class: FailureClass = failures[0].failure_class
    messages = five_whys_messages(failure_class, tests, diff)
    try:
        call_id, completion = caller.call(
            messages,
            purpose="five-whys",
            temperature=0.0,
            max_tokens=MAX_NOTE_TOKENS,
            seed=0,
            json_schema=FIVE_WHYS_SCHEMA,
        )
    except LLMError as error:
        caller.trace.write("five_whys_unusable", reason=str(error))
        return None
    cause = parse_root_cause(completion.text)
    if cause is None:
        caller.reject(call_id, "the root-cause answer is not valid JSON of the asked shape")
        return None
    return format_note(cause)
