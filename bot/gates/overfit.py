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
* ``uses-mocked-name`` (reject): a name the function did not use is brought in where another
  was, and the tests patch or mock that name (``mock.patch("m.Popen")``,
  ``monkeypatch.setattr(m, "Popen", ...)``): the tests pass because the mock answers, not
  the code.
* ``increment-to-zero`` (reject): an augmented assignment (``count += 1``) now adds or
  subtracts zero: the update is deleted while looking like an edit.
* ``duplicated-operand`` (reject): a binary operation on two different computed operands now
  has the same operand twice (``w - h`` -> ``h + h``); ``s * 2`` -> ``s * s`` is not this.
* ``arithmetic-identity`` (reject): an operation that does nothing was introduced (``* 1``,
  ``+ 0``, ``- 0``, ``/ 1``, ``// 1``, ``** 1``): the computation it replaces is deleted.
* ``widened-literal`` (reject): in a containment check (``in``, ``startswith``, ``endswith``,
  ``find``...) a string literal became a shorter part of itself, so the check accepts far more.
* ``inverted-check`` (flag): a containment check against a string literal was turned into
  its negation, so the rule now refuses the very text it was written for. A condition of the
  wrong polarity is a real bug often enough that this is flagged (ranked lower, named in the
  report), not rejected.
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

from bot.analysis.source import changed_statements, common_ends, parse

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
    new_lines = new.splitlines()
    start, end = common_ends(old.splitlines(), new_lines)
    return start + 1, max(start + 1, len(new_lines) - end)


def changed_functions(old: str, new: str) -> list[tuple[str, ast.AST, ast.AST]]:
    """(qualified name, old node, new node) of the functions an edit touches.

    Touched module-level code is returned under the name ``""`` (old and new module trees).
    """
    return list(_changed_functions(old, new))


@lru_cache(maxsize=64)  # the refusal check and the probe plan both ask, per candidate
def _changed_functions(old: str, new: str) -> tuple[tuple[str, ast.AST, ast.AST], ...]:
    return tuple(_find_changed_functions(old, new))


def _find_changed_functions(old: str, new: str) -> list[tuple[str, ast.AST, ast.AST]]:
    old_tree = _parse(old)
    if old_tree is None or old == new:
        return []
    # the changed top-level statements hold every function the edit touches (their line
    # numbers are the file's): a module of thousands of lines is not parsed per candidate
    part = changed_statements(old, new)
    changed_tree = _parse(part[1]) if part is not None else None
    new_tree = changed_tree if changed_tree is not None else _parse(new)
    if new_tree is None:
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
        whole = _parse(new)
        if whole is None:
            return []
        pairs.append(("", old_tree, whole))
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
    name: str,
    old: ast.AST,
    new: ast.AST,
    literals: frozenset[Literal],
    path: str,
    mocked: frozenset[str] = frozenset(),
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

    for kind, detail, at in _shapes(old, new, mocked):
        add(kind, kind not in FLAGGED_SHAPES, f"{where}: {detail}", at)

    removed = before.statements - after.statements
    if removed > 0:
        add(
            "removes-statements",
            False,
            f"{where} lost {removed} statement{'s' if removed != 1 else ''}",
        )
    return findings


def inspect_edit(
    old: str,
    new: str,
    *,
    path: str = "",
    literals: frozenset[Literal] = frozenset(),
    mocked: frozenset[str] = frozenset(),
) -> Report:
    """Overfitting findings for one file edit (``old`` -> ``new``)."""
    findings: list[Finding] = []
    for name, before, after in changed_functions(old, new):
        findings.extend(_check_pair(name, before, after, literals, path, mocked))
    return Report(tuple(findings))


def inspect_candidate(
    edits: Iterable[tuple[str, str, str]],
    literals: frozenset[Literal] = frozenset(),
    mocked: frozenset[str] = frozenset(),
) -> Report:
    """Findings for a whole candidate: ``edits`` are (path, old text, new text); ``mocked``:
    the names the tests patch or mock (``mocked_names``)."""
    findings: list[Finding] = []
    for path, old, new in edits:
        found = inspect_edit(old, new, path=path, literals=literals, mocked=mocked)
        findings.extend(found.findings)
    return Report(tuple(findings))


# ---------------------------------------------------------------- shapes of nonsense patches

FLAGGED_SHAPES = {"inverted-check"}
MOCKERS = {"patch", "setattr", "object", "MagicMock", "Mock", "create_autospec"}
IDENTITY = {ast.Mult: 1, ast.Div: 1, ast.FloorDiv: 1, ast.Pow: 1, ast.Add: 0, ast.Sub: 0}
CONTAINMENT_METHODS = {"startswith", "endswith", "find", "rfind", "index", "count", "search"}


def mocked_names(test_sources: Mapping[str, str]) -> frozenset[str]:
    """Names the tests patch or mock: the last part of ``patch("pkg.mod.Name")`` targets,
    the attribute of ``patch.object(x, "name")`` and ``monkeypatch.setattr(x, "name", v)``
    (or ``setattr("pkg.mod.name", v)``)."""
    found: set[str] = set()
    for text in test_sources.values():
        tree = _parse(text)
        if tree is None:
            continue
        for node in ast.walk(tree):
            if not isinstance(node, ast.Call):
                continue
            function = node.func
            called = (
                function.attr
                if isinstance(function, ast.Attribute)
                else getattr(function, "id", "")
            )
            if called not in MOCKERS:
                continue
            strings = [
                a.value
                for a in node.args[:2]
                if isinstance(a, ast.Constant) and isinstance(a.value, str)
            ]
            found.update(
                s.rsplit(".", 1)[-1]
                for s in strings
                if s.replace(".", "").replace("_", "").isalnum()
            )
    return frozenset(found)


def _names(root: ast.AST) -> set[str]:
    found: set[str] = set()
    for node in _nested(root):
        if isinstance(node, ast.Name):
            found.add(node.id)
        elif isinstance(node, ast.Attribute):
            found.add(node.attr)
    return found


def _zero(node: ast.AST) -> bool:
    return isinstance(node, ast.Constant) and node.value == 0 and not isinstance(node.value, bool)


def _is_identity(node: ast.BinOp) -> bool:
    neutral = IDENTITY.get(type(node.op))
    if neutral is None:
        return False
    right = node.right
    if (
        isinstance(right, ast.Constant)
        and right.value == neutral
        and not isinstance(right.value, bool)
    ):
        return True
    left = node.left  # 1 * x, 0 + x
    return (
        isinstance(node.op, ast.Mult | ast.Add)
        and isinstance(left, ast.Constant)
        and left.value == neutral
        and not isinstance(left.value, bool)
    )


def _containment_literals(root: ast.AST) -> list[tuple[ast.AST, str, bool]]:
    """(node, string literal, negated) for every containment check against a literal."""
    found: list[tuple[ast.AST, str, bool]] = []
    for node in _nested(root):
        if isinstance(node, ast.Compare) and len(node.ops) == 1:
            op = node.ops[0]
            left = node.left
            if (
                isinstance(op, ast.In | ast.NotIn)
                and isinstance(left, ast.Constant)
                and isinstance(left.value, str)
            ):
                found.append((node, left.value, isinstance(op, ast.NotIn)))
        elif (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr in CONTAINMENT_METHODS
            and node.args
            and isinstance(node.args[0], ast.Constant)
            and isinstance(node.args[0].value, str)
        ):
            found.append((node, node.args[0].value, False))
    negated = {
        id(node.operand)
        for node in _nested(root)
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Not)
    }
    return [(n, text, flip != (id(n) in negated)) for n, text, flip in found]


def _shapes(
    old: ast.AST, new: ast.AST, mocked: frozenset[str]
) -> Iterator[tuple[str, str, ast.AST]]:
    """(kind, detail, node) for each nonsense shape the change from ``old`` to ``new`` has."""
    old_names, new_names = _names(old), _names(new)
    brought = (new_names - old_names) & mocked
    if brought and old_names - new_names:
        shown = sorted(brought)[0]
        node = next(
            (n for n in _nested(new) if getattr(n, "id", getattr(n, "attr", None)) == shown), new
        )
        yield "uses-mocked-name", f"brings in `{shown}`, which the tests patch or mock", node
    old_augmented = [n for n in _nested(old) if isinstance(n, ast.AugAssign)]
    for node in _added(old_augmented, [n for n in _nested(new) if isinstance(n, ast.AugAssign)]):
        assert isinstance(node, ast.AugAssign)
        zeroed = isinstance(node.op, ast.Add | ast.Sub) and _zero(node.value)
        if zeroed and not any(_zero(o.value) for o in old_augmented):
            yield "increment-to-zero", f"`{ast.unparse(node)}` changes nothing", node
    old_operations = [n for n in _nested(old) if isinstance(n, ast.BinOp)]
    new_operations = [n for n in _nested(new) if isinstance(n, ast.BinOp)]
    lost = _added(new_operations, old_operations)
    for node in _added(old_operations, new_operations):
        assert isinstance(node, ast.BinOp)
        if _is_identity(node) and not any(
            isinstance(o, ast.BinOp) and _is_identity(o) for o in old_operations
        ):
            yield "arithmetic-identity", f"`{ast.unparse(node)}` does nothing", node
        if (
            _node_dump(node.left) == _node_dump(node.right)
            and not _is_constant(node.left)
            and any(
                isinstance(o, ast.BinOp)
                and not _is_constant(o.left)
                and not _is_constant(o.right)
                and _node_dump(o.left) != _node_dump(o.right)
                for o in lost
            )
        ):
            yield "duplicated-operand", f"`{ast.unparse(node)}` uses one operand twice", node
    before = _containment_literals(old)
    after = _containment_literals(new)
    old_texts = {text for _, text, _ in before}
    for node, text, negated in after:
        if text in old_texts:
            if any(t == text and n != negated for _, t, n in before) and not any(
                t == text and n == negated for _, t, n in before
            ):
                yield (
                    "inverted-check",
                    f"`{ast.unparse(node)}` refuses the text it checks for",
                    node,
                )
            continue
        longer = [t for t in old_texts if text and text in t and len(text) < len(t)]
        if longer:
            yield (
                "widened-literal",
                f"checks for {text!r} where it checked for {longer[0]!r}",
                node,
            )
