"""Turn a rejected `git push` of a branch without upstream into the command git suggests."""

import re
from dataclasses import dataclass

SUGGESTION = re.compile(r"git push --set-upstream (\S+) (\S+)")
NO_UPSTREAM = "has no upstream branch"


@dataclass(frozen=True)
class Invocation:
    line: str
    stderr: str


def needs_upstream(command):
    """Whether git refused the push because the branch has no upstream yet."""
    return command.line.split()[:2] == ["git", "push"] and NO_UPSTREAM in command.stderr


def upstream(output):
    """(remote, branch) from git's suggested command in ``output``."""
    found = SUGGESTION.search(output)
    return found.group(1), found.group(2)


def corrected_line(command):
    """The push with ``--set-upstream`` added, keeping the user's other options."""
    remote, branch = upstream(command.stderr)
    options = [part for part in command.line.split()[2:] if part.startswith("-")]
    return " ".join(["git", "push", *options, "--set-upstream", remote, branch])
