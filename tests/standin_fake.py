"""The stand-in model (``bot.bench_standin``) behind the fake model servers: a responder that
answers each chat request from a bug's reference fix, editing only the code the prompt shows."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from fakehttp import Recorded, Reply

from bot.bench_standin import ReferenceFix, StandIn
from bot.llm.base import Message

NOT_COPIED = {"reference", "bug.toml", "__pycache__", ".pytest_cache"}


def standin_responder(standin: StandIn) -> Callable[[Recorded], Reply]:
    def respond(request: Recorded) -> Reply:
        body = request.body if isinstance(request.body, dict) else {}
        messages = [
            Message(str(m.get("role", "user")), str(m.get("content", "")))
            for m in body.get("messages") or []
        ]
        return Reply(content=standin.answer(messages))

    return respond


def standin_for(bug: Path) -> StandIn:
    standin = StandIn()
    standin.use(ReferenceFix.from_bug(bug))
    return standin
