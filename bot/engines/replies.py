"""The reply protocol: what a model sends back, and how it becomes whole new file texts.

A reply holds one or more sections. A section starts at a ``# FILE: path`` line (the first
section may omit it and then edits the file the prompt was about) and carries either
SEARCH/REPLACE blocks or fenced code (a function, or a whole file when regenerating one).

Models put fences and headers in odd places: a header inside the code fence, a fence left
open, fences inside a SEARCH block. The parser accepts those; what it cannot read it rejects
with a reason, which goes to the trace and into the next prompt.
"""

from __future__ import annotations

import ast
import re
import textwrap
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from bot.edits import (
    EditRejected,
    apply_search_replace,
    check_path,
    normalized_dump,
    replace_file,
    replace_functions,
    syntax_problem,
)

FILE_HEADER = re.compile(
    r"^[ \t]*(?:#|//)[ \t]*\**[ \t]*FILE[ \t]*:[ \t]*(?P<path>.*?)[ \t]*\**[ \t]*$", re.I
)
FENCE = re.compile(r"^[ \t]*(?:`{3,}|~{3,})[ \t]*[\w+.-]*[ \t]*$")
SEARCH_MARK = re.compile(r"^[ \t]*<{5,9}[ \t]*SEARCH[ \t]*$")
DIVIDER_MARK = re.compile(r"^[ \t]*={5,9}[ \t]*$")
REPLACE_MARK = re.compile(r"^[ \t]*>{5,9}[ \t]*REPLACE[ \t]*$")
BARE_PATH = re.compile(r"^[ \t]*[`*]*(?P<path>[\w./-]+\.py)[`*]*[ \t]*:?[ \t]*$")

LEVELS = ("patch", "function", "file")


@dataclass(frozen=True)
class Block:
    search: str
    replace: str
    path: str | None = None  # a bare path line right before the block


@dataclass(frozen=True)
class Section:
    path: str | None
    blocks: tuple[Block, ...]
    codes: tuple[str, ...]


@dataclass
class _Buffer:
    path: str | None
    starts_in_fence: bool = False
    lines: list[str] = field(default_factory=list)


def _clean_path(raw: str) -> str:
    path = raw.strip().strip("`'\"*").strip()
    while path.startswith("./"):
        path = path[2:]
    return path


def _strip_fence_edges(lines: list[str]) -> list[str]:
    start, end = 0, len(lines)
    while start < end and (FENCE.match(lines[start]) or not lines[start].strip()):
        start += 1
    while end > start and (FENCE.match(lines[end - 1]) or not lines[end - 1].strip()):
        end -= 1
    return lines[start:end]


def _split_sections(lines: list[str]) -> list[_Buffer]:
    sections = [_Buffer(path=None)]
    in_fence = False
    for line in lines:
        header = FILE_HEADER.match(line)
        if header:
            current = sections[-1]
            if in_fence:
                # the header sits inside a code fence: drop the opener if nothing followed it
                tail = current.lines
                while tail and not tail[-1].strip():
                    tail.pop()
                if tail and FENCE.match(tail[-1]):
                    tail.pop()
            sections.append(_Buffer(_clean_path(header.group("path")), starts_in_fence=in_fence))
            continue
        if FENCE.match(line):
            in_fence = not in_fence
        sections[-1].lines.append(line)
    return sections


def _parse_blocks(lines: list[str]) -> tuple[list[Block], list[str]]:
    """SEARCH/REPLACE blocks and the lines outside them."""
    blocks: list[Block] = []
    outside: list[str] = []
    index = 0
    while index < len(lines):
        if not SEARCH_MARK.match(lines[index]):
            outside.append(lines[index])
            index += 1
            continue
        path = None
        for previous in reversed(outside):
            if not previous.strip() or FENCE.match(previous):
                continue
            bare = BARE_PATH.match(previous)
            path = _clean_path(bare.group("path")) if bare else None
            break
        search: list[str] = []
        replace: list[str] = []
        index += 1
        while index < len(lines) and not DIVIDER_MARK.match(lines[index]):
            if SEARCH_MARK.match(lines[index]) or REPLACE_MARK.match(lines[index]):
                raise EditRejected("a SEARCH/REPLACE block has no ======= divider")
            search.append(lines[index])
            index += 1
        if index >= len(lines):
            raise EditRejected("a SEARCH/REPLACE block is not finished (no ======= divider)")
        index += 1
        while index < len(lines) and not REPLACE_MARK.match(lines[index]):
            if SEARCH_MARK.match(lines[index]) or DIVIDER_MARK.match(lines[index]):
                raise EditRejected("a SEARCH/REPLACE block is not closed by >>>>>>> REPLACE")
            replace.append(lines[index])
            index += 1
        if index >= len(lines):
            raise EditRejected("a SEARCH/REPLACE block is not closed by >>>>>>> REPLACE")
        index += 1
        blocks.append(
            Block(
                "\n".join(_strip_fence_edges(search)),
                "\n".join(_strip_fence_edges(replace)),
                path,
            )
        )
    return blocks, outside


def _looks_like_code(text: str) -> bool:
    try:
        tree = ast.parse(text)
    except (SyntaxError, ValueError):
        return False
    return any(
        isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef)
        for node in tree.body
    )


def _code_blocks(lines: list[str], open_at_start: bool) -> list[str]:
    blocks: list[list[str]] = []
    loose: list[str] = []
    current: list[str] | None = [] if open_at_start else None
    for line in lines:
        if FENCE.match(line):
            if current is None:
                current = []
            else:
                blocks.append(current)
                current = None
        elif current is not None:
            current.append(line)
        else:
            loose.append(line)
    if current is not None:
        blocks.append(current)  # a fence left open: the code runs to the end
    codes = [
        textwrap.dedent("\n".join(block)).strip("\n") + "\n"
        for block in blocks
        if any(x.strip() for x in block)
    ]
    if not codes:
        text = textwrap.dedent("\n".join(loose)).strip("\n") + "\n"
        if _looks_like_code(text):
            codes = [text]
    return codes


def parse_reply(reply: str, *, max_chars: int) -> list[Section]:
    if len(reply) > max_chars:
        raise EditRejected(f"the reply is too large ({len(reply)} characters, limit {max_chars})")
    if not reply.strip():
        raise EditRejected("the reply is empty")
    sections: list[Section] = []
    for buffer in _split_sections(reply.splitlines()):
        blocks, outside = _parse_blocks(buffer.lines)
        codes = [] if blocks else _code_blocks(outside, buffer.starts_in_fence)
        if blocks or codes:
            sections.append(Section(buffer.path, tuple(blocks), tuple(codes)))
        elif buffer.path is not None:
            raise EditRejected(f"the section for {buffer.path} has no code and no SEARCH block")
    if not sections:
        raise EditRejected(
            "the reply has no code: no fenced code block and no SEARCH/REPLACE block (prose only)"
        )
    return sections


# -- applying ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class EditScope:
    """What a reply may change, and how."""

    project_dir: Path
    sources: Mapping[str, str]  # code under repair: path -> text
    default_path: str  # the file the prompt was about
    level: str = "patch"  # "patch" | "function" | "file"
    allow_signature_change: bool = False
    allow_tests: bool = False
    test_sources: Mapping[str, str] = field(default_factory=dict)
    protected: tuple[str, ...] = (".github/**",)
    max_files: int = 3


@dataclass(frozen=True)
class AppliedReply:
    files: dict[str, str]  # project-relative path -> whole new text, changed files only
    how: tuple[str, ...]  # one note per change, for descriptions and the trace


def _current_text(path: str, scope: EditScope, texts: dict[str, str]) -> str:
    if path in texts:
        return texts[path]
    if path in scope.sources:
        return scope.sources[path]
    if path in scope.test_sources and scope.allow_tests:
        return scope.test_sources[path]
    raise EditRejected(
        f"{path} is not one of the files under repair "
        f"({', '.join(sorted(scope.sources)[:6]) or 'none'}); edits may only change those"
    )


def _apply_codes(path: str, text: str, codes: tuple[str, ...], scope: EditScope) -> tuple[str, str]:
    problems: list[str] = []
    if scope.level == "file":
        whole = max(codes, key=len)
        try:
            return replace_file(text, whole, path=path), f"{path}: whole file"
        except EditRejected as error:
            if syntax_problem(whole, path) is not None:
                raise
            problems.append(error.reason)  # perhaps only some functions: try those
    notes: list[str] = []
    for code in codes:
        try:
            text, changed = replace_functions(
                text,
                code,
                allow_signature_change=scope.allow_signature_change,
                allow_new_functions=scope.level == "file",
                path=path,
            )
        except EditRejected as error:
            problems.append(error.reason)
            continue
        notes.extend(changed)
    if not notes:
        if problems:
            raise EditRejected(problems[0])
        raise EditRejected(f"the reply's code redefines no function of {path} differently")
    return text, f"{path}: function {', '.join(notes)}"


def apply_reply(reply: str, scope: EditScope, *, max_chars: int) -> AppliedReply:
    """Turn a model reply into whole new file texts, or raise EditRejected with the reason."""
    if scope.level not in LEVELS:
        raise ValueError(f"unknown edit level {scope.level!r}")
    texts: dict[str, str] = {}
    notes: list[str] = []
    for section in parse_reply(reply, max_chars=max_chars):
        groups: dict[str, list[Block]] = {}
        for block in section.blocks:
            groups.setdefault(section.path or block.path or scope.default_path, []).append(block)
        targets = list(groups) or [section.path or scope.default_path]
        for path in targets:
            reason = check_path(path, scope.project_dir, scope.protected, scope.allow_tests)
            if reason is None and not path.endswith(".py"):
                reason = f"{path} is not a Python source file"
            if reason is not None:
                raise EditRejected(reason)
            text = _current_text(path, scope, texts)
            for block in groups.get(path, []):
                text, strategy = apply_search_replace(text, block.search, block.replace)
                notes.append(f"{path}: search/replace ({strategy})")
            if section.codes:
                text, note = _apply_codes(path, text, section.codes, scope)
                notes.append(note)
            texts[path] = text
    changed: dict[str, str] = {}
    for path, text in texts.items():
        problem = syntax_problem(text, path)
        if problem is not None:
            raise EditRejected(f"the edit leaves a {problem}")
        original = scope.sources.get(path, scope.test_sources.get(path, ""))
        if normalized_dump(text) != normalized_dump(original):
            changed[path] = text
    if not changed:
        raise EditRejected("the edit changes no code (same code, or only whitespace and comments)")
    if len(changed) > scope.max_files:
        raise EditRejected(f"the edit changes {len(changed)} files; at most {scope.max_files}")
    return AppliedReply(changed, tuple(notes))
