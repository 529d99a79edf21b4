"""Names and attributes: the wrong variable, the wrong attribute or method."""

from __future__ import annotations

import ast
import builtins
from collections.abc import Iterator

from bot.engines.mutations.tree import (
    Mutation,
    Offsets,
    Site,
    enclosing_class,
    enclosing_functions,
    expressions,
    module_names,
    scope_names,
    walk,
)

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


def identifier_replacement(site: Site, offsets: Offsets) -> Iterator[Mutation]:
    local = scope_names(site.function, site.tree)
    module_level = module_names(site.tree)
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


def _self_attributes(site: Site) -> list[str]:
    """Attributes the enclosing class sets on ``self``."""
    cls = enclosing_class(site.tree, site.function)
    if cls is None:
        return []
    found: list[str] = []
    for node in walk(cls):
        if (
            isinstance(node, ast.Attribute)
            and isinstance(node.ctx, ast.Store)
            and isinstance(node.value, ast.Name)
            and node.value.id == "self"
        ):
            found.append(node.attr)
    return list(dict.fromkeys(found))


def outer_names(site: Site, offsets: Offsets) -> Iterator[Mutation]:
    """A name replaced by one of an enclosing function (a closure's variables and parameters),
    or by the attribute of ``self`` it shadows (`limit` -> `self.limit`)."""
    local = scope_names(site.function, site.tree)
    outer: list[str] = []
    for function in enclosing_functions(site.tree, site.function):
        outer += [n for n in scope_names(function, site.tree) if n not in local]
    outer = list(dict.fromkeys(outer))
    attributes = _self_attributes(site)
    for node in expressions(site.statement):
        if not isinstance(node, ast.Name) or not isinstance(node.ctx, ast.Load):
            continue
        start, end = offsets.span(node)
        for name in [n for n in outer if n != node.id][:6]:
            yield Mutation(
                start,
                end,
                name,
                "enclosing-name",
                f"`{node.id}` -> `{name}`",
                "the code used the wrong variable of the enclosing function",
            )
        if node.id in attributes:
            yield Mutation(
                start,
                end,
                f"self.{node.id}",
                "self-attribute",
                f"`{node.id}` -> `self.{node.id}`",
                "the code used a local where the object's own value was meant",
            )
