"""A fake Ollama server speaking the real REST API: /api/chat (streaming NDJSON and not),
/api/tags, /api/show and Ollama's error bodies. The unmodified ``ollama`` client drives it."""

from __future__ import annotations

import json
from http.server import BaseHTTPRequestHandler
from typing import Any

from fakehttp import (
    FakeServer,
    Recorded,
    Reply,
    drop_connection,
    rough_tokens,
    send_chunked,
    send_json,
    split_text,
)

__all__ = ["FakeOllama", "Reply"]

CREATED = "2024-06-01T12:00:00.000000Z"


def _full(name: str) -> str:
    return name if ":" in name.rsplit("/", 1)[-1] else f"{name}:latest"


class FakeOllama(FakeServer):
    def __init__(
        self, models: tuple[str, ...] = ("qwen2.5-coder:7b",), context_length: int = 32768
    ) -> None:
        super().__init__()
        self.models = list(models)
        self.context_length = context_length

    def _pulled(self, name: str) -> bool:
        return any(_full(model) == _full(name) for model in self.models)

    def _details(self) -> dict[str, Any]:
        return {
            "parent_model": "",
            "format": "gguf",
            "family": "qwen2",
            "families": ["qwen2"],
            "parameter_size": "7.6B",
            "quantization_level": "Q4_K_M",
        }

    def handle(self, handler: BaseHTTPRequestHandler, request: Recorded) -> None:
        if request.method == "GET" and request.path == "/":
            send_json(handler, 200, "Ollama is running")
        elif request.method == "GET" and request.path == "/api/tags":
            send_json(handler, 200, {"models": [self._listing(m) for m in self.models]})
        elif request.method == "POST" and request.path == "/api/show":
            self._show(handler, request)
        elif request.method == "POST" and request.path == "/api/chat":
            self._chat(handler, request)
        else:
            send_json(handler, 404, "404 page not found")

    def _listing(self, name: str) -> dict[str, Any]:
        return {
            "name": name,
            "model": name,
            "modified_at": CREATED,
            "size": 4683087332,
            "digest": "a" * 64,
            "details": self._details(),
        }

    def _show(self, handler: BaseHTTPRequestHandler, request: Recorded) -> None:
        body = request.body if isinstance(request.body, dict) else {}
        name = str(body.get("model") or body.get("name") or "")
        if not self._pulled(name):
            send_json(handler, 404, {"error": f"model '{name}' not found"})
            return
        send_json(
            handler,
            200,
            {
                "license": "Apache License 2.0",
                "modelfile": f"FROM {name}\n",
                "parameters": 'stop "<|im_end|>"',
                "template": "{{ .Prompt }}",
                "details": self._details(),
                "model_info": {
                    "general.architecture": "qwen2",
                    "general.parameter_count": 7615616512,
                    "qwen2.context_length": self.context_length,
                    "qwen2.embedding_length": 3584,
                },
                "capabilities": ["completion", "tools"],
                "modified_at": CREATED,
            },
        )

    def _chat(self, handler: BaseHTTPRequestHandler, request: Recorded) -> None:
        body = request.body if isinstance(request.body, dict) else {}
        name = str(body.get("model") or "")
        if not self._pulled(name):
            send_json(handler, 404, {"error": f"model '{name}' not found"})
            return
        reply = self.next_reply(request)
        if reply.delay:
            self.wait(reply.delay)
        if reply.drop:
            drop_connection(handler)
            return
        if reply.raw_body is not None:
            send_json(handler, reply.status, reply.raw_body, reply.headers)
            return
        if reply.status != 200:
            send_json(handler, reply.status, {"error": reply.error or "error"}, reply.headers)
            return
        messages = body.get("messages") or []
        prompt_tokens = sum(rough_tokens(str(m.get("content", ""))) for m in messages)
        final = {
            "model": name,
            "created_at": CREATED,
            "message": {"role": "assistant", "content": ""},
            "done": True,
            "done_reason": reply.finish,
            "total_duration": 1_000_000,
            "load_duration": 1000,
            "prompt_eval_count": prompt_tokens,
            "prompt_eval_duration": 1000,
            "eval_count": rough_tokens(reply.content),
            "eval_duration": 1000,
        }
        if body.get("stream", True) is False:
            final["message"] = {"role": "assistant", "content": reply.content}
            send_json(handler, 200, final)
            return
        lines: list[bytes] = []
        for piece in split_text(reply.content):
            part = {
                "model": name,
                "created_at": CREATED,
                "message": {"role": "assistant", "content": piece},
                "done": False,
            }
            lines.append(json.dumps(part).encode() + b"\n")
        if reply.stream_error is not None:
            lines.append(json.dumps({"error": reply.stream_error}).encode() + b"\n")
        else:
            lines.append(json.dumps(final).encode() + b"\n")
        send_chunked(handler, "application/x-ndjson", lines)
