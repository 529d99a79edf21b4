"""Sandbox backends by name: "local", "docker", and "auto" (docker when it can run here)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from bot.config import Settings
from bot.errors import ConfigError, MendbotError
from bot.sandbox.base import Sandbox
from bot.sandbox.local import LocalSandbox

if TYPE_CHECKING:
    from bot.sandbox.docker import DockerSandbox


def _local(settings: Settings, project: Path | None) -> Sandbox:
    return LocalSandbox(settings.python)


def _docker_sandbox(settings: Settings, project: Path | None, timeout: float) -> DockerSandbox:
    from bot.sandbox.docker import DockerSandbox, connect

    return DockerSandbox(
        project=project,
        image=settings.docker_image,
        base_image=settings.base_image,
        setup_command=settings.setup_command,
        client=connect(timeout),
    )


def _docker(settings: Settings, project: Path | None) -> Sandbox:
    sandbox = _docker_sandbox(settings, project, 30.0)
    if project is not None:
        sandbox.resolve_image(project)  # a missing image fails now, naming the prepare command
    return sandbox


def _auto(settings: Settings, project: Path | None) -> Sandbox:
    """Docker when an engine answers and the project's image exists; else local, saying why."""
    try:
        sandbox = _docker_sandbox(settings, project, 5.0)
        sandbox.resolve_image(project or Path.cwd())
    except MendbotError as error:
        reason = error.message + (f" ({error.hint})" if error.hint else "")
        note = f"sandbox auto: the docker sandbox cannot run: {reason}; using the local sandbox"
        return LocalSandbox(settings.python, notes=[note])
    return sandbox


SANDBOXES: dict[str, Callable[[Settings, Path | None], Sandbox]] = {
    "local": _local,
    "docker": _docker,
    "auto": _auto,
}


def make_sandbox(
    settings: Settings | str, python: str | None = None, *, project: Path | None = None
) -> Sandbox:
    """The sandbox ``settings.sandbox`` names, for the project in ``project`` (the folder whose
    dependency files choose the docker image; by default the folder each command runs in).

    ``make_sandbox(name, python)`` also works: default settings with that sandbox and python.
    """
    if isinstance(settings, str):
        settings = Settings(sandbox=settings, python=python)
    try:
        factory = SANDBOXES[settings.sandbox]
    except KeyError:
        known = ", ".join(sorted(SANDBOXES))
        raise ConfigError(
            f"unknown sandbox {settings.sandbox!r}", hint=f"choose one of: {known}"
        ) from None
    return factory(settings, project)
