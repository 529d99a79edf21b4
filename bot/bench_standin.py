"""A stand-in model: measures what the LLM path's prompts make possible, without a model.

The stand-in knows a bug's reference fix. For each prompt it checks which parts of that fix
the prompt shows (the original lines each part changes, inside the prompt's code fences and
outside its quoted DATA blocks) and answers as a model that is never wrong but sees only the
prompt would: with an edit for the parts it can see (SEARCH/REPLACE blocks under ``# FILE:``
headers, or the whole corrected function when the prompt asks for one), and with prose asking
for more code when it sees none of them. Each exchange is logged with what the prompt showed
(``all``, ``some`` or ``none`` of the fix) and its size in tokens.

``StandInServer`` serves the stand-in over the OpenAI-compatible chat API on 127.0.0.1, so the
unmodified client and engine talk to it as to any model server (``mendbot bench --engine llm``).
"""

from __future__ import annotations

import ast
import difflib
import json
import re
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from bot.edits import find_function, function_source
from bot.engines.prompts import SYSTEM as REPAIR_SYSTEM
from bot.llm.base import Message
from bot.llm.tokens import estimate_messages, estimate_tokens

STANDIN_MODEL = "mendbot-standin"
CANNOT_SEE = (
    "The code shown here does not contain what makes this test fail. I cannot see the code "
    "that has to change; show me more of the code (other functions, module-level code or "
    "other files) and I will fix it."
)
ROOT_CAUSE_NOTE = json.dumps(
    {
        "whys": ["The failing test expected what the corrected code computes."],
        "root_cause": "The code differed from its corrected version.",
        "fix": "The change brings the code in line with the corrected version.",
    }
)
_FENCE_OPEN = re.compile(r"^(`{3,})[\w+.-]*\s*$")
_DATA_OPEN = re.compile(r"^<<<DATA ")
_DATA_CLOSE = re.compile(r"^>>>END DATA ")
_ASKED_FUNCTION = re.compile(r"complete corrected function `([\w.]+)`")
_SKIPPED = {"bug.toml", "reference", "__pycache__", ".pytest_cache"}


@dataclass(frozen=True)
class Hunk:
    """One contiguous change of the reference fix: original lines ``[start, end)`` of ``path``
    become ``new_lines``."""

    path: str
    start: int
    end: int
    new_lines: tuple[str, ...]


@dataclass(frozen=True)
class ReferenceFix:
    originals: Mapping[str, str]  # path -> the buggy text of every file the fix changes
    fixed: Mapping[str, str]  # path -> the corrected text
    hunks: tuple[Hunk, ...]

    @classmethod
    def from_texts(cls, originals: Mapping[str, str], fixed: Mapping[str, str]) -> ReferenceFix:
        hunks: list[Hunk] = []
        for path in sorted(fixed):
            old = originals[path].splitlines()
            new = fixed[path].splitlines()
            matcher = difflib.SequenceMatcher(None, old, new, autojunk=False)
            for tag, i1, i2, j1, j2 in matcher.get_opcodes():
                if tag == "equal":
                    continue
                previous = hunks[-1] if hunks and hunks[-1].path == path else None
                if previous is not None and i1 - previous.end <= 1:
                    # a single unchanged line between two changes: one hunk
                    gap = tuple(old[previous.end : i1])
                    hunks[-1] = Hunk(
                        path, previous.start, i2, previous.new_lines + gap + tuple(new[j1:j2])
                    )
                else:
                    hunks.append(Hunk(path, i1, i2, tuple(new[j1:j2])))
        return cls(dict(originals), dict(fixed), tuple(hunks))

    @classmethod
    def from_bug(cls, folder: Path) -> ReferenceFix:
        """The fix of a corpus bug: its ``reference/`` overlay against the shipped files."""
        reference = folder / "reference"
        originals: dict[str, str] = {}
        fixed: dict[str, str] = {}
        for path in sorted(reference.rglob("*.py")):
            relative = path.relative_to(reference).as_posix()
            original = folder / relative
            originals[relative] = original.read_text() if original.is_file() else ""
            fixed[relative] = path.read_text()
        return cls.from_texts(originals, fixed)


@dataclass(frozen=True)
class Exchange:
    """One prompt and what the stand-in made of it."""

    shown: str  # "all" | "some" | "none": how much of the fix the prompt showed
    hunks_shown: int
    hunks_total: int
    prompt_tokens: int
    reply_kind: str  # "edit" | "partial edit" | "function" | "prose"


@dataclass
class StandIn:
    """Answers prompts from a reference fix; thread-safe; swap the fix with ``use``."""

    fix: ReferenceFix | None = None
    exchanges: list[Exchange] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def use(self, fix: ReferenceFix) -> None:
        with self._lock:
            self.fix = fix
            self.exchanges = []

    def answer(self, messages: Sequence[Message]) -> str:
        if not messages or messages[0].content != REPAIR_SYSTEM:
            return ROOT_CAUSE_NOTE  # a root-cause note, not a repair: not measured
        with self._lock:
            fix = self.fix
        prompt = messages[-1].content if messages else ""
        visible = visible_code_lines(prompt)
        blocks: list[tuple[Hunk, list[str], list[str]]] = []
        total = len(fix.hunks) if fix else 0
        for hunk in fix.hunks if fix else ():
            found = search_block(fix.originals[hunk.path], hunk, visible)  # type: ignore[union-attr]
            if found is not None:
                blocks.append((hunk, *found))
        shown = "none" if not blocks else "all" if len(blocks) == total else "some"
        reply, kind = _reply(fix, prompt, blocks, shown)
        exchange = Exchange(shown, len(blocks), total, estimate_messages(messages), kind)
        with self._lock:
            self.exchanges.append(exchange)
        return reply


def _reply(
    fix: ReferenceFix | None,
    prompt: str,
    blocks: list[tuple[Hunk, list[str], list[str]]],
    shown: str,
) -> tuple[str, str]:
    if fix is None or not blocks:
        return CANNOT_SEE, "prose"
    asked = _ASKED_FUNCTION.search(prompt)
    if asked and shown == "all":
        whole = _whole_function(fix, asked.group(1))
        if whole is not None:
            return whole, "function"
    sections: dict[str, list[str]] = {}
    for hunk, search, replace in blocks:
        sections.setdefault(hunk.path, []).append(
            "<<<<<<< SEARCH\n"
            + "\n".join(search)
            + "\n=======\n"
            + "\n".join(replace)
            + ("\n" if replace else "")
            + ">>>>>>> REPLACE"
        )
    text = "\n\n".join(f"# FILE: {path}\n" + "\n\n".join(parts) for path, parts in sections.items())
    return text + "\n", "edit" if shown == "all" else "partial edit"


def _whole_function(fix: ReferenceFix, qualname: str) -> str | None:
    """The reference's version of ``qualname`` when every hunk of the fix lies inside it."""
    for path, text in fix.originals.items():
        try:
            tree = ast.parse(text)
            fixed_tree = ast.parse(fix.fixed[path])
        except SyntaxError:
            continue
        found = find_function(tree, qualname)
        if found is None:
            continue
        node = found[1]
        first = min([node.lineno, *(d.lineno for d in node.decorator_list)])
        inside = all(
            h.path == path and first - 1 <= h.start and h.end <= (node.end_lineno or node.lineno)
            for h in fix.hunks
        )
        new = find_function(fixed_tree, qualname)
        if inside and new is not None:
            return f"# FILE: {path}\n```python\n{function_source(fix.fixed[path], new[1])}```\n"
    return None


# -- what a prompt shows ----------------------------------------------------------------------


def _squash(line: str) -> str:
    return " ".join(line.split())


def visible_code_lines(prompt: str) -> list[str]:
    """The lines inside the prompt's code fences, outside quoted DATA blocks, whitespace-
    squashed (blank lines dropped)."""
    lines: list[str] = []
    fence: str | None = None
    in_data = False
    for line in prompt.splitlines():
        if fence is None:
            if _DATA_OPEN.match(line):
                in_data = True
            elif _DATA_CLOSE.match(line):
                in_data = False
            elif not in_data:
                opened = _FENCE_OPEN.match(line.strip())
                if opened:
                    fence = opened.group(1)
            continue
        if line.strip() == fence:
            fence = None
        elif line.strip():
            lines.append(_squash(line))
    return lines


def _contains(visible: list[str], block: list[str]) -> bool:
    wanted = [_squash(line) for line in block if line.strip()]
    if not wanted:
        return False
    size = len(wanted)
    return any(visible[i : i + size] == wanted for i in range(len(visible) - size + 1))


def _count(lines: list[str], block: list[str]) -> int:
    size = len(block)
    return sum(1 for i in range(len(lines) - size + 1) if lines[i : i + size] == block)


def search_block(text: str, hunk: Hunk, visible: list[str]) -> tuple[list[str], list[str]] | None:
    """(SEARCH lines, REPLACE lines) for ``hunk`` built only from lines the prompt shows, unique
    in the file; None when the prompt does not show enough of it to edit it."""
    lines = text.splitlines()
    start, end = hunk.start, hunk.end
    core = lines[start:end]
    if any(line.strip() for line in core) and not _contains(visible, core):
        return None
    while True:
        block = lines[start:end]
        if any(line.strip() for line in block) and _count(lines, block) == 1:
            search = block
            replace = lines[start : hunk.start] + list(hunk.new_lines) + lines[hunk.end : end]
            return search, replace
        grown = False
        for new_start, new_end in ((start, end + 1), (start - 1, end)):
            if new_start < 0 or new_end > len(lines):
                continue
            added = lines[new_end - 1] if new_end > end else lines[new_start]
            if not added.strip() or _contains(visible, lines[new_start:new_end]):
                start, end, grown = new_start, new_end, True
                break
        if not grown:
            return None


# -- the OpenAI-compatible server -------------------------------------------------------------


class StandInServer:
    """The stand-in behind ``/v1/models`` and ``/v1/chat/completions`` on 127.0.0.1."""

    def __init__(self, standin: StandIn, model: str = STANDIN_MODEL) -> None:
        self.standin = standin
        self.model = model
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: Any) -> None:
                return

            def do_GET(self) -> None:
                if self.path.rstrip("/") == "/v1/models":
                    listing = {
                        "id": server.model,
                        "object": "model",
                        "created": 0,
                        "owned_by": "mendbot",
                    }
                    _send(self, 200, {"object": "list", "data": [listing]})
                else:
                    _send(self, 404, _error(f"unknown path {self.path}"))

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                try:
                    body = json.loads(self.rfile.read(length) or b"{}")
                except json.JSONDecodeError:
                    _send(self, 400, _error("the body is not JSON"))
                    return
                if self.path.rstrip("/") != "/v1/chat/completions":
                    _send(self, 404, _error(f"unknown path {self.path}"))
                    return
                _send(self, 200, server.completion(body))

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(
            target=self._server.serve_forever, args=(0.05,), daemon=True
        )

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}/v1"

    def completion(self, body: Mapping[str, Any]) -> dict[str, Any]:
        raw = body.get("messages") or []
        messages = [Message(str(m.get("role", "user")), str(m.get("content", ""))) for m in raw]
        content = self.standin.answer(messages)
        prompt_tokens = estimate_messages(messages)
        completion_tokens = estimate_tokens(content)
        return {
            "id": f"chatcmpl-standin-{len(self.standin.exchanges)}",
            "object": "chat.completion",
            "created": int(time.time()),
            "model": self.model,
            "choices": [
                {
                    "index": 0,
                    "message": {"role": "assistant", "content": content},
                    "finish_reason": "stop",
                }
            ],
            "usage": {
                "prompt_tokens": prompt_tokens,
                "completion_tokens": completion_tokens,
                "total_tokens": prompt_tokens + completion_tokens,
            },
        }

    def __enter__(self) -> StandInServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()


def _error(message: str) -> dict[str, Any]:
    return {
        "error": {"message": message, "type": "invalid_request_error", "param": None, "code": None}
    }


def _send(handler: BaseHTTPRequestHandler, status: int, payload: object) -> None:
    data = json.dumps(payload).encode()
    handler.send_response(status)
    handler.send_header("Content-Type", "application/json")
    handler.send_header("Content-Length", str(len(data)))
    handler.end_headers()
    handler.wfile.write(data)
