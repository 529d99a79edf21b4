"""`mendbot sandbox prepare` builds the docker sandbox's image; `mendbot sandbox status` says
what each sandbox can do on this machine."""

from __future__ import annotations

from pathlib import Path

import click

from bot.config import Settings, load_settings
from bot.errors import MendbotError


def _settings(path: Path, base_image: str | None, setup_command: str | None) -> Settings:
    return load_settings(path, {"base_image": base_image, "setup_command": setup_command})


@click.group()
def sandbox() -> None:
    """Prepare and inspect the sandboxes the tests run in."""


@sandbox.command()
@click.argument(
    "path", type=click.Path(exists=True, file_okay=False, path_type=Path), default=Path(".")
)
@click.option("--base-image", default=None, help="image to build on (default python:3.12-slim)")
@click.option(
    "--wheelhouse",
    type=click.Path(exists=True, file_okay=False, path_type=Path),
    default=None,
    help="install only from the wheels in this folder (no index; the build has no network)",
)
@click.option(
    "--setup-command",
    default=None,
    help="shell command that installs the test dependencies (instead of reading them)",
)
@click.option("--rebuild", is_flag=True, help="build again even when the image exists")
def prepare(
    path: Path,
    base_image: str | None,
    wheelhouse: Path | None,
    setup_command: str | None,
    rebuild: bool,
) -> None:
    """Build the image the docker sandbox runs PATH's tests in (default: this folder).

    The image holds pytest, pytest-cov, coverage and the project's test dependencies (from
    pyproject extras and requirements files, or the setup command). It is tagged by a hash of
    the dependency files and the base image, and reused until they change.
    """
    from bot.sandbox.docker import connect
    from bot.sandbox.prepare import prepare_image, read_recipe

    project = path.resolve()
    settings = _settings(project, base_image, setup_command)
    recipe = read_recipe(project, settings.base_image, settings.setup_command)
    client = connect()
    source = (
        f"setup command {recipe.setup_command!r}"
        if recipe.setup_command
        else f"{len(recipe.requirements)} requirement(s) from "
        + (", ".join(name for name, _digest in recipe.dependency_files) or "no dependency files")
    )
    click.echo(f"preparing {recipe.tag} from {recipe.base_image}: {source}", err=True)
    if not recipe.setup_command and not recipe.requirements:
        click.echo(
            "  no test dependencies found in pyproject.toml or requirements files: the image "
            "gets pytest, pytest-cov and coverage only (--setup-command installs more)",
            err=True,
        )
    prepared = prepare_image(
        client,
        project,
        recipe,
        wheelhouse=wheelhouse.resolve() if wheelhouse else None,
        rebuild=rebuild,
        progress=lambda line: click.echo(f"  {line}", err=True),
    )
    state = "exists already (reused)" if prepared.reused else "built"
    click.echo(f"{prepared.tag} {state}", err=True)
    if base_image and base_image != _settings(project, None, None).base_image:
        click.echo(
            f'to choose this base every time, set base-image = "{base_image}" in '
            "[tool.mendbot] (without it, runs still find this image and say so)",
            err=True,
        )
    click.echo(prepared.tag)


@sandbox.command()
@click.argument(
    "path", type=click.Path(exists=True, file_okay=False, path_type=Path), default=Path(".")
)
def status(path: Path) -> None:
    """Say what the local and docker sandboxes can do here, and whether PATH's image exists."""
    from bot.sandbox.docker import connect
    from bot.sandbox.local import LocalSandbox
    from bot.sandbox.prepare import find_image, read_recipe

    project = path.resolve()
    settings = load_settings(project)
    local = LocalSandbox(settings.python)
    isolation = local.isolation()
    click.echo(f"local sandbox: {isolation.mechanism}")
    for label, granted in (
        ("no network", isolation.network),
        ("own PID namespace", isolation.pid_namespace),
        ("read-only outside the worktree", isolation.read_only),
        ("process limit", local.process_limit() is not None),
    ):
        click.echo(f"  {'yes' if granted else 'NO '}  {label}")
    for warning in local.warnings():
        click.echo(f"  warning: {warning}")
    try:
        client = connect(5.0)
    except MendbotError as error:
        click.echo(f"docker sandbox: unavailable: {error.message}")
        return
    version = client.version().get("Version", "?")
    click.echo(f"docker sandbox: engine {version} answers")
    recipe = read_recipe(project, settings.base_image, settings.setup_command)
    image, note = find_image(client, recipe)
    if image:
        click.echo(f"  image: {image}")
        if note:
            click.echo(f"  note: {note}")
    else:
        click.echo(f"  image: {recipe.tag} is missing: run `mendbot sandbox prepare {project}`")
