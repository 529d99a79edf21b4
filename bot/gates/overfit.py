"""Overfitting guards: patches that make the tests pass by deleting behaviour.

A patch is compared with the code it replaces, function by function (only the functions the
edit touches). What each kind means, and whether it rejects the patch or only flags it:

* ``condition-constant`` (reject): an ``if``/``while``/conditional-expression test became
  ``True``/``False`` (or another constant). That deletes a branch while looking like an edit;
  a maintainer who wants the branch gone removes it.
* ``returns-constant`` (reject): a ``return`` that computed a value now returns a constant.
  The tests pass because the constant happens to be what they expect. A guard clause (an
  early ``return <constant>`` under a condition that tests an input, with a computed return
  still after it) is a boundary fix, not this.
* ``swallows-errors`` (reject for a bare ``except:`` or ``except Exception``/``BaseException``
  whose body does nothing; flag for a named exception): errors that showed the bug vanish.
  Ignoring one specific exception is sometimes the intended behaviour, so that is only flagged.
* ``special-cases-test-input`` (reject): a new equality or membership comparison against a
  literal that appears in the failing test and nowhere in the original function, such as
  ``if value == 15: return 10``. Small boundary values (0, 1, -1, None, booleans, empty
  strings) are exempt: guarding them is how real boundary fixes look.
* ``removes-statements`` (flag): the function lost statements or a branch. Deleting a
  superfluous statement is a real fix often enough (a doubled update, a stray reset) that
  rejecting would lose correct patches; flagged patches rank below unflagged ones and the
  report names the flag.
"""

from __future__ import annotations

import ast
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache

from bot.analysis.source import parse

TRIVIAL_LITERALS = frozenset(
    {
        ("NoneType", "None"),
        ("bool", "True"),
        ("bool", "False"),
        ("int", "0"),
        ("int", "1"),
        ("int", "-1"),
        ("float", "0.0"),
        ("float", "1.0"),
        ("str", "''"),
        ("bytes", "b''"),
    }
)
BROAD = {"Exception", "BaseException"}
EQUALITY = (ast.Eq, ast.NotEq, ast.In, ast.NotIn, ast.Is, ast.IsNot)

Literal = tuple[str, str]  # (type name, repr): 1 and True are different literals


@dataclass(frozen=True)
class Finding:
    kind: str
    reject: bool
    detail: str
    path: str = ""
    line: int = 0

    def describe(self) -> str:
        where = f" at {self.path}:{self.line}" if self.path else ""
        return f"{self.kind}{where}: {self.detail}"


@dataclass(frozen=True)
class Report:
    findings: tuple[Finding, ...] = ()

    @property
    def rejected(self) -> Finding | None:
        return next((f for f in self.findings if f.reject), None)

    @property
    def flags(self) -> tuple[Finding, ...]:
        return tuple(f for f in self.findings if not f.reject)


# ---------------------------------------------------------------- literals of the failing tests


def _literal(node: ast.AST) -> Literal | None:
    if isinstance(node, ast.Constant):
        return (type(node.value).__name__, repr(node.value))
    if (
        isinstance(node, ast.UnaryOp)
        and isinstance(node.op, ast.USub)
        and isinstance(node.operand, ast.Constant)
        and isinstance(node.operand.value, int | float)
        and not isinstance(node.operand.value, bool)
    ):
        return (type(node.operand.value).__name__, repr(-node.operand.value))
    return None


def _literals_in(nodes: Iterable[ast.AST]) -> set[Literal]:
    found: set[Literal] = set()
    for root in nodes:
        for node in ast.walk(root):
            value = _literal(node)
            if value is not None:
                found.add(value)
    return found


def failing_test_literals(
    test_sources: Mapping[str, str], failing: Sequence[str]
) -> frozenset[Literal]:
    """Literals written in the failing tests (their bodies and decorators, e.g. parametrize).

    A failing test file that did not collect contributes all of its literals.
    """
    found: set[Literal] = set()
    wanted: dict[str, set[str]] = {}
    for nodeid in failing:
        path, _, rest = nodeid.partition("::")
        name = rest.split("::")[-1].split("[")[0] if rest else ""
        wanted.setdefault(path, set()).add(name)
    for path, names in wanted.items():
        source = test_sources.get(path)
        tree = _parse(source) if source is not None else None
        if tree is None:
            continue
        if "" in names:
            found |= _literals_in([tree])
            continue
        for node in ast.walk(tree):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and node.name in names:
                found |= _literals_in([node, *node.decorator_list])
    return frozenset(found - TRIVIAL_LITERALS)


# ---------------------------------------------------------------- which functions changed


def _parse(text: str) -> ast.Module | None:
    return parse(text)  # the engine's parse: a candidate's text is parsed once


def _functions(tree: ast.Module) -> Iterator[tuple[str, ast.FunctionDef | ast.AsyncFunctionDef]]:
    def visit(node: ast.AST, prefix: str) -> Iterator[tuple[str, ast.AST]]:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef):
                name = f"{prefix}{child.name}"
                yield name, child
                yield from visit(child, f"{name}.<locals>.")
            elif isinstance(child, ast.ClassDef):
                yield from visit(child, f"{prefix}{child.name}.")
            elif isinstance(child, ast.stmt):
                yield from visit(child, prefix)

    for name, node in visit(tree, ""):
        assert isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
        yield name, node


@lru_cache(maxsize=64)
def _function_table(text: str) -> dict[str, ast.FunctionDef | ast.AsyncFunctionDef]:
    """The functions of a file by qualified name (every candidate of a file compares with
    the same original, so this is worked out once)."""
    tree = _parse(text)
    return dict(_functions(tree)) if tree is not None else {}


@lru_cache(maxsize=1024)
def _dump(text: str, name: str) -> str:
    return ast.dump(_function_table(text)[name])


def changed_span(old: str, new: str) -> tuple[int, int]:
    """First and last line of ``new`` that differ from ``old`` (common prefix and suffix cut)."""
    old_lines, new_lines = old.splitlines(), new.splitlines()
    start = 0
    while start < min(len(old_lines), len(new_lines)) and old_lines[start] == new_lines[start]:
        start += 1
    end_old, end_new = len(old_lines), len(new_lines)
    while end_old > start and end_new > start and old_lines[end_old - 1] == new_lines[end_new - 1]:
        end_old -= 1
        end_new -= 1
    return start + 1, max(start + 1, end_new)


def changed_functions(old: str, new: str) -> list[tuple[str, ast.AST, ast.AST]]:
    """(qualified name, old node, new node) of the functions an edit touches.

    Touched module-level code is returned under the name ``""`` (old and new module trees).
    """
    return list(_changed_functions(old, new))


@lru_cache(maxsize=256)  # the refusal check and the probe plan both ask, per candidate
def _changed_functions(old: str, new: str) -> tuple[tuple[str, ast.AST, ast.AST], ...]:
    return tuple(_find_changed_functions(old, new))


def _find_changed_functions(old: str, new: str) -> list[tuple[str, ast.AST, ast.AST]]:
    old_tree, new_tree = _parse(old), _parse(new)
    if old_tree is None or new_tree is None or old == new:
        return []
    first, last = changed_span(old, new)
    old_functions = _function_table(old)
    pairs: list[tuple[str, ast.AST, ast.AST]] = []
    inside_a_function = False
    for name, node in _functions(new_tree):
        end = node.end_lineno or node.lineno
        start = min([node.lineno, *(d.lineno for d in node.decorator_list)])
        if end < first or start > last:
            continue
        inside_a_function = True
        before = old_functions.get(name)
        if before is not None and _dump(old, name) != ast.dump(node):
            pairs.append((name, before, node))
    # innermost first: a change inside a nested function is judged there, not twice
    pairs = [p for p in pairs if not any(o[0].startswith(p[0] + ".") for o in pairs)]
    if not inside_a_function:
        pairs.append(("", old_tree, new_tree))
    return pairs


# ---------------------------------------------------------------- the checks


def _is_constant(node: ast.AST | None) -> bool:
    if node is None:
        return True
    if _literal(node) is not None:
        return True
    if isinstance(node, ast.Tuple | ast.List | ast.Set):
        return all(_is_constant(element) for element in node.elts)
    if isinstance(node, ast.Dict):
        return all(k is not None and _is_constant(k) for k in node.keys) and all(
            _is_constant(v) for v in node.values
        )
    return False


def _statements(root: ast.AST) -> list[ast.stmt]:
    found: list[ast.stmt] = []
    for node in ast.walk(root):
        if node is root or not isinstance(node, ast.stmt):
            continue
        if isinstance(node, ast.Pass):
            continue
        if isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant):
            continue  # docstrings and `...`
        found.append(node)
    return found


def _nested(root: ast.AST) -> Iterator[ast.AST]:
    """Nodes of ``root`` without those inside nested functions (judged on their own)."""
    stack = list(ast.iter_child_nodes(root))
    while stack:
        node = stack.pop()
        yield node
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda):
            continue
        stack.extend(ast.iter_child_nodes(node))


_DUMPED: dict[int, tuple[ast.AST, str]] = {}


def _node_dump(node: ast.AST) -> str:
    """``ast.dump(node)``, remembered: every candidate of a file compares with the same
    original nodes. The entry keeps the node alive, so its id cannot be reused."""
    entry = _DUMPED.get(id(node))
    if entry is not None and entry[0] is node:
        return entry[1]
    if len(_DUMPED) > 8192:
        _DUMPED.clear()
    dumped = ast.dump(node)
    _DUMPED[id(node)] = (node, dumped)
    return dumped


@dataclass
class _Facts:
    """What the checks look at in a function (or module), found in one walk."""

    tests: list[ast.expr]
    returns: list[ast.Return]
    handlers: list[ast.ExceptHandler]
    compares: list[ast.Compare]
    statements: int
    literals: set[Literal]


_FACTS: dict[int, tuple[ast.AST, _Facts]] = {}


def _facts(root: ast.AST, *, remember: bool = False) -> _Facts:
    entry = _FACTS.get(id(root)) if remember else None
    if entry is not None and entry[0] is root:
        return entry[1]
    tests: list[ast.expr] = []
    returns: list[ast.Return] = []
    handlers: list[ast.ExceptHandler] = []
    compares: list[ast.Compare] = []
    for node in _nested(root):
        if isinstance(node, ast.If | ast.While | ast.IfExp | ast.Assert):
            tests.append(node.test)
        elif isinstance(node, ast.comprehension):
            tests.extend(node.ifs)
        if isinstance(node, ast.Return):
            returns.append(node)
        elif isinstance(node, ast.ExceptHandler):
            handlers.append(node)
        elif isinstance(node, ast.Compare):
            compares.append(node)
    found = _Facts(tests, returns, handlers, compares, len(_statements(root)), _literals_in([root]))
    if remember:
        if len(_FACTS) > 1024:
            _FACTS.clear()
        _FACTS[id(root)] = (root, found)
    return found


def _dumps(nodes: Iterable[ast.AST | None]) -> Counter[str]:
    return Counter(_node_dump(n) if n is not None else "None" for n in nodes)


def _added(old: Iterable[ast.AST], new: Iterable[ast.AST]) -> list[ast.AST]:
    remaining = _dumps(old)
    added: list[ast.AST] = []
    for node in new:
        key = _node_dump(node)
        if remaining[key] > 0:
            remaining[key] -= 1
        else:
            added.append(node)
    return added


def _handler_names(handler: ast.ExceptHandler) -> list[str]:
    if handler.type is None:
        return []
    types = handler.type.elts if isinstance(handler.type, ast.Tuple) else [handler.type]
    return [ast.unparse(t) for t in types]


def _does_nothing(handler: ast.ExceptHandler) -> bool:
    for statement in handler.body:
        if isinstance(statement, ast.Pass | ast.Continue):
            continue
        if isinstance(statement, ast.Expr) and isinstance(statement.value, ast.Constant):
            continue
        return False
    return True


def _argument_names(function: ast.AST) -> set[str]:
    arguments = getattr(function, "args", None)
    if not isinstance(arguments, ast.arguments):
        return set()
    every = [*arguments.posonlyargs, *arguments.args, *arguments.kwonlyargs]
    every += [a for a in (arguments.vararg, arguments.kwarg) if a is not None]
    return {a.arg for a in every} - {"self", "cls"}


def _guard_clause_returns(function: ast.AST) -> set[int]:
    """Ids of the constant returns that are guard clauses: an early ``return <constant>``
    under a condition that tests an input, in a function that still returns a computed
    value elsewhere. A guard clause is how a boundary fix looks, not a deleted computation."""
    inputs = _argument_names(function)
    returns = [n for n in _nested(function) if isinstance(n, ast.Return)]
    if not inputs or not any(r.value is not None and not _is_constant(r.value) for r in returns):
        return set()
    found: set[int] = set()
    for node in _nested(function):
        if not isinstance(node, ast.If):
            continue
        tested = {n.id for n in ast.walk(node.test) if isinstance(n, ast.Name)}
        if not tested & inputs:
            continue
        for branch in (node.body, node.orelse):
            if branch and isinstance(branch[-1], ast.Return) and _is_constant(branch[-1].value):
                found.add(id(branch[-1]))
    return found


def _check_pair(
    name: str, old: ast.AST, new: ast.AST, literals: frozenset[Literal], path: str
) -> list[Finding]:
    where = f"`{name}`" if name else "module level"
    line = getattr(new, "lineno", 0) if name else 0
    findings: list[Finding] = []

    def add(kind: str, reject: bool, detail: str, at: ast.AST | None = None) -> None:
        findings.append(Finding(kind, reject, detail, path, getattr(at, "lineno", line)))

    before, after = _facts(old, remember=True), _facts(new)  # the original: worked out once
    old_tests, new_tests = before.tests, after.tests
    lost_tests = [t for t in _added(new_tests, old_tests) if not _is_constant(t)]
    for test in _added(old_tests, new_tests):
        if _is_constant(test) and lost_tests:
            add(
                "condition-constant",
                True,
                f"a condition in {where} became `{ast.unparse(test)}`, deleting a branch",
                test,
            )
            break

    old_returns, new_returns = before.returns, after.returns
    lost_values = [
        r for r in _added(new_returns, old_returns) if isinstance(r, ast.Return) and r.value
    ]
    lost_values = [r for r in lost_values if not _is_constant(r.value)]
    guard_clauses = _guard_clause_returns(new)
    for returned in _added(old_returns, new_returns):
        assert isinstance(returned, ast.Return)
        if id(returned) in guard_clauses:
            continue  # `if not x: return False` keeps a computed return after it
        if returned.value is not None and _is_constant(returned.value) and lost_values:
            add(
                "returns-constant",
                True,
                f"{where} returns the constant `{ast.unparse(returned.value)}` where it "
                f"returned `{ast.unparse(lost_values[0].value or returned)}`",
                returned,
            )
            break

    for handler in _added(before.handlers, after.handlers):
        assert isinstance(handler, ast.ExceptHandler)
        if not _does_nothing(handler):
            continue
        names = _handler_names(handler)
        broad = not names or any(n.rsplit(".", 1)[-1] in BROAD for n in names)
        shown = "except:" if not names else f"except {', '.join(names)}:"
        add(
            "swallows-errors",
            broad,
            f"{where} gained `{shown}` that does nothing",
            handler,
        )

    old_constants = before.literals
    for compare in _added(before.compares, after.compares):
        assert isinstance(compare, ast.Compare)
        if not any(isinstance(op, EQUALITY) for op in compare.ops):
            continue
        operands = [compare.left, *compare.comparators]
        values: set[Literal] = set()
        for operand in operands:
            elements = operand.elts if isinstance(operand, ast.Tuple | ast.List | ast.Set) else []
            for node in [operand, *elements]:
                value = _literal(node)
                if value is not None:
                    values.add(value)
        special = sorted((values & literals) - old_constants - TRIVIAL_LITERALS)
        if special:
            add(
                "special-cases-test-input",
                True,
                f"{where} gained `{ast.unparse(compare)}`, comparing with "
                f"{special[0][1]} from the failing test",
                compare,
            )
            break

    removed = before.statements - after.statements
    if removed > 0:
        add(
            "removes-statements",
            False,
            f"{where} lost {removed} statement{'s' if removed != 1 else ''}",
        )
    return findings


def inspect_edit(
    old: str, new: str, *, path: str = "", literals: frozenset[Literal] = frozenset()
) -> Report:
    """Overfitting findings for one file edit (``old`` -> ``new``)."""
    findings: list[Finding] = []
    for name, before, after in changed_functions(old, new):
        findings.extend(_check_pair(name, before, after, literals, path))
    return Report(tuple(findings))


def inspect_candidate(
    edits: Iterable[tuple[str, str, str]], literals: frozenset[Literal] = frozenset()
) -> Report:
    """Findings for a whole candidate: ``edits`` are (path, old text, new text)."""
    findings: list[Finding] = []
    for path, old, new in edits:
        findings.extend(inspect_edit(old, new, path=path, literals=literals).findings)
    return Report(tuple(findings))
