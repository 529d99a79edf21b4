"""The MendbotError family and the exit codes the one top-level handler maps them to."""

from __future__ import annotations

import enum


class ExitCode(enum.IntEnum):
    OK = 0
    NOT_FIXED = 1
    USAGE = 2
    INTERNAL = 3
    INTERRUPTED = 130


class MendbotError(Exception):
    """An expected failure with a message that tells the user what to do."""

    exit_code: ExitCode = ExitCode.USAGE

    def __init__(self, message: str, *, hint: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        if self.hint:
            return f"{self.message}\n  hint: {self.hint}"
        return self.message


class ConfigError(MendbotError):
    """Bad settings: a flag, pyproject.toml, .mendbot.toml or a MENDBOT_* variable."""


class RepositoryError(MendbotError):
    """The path is not a usable git repository, or git refused an operation."""


class TestSetupError(MendbotError):
    """The tests cannot be run at all: nothing collected, pytest missing, and so on."""

    __test__ = False


class SandboxError(MendbotError):
    """A sandbox backend cannot run (no Docker engine, image missing, ...)."""


class LLMError(MendbotError):
    """A model backend failed: unreachable, model missing, context too small, bad key."""


class GitHubError(MendbotError):
    """The GitHub API or a push failed in a way the user must act on."""


class BudgetExceeded(MendbotError):
    """A time, token or call budget ran out."""

    exit_code = ExitCode.NOT_FIXED
