"""`mendbot action`: the entry point of the GitHub Action (see action.yml).

It reads the runner's environment (GITHUB_EVENT_NAME, GITHUB_EVENT_PATH, GITHUB_REPOSITORY,
GITHUB_API_URL, GITHUB_TOKEN, GITHUB_OUTPUT, GITHUB_STEP_SUMMARY), takes the action's inputs as
options (each also readable from an environment variable, which is how action.yml passes them),
removes the token from the process environment before any test runs, and hands over to
``bot.github.flow.run_action``.
"""

from __future__ import annotations

import importlib
import os
from collections.abc import MutableMapping
from pathlib import Path

import click

from bot.config import Settings
from bot.errors import ConfigError
from bot.github.client import GitHubClient
from bot.github.flow import (
    ActionEnvironment,
    ActionInputs,
    Reproduce,
    ReproductionTest,
    run_action,
)
from bot.llm.registry import parse_model_spec
from bot.models import RunResult, Trigger
from bot.trace import redact

# Variables that may carry the GitHub token; none of them survives into the repair.
TOKEN_VARIABLES = ("GITHUB_TOKEN", "GH_TOKEN", "INPUT_TOKEN", "MENDBOT_GITHUB_TOKEN")


def pipeline_repair(trigger: Trigger, settings: Settings) -> RunResult:
    """The real repair: the CLI's adapters (sandbox, engines, trace) around the pipeline."""
    from bot.cli import ConsoleProgress, run_fix, stderr

    progress = ConsoleProgress(stderr, quiet=False)
    try:
        return run_fix(trigger, settings, progress)
    finally:
        progress.close()


def pipeline_reproducer() -> Reproduce | None:
    """The model-backed reproduction-test writer, when this installation has one."""
    try:
        module = importlib.import_module("bot.engines.reproduce")
    except ImportError:
        return None
    writer = getattr(module, "write_reproduction_test", None)
    if writer is None:
        return None

    def reproduce(trigger: Trigger, settings: Settings) -> ReproductionTest | None:
        test = writer(trigger, settings)
        if test is None:
            return None
        return ReproductionTest(
            path=str(test.path),
            text=str(test.text),
            description=str(getattr(test, "description", "")),
        )

    return reproduce


def lend_token_to_github_models(
    model: str | None, token: str, environ: MutableMapping[str, str]
) -> None:
    """``model: github:...`` uses GitHub Models with the workflow's own token (which needs
    ``permissions: models: read``), unless a key of its own is given in MENDBOT_LLM_KEY.

    The token goes into MENDBOT_LLM_KEY, read only by the model backend: sandboxes pass an
    allow-list of variables, never one named like a key, and reports redact the token.
    """
    if not model or environ.get("MENDBOT_LLM_KEY"):
        return
    try:
        provider = parse_model_spec(model).provider
    except ConfigError:
        return  # the settings report a bad spec with its hint
    if provider == "github":
        environ["MENDBOT_LLM_KEY"] = token


def client_for(environment: ActionEnvironment) -> GitHubClient:
    return GitHubClient(environment.token, environment.repository, api_url=environment.api_url)


@click.command("action")
@click.option(
    "--trigger-label",
    envvar="MENDBOT_TRIGGER_LABEL",
    default="mendbot",
    show_default=True,
    help="the issue label that starts a repair",
)
@click.option(
    "--trigger-phrase",
    envvar="MENDBOT_TRIGGER_PHRASE",
    default="/mendbot fix",
    show_default=True,
    help="the phrase in a pull request comment that starts a repair",
)
@click.option("--model", envvar="MENDBOT_INPUT_MODEL", default=None, help="LLM spec")
@click.option("--llm-url", envvar="MENDBOT_INPUT_LLM_URL", default=None, help="model server URL")
@click.option(
    "--engine", envvar="MENDBOT_INPUT_ENGINE", default=None, help="auto, templates or llm"
)
@click.option(
    "--max-rounds",
    envvar="MENDBOT_INPUT_MAX_ROUNDS",
    type=int,
    default=None,
    help="repair rounds at most",
)
@click.option(
    "--time-budget",
    envvar="MENDBOT_INPUT_TIME_BUDGET",
    type=float,
    default=None,
    help="seconds for the whole repair",
)
@click.option("--sandbox", envvar="MENDBOT_INPUT_SANDBOX", default=None, help="local or docker")
@click.option(
    "--python",
    "python",
    envvar="MENDBOT_INPUT_PYTHON",
    default=None,
    help="the interpreter that runs the tests (it needs the project's test dependencies)",
)
@click.option(
    "--draft/--no-draft",
    envvar="MENDBOT_DRAFT",
    default=True,
    show_default=True,
    help="open pull requests as drafts",
)
@click.option(
    "--allow-forks/--no-allow-forks",
    envvar="MENDBOT_ALLOW_FORKS",
    default=False,
    show_default=True,
    help="workflow_run: also repair failed CI runs of pull requests from forks",
)
@click.option(
    "--comment-unreproduced/--no-comment-unreproduced",
    envvar="MENDBOT_COMMENT_UNREPRODUCED",
    default=False,
    show_default=True,
    help="workflow_run: comment when a failed run does not reproduce (default: say nothing)",
)
@click.option(
    "--checkout",
    type=click.Path(path_type=Path, file_okay=False),
    default=None,
    help="the repository checkout (default: GITHUB_WORKSPACE, else the current folder)",
)
def action(
    trigger_label: str,
    trigger_phrase: str,
    model: str | None,
    llm_url: str | None,
    engine: str | None,
    max_rounds: int | None,
    time_budget: float | None,
    sandbox: str | None,
    python: str | None,
    draft: bool,
    allow_forks: bool,
    comment_unreproduced: bool,
    checkout: Path | None,
) -> None:
    """Run as a GitHub Action: act on the event in GITHUB_EVENT_PATH and report on GitHub."""
    environment = ActionEnvironment.from_environ(os.environ, checkout)
    for name in TOKEN_VARIABLES:  # the tests under repair never see the token
        os.environ.pop(name, None)
    lend_token_to_github_models(model, environment.token, os.environ)
    inputs = ActionInputs(
        trigger_label=trigger_label,
        trigger_phrase=trigger_phrase,
        draft=draft,
        allow_forks=allow_forks,
        comment_unreproduced=comment_unreproduced,
        settings_flags={
            "model": model,
            "llm_url": llm_url,
            "engine": engine,
            "max_rounds": max_rounds,
            "time_budget": time_budget,
            "sandbox": sandbox,
            "python": python,
        },
    )

    def log(text: str) -> None:
        click.echo(f"mendbot: {redact(text, [environment.token])}", err=True)

    outcome = run_action(
        environment,
        inputs,
        run_repair=pipeline_repair,
        make_client=client_for,
        reproduce=pipeline_reproducer(),
        log=log,
    )
    log(f"{outcome.status}: {outcome.message}")
    if outcome.pr_url:
        log(f"pull request: {outcome.pr_url}")
