"""The fourth trigger end to end: a failed CI run (``workflow_run``) -> reproduce -> repair.

As in test_github_flow: the unmodified PyGithub against the fake REST server (which now also
serves workflow runs, their jobs and job logs), a bare ``origin`` and the runner's clone.
Tests marked ``slow`` run the real pipeline on the project whose ``>`` should be ``>=``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from fake_github import git, head_commit, workflow_run_event
from test_github_flow import (
    BUGGY,
    REPO,
    SETTINGS,
    World,
    fork_pull,
    make_client,
    make_world,
    must_not_repair,
)

from bot.commands.action import pipeline_repair
from bot.config import Settings
from bot.github.cirun import failing_tests_in_log, marker_ref, same_test
from bot.github.flow import ActionInputs, ActionOutcome, run_action
from bot.models import RunResult, Trigger

FAILED_LOG = (
    "2024-05-01T12:00:01.0000000Z ============ short test summary info ============\n"
    "2024-05-01T12:00:01.0000000Z FAILED tests/test_ages.py::test_adult_at_eighteen - "
    "assert False\n"
    "2024-05-01T12:00:01.0000000Z ========= 1 failed, 3 passed in 0.05s =========\n"
)
FIXED_AGES = BUGGY["ages.py"].replace("age > 18", "age >= 18")


@pytest.fixture
def world(tmp_path: Path) -> Iterator[World]:
    yield from make_world(tmp_path)


def act_on_run(
    world: World,
    payload: dict[str, Any],
    *,
    run_repair: Callable[[Trigger, Settings], RunResult] = pipeline_repair,
    allow_forks: bool = False,
    comment_unreproduced: bool = False,
    log: list[str] | None = None,
) -> ActionOutcome:
    return run_action(
        world.environment("workflow_run", payload),
        ActionInputs(
            settings_flags=SETTINGS,
            allow_forks=allow_forks,
            comment_unreproduced=comment_unreproduced,
        ),
        run_repair=run_repair,
        make_client=make_client,
        log=(log if log is not None else []).append,
    )


def failed_pull_run(
    world: World, *, author: str = "maintainer", files: dict[str, str] | None = None
) -> tuple[dict[str, Any], dict[str, Any]]:
    """A pull request from a branch of the repository, and its CI run that failed."""
    head = world.push_from_work("feature", files or {"NOTES.md": "labels\n"}, "Add notes")
    pull = world.github.add_pull(
        REPO, title="Labels", head_ref="feature", head_sha=head, author=author
    )
    run = world.github.add_workflow_run(
        REPO,
        head_sha=head,
        head_branch="feature",
        event="pull_request",
        actor=author,
        jobs={"test": ("failure", FAILED_LOG), "lint": ("success", "ok\n")},
    )
    payload = workflow_run_event(
        world.github, REPO, run, head_commit=head_commit(world.work, head), pulls=(pull["number"],)
    )
    return pull, payload


def recording(seen: list[Trigger]) -> Callable[[Trigger, Settings], RunResult]:
    def repair(trigger: Trigger, settings: Settings) -> RunResult:
        seen.append(trigger)
        return pipeline_repair(trigger, settings)

    return repair


def test_failing_tests_are_read_from_pytest_summaries_in_a_log() -> None:
    log = FAILED_LOG + (
        "2024-05-01T12:00:02Z ERROR tests/test_db.py::test_connect[sqlite] - OSError\n"
        "FAILED tests/test_ages.py::test_adult_at_eighteen - again\n"
        "some FAILED words without a test id\n"
    )
    assert failing_tests_in_log(log) == [
        "tests/test_ages.py::test_adult_at_eighteen",
        "tests/test_db.py::test_connect[sqlite]",
    ]
    # a CI that ran pytest from the repository root names a sub-project's tests longer
    assert same_test("pkg/tests/test_a.py::test_x", "tests/test_a.py::test_x")
    assert not same_test("other_tests/test_a.py::test_x", "tests/test_a.py::test_x")


# -- a pull request's failed run ------------------------------------------------------------------
@pytest.mark.slow
def test_failed_pull_request_run_gets_a_commit_on_its_branch_once(world: World) -> None:
    pull, payload = failed_pull_run(world)
    seen: list[Trigger] = []
    outcome = act_on_run(world, payload, run_repair=recording(seen))
    assert outcome.status == "fixed" and outcome.branch == "feature"
    (trigger,) = seen
    assert trigger.base_ref == pull["head"]["sha"]
    assert "'ci' failed" in trigger.instruction and "lint" not in trigger.instruction
    assert "tests/test_ages.py::test_adult_at_eighteen" in trigger.instruction
    assert "return age >= 18" in world.origin_file("feature", "ages.py")
    pushed = world.origin("refs/heads/feature")
    assert "Mendbot-" in git(world.bare, "log", "-1", "--format=%B", pushed)
    (comment,) = world.github.comments_on(REPO, pull["number"])
    assert "pushed a verified fix for the failed run of ci to `feature`" in comment["body"]
    assert world.origin(marker_ref(pull["head"]["sha"])) == pull["head"]["sha"]
    assert world.outputs()["status"] == "fixed"
    # the job log was downloaded from its pre-signed address, without the token
    (download,) = [c for c in world.github.calls if c.path.startswith("/_downloads/")]
    assert download.authorization == ""

    # the same head again (a re-run, or a second workflow failing on it): nothing happens
    again = act_on_run(world, payload, run_repair=must_not_repair)
    assert again.status == "skipped" and "already answered" in again.message
    assert len(world.github.comments_on(REPO, pull["number"])) == 1
    assert world.origin("refs/heads/feature") == pushed


def test_run_of_mendbots_own_commit_is_ignored_without_any_api_call(world: World) -> None:
    head = world.push_from_work(
        "feature",
        {"NOTES.md": "x\n"},
        "Fix is_adult\n\nMendbot-Round: 1\nMendbot-Engine: templates",
    )
    pull = world.github.add_pull(REPO, title="t", head_ref="feature", head_sha=head)
    run = world.github.add_workflow_run(
        REPO,
        head_sha=head,
        head_branch="feature",
        event="pull_request",
        jobs={"test": ("failure", FAILED_LOG)},
    )
    payload = workflow_run_event(
        world.github, REPO, run, head_commit=head_commit(world.work, head), pulls=(pull["number"],)
    )
    before = git(world.bare, "for-each-ref")
    outcome = act_on_run(world, payload, run_repair=must_not_repair)
    assert outcome.status == "skipped" and "mendbot's own commit" in outcome.message
    assert world.github.calls == [] and git(world.bare, "for-each-ref") == before


def test_run_of_a_commit_mendbot_authored_is_ignored_even_without_trailers(world: World) -> None:
    """A commit by mendbot's identity (a squashed or rewritten round) is its own as well."""
    git(world.work, "fetch", "-q", "origin")
    git(world.work, "checkout", "-q", "-B", "feature", "origin/main")
    (world.work / "NOTES.md").write_text("x\n", encoding="utf-8")
    git(world.work, "add", "NOTES.md")
    git(
        world.work,
        "-c",
        "user.name=mendbot",
        "-c",
        "user.email=mendbot@users.noreply.github.com",
        "commit",
        "-q",
        "-m",
        "Fix is_adult",
    )
    head = git(world.work, "rev-parse", "HEAD")
    git(world.work, "push", "-q", "origin", "HEAD:refs/heads/feature")
    pull = world.github.add_pull(REPO, title="t", head_ref="feature", head_sha=head)
    run = world.github.add_workflow_run(
        REPO, head_sha=head, head_branch="feature", event="pull_request", jobs={}
    )
    payload = workflow_run_event(
        world.github, REPO, run, head_commit=head_commit(world.work, head), pulls=(pull["number"],)
    )
    outcome = act_on_run(world, payload, run_repair=must_not_repair)
    assert outcome.status == "skipped" and "mendbot's own commit" in outcome.message
    assert world.github.calls == []


def test_pull_request_of_an_untrusted_author_is_refused(world: World) -> None:
    world.github.add_user("stranger")
    _, payload = failed_pull_run(world, author="stranger")
    outcome = act_on_run(world, payload, run_repair=must_not_repair)
    assert outcome.status == "refused" and "stranger" in outcome.message
    assert world.github.writes() == []


def test_successful_and_other_runs_are_skipped(world: World) -> None:
    _, payload = failed_pull_run(world)
    for change, expected in (
        ({"conclusion": "success"}, "ended success"),
        ({"event": "schedule"}, "'schedule'"),
    ):
        changed = {**payload, "workflow_run": {**payload["workflow_run"], **change}}
        outcome = act_on_run(world, changed, run_repair=must_not_repair)
        assert outcome.status == "skipped" and expected in outcome.message
    pushed = {**payload["workflow_run"], "event": "push", "pull_requests": []}
    outcome = act_on_run(world, {**payload, "workflow_run": pushed}, run_repair=must_not_repair)
    assert outcome.status == "skipped" and "not to the default branch" in outcome.message
    assert world.github.calls == []


# -- forks ----------------------------------------------------------------------------------------
def fork_run(world: World) -> tuple[dict[str, Any], dict[str, Any]]:
    pull = fork_pull(world)
    world.github.set_permission(REPO, "contributor", "write")  # trusted, but on a fork
    head = pull["head"]["sha"]
    run = world.github.add_workflow_run(
        REPO,
        head_sha=head,
        head_branch="contrib",
        head_repo="contributor/widgets",
        event="pull_request",
        actor="contributor",
        jobs={"test": ("failure", FAILED_LOG)},
    )
    # GitHub's payload lists no pull request for a fork's run
    payload = workflow_run_event(world.github, REPO, run, head_commit=head_commit(world.work, head))
    return pull, payload


def test_forks_run_is_refused_without_the_opt_in(world: World) -> None:
    _, payload = fork_run(world)
    outcome = act_on_run(world, payload, run_repair=must_not_repair)
    assert outcome.status == "refused" and "allow-forks" in outcome.message
    assert world.github.writes() == []
    assert git(world.bare, "for-each-ref", "refs/mendbot") == ""


@pytest.mark.slow
def test_forks_run_with_the_opt_in_gets_a_pull_request_against_the_fork(world: World) -> None:
    pull, payload = fork_run(world)
    outcome = act_on_run(world, payload, allow_forks=True)
    assert outcome.status == "fixed"
    assert world.origin("refs/pull/1/head") == pull["head"]["sha"]  # the fork is not touched
    assert "return age >= 18" in world.origin_file("mendbot/pr-1", "ages.py")
    (proposal,) = world.github.repos["contributor/widgets"].pulls.values()
    assert proposal["base"]["ref"] == "contrib" and outcome.pr_url == proposal["html_url"]
    (comment,) = world.github.comments_on(REPO, 1)
    assert proposal["html_url"] in comment["body"]


# -- the default branch ---------------------------------------------------------------------------
@pytest.mark.slow
def test_failed_default_branch_run_gets_a_draft_pull_request(world: World) -> None:
    head = world.origin("refs/heads/main")
    run = world.github.add_workflow_run(
        REPO,
        head_sha=head,
        head_branch="main",
        event="push",
        jobs={"test": ("failure", None)},  # the logs expired: the failure is found by running
    )
    payload = workflow_run_event(world.github, REPO, run, head_commit=head_commit(world.work, head))
    outcome = act_on_run(world, payload)
    assert outcome.status == "fixed"
    branch = f"mendbot/ci-{head[:12]}"
    (pull,) = world.github.repos[REPO].pulls.values()
    assert pull["head"]["ref"] == branch and pull["base"]["ref"] == "main" and pull["draft"]
    assert outcome.pr_url == pull["html_url"] == world.outputs()["pr-url"]
    assert pull["title"] == f"Fix the failed ci run on main ({head[:12]})"
    assert "return age >= 18" in world.origin_file(branch, "ages.py")
    assert world.origin("refs/heads/main") == head  # the default branch itself is untouched
    assert world.github.repos[REPO].commit_comments == []


def test_default_branch_push_by_someone_without_write_access_is_refused(world: World) -> None:
    head = world.origin("refs/heads/main")
    world.github.add_user("stranger")
    run = world.github.add_workflow_run(
        REPO, head_sha=head, head_branch="main", event="push", actor="stranger", jobs={}
    )
    payload = workflow_run_event(world.github, REPO, run, head_commit=head_commit(world.work, head))
    outcome = act_on_run(world, payload, run_repair=must_not_repair)
    assert outcome.status == "refused" and "the pusher stranger" in outcome.message


# -- a failure that does not reproduce ------------------------------------------------------------
@pytest.mark.slow
@pytest.mark.parametrize("asked", [False, True])
def test_failure_that_does_not_reproduce_says_nothing_unless_asked(
    world: World, asked: bool
) -> None:
    """The run failed (a flaky moment on the runner), but its tests pass at its head."""
    pull, payload = failed_pull_run(world, files={"ages.py": FIXED_AGES})
    log: list[str] = []
    outcome = act_on_run(world, payload, comment_unreproduced=asked, log=log)
    assert outcome.status == "nothing_to_fix" and "does not reproduce" in outcome.message
    assert "tests/test_ages.py::test_adult_at_eighteen" in outcome.message
    assert world.origin("refs/heads/feature") == pull["head"]["sha"]
    assert git(world.bare, "branch", "--list", "mendbot/*") == ""
    comments = world.github.comments_on(REPO, pull["number"])
    if asked:
        (comment,) = comments
        assert "could not reproduce" in comment["body"] and "does not reproduce" in comment["body"]
    else:
        assert comments == [] and world.github.repos[REPO].pulls.keys() == {1}
    assert any("does not reproduce" in line for line in log)
