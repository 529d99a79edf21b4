"""What the LLM engine shows a model: the candidate locations of the fix (several blocks of
several files, each file with a compact outline, under a token budget that widens layer by
layer), the target function or file at the regenerating levels, and the failing tests' sources.
Pure functions over a RepairContext; no model calls here."""

from __future__ import annotations

import ast
import re
from collections.abc import Collection, Mapping
from dataclasses import dataclass

from bot.edits import FunctionNode, find_function, function_source, iter_functions, signature_of
from bot.engines.base import RepairContext
from bot.engines.llm_localize import Block, RankedFile, rank_blocks, rank_files
from bot.engines.prompts import FailingTest, FileView, Snippet
from bot.llm.tokens import estimate_tokens
from bot.models import Failure, FailureClass, Location

MAX_TARGETS = 2
_DEF_LINE = re.compile(r"^(\s*)(?:async\s+)?def\s+(\w+)")
MAX_TEST_CHARS = 4000
# the code a patch prompt shows, per layer of context: tokens of code, and files
CODE_BUDGETS = (2500, 5000, 9000)
FILE_LIMITS = (3, 4, 6)
MAX_LAYER = len(CODE_BUDGETS) - 1
MIN_BLOCK_SCORE = 0.5  # at the first layer, blocks without evidence stay in the outline


@dataclass(frozen=True)
class Target:
    path: str
    function: str  # qualified name; "" for module-level code
    location: Location | None
    line: int = 0  # a line inside the function: tells same-named definitions apart


@dataclass(frozen=True)
class CodeSlice:
    code: str
    start_line: int


def primary_failure(context: RepairContext) -> Failure | None:
    failures = context.analysis.failures
    if not failures:
        return None
    wanted = context.analysis.primary_class
    return next((f for f in failures if f.failure_class is wanted), failures[0])


def _parse(text: str) -> ast.Module | None:
    try:
        return ast.parse(text)
    except (SyntaxError, ValueError):
        return None


def _target_at(sources: Mapping[str, str], path: str, function: str, line: int) -> Target | None:
    text = sources.get(path)
    if text is None:
        return None
    tree = _parse(text)
    if tree is None:
        return Target(path, function or enclosing_def_by_text(text, line), None, line)
    found = function_at(tree, line) or find_function(tree, function, line)
    return Target(path, found[0] if found else "", None, line if found else 0)


def function_at(tree: ast.AST, line: int) -> tuple[str, FunctionNode] | None:
    """The innermost function whose lines hold ``line``: the traceback's line says which of
    two same-named definitions ran."""
    containing = [
        (name, node)
        for name, node in iter_functions(tree)
        if _first_line(node) <= line <= (node.end_lineno or node.lineno)
    ]
    return max(containing, key=lambda item: _first_line(item[1])) if containing else None


def _first_line(node: FunctionNode) -> int:
    return min([node.lineno, *(d.lineno for d in node.decorator_list)])


def enclosing_def_by_text(text: str, line: int) -> str:
    """The function a line of an unparsable file sits in, judged by indentation alone."""
    lines = text.splitlines()
    if not 1 <= line <= len(lines):
        return ""
    target = lines[line - 1]
    limit = len(target) - len(target.lstrip()) if target.strip() else 10**6
    for index in range(line - 1, -1, -1):
        match = _DEF_LINE.match(lines[index])
        if match and len(match.group(1)) < limit:
            return match.group(2)
        current = lines[index]
        if current.strip() and not current[0].isspace() and index != line - 1:
            return ""  # reached module-level code before any def
    return ""


def find_targets(context: RepairContext, failure: Failure) -> list[Target]:
    """The functions to repair, most suspicious first: ranked locations, then frames."""
    targets: list[Target] = []
    keys: set[tuple[str, str]] = set()

    def add(target: Target | None, location: Location | None) -> None:
        if target is None or (target.path, target.function) in keys:
            return
        keys.add((target.path, target.function))
        targets.append(Target(target.path, target.function, location, target.line))

    for location in context.analysis.locations:
        if len(targets) >= MAX_TARGETS:
            break
        add(_target_at(context.sources, location.file, location.function, location.line), location)
    if not targets:
        for frame in reversed(failure.frames):
            add(_target_at(context.sources, frame.file, frame.function, frame.line), None)
            if len(targets) >= MAX_TARGETS:
                break
    if not targets and failure.failure_class is FailureClass.FORMAT:
        broken = [p for p, t in context.sources.items() if _parse(t) is None]
        for path in broken[:MAX_TARGETS]:
            add(Target(path, "", None), None)
    return targets


def code_slice(text: str, function: str, level: str, line: int = 0) -> CodeSlice | None:
    """The code a prompt shows: the function (patch, function levels) or the whole file."""
    if level == "file" or not function:
        return CodeSlice(text, 1)
    tree = _parse(text)
    if tree is None:
        return _broken_function_slice(text, function)
    found = (function_at(tree, line) if line else None) or find_function(tree, function)
    if found is None:
        return None
    node = found[1]
    start = min([node.lineno, *(d.lineno for d in node.decorator_list)])
    return CodeSlice(function_source(text, node), start)


def _broken_function_slice(text: str, function: str) -> CodeSlice | None:
    name = function.rsplit(".", 1)[-1]
    lines = text.splitlines()
    pattern = re.compile(rf"^(\s*)(async\s+def|def)\s+{re.escape(name)}\b")
    starts = [i for i, line in enumerate(lines) if pattern.match(line)]
    if len(starts) != 1:
        return None
    start = starts[0]
    indent = len(lines[start]) - len(lines[start].lstrip())
    end = start + 1
    while end < len(lines):
        line = lines[end]
        if line.strip() and len(line) - len(line.lstrip()) <= indent:
            break
        end += 1
    return CodeSlice("\n".join(lines[start:end]).rstrip() + "\n", start + 1)


def outline(
    text: str, skip: str | Collection[str] = "", constants: bool = False, imports: bool = True
) -> str:
    """The file's imports, classes and function signatures (and with ``constants`` the names
    its module-level code binds), without the definitions named in ``skip``."""
    tree = _parse(text)
    if tree is None:
        return ""
    skip = {skip} if isinstance(skip, str) else set(skip)
    lines: list[str] = []
    for node in tree.body:
        if isinstance(node, ast.Import | ast.ImportFrom):
            if imports:
                lines.append(ast.unparse(node))
        elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and node.name not in skip:
            lines.append(f"{signature_of(node)}: ...")
        elif isinstance(node, ast.ClassDef) and node.name in skip:
            continue
        elif isinstance(node, ast.Assign | ast.AnnAssign) and constants:
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            lines.append(" = ".join(ast.unparse(t) for t in targets) + " = ...")
        elif isinstance(node, ast.ClassDef):
            bases = ", ".join(ast.unparse(b) for b in node.bases)
            lines.append(f"class {node.name}({bases}):" if bases else f"class {node.name}:")
            methods = [
                item
                for item in node.body
                if isinstance(item, ast.FunctionDef | ast.AsyncFunctionDef)
                and f"{node.name}.{item.name}" not in skip
            ]
            lines += [f"    {signature_of(m)}: ..." for m in methods] or ["    ..."]
    return "\n".join(lines)


def source_of_test(test_sources: Mapping[str, str], nodeid: str) -> str:
    """The test function of ``nodeid`` with its module's imports, or "" when not found."""
    path, _, rest = nodeid.partition("::")
    text = test_sources.get(path)
    if text is None or not rest:
        return ""
    tree = _parse(text)
    if tree is None:
        return ""
    qualname = ".".join(part.split("[", 1)[0] for part in rest.split("::"))
    found = find_function(tree, qualname)
    imports = [
        ast.unparse(node) for node in tree.body if isinstance(node, ast.Import | ast.ImportFrom)
    ]
    body = function_source(text, found[1]) if found else ""
    if not body:
        return ""
    source = "\n".join(imports) + ("\n\n\n" if imports else "") + body
    return source[:MAX_TEST_CHARS]


def failing_tests(context: RepairContext, first: Failure, limit: int = 2) -> list[FailingTest]:
    ordered = [first] + [f for f in context.analysis.failures if f is not first]
    tests = []
    for failure in ordered[:limit]:
        error = failure.exception_type + (f": {failure.message}" if failure.message else "")
        tests.append(
            FailingTest(
                nodeid=failure.nodeid,
                source=source_of_test(context.test_sources, failure.nodeid),
                error=error or "the test failed",
                traceback=failure.traceback,
            )
        )
    return tests


# -- several candidate locations at once ------------------------------------------------------


def code_view(context: RepairContext, failure: Failure, layer: int = 0) -> tuple[FileView, ...]:
    """The files and blocks a patch prompt shows at ``layer`` (0: the most likely blocks;
    higher: a larger budget and more files; the last layer shows the top files whole)."""
    layer = min(max(layer, 0), MAX_LAYER)
    files = rank_files(context, failure)[: FILE_LIMITS[layer]]
    if not files:
        return ()
    if layer == MAX_LAYER:
        whole = _whole_files(context, files)
        if whole:
            return whole
    chosen: dict[str, list[Block]] = {}
    used = 0
    for block in rank_blocks(context, failure, files):
        if chosen and layer == 0 and block.score < MIN_BLOCK_SCORE:
            continue
        cost = estimate_tokens(_lines(context.sources[block.path], block.start, block.end))
        if chosen and used + cost > CODE_BUDGETS[layer]:
            continue
        chosen.setdefault(block.path, []).append(block)
        used += cost
    reasons = {f.path: f.reasons for f in files}
    views = [
        _file_view(context.sources[path], path, blocks, reasons[path])
        for path, blocks in chosen.items()
    ]
    shown = set(chosen)
    views += [
        FileView(f.path, (), outline(context.sources[f.path], constants=True), f.reasons)
        for f in files
        if f.path not in shown and outline(context.sources[f.path])
    ]
    return tuple(views)


def _whole_files(context: RepairContext, files: list[RankedFile]) -> tuple[FileView, ...]:
    views: list[FileView] = []
    used = 0
    for ranked in files:
        text = context.sources[ranked.path]
        cost = estimate_tokens(text)
        if views and used + cost > CODE_BUDGETS[MAX_LAYER]:
            break
        used += cost
        end = len(text.splitlines())
        views.append(
            FileView(ranked.path, (Snippet(1, end, "the whole file", text),), "", ranked.reasons)
        )
    return tuple(views)


def _lines(text: str, start: int, end: int) -> str:
    return "\n".join(text.splitlines()[start - 1 : end]) + "\n"


def _file_view(text: str, path: str, blocks: list[Block], reasons: tuple[str, ...]) -> FileView:
    """The chosen blocks of one file in source order; neighbours separated only by blank lines
    become one snippet."""
    lines = text.splitlines()
    spans: list[tuple[int, int, str]] = []  # (start, end, what the lines define)
    for block in sorted(blocks, key=lambda b: b.start):
        name = block.name or "module-level code"
        if spans:
            start, end, names = spans[-1]
            if not any(line.strip() for line in lines[end : block.start - 1]):
                spans[-1] = (start, max(end, block.end), f"{names}, {name}")
                continue
        spans.append((block.start, block.end, name))
    snippets = tuple(
        Snippet(start, end, names, _lines(text, start, end)) for start, end, names in spans
    )
    top_names = {b.name.split(".")[0] for b in blocks if b.kind in ("function", "class") and b.name}
    top_names |= {b.name for b in blocks if b.kind == "method"}
    module_shown = any(b.kind == "module" for b in blocks)
    rest = outline(text, skip=top_names, constants=not module_shown, imports=not module_shown)
    return FileView(path, snippets, rest, reasons)
