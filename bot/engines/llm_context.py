"""What the LLM engine shows a model: the target function, its file's outline, the failing
tests' sources. Pure functions over a RepairContext; no model calls here."""

from __future__ import annotations

import ast
import re
from collections.abc import Mapping
from dataclasses import dataclass

from bot.edits import find_function, function_source, signature_of
from bot.engines.base import RepairContext
from bot.engines.prompts import FailingTest
from bot.models import Failure, FailureClass, Location

MAX_TARGETS = 2
_DEF_LINE = re.compile(r"^(\s*)(?:async\s+)?def\s+(\w+)")
MAX_TEST_CHARS = 4000


@dataclass(frozen=True)
class Target:
    path: str
    function: str  # qualified name; "" for module-level code
    location: Location | None


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
        return Target(path, function or enclosing_def_by_text(text, line), None)
    found = find_function(tree, function, line)
    return Target(path, found[0] if found else "", None)


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
        targets.append(Target(target.path, target.function, location))

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


def code_slice(text: str, function: str, level: str) -> CodeSlice | None:
    """The code a prompt shows: the function (patch, function levels) or the whole file."""
    if level == "file" or not function:
        return CodeSlice(text, 1)
    tree = _parse(text)
    if tree is None:
        return _broken_function_slice(text, function)
    found = find_function(tree, function)
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


def outline(text: str, skip: str = "") -> str:
    """The file's imports, classes and function signatures, without the target itself."""
    tree = _parse(text)
    if tree is None:
        return ""
    lines: list[str] = []
    for node in tree.body:
        if isinstance(node, ast.Import | ast.ImportFrom):
            lines.append(ast.unparse(node))
        elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and node.name != skip:
            lines.append(f"{signature_of(node)}: ...")
        elif isinstance(node, ast.ClassDef):
            bases = ", ".join(ast.unparse(b) for b in node.bases)
            lines.append(f"class {node.name}({bases}):" if bases else f"class {node.name}:")
            methods = [
                item
                for item in node.body
                if isinstance(item, ast.FunctionDef | ast.AsyncFunctionDef)
                and f"{node.name}.{item.name}" != skip
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
