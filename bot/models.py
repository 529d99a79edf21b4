"""Frozen dataclasses that flow between the pipeline's stages.

Each stage takes some of these and returns one; nothing else (no click contexts, no loose
dicts) crosses a stage boundary.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path


class FailureClass(enum.StrEnum):
    FORMAT = "FORMAT"
    CONTRACT = "CONTRACT"
    RUNTIME_SAFETY = "RUNTIME_SAFETY"
    LOGIC = "LOGIC"


class Outcome(enum.StrEnum):
    PASSED = "passed"
    FAILED = "failed"
    ERROR = "error"
    SKIPPED = "skipped"
    TIMEOUT = "timeout"
    NOT_RUN = "not_run"

    @property
    def is_bad(self) -> bool:
        return self in (Outcome.FAILED, Outcome.ERROR, Outcome.TIMEOUT)


class RunStatus(enum.StrEnum):
    FIXED = "fixed"
    NOT_FIXED = "not_fixed"
    NOTHING_TO_FIX = "nothing_to_fix"
    ERROR = "error"


class TriggerKind(enum.StrEnum):
    CLI = "cli"
    HOOK = "hook"
    ISSUE = "issue"
    PR_COMMENT = "pr_comment"
    REVIEW_COMMENT = "review_comment"
    CI_RUN = "ci_run"  # a failed workflow run of the project's CI
    BENCH = "bench"


@dataclass(frozen=True)
class Trigger:
    """Why a run happens and what it starts from."""

    kind: TriggerKind
    repo_path: Path  # the folder the user named (may be inside a larger repository)
    base_ref: str = "HEAD"
    include_uncommitted: bool = True
    branch_name: str | None = None  # forced working branch (issue/PR triggers)
    hint_path: str | None = None  # a localization hint (review comment path, repo-relative)
    hint_line: int | None = None
    instruction: str = ""  # untrusted text from a person; data, never a command
    label: str = ""  # short human name for reports (e.g. "issue #12")


@dataclass(frozen=True)
class Workspace:
    """A git worktree on the working branch, outside the user's checkout."""

    repo_root: Path  # the user's repository top level
    worktree: Path  # top level of our worktree
    project_dir: Path  # the project folder inside the worktree
    project_subdir: str  # posix path of the project folder relative to the repo root ("" = root)
    base_commit: str  # the snapshot the run starts from (HEAD or a stash-like commit)
    head_commit: str  # the user's HEAD when the run started
    branch: str
    run_id: str
    reused_branch: bool = False
    notes: tuple[str, ...] = ()  # said once at the start (leftovers cleaned, files brought)
    ignored: frozenset[str] = frozenset()  # files git ignores, copied in (repo-relative)


@dataclass(frozen=True)
class ProcessResult:
    returncode: int
    stdout: str
    stderr: str
    duration: float
    timed_out: bool = False
    output_truncated: bool = False


@dataclass(frozen=True)
class TestResult:
    __test__ = False

    nodeid: str
    outcome: Outcome
    duration: float = 0.0
    message: str = ""  # one line: "AssertionError: assert 3 == 4"
    exception_type: str = ""  # "AssertionError"
    traceback: str = ""  # pytest's long representation, trimmed


@dataclass(frozen=True)
class CollectionError:
    path: str
    message: str
    traceback: str = ""


@dataclass(frozen=True)
class TestRun:
    """The outcome of one pytest run: results keyed by node id, plus what went wrong around them."""

    __test__ = False

    results: tuple[TestResult, ...]
    collection_errors: tuple[CollectionError, ...] = ()
    duration: float = 0.0
    exit_code: int = 0
    timed_out: bool = False
    output_tail: str = ""
    # per-test coverage: nodeid -> file (project-relative posix) -> executed lines
    coverage: Mapping[str, Mapping[str, frozenset[int]]] = field(default_factory=dict)
    has_coverage: bool = False  # coverage was recorded (it may still be empty)
    # the part of ``coverage`` each test ran itself: without the lines its imports of the
    # project's modules ran (module-level code, class bodies, def lines); empty: unknown
    own_coverage: Mapping[str, Mapping[str, frozenset[int]]] = field(default_factory=dict)
    damage: str = ""  # what the run removed of the tree it ran in (restored since), if anything

    def by_id(self) -> dict[str, TestResult]:
        return {result.nodeid: result for result in self.results}

    @property
    def failing(self) -> tuple[str, ...]:
        return tuple(r.nodeid for r in self.results if r.outcome.is_bad)

    @property
    def passing(self) -> tuple[str, ...]:
        return tuple(r.nodeid for r in self.results if r.outcome is Outcome.PASSED)

    @property
    def green(self) -> bool:
        return not self.failing and not self.collection_errors and not self.timed_out


@dataclass(frozen=True)
class Frame:
    file: str  # project-relative posix path
    line: int
    function: str


@dataclass(frozen=True)
class Failure:
    nodeid: str
    failure_class: FailureClass
    exception_type: str
    message: str
    frames: tuple[Frame, ...]  # innermost last; only frames inside the project
    traceback: str = ""

    @property
    def fingerprint(self) -> str:
        top = self.frames[-1] if self.frames else None
        where = f"{top.file}:{top.function}" if top else "?"
        return f"{self.nodeid}|{self.exception_type}|{where}"


@dataclass(frozen=True)
class Location:
    file: str  # project-relative posix path
    line: int
    function: str  # qualified name, "" for module level
    score: float
    reason: str  # "traceback", "spectrum", "hint", ...


@dataclass(frozen=True)
class Analysis:
    failures: tuple[Failure, ...]
    locations: tuple[Location, ...]

    @property
    def primary_class(self) -> FailureClass:
        return primary_class_of(f.failure_class for f in self.failures)


# which class of failure a round is repaired as when its failures differ: the first here
_CLASS_ORDER = (
    FailureClass.FORMAT,
    FailureClass.RUNTIME_SAFETY,
    FailureClass.CONTRACT,
    FailureClass.LOGIC,
)


def primary_class_of(classes: Iterable[FailureClass]) -> FailureClass:
    """The class a round with failures of ``classes`` is repaired as (LOGIC for none)."""
    return min(classes, key=_CLASS_ORDER.index, default=FailureClass.LOGIC)


@dataclass(frozen=True)
class FileEdit:
    path: str  # project-relative posix path
    new_text: str


@dataclass(frozen=True)
class Candidate:
    """A proposed patch: whole new texts for the files it changes."""

    id: str
    engine: str
    template: str
    description: str
    edits: tuple[FileEdit, ...]
    location: Location | None = None
    size: int = 1  # edit size (changed tokens or nodes); smaller is preferred among equals
    prior: float = 0.0  # template prior; higher is tried first among equals
    rationale: str = ""  # why this edit addresses the failure, for the root-cause note

    @property
    def files(self) -> tuple[str, ...]:
        return tuple(edit.path for edit in self.edits)


@dataclass(frozen=True)
class Verdict:
    candidate_id: str
    accepted: bool
    reason: str
    fixed: tuple[str, ...] = ()  # target tests that now pass
    broken: tuple[str, ...] = ()  # tests that passed at base and now fail
    still_failing: tuple[str, ...] = ()
    stage: str = "screen"  # screen | selected | full | verify
    timed_out: bool = False  # the candidate, or one of its tests, ran out of time


@dataclass(frozen=True)
class Round:
    number: int
    engine: str
    commit: str | None  # None when rolled back
    files: tuple[str, ...]
    fixed_tests: tuple[str, ...]
    reason: str
    template: str = ""
    description: str = ""
    root_cause: str = ""
    rejected_ref: str | None = None
    candidates_tried: int = 0
    duration_s: float = 0.0
    partial: bool = False  # kept while the run went on, but the run did not end fixed
    proved_by: str = ""  # which tests proved the kept patch ("whole suite (N tests)", ...)
    exercised_by: tuple[str, ...] = ()  # the passing tests that run the changed lines
    doubts: tuple[str, ...] = ()  # what a gate or guard asks a reviewer to look at


@dataclass(frozen=True)
class RunResult:
    status: RunStatus
    base: str
    branch: str
    head: str
    rounds: tuple[Round, ...]
    fixed_tests: tuple[str, ...]
    remaining_failures: tuple[str, ...]
    diff: str
    candidates_tried: int
    duration_s: float
    reason: str = ""
    run_id: str = ""
    warnings: tuple[str, ...] = ()
    engines: tuple[str, ...] = ()
    analysis: Analysis | None = None
    project_subdir: str = ""
    worktree: str = ""
    extra: Mapping[str, object] = field(default_factory=dict)
