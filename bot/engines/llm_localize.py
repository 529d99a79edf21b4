"""Hierarchical localization for the LLM engine: rank the files, then the blocks within them.

Files are ranked by the evidence a failure leaves: traceback frames in the code under repair
(innermost first), the spectrum's suspicious lines, the modules the failing test imports, the
module the test file is named after, and the names the test shares with a file's definitions.
Within a file the blocks are its top-level functions and classes (with their decorators: a
decorator's arguments are part of what it decorates) and its module-level code (imports,
constants, patterns), each ranked by the frames and lines inside it, the names the test uses,
and its ties to the best block: the functions it calls and the module-level names it reads,
and the functions that call it. Pure functions over a RepairContext; no model calls here.
"""

from __future__ import annotations

import ast
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import PurePosixPath

from bot.analysis.source import parse
from bot.edits import is_test_path
from bot.engines.base import RepairContext
from bot.models import Failure

FRAME_WEIGHT = 10.0
FRAME_DECAY = 0.8
IMPORTED_BY_TEST = 3.0
NAMED_AFTER_TEST = 3.0
SHARED_NAME = 1.0
MAX_SHARED_NAMES = 3
IMPORTED_BY_TOP_FILE = 1.5
NEIGHBOUR = 2.0
MODULE_CODE = 0.5  # module-level code is always worth a look in a file that is shown
MAX_CLASS_LINES = 80  # a larger class is split into its methods


@dataclass(frozen=True)
class Block:
    """A piece of a file the prompt can show whole: lines ``start``..``end`` (1-based)."""

    path: str
    name: str  # "Class", "function", "Class.method"; "" for module-level code
    kind: str  # "function" | "class" | "method" | "module"
    start: int
    end: int
    score: float = 0.0
    defines: frozenset[str] = frozenset()  # names the block binds at its level
    uses: frozenset[str] = frozenset()  # names and attributes the block reads


@dataclass(frozen=True)
class RankedFile:
    path: str
    score: float
    reasons: tuple[str, ...]


def _frames(failure: Failure, sources: Mapping[str, str]) -> list[tuple[str, int, float]]:
    """(path, line, weight) of the failure's frames in the code under repair, innermost first."""
    frames = [f for f in failure.frames if f.file in sources and not is_test_path(f.file)]
    return [
        (frame.file, frame.line, FRAME_WEIGHT * FRAME_DECAY**depth)
        for depth, frame in enumerate(reversed(frames))
    ]


def module_paths(module: str, sources: Mapping[str, str]) -> list[str]:
    """The source files a dotted module name may refer to."""
    base = module.replace(".", "/")
    found = [p for p in (f"{base}.py", f"{base}/__init__.py") if p in sources]
    if found:
        return found
    # a project under a src/ folder, or a test that imports relative to a package root
    suffixes = (f"/{base}.py", f"/{base}/__init__.py")
    return [p for p in sources if p.endswith(suffixes)]


def imported_modules(tree: ast.Module) -> set[str]:
    """Dotted names a module imports, including ``from package import module`` forms."""
    modules: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            modules.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            modules.add(node.module)
            modules.update(f"{node.module}.{alias.name}" for alias in node.names)
    return modules


def used_names(node: ast.AST) -> set[str]:
    names: set[str] = set()
    for child in ast.walk(node):
        if isinstance(child, ast.Name):
            names.add(child.id)
        elif isinstance(child, ast.Attribute):
            names.add(child.attr)
        elif isinstance(child, ast.ImportFrom):
            names.update(alias.asname or alias.name for alias in child.names)
    return names


def _test_tree(context: RepairContext, failure: Failure) -> tuple[ast.Module | None, set[str]]:
    """The failing test's module and the names its test function uses."""
    path, _, rest = failure.nodeid.partition("::")
    tree = parse(context.test_sources.get(path, ""))
    if tree is None:
        return None, set()
    wanted = rest.split("::")[-1].split("[", 1)[0]
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and node.name == wanted:
            names |= used_names(node)
    if not names:  # not found by name: what the test module imports
        names = {
            alias.asname or alias.name
            for node in tree.body
            if isinstance(node, ast.ImportFrom)
            for alias in node.names
        }
    return tree, names


def top_level_names(tree: ast.Module) -> set[str]:
    names: set[str] = set()
    for node in tree.body:
        names |= _bound_names(node)
    return names


def _bound_names(node: ast.stmt) -> set[str]:
    if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
        return {node.name}
    if isinstance(node, ast.Import | ast.ImportFrom):
        return {(a.asname or a.name).split(".")[0] for a in node.names}
    names: set[str] = set()
    targets: list[ast.expr] = []
    if isinstance(node, ast.Assign):
        targets = list(node.targets)
    elif isinstance(node, ast.AnnAssign | ast.AugAssign):
        targets = [node.target]
    for target in targets:
        names.update(n.id for n in ast.walk(target) if isinstance(n, ast.Name))
    return names


def rank_files(context: RepairContext, failure: Failure) -> list[RankedFile]:
    """Files of the code under repair that may hold the fix, most likely first."""
    scores: dict[str, float] = {}
    reasons: dict[str, list[str]] = {}

    def add(path: str, score: float, reason: str) -> None:
        if path not in context.sources or score <= 0:
            return
        scores[path] = scores.get(path, 0.0) + score
        if reason not in reasons.setdefault(path, []):
            reasons[path].append(reason)

    for path, _line, weight in _frames(failure, context.sources):
        add(path, weight, "traceback")
    locations = context.analysis.locations
    top_score = max((location.score for location in locations), default=0.0) or 1.0
    for location in locations:
        add(location.file, 2.0 * location.score / top_score, location.reason)
    test_path = failure.nodeid.partition("::")[0]
    tree, test_names = _test_tree(context, failure)
    if tree is not None:
        for module in imported_modules(tree):
            for path in module_paths(module, context.sources):
                add(path, IMPORTED_BY_TEST, "imported by the test")
    stem = PurePosixPath(test_path).stem
    for subject in {stem.removeprefix("test_"), stem.removesuffix("_test")} - {stem}:
        for path in context.sources:
            if PurePosixPath(path).stem == subject:
                add(path, NAMED_AFTER_TEST, "named after the test")
    for path, text in context.sources.items():
        code_tree = parse(text)
        if code_tree is None:
            continue
        shared = top_level_names(code_tree) & test_names
        add(path, SHARED_NAME * min(len(shared), MAX_SHARED_NAMES), "names the test uses")
    if scores:
        best = max(scores, key=lambda p: (scores[p], p))
        best_tree = parse(context.sources[best])
        if best_tree is not None:
            for name in imported_modules(best_tree):
                for path in module_paths(name, context.sources):
                    if path != best:
                        add(path, IMPORTED_BY_TOP_FILE, f"imported by {best}")
    ranked = sorted(scores, key=lambda p: (-scores[p], p))
    return [RankedFile(p, round(scores[p], 3), tuple(reasons[p])) for p in ranked]


# -- blocks within a file ---------------------------------------------------------------------


def _start(node: ast.stmt) -> int:
    decorators: list[ast.expr] = getattr(node, "decorator_list", [])
    return min([node.lineno, *(d.lineno for d in decorators)])


def blocks_of(path: str, text: str) -> list[Block]:
    """The file's top-level definitions and runs of module-level code, in source order."""
    tree = parse(text)
    if tree is None:
        return []
    blocks: list[Block] = []
    loose: list[ast.stmt] = []

    def flush() -> None:
        if loose:
            defines = set().union(*(_bound_names(n) for n in loose))
            uses = set().union(*(used_names(n) for n in loose))
            end = loose[-1].end_lineno or loose[-1].lineno
            blocks.append(
                Block(
                    path,
                    "",
                    "module",
                    _start(loose[0]),
                    end,
                    0.0,
                    frozenset(defines),
                    frozenset(uses),
                )
            )
            loose.clear()

    for node in tree.body:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            flush()
            blocks.extend(_definition_blocks(path, node))
        else:
            loose.append(node)
    flush()
    return blocks


def _definition_blocks(path: str, node: ast.stmt) -> list[Block]:
    end = node.end_lineno or node.lineno
    name = getattr(node, "name", "")
    if not isinstance(node, ast.ClassDef):
        uses = frozenset(used_names(node))
        return [Block(path, name, "function", _start(node), end, 0.0, frozenset({name}), uses)]
    if end - _start(node) < MAX_CLASS_LINES:
        uses = frozenset(used_names(node))
        defines = frozenset({name} | {m.name for m in node.body if hasattr(m, "name")})
        return [Block(path, name, "class", _start(node), end, 0.0, defines, uses)]
    methods = [m for m in node.body if isinstance(m, ast.FunctionDef | ast.AsyncFunctionDef)]
    header_end = (_start(methods[0]) - 1) if methods else end
    header_nodes: list[ast.AST] = [*node.decorator_list, *node.bases]
    header_nodes += [m for m in node.body if m not in methods]
    header_uses = frozenset(n for item in header_nodes for n in used_names(item))
    blocks = [
        Block(path, name, "class", _start(node), header_end, 0.0, frozenset({name}), header_uses)
    ]
    for method in methods:
        blocks.append(
            Block(
                path,
                f"{name}.{method.name}",
                "method",
                _start(method),
                method.end_lineno or method.lineno,
                0.0,
                frozenset({method.name}),
                frozenset(used_names(method)),
            )
        )
    return blocks


def rank_blocks(
    context: RepairContext, failure: Failure, files: Iterable[RankedFile]
) -> list[Block]:
    """Blocks of the given files, most likely first; each file's score counts too."""
    frames = _frames(failure, context.sources)
    _, test_names = _test_tree(context, failure)
    top_score = max((loc.score for loc in context.analysis.locations), default=0.0) or 1.0
    ranked: list[Block] = []
    for rank, ranked_file in enumerate(files):
        text = context.sources.get(ranked_file.path, "")
        blocks = blocks_of(ranked_file.path, text)
        scored: list[Block] = []
        for block in blocks:
            score = ranked_file.score / (1 + rank) * 0.01  # only breaks ties
            for path, line, weight in frames:
                if path == block.path and block.start <= line <= block.end:
                    score += weight
            for location in context.analysis.locations:
                if location.file == block.path and block.start <= location.line <= block.end:
                    score += location.score / top_score
            score += SHARED_NAME * min(len(block.defines & test_names), MAX_SHARED_NAMES)
            if block.kind == "module":
                score += MODULE_CODE
            scored.append(_with_score(block, score))
        ranked.extend(_with_neighbours(scored))
    return sorted(ranked, key=lambda b: (-b.score, b.path, b.start))


def _with_neighbours(blocks: list[Block]) -> list[Block]:
    """Raise the blocks tied to the file's best block: what it calls or reads, what calls it."""
    if not blocks:
        return blocks
    best = max(blocks, key=lambda b: b.score)
    result = []
    for block in blocks:
        bonus = 0.0
        if block is not best:
            if block.defines & best.uses:
                bonus += NEIGHBOUR
            if best.defines & block.uses:
                bonus += NEIGHBOUR / 2
        result.append(_with_score(block, block.score + bonus))
    return result


def _with_score(block: Block, score: float) -> Block:
    return Block(
        block.path,
        block.name,
        block.kind,
        block.start,
        block.end,
        round(score, 4),
        block.defines,
        block.uses,
    )
