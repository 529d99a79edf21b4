"""Calls: swapped arguments, conversions added or removed, safe dictionary access, another method
of the same object with a compatible signature, and an argument added, removed or toggled."""

from __future__ import annotations

import ast
from collections.abc import Iterator

from bot.engines.mutations.tree import (
    Mutation,
    Offsets,
    Site,
    enclosing_class,
    expressions,
    scope_names,
    segment,
    walk,
)

WRAPPERS = (
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
)


UNWRAPPABLE = {*WRAPPERS, "reversed", "min", "max", "sum"}


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
                inner = segment(site.text, offsets, node.args[0])
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


def dict_get(site: Site, offsets: Offsets) -> Iterator[Mutation]:
    for node in expressions(site.statement):
        if not (isinstance(node, ast.Subscript) and isinstance(node.ctx, ast.Load)):
            continue
        if isinstance(node.slice, ast.Slice):
            continue
        start, end = offsets.span(node)
        container = segment(site.text, offsets, node.value)
        key = segment(site.text, offsets, node.slice)
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


def _signature(function: ast.FunctionDef | ast.AsyncFunctionDef) -> tuple[int, int]:
    """(required, accepted) positional arguments, not counting ``self``/``cls``."""
    positional = [*function.args.posonlyargs, *function.args.args]
    if positional and positional[0].arg in ("self", "cls"):
        positional = positional[1:]
    return len(positional) - len(function.args.defaults), len(positional)


def _definitions(site: Site, call: ast.Call) -> list[ast.FunctionDef | ast.AsyncFunctionDef]:
    """The module's definitions a call may reach: a module function by name, or a method of
    the enclosing class called on ``self``."""
    if isinstance(call.func, ast.Name):
        return [
            node
            for node in site.tree.body
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
            and node.name == call.func.id
        ]
    if (
        isinstance(call.func, ast.Attribute)
        and isinstance(call.func.value, ast.Name)
        and call.func.value.id == "self"
    ):
        cls = enclosing_class(site.tree, site.function)
        if cls is not None:
            return [
                node
                for node in cls.body
                if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
                and node.name == call.func.attr
            ]
    return []


def sibling_method(site: Site, offsets: Offsets) -> Iterator[Mutation]:
    """`self.first(x)` -> `self.last(x)`: another method of the class that accepts the same
    arguments."""
    cls = enclosing_class(site.tree, site.function)
    if cls is None:
        return
    methods = [
        node
        for node in cls.body
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
        and not node.name.startswith("__")
        and node is not site.function
    ]
    for node in expressions(site.statement):
        if not (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and isinstance(node.func.value, ast.Name)
            and node.func.value.id == "self"
        ):
            continue
        count = len(node.args)
        start = offsets.span(node.func.value)[1]
        end = offsets.span(node.func)[1]
        dot = site.text.find(node.func.attr, start, end)
        if dot < 0:
            continue
        for method in methods:
            required, accepted = _signature(method)
            if method.name == node.func.attr or not required <= count <= accepted:
                continue
            yield Mutation(
                dot,
                dot + len(node.func.attr),
                method.name,
                "sibling-method",
                f"`self.{node.func.attr}(...)` -> `self.{method.name}(...)`",
                "the code called the wrong method of the object",
            )


def call_arguments(site: Site, offsets: Offsets) -> Iterator[Mutation]:
    """An argument removed, an argument the callee accepts added from the names in scope (the
    parameter's own name first), a boolean keyword toggled."""
    local = scope_names(site.function, site.tree)
    for node in expressions(site.statement):
        if not isinstance(node, ast.Call) or any(isinstance(a, ast.Starred) for a in node.args):
            continue
        call_start, call_end = offsets.span(node)
        call_source = site.text[call_start:call_end]
        arguments = [*node.args, *(k for k in node.keywords if k.arg is not None)]
        texts = [segment(site.text, offsets, a) for a in arguments]
        head = site.text[call_start : offsets.span(node.func)[1]]
        for index in range(len(arguments)):
            kept = [text for i, text in enumerate(texts) if i != index]
            new = f"{head}({', '.join(kept)})"
            yield Mutation(
                call_start,
                call_end,
                new,
                "call-argument",
                f"`{call_source}` -> `{new}` (argument `{texts[index]}` removed)",
                "the call passed an argument it must not",
                size=2,
            )
        for definition in _definitions(site, node):
            positional = [*definition.args.posonlyargs, *definition.args.args]
            if positional and positional[0].arg in ("self", "cls"):
                positional = positional[1:]
            passed = {k.arg for k in node.keywords}
            missing = [a.arg for a in positional[len(node.args) :] + definition.args.kwonlyargs]
            for index, name in enumerate(missing):
                if name in passed or name not in local:
                    continue
                # the next positional parameter is passed by position, any other by keyword
                argument = name if index == 0 and not node.keywords else f"{name}={name}"
                new = f"{head}({', '.join([*texts, argument])})"
                yield Mutation(
                    call_start,
                    call_end,
                    new,
                    "call-argument",
                    f"`{call_source}` -> `{new}`",
                    "the call did not pass a value the callee takes",
                    size=2,
                )
            defaults = dict(
                zip(
                    [a.arg for a in positional][len(positional) - len(definition.args.defaults) :],
                    definition.args.defaults,
                    strict=True,
                )
            )
            defaults.update(
                (a.arg, d)
                for a, d in zip(
                    definition.args.kwonlyargs, definition.args.kw_defaults, strict=True
                )
                if d is not None
            )
            for name, default in defaults.items():
                if name in passed or not (
                    isinstance(default, ast.Constant) and isinstance(default.value, bool)
                ):
                    continue
                new = f"{head}({', '.join([*texts, f'{name}={not default.value}'])})"
                yield Mutation(
                    call_start,
                    call_end,
                    new,
                    "call-argument",
                    f"`{call_source}` -> `{new}`",
                    "the call needed the other setting of a flag",
                    size=2,
                )
