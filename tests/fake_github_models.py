"""A fake GitHub Models inference server, driven by the unmodified ``openai`` client.

GitHub Models speaks the OpenAI chat-completions protocol at ``<host>/inference``: the
workflow's ``GITHUB_TOKEN`` (with ``permissions: models: read``) as a bearer token, model names
with their publisher (``openai/gpt-4o-mini``), no model listing under ``/inference`` (the
catalog lives elsewhere), and its own error codes: ``unauthorized`` for a bad token,
``no_access`` for a token without the models permission, ``unknown_model`` for a bad name.
"""

from __future__ import annotations

import time
from http.server import BaseHTTPRequestHandler

from fakehttp import FakeServer, Recorded, rough_tokens, send_json

MODELS = ("openai/gpt-4o-mini", "openai/gpt-4.1", "meta/llama-3.3-70b-instruct")


class FakeGitHubModels(FakeServer):
    def __init__(self, token: str, *, models_permission: bool = True) -> None:
        super().__init__()
        self.token = token
        self.models_permission = models_permission
        self._counter = 0

    @property
    def inference_url(self) -> str:
        return f"{self.url}/inference"

    def _error(self, handler: BaseHTTPRequestHandler, status: int, code: str, text: str) -> None:
        send_json(handler, status, {"error": {"code": code, "message": text, "details": text}})

    def handle(self, handler: BaseHTTPRequestHandler, request: Recorded) -> None:
        if request.headers.get("authorization") != f"Bearer {self.token}":
            self._error(handler, 401, "unauthorized", "Bad credentials")
            return
        if request.method != "POST" or request.path != "/inference/chat/completions":
            self._error(handler, 404, "not_found", "Not Found")
            return
        body = request.body if isinstance(request.body, dict) else {}
        name = str(body.get("model") or "")
        if not self.models_permission:
            self._error(
                handler,
                403,
                "no_access",
                f"No access to model: {name}. The token needs the models: read permission.",
            )
            return
        if name not in MODELS:
            self._error(handler, 400, "unknown_model", f"Unknown model: {name}")
            return
        reply = self.next_reply(request)
        if reply.status != 200:
            self._error(handler, reply.status, "error", reply.error or "error")
            return
        self._counter += 1
        prompt_tokens = sum(rough_tokens(str(m.get("content", ""))) for m in body["messages"])
        completion_tokens = rough_tokens(reply.content)
        send_json(
            handler,
            200,
            {
                "id": f"chatcmpl-{self._counter}",
                "object": "chat.completion",
                "created": int(time.time()),
                "model": name.split("/", 1)[-1],
                "choices": [
                    {
                        "index": 0,
                        "message": {"role": "assistant", "content": reply.content},
                        "finish_reason": reply.finish,
                    }
                ],
                "usage": {
                    "prompt_tokens": prompt_tokens,
                    "completion_tokens": completion_tokens,
                    "total_tokens": prompt_tokens + completion_tokens,
                },
            },
        )
