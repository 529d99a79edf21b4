"""Conditions and guards: boolean operators, negated, widened and narrowed conditions, clauses
carried over from sibling conditions, and early exits for None, empty or invalid values."""

from __future__ import annotations

import ast
import builtins
import re
from collections.abc import Iterator

from bot.engines.mutations.tree import (
    Mutation,
    Offsets,
    Site,
    default_returns,
    dump,
    expressions,
    find_token,
    guard,
    in_loop,
    indent_of,
    line_start,
    module_names,
    scope_names,
    segment,
    source_segment,
    walk,
)


def boolean_operator(site: Site, offsets: Offsets) -> Iterator[Mutation]:
    for node in expressions(site.statement):
        if not isinstance(node, ast.BoolOp):
            continue
        current = "and" if isinstance(node.op, ast.And) else "or"
        new = "or" if current == "and" else "and"
        spans = []
        for left, right in zip(node.values, node.values[1:], strict=False):
            span = find_token(
                site.text,
                offsets.span(left)[1],
                offsets.span(right)[0],
                current,
                word=True,
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
            kept = f" {current} ".join(segment(site.text, offsets, v) for v in rest)
            if len(rest) == 1 and isinstance(rest[0], ast.BoolOp):
                kept = f"({kept})"
            dropped = segment(site.text, offsets, value)
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
            inner = segment(site.text, offsets, test.operand)
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
                other = segment(site.text, offsets, node.test)
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
        parts = [segment(site.text, offsets, value) for value in node.test.values]
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


def none_guard(site: Site, offsets: Offsets) -> Iterator[Mutation]:
    if site.function is None or isinstance(site.statement, ast.FunctionDef | ast.AsyncFunctionDef):
        return
    subjects: list[str] = []
    for node in expressions(site.statement):
        if isinstance(node, ast.Attribute | ast.Subscript) and isinstance(
            node.value, ast.Name | ast.Attribute
        ):
            subjects.append(segment(site.text, offsets, node.value))
        if isinstance(node, ast.Call):
            subjects += [
                segment(site.text, offsets, a) for a in node.args if isinstance(a, ast.Name)
            ]
        if isinstance(node, ast.For):
            subjects.append(segment(site.text, offsets, node.iter))
    if isinstance(site.statement, ast.For | ast.AsyncFor):
        subjects.append(segment(site.text, offsets, site.statement.iter))
    exits = ["continue"] if in_loop(site) else []
    exits += [f"return {value}" for value in default_returns(site.function)]
    for subject in list(dict.fromkeys(subjects))[:4]:
        if subject in ("self", "cls"):
            continue
        for exit_statement in exits:
            yield guard(
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
            divisor = segment(site.text, offsets, node.right)
            conditions.append(
                f"{divisor} == 0" if not isinstance(node.right, ast.Call) else f"not {divisor}"
            )
            if (
                isinstance(node.right, ast.Call)
                and isinstance(node.right.func, ast.Name)
                and node.right.func.id == "len"
                and node.right.args
            ):
                conditions.append(f"not {segment(site.text, offsets, node.right.args[0])}")
        if isinstance(node, ast.Subscript) and isinstance(node.value, ast.Name):
            conditions.append(f"not {node.value.id}")
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Name)
            and node.func.id in ("max", "min", "next")
            and node.args
        ):
            conditions.append(f"not {segment(site.text, offsets, node.args[0])}")
    exits = ["continue"] if in_loop(site) else []
    exits += [f"return {value}" for value in default_returns(site.function)]
    for condition in list(dict.fromkeys(conditions))[:4]:
        for exit_statement in exits:
            yield guard(
                site,
                offsets,
                condition,
                exit_statement,
                "empty-guard",
                f"the code did not handle the empty or zero case (`{condition}`)",
            )


def copied_guard(site: Site, offsets: Offsets) -> Iterator[Mutation]:
    """Insert a validation block (`if ...: raise ...`) that sibling code of the module applies,
    before the statement, when every name it needs is bound there."""
    statement = site.statement
    if site.function is None or isinstance(
        statement, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef
    ):
        return
    bound = set(scope_names(site.function, site.tree)) | set(module_names(site.tree))
    bound |= {"self", "cls"} | set(dir(builtins))
    existing = {dump(n) for n in walk(site.function) if isinstance(n, ast.If)}
    indent = indent_of(site.text, offsets, statement.lineno)
    position = line_start(offsets, statement.lineno)
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
