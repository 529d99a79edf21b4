"""Step outputs (``$GITHUB_OUTPUT``) and the job summary (``$GITHUB_STEP_SUMMARY``).

Outputs use the multi-line form ``name<<DELIMITER`` with a fresh random delimiter per value,
so no value (a branch name, a URL) can end the block early and inject another output.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Mapping
from pathlib import Path

from bot.errors import GitHubError

_OUTPUT_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_-]*$")


def _delimiter(value: str) -> str:
    while True:
        candidate = f"mendbot_{secrets.token_hex(16)}"
        if candidate not in value:
            return candidate


def format_outputs(values: Mapping[str, str]) -> str:
    blocks = []
    for name, value in values.items():
        if not _OUTPUT_NAME.match(name):
            raise GitHubError(f"invalid output name {name!r}")
        delimiter = _delimiter(value)
        blocks.append(f"{name}<<{delimiter}\n{value}\n{delimiter}\n")
    return "".join(blocks)


def write_outputs(path: Path | None, values: Mapping[str, str]) -> None:
    """Append the values to the GITHUB_OUTPUT file; without one (a local run) do nothing."""
    if path is None:
        return
    try:
        with path.open("a", encoding="utf-8") as handle:
            handle.write(format_outputs(values))
    except OSError as error:
        raise GitHubError(f"cannot write the step outputs to {path}: {error}") from None


def append_summary(path: Path | None, markdown: str) -> None:
    if path is None:
        return
    try:
        with path.open("a", encoding="utf-8") as handle:
            handle.write(markdown.rstrip() + "\n")
    except OSError as error:
        raise GitHubError(f"cannot write the job summary to {path}: {error}") from None
