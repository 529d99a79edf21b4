"""How many single-point bugs of real code the template engine can revert, and how early.

A static measure of the engine's reach, without running any test: the same cosmic-ray
operators `mendbot bench --suite real` injects bugs with, applied on every line of a
function body of the libraries in `libraries.toml` (not only the lines the suite runs). For
each mutant, the template sites at the mutated line are built as a repair builds them, every
template is applied, and the candidates are ordered as the engine orders one site's
candidates (``edit_weight``: prior x naturalness, then size, then template order). A mutant
is *reachable* when one candidate gives back the original code (whitespace aside); its
*rank* is that candidate's place in the site's order.

Whether a reachable bug is then fixed depends on localization, the other sites and the
tests; an unreachable one is never fixed by the templates.

    python benchmarks/real/revert_reach.py [--count 1000] [--seed 7] [--library toolz] [--json F]

Downloads the sdists as the real bench does (cached under ~/.cache/mendbot/real) and makes
the mutants in the real bench's tools virtualenv.
"""

from __future__ import annotations

import argparse
import ast
import json
import re
import statistics
import sys
from collections import defaultdict
from pathlib import Path
from typing import Any

from bot.analysis.naturalness import TokenModel, base_model, line_starts
from bot.bench_real import Settings, _sdist, _tools_python, _unpack, load_libraries
from bot.engines.mutations import Site, mutations_at, statement_at
from bot.engines.templates import edit_weight
from bot.models import FailureClass
from bot.proc import run

HERE = Path(__file__).resolve().parent
SPACE = re.compile(r"\s+")
FAMILIES = ("ReplaceBinaryOperator", "ReplaceComparisonOperator", "ReplaceUnaryOperator")


def family(operator: str) -> str:
    return next((f for f in FAMILIES if operator.startswith(f)), operator)


def sources_of(repo: Path, folders: tuple[str, ...]) -> dict[str, str]:
    found = {}
    for folder in folders:
        for path in sorted((repo / folder).rglob("*.py")):
            if "test" not in path.name:
                found[str(path)] = path.read_text(encoding="utf-8")
    return found


def mutants(sources: dict[str, str], settings: Settings, count: int) -> list[dict[str, Any]]:
    request = {
        "files": {path: list(range(1, text.count("\n") + 2)) for path, text in sources.items()},
        "seed": settings.seed,
        "count": count,
    }
    made = run(
        [str(_tools_python(settings)), str(HERE / "mutants.py")],
        cwd=HERE,
        stdin_text=json.dumps(request),
        timeout=7200,
        output_limit=2_000_000_000,
    )
    if made.returncode != 0:
        sys.exit(f"making the mutants failed:\n{made.stderr[-2000:]}")
    found: list[dict[str, Any]] = json.loads(made.stdout)
    return found


def reach(mutant: dict[str, Any], original: str, model: TokenModel) -> int | None:
    """The rank (1-based) of the exact revert among its site's candidates, or None."""
    text = mutant["source"]
    tree = ast.parse(text)
    statement, function = statement_at(tree, mutant["line"])
    if statement is None:
        return None
    site = Site(text, tree, mutant["line"], statement, function, FailureClass.LOGIC, (), (), "")
    low, high = max(0, mutant["line"] - 40), mutant["line"] + 40
    wanted_lines = original.splitlines()
    wanted = (len(wanted_lines), SPACE.sub("", "".join(wanted_lines[low:high])))
    starts = line_starts(text)
    scored = []
    for order, mutation in enumerate(mutations_at(site)):
        weight = edit_weight(FailureClass.LOGIC, mutation, model, text, starts)
        scored.append((-weight, mutation.size, order, mutation))
    scored.sort(key=lambda item: item[:3])
    seen: set[str] = set()
    for *_, mutation in scored:
        new = mutation.apply(text)
        if new in seen or new == text:
            continue
        seen.add(new)
        lines = new.splitlines()
        if (len(lines), SPACE.sub("", "".join(lines[low:high]))) == wanted:
            return len(seen)
    return None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--count", type=int, default=1000, help="mutants over all libraries")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--library", action="append", default=[])
    parser.add_argument("--json", type=Path, default=None, help="write every mutant's result")
    options = parser.parse_args()
    cache = Path.home() / ".cache" / "mendbot" / "real"
    settings = Settings(cache=cache, tools=HERE, seed=options.seed, progress=print)
    libraries = load_libraries(HERE / "libraries.toml", options.library)
    everything: dict[str, str] = {}
    models: dict[str, TokenModel] = {}
    owner: dict[str, str] = {}
    for library in libraries:
        repo = _unpack(_sdist(library, cache), cache / "reach" / library.name)
        sources = sources_of(repo, library.sources)
        everything.update(sources)
        models[library.name] = TokenModel().add(base_model()).learn(sources.values())
        owner.update(dict.fromkeys(sources, library.name))
    made = mutants(everything, settings, options.count)
    by_family: dict[str, list[int | None]] = defaultdict(list)
    rows = []
    for mutant in made:
        rank = reach(mutant, everything[mutant["path"]], models[owner[mutant["path"]]])
        by_family[family(mutant["operator"])].append(rank)
        rows.append({k: mutant[k] for k in ("path", "operator", "line", "before", "after")})
        rows[-1]["rank"] = rank
    print(f"{'operator':28} {'reachable':>12} {'median rank':>12} {'first':>6} {'top 5':>6}")
    every = [rank for ranks in by_family.values() for rank in ranks]
    for name, ranks in [*sorted(by_family.items()), ("all", every)]:
        hits = sorted(r for r in ranks if r is not None)
        median = statistics.median(hits) if hits else "-"
        print(
            f"{name:28} {len(hits):>5}/{len(ranks):<6} {median!s:>12} "
            f"{sum(r == 1 for r in hits):>6} {sum(r <= 5 for r in hits):>6}"
        )
    if options.json:
        options.json.write_text(json.dumps(rows, indent=1))


if __name__ == "__main__":
    main()
