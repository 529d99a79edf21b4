"""Shared tree queries and the values every template family works with.

Trees come from the shared parse cache and are never changed; the queries here cache what
each template would otherwise compute again for every site.
"""

from __future__ import annotations

import ast
import functools
import re
from dataclasses import dataclass

from bot.models import FailureClass

# Trees come from the shared parse cache (bot.analysis.source.parse) and are never changed, and
# every template walks the same function or module again for each site: the node lists are kept
# (with the node itself, so that its id is not reused while the entry lives).
_WALKED: dict[int, tuple[ast.AST, tuple[ast.AST, ...]]] = {}


_WALKED_LIMIT = 4096


def walk(node: ast.AST) -> tuple[ast.AST, ...]:
    """Every node under ``node``, in ``ast.walk``'s order; computed once per node."""
    hit = _WALKED.get(id(node))
    if hit is not None and hit[0] is node:
        return hit[1]
    found = tuple(ast.walk(node))
    if len(_WALKED) >= _WALKED_LIMIT:
        _WALKED.clear()
    _WALKED[id(node)] = (node, found)
    return found


_DUMPED: dict[int, tuple[ast.AST, str]] = {}


def dump(node: ast.AST) -> str:
    """``ast.dump(node)``, computed once per node (see ``walk``)."""
    hit = _DUMPED.get(id(node))
    if hit is not None and hit[0] is node:
        return hit[1]
    text = ast.dump(node)
    if len(_DUMPED) >= _WALKED_LIMIT:
        _DUMPED.clear()
    _DUMPED[id(node)] = (node, text)
    return text


_LINE = re.compile(r"[^\r\n]*(?:\r\n|\r|\n)|[^\r\n]+\Z")


POSITIONS = ("lineno", "end_lineno", "col_offset", "end_col_offset")


@functools.lru_cache(maxsize=64)
def _source_lines(text: str) -> tuple[str, ...]:
    """The lines of ``text`` with their ends, split where the parser splits them."""
    return tuple(_LINE.findall(text))


def source_segment(text: str, node: ast.AST) -> str | None:
    """``ast.get_source_segment(text, node)``, without splitting ``text`` again per call."""
    positions = [getattr(node, name, None) for name in POSITIONS]
    if not all(isinstance(value, int) for value in positions):
        return None
    first, last, start, end = (int(value) for value in positions)  # type: ignore[arg-type]
    first, last = first - 1, last - 1
    lines = _source_lines(text)
    if last >= len(lines):
        return None
    if first == last:
        return lines[first].encode()[start:end].decode()
    head = lines[first].encode()[start:].decode()
    tail = lines[last].encode()[:end].decode()
    return "".join([head, *lines[first + 1 : last], tail])


@dataclass(frozen=True)
class Mutation:
    start: int  # character offsets in the original text
    end: int
    replacement: str
    template: str
    description: str
    rationale: str
    size: int = 1

    def apply(self, text: str) -> str:
        return text[: self.start] + self.replacement + text[self.end :]


@dataclass(frozen=True)
class Site:
    """Everything a template may look at: the file, the line and what encloses it."""

    text: str
    tree: ast.Module
    line: int
    statement: ast.stmt
    function: ast.FunctionDef | ast.AsyncFunctionDef | None
    failure_class: FailureClass
    expected_exceptions: tuple[str, ...]  # from the failing tests' pytest.raises
    expected_messages: tuple[str, ...]  # from pytest.raises(match=...)
    error_message: str  # the failure's message (e.g. "cannot import name 'x' from 'm'")
    # (module, name, value) of the constants the project's modules define at module level
    # (`DEFAULT_TIMEOUT = 30` in settings.py: ("settings", "DEFAULT_TIMEOUT", 30))
    project_constants: tuple[tuple[str, str, object], ...] = ()


class Offsets:
    """Convert ast (line, byte column) positions into character offsets."""

    def __init__(self, text: str) -> None:
        self.lines = text.splitlines(keepends=True)
        self.starts: list[int] = []
        position = 0
        for line in self.lines:
            self.starts.append(position)
            position += len(line)
        self.starts.append(position)

    def index(self, line: int, column: int) -> int:
        if line - 1 >= len(self.lines):
            return self.starts[-1]
        raw = self.lines[line - 1].encode("utf-8")
        return self.starts[line - 1] + len(raw[:column].decode("utf-8", errors="ignore"))

    def span(self, node: ast.AST) -> tuple[int, int]:
        return (
            self.index(node.lineno, node.col_offset),  # type: ignore[attr-defined]
            self.index(node.end_lineno, node.end_col_offset),  # type: ignore[attr-defined]
        )


def header_nodes(statement: ast.stmt) -> list[ast.AST]:
    """The expressions that belong to the statement itself, not to nested blocks."""
    if isinstance(statement, ast.If | ast.While):
        return [statement.test]
    if isinstance(statement, ast.For | ast.AsyncFor):
        return [statement.target, statement.iter]
    if isinstance(statement, ast.With | ast.AsyncWith):
        return [item.context_expr for item in statement.items]
    if isinstance(statement, ast.FunctionDef | ast.AsyncFunctionDef):
        # evaluated when the `def` runs: decorators, defaults and (without postponed
        # evaluation) annotations; a wrong one fails every caller, or the module's import
        arguments = statement.args
        every = [*arguments.posonlyargs, *arguments.args, *arguments.kwonlyargs]
        every += [a for a in (arguments.vararg, arguments.kwarg) if a is not None]
        annotations = [a.annotation for a in every if a.annotation is not None]
        return [
            *statement.decorator_list,
            *arguments.defaults,
            *(d for d in arguments.kw_defaults if d is not None),
            *annotations,
            *([statement.returns] if statement.returns is not None else []),
        ]
    if isinstance(statement, ast.ClassDef):
        keywords = [k.value for k in statement.keywords]
        return [*statement.decorator_list, *statement.bases, *keywords]
    if isinstance(statement, ast.Try):
        return []
    return [statement]


def expressions(statement: ast.stmt) -> list[ast.AST]:
    found: list[ast.AST] = []
    for root in header_nodes(statement):
        found.extend(node for node in walk(root) if hasattr(node, "end_col_offset"))
    return found


def parameter_defaults(
    function: ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda,
) -> list[tuple[str, ast.expr]]:
    """(parameter, default) of every parameter of ``function`` that has a default."""
    arguments = function.args
    positional = [*arguments.posonlyargs, *arguments.args]
    pairs = list(
        zip(
            [a.arg for a in positional[len(positional) - len(arguments.defaults) :]],
            arguments.defaults,
            strict=True,
        )
    )
    pairs += [
        (a.arg, d)
        for a, d in zip(arguments.kwonlyargs, arguments.kw_defaults, strict=True)
        if d is not None
    ]
    return pairs


def read_defaults(site: Site) -> list[ast.expr]:
    """The defaults of the parameters the statement reads (`if strict:` in `def f(x,
    strict=True)` reads the default `True`). On a `def` line the defaults are the statement's
    own expressions (``header_nodes``), not read ones."""
    statement = site.statement
    if site.function is None or isinstance(statement, ast.FunctionDef | ast.AsyncFunctionDef):
        return []
    read = {
        node.id
        for node in expressions(statement)
        if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Load)
    }
    return [default for name, default in parameter_defaults(site.function) if name in read]


def segment(text: str, offsets: Offsets, node: ast.AST) -> str:
    start, end = offsets.span(node)
    return text[start:end]


def find_token(
    text: str, start: int, end: int, token: str, *, word: bool = False
) -> tuple[int, int] | None:
    """The span of an operator token between two operands (skipping parentheses)."""
    between = text[start:end]
    pattern = (
        rf"(?<![\w]){re.escape(token)}(?![\w])"
        if word
        else rf"(?<![=<>!*/%+\-&|^]){re.escape(token)}(?![=*/<>])"
    )
    matches = list(re.finditer(pattern, between))
    if len(matches) != 1:
        return None
    return start + matches[0].start(), start + matches[0].end()


def parameters(function: ast.FunctionDef | ast.AsyncFunctionDef) -> list[str]:
    """The function's named parameters, without ``self`` and ``cls``."""
    arguments = function.args
    return [
        a.arg
        for a in [*arguments.posonlyargs, *arguments.args, *arguments.kwonlyargs]
        if a.arg not in ("self", "cls")
    ]


def enclosing_functions(
    tree: ast.Module, function: ast.AST | None
) -> list[ast.FunctionDef | ast.AsyncFunctionDef]:
    """The functions ``function`` is nested in, innermost first."""
    if function is None:
        return []
    found: list[ast.FunctionDef | ast.AsyncFunctionDef] = []
    for node in walk(tree):
        if (
            isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
            and node is not function
            and any(child is function for child in walk(node))
        ):
            found.append(node)
    return sorted(found, key=lambda node: -node.lineno)


def enclosing_class(tree: ast.Module, function: ast.AST | None) -> ast.ClassDef | None:
    """The class whose body defines ``function`` (directly), if any."""
    for node in walk(tree):
        if isinstance(node, ast.ClassDef) and any(child is function for child in node.body):
            return node
    return None


def scope_names(function: ast.AST | None, tree: ast.Module) -> list[str]:
    """Local variable names of a function (parameters, assigned names, loop targets)."""
    if function is None:
        return []
    names: list[str] = []
    if isinstance(function, ast.FunctionDef | ast.AsyncFunctionDef):
        arguments = function.args
        for argument in [
            *arguments.posonlyargs,
            *arguments.args,
            *arguments.kwonlyargs,
        ]:
            names.append(argument.arg)
        if arguments.vararg:
            names.append(arguments.vararg.arg)
        if arguments.kwarg:
            names.append(arguments.kwarg.arg)
    for node in walk(function):
        if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
            names.append(node.id)
    seen: list[str] = []
    for name in names:
        if name not in seen and name not in ("self", "cls"):
            seen.append(name)
    return seen


def module_names(tree: ast.Module) -> list[str]:
    names: list[str] = []
    for node in tree.body:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            names.append(node.name)
        elif isinstance(node, ast.Assign):
            names.extend(t.id for t in node.targets if isinstance(t, ast.Name))
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            names.append(node.target.id)
        elif isinstance(node, ast.Import | ast.ImportFrom):
            names.extend((a.asname or a.name).split(".")[0] for a in node.names)
    return names


CONSTANT_NAME = re.compile(r"^_?[A-Z][A-Z0-9_]*$")


def module_constants(tree: ast.Module) -> list[tuple[str, object]]:
    """(name, value) of the module's constants: upper-case names assigned a literal number or
    string at module level (`DEFAULT_TIMEOUT = 30`)."""
    found: list[tuple[str, object]] = []
    for node in tree.body:
        if isinstance(node, ast.Assign) and len(node.targets) == 1:
            target, value = node.targets[0], node.value
        elif isinstance(node, ast.AnnAssign) and node.value is not None:
            target, value = node.target, node.value
        else:
            continue
        if not (isinstance(target, ast.Name) and CONSTANT_NAME.match(target.id)):
            continue
        try:
            literal = ast.literal_eval(value)
        except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
            continue
        if isinstance(literal, int | float | str) and not isinstance(literal, bool):
            found.append((target.id, literal))
    return found


def constants(function: ast.AST | None, kind: type) -> list[object]:
    if function is None:
        return []
    values: list[object] = []
    for node in walk(function):
        if isinstance(node, ast.Constant) and type(node.value) is kind and node.value not in values:
            values.append(node.value)
    return values


def indent_of(text: str, offsets: Offsets, line: int) -> str:
    raw = offsets.lines[line - 1] if line - 1 < len(offsets.lines) else ""
    return raw[: len(raw) - len(raw.lstrip())]


def line_start(offsets: Offsets, line: int) -> int:
    return offsets.starts[line - 1]


def is_docstring(statement: ast.stmt) -> bool:
    return (
        isinstance(statement, ast.Expr)
        and isinstance(statement.value, ast.Constant)
        and isinstance(statement.value.value, str)
    )


def default_returns(function: ast.AST | None) -> list[str]:
    """Plausible values to return from an early exit, learned from the function's returns."""
    candidates: list[str] = []
    if function is not None:
        for node in walk(function):
            if isinstance(node, ast.Return) and isinstance(node.value, ast.Constant):
                text = repr(node.value.value)
                if text not in candidates:
                    candidates.append(text)
            if isinstance(node, ast.Return) and isinstance(node.value, ast.List | ast.Dict):
                empty = "[]" if isinstance(node.value, ast.List) else "{}"
                if empty not in candidates:
                    candidates.append(empty)
    for fallback in ("None", "0", "[]", "''", "False"):
        if fallback not in candidates:
            candidates.append(fallback)
    return candidates[:4]


def guard(
    site: Site,
    offsets: Offsets,
    condition: str,
    body: str,
    template: str,
    rationale: str,
) -> Mutation:
    statement = site.statement
    indent = indent_of(site.text, offsets, statement.lineno)
    position = line_start(offsets, statement.lineno)
    text = f"{indent}if {condition}:\n{indent}    {body}\n"
    return Mutation(
        position,
        position,
        text,
        template,
        f"insert `if {condition}: {body}`",
        rationale,
        size=3,
    )


def in_loop(site: Site) -> bool:
    if site.function is None:
        return False
    for node in walk(site.function):
        if isinstance(node, ast.For | ast.While) and node is not site.statement:
            for child in walk(node):
                if child is site.statement:
                    return True
    return False


def enclosing_block(function: ast.AST, statement: ast.stmt) -> list[ast.stmt]:
    for node in walk(function):
        for field in ("body", "orelse", "finalbody"):
            block = getattr(node, field, None)
            if isinstance(block, list) and statement in block:
                return block
    return [statement]


def header_start(statement: ast.stmt) -> int:
    """The first line of a statement, decorators included."""
    decorators: list[ast.expr] = getattr(statement, "decorator_list", None) or []
    return min([statement.lineno, *(d.lineno for d in decorators)])


def statement_at(
    tree: ast.Module, line: int
) -> tuple[ast.stmt | None, ast.FunctionDef | ast.AsyncFunctionDef | None]:
    """The innermost statement on ``line`` and its enclosing function."""
    best: ast.stmt | None = None
    function: ast.FunctionDef | ast.AsyncFunctionDef | None = None

    def visit(node: ast.AST, current: ast.FunctionDef | ast.AsyncFunctionDef | None) -> None:
        nonlocal best, function
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.excepthandler | ast.match_case):
                visit(child, current)  # their bodies hold statements too
                continue
            if not isinstance(child, ast.stmt):
                continue
            end = child.end_lineno or child.lineno
            if header_start(child) <= line < child.lineno:
                best, function = child, current  # a decorator's line
                return
            if child.lineno <= line <= end:
                best, function = child, current
                if isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef) and (
                    line < child.body[0].lineno
                ):
                    return  # a line of a header that spans several: its parameters, bases
                inner = (
                    child if isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef) else current
                )
                visit(child, inner)

    visit(tree, None)
    if isinstance(best, ast.FunctionDef | ast.AsyncFunctionDef) and not (
        header_start(best) <= line < best.body[0].lineno
    ):
        return None, best  # a blank or comment line of the body
    return best, function
