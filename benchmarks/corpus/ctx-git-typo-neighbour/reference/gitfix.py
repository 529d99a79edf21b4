"""Suggest the intended git subcommand when a mistyped one is rejected."""

from dataclasses import dataclass
from difflib import get_close_matches

KNOWN = ("checkout", "cherry-pick", "clone", "commit", "diff", "pull", "push", "rebase", "status")


@dataclass(frozen=True)
class Invocation:
    line: str
    stderr: str


def _typed(command):
    """The subcommand the user typed: the first word after ``git``."""
    parts = command.line.split()
    return parts[1] if len(parts) > 1 and parts[0] == "git" else ""


def is_unknown_subcommand(command):
    """Whether git refused the subcommand as unknown."""
    return "is not a git command" in command.stderr and bool(_typed(command))


def _suggestions(typed):
    """Known subcommands close to what was typed, best first."""
    return get_close_matches(typed, KNOWN, n=3, cutoff=0.6)


def corrected_line(command):
    """The command line with the mistyped subcommand replaced by the closest known one."""
    typed = _typed(command)
    best = _suggestions(typed)[0]
    return command.line.replace(typed, best, 1)
