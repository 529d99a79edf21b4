"""The small protocol every sandbox backend satisfies."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from bot.models import ProcessResult


@dataclass(frozen=True)
class Limits:
    memory_mb: int = 2048
    processes: int = 256
    file_size_mb: int = 256
    cpu_seconds: int = 600
    output_limit: int = 256 * 1024


@dataclass(frozen=True)
class SandboxCommand:
    """One command to run against a project tree.

    ``argv[0]`` may be the placeholder ``"{python}"``, which each backend replaces with its own
    interpreter. ``support_dir`` holds files mendbot puts next to the run (its pytest plugin)
    and ``result_dir`` is where the run writes the files mendbot reads back (JUnit XML,
    coverage data); both are host paths. ``workdir`` is the folder to run in, inside ``root``.
    """

    argv: Sequence[str]
    root: Path  # the tree the run may see (the worktree)
    workdir: Path  # where to run, inside root
    result_dir: Path
    support_dir: Path
    env: Mapping[str, str] = field(default_factory=dict)
    timeout: float = 300.0
    limits: Limits = Limits()
    # for a long-lived command (backends with ``persistent_workers``): its standard input,
    # and a callback that receives the started process so its owner can stop it early
    stdin_fd: int | None = None
    on_start: Callable[[Any], None] | None = field(default=None, compare=False)


class Sandbox(Protocol):
    name: str

    def run(self, command: SandboxCommand) -> ProcessResult: ...

    def warnings(self) -> Sequence[str]:
        """Human-readable notes on reduced isolation, said once per run."""
        ...


PYTHON_PLACEHOLDER = "{python}"
