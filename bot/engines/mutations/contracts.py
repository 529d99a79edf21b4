"""Exceptions and contracts: the raised type and message, and guards that raise what the
failing tests expect."""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator, Sequence

from bot.engines.mutations.tree import (
    Mutation,
    Offsets,
    Site,
    indent_of,
    is_docstring,
    line_start,
    segment,
    walk,
)

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
    first = body[1] if len(body) > 1 and is_docstring(body[0]) else body[0]
    indent = indent_of(site.text, offsets, first.lineno)
    position = line_start(offsets, first.lineno)
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
            left = segment(site.text, offsets, walked.left)
            right = segment(site.text, offsets, walked.comparators[0])
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


def expected_from_tests(
    test_sources: Sequence[str],
) -> tuple[tuple[str, ...], tuple[str, ...]]:
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
