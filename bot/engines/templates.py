"""The LLM-free template engine: deterministic fix templates at the most suspicious lines.

Single edits come first, ordered by location suspiciousness times the template's prior for the
failure class (times what the repository's earlier runs taught of it, ``learned``, and times
how much more ordinary the edit leaves its line, ``bot.analysis.naturalness``), smaller edits
first among equals. When no single edit works, pairs of edits within one file are tried,
built from the singles that got closest (fixed some target test).
"""

from __future__ import annotations

import ast
import itertools
import re
import time
from collections.abc import Iterator, Mapping
from pathlib import PurePosixPath

from bot.analysis.naturalness import (
    TokenModel,
    change_in_naturalness,
    line_starts,
    naturalness_factor,
    project_model,
)
from bot.analysis.source import parse, parses_after
from bot.engines.base import RepairContext
from bot.engines.mutations import (
    BASE_CASE_TEMPLATES,
    Mutation,
    Site,
    base_case_lines,
    changes_a_literal,
    expected_from_tests,
    import_repairs,
    module_constants,
    mutations_at,
    prior,
    statement_at,
    syntax_repairs,
    value_origins,
)
from bot.engines.mutations.learned import TEMPLATE_ENGINE
from bot.models import Candidate, FailureClass, FileEdit, Location

TOP_LOCATIONS = 14
_NUMBER = re.compile(r"(?<![\w.])-?\d+(?![\w.])")
_ASSIGNED_CONSTANT = re.compile(r"^_?[A-Z][A-Z0-9_]*\s*(?::[^=\n]*)?=(?!=)", re.MULTILINE)


def _numbers_one_apart(text: str) -> bool:
    """Whether a failure report shows two integers that differ by exactly one."""
    lines = [
        line for line in text.splitlines() if line.lstrip().startswith(("E ", "assert", "Assert"))
    ]
    numbers = {int(n) for line in lines[:20] for n in _NUMBER.findall(line) if len(n) < 12}
    return any(n + 1 in numbers for n in numbers)


def edit_weight(
    failure_class: FailureClass,
    mutation: Mutation,
    model: TokenModel,
    text: str,
    starts: list[int],
) -> float:
    """What a single edit is worth wherever it is: its template's prior for the failure
    class, times how much more ordinary it leaves its line (``starts``: the line starts of
    ``text``)."""
    change = change_in_naturalness(
        model, text, mutation.start, mutation.end, mutation.replacement, starts
    )
    return prior(failure_class, mutation.template) * naturalness_factor(change)


PAIR_POOL = 24
BASE_CASE_WEIGHT = 1.2  # above every prior: a base-case condition's flip is tried first


def _project_constants(sources: Mapping[str, str]) -> tuple[tuple[str, str, object], ...]:
    """(module, name, value) of every module-level constant of the code under repair; a
    module is named as it is imported (`pkg/settings.py` and `pkg/settings/__init__.py`:
    ``settings``)."""
    found: list[tuple[str, str, object]] = []
    for path, text in sources.items():
        if not _ASSIGNED_CONSTANT.search(text):
            continue  # parse only the modules that may define one
        tree = parse(text)
        if tree is None:
            continue
        module = PurePosixPath(path)
        name = module.parent.name if module.stem == "__init__" else module.stem
        found += [(name, constant, value) for constant, value in module_constants(tree)]
    return tuple(found)


def _recursing(context: RepairContext) -> bool:
    return any(f.exception_type == "RecursionError" for f in context.analysis.failures)


class TemplateEngine:
    name = TEMPLATE_ENGINE

    def __init__(self, *, pairs: bool = True) -> None:
        self.pairs = pairs
        self._counts: dict[str, float] = {"candidates": 0}

    def usage(self) -> Mapping[str, float]:
        return dict(self._counts)

    def propose(self, context: RepairContext) -> Iterator[Candidate]:
        failures = context.analysis.failures
        if any(f.failure_class is FailureClass.FORMAT for f in failures):
            yield from self._format(context)
        yielded: list[tuple[Candidate, Mutation, str]] = []
        # lazily: checking a candidate's syntax costs a parse of its file, and most repairs
        # end within the first few dozen candidates
        for candidate, mutation, path in self._singles(context):
            if time.monotonic() > context.deadline:
                return
            yielded.append((candidate, mutation, path))
            self._counts["candidates"] += 1
            yield candidate
        if self.pairs:
            yield from self._pairs(context, yielded)

    # ------------------------------------------------------------------ single edits

    def _sites(self, context: RepairContext) -> list[tuple[Location, float]]:
        locations = list(context.analysis.locations[:TOP_LOCATIONS])
        sites = [(location, location.score) for location in locations]
        if any(f.exception_type == "Timeout" for f in context.analysis.failures):
            sites = self._loop_bodies(context, sites)
        if _recursing(context):
            sites = self._base_cases(context, sites)
        return sites + value_origins(context.sources, sites)

    @staticmethod
    def _base_cases(
        context: RepairContext, sites: list[tuple[Location, float]]
    ) -> list[tuple[Location, float]]:
        """For a RecursionError, the conditions that guard the recursive calls of a suspicious
        recursive function come first, with the score of the function's best site, for the
        edits that change which way they decide (the lines keep their own rank for the rest)."""
        cases: list[tuple[Location, float]] = []
        done: set[tuple[str, int]] = set()
        for location, score in sites:
            tree = parse(context.sources.get(location.file, ""))
            if tree is None:
                continue
            _, function = statement_at(tree, location.line)
            if function is None or (location.file, function.lineno) in done:
                continue
            done.add((location.file, function.lineno))
            for line in base_case_lines(function):
                case = Location(location.file, line, location.function, score, "base-case")
                cases.append((case, score))
        return cases + sites

    @staticmethod
    def _loop_bodies(
        context: RepairContext, sites: list[tuple[Location, float]]
    ) -> list[tuple[Location, float]]:
        """For a hanging test, the statements inside a suspicious `while` loop are where the
        loop fails to make progress: rank them right after the loop header."""
        expanded: list[tuple[Location, float]] = []
        known = {(location.file, location.line) for location, _ in sites}
        for location, score in sites:
            expanded.append((location, score))
            tree = parse(context.sources.get(location.file, ""))
            if tree is None:
                continue
            statement, _ = statement_at(tree, location.line)
            if not isinstance(statement, ast.While) or statement.lineno != location.line:
                continue
            for inner in statement.body:
                key = (location.file, inner.lineno)
                if key not in known:
                    known.add(key)
                    moved = Location(
                        location.file, inner.lineno, location.function, score * 0.95, "loop-body"
                    )
                    expanded.append((moved, moved.score))
        return expanded

    def _singles(self, context: RepairContext) -> Iterator[tuple[Candidate, Mutation, str]]:
        failure_class = context.analysis.primary_class
        failing_tests = sorted({f.nodeid.split("::", 1)[0] for f in context.analysis.failures})
        expected, messages = expected_from_tests(
            [context.test_sources.get(path, "") for path in failing_tests]
        )
        message = " ".join(f.message for f in context.analysis.failures)
        hanging = any(f.exception_type == "Timeout" for f in context.analysis.failures)
        near_miss = any(
            _numbers_one_apart(f.message + "\n" + f.traceback) for f in context.analysis.failures
        )
        constants = _project_constants(context.sources)
        # among candidates of like weight, the one that leaves the line more ordinary first
        model = project_model(context.sources)
        starts: dict[str, list[int]] = {}
        scored: list[tuple[float, int, int, int, Mutation, str, Location]] = []
        order = 0
        for rank, (location, score) in enumerate(self._sites(context)):
            text = context.sources.get(location.file)
            tree = parse(text) if text is not None else None
            if text is None or tree is None:
                continue
            statement, function = statement_at(tree, location.line)
            if statement is None:
                continue
            site = Site(
                text=text,
                tree=tree,
                line=location.line,
                statement=statement,
                function=function,
                failure_class=failure_class,
                expected_exceptions=expected,
                expected_messages=messages,
                error_message=message,
                project_constants=constants,
            )
            for mutation in mutations_at(site):
                if location.reason == "value-origin" and not changes_a_literal(text, mutation):
                    continue  # where a value is set, only the value itself is suspect
                if location.reason == "base-case" and mutation.template not in BASE_CASE_TEMPLATES:
                    continue
                if location.file not in starts:
                    starts[location.file] = line_starts(text)
                weight = max(score, 0.05) * edit_weight(
                    failure_class, mutation, model, text, starts[location.file]
                )
                weight *= context.learned.multiplier(failure_class, mutation.template)
                if hanging and mutation.template in ("insert-statement", "augmented-assignment"):
                    weight *= 2.0  # a loop that never ends most often misses its update
                if near_miss and mutation.template == "off-by-one":
                    weight *= 1.6  # expected and actual numbers one apart: a bound is off
                if location.reason == "base-case" and mutation.template in BASE_CASE_TEMPLATES:
                    # a recursion that does not end decided its base case the wrong way
                    weight = max(score, 0.05) * BASE_CASE_WEIGHT
                scored.append(
                    (-weight, mutation.size, rank, order, mutation, location.file, location)
                )
                order += 1
        scored.sort(key=lambda item: item[:4])
        seen: set[str] = set()
        for index, (weight, _size, _rank, _order, mutation, path, location) in enumerate(scored):
            new_text = mutation.apply(context.sources[path])
            if new_text in seen or new_text == context.sources[path]:
                continue
            seen.add(new_text)
            if not parses_after(context.sources[path], new_text):
                continue
            yield (
                self._candidate(
                    context, f"{index}", [(path, mutation)], new_text, location, -weight
                ),
                mutation,
                path,
            )

    def _candidate(
        self,
        context: RepairContext,
        suffix: str,
        parts: list[tuple[str, Mutation]],
        new_text: str,
        location: Location | None,
        weight: float,
    ) -> Candidate:
        path = parts[0][0]
        function = f" in {location.function}" if location and location.function else ""
        where = f"{path}:{location.line}{function}" if location else path
        templates = "+".join(dict.fromkeys(m.template for _, m in parts))
        return Candidate(
            id=f"r{context.round_number}-t{suffix}",
            engine=self.name,
            template=templates,
            description="; ".join(m.description for _, m in parts) + f" at {where}",
            edits=(FileEdit(path=path, new_text=new_text),),
            location=location,
            size=sum(m.size for _, m in parts),
            prior=round(weight, 4),
            rationale="; ".join(dict.fromkeys(m.rationale for _, m in parts)),
        )

    # ------------------------------------------------------------------ pairs

    def _pairs(
        self, context: RepairContext, singles: list[tuple[Candidate, Mutation, str]]
    ) -> Iterator[Candidate]:
        verdicts = {candidate.id: verdict for candidate, verdict in context.feedback.verdicts}
        promising = [s for s in singles if verdicts.get(s[0].id) and verdicts[s[0].id].fixed]
        pool = (promising + [s for s in singles if s not in promising])[:PAIR_POOL]
        seen: set[str] = set()
        for index, (first, second) in enumerate(itertools.combinations(pool, 2)):
            if time.monotonic() > context.deadline:
                return
            (c1, m1, p1), (c2, m2, p2) = first, second
            if p1 != p2 or not (m1.end <= m2.start or m2.end <= m1.start):
                continue
            later, earlier = (m1, m2) if m1.start > m2.start else (m2, m1)
            new_text = earlier.apply(later.apply(context.sources[p1]))
            if new_text in seen or not parses_after(context.sources[p1], new_text):
                continue
            seen.add(new_text)
            self._counts["candidates"] += 1
            yield self._candidate(
                context,
                f"p{index}",
                [(p1, m1), (p2, m2)],
                new_text,
                c1.location,
                min(c1.prior, c2.prior),
            )

    # ------------------------------------------------------------------ FORMAT

    def _format(self, context: RepairContext) -> Iterator[Candidate]:
        names_by_module: dict[str, list[str]] = {}
        for path, text in context.sources.items():
            tree = parse(text)
            if tree is None:
                continue
            module = PurePosixPath(path).with_suffix("").as_posix().replace("/", ".")
            names = [
                node.name
                for node in tree.body
                if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef)
            ] + [
                target.id
                for node in tree.body
                if isinstance(node, ast.Assign)
                for target in node.targets
                if isinstance(target, ast.Name)
            ]
            names_by_module[module] = names
            names_by_module[module.split(".")[-1]] = names
            if module.endswith(".__init__"):
                names_by_module[module[: -len(".__init__")]] = names
        count = 0
        seen: set[str] = set()
        for failure in context.analysis.failures:
            if failure.failure_class is not FailureClass.FORMAT:
                continue
            frames = [f for f in failure.frames if f.file in context.sources] or [
                f for f in failure.frames if f.file in context.test_sources
            ]
            for frame in reversed(frames):
                found = context.sources.get(frame.file)
                if found is None:
                    continue
                text = found
                if not text:
                    continue
                tree = parse(text)
                mutations: list[Mutation] = []
                if tree is None:
                    mutations += list(syntax_repairs(text, frame.line))
                mutations += list(
                    import_repairs(
                        text, tree, failure.message + "\n" + failure.traceback, names_by_module
                    )
                )
                for mutation in mutations:
                    new_text = mutation.apply(text)
                    if new_text in seen or parse(new_text) is None:
                        continue
                    seen.add(new_text)
                    count += 1
                    location = Location(frame.file, frame.line, "", 1.0, "traceback")
                    yield self._candidate(
                        context, f"f{count}", [(frame.file, mutation)], new_text, location, 1.0
                    )
