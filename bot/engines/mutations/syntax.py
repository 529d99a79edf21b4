"""Syntax and imports: token-level repairs of a module that does not parse, and imports of
names or modules that do not exist."""

from __future__ import annotations

import ast
import difflib
import re
from collections.abc import Iterator

from bot.engines.mutations.tree import (
    Mutation,
    Offsets,
    walk,
)


def syntax_repairs(text: str, line: int) -> Iterator[Mutation]:
    """Token-level repairs at a line that does not parse; each is checked by compiling."""
    lines = text.splitlines(keepends=True)
    for target in (line, line - 1, line + 1):
        if not 1 <= target <= len(lines):
            continue
        start = sum(len(x) for x in lines[: target - 1])
        raw = lines[target - 1]
        body = raw.rstrip("\n")
        newline = raw[len(body) :]
        stripped = body.rstrip()
        edits: list[tuple[str, str]] = []
        if re.match(
            r"\s*(if|elif|else|for|while|def|class|try|except|finally|with)\b", body
        ) and not stripped.endswith(":"):
            edits.append((stripped + ":", "add the missing `:`"))
        for opener, closer in ("()", "[]", "{}"):
            if stripped.count(opener) > stripped.count(closer):
                if stripped.endswith(":"):
                    edits.append((stripped[:-1] + closer + ":", f"close the `{opener}`"))
                edits.append((stripped + closer, f"close the `{opener}`"))
                # or close it earlier: before a keyword, a separator or another closer
                for position in range(1, len(stripped)):
                    if stripped[position] in " ,:)]}" and stripped[position - 1] != " ":
                        edits.append(
                            (
                                stripped[:position] + closer + stripped[position:],
                                f"close the `{opener}` at column {position + 1}",
                            )
                        )
            if stripped.count(closer) > stripped.count(opener):
                position = stripped.rfind(closer)
                edits.append(
                    (
                        stripped[:position] + stripped[position + 1 :],
                        f"remove the stray `{closer}`",
                    )
                )
        if re.match(r"\s*(if|elif|while)\b", body) and re.search(r"[^=!<>]=[^=]", body):
            edits.append((re.sub(r"(?<=[^=!<>])=(?=[^=])", "==", body, count=1), "`=` -> `==`"))
        indent = len(body) - len(body.lstrip())
        for level in _indent_levels(lines, target):
            if level != indent:
                edits.append((" " * level + body.lstrip(), f"indent the line to {level} spaces"))
        for new_body, description in edits:
            yield Mutation(
                start,
                start + len(body),
                new_body.rstrip() if new_body.strip() else new_body,
                "syntax-repair",
                f"line {target}: {description}",
                "the module did not parse",
                size=1,
            )
        del newline
        yield from _block_shifts(lines, target, start)


def _indent_levels(lines: list[str], target: int) -> list[int]:
    """Indentation widths a line plausibly belongs at: those of the lines around it."""
    levels: list[int] = []
    for neighbour in (*range(target - 2, max(-1, target - 8), -1), target):
        if 0 <= neighbour < len(lines) and lines[neighbour].strip():
            width = len(lines[neighbour]) - len(lines[neighbour].lstrip())
            for level in (width, width + 4, width - 4):
                if level >= 0 and level not in levels:
                    levels.append(level)
    return levels[:8]


def _block_shifts(lines: list[str], target: int, start: int) -> Iterator[Mutation]:
    """Shift a line and the deeper lines after it together, by the widths of its neighbours."""
    first = lines[target - 1]
    if not first.strip():
        return
    width = len(first) - len(first.lstrip())
    end = target
    while end < len(lines) and (
        not lines[end].strip() or len(lines[end]) - len(lines[end].lstrip()) > width
    ):
        end += 1
    if end == target:
        return
    block = lines[target - 1 : end]
    for level in _indent_levels(lines, target):
        delta = level - width
        if delta == 0:
            continue
        shifted = []
        for line in block:
            if not line.strip():
                shifted.append(line)
            elif delta > 0:
                shifted.append(" " * delta + line)
            else:
                shifted.append(line[min(-delta, len(line) - len(line.lstrip())) :])
        yield Mutation(
            start,
            start + sum(len(x) for x in block),
            "".join(shifted),
            "syntax-repair",
            f"lines {target}-{end}: indent the block to {level} spaces",
            "the module did not parse",
            size=2,
        )


def import_repairs(
    text: str,
    tree: ast.Module | None,
    message: str,
    names_by_module: dict[str, list[str]],
) -> Iterator[Mutation]:
    """Fix `from m import name` where the name (or module) is misspelled."""
    match = re.search(r"cannot import name '(\w+)' from '([\w.]+)'", message)
    missing_module = re.search(r"No module named '([\w.]+)'", message)
    if tree is None:
        return
    offsets = Offsets(text)
    for node in walk(tree):
        if not isinstance(node, ast.ImportFrom):
            continue
        module = node.module or ""
        if match:
            wanted, source_module = match.group(1), match.group(2)
            if not source_module.endswith(module.lstrip(".")) and module:
                continue
            available = names_by_module.get(
                source_module.split(".")[-1], []
            ) or names_by_module.get(source_module, [])
            for alias in node.names:
                if alias.name != wanted:
                    continue
                segment_start, segment_end = offsets.span(node)
                segment = text[segment_start:segment_end]
                for option in difflib.get_close_matches(wanted, available, n=3, cutoff=0.5):
                    position = re.search(rf"\b{re.escape(wanted)}\b", segment)
                    if position is None:
                        continue
                    replacement = segment[: position.start()] + option + segment[position.end() :]
                    if alias.asname is None and option != wanted:
                        replacement = (
                            segment[: position.start()]
                            + f"{option} as {wanted}"
                            + segment[position.end() :]
                        )
                    yield Mutation(
                        segment_start,
                        segment_end,
                        replacement,
                        "import-name",
                        f"import `{option}` (the name `{wanted}` does not exist)",
                        "an import named something the module does not define",
                    )
        if missing_module and module:
            wanted = missing_module.group(1).split(".")[-1]
            if module.split(".")[-1] != wanted:
                continue
            for option in difflib.get_close_matches(wanted, list(names_by_module), n=3, cutoff=0.6):
                start, end = offsets.span(node)
                segment = text[start:end]
                replacement = segment.replace(wanted, option, 1)
                yield Mutation(
                    start,
                    end,
                    replacement,
                    "import-module",
                    f"import from `{option}`",
                    "an import named a module that does not exist",
                )
