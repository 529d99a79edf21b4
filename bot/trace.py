"""A JSONL trace of every stage, candidate and model call of a run.

Secrets are redacted as each record is written, the file is bounded in size, and every record
is flushed at once so that an interrupted run still leaves a readable trace.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from bot.redaction import known_secrets, redact

__all__ = ["Trace", "known_secrets", "read_trace", "redact"]

MAX_TRACE_BYTES = 20 * 1024 * 1024
MAX_FIELD_CHARS = 20_000


def _clip(value: Any, secrets: list[str]) -> Any:
    if isinstance(value, str):
        value = redact(value, secrets)
        if len(value) > MAX_FIELD_CHARS:
            return value[:MAX_FIELD_CHARS] + f"[... {len(value) - MAX_FIELD_CHARS} chars cut]"
        return value
    if isinstance(value, dict):
        return {str(k): _clip(v, secrets) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_clip(v, secrets) for v in value]
    return value


class Trace:
    """Append-only JSONL writer; a ``Trace(None)`` writes nothing."""

    def __init__(self, path: Path | None, *, secrets: Iterable[str] = ()) -> None:
        self.path = path
        self.secrets = [s for s in secrets if s] + known_secrets()
        self._lock = threading.Lock()
        self._size = 0
        self._cut = False
        if path is not None:
            path.parent.mkdir(parents=True, exist_ok=True)
            self._size = path.stat().st_size if path.exists() else 0

    def write(self, event: str, **data: Any) -> None:
        if self.path is None:
            return
        record = {"t": round(time.time(), 3), "event": event, **_clip(data, self.secrets)}
        line = json.dumps(record, default=str, ensure_ascii=False) + "\n"
        with self._lock:
            if self._cut:
                return
            if self._size + len(line) > MAX_TRACE_BYTES:
                line = json.dumps({"t": record["t"], "event": "trace_truncated"}) + "\n"
                self._cut = True
            with self.path.open("a", encoding="utf-8") as handle:
                handle.write(line)
                handle.flush()
            self._size += len(line)


def read_trace(path: Path) -> list[dict[str, Any]]:
    records: list[dict[str, Any]] = []
    if not path.exists():
        return records
    for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
        try:
            item = json.loads(line)
        except json.JSONDecodeError:
            continue  # a line cut by an interrupted write
        if isinstance(item, dict):
            records.append(item)
    return records
