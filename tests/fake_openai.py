"""A fake OpenAI-compatible server: /v1/chat/completions and /v1/models with OpenAI's error
bodies. The unmodified ``openai`` client drives it."""

from __future__ import annotations

import time
from http.server import BaseHTTPRequestHandler
from typing import Any

from fakehttp import FakeServer, Recorded, Reply, drop_connection, rough_tokens, send_json

__all__ = ["FakeOpenAI", "Reply"]

_ERROR_TYPES = {
    400: ("invalid_request_error", None),
    401: ("invalid_request_error", "invalid_api_key"),
    404: ("invalid_request_error", "model_not_found"),
    429: ("requests", "rate_limit_exceeded"),
}


class FakeOpenAI(FakeServer):
    def __init__(
        self,
        models: tuple[str, ...] = ("gpt-4o-mini",),
        api_key: str | None = None,
        max_model_len: int | None = None,
        list_models: bool = True,
        untagged_is_latest: bool = False,
    ) -> None:
        super().__init__()
        self.models = list(models)
        # as Ollama's /v1 does: "name" is the model listed as "name:latest"
        self.untagged_is_latest = untagged_is_latest
        self.api_key = api_key
        self.max_model_len = max_model_len
        self.list_models = list_models
        self._counter = 0

    @property
    def base_url(self) -> str:
        return f"{self.url}/v1"

    def _error(
        self,
        handler: BaseHTTPRequestHandler,
        status: int,
        message: str,
        headers: dict[str, str] | None = None,
        code: str | None = None,
    ) -> None:
        kind, default_code = _ERROR_TYPES.get(status, ("server_error", None))
        payload = {
            "error": {"message": message, "type": kind, "param": None, "code": code or default_code}
        }
        send_json(handler, status, payload, headers)

    def handle(self, handler: BaseHTTPRequestHandler, request: Recorded) -> None:
        if self.api_key is not None:
            given = request.headers.get("authorization", "")
            if given != f"Bearer {self.api_key}":
                self._error(handler, 401, "Incorrect API key provided.")
                return
        if request.method == "GET" and request.path == "/v1/models" and self.list_models:
            data = []
            for name in self.models:
                item: dict[str, Any] = {
                    "id": name,
                    "object": "model",
                    "created": 1700000000,
                    "owned_by": "fake",
                }
                if self.max_model_len is not None:
                    item["max_model_len"] = self.max_model_len
                data.append(item)
            send_json(handler, 200, {"object": "list", "data": data})
        elif request.method == "POST" and request.path == "/v1/chat/completions":
            self._completion(handler, request)
        else:
            self._error(handler, 404, f"Unknown request URL: {request.method} {request.path}")

    def _completion(self, handler: BaseHTTPRequestHandler, request: Recorded) -> None:
        body = request.body if isinstance(request.body, dict) else {}
        name = str(body.get("model") or "")
        if self.untagged_is_latest and ":" not in name and f"{name}:latest" in self.models:
            name = f"{name}:latest"
        if name not in self.models:
            self._error(handler, 404, f"The model `{name}` does not exist.")
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
            code = "context_length_exceeded" if "context" in (reply.error or "") else None
            self._error(handler, reply.status, reply.error or "error", reply.headers, code)
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
                "model": name,
                "system_fingerprint": "fp_fake",
                "choices": [
                    {
                        "index": 0,
                        "message": {"role": "assistant", "content": reply.content},
                        "logprobs": None,
                        "finish_reason": reply.finish,
                    }
                ],
                "usage": {
                    "prompt_tokens": prompt_tokens,
                    "completion_tokens": completion_tokens,
                    "total_tokens": prompt_tokens + completion_tokens,
                },
            },
            reply.headers,
        )
