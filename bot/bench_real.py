"""`mendbot bench --suite real`: mendbot on real libraries' whole test suites.

For each pinned library of ``benchmarks/real/libraries.toml``: download its sdist from PyPI
(cached), unpack it into a git repository of its own (the pristine tree is the first commit),
build a virtualenv with its pinned test requirements, and run its suite plainly a few times
(tests that fail already are deselected in every later run, plain or mendbot's, and reported).
Then inject single-point bugs with cosmic-ray's operators (a fixed seed, on lines the suite
runs), keep those the library's own tests catch, commit each on a branch of its own, and run
``mendbot fix --json`` on the whole suite for each, measuring what a user would wait for.

A fix is checked the way a user would: the branch mendbot made is checked out on its own and
the plain suite runs there. It is an exact revert when the tree equals the pristine one.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import json
import os
import shutil
import statistics
import sys
import tarfile
import tempfile
import threading
import tomllib
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bot import gitcmd
from bot.errors import MendbotError
from bot.proc import git, run

SAMPLE_SECONDS = 0.25
PIP_TIMEOUT = 900.0
# the import hook the bench's virtualenvs get: the library comes from the checkout the tests
# run in (its ``src`` folder where it has one), as an editable install of that checkout would
CHECKOUT_PTH = (
    "import os, sys; _src = os.path.join(os.getcwd(), 'src'); "
    "os.path.isdir(_src) and sys.path.insert(0, _src)\n"
)


class RealBenchError(MendbotError):
    """The real-library bench could not set a library up."""


@dataclass(frozen=True)
class Library:
    name: str
    version: str
    requirements: tuple[str, ...]
    pytest_args: tuple[str, ...]
    sources: tuple[str, ...]


@dataclass(frozen=True)
class Prepared:
    library: Library
    repo: Path
    python: Path
    tests: int
    deselected: tuple[str, ...]  # tests that fail on the pristine tree
    test_files: frozenset[str]  # the files the suite collects tests from
    plain_seconds: tuple[float, ...]
    plain_peak_mb: float

    @property
    def plain_median(self) -> float:
        return statistics.median(self.plain_seconds)

    @property
    def selection(self) -> list[str]:
        return [*self.library.pytest_args, *(f"--deselect={n}" for n in self.deselected)]


@dataclass(frozen=True)
class Mutant:
    path: str  # relative to the repository
    operator: str
    line: int
    before: str
    after: str
    source: str


@dataclass(frozen=True)
class FixOutcome:
    library: str
    bug: str
    mutant: Mutant
    status: str  # mendbot's status: fixed, not_fixed, error
    branch: str  # the branch mendbot made, if any
    verdict: str  # exact, plausible, false_claim, test_edit (a false claim too), not_fixed
    seconds: float
    budget: float
    screened: int
    screening_seconds: float
    fast: int
    naive: int
    fallbacks: dict[str, int]  # cause -> candidates that fell back to a fresh pytest
    peak_mb: float
    reason: str


@dataclass
class Settings:
    cache: Path
    tools: Path  # the folder of libraries.toml, mutants.py and requirements-tools.txt
    bugs_per_library: int = 4
    seed: int = 1
    plain_runs: int = 3
    time_budget: float | None = None  # per fix; None: from the plain suite time
    validation: str = "fast"
    compare_count: int = 0  # candidates per bug screened fast and naive side by side; 0: none
    progress: Callable[[str], None] = field(default=lambda line: None)


# ------------------------------------------------------------------ libraries


def load_libraries(path: Path, only: Sequence[str] = ()) -> list[Library]:
    data = tomllib.loads(path.read_text(encoding="utf-8"))
    found = [
        Library(
            name=str(item["name"]),
            version=str(item["version"]),
            requirements=tuple(item.get("requirements", ())),
            pytest_args=tuple(item.get("pytest_args", ())),
            sources=tuple(item["sources"]),
        )
        for item in data.get("library", [])
    ]
    unknown = sorted(set(only) - {lib.name for lib in found})
    if unknown:
        raise RealBenchError(
            f"no library named {', '.join(unknown)} in {path}",
            hint="choose from " + ", ".join(lib.name for lib in found),
        )
    return [lib for lib in found if not only or lib.name in only]


def _environment() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME")}


def _must(result: Any, what: str, hint: str) -> None:
    if result.returncode != 0 or result.timed_out:
        tail = (result.stdout + result.stderr).strip()[-1500:]
        raise RealBenchError(f"{what} failed:\n{tail}", hint=hint)


def _venv(folder: Path, requirements: Sequence[str], progress: Callable[[str], None]) -> Path:
    """A virtualenv with exactly these requirements, built once and reused."""
    python = folder / "bin" / "python"
    stamp = folder / "mendbot-requirements.txt"
    wanted = "\n".join(requirements) + "\n"
    if python.exists() and stamp.exists() and stamp.read_text() == wanted:
        return python
    progress(f"building {folder.name} ({len(requirements)} requirements)")
    shutil.rmtree(folder, ignore_errors=True)
    folder.parent.mkdir(parents=True, exist_ok=True)
    made = run([sys.executable, "-m", "venv", str(folder)], cwd=folder.parent, timeout=300)
    _must(made, f"creating the virtualenv {folder}", "check that python3-venv is installed")
    installed = run(
        [str(python), "-m", "pip", "install", "-q", "--disable-pip-version-check", *requirements],
        cwd=folder.parent,
        env=_environment(),
        timeout=PIP_TIMEOUT,
    )
    _must(installed, f"installing {', '.join(requirements)}", "check the network and the pins")
    stamp.write_text(wanted)
    return python


def _sdist(library: Library, cache: Path) -> Path:
    folder = cache / "sdists"
    folder.mkdir(parents=True, exist_ok=True)
    prefixes = {
        f"{library.name}-{library.version}.tar.gz",
        f"{library.name.replace('-', '_')}-{library.version}.tar.gz",
    }
    for name in prefixes:
        if (folder / name).exists():
            return folder / name
    spec = f"{library.name}=={library.version}"
    fetched = run(
        [
            sys.executable,
            "-m",
            "pip",
            "download",
            "--no-deps",
            "--no-binary",
            ":all:",
            "--disable-pip-version-check",
            "-d",
            str(folder),
            spec,
        ],
        cwd=folder,
        env=_environment(),
        timeout=PIP_TIMEOUT,
    )
    _must(fetched, f"downloading the sdist of {spec}", "check the network and the pin")
    for name in prefixes:
        if (folder / name).exists():
            return folder / name
    raise RealBenchError(f"pip downloaded no .tar.gz sdist for {spec}", hint="pin another version")


def _unpack(archive: Path, into: Path) -> Path:
    shutil.rmtree(into, ignore_errors=True)
    into.mkdir(parents=True)
    with tarfile.open(archive) as tar:
        tar.extractall(into, filter="data")
    (top,) = [p for p in into.iterdir() if p.is_dir()]
    repo = into / "repo"
    top.rename(repo)
    git(["init", "-q", "-b", "pristine"], cwd=repo)
    git(["add", "-A"], cwd=repo)
    _commit(repo, f"pristine {archive.name}")
    return repo


def _commit(repo: Path, message: str) -> None:
    git(
        [
            "-c",
            "user.name=mendbot bench",
            "-c",
            "user.email=bench@mendbot.invalid",
            "-c",
            "commit.gpgsign=false",
            "commit",
            "-q",
            "--no-verify",
            "-m",
            message,
        ],
        cwd=repo,
    )


# ------------------------------------------------------------------ memory


class TreeMemory:
    """The peak memory of a process and all its descendants (PSS where readable, else RSS),
    sampled on a thread of its own."""

    def __init__(self) -> None:
        self.peak_kb = 0
        self._root = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def watch(self, process: Any) -> None:
        self._root = int(process.pid)
        self._thread.start()

    def stop(self) -> float:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=5)
        return self.peak_kb / 1024

    def _sample(self) -> None:
        while not self._stop.is_set():
            total = sum(_memory_kb(pid) for pid in _descendants(self._root))
            self.peak_kb = max(self.peak_kb, total)
            self._stop.wait(SAMPLE_SECONDS)


def _descendants(root: int) -> list[int]:
    children: dict[int, list[int]] = {}
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        with contextlib.suppress(OSError, ValueError, IndexError):
            stat = Path(entry.path, "stat").read_text()
            parent = int(stat.rsplit(")", 1)[1].split()[1])
            children.setdefault(parent, []).append(int(entry.name))
    found, pending = [], [root]
    while pending:
        pid = pending.pop()
        found.append(pid)
        pending.extend(children.get(pid, ()))
    return found


def _memory_kb(pid: int) -> int:
    with contextlib.suppress(OSError, ValueError):
        for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
            if line.startswith("Pss:"):
                return int(line.split()[1])
    with contextlib.suppress(OSError, ValueError, IndexError):
        pages = int(Path(f"/proc/{pid}/statm").read_text().split()[1])
        return pages * os.sysconf("SC_PAGE_SIZE") // 1024
    return 0


def _measured(argv: Sequence[str], cwd: Path, timeout: float) -> tuple[Any, float]:
    """Run argv; the result and the peak memory of its process tree in MB."""
    memory = TreeMemory()
    result = run(
        argv,
        cwd=cwd,
        env=_environment(),
        timeout=timeout,
        on_start=memory.watch,
        output_limit=4_000_000,
    )
    return result, memory.stop()


# ------------------------------------------------------------------ the plain suite


def _plain_argv(python: Path, selection: Sequence[str], *extra: str) -> list[str]:
    return [str(python), "-m", "pytest", "-q", "-p", "no:cacheprovider", *extra, *selection]


def _junit_outcomes(path: Path) -> dict[str, str]:
    from bot.testing.junit import parse_junit

    results, _errors = parse_junit(path)
    return {r.nodeid: r.outcome.value for r in results}


def prepare(library: Library, settings: Settings) -> Prepared:
    """The library's repository, virtualenv and plain-suite measurements."""
    home = settings.cache / f"{library.name}-{library.version}"
    archive = _sdist(library, settings.cache)
    settings.progress(f"{library.name}: unpacking {archive.name} into a fresh repository")
    repo = _unpack(archive, home / "tree")
    python = _venv(home / "venv", library.requirements, settings.progress)
    site = run(
        [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        cwd=repo,
        timeout=60,
    )
    Path(site.stdout.strip(), "mendbot_bench_checkout.pth").write_text(CHECKOUT_PTH)
    junit = home / "plain.xml"
    first, _ = _measured(
        _plain_argv(python, library.pytest_args, f"--junitxml={junit}"), repo, 3600
    )
    outcomes = _junit_outcomes(junit) if junit.exists() else {}
    if not outcomes:
        raise RealBenchError(
            f"{library.name}: the plain suite reported no test:\n"
            + (first.stdout + first.stderr)[-1500:],
            hint="check the library's pytest_args and requirements in libraries.toml",
        )
    failing = tuple(sorted(n for n, o in outcomes.items() if o in ("failed", "error")))
    test_files = frozenset(n.split("::", 1)[0] for n in outcomes)
    prepared = Prepared(library, repo, python, len(outcomes), failing, test_files, (), 0.0)
    seconds: list[float] = []
    peak = 0.0
    for number in range(max(1, settings.plain_runs)):
        result, memory = _measured(_plain_argv(python, prepared.selection), repo, 3600)
        if result.returncode != 0:
            raise RealBenchError(
                f"{library.name}: the plain suite fails even with the failing tests "
                f"deselected (run {number + 1}):\n" + (result.stdout + result.stderr)[-1500:],
                hint="the suite is flaky or needs the network; pin another version",
            )
        seconds.append(result.duration)
        peak = max(peak, memory)
    return Prepared(library, repo, python, len(outcomes), failing, test_files, tuple(seconds), peak)


# ------------------------------------------------------------------ bugs


def _covered_lines(prepared: Prepared, settings: Settings) -> dict[str, list[int]]:
    data = prepared.repo.parent / "coverage.data"
    sources = [str(prepared.repo / s) for s in prepared.library.sources]
    measured = run(
        [
            str(prepared.python),
            "-m",
            "coverage",
            "run",
            f"--data-file={data}",
            "--source=" + ",".join(sources),
            "-m",
            "pytest",
            "-q",
            "-p",
            "no:cacheprovider",
            *prepared.selection,
        ],
        cwd=prepared.repo,
        env=_environment(),
        timeout=3600,
    )
    report = prepared.repo.parent / "coverage.json"
    exported = run(
        [str(prepared.python), "-m", "coverage", "json", f"--data-file={data}", "-o", str(report)],
        cwd=prepared.repo,
        env=_environment(),
        timeout=300,
    )
    _must(exported, "measuring which lines the suite runs", "see the output above")
    del measured
    files = json.loads(report.read_text())["files"]
    covered: dict[str, list[int]] = {}
    for name, info in files.items():
        path = (prepared.repo / name).resolve()
        relative = path.relative_to(prepared.repo.resolve())
        if "tests" in relative.parts or relative.name.startswith(("test_", "conftest")):
            continue
        covered[str(path)] = sorted(info["executed_lines"])
    return covered


def _tools_python(settings: Settings) -> Path:
    requirements = [
        line.strip()
        for line in (settings.tools / "requirements-tools.txt").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    ]
    return _venv(settings.cache / "tools", requirements, settings.progress)


def _candidate_mutants(prepared: Prepared, settings: Settings, count: int) -> list[Mutant]:
    request = {"files": _covered_lines(prepared, settings), "seed": settings.seed, "count": count}
    made = run(
        [str(_tools_python(settings)), str(settings.tools / "mutants.py")],
        cwd=prepared.repo,
        env=_environment(),
        stdin_text=json.dumps(request),
        timeout=900,
        output_limit=200_000_000,
    )
    _must(made, "making the mutants with cosmic-ray", "see the output above")
    root = prepared.repo.resolve()
    return [
        Mutant(
            path=str(Path(m["path"]).relative_to(root)),
            operator=m["operator"],
            line=int(m["line"]),
            before=m["before"],
            after=m["after"],
            source=m["source"],
        )
        for m in json.loads(made.stdout)
    ]


def _caught(prepared: Prepared, mutant: Mutant) -> bool:
    """Whether the library's own suite fails with the mutant in place (pytest -x)."""
    target = prepared.repo / mutant.path
    original = target.read_text(encoding="utf-8")
    target.write_text(mutant.source, encoding="utf-8")
    try:
        result = run(
            _plain_argv(prepared.python, prepared.selection, "-x"),
            cwd=prepared.repo,
            env=_environment(),
            timeout=3 * prepared.plain_median + 30,
        )
    finally:
        target.write_text(original, encoding="utf-8")
    return not result.timed_out and result.returncode in (1, 2)


def bugs(prepared: Prepared, settings: Settings) -> list[tuple[str, Mutant]]:
    """Up to ``bugs_per_library`` caught mutants, each committed on a branch ``bug-N``."""
    lib = prepared.library
    key = hashlib.sha256(
        json.dumps(
            [lib.name, lib.version, lib.pytest_args, prepared.deselected, settings.seed]
        ).encode()
    ).hexdigest()[:12]
    chosen_file = prepared.repo.parent.parent / f"bugs-{key}.json"
    chosen: list[Mutant] = []
    if chosen_file.exists():
        chosen = [Mutant(**m) for m in json.loads(chosen_file.read_text())]
    if len(chosen) < settings.bugs_per_library:
        chosen = []
        tried = 0
        for mutant in _candidate_mutants(prepared, settings, 6 * settings.bugs_per_library):
            if len(chosen) >= settings.bugs_per_library:
                break
            tried += 1
            if _caught(prepared, mutant):
                chosen.append(mutant)
        settings.progress(f"{lib.name}: {len(chosen)} of {tried} mutants are caught by its tests")
        chosen_file.write_text(json.dumps([m.__dict__ for m in chosen]))
    found = []
    for number, mutant in enumerate(chosen[: settings.bugs_per_library], 1):
        branch = f"bug-{number}"
        git(["checkout", "-q", "-B", branch, "pristine"], cwd=prepared.repo)
        (prepared.repo / mutant.path).write_text(mutant.source, encoding="utf-8")
        git(["add", "-A"], cwd=prepared.repo)
        _commit(prepared.repo, f"{mutant.operator} at {mutant.path}:{mutant.line}")
        found.append((branch, mutant))
    git(["checkout", "-q", "pristine"], cwd=prepared.repo)
    return found


# ------------------------------------------------------------------ fixing


def default_budget(prepared: Prepared) -> float:
    return round(10 * prepared.plain_median + 120, 1)


def fix(prepared: Prepared, branch: str, mutant: Mutant, settings: Settings) -> FixOutcome:
    budget = settings.time_budget or default_budget(prepared)
    repo = prepared.repo
    git(["checkout", "-q", "-f", branch], cwd=repo)
    git(["clean", "-qfdx", "-e", "*.egg-info"], cwd=repo)
    argv = [
        sys.executable,
        "-m",
        "bot",
        "fix",
        "--json",
        "--python",
        str(prepared.python),
        "--time-budget",
        str(budget),
        "--validation",
        settings.validation,
        "--no-learned-priors",  # the library's repository keeps the runs of its other bugs
        str(repo),
        "--",
        *prepared.selection,
    ]
    result, peak = _measured(argv, repo, budget * 3 + 300)
    report = _last_json(result.stdout)
    status = str(report.get("status", "error"))
    reason = str(report.get("reason") or report.get("error") or "")
    if result.timed_out:
        status, reason = "error", "mendbot ran past three times its budget"
    screening = report.get("extra", {}).get("screening", {}) if report else {}
    verdict = "not_fixed"
    if status == "fixed" and report.get("branch"):
        verdict = check_fix(prepared, str(report["branch"]))
    git(["checkout", "-q", "-f", "pristine"], cwd=repo)
    return FixOutcome(
        library=prepared.library.name,
        bug=branch,
        mutant=mutant,
        status=status,
        branch=str(report.get("branch") or ""),
        verdict=verdict,
        seconds=result.duration,
        budget=budget,
        screened=int(screening.get("screened", 0)),
        screening_seconds=float(screening.get("seconds", 0.0)),
        fast=int(screening.get("fast", 0)),
        naive=int(screening.get("naive", 0)),
        fallbacks=_fallbacks(screening.get("fallbacks")),
        peak_mb=peak,
        reason=reason[:300] or (result.stderr.strip()[-300:] if status == "error" else ""),
    )


def _fallbacks(found: object) -> dict[str, int]:
    if isinstance(found, dict):
        return {str(cause): int(count) for cause, count in found.items()}
    if isinstance(found, list):  # an older mendbot: one line per failed worker batch
        return dict(Counter(str(cause) for cause in found))
    return {}


def _last_json(stdout: str) -> dict[str, Any]:
    for start in [
        i for i, ch in enumerate(stdout) if ch == "{" and (i == 0 or stdout[i - 1] == "\n")
    ]:
        with contextlib.suppress(ValueError):
            found = json.loads(stdout[start:])
            if isinstance(found, dict):
                return found
    return {}


def check_fix(prepared: Prepared, branch: str) -> str:
    """exact (the pristine code again, up to layout), test_edit (the fix changed a file the
    suite collects tests from), plausible (the plain suite passes) or false_claim."""
    changed = git(["diff", "--name-only", "pristine", branch], cwd=prepared.repo).split()
    if set(changed) & prepared.test_files:
        return "test_edit"
    if all(_same_code(prepared.repo, path, branch) for path in changed):
        return "exact"
    checkout = prepared.repo.parent / "check"
    shutil.rmtree(checkout, ignore_errors=True)
    git(["worktree", "prune"], cwd=prepared.repo)
    git(["worktree", "add", "-q", "--detach", str(checkout), branch], cwd=prepared.repo)
    try:
        result = run(
            _plain_argv(prepared.python, prepared.selection),
            cwd=checkout,
            env=_environment(),
            timeout=5 * prepared.plain_median + 120,
        )
    finally:
        git(["worktree", "remove", "--force", str(checkout)], cwd=prepared.repo, check=False)
    return "plausible" if result.returncode == 0 and not result.timed_out else "false_claim"


def _same_code(repo: Path, path: str, branch: str) -> bool:
    """Whether ``path`` holds the same Python code on the branch as in the pristine tree."""
    import ast

    texts = []
    for ref in ("pristine", branch):
        shown = gitcmd.run(
            ["show", f"{ref}:{path}"], gitcmd.Place(repo), timeout=60, output_limit=1 << 26
        )
        if shown.returncode != 0:
            return False
        texts.append(shown.stdout)
    try:
        return ast.dump(ast.parse(texts[0])) == ast.dump(ast.parse(texts[1]))
    except (SyntaxError, ValueError):
        return texts[0] == texts[1]


# ------------------------------------------------------------------ numbers


def summarize_library(prepared: Prepared, outcomes: Sequence[FixOutcome]) -> dict[str, Any]:
    fixed = [o for o in outcomes if o.verdict in ("exact", "plausible")]
    times = [o.seconds for o in fixed]
    screened = sum(o.screened for o in outcomes)
    screening_seconds = sum(o.screening_seconds for o in outcomes)
    causes: Counter[str] = Counter()
    for outcome in outcomes:
        causes.update(outcome.fallbacks)
    median_fix = round(statistics.median(times), 1) if times else None
    plain = prepared.plain_median
    peak = max((o.peak_mb for o in outcomes), default=0.0)
    return {
        "library": f"{prepared.library.name} {prepared.library.version}",
        "tests": prepared.tests,
        "already_failing": list(prepared.deselected),
        "plain_suite_s": round(plain, 2),
        "plain_suite_runs_s": [round(s, 2) for s in prepared.plain_seconds],
        "bugs": len(outcomes),
        "fixed": len(fixed),
        "exact_reverts": sum(1 for o in outcomes if o.verdict == "exact"),
        "plausible_others": sum(1 for o in outcomes if o.verdict == "plausible"),
        "false_claims": sum(1 for o in outcomes if o.verdict in ("false_claim", "test_edit")),
        "test_edits": sum(1 for o in outcomes if o.verdict == "test_edit"),
        "median_time_to_fix_s": median_fix,
        "time_per_plain_suite": round(median_fix / plain, 1) if median_fix and plain else None,
        "target_time_s": round(3 * plain + 10, 1),
        "candidates_per_s": round(screened / screening_seconds, 1) if screening_seconds else None,
        "candidates_screened": screened,
        "fast_screened": sum(o.fast for o in outcomes),
        "fallbacks": sum(o.naive for o in outcomes),
        "fallback_causes": dict(causes.most_common()),
        "peak_memory_mb": round(peak, 1),
        "plain_peak_memory_mb": round(prepared.plain_peak_mb, 1),
        "memory_per_plain": round(peak / prepared.plain_peak_mb, 1)
        if prepared.plain_peak_mb
        else None,
        "largest_overrun_s": round(max((o.seconds - o.budget for o in outcomes), default=0.0), 1),
    }


def outcome_to_json(outcome: FixOutcome) -> dict[str, Any]:
    return {
        "library": outcome.library,
        "bug": outcome.bug,
        "mutation": f"{outcome.mutant.path}:{outcome.mutant.line} {outcome.mutant.operator}",
        "before": outcome.mutant.before,
        "after": outcome.mutant.after,
        "status": outcome.status,
        "branch": outcome.branch,
        "verdict": outcome.verdict,
        "seconds": round(outcome.seconds, 1),
        "budget_s": outcome.budget,
        "screened": outcome.screened,
        "screening_s": round(outcome.screening_seconds, 2),
        "fast": outcome.fast,
        "fallbacks": outcome.naive,
        "fallback_causes": dict(outcome.fallbacks),
        "peak_memory_mb": round(outcome.peak_mb, 1),
        "reason": outcome.reason,
    }


def summarize(libraries: Sequence[dict[str, Any]]) -> dict[str, Any]:
    bugs = sum(int(lib["bugs"]) for lib in libraries)
    fixed = sum(int(lib["fixed"]) for lib in libraries)
    return {
        "libraries": len(libraries),
        "bugs": bugs,
        "fixed": fixed,
        "fix_rate": round(fixed / bugs, 3) if bugs else None,
        "false_claims": sum(int(lib["false_claims"]) for lib in libraries),
        "within_time_target": sum(
            1
            for lib in libraries
            if lib["median_time_to_fix_s"] is not None
            and lib["median_time_to_fix_s"] <= lib["target_time_s"]
        ),
        "largest_overrun_s": max((lib["largest_overrun_s"] for lib in libraries), default=0.0),
        "mutation_tool": "cosmic-ray (benchmarks/real/requirements-tools.txt)",
    }


def run_bench(
    libraries: Sequence[Library], settings: Settings
) -> tuple[list[dict[str, Any]], list[FixOutcome]]:
    per_library: list[dict[str, Any]] = []
    outcomes: list[FixOutcome] = []
    for library in libraries:
        prepared = prepare(library, settings)
        settings.progress(
            f"{library.name}: {prepared.tests} tests, plain suite "
            f"{', '.join(f'{s:.1f}' for s in prepared.plain_seconds)} s"
            + (
                f"; {len(prepared.deselected)} fail already (deselected)"
                if prepared.deselected
                else ""
            )
        )
        mine = []
        found = bugs(prepared, settings)
        for branch, mutant in found:
            outcome = fix(prepared, branch, mutant, settings)
            settings.progress(
                f"{library.name} {branch} ({mutant.path}:{mutant.line} {mutant.before!r} -> "
                f"{mutant.after!r}): {outcome.verdict} in {outcome.seconds:.1f}s, "
                f"{outcome.screened} screened, {outcome.naive} fallbacks"
            )
            mine.append(outcome)
        outcomes.extend(mine)
        summary = summarize_library(prepared, mine)
        if settings.compare_count:
            branches = [branch for branch, _ in found]
            summary["screening_comparison"] = compare_library(prepared, settings, branches)
        per_library.append(summary)
    return per_library, outcomes


def compare_library(
    prepared: Prepared, settings: Settings, branches: Sequence[str]
) -> dict[str, Any]:
    """The first ``compare_count`` candidates of each bug (its branch), screened through the
    fast and the naive path on the library's whole suite: times and the verdicts that differ."""
    from bot.bench import compare_screening_in
    from bot.config import Settings as RepairSettings
    from bot.sandbox.registry import make_sandbox

    repair = RepairSettings(python=str(prepared.python))
    found: list[Any] = []
    for branch in branches:
        settings.progress(f"{prepared.library.name} {branch}: screening fast and naive")
        with tempfile.TemporaryDirectory(prefix="mendbot-compare-") as tmp:
            clone = Path(tmp) / "repo"
            git(["clone", "-q", "--branch", branch, str(prepared.repo), str(clone)], cwd=Path(tmp))
            comparison = compare_screening_in(
                f"{prepared.library.name} {branch}",
                clone,
                repair,
                functools.partial(make_sandbox, repair, project=clone),
                settings.compare_count,
                prepared.selection,
            )
        if comparison is not None:
            found.append(comparison)
    fast = sum(c.fast_seconds for c in found)
    naive = sum(c.naive_seconds for c in found)
    return {
        "bugs": len(found),
        "candidates": sum(c.candidates for c in found),
        "fast_s": round(fast, 1),
        "naive_s": round(naive, 1),
        "naive_per_fast": round(naive / fast, 1) if fast else None,
        "worker_startup_s": round(sum(c.startup_seconds for c in found), 1),
        "disagreements": [d for c in found for d in c.disagreements],
    }
