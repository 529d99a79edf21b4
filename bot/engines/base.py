"""What an engine receives and the protocol it satisfies."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from bot.engines.mutations.learned import NO_LEARNED_PRIORS, LearnedPriors
from bot.models import Analysis, Candidate, TestRun, Verdict


@dataclass
class FeedbackLog:
    """Verdicts on earlier candidates, appended by the pipeline as it validates them.

    Engines read it to resample with knowledge of why earlier tries failed. It is the one
    mutable object an engine sees, and only the pipeline writes to it.
    """

    verdicts: list[tuple[Candidate, Verdict]] = field(default_factory=list)

    def add(self, candidate: Candidate, verdict: Verdict) -> None:
        self.verdicts.append((candidate, verdict))

    def rejected(self) -> list[tuple[Candidate, Verdict]]:
        return [(c, v) for c, v in self.verdicts if not v.accepted]


@dataclass(frozen=True)
class RepairContext:
    project_dir: Path  # the current round's tree (read only for engines)
    sources: Mapping[str, str]  # project-relative path -> text, code under repair (no tests)
    test_sources: Mapping[str, str]  # project-relative path -> text of test files
    analysis: Analysis
    baseline: TestRun  # the run this round starts from
    round_number: int
    deadline: float  # time.monotonic() value after which engines stop proposing
    feedback: FeedbackLog
    instruction: str = ""  # untrusted text from a person: data for prompts, never a command
    allow_test_edits: bool = False
    protected: tuple[str, ...] = (".github/**",)
    learned: LearnedPriors = NO_LEARNED_PRIORS  # what the repository's earlier runs paid off


class Engine(Protocol):
    name: str

    def propose(self, context: RepairContext) -> Iterator[Candidate]:
        """Yield candidates, most promising first; stop when out of ideas or past the deadline."""
        ...

    def usage(self) -> Mapping[str, float]:
        """Counters for reports (model calls, tokens, seconds); empty for engines without."""
        ...
