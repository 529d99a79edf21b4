"""A template engine run on given sources and an analysis, without a test run: the order of
the candidates it proposes is what these tests look at."""

from __future__ import annotations

import time
from pathlib import Path

from bot.engines.base import FeedbackLog, RepairContext
from bot.engines.templates import TemplateEngine
from bot.models import Analysis, Candidate, Failure, FailureClass, Frame, Location, TestRun


def failure(
    failure_class: FailureClass, exception_type: str, frames: tuple[Frame, ...] = ()
) -> Failure:
    return Failure(
        nodeid="tests/test_x.py::test_x",
        failure_class=failure_class,
        exception_type=exception_type,
        message=f"{exception_type}: something",
        frames=frames,
    )


def proposals(
    sources: dict[str, str],
    locations: list[Location],
    failures: list[Failure],
    project_dir: Path,
) -> list[Candidate]:
    context = RepairContext(
        project_dir=project_dir,
        sources=sources,
        test_sources={},
        analysis=Analysis(failures=tuple(failures), locations=tuple(locations)),
        baseline=TestRun(results=()),
        round_number=1,
        deadline=time.monotonic() + 60,
        feedback=FeedbackLog(),
    )
    return list(TemplateEngine(pairs=False).propose(context))


def new_text(candidate: Candidate) -> str:
    return candidate.edits[0].new_text
