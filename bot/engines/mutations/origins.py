"""Where a value a suspicious line reads was set: the literal it got elsewhere in the project.

A flag or a number is often set far from where it goes wrong: an option read from a settings
object with a default (`self.many = getattr(meta, "many", False)`), an attribute set in a
constructor that runs when a module is imported, a field's default. Neither the traceback nor
the per-test coverage points there, because the assignment ran before the test did. The
statements that set an attribute or a keyword of the same name to an expression holding a
literal are added as sites of their own, where only the literal may change.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Mapping

from bot.analysis.source import parse
from bot.engines.mutations.tree import Mutation, header_nodes, statement_at, walk
from bot.models import Location

# the templates that change a literal and nothing else
ORIGIN_TEMPLATES = frozenset(
    {"boolean-flip", "constant", "off-by-one", "unary-negation", "unary-operator"}
)
# an origin ranks just below the line that reads the value: it makes a few candidates at most
ORIGIN_WEIGHT = 0.9
READING_SITES = 4  # the most suspicious lines whose values are traced
MOST_ORIGINS = 8


def changes_a_literal(text: str, mutation: Mutation) -> bool:
    """Whether ``mutation`` changes a literal value and nothing else: a number or a flag
    replaced, or the sign of a number. Strings are left alone: where options are read, most
    are the options' names (`getattr(meta, "many", False)`)."""
    if mutation.template not in ORIGIN_TEMPLATES:
        return False
    if mutation.template.startswith("unary-"):
        return True
    try:
        value = ast.literal_eval(text[mutation.start : mutation.end])
    except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
        return False
    return isinstance(value, bool | int | float)


def value_origins(
    sources: Mapping[str, str], sites: list[tuple[Location, float]]
) -> list[tuple[Location, float]]:
    """Sites for the statements that set, with a literal, a name the top sites read; each
    ranked after the best site that reads it. A project's files are each parsed once, and only
    those whose text sets one of the names."""
    best: dict[str, float] = {}
    for location, score in sites[:READING_SITES]:
        for name in _names_read(sources.get(location.file, ""), location.line):
            best[name] = max(best.get(name, 0.0), score)
    if not best:
        return []
    setting = re.compile(
        r"\b(?:" + "|".join(map(re.escape, sorted(best))) + r")\s*(?::[^=\n]*)?=(?!=)"
    )
    known = {(location.file, location.line) for location, _ in sites}
    found: list[tuple[Location, float]] = []
    for path, text in sources.items():
        if not setting.search(text):
            continue
        tree = parse(text)
        if tree is None:
            continue
        for line, name in _setting_lines(tree, set(best)):
            if (path, line) not in known:
                known.add((path, line))
                origin = Location(path, line, "", best[name] * ORIGIN_WEIGHT, "value-origin")
                found.append((origin, origin.score))
    found.sort(key=lambda item: -item[1])
    return found[:MOST_ORIGINS]


def _names_read(text: str, line: int) -> set[str]:
    """Attribute names, names and keyword names the statement on ``line`` reads."""
    tree = parse(text)
    if tree is None:
        return set()
    statement, _ = statement_at(tree, line)
    if statement is None:
        return set()
    names: set[str] = set()
    for root in header_nodes(statement):
        for node in walk(root):
            if isinstance(node, ast.Attribute) and isinstance(node.ctx, ast.Load):
                names.add(node.attr)
            elif isinstance(node, ast.Name) and isinstance(node.ctx, ast.Load):
                names.add(node.id)
            elif isinstance(node, ast.keyword) and node.arg is not None:
                names.add(node.arg)
    return names - {"self", "cls"}


def _setting_lines(tree: ast.Module, names: set[str]) -> list[tuple[int, str]]:
    """(line, name) of the statements that set an attribute named in ``names`` (`obj.name =
    ...`), or a class field of that name (`name: bool = True`), to an expression that holds a
    literal. The module is walked without the shared cache: it may be any file of the project."""
    fields = {
        id(statement)
        for node in ast.walk(tree)
        if isinstance(node, ast.ClassDef)
        for statement in node.body
    }
    lines: list[tuple[int, str]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Assign):
            targets, value = node.targets, node.value
        elif isinstance(node, ast.AnnAssign) and node.value is not None:
            targets, value = [node.target], node.value
        else:
            continue
        if not _holds_literal(value):
            continue
        for target in targets:
            name = _set_name(target, id(node) in fields)
            if name in names:
                lines.append((node.lineno, name))
                break
    return lines


def _set_name(target: ast.expr, in_class_body: bool) -> str:
    if isinstance(target, ast.Attribute):
        return target.attr
    if in_class_body and isinstance(target, ast.Name):
        return target.id
    return ""


def _holds_literal(value: ast.expr) -> bool:
    return any(
        isinstance(node, ast.Constant) and isinstance(node.value, bool | int | float | str)
        for node in ast.walk(value)
    )
