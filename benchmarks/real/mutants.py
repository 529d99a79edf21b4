"""Single-point mutants from cosmic-ray's operators, for `mendbot bench --suite real`.

Runs in the tools virtualenv (cosmic-ray installed), not in mendbot's. Reads a JSON request
on standard input::

    {"files": {"/abs/path.py": [covered line, ...]}, "seed": 1, "count": 40}

finds every position where one of the single-token operators below applies on a covered
line of a function's body, shuffles them with the seed, and prints up to ``count`` mutants
as JSON: path, operator, occurrence, line, the line before and after, and the whole mutated
source.
"""

from __future__ import annotations

import json
import random
import sys
from pathlib import Path

from cosmic_ray.ast import Visitor, get_ast
from cosmic_ray.mutating import mutate_code
from cosmic_ray.plugins import get_operator, operator_names

# one token changed: operators, comparisons, unary operators, booleans, numbers, break/continue
SINGLE_POINT = (
    "ReplaceBinaryOperator_",
    "ReplaceComparisonOperator_",
    "ReplaceUnaryOperator_",
    "AddNot",
    "ReplaceTrueWithFalse",
    "ReplaceFalseWithTrue",
    "ReplaceAndWithOr",
    "ReplaceOrWithAnd",
    "ReplaceBreakWithContinue",
    "ReplaceContinueWithBreak",
    "NumberReplacer",
)


class Positions(Visitor):
    """Where one operator applies: the first line of each occurrence, in visiting order, and
    whether it lies in a function's body (module-level code runs at import: a bug there breaks
    the import of every test, a failure of another kind than the one measured here)."""

    def __init__(self, operator: object) -> None:
        self.operator = operator
        self.lines: list[tuple[int, bool]] = []

    def visit(self, node):  # type: ignore[no-untyped-def]
        for start, _end in self.operator.mutation_positions(node):  # type: ignore[attr-defined]
            self.lines.append((start[0], _in_function(node)))
        return node


def _in_function(node: object) -> bool:
    parent = getattr(node, "parent", None)
    while parent is not None:
        if getattr(parent, "type", "") in ("funcdef", "lambdef"):
            return True
        parent = getattr(parent, "parent", None)
    return False


def operators() -> list[tuple[str, object]]:
    found = []
    for name in operator_names():
        short = name.split("/", 1)[1]
        if name.startswith("core/") and short.startswith(SINGLE_POINT):
            found.append((short, get_operator(name)()))
    return found


def _first_difference(source: str, mutated: str, line: int) -> tuple[int, str, str]:
    """The first line the mutant changed (a statement may span lines), before and after."""
    old_lines, new_lines = source.splitlines(), mutated.splitlines()
    for number, (old, new) in enumerate(zip(old_lines, new_lines, strict=False), 1):
        if old != new:
            return number, old.strip(), new.strip()
    return line, "", ""


def main() -> None:
    request = json.load(sys.stdin)
    points = []
    for path, covered in sorted(request["files"].items()):
        source = Path(path).read_text(encoding="utf-8")
        covered_lines = set(covered)
        for name, operator in operators():
            visitor = Positions(operator)
            visitor.walk(get_ast(source))
            for occurrence, (line, in_function) in enumerate(visitor.lines):
                if in_function and line in covered_lines:
                    points.append((path, name, occurrence, line))
    random.Random(request["seed"]).shuffle(points)
    named = dict(operators())
    mutants = []
    for path, name, occurrence, line in points:
        if len(mutants) >= request["count"]:
            break
        source = Path(path).read_text(encoding="utf-8")
        mutated = mutate_code(source, named[name], occurrence)
        if mutated is None or mutated == source:
            continue
        try:
            compile(mutated, path, "exec")
        except SyntaxError:
            continue
        line, before, after = _first_difference(source, mutated, line)
        mutants.append(
            {
                "path": path,
                "operator": name,
                "occurrence": occurrence,
                "line": line,
                "before": before.strip(),
                "after": after.strip(),
                "source": mutated,
            }
        )
    json.dump(mutants, sys.stdout)


if __name__ == "__main__":
    main()
