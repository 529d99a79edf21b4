"""action.yml and the user workflow: inputs reach the shell through env only, pins, permissions."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import click
import pytest
import yaml

from bot.commands.action import action as action_command

ROOT = Path(__file__).resolve().parents[1]
EXPRESSION = re.compile(r"\$\{\{\s*(.*?)\s*\}\}")
PINNED = re.compile(r"^[\w.-]+/[\w.-]+@[0-9a-f]{40}$")


def load(path: Path) -> dict[str, Any]:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    assert isinstance(data, dict)
    return data


@pytest.fixture(scope="module")
def action() -> dict[str, Any]:
    return load(ROOT / "action.yml")


@pytest.fixture(scope="module")
def workflow() -> dict[str, Any]:
    return load(ROOT / "examples" / "workflows" / "mendbot.yml")


def all_steps(document: dict[str, Any]) -> list[dict[str, Any]]:
    if "runs" in document:
        return list(document["runs"]["steps"])
    return [step for job in document["jobs"].values() for step in job["steps"]]


@pytest.mark.parametrize("name", ["action", "workflow"])
def test_no_expression_inside_any_run(name: str, request: pytest.FixtureRequest) -> None:
    document = request.getfixturevalue(name)
    runs = [step["run"] for step in all_steps(document) if "run" in step]
    assert runs, "expected shell steps"
    for script in runs:
        assert "${{" not in script, f"inline expression in run: {script!r}"


def test_action_is_composite_with_pinned_setup_python(action: dict[str, Any]) -> None:
    assert action["runs"]["using"] == "composite"
    uses = [step["uses"] for step in all_steps(action) if "uses" in step]
    assert any(u.startswith("actions/setup-python@") for u in uses)
    for reference in uses:
        assert PINNED.match(reference.split()[0]), f"not pinned to a commit: {reference}"
    installs = [s["run"] for s in all_steps(action) if "run" in s and "pip install" in s["run"]]
    assert len(installs) == 1 and '"$GITHUB_ACTION_PATH"' in installs[0]
    for step in all_steps(action):
        if "run" in step:
            assert step.get("shell") == "bash"


def test_every_input_is_passed_through_env(action: dict[str, Any]) -> None:
    expected = {
        "trigger-label": "mendbot",
        "trigger-phrase": "/mendbot fix",
        "model": "",
        "llm-url": "",
        "engine": "",
        "max-rounds": "",
        "time-budget": "",
        "sandbox": "",
        "token": "${{ github.token }}",
        "draft": "true",
        "allow-forks": "false",
        "comment-unreproduced": "false",
    }
    inputs = action["inputs"]
    for name, default in expected.items():
        assert name in inputs, f"missing input {name}"
        assert str(inputs[name]["default"]) == default
    passed: dict[str, str] = {}
    for step in all_steps(action):
        for variable, value in (step.get("env") or {}).items():
            for expression in EXPRESSION.findall(str(value)):
                if expression.startswith("inputs."):
                    passed[expression.removeprefix("inputs.")] = variable
    assert set(passed) == set(inputs), "every input must reach a step through env"
    # ... and through a variable `mendbot action` actually reads
    assert isinstance(action_command, click.Command)
    read = {
        envvar
        for parameter in action_command.params
        for envvar in (
            [parameter.envvar] if isinstance(parameter.envvar, str) else parameter.envvar or []
        )
    }
    for name, variable in passed.items():
        assert variable in read or variable == "GITHUB_TOKEN", f"{name} -> {variable} is never read"
    assert passed["token"] == "GITHUB_TOKEN"


def test_outputs_and_branding(action: dict[str, Any]) -> None:
    assert set(action["outputs"]) == {"status", "pr-url", "branch", "rounds", "report"}
    for name, output in action["outputs"].items():
        assert output["value"] == f"${{{{ steps.mendbot.outputs.{name} }}}}"
    assert action["branding"]["icon"] and action["branding"]["color"]
    entry = [s for s in all_steps(action) if s.get("id") == "mendbot"]
    assert len(entry) == 1
    assert entry[0]["run"].rstrip().endswith('/mendbot-venv/bin/mendbot" action')


def test_user_workflow_has_job_permissions_and_the_four_triggers(
    workflow: dict[str, Any],
) -> None:
    # PyYAML reads the key `on` as True (YAML 1.1)
    triggers = workflow.get("on", workflow.get(True))
    assert triggers == {
        "issues": {"types": ["labeled"]},
        "issue_comment": {"types": ["created"]},
        "pull_request_review_comment": {"types": ["created"]},
        "workflow_run": {"workflows": ["ci"], "types": ["completed"]},
    }
    assert workflow["permissions"] == {}  # nothing at the workflow level
    (job,) = workflow["jobs"].values()
    assert job["permissions"] == {
        "contents": "write",
        "pull-requests": "write",
        "issues": "write",
        "models": "read",
    }
    checkout = next(
        s for s in job["steps"] if str(s.get("uses", "")).startswith("actions/checkout@")
    )
    assert checkout["with"]["persist-credentials"] is False
    for step in job["steps"]:
        if "uses" in step:
            assert PINNED.match(step["uses"]), step["uses"]  # mendbot's own step included
    assert any(str(step.get("uses", "")).startswith("mendbot/") for step in job["steps"])


def test_the_filter_and_the_action_read_the_same_label_and_phrase(
    action: dict[str, Any], workflow: dict[str, Any]
) -> None:
    """Changing the label or the phrase is one repository variable: the job's `if:` and the
    action's inputs use the same expression, whose fallback is the action's default."""
    (job,) = workflow["jobs"].values()
    (step,) = [s for s in job["steps"] if str(s.get("uses", "")).startswith("mendbot/")]
    condition = job["if"]
    for name, variable in (
        ("trigger-label", "MENDBOT_TRIGGER_LABEL"),
        ("trigger-phrase", "MENDBOT_TRIGGER_PHRASE"),
    ):
        expression = f"vars.{variable} || '{action['inputs'][name]['default']}'"
        assert step["with"][name] == f"${{{{ {expression} }}}}"
        assert expression in condition
        # no other spelling of the default hides in the filter
        default = str(action["inputs"][name]["default"])
        assert condition.count(f"'{default}'") == condition.count(expression)


def test_the_docs_list_every_input_and_output() -> None:
    docs = (ROOT / "docs" / "github-action.md").read_text(encoding="utf-8")
    action = load(ROOT / "action.yml")
    for name in (*action["inputs"], *action["outputs"]):
        assert f"| `{name}` |" in docs, f"{name} is missing from docs/github-action.md"


def test_the_action_caches_pip_downloads(action: dict[str, Any]) -> None:
    steps = all_steps(action)
    caches = [s for s in steps if str(s.get("uses", "")).startswith("actions/cache@")]
    assert len(caches) == 1 and caches[0]["with"]["path"] == "~/.cache/pip"
    install = next(s for s in steps if s.get("name") == "Install mendbot")
    assert steps.index(caches[0]) < steps.index(install)
    assert '--cache-dir "$HOME/.cache/pip"' in install["run"]
