"""The fourth trigger: a failed run of the project's CI (``workflow_run``, completed, failure).

For a pull request's run: only a pull request opened by someone with write access, and a
fork's only when the workflow opts in (``allow-forks``). For a push to the default branch: only
when the pusher has write access. mendbot reads which jobs failed (and the failing tests from
their logs when GitHub still has them), repairs at the run's head commit, and answers with a
commit on the pull request's branch or with a draft pull request against the default branch.

It never answers a run of its own commits (round trailers, its author), never answers the
same head twice (the marker ref ``refs/mendbot/ci/<sha>`` on origin, claimed atomically before
the repair), and says nothing when the failure does not reproduce unless asked to.
"""

from __future__ import annotations

import dataclasses
import re
from typing import TYPE_CHECKING

from bot import proc
from bot.errors import GitHubError
from bot.github.client import FailedJob, PullInfo
from bot.github.events import GitHubEvent, WorkflowRun
from bot.github.trust import TrustDecision, check_person
from bot.models import RunResult, RunStatus, Trigger, TriggerKind
from bot.report import markdown

if TYPE_CHECKING:
    from bot.github.flow import ActionOutcome, ActionRun

# pytest's short summary: "FAILED tests/test_x.py::test_y - AssertionError ..." (or ERROR)
_FAILED_TEST = re.compile(r"(?:^|\s)(?:FAILED|ERROR) (?P<id>[\w./-]+\.py::\S+)")
MAX_LOGGED_TESTS = 50


def marker_ref(sha: str) -> str:
    """The ref on origin that says mendbot answered the CI runs of this head commit."""
    return f"refs/mendbot/ci/{sha}"


def failing_tests_in_log(log: str) -> list[str]:
    """Test ids pytest reported as failed or in error, in order, without repeats."""
    found: dict[str, None] = {}
    for match in _FAILED_TEST.finditer(log):
        found.setdefault(match["id"].rstrip(".,;"), None)
    return list(found)[:MAX_LOGGED_TESTS]


def same_test(logged: str, here: str) -> bool:
    """One test, whether or not the CI ran pytest from a folder above the project."""
    return logged == here or logged.endswith("/" + here) or here.endswith("/" + logged)


@dataclasses.dataclass(frozen=True)
class RunFailure:
    """What GitHub says failed in the run: jobs, and the tests their logs name."""

    jobs: tuple[FailedJob, ...]
    tests: tuple[str, ...]

    def describe(self, run: WorkflowRun) -> str:
        names = ", ".join(job.name for job in self.jobs) or "(no job is listed as failed)"
        text = f"The CI workflow {run.workflow!r} failed at {run.head_sha[:12]} in: {names}."
        if self.tests:
            text += "\nFailing tests in its logs: " + ", ".join(self.tests[:10])
        return text


class FailedRunRepair:
    """One answer to a failed CI run, using the action run's client, remote and repair."""

    def __init__(self, action: ActionRun, event: GitHubEvent) -> None:
        assert event.run is not None
        self.action = action
        self.event = event
        self.run = event.run

    # -- deciding ---------------------------------------------------------------------------
    def answer(self) -> ActionOutcome:
        action, run = self.action, self.run
        pull: PullInfo | None = None
        if run.event == "pull_request":
            pull = self.find_pull()
            if pull is None:
                return action.outcome("skipped", "no open pull request has this run's head")
            if pull.head.sha != run.head_sha:
                reason = (
                    f"pull request #{pull.number} moved on to {pull.head.sha[:12]} since this run "
                    f"of {run.head_sha[:12]}; the newer commit's run is answered instead"
                )
                return action.outcome("skipped", reason)
            fork = pull.head.repository != action.env.repository
            if fork and not action.inputs.allow_forks:
                reason = (
                    f"pull request #{pull.number} comes from the fork "
                    f"{pull.head.repository or '(deleted)'}; set the action's `allow-forks` "
                    "input to repair failed runs of forks' pull requests"
                )
                action.log(f"refusing to act: {reason}")
                return action.outcome("refused", reason)
            self.event = dataclasses.replace(self.event, number=pull.number, is_pull_request=True)
            action.event = self.event
            action.label = f"pull request #{pull.number}"
            decision = check_person(pull.author, "the pull request's author", action.permission)
        else:
            action.label = f"{self.event.default_branch} at {run.head_sha[:12]}"
            decision = check_person(self.event.sender.login, "the pusher", action.permission)
        refusal = self.refusal(decision)
        if refusal is not None:
            return refusal
        action.prepare()
        if not action.remote.claim(marker_ref(run.head_sha), self.fetch_head(pull)):
            reason = f"mendbot already answered a failed run of {run.head_sha[:12]}"
            action.log(f"nothing to do: {reason}")
            return action.outcome("skipped", reason)
        return self.repair(pull)

    def refusal(self, decision: TrustDecision) -> ActionOutcome | None:
        if decision.trusted:
            self.action.log(f"acting for {decision.reason}")
            return None
        self.action.log(f"refusing to act: {decision.reason}")
        return self.action.outcome("refused", decision.reason)

    def find_pull(self) -> PullInfo | None:
        client, run = self.action.client, self.run
        if run.pull_numbers:
            return client.pull(run.pull_numbers[0])
        # GitHub lists no pull request in the payload for a fork's run: look it up by head
        owner = (run.head_repository or self.event.repository).split("/")[0]
        return client.find_open_pull(f"{owner}:{run.head_branch}")

    def fetch_head(self, pull: PullInfo | None) -> str:
        """Make the run's head commit present in the checkout; returns it."""
        action, run = self.action, self.run
        if pull is not None and pull.head.repository == action.env.repository:
            source = f"refs/heads/{pull.head.ref}"
        elif pull is not None:
            source = f"refs/pull/{pull.number}/head"
        else:
            source = f"refs/heads/{run.head_branch}"
        action.remote.fetch(source, local_ref=f"refs/mendbot/ci-source/{run.head_sha[:12]}")
        kind = proc.git(["cat-file", "-t", run.head_sha], cwd=action.env.checkout, check=False)
        if kind.strip() != "commit":
            raise GitHubError(
                f"the run's head commit {run.head_sha[:12]} is not in {source} of origin",
                hint="the branch was rewritten since the run; re-run the CI on the new head",
            )
        return run.head_sha

    # -- repairing --------------------------------------------------------------------------
    def read_failure(self) -> RunFailure:
        try:
            jobs = self.action.client.failed_jobs(self.run.id)
        except GitHubError as error:
            self.action.log(f"warning: cannot list the run's jobs: {error.message}")
            return RunFailure((), ())
        tests: dict[str, None] = {}
        for job in jobs:
            for test in failing_tests_in_log(job.log or ""):
                tests.setdefault(test, None)
        self.action.log(
            f"failed jobs: {', '.join(j.name for j in jobs) or 'none listed'}; "
            f"{len(tests)} failing test(s) in their logs"
        )
        return RunFailure(tuple(jobs), tuple(tests))

    def reproduced(self, failure: RunFailure, result: RunResult) -> bool:
        """Whether the run's failure shows here: a failing test, one the logs named if any."""
        if result.status is RunStatus.NOTHING_TO_FIX:
            return False
        if not failure.tests:
            return True
        failing_here = {*result.fixed_tests, *result.remaining_failures}
        return any(same_test(logged, here) for logged in failure.tests for here in failing_here)

    def repair(self, pull: PullInfo | None) -> ActionOutcome:
        action, run = self.action, self.run
        failure = self.read_failure()
        short = run.head_sha[:12]
        trigger = Trigger(
            kind=TriggerKind.CI_RUN,
            repo_path=action.env.checkout,
            base_ref=run.head_sha,
            include_uncommitted=False,
            branch_name=action.fresh_branch(f"mendbot/ci-{short}"),
            instruction=failure.describe(run),
            label=action.label,
        )
        result = action.repair(trigger)
        if not self.reproduced(failure, result):
            return self.not_reproduced(failure, result)
        if result.status is not RunStatus.FIXED:
            context = action.context(action.label)
            self.say(markdown.outcome_comment(result, context, "could not fix the failed run"))
            return action.outcome("not_fixed", result.reason or "not fixed", result)
        if pull is None:
            return self.propose_to_default_branch(result, trigger)
        if pull.head.repository != action.env.repository:
            return action.fix_fork(self.event, pull, result, f"mendbot/pr-{pull.number}")
        result = action.push_verified(result, trigger, pull.head.ref, run.head_sha)
        action.branch = pull.head.ref
        context = action.context(action.label, pull.head.ref)
        if result.status is not RunStatus.FIXED:
            return action.finish_unfixed(self.event, result, context, pushed=False)
        what = f"pushed a verified fix for the failed run of {run.workflow} to `{pull.head.ref}`"
        self.say(markdown.outcome_comment(result, context, what))
        return action.outcome("fixed", f"pushed to {pull.head.ref}", result)

    def not_reproduced(self, failure: RunFailure, result: RunResult) -> ActionOutcome:
        run = self.run
        named = f" ({', '.join(failure.tests[:5])})" if failure.tests else ""
        reason = f"the failure of {run.workflow} does not reproduce at {run.head_sha[:12]}{named}"
        self.action.log(reason)
        if self.action.inputs.comment_unreproduced:
            text = f"**mendbot could not reproduce** the failed run {run.url}: {reason}."
            self.say(markdown.message_comment(text, self.action.context(self.action.label)))
        return self.action.outcome("nothing_to_fix", reason, result)

    def propose_to_default_branch(self, result: RunResult, trigger: Trigger) -> ActionOutcome:
        action, run = self.action, self.run
        branch = f"mendbot/ci-{run.head_sha[:12]}"
        default = self.event.default_branch
        pushed = action.remote.push(result.head, branch, expected=None)
        if not pushed.pushed:
            raise GitHubError(
                f"could not push the verified fix to {branch}: {pushed.detail}",
                hint=f"delete the branch {branch} on origin if it is stale, then re-run",
            )
        action.branch = branch
        context = action.context(action.label, branch)
        title = f"Fix the failed {run.workflow} run on {default} ({run.head_sha[:12]})"
        try:
            pull = action.client.open_pull(
                title=title,
                body=markdown.pull_request_body(result, context),
                head=branch,
                base=default,
                draft=action.inputs.draft,
            )
        except GitHubError as error:
            action.missing_pull = action.compare_url(branch, default)
            text = (
                f"**mendbot pushed a verified fix to `{branch}` but could not open the pull "
                f"request:** {error.message}\n\nOpen it from {action.missing_pull}"
            )
            self.say(markdown.message_comment(text, context), quiet_failure=True)
            raise
        action.pr_url = pull.url
        action.log(f"opened {pull.url}")
        return action.outcome("fixed", f"fixed in {pull.url}", result)

    def say(self, body: str, *, quiet_failure: bool = False) -> None:
        """Answer on the pull request, or on the head commit for a default-branch run."""
        try:
            self.action.report(self.event, body)
        except GitHubError as error:
            if not quiet_failure:
                raise
            self.action.log(f"warning: could not report: {error}")
