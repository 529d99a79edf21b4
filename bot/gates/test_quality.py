"""Static checks for a test that mendbot (or a model) wrote.

A written test is accepted only when it is a real test: a test function pytest collects, with
an assertion that can fail, that exercises the code under test, and that cannot pass by being
skipped, marked as expected to fail, or by swallowing the exception that shows the bug.
Running it (it must fail before the fix) is a separate check; this one needs only ``ast``.
"""

from __future__ import annotations

import ast
from collections.abc import Collection, Iterable, Iterator
from dataclasses import dataclass
from pathlib import PurePosixPath

SKIP_MARKS = {"skip", "skipif", "xfail"}
SKIP_CALLS = {"skip", "xfail", "importorskip", "skipTest"}
BROAD_EXCEPTIONS = {"Exception", "BaseException"}
RAISES_HELPERS = {"raises", "warns", "deprecated_call", "approx"}


@dataclass(frozen=True)
class TestQuality:
    __test__ = False

    problems: tuple[str, ...]
    test_names: tuple[str, ...]

    @property
    def ok(self) -> bool:
        return not self.problems


def modules_of(paths: Iterable[str]) -> set[str]:
    """Importable module names (and their packages) for project-relative source paths."""
    names: set[str] = set()
    for path in paths:
        posix = PurePosixPath(path)
        if posix.suffix != ".py":
            continue
        parts = list(posix.with_suffix("").parts)
        if parts and parts[0] == "src":
            parts = parts[1:]
        if parts and parts[-1] == "__init__":
            parts = parts[:-1]
        for end in range(1, len(parts) + 1):
            names.add(".".join(parts[:end]))
    return names


def _dotted(node: ast.AST) -> str:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        inner = _dotted(node.value)
        return f"{inner}.{node.attr}" if inner else node.attr
    if isinstance(node, ast.Call):
        return _dotted(node.func)
    return ""


def _test_functions(tree: ast.Module) -> Iterator[ast.FunctionDef | ast.AsyncFunctionDef]:
    for node in tree.body:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and node.name.startswith(
            "test"
        ):
            yield node
        elif isinstance(node, ast.ClassDef) and node.name.startswith("Test"):
            for item in node.body:
                if isinstance(item, ast.FunctionDef | ast.AsyncFunctionDef) and (
                    item.name.startswith("test")
                ):
                    yield item


def _code_bindings(tree: ast.Module, modules: Collection[str]) -> set[str]:
    """Local names bound to the code under test by the test module's imports."""

    def ours(module: str) -> bool:
        return any(module == m or module.startswith(m + ".") for m in modules)

    bound: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            if ours(node.module):
                bound.update(alias.asname or alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level > 0:
            bound.update(alias.asname or alias.name for alias in node.names)
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if ours(alias.name):
                    bound.add(alias.asname or alias.name.split(".")[0])
    return bound


def _is_constant(node: ast.expr) -> bool:
    if isinstance(node, ast.Constant):
        return True
    if isinstance(node, ast.UnaryOp):
        return _is_constant(node.operand)
    if isinstance(node, ast.Tuple | ast.List | ast.Set):
        return all(_is_constant(element) for element in node.elts)
    if isinstance(node, ast.Compare):
        return _is_constant(node.left) and all(_is_constant(c) for c in node.comparators)
    if isinstance(node, ast.BoolOp):
        return all(_is_constant(value) for value in node.values)
    return False


def _assert_problem(node: ast.Assert, test: str) -> str | None:
    if _is_constant(node.test):
        return f"{test} asserts a constant ({ast.unparse(node.test)}), which cannot fail usefully"
    if isinstance(node.test, ast.Compare) and len(node.test.comparators) == 1:
        left, right = node.test.left, node.test.comparators[0]
        if ast.dump(left) == ast.dump(right):
            return f"{test} compares a value with itself ({ast.unparse(node.test)})"
    return None


def _has_assertion(function: ast.AST) -> bool:
    for node in ast.walk(function):
        if isinstance(node, ast.Assert):
            return True
        if isinstance(node, ast.Raise) and _dotted(node.exc or node).endswith("AssertionError"):
            return True
        if isinstance(node, ast.Call):
            name = _dotted(node.func)
            last = name.rsplit(".", 1)[-1]
            if last in ("raises", "warns", "deprecated_call", "fail") or last.startswith("assert"):
                return True
    return False


def _skip_problems(tree: ast.Module) -> list[str]:
    problems: list[str] = []
    for node in ast.walk(tree):
        decorators: list[ast.expr] = []
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            decorators = node.decorator_list
        for decorator in decorators:
            name = _dotted(decorator)
            last = name.rsplit(".", 1)[-1]
            if last in SKIP_MARKS or (name.startswith("unittest.") and "skip" in last.lower()):
                problems.append(f"{getattr(node, 'name', '?')} is marked {name}")
        if isinstance(node, ast.Call):
            name = _dotted(node.func)
            if name.rsplit(".", 1)[-1] in SKIP_CALLS and ("pytest" in name or "self" in name):
                problems.append(f"the test calls {name}() and can end without running")
        if isinstance(node, ast.Assign):
            for target in node.targets:
                if isinstance(target, ast.Name) and target.id == "pytestmark":
                    problems.append("the module sets pytestmark")
    return problems


def _swallowing_handlers(tree: ast.Module) -> list[str]:
    problems: list[str] = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.ExceptHandler):
            continue
        caught: list[str]
        if node.type is None:
            caught = ["(everything)"]
        elif isinstance(node.type, ast.Tuple):
            caught = [_dotted(e) for e in node.type.elts]
        else:
            caught = [_dotted(node.type)]
        broad = node.type is None or any(c in BROAD_EXCEPTIONS for c in caught)
        reraises = any(isinstance(inner, ast.Raise) for inner in ast.walk(node))
        if broad and not reraises:
            what = "except:" if node.type is None else f"except {ast.unparse(node.type)}:"
            problems.append(
                f"line {node.lineno}: `{what}` swallows every error, so the test cannot fail"
            )
    return problems


def check_test_source(
    source: str,
    *,
    code_modules: Collection[str] = (),
    code_names: Collection[str] = (),
    path: str = "<test>",
) -> TestQuality:
    """Problems with a written test; none means it is a real test of the code under test.

    ``code_modules`` are the importable modules of the code under test (see ``modules_of``);
    ``code_names`` are names it defines. Each test must use a name bound to that code.
    """
    try:
        tree = ast.parse(source, filename=path)
    except SyntaxError as error:
        return TestQuality((f"{path} does not parse: line {error.lineno}: {error.msg}",), ())
    tests = list(_test_functions(tree))
    problems: list[str] = []
    if not tests:
        problems.append(f"{path} has no test function (def test_...) pytest would collect")
    bound = _code_bindings(tree, code_modules)
    if code_names:
        bound |= {name for name in code_names if _imported_anywhere(tree, name)}
    if not bound:
        problems.append(f"{path} imports nothing from the code under test")
    for test in tests:
        body = [n for n in test.body if not _is_docstring(n)]
        if not body or all(isinstance(n, ast.Pass | ast.Expr) and _trivial(n) for n in body):
            problems.append(f"{test.name} has an empty body")
            continue
        if not _has_assertion(test):
            problems.append(f"{test.name} has no assert and no pytest.raises")
        for node in ast.walk(test):
            if isinstance(node, ast.Assert):
                problem = _assert_problem(node, test.name)
                if problem:
                    problems.append(problem)
        used = {n.id for n in ast.walk(test) if isinstance(n, ast.Name)}
        if bound and not used & bound:
            problems.append(f"{test.name} does not use the code under test")
    problems.extend(_skip_problems(tree))
    problems.extend(_swallowing_handlers(tree))
    return TestQuality(tuple(dict.fromkeys(problems)), tuple(t.name for t in tests))


def _imported_anywhere(tree: ast.Module, name: str) -> bool:
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and any(
            (alias.asname or alias.name) == name for alias in node.names
        ):
            return True
    return False


def _is_docstring(node: ast.stmt) -> bool:
    return isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant)


def _trivial(node: ast.stmt) -> bool:
    if isinstance(node, ast.Pass):
        return True
    return isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant)


def written_test_ids(path: str, source: str) -> tuple[str, ...]:
    """pytest node ids of the test functions in ``source`` (``path::name`` or with a class)."""
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return ()
    found: list[str] = []
    for node in tree.body:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and node.name.startswith(
            "test"
        ):
            found.append(f"{path}::{node.name}")
        elif isinstance(node, ast.ClassDef) and node.name.startswith("Test"):
            found.extend(
                f"{path}::{node.name}::{item.name}"
                for item in node.body
                if isinstance(item, ast.FunctionDef | ast.AsyncFunctionDef)
                and item.name.startswith("test")
            )
    return tuple(found)
