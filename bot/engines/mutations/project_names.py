"""Names from the module's imports and constants from the project's modules: a function
called where its sibling from the same import was meant (`quote(x)` -> `unquote(x)` after
`from .text import quote, unquote`), and a literal written where a constant of the project
was meant (`timeout=30` -> `DEFAULT_TIMEOUT`, or `settings.DEFAULT_TIMEOUT`)."""

from __future__ import annotations

import ast
from collections.abc import Iterator

from bot.engines.mutations.tree import (
    CONSTANT_NAME,
    Mutation,
    Offsets,
    Site,
    expressions,
    module_constants,
    read_defaults,
    walk,
)

MOST_OPTIONS = 6
TYPING_MODULES = {"__future__", "typing", "typing_extensions", "collections.abc"}


def imported_name(site: Site, offsets: Offsets) -> Iterator[Mutation]:
    """A name the module imports replaced by another name imported from the same module."""
    siblings = _imported_together(site.tree)
    for node in expressions(site.statement):
        if not isinstance(node, ast.Name) or not isinstance(node.ctx, ast.Load):
            continue
        start, end = offsets.span(node)
        for name in [n for n in siblings.get(node.id, []) if n != node.id][:MOST_OPTIONS]:
            yield Mutation(
                start,
                end,
                name,
                "imported-name",
                f"`{node.id}` -> `{name}`",
                "the code used the wrong one of the names it imports from the same module",
            )


def project_constant(site: Site, offsets: Offsets) -> Iterator[Mutation]:
    """A literal number or string replaced by a constant of the module or of a project module
    it imports (by name, or through the module: `settings.PAGE_SIZE`)."""
    if _defines_a_constant(site):
        return
    usable = _usable_constants(site)
    if not usable:
        return
    for node in [*expressions(site.statement), *read_defaults(site)]:
        if not _replaceable(node):
            continue
        assert isinstance(node, ast.Constant)
        start, end = offsets.span(node)
        source = site.text[start:end]
        options = [
            spelling
            for spelling, value in usable
            if _same_kind(value, node.value) and value != node.value
        ]
        for spelling in list(dict.fromkeys(options))[:MOST_OPTIONS]:
            yield Mutation(
                start,
                end,
                spelling,
                "project-constant",
                f"`{source}` -> `{spelling}`",
                "a literal was written where the project's constant was meant",
            )


def _imported_together(tree: ast.Module) -> dict[str, list[str]]:
    """For each name bound by a `from m import ...`, every name bound from the same ``m``
    (not the names of typing, whose swaps change annotations only)."""
    by_module: dict[tuple[int, str], list[str]] = {}
    for node in walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module not in TYPING_MODULES:
            names = by_module.setdefault((node.level, node.module or ""), [])
            names += [a.asname or a.name for a in node.names if a.name != "*"]
    together: dict[str, list[str]] = {}
    for names in by_module.values():
        for name in names:
            together[name] = list(dict.fromkeys([*together.get(name, []), *names]))
    return together


def _usable_constants(site: Site) -> list[tuple[str, object]]:
    """(spelling, value) of the constants this module can name: its own, those it imports by
    name from a project module, and those of project modules it imports as a whole."""
    usable = list(module_constants(site.tree))
    by_module: dict[str, list[tuple[str, object]]] = {}
    for module, name, value in site.project_constants:
        by_module.setdefault(module, []).append((name, value))
    known = {name: value for values in by_module.values() for name, value in values}
    for node in walk(site.tree):
        if isinstance(node, ast.ImportFrom):
            for alias in node.names:
                if alias.name in known and CONSTANT_NAME.match(alias.name):
                    usable.append((alias.asname or alias.name, known[alias.name]))
                elif alias.name in by_module:  # `from package import settings`
                    bound = alias.asname or alias.name
                    usable += [(f"{bound}.{n}", v) for n, v in by_module[alias.name]]
        elif isinstance(node, ast.Import):
            for alias in node.names:
                last = alias.name.rsplit(".", 1)[-1]
                if last in by_module:
                    bound = alias.asname or alias.name
                    usable += [(f"{bound}.{n}", v) for n, v in by_module[last]]
    return usable


def _defines_a_constant(site: Site) -> bool:
    statement = site.statement
    if site.function is not None:
        return False
    if isinstance(statement, ast.Assign):
        targets = statement.targets
    elif isinstance(statement, ast.AnnAssign):
        targets = [statement.target]
    else:
        return False
    return any(isinstance(t, ast.Name) and CONSTANT_NAME.match(t.id) for t in targets)


def _replaceable(node: ast.AST) -> bool:
    return (
        isinstance(node, ast.Constant)
        and isinstance(node.value, int | float | str)
        and not isinstance(node.value, bool)
    )


def _same_kind(value: object, literal: object) -> bool:
    if isinstance(literal, str):
        return isinstance(value, str)
    return isinstance(value, int | float) and not isinstance(value, str)
