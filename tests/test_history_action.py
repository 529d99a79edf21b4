"""Where the report goes in CI: the action pushes the run record next to the branch, writes
the HTML report for the workflow artifact (output `report`), links the workflow run from the
pull request, and puts the compact summary with its mermaid diagram in the job summary."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from pathlib import Path

import pytest
from fake_github import (
    TOKEN,
    FakeGitHub,
    clone_checkout,
    git,
    host_repository,
    issue_labeled_event,
)
from history_fixtures import cli
from test_github_flow import BUGGY, REPO, SETTINGS, World, make_client

from bot.commands.action import pipeline_repair
from bot.github.flow import ActionEnvironment, ActionInputs, run_action


@pytest.fixture
def hosted(tmp_path: Path) -> Iterator[World]:
    """The repository on a fake GitHub (as in test_github_flow) with a maintainer."""
    bare, work = host_repository(tmp_path, "widgets", BUGGY)
    checkout = clone_checkout(bare, tmp_path / "checkout")
    with FakeGitHub() as github:
        github.add_repo(REPO, git_dir=bare)
        github.set_permission(REPO, "maintainer", "write")
        yield World(tmp_path, github, bare, work, checkout)


@pytest.mark.slow
def test_the_action_publishes_the_run_record_and_its_report(hosted: World, tmp_path: Path) -> None:
    issue = hosted.github.add_issue(
        REPO, title="is_adult is wrong at 18", body="", author="maintainer"
    )
    payload = issue_labeled_event(hosted.github, REPO, issue, label="mendbot", sender="maintainer")
    runner_temp = tmp_path / "runner-temp"
    runner_temp.mkdir()
    environment = dataclasses.replace(
        hosted.environment("issues", payload), run_id="4242", temp_dir=runner_temp
    )
    assert environment.run_url == f"https://github.com/{REPO}/actions/runs/4242"
    log: list[str] = []

    outcome = run_action(
        environment,
        ActionInputs(settings_flags=SETTINGS),
        run_repair=pipeline_repair,
        make_client=make_client,
        log=log.append,
    )

    assert outcome.status == "fixed" and outcome.result is not None
    run_id = outcome.result.run_id
    ref = f"refs/mendbot/runs/{run_id}"
    # the run record reached origin, and with it the round commit
    assert hosted.origin(ref) == git(hosted.checkout, "rev-parse", ref)
    assert f"pushed the run record {ref}" in log
    # the HTML report, for the artifact step
    report = Path(hosted.outputs()["report"])
    assert report.parent == runner_temp and report.name == f"mendbot-report-{run_id}.html"
    page = report.read_text()
    assert run_id in page and "Test matrix" in page and "age &gt;= 18" in page
    assert TOKEN not in page
    # the pull request links the workflow run that holds the artifact
    (pull,) = hosted.github.repos[REPO].pulls.values()
    assert f"[the workflow run]({environment.run_url})" in pull["body"]
    # the job summary is the compact one, with the rounds as a diagram
    summary = hosted.summary()
    assert summary.startswith("## mendbot: fixed")
    assert "```mermaid\nflowchart LR" in summary and ":::kept" in summary
    assert f"[this workflow run]({environment.run_url})" in summary
    assert pull["html_url"] in summary and TOKEN not in summary

    # anyone can inspect the CI run from a clone
    laptop = tmp_path / "laptop"
    git(tmp_path, "clone", "-q", str(hosted.bare), str(laptop))
    git(laptop, "fetch", "-q", "origin", "refs/mendbot/*:refs/mendbot/*")
    shown = cli("show", run_id, "--json", cwd=laptop)
    assert shown.code == 0, shown.stderr
    data = shown.json()
    assert data["run"]["trigger"] == "issue" and data["run"]["label"] == "issue #1"
    assert data["rounds"][0]["verdict"] == "kept"
    assert "+    return age >= 18" in data["rounds"][0]["diff"]
    stored = git(laptop, "cat-file", "blob", f"{ref}:trace.jsonl")
    assert TOKEN not in stored


def test_no_report_output_without_a_runner_temp_folder(hosted: World) -> None:
    """Locally (no RUNNER_TEMP) nothing is written and the outputs stay as they were."""
    environment = ActionEnvironment.from_environ(
        {
            "GITHUB_EVENT_NAME": "issues",
            "GITHUB_EVENT_PATH": "/nonexistent/event.json",
            "GITHUB_REPOSITORY": REPO,
            "GITHUB_TOKEN": TOKEN,
            "GITHUB_RUN_ID": "77",
            "GITHUB_SERVER_URL": "https://ghe.example.com/",
            "RUNNER_TEMP": "",
        },
        hosted.checkout,
    )
    assert environment.temp_dir is None
    assert environment.run_url == f"https://ghe.example.com/{REPO}/actions/runs/77"
    with_temp = ActionEnvironment.from_environ(
        {
            "GITHUB_EVENT_NAME": "issues",
            "GITHUB_EVENT_PATH": "/nonexistent/event.json",
            "GITHUB_REPOSITORY": REPO,
            "GITHUB_TOKEN": TOKEN,
            "RUNNER_TEMP": str(hosted.root),
        },
        hosted.checkout,
    )
    assert with_temp.temp_dir == hosted.root and with_temp.run_url == ""
