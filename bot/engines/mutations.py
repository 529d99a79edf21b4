"""Fix templates: small, deterministic source edits at a suspicious line.

Each template looks at the statement on a line and proposes ``Mutation`` values: a span of the
original text and its replacement. Edits are made on the text, not by re-printing the tree, so
a patch changes only the characters it must and the diff stays minimal.

The families follow what template- and mutation-based program repair found to pay off on real
bugs, and what real Python fixes look like: operator and boundary changes, off-by-one, wrong
names and attributes, swapped arguments, conditions negated, widened or narrowed, None and
empty guards, safe dictionary access, exception contracts, wrapped and unwrapped calls, returned
values, and statements missing or superfluous.
"""

from __future__ import annotations

import ast
import builtins
import functools
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from bot.models import FailureClass

# ---------------------------------------------------------------- shared tree queries

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


# ---------------------------------------------------------------- helpers


def _header_nodes(statement: ast.stmt) -> list[ast.AST]:
    """The expressions that belong to the statement itself, not to nested blocks."""
    if isinstance(statement, ast.If | ast.While):
        return [statement.test]
    if isinstance(statement, ast.For | ast.AsyncFor):
        return [statement.target, statement.iter]
    if isinstance(statement, ast.With | ast.AsyncWith):
        return [item.context_expr for item in statement.items]
    if isinstance(statement, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
        return []
    if isinstance(statement, ast.Try):
        return []
    return [statement]


def expressions(statement: ast.stmt) -> list[ast.AST]:
    found: list[ast.AST] = []
    for root in _header_nodes(statement):
        found.extend(node for node in walk(root) if hasattr(node, "end_col_offset"))
    return found


def _segment(text: str, offsets: Offsets, node: ast.AST) -> str:
    start, end = offsets.span(node)
    return text[start:end]


def _find_token(
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


def _scope_names(function: ast.AST | None, tree: ast.Module) -> list[str]:
    """Local variable names of a function (parameters, assigned names, loop targets)."""
    if function is None:
        return []
    names: list[str] = []
    if isinstance(function, ast.FunctionDef | ast.AsyncFunctionDef):
        arguments = function.args
        for argument in [*arguments.posonlyargs, *arguments.args, *arguments.kwonlyargs]:
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


def _module_names(tree: ast.Module) -> list[str]:
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


def _constants(function: ast.AST | None, kind: type) -> list[object]:
    if function is None:
        return []
    values: list[object] = []
    for node in walk(function):
        if isinstance(node, ast.Constant) and type(node.value) is kind and node.value not in values:
            values.append(node.value)
    return values


def _indent_of(text: str, offsets: Offsets, line: int) -> str:
    raw = offsets.lines[line - 1] if line - 1 < len(offsets.lines) else ""
    return raw[: len(raw) - len(raw.lstrip())]


def _line_start(offsets: Offsets, line: int) -> int:
    return offsets.starts[line - 1]


def _is_docstring(statement: ast.stmt) -> bool:
    return (
        isinstance(statement, ast.Expr)
        and isinstance(statement.value, ast.Constant)
        and isinstance(statement.value.value, str)
    )


def _default_returns(function: ast.AST | None) -> list[str]:
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


# ---------------------------------------------------------------- templates

COMPARE_SWAPS: dict[type, list[tuple[type, str]]] = {
    ast.Lt: [(ast.LtE, "<="), (ast.Gt, ">"), (ast.NotEq, "!=")],
    ast.LtE: [(ast.Lt, "<"), (ast.GtE, ">="), (ast.Eq, "==")],
    ast.Gt: [(ast.GtE, ">="), (ast.Lt, "<"), (ast.NotEq, "!=")],
    ast.GtE: [(ast.Gt, ">"), (ast.LtE, "<="), (ast.Eq, "==")],
    ast.Eq: [(ast.NotEq, "!="), (ast.LtE, "<="), (ast.GtE, ">=")],
    ast.NotEq: [(ast.Eq, "=="), (ast.Lt, "<"), (ast.Gt, ">")],
    ast.In: [(ast.NotIn, "not in")],
    ast.NotIn: [(ast.In, "in")],
}
COMPARE_TEXT = {
    ast.Lt: "<",
    ast.LtE: "<=",
    ast.Gt: ">",
    ast.GtE: ">=",
    ast.Eq: "==",
    ast.NotEq: "!=",
    ast.In: "in",
    ast.NotIn: "not in",
    ast.Is: "is",
    ast.IsNot: "is not",
}
BINARY_SWAPS: dict[type, list[str]] = {
    ast.Add: ["-", "*"],
    ast.Sub: ["+"],
    ast.Mult: ["/", "//", "+", "**"],
    ast.Div: ["//", "*"],
    ast.FloorDiv: ["/", "%", "*"],
    ast.Mod: ["//"],
    ast.Pow: ["*"],
    ast.BitAnd: ["|"],
    ast.BitOr: ["&"],
}
BINARY_TEXT = {
    ast.Add: "+",
    ast.Sub: "-",
    ast.Mult: "*",
    ast.Div: "/",
    ast.FloorDiv: "//",
    ast.Mod: "%",
    ast.Pow: "**",
    ast.BitAnd: "&",
    ast.BitOr: "|",
}
METHOD_FAMILIES: list[tuple[str, ...]] = [
    ("keys", "values", "items"),
    ("append", "extend"),
    ("lower", "upper", "casefold", "title", "capitalize"),
    ("strip", "lstrip", "rstrip"),
    ("startswith", "endswith"),
    ("find", "rfind", "index"),
    ("split", "rsplit", "splitlines"),
    ("pop", "popleft"),
    ("add", "update", "discard", "remove"),
    ("min", "max"),
    ("floor", "ceil", "trunc"),
    ("isdigit", "isalpha", "isalnum", "isspace", "isnumeric", "isdecimal"),
    ("islower", "isupper", "istitle"),
    ("first", "last"),
    ("remove", "discard"),
    ("appendleft", "append"),
    ("union", "intersection", "difference", "symmetric_difference"),
    ("issubset", "issuperset"),
    ("total_seconds", "seconds", "days"),
    ("get", "setdefault", "pop"),
    ("sort", "reverse"),
]
WRAPPERS = ("len", "abs", "int", "str", "sorted", "list", "round", "float", "set", "bool", "tuple")
UNWRAPPABLE = {
    "len",
    "abs",
    "int",
    "str",
    "sorted",
    "list",
    "round",
    "float",
    "set",
    "bool",
    "tuple",
    "reversed",
    "min",
    "max",
    "sum",
}
EXCEPTIONS = (
    "ValueError",
    "TypeError",
    "KeyError",
    "IndexError",
    "LookupError",
    "RuntimeError",
    "ZeroDivisionError",
    "AttributeError",
    "OverflowError",
)


def compare_operator(site: Site, offsets: Offsets) -> Iterator[Mutation]:
    for node in expressions(site.statement):
        if not isinstance(node, ast.Compare):
            continue
        operands = [node.left, *node.comparators]
        for position, operator in enumerate(node.ops):
            current = COMPARE_TEXT.get(type(operator))
            if current is None:
                continue
            start = offsets.span(operands[position])[1]
            end = offsets.span(operands[position + 1])[0]
            span = _find_token(
                site.text, start, end, current, word=current.isalpha() or " " in current
            )
            if span is None:
                continue
            for new_type, new_text in COMPARE_SWAPS.get(type(operator), []):
                boundary = {ast.Lt, ast.LtE, ast.Gt, ast.GtE}
                template = (
                    "comparison-boundary"
                    if {type(operator), new_type} <= boundary
                    and COMPARE_TEXT[type(operator)][0] == new_text[0]
                    else "comparison-operator"
                )
                yield Mutation(
                    span[0],
                    span[1],
                    new_text,
                    template,
                    f"`{current}` -> `{new_text}`",
                    "the comparison decided the wrong branch"
                    + (" at the boundary value" if template == "comparison-boundary" else ""),
                )


def identity_equality(site: Site, offsets: Offsets) -> Iterator[Mutation]:
    swaps = {ast.Is: "==", ast.IsNot: "!=", ast.Eq: "is", ast.NotEq: "is not"}
    for node in expressions(site.statement):
        if not isinstance(node, ast.Compare):
            continue
        operands = [node.left, *node.comparators]
        for position, operator in enumerate(node.ops):
            if type(operator) not in swaps:
                continue
            current = COMPARE_TEXT[type(operator)]
            start = offsets.span(operands[position])[1]
            end = offsets.span(operands[position + 1])[0]
            span = _find_token(
                site.text, start, end, current, word=current.isalpha() or " " in current
            )
            if span is None:
                continue
            if isinstance(operator, ast.Eq | ast.NotEq) and not (
                isinstance(operands[position + 1], ast.Constant)
                and operands[position + 1].value in (None, True, False)  # type: ignore[attr-defined]
            ):
                continue
            new = swaps[type(operator)]
            yield Mutation(
                span[0],
                span[1],
                new,
                "identity-equality",
                f"`{current}` -> `{new}`",
                "identity and equality differ for this value",
            )


def binary_operator(site: Site, offsets: Offsets) -> Iterator[Mutation]:
    for node in expressions(site.statement):
        if isinstance(node, ast.BinOp) and type(node.op) in BINARY_TEXT:
            current = BINARY_TEXT[type(node.op)]
            start = offsets.span(node.left)[1]
            end = offsets.span(node.right)[0]
            span = _find_token(site.text, start, end, current)
            if span is None:
                continue
            for new in BINARY_SWAPS.get(type(node.op), []):
                yield Mutation(
                    span[0],
                    span[1],
                    new,
                    "arithmetic-operator",
                    f"`{current}` -> `{new}`",
                    "the arithmetic used the wrong operator",
                )
        elif isinstance(node, ast.AugAssign) and type(node.op) in BINARY_TEXT:
            current = BINARY_TEXT[type(node.op)] + "="
            start = offsets.span(node.target)[1]
            end = offsets.span(node.value)[0]
            span = _find_token(site.text, start, end, current)
            if span is None:
                continue
            for new in BINARY_SWAPS.get(type(node.op), []):
                yield Mutation(
                    span[0],
                    span[1],
                    new + "=",
                    "augmented-assignment",
                    f"`{current}` -> `{new}=`",
                    "the update applied the wrong operation",
                )


def boolean_operator(site: Site, offsets: Offsets) -> Iterator[Mutation]:
    for node in expressions(site.statement):
        if not isinstance(node, ast.BoolOp):
            continue
        current = "and" if isinstance(node.op, ast.And) else "or"
        new = "or" if current == "and" else "and"
        spans = []
        for left, right in zip(node.values, node.values[1:], strict=False):
            span = _find_token(
                site.text, offsets.span(left)[1], offsets.span(right)[0], current, word=True
            )
            if span is not None:
                spans.append(span)
        for span in spans:
            yield Mutation(
                span[0],
                span[1],
                new,
                "boolean-operator",
                f"`{current}` -> `{new}`",
                "the condition combined its parts wrongly",
            )
        # narrowing or widening by dropping one clause
        for index, value in enumerate(node.values):
            rest = [v for i, v in enumerate(node.values) if i != index]
            start, end = offsets.span(node)
            kept = f" {current} ".join(_segment(site.text, offsets, v) for v in rest)
            if len(rest) == 1 and isinstance(rest[0], ast.BoolOp):
                kept = f"({kept})"
            dropped = _segment(site.text, offsets, value)
            yield Mutation(
                start,
                end,
                kept,
                "condition-clause",
                f"drop clause `{dropped}`",
                "the condition had a clause that must not be there",
                size=2,
            )


def negate_condition(site: Site, offsets: Offsets) -> Iterator[Mutation]:
    tests: list[ast.expr] = []
    statement = site.statement
    if isinstance(statement, ast.If | ast.While | ast.Assert):
        tests.append(statement.test)
    for node in expressions(statement):
        if isinstance(node, ast.IfExp):
            tests.append(node.test)
        if isinstance(node, ast.ListComp | ast.SetComp | ast.GeneratorExp | ast.DictComp):
            for generator in node.generators:
                tests.extend(generator.ifs)
    if isinstance(statement, ast.Return) and isinstance(statement.value, ast.Compare | ast.BoolOp):
        tests.append(statement.value)
    for test in tests:
        start, end = offsets.span(test)
        source = site.text[start:end]
        if isinstance(test, ast.UnaryOp) and isinstance(test.op, ast.Not):
            inner = _segment(site.text, offsets, test.operand)
            yield Mutation(
                start,
                end,
                inner,
                "negate-condition",
                f"`{source}` -> `{inner}`",
                "the condition was inverted",
            )
        else:
            wrapped = (
                f"not {source}"
                if isinstance(test, ast.Name | ast.Call | ast.Attribute)
                else f"not ({source})"
            )
            yield Mutation(
                start,
                end,
                wrapped,
                "negate-condition",
                f"`{source}` -> `{wrapped}`",
                "the condition was inverted",
            )


def widen_narrow(site: Site, offsets: Offsets) -> Iterator[Mutation]:
    statement = site.statement
    if not isinstance(statement, ast.If | ast.While):
        return
    start, end = offsets.span(statement.test)
    source = site.text[start:end]
    names = [n.id for n in walk(statement.test) if isinstance(n, ast.Name)]
    clauses: list[str] = []
    for name in dict.fromkeys(names):
        clauses += [f"{name} is not None", f"{name} is None", f"not {name}", f"{name}"]
    function = site.function
    if function is not None:
        for node in walk(function):
            if isinstance(node, ast.If | ast.While) and node is not statement:
                other = _segment(site.text, offsets, node.test)
                if other != source and len(other) < 60:
                    clauses.append(other)
    wrapped = f"({source})" if isinstance(statement.test, ast.BoolOp) else source
    for clause, joiner in _analogous_clauses(site, offsets, statement.test, source):
        new = f"{clause} {joiner} {wrapped}"
        yield Mutation(
            start,
            end,
            new,
            "condition-analogy",
            f"`{source}` -> `{new}`",
            "the condition lacked the clause its sibling checks have",
            size=2,
        )
    for clause in dict.fromkeys(clauses):
        for joiner in ("and", "or"):
            new = f"{wrapped} {joiner} {clause}"
            yield Mutation(
                start,
                end,
                new,
                "condition-clause",
                f"`{source}` -> `{new}`",
                "the condition was too " + ("wide" if joiner == "and" else "narrow"),
                size=2,
            )


_WORD = re.compile(r"[A-Za-z]+|\d+|[^A-Za-z\d]+")


def _one_word_apart(first: str, second: str) -> tuple[str, str] | None:
    """(old, new) when two snippets differ in exactly one word, e.g. has_digit / has_symbol."""
    a, b = _WORD.findall(first), _WORD.findall(second)
    if len(a) != len(b):
        return None
    differences = [(x, y) for x, y in zip(a, b, strict=True) if x != y]
    if len(differences) != 1 or not differences[0][0].isalpha():
        return None
    return differences[0]


def _analogous_clauses(
    site: Site, offsets: Offsets, test: ast.expr, source: str
) -> list[tuple[str, str]]:
    """Clauses sibling conditions combine with a test shaped like ours, with the one differing
    word carried over: `if policy.require_digit and not has_digit` next to `if not has_symbol`
    suggests `policy.require_symbol and not has_symbol`."""
    found: list[tuple[str, str]] = []
    if site.function is None:
        return found
    for node in walk(site.function):
        if not isinstance(node, ast.If | ast.While) or not isinstance(node.test, ast.BoolOp):
            continue
        parts = [_segment(site.text, offsets, value) for value in node.test.values]
        joiner = "and" if isinstance(node.test.op, ast.And) else "or"
        for index, part in enumerate(parts):
            words = _one_word_apart(part, source)
            if words is None:
                continue
            old, new = words
            for other_index, other in enumerate(parts):
                if other_index == index:
                    continue
                clause = re.sub(rf"(?<![A-Za-z]){old}(?![A-Za-z])", new, other)
                if clause != other:
                    found.append((clause, joiner))
    return found


def off_by_one(site: Site, offsets: Offsets) -> Iterator[Mutation]:
    interesting: list[ast.expr] = []
    for node in expressions(site.statement):
        if isinstance(node, ast.Subscript):
            if isinstance(node.slice, ast.Slice):
                interesting += [p for p in (node.slice.lower, node.slice.upper) if p is not None]
            else:
                interesting.append(node.slice)
        elif (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Name)
            and node.func.id in ("range", "enumerate", "islice", "round")
        ):
            interesting += list(node.args) + [k.value for k in node.keywords]
        elif isinstance(node, ast.Compare):
            interesting += [node.left, *node.comparators]
        elif (isinstance(node, ast.Return) and node.value is not None) or (
            isinstance(node, ast.Assign | ast.AugAssign)
            and isinstance(node.value, ast.Constant | ast.Name | ast.BinOp | ast.Call)
        ):
            interesting.append(node.value)
        elif isinstance(node, ast.Call):
            interesting += [
                a
                for a in [*node.args, *(k.value for k in node.keywords)]
                if isinstance(a, ast.Constant | ast.Name | ast.BinOp)
            ]
    # every integer literal of the statement may be off by one, wherever it stands
    interesting += [
        n
        for n in expressions(site.statement)
        if isinstance(n, ast.Constant) and type(n.value) is int
    ]
    seen: set[tuple[int, int]] = set()
    for expression in interesting:
        start, end = offsets.span(expression)
        if (start, end) in seen or isinstance(expression, ast.Slice):
            continue
        seen.add((start, end))
        source = site.text[start:end]
        if isinstance(expression, ast.Constant) and type(expression.value) is int:
            for delta in (1, -1):
                new = str(expression.value + delta)
                yield Mutation(
                    start,
                    end,
                    new,
                    "off-by-one",
                    f"`{source}` -> `{new}`",
                    "an index or bound was off by one",
                )
            continue
        if isinstance(expression, ast.Constant) and not isinstance(expression.value, int | float):
            continue
        if (
            isinstance(expression, ast.BinOp)
            and isinstance(expression.op, ast.Add | ast.Sub)
            and isinstance(expression.right, ast.Constant)
            and expression.right.value == 1
        ):
            inner = _segment(site.text, offsets, expression.left)
            yield Mutation(
                start,
                end,
                inner,
                "off-by-one",
                f"`{source}` -> `{inner}`",
                "an index or bound was off by one",
            )
        needs_parens = isinstance(expression, ast.BinOp | ast.BoolOp | ast.Compare | ast.IfExp)
        base = f"({source})" if needs_parens else source
        for operator in ("+", "-"):
            new = f"{base} {operator} 1"
            yield Mutation(
                start,
                end,
                new,
                "off-by-one",
                f"`{source}` -> `{new}`",
                "an index or bound was off by one",
                size=2,
            )


def constant_replacement(site: Site, offsets: Offsets) -> Iterator[Mutation]:
    for node in expressions(site.statement):
        if not isinstance(node, ast.Constant):
            continue
        start, end = offsets.span(node)
        source = site.text[start:end]
        value = node.value
        options: list[str] = []
        if value is True or value is False:
            options = [repr(not value)]
        elif value is None:
            options = ["0", "[]", "''"]
        elif isinstance(value, int):
            options = [repr(v) for v in _constants(site.function, int) if v != value]
            options += [o for o in ("0", "1", "-1") if o not in options and o != source]
        elif isinstance(value, float):
            options = [repr(v) for v in _constants(site.function, float) if v != value]
        elif isinstance(value, str):
            options = [
                repr(v)
                for v in _constants(site.function, str)
                if v != value and isinstance(v, str) and len(v) < 40
            ]
        for option in options[:6]:
            yield Mutation(
                start,
                end,
                option,
                "constant",
                f"`{source}` -> `{option}`",
                "a literal had the wrong value",
            )


def identifier_replacement(site: Site, offsets: Offsets) -> Iterator[Mutation]:
    local = _scope_names(site.function, site.tree)
    module_level = _module_names(site.tree)
    is_name_error = "is not defined" in site.error_message
    for node in expressions(site.statement):
        if not isinstance(node, ast.Name) or not isinstance(node.ctx, ast.Load):
            continue
        if node.id in dir(builtins) and node.id not in local:
            continue
        start, end = offsets.span(node)
        pool = [n for n in local if n != node.id]
        if is_name_error or node.id in module_level:
            pool += [n for n in module_level if n != node.id and n not in pool]
        for name in pool[:10]:
            yield Mutation(
                start,
                end,
                name,
                "identifier",
                f"`{node.id}` -> `{name}`",
                "the code used the wrong variable",
            )


def attribute_replacement(site: Site, offsets: Offsets) -> Iterator[Mutation]:
    seen_on: dict[str, list[str]] = {}
    for node in walk(site.tree):
        if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name):
            seen_on.setdefault(node.value.id, [])
            if node.attr not in seen_on[node.value.id]:
                seen_on[node.value.id].append(node.attr)
    for node in expressions(site.statement):
        if not isinstance(node, ast.Attribute):
            continue
        start = offsets.span(node.value)[1]
        end = offsets.span(node)[1]
        segment = site.text[start:end]
        position = segment.rfind(node.attr)
        if position < 0:
            continue
        attr_start, attr_end = start + position, start + position + len(node.attr)
        options: list[str] = []
        for family in METHOD_FAMILIES:
            if node.attr in family:
                options += [name for name in family if name != node.attr]
        if isinstance(node.value, ast.Name):
            options += [a for a in seen_on.get(node.value.id, []) if a != node.attr]
        for option in list(dict.fromkeys(options))[:8]:
            yield Mutation(
                attr_start,
                attr_end,
                option,
                "attribute",
                f"`.{node.attr}` -> `.{option}`",
                "the code used the wrong attribute or method",
            )


def swap_arguments(site: Site, offsets: Offsets) -> Iterator[Mutation]:
    for node in expressions(site.statement):
        if not isinstance(node, ast.Call) or len(node.args) < 2:
            continue
        if any(isinstance(a, ast.Starred) for a in node.args):
            continue
        for index in range(len(node.args) - 1):
            first, second = node.args[index], node.args[index + 1]
            a_start, a_end = offsets.span(first)
            b_start, b_end = offsets.span(second)
            a, b = site.text[a_start:a_end], site.text[b_start:b_end]
            if a == b:
                continue
            replacement = b + site.text[a_end:b_start] + a
            yield Mutation(
                a_start,
                b_end,
                replacement,
                "swap-arguments",
                f"swap `{a}` and `{b}`",
                "the call passed its arguments in the wrong order",
            )


def wrap_unwrap(site: Site, offsets: Offsets) -> Iterator[Mutation]:
    targets: list[ast.expr] = []
    statement = site.statement
    if isinstance(statement, ast.Return) and statement.value is not None:
        targets.append(statement.value)
    if isinstance(statement, ast.Assign | ast.AugAssign | ast.AnnAssign) and statement.value:
        targets.append(statement.value)
    for node in expressions(statement):
        if isinstance(node, ast.Call):
            targets += [
                a
                for a in node.args
                if isinstance(a, ast.Name | ast.Attribute | ast.BinOp | ast.Subscript)
            ]
            if (
                isinstance(node.func, ast.Name)
                and node.func.id in UNWRAPPABLE
                and len(node.args) == 1
                and not node.keywords
            ):
                start, end = offsets.span(node)
                inner = _segment(site.text, offsets, node.args[0])
                yield Mutation(
                    start,
                    end,
                    inner,
                    "unwrap-call",
                    f"`{node.func.id}(...)` removed",
                    "a conversion was applied that must not be",
                )
    for target in targets:
        if isinstance(target, ast.Constant):
            continue
        start, end = offsets.span(target)
        source = site.text[start:end]
        for wrapper in WRAPPERS:
            if (
                isinstance(target, ast.Call)
                and isinstance(target.func, ast.Name)
                and target.func.id == wrapper
            ):
                continue
            new = f"{wrapper}({source})" if wrapper != "round" else f"round({source}, 2)"
            yield Mutation(
                start,
                end,
                new,
                "wrap-call",
                f"`{source}` -> `{new}`",
                f"the value needed `{wrapper}()`",
                size=2,
            )


def return_value(site: Site, offsets: Offsets) -> Iterator[Mutation]:
    statement = site.statement
    if not isinstance(statement, ast.Return):
        return
    local = _scope_names(site.function, site.tree)
    if statement.value is None:
        start, end = offsets.span(statement)
        for name in local[:6]:
            yield Mutation(
                start,
                end,
                f"return {name}",
                "return-value",
                f"`return` -> `return {name}`",
                "the function returned nothing",
            )
        return
    start, end = offsets.span(statement.value)
    source = site.text[start:end]
    for name in local:
        if name != source:
            yield Mutation(
                start,
                end,
                name,
                "return-value",
                f"`return {source}` -> `return {name}`",
                "the function returned the wrong value",
            )


def dict_get(site: Site, offsets: Offsets) -> Iterator[Mutation]:
    for node in expressions(site.statement):
        if not (isinstance(node, ast.Subscript) and isinstance(node.ctx, ast.Load)):
            continue
        if isinstance(node.slice, ast.Slice):
            continue
        start, end = offsets.span(node)
        container = _segment(site.text, offsets, node.value)
        key = _segment(site.text, offsets, node.slice)
        defaults = ["", ", 0", ", None", ", []", ", ''"]
        if site.function is not None:
            used = {n.id for n in walk(node) if isinstance(n, ast.Name)}
            parameters = [
                a.arg
                for a in site.function.args.args + site.function.args.kwonlyargs
                if a.arg not in used and a.arg not in ("self", "cls")
            ]
            # a parameter named like a fallback is the most likely default
            parameters.sort(key=lambda name: 0 if "default" in name or "fallback" in name else 1)
            defaults = [f", {name}" for name in parameters[:3]] + defaults
        for default in defaults:
            new = f"{container}.get({key}{default})"
            yield Mutation(
                start,
                end,
                new,
                "safe-lookup",
                f"`{container}[{key}]` -> `{new}`",
                "a missing key must not raise here",
                size=2,
            )


def _guard(
    site: Site, offsets: Offsets, condition: str, body: str, template: str, rationale: str
) -> Mutation:
    statement = site.statement
    indent = _indent_of(site.text, offsets, statement.lineno)
    position = _line_start(offsets, statement.lineno)
    text = f"{indent}if {condition}:\n{indent}    {body}\n"
    return Mutation(
        position, position, text, template, f"insert `if {condition}: {body}`", rationale, size=3
    )


def _in_loop(site: Site) -> bool:
    if site.function is None:
        return False
    for node in walk(site.function):
        if isinstance(node, ast.For | ast.While) and node is not site.statement:
            for child in walk(node):
                if child is site.statement:
                    return True
    return False


def none_guard(site: Site, offsets: Offsets) -> Iterator[Mutation]:
    if site.function is None or isinstance(site.statement, ast.FunctionDef | ast.AsyncFunctionDef):
        return
    subjects: list[str] = []
    for node in expressions(site.statement):
        if isinstance(node, ast.Attribute | ast.Subscript) and isinstance(
            node.value, ast.Name | ast.Attribute
        ):
            subjects.append(_segment(site.text, offsets, node.value))
        if isinstance(node, ast.Call):
            subjects += [
                _segment(site.text, offsets, a) for a in node.args if isinstance(a, ast.Name)
            ]
        if isinstance(node, ast.For):
            subjects.append(_segment(site.text, offsets, node.iter))
    if isinstance(site.statement, ast.For | ast.AsyncFor):
        subjects.append(_segment(site.text, offsets, site.statement.iter))
    exits = ["continue"] if _in_loop(site) else []
    exits += [f"return {value}" for value in _default_returns(site.function)]
    for subject in list(dict.fromkeys(subjects))[:4]:
        if subject in ("self", "cls"):
            continue
        for exit_statement in exits:
            yield _guard(
                site,
                offsets,
                f"{subject} is None",
                exit_statement,
                "none-guard",
                f"`{subject}` can be None and was used without a check",
            )


def empty_guard(site: Site, offsets: Offsets) -> Iterator[Mutation]:
    if site.function is None or isinstance(site.statement, ast.FunctionDef | ast.AsyncFunctionDef):
        return
    conditions: list[str] = []
    for node in expressions(site.statement):
        if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Div | ast.FloorDiv | ast.Mod):
            divisor = _segment(site.text, offsets, node.right)
            conditions.append(
                f"{divisor} == 0" if not isinstance(node.right, ast.Call) else f"not {divisor}"
            )
            if (
                isinstance(node.right, ast.Call)
                and isinstance(node.right.func, ast.Name)
                and node.right.func.id == "len"
                and node.right.args
            ):
                conditions.append(f"not {_segment(site.text, offsets, node.right.args[0])}")
        if isinstance(node, ast.Subscript) and isinstance(node.value, ast.Name):
            conditions.append(f"not {node.value.id}")
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Name)
            and node.func.id in ("max", "min", "next")
            and node.args
        ):
            conditions.append(f"not {_segment(site.text, offsets, node.args[0])}")
    exits = ["continue"] if _in_loop(site) else []
    exits += [f"return {value}" for value in _default_returns(site.function)]
    for condition in list(dict.fromkeys(conditions))[:4]:
        for exit_statement in exits:
            yield _guard(
                site,
                offsets,
                condition,
                exit_statement,
                "empty-guard",
                f"the code did not handle the empty or zero case (`{condition}`)",
            )


def exception_contract(site: Site, offsets: Offsets) -> Iterator[Mutation]:
    expected = list(site.expected_exceptions) or []
    statement = site.statement
    # change the type of a raised exception
    if isinstance(statement, ast.Raise) and statement.exc is not None:
        node = statement.exc.func if isinstance(statement.exc, ast.Call) else statement.exc
        if isinstance(node, ast.Name):
            start, end = offsets.span(node)
            for name in dict.fromkeys([*expected, *EXCEPTIONS]):
                if name != node.id:
                    yield Mutation(
                        start,
                        end,
                        name,
                        "exception-type",
                        f"raise `{name}` instead of `{node.id}`",
                        "the function raised the wrong exception type",
                    )
        # only a plain literal message is replaced: swapping a formatted message for the
        # literal a test expects would special-case the tested input
        if (
            isinstance(statement.exc, ast.Call)
            and statement.exc.args
            and isinstance(statement.exc.args[0], ast.Constant)
            and site.expected_messages
        ):
            start, end = offsets.span(statement.exc.args[0])
            for message in site.expected_messages:
                yield Mutation(
                    start,
                    end,
                    repr(message),
                    "exception-message",
                    f"message -> {message!r}",
                    "the exception message was wrong",
                )
    if not expected or site.function is None:
        return
    # raise the expected exception for invalid input, at the top of the function
    function = site.function
    body = function.body
    first = body[1] if len(body) > 1 and _is_docstring(body[0]) else body[0]
    indent = _indent_of(site.text, offsets, first.lineno)
    position = _line_start(offsets, first.lineno)
    parameters = [a.arg for a in function.args.args if a.arg not in ("self", "cls")]
    conditions: list[str] = []
    for name in parameters:
        conditions += [f"{name} < 0", f"{name} <= 0", f"not {name}", f"{name} is None"]
    for walked in walk(function):
        if (
            isinstance(walked, ast.Compare)
            and len(walked.ops) == 1
            and isinstance(walked.ops[0], ast.In | ast.NotIn)
        ):
            left = _segment(site.text, offsets, walked.left)
            right = _segment(site.text, offsets, walked.comparators[0])
            if left in parameters:
                conditions.append(f"{left} not in {right}")
    message = repr(site.expected_messages[0]) if site.expected_messages else ""
    for name in expected[:2]:
        for condition in dict.fromkeys(conditions):
            text = f"{indent}if {condition}:\n{indent}    raise {name}({message})\n"
            yield Mutation(
                position,
                position,
                text,
                "raise-guard",
                f"insert `if {condition}: raise {name}`",
                f"invalid input must raise {name}, as the caller expects",
                size=3,
            )


def _is_simple_statement(node: ast.stmt) -> bool:
    if isinstance(node, ast.AugAssign):
        return True
    if (
        isinstance(node, ast.Expr)
        and isinstance(node.value, ast.Call)
        and isinstance(node.value.func, ast.Attribute)
    ):
        return True
    return (
        isinstance(node, ast.Assign)
        and len(node.targets) == 1
        and isinstance(node.targets[0], ast.Attribute)
    )


def insert_statement(site: Site, offsets: Offsets) -> Iterator[Mutation]:
    if site.function is None:
        return
    statement = site.statement
    if isinstance(statement, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
        return
    bound = (
        set(_scope_names(site.function, site.tree))
        | set(_module_names(site.tree))
        | {"self", "cls"}
    )
    vocabulary: list[str] = []
    # loop counters that never move: `while i < n` wants an `i += 1`
    for node in walk(site.function):
        if isinstance(node, ast.While):
            for name in walk(node.test):
                if (
                    isinstance(name, ast.Name)
                    and isinstance(name.ctx, ast.Load)
                    and name.id in bound
                ):
                    assigned = any(
                        isinstance(n, ast.AugAssign | ast.Assign)
                        and any(
                            isinstance(t, ast.Name) and t.id == name.id
                            for t in ([n.target] if isinstance(n, ast.AugAssign) else n.targets)
                        )
                        for body_statement in node.body
                        for n in walk(body_statement)
                    )
                    if not assigned:
                        vocabulary += [f"{name.id} += 1", f"{name.id} -= 1"]
    for node in walk(site.tree):
        if isinstance(node, ast.stmt) and _is_simple_statement(node) and node is not statement:
            names = {n.id for n in walk(node) if isinstance(n, ast.Name)}
            if names <= bound:
                source = source_segment(site.text, node)
                if source and "\n" not in source:
                    vocabulary.append(source)
    # counters that start at a number and are read, but never updated anywhere
    vocabulary += _stale_counters(site.tree)
    # accumulate into a result list the loop builds but never fills
    for node in walk(site.function):
        if isinstance(node, ast.For) and isinstance(node.target, ast.Name):
            for other in walk(site.function):
                if (
                    isinstance(other, ast.Assign)
                    and isinstance(other.value, ast.List)
                    and not other.value.elts
                ):
                    for target in other.targets:
                        if isinstance(target, ast.Name):
                            vocabulary.append(f"{target.id}.append({node.target.id})")
    indent = _indent_of(site.text, offsets, statement.lineno)
    before = _line_start(offsets, statement.lineno)
    end_line = statement.end_lineno or statement.lineno
    after = offsets.starts[end_line] if end_line < len(offsets.starts) else len(site.text)
    # the body of a loop that never advances: for a `while` site (where a hang is localized)
    # the update goes inside, at the end of the body, before anything around the loop
    if isinstance(statement, ast.While) and statement.body:
        last = statement.body[-1]
        inner_indent = _indent_of(site.text, offsets, last.lineno)
        end = last.end_lineno or last.lineno
        position = offsets.starts[end] if end < len(offsets.starts) else len(site.text)
        for text in list(dict.fromkeys(vocabulary))[:8]:
            yield Mutation(
                position,
                position,
                f"{inner_indent}{text}\n",
                "insert-statement",
                f"insert `{text}` at the end of the loop",
                "the loop never advanced",
                size=3,
            )
    current = source_segment(site.text, statement) or ""
    for text in list(dict.fromkeys(vocabulary))[:12]:
        if text == current:
            continue
        if isinstance(statement, ast.Return | ast.Raise | ast.Continue | ast.Break):
            positions = [before]
        else:
            positions = [after, before]
        for position in positions:
            yield Mutation(
                position,
                position,
                f"{indent}{text}\n",
                "insert-statement",
                f"insert `{text}`",
                "a needed update was missing",
                size=3,
            )


def _stale_counters(tree: ast.Module) -> list[str]:
    """`self.x += 1` for attributes set to a number in __init__ and never updated elsewhere."""
    initialized: list[str] = []
    updated: set[str] = set()
    for node in walk(tree):
        if isinstance(node, ast.FunctionDef) and node.name == "__init__":
            for statement in walk(node):
                if (
                    isinstance(statement, ast.Assign)
                    and len(statement.targets) == 1
                    and isinstance(statement.targets[0], ast.Attribute)
                    and isinstance(statement.targets[0].value, ast.Name)
                    and statement.targets[0].value.id == "self"
                    and isinstance(statement.value, ast.Constant)
                    and type(statement.value.value) in (int, float)
                ):
                    initialized.append(statement.targets[0].attr)
        elif isinstance(node, ast.FunctionDef):
            for statement in walk(node):
                targets: list[ast.expr] = []
                if isinstance(statement, ast.AugAssign):
                    targets = [statement.target]
                elif isinstance(statement, ast.Assign):
                    targets = list(statement.targets)
                for target in targets:
                    if isinstance(target, ast.Attribute):
                        updated.add(target.attr)
    return [f"self.{name} += 1" for name in initialized if name not in updated]


def copied_guard(site: Site, offsets: Offsets) -> Iterator[Mutation]:
    """Insert a validation block (`if ...: raise ...`) that sibling code of the module applies,
    before the statement, when every name it needs is bound there."""
    statement = site.statement
    if site.function is None or isinstance(
        statement, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef
    ):
        return
    bound = set(_scope_names(site.function, site.tree)) | set(_module_names(site.tree))
    bound |= {"self", "cls"} | set(dir(builtins))
    existing = {dump(n) for n in walk(site.function) if isinstance(n, ast.If)}
    indent = _indent_of(site.text, offsets, statement.lineno)
    position = _line_start(offsets, statement.lineno)
    seen: set[str] = set()
    for node in walk(site.tree):
        if not (
            isinstance(node, ast.If)
            and len(node.body) == 1
            and isinstance(node.body[0], ast.Raise)
            and not node.orelse
        ):
            continue
        if dump(node) in existing:
            continue
        names = {n.id for n in walk(node) if isinstance(n, ast.Name)}
        if not names <= bound:
            continue
        block = source_segment(site.text, node)
        if not block or block in seen:
            continue
        seen.add(block)
        lines = block.splitlines()
        first_indent = len(lines[0]) - len(lines[0].lstrip())
        original_indent = node.col_offset
        body = [lines[0].lstrip()] + [
            line[original_indent - first_indent :] if line.strip() else line for line in lines[1:]
        ]
        text = "".join(f"{indent}{line[0:] if i == 0 else line}\n" for i, line in enumerate(body))
        yield Mutation(
            position,
            position,
            text,
            "copied-guard",
            f"insert the check `{lines[0].strip()}` used elsewhere",
            "the value was not validated as the rest of the module validates it",
            size=3,
        )


def delete_statement(site: Site, offsets: Offsets) -> Iterator[Mutation]:
    statement = site.statement
    if site.function is None or isinstance(
        statement, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef
    ):
        return
    if isinstance(statement, ast.If | ast.While | ast.For | ast.Try | ast.With):
        return
    start = _line_start(offsets, statement.lineno)
    end_line = statement.end_lineno or statement.lineno
    end = offsets.starts[end_line] if end_line < len(offsets.starts) else len(site.text)
    if site.text[start:end].strip() != (source_segment(site.text, statement) or "").strip():
        return
    siblings = _siblings(site.function, statement)
    replacement = (
        "" if len(siblings) > 1 else _indent_of(site.text, offsets, statement.lineno) + "pass\n"
    )
    yield Mutation(
        start,
        end,
        replacement,
        "delete-statement",
        f"delete `{site.text[start:end].strip()}`",
        "a statement did something that must not happen",
        size=4,
    )


def _siblings(function: ast.AST, statement: ast.stmt) -> list[ast.stmt]:
    for node in walk(function):
        for field in ("body", "orelse", "finalbody"):
            block = getattr(node, field, None)
            if isinstance(block, list) and statement in block:
                return block
    return [statement]


# ---------------------------------------------------------------- FORMAT


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
                    (stripped[:position] + stripped[position + 1 :], f"remove the stray `{closer}`")
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
    text: str, tree: ast.Module | None, message: str, names_by_module: dict[str, list[str]]
) -> Iterator[Mutation]:
    """Fix `from m import name` where the name (or module) is misspelled."""
    import difflib

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


LINE_TEMPLATES = (
    compare_operator,
    identity_equality,
    binary_operator,
    boolean_operator,
    negate_condition,
    widen_narrow,
    off_by_one,
    constant_replacement,
    identifier_replacement,
    attribute_replacement,
    swap_arguments,
    wrap_unwrap,
    return_value,
    dict_get,
    none_guard,
    empty_guard,
    exception_contract,
    insert_statement,
    copied_guard,
    delete_statement,
)

# How much each template is trusted per failure class: higher goes first. The order follows
# how often each kind of fix repairs bugs of that class.
PRIORS: dict[FailureClass, dict[str, float]] = {
    FailureClass.LOGIC: {
        "comparison-boundary": 1.0,
        "condition-analogy": 0.95,
        "arithmetic-operator": 0.9,
        "off-by-one": 0.85,
        "comparison-operator": 0.8,
        "augmented-assignment": 0.8,
        "boolean-operator": 0.75,
        "constant": 0.7,
        "identifier": 0.7,
        "attribute": 0.7,
        "negate-condition": 0.65,
        "return-value": 0.6,
        "swap-arguments": 0.6,
        "identity-equality": 0.6,
        "unwrap-call": 0.55,
        "wrap-call": 0.5,
        "insert-statement": 0.5,
        "condition-clause": 0.45,
        "safe-lookup": 0.3,
        "none-guard": 0.3,
        "empty-guard": 0.35,
        "exception-type": 0.3,
        "exception-message": 0.3,
        "raise-guard": 0.2,
        "delete-statement": 0.2,
    },
    FailureClass.RUNTIME_SAFETY: {
        "none-guard": 1.0,
        "empty-guard": 1.0,
        "condition-analogy": 0.7,
        "safe-lookup": 0.95,
        "off-by-one": 0.9,
        "comparison-boundary": 0.85,
        "attribute": 0.6,
        "identifier": 0.6,
        "condition-clause": 0.6,
        "comparison-operator": 0.5,
        "constant": 0.5,
        "negate-condition": 0.5,
        "insert-statement": 0.45,
        "arithmetic-operator": 0.4,
        "boolean-operator": 0.4,
        "return-value": 0.4,
        "wrap-call": 0.35,
        "unwrap-call": 0.35,
        "swap-arguments": 0.35,
        "exception-type": 0.5,
        "raise-guard": 0.4,
        "copied-guard": 0.4,
        "identity-equality": 0.3,
        "augmented-assignment": 0.3,
        "exception-message": 0.2,
        "delete-statement": 0.15,
    },
    FailureClass.CONTRACT: {
        "exception-type": 1.0,
        "raise-guard": 0.95,
        "copied-guard": 0.9,
        "condition-analogy": 0.7,
        "exception-message": 0.9,
        "swap-arguments": 0.85,
        "attribute": 0.8,
        "identifier": 0.8,
        "wrap-call": 0.6,
        "unwrap-call": 0.6,
        "comparison-boundary": 0.6,
        "comparison-operator": 0.55,
        "negate-condition": 0.55,
        "constant": 0.5,
        "none-guard": 0.5,
        "safe-lookup": 0.5,
        "empty-guard": 0.45,
        "off-by-one": 0.65,
        "arithmetic-operator": 0.4,
        "boolean-operator": 0.4,
        "condition-clause": 0.4,
        "return-value": 0.35,
        "identity-equality": 0.35,
        "augmented-assignment": 0.3,
        "insert-statement": 0.3,
        "delete-statement": 0.2,
    },
    FailureClass.FORMAT: {"syntax-repair": 1.0, "import-name": 1.0, "import-module": 0.9},
}


def prior(failure_class: FailureClass, template: str) -> float:
    return PRIORS.get(failure_class, PRIORS[FailureClass.LOGIC]).get(template, 0.3)


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
            if child.lineno <= line <= end:
                best, function = child, current
                inner = (
                    child if isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef) else current
                )
                visit(child, inner)

    visit(tree, None)
    if isinstance(best, ast.FunctionDef | ast.AsyncFunctionDef) and best.lineno != line:
        return None, best
    return best, function


def mutations_at(site: Site) -> Iterator[Mutation]:
    offsets = Offsets(site.text)
    for template in LINE_TEMPLATES:
        yield from template(site, offsets)


def expected_from_tests(test_sources: Sequence[str]) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """Exception names and messages the failing tests expect via pytest.raises."""
    names: list[str] = []
    messages: list[str] = []
    for source in test_sources:
        try:
            tree = ast.parse(source)
        except SyntaxError:
            continue
        for node in walk(tree):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and node.func.attr == "raises"
                and node.args
            ):
                first: ast.expr = node.args[0]
                elements: list[ast.expr] = first.elts if isinstance(first, ast.Tuple) else [first]
                for element in elements:
                    if isinstance(element, ast.Name) and element.id not in names:
                        names.append(element.id)
                for keyword in node.keywords:
                    if (
                        keyword.arg == "match"
                        and isinstance(keyword.value, ast.Constant)
                        and isinstance(keyword.value.value, str)
                        and not re.search(r"[\\^$*+?\[\]{}|()]", keyword.value.value)
                    ):
                        messages.append(keyword.value.value)
    return tuple(names), tuple(dict.fromkeys(messages))
