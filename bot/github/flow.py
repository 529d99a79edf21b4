"""One run of the GitHub Action: event -> trust -> repair -> push -> pull request -> report.

The repair itself is a callable (``run_repair(trigger, settings) -> RunResult``) and the API
client comes from a factory, so the whole flow runs against a local clone, a bare ``origin``
and a GitHub REST server on 127.0.0.1 in the tests, exactly as it runs on a runner.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from bot import proc
from bot.config import Settings, load_settings
from bot.errors import ConfigError, GitHubError, MendbotError
from bot.github import events, outputs
from bot.github.cirun import FailedRunRepair
from bot.github.client import GitHubClient, PullInfo
from bot.github.events import GitHubEvent
from bot.github.remote import PushOutcome, Remote, changed_paths, commit_file
from bot.github.trust import check_trust
from bot.history import run_ref
from bot.models import RunResult, RunStatus, Trigger, TriggerKind
from bot.report import markdown
from bot.report.markdown import ReportContext
from bot.report.stepsummary import compact_summary
from bot.trace import redact

RunRepair = Callable[[Trigger, Settings], RunResult]
ALWAYS_PROTECTED = (".github/**",)


@dataclass(frozen=True)
class ReproductionTest:
    """A test written from an issue that fails before the fix (repository-relative path)."""

    path: str
    text: str
    description: str = ""


Reproduce = Callable[[Trigger, Settings], ReproductionTest | None]


@dataclass(frozen=True)
class ActionEnvironment:
    """What the runner tells mendbot through its environment variables."""

    event_name: str
    event_path: Path
    repository: str
    api_url: str
    token: str
    checkout: Path
    server_url: str = "https://github.com"
    output_path: Path | None = None
    summary_path: Path | None = None
    run_id: str = ""  # GITHUB_RUN_ID: the workflow run whose artifacts hold the HTML report
    temp_dir: Path | None = None  # RUNNER_TEMP: where the HTML report is written

    @property
    def run_url(self) -> str:
        if not self.run_id:
            return ""
        return f"{self.server_url.rstrip('/')}/{self.repository}/actions/runs/{self.run_id}"

    @classmethod
    def from_environ(
        cls, environ: Mapping[str, str], checkout: Path | None = None
    ) -> ActionEnvironment:
        missing = [
            name
            for name in ("GITHUB_EVENT_NAME", "GITHUB_EVENT_PATH", "GITHUB_REPOSITORY")
            if not environ.get(name)
        ]
        if missing:
            raise ConfigError(
                "mendbot action needs " + ", ".join(missing),
                hint="run it as a GitHub Action step (the runner sets these variables)",
            )
        if not environ.get("GITHUB_TOKEN"):
            raise ConfigError(
                "mendbot action needs GITHUB_TOKEN",
                hint="the action passes its `token` input (default: github.token) as GITHUB_TOKEN",
            )
        folder = checkout or Path(environ.get("GITHUB_WORKSPACE") or ".")
        output = environ.get("GITHUB_OUTPUT")
        summary = environ.get("GITHUB_STEP_SUMMARY")
        return cls(
            event_name=environ["GITHUB_EVENT_NAME"],
            event_path=Path(environ["GITHUB_EVENT_PATH"]),
            repository=environ["GITHUB_REPOSITORY"],
            api_url=environ.get("GITHUB_API_URL") or "https://api.github.com",
            token=environ["GITHUB_TOKEN"],
            checkout=folder.resolve(),
            server_url=environ.get("GITHUB_SERVER_URL") or "https://github.com",
            output_path=Path(output) if output else None,
            summary_path=Path(summary) if summary else None,
            run_id=environ.get("GITHUB_RUN_ID") or "",
            temp_dir=Path(environ["RUNNER_TEMP"]) if environ.get("RUNNER_TEMP") else None,
        )


@dataclass(frozen=True)
class ActionInputs:
    trigger_label: str = "mendbot"
    trigger_phrase: str = "/mendbot fix"
    draft: bool = True
    allow_forks: bool = False  # workflow_run: also repair failed runs of forks' pull requests
    comment_unreproduced: bool = False  # workflow_run: say so when a failure does not reproduce
    settings_flags: Mapping[str, object] = field(default_factory=dict)


@dataclass(frozen=True)
class ActionOutcome:
    status: str  # fixed | not_fixed | nothing_to_fix | refused | skipped | error
    message: str
    pr_url: str = ""
    branch: str = ""
    rounds: int = 0
    result: RunResult | None = None

    def outputs(self) -> dict[str, str]:
        return {
            "status": self.status,
            "pr-url": self.pr_url,
            "branch": self.branch,
            "rounds": str(self.rounds),
        }


class PatchRefused(MendbotError):
    """The verified patch touches a path no patch may touch; nothing was pushed."""


def _glob_regex(pattern: str) -> re.Pattern[str]:
    parts = []
    index = 0
    while index < len(pattern):
        if pattern.startswith("**", index):
            parts.append(".*")
            index += 2
        elif pattern[index] == "*":
            parts.append("[^/]*")
            index += 1
        elif pattern[index] == "?":
            parts.append("[^/]")
            index += 1
        else:
            parts.append(re.escape(pattern[index]))
            index += 1
    return re.compile("".join(parts) + r"\Z")


def is_protected(path: str, patterns: tuple[str, ...], project_subdir: str = "") -> bool:
    """True when a repository-relative ``path`` matches a protected glob or lies in .github/."""
    candidates = [path]
    prefix = project_subdir.strip("/")
    if prefix and path.startswith(prefix + "/"):
        candidates.append(path[len(prefix) + 1 :])
    if path == ".github" or path.startswith(".github/"):
        return True
    return any(_glob_regex(p).match(c) for p in patterns for c in candidates)


def safe_hint_path(path: str | None) -> str | None:
    """A review comment's path as a localization hint, only when it is a plain relative path."""
    if not path:
        return None
    pure = PurePosixPath(path)
    if pure.is_absolute() or ".." in pure.parts or "\\" in path or "\0" in path:
        return None
    return pure.as_posix()


class ActionRun:
    """The state of one action run; ``run()`` returns the outcome or raises MendbotError."""

    client: GitHubClient
    settings: Settings
    remote: Remote

    def __init__(
        self,
        environment: ActionEnvironment,
        inputs: ActionInputs,
        *,
        run_repair: RunRepair,
        make_client: Callable[[ActionEnvironment], GitHubClient],
        reproduce: Reproduce | None = None,
        log: Callable[[str], None] = print,
    ) -> None:
        self.env = environment
        self.inputs = inputs
        self.run_repair = run_repair
        self.make_client = make_client
        self.reproduce = reproduce
        self._print = log
        self.secrets = (environment.token,)
        # what is known so far, for the outputs when a later step fails
        self.branch = ""
        self.pr_url = ""
        self.result: RunResult | None = None
        self.results: list[RunResult] = []  # the repairs whose run records get pushed
        self.event: GitHubEvent | None = None
        self.missing_pull = ""  # a pushed fix's compare page when its pull request failed
        self.label = ""  # "issue #12", "pull request #7" once known

    # -- small helpers -------------------------------------------------------------------
    def log(self, text: str) -> None:
        self._print(redact(text, self.secrets))

    def context(
        self,
        label: str,
        remote_branch: str = "",
        *,
        closes_issue: int | None = None,
        notes: tuple[str, ...] = (),
    ) -> ReportContext:
        return ReportContext(
            label=label,
            repository=self.env.repository,
            server_url=self.env.server_url,
            remote_branch=remote_branch,
            closes_issue=closes_issue,
            secrets=self.secrets,
            notes=notes,
            report_url=self.env.run_url,
        )

    def outcome(self, status: str, message: str, result: RunResult | None = None) -> ActionOutcome:
        result = result or self.result
        return ActionOutcome(
            status=status,
            message=redact(message, self.secrets),
            pr_url=self.pr_url,
            branch=self.branch,
            rounds=len(result.rounds) if result else 0,
            result=result,
        )

    def fresh_branch(self, name: str) -> str:
        """``name``, or ``name-2``, ``name-3``... when the local clone already has that branch."""
        candidate, number = name, 1
        while (
            proc.git(
                ["rev-parse", "--verify", "--quiet", f"refs/heads/{candidate}"],
                cwd=self.env.checkout,
                check=False,
            ).strip()
            != ""
        ):
            number += 1
            candidate = f"{name}-{number}"
        return candidate

    def repair(self, trigger: Trigger) -> RunResult:
        self.log(f"repairing {trigger.label} from {trigger.base_ref[:12]} on {trigger.branch_name}")
        result = self.run_repair(trigger, self.settings)
        self.result = result
        self.log(
            f"repair finished: {result.status.value}, {len(result.rounds)} round(s), "
            f"{len(result.fixed_tests)} test(s) fixed"
        )
        self.guard(result)
        self.results.append(result)  # a refused result's record is never pushed
        return result

    def guard(self, result: RunResult) -> None:
        """Refuse a result whose patch touches .github/ or a protected path."""
        if not result.head or not result.base or result.head == result.base:
            return
        touched = changed_paths(self.env.checkout, result.base, result.head)
        refused = [
            path
            for path in touched
            if is_protected(path, self.settings.protected, result.project_subdir)
        ]
        if refused:
            raise PatchRefused(
                "the repaired branch changes protected paths: " + ", ".join(sorted(refused)),
                hint="mendbot never publishes changes to .github/ or to the `protected` globs; "
                "nothing was pushed",
            )

    def publish_runs(self) -> str:
        """Push each repair's run record (``refs/mendbot/runs/<id>``, which keeps its round
        commits and rolled-back attempts) and write the HTML report of the last repair for the
        workflow artifact. Returns the report's path, "" when there is none."""
        remote = getattr(self, "remote", None)
        for result in self.results:
            if remote is None or not result.run_id:
                continue
            ref = run_ref(result.run_id)
            if proc.git(
                ["rev-parse", "--verify", "--quiet", ref], cwd=self.env.checkout, check=False
            ):
                if remote.push_ref(ref):
                    self.log(f"pushed the run record {ref}")
                else:
                    self.log(f"warning: could not push the run record {ref}")
        if self.result is None or self.env.temp_dir is None:
            return ""
        from bot.report.html import report_for_result  # Jinja2 and Pygments load only here

        path = self.env.temp_dir / f"mendbot-report-{self.result.run_id or 'run'}.html"
        try:
            report_for_result(self.env.checkout, self.result, path)
        except (MendbotError, OSError) as error:
            self.log(f"warning: could not write the HTML report: {error}")
            return ""
        return str(path)

    def head_sha(self) -> str:
        return proc.git(["rev-parse", "HEAD^{commit}"], cwd=self.env.checkout).strip()

    # -- the run ---------------------------------------------------------------------------
    def run(self) -> ActionOutcome:
        payload = events.load_payload(self.env.event_path)
        event = events.parse_event(self.env.event_name, payload)
        self.event = event
        noun = "issue" if event.kind is TriggerKind.ISSUE else "pull request"
        self.label = f"{noun} #{event.number}" if event.number > 0 else event.title
        reason = events.skip_reason(
            event, label=self.inputs.trigger_label, phrase=self.inputs.trigger_phrase
        )
        if reason:
            self.log(f"nothing to do: {reason}")
            return self.outcome("skipped", reason)
        if event.repository != self.env.repository:
            raise GitHubError(
                f"the event is for {event.repository} but GITHUB_REPOSITORY is "
                f"{self.env.repository}",
                hint="run mendbot in the repository the event belongs to",
            )
        self.client = self.make_client(self.env)
        if event.kind is TriggerKind.CI_RUN:
            return self.guarded(event, FailedRunRepair(self, event).answer)
        decision = check_trust(event, self.client.permission)
        if not decision.trusted:
            self.log(f"refusing to act: {decision.reason}")
            return self.outcome("refused", decision.reason)
        self.log(f"acting for {decision.reason}")
        self.acknowledge(event)

        def work() -> ActionOutcome:
            self.prepare()
            if event.kind is TriggerKind.ISSUE:
                return self.on_issue(event)
            return self.on_pull_request(event)

        return self.guarded(event, work)

    def guarded(self, event: GitHubEvent, work: Callable[[], ActionOutcome]) -> ActionOutcome:
        """Run ``work``; a refused patch or a failed run is reported where the trigger was."""
        try:
            return work()
        except PatchRefused as refusal:
            self.log(str(refusal))
            text = f"**mendbot refused to publish its patch:** {refusal}"
            self.report(self.event or event, markdown.message_comment(text, self.context("")))
            return self.outcome("refused", str(refusal))
        except GitHubError:
            raise  # the API or a push failed: reporting through the API may fail again
        except MendbotError as error:
            self.report_failure(self.event or event, error)
            raise

    def permission(self, login: str) -> str:
        return self.client.permission(login)

    def prepare(self) -> None:
        """Settings from the trusted checkout plus the inputs; .github/ is always protected."""
        flags = {k: v for k, v in self.inputs.settings_flags.items() if v not in (None, "")}
        settings = load_settings(self.env.checkout, flags)
        protected = tuple(dict.fromkeys((*settings.protected, *ALWAYS_PROTECTED)))
        self.settings = settings.replace(protected=protected)
        self.remote = Remote(self.env.checkout, self.env.token)

    def report_failure(self, event: GitHubEvent, error: MendbotError) -> None:
        """Tell the person who asked that the run stopped, if the API still answers."""
        if event.kind is TriggerKind.CI_RUN and event.number <= 0:
            return  # nobody asked: a default-branch run's failure shows in the job itself
        kept = f" Work so far is on `{self.branch}`." if self.branch else ""
        text = f"**mendbot stopped:** {error}{kept}"
        try:
            self.report(event, markdown.message_comment(text, self.context("")))
        except GitHubError as failure:
            self.log(f"warning: could not report the failure: {failure}")

    def acknowledge(self, event: GitHubEvent) -> None:
        try:
            if event.kind is TriggerKind.ISSUE:
                self.client.react_to_issue(event.number, "eyes")
            elif event.kind is TriggerKind.PR_COMMENT and event.comment_id is not None:
                self.client.react_to_comment(event.number, event.comment_id, "eyes")
            elif event.comment_id is not None:
                self.client.react_to_review_comment(event.number, event.comment_id, "eyes")
        except GitHubError as error:  # an acknowledgement is a courtesy; the run goes on
            self.log(f"warning: could not add a reaction: {error}")

    def report(self, event: GitHubEvent, body: str) -> str:
        """Answer where the trigger was: the review thread, or the issue / pull request."""
        if event.kind is TriggerKind.REVIEW_COMMENT and event.comment_id is not None:
            thread = event.in_reply_to_id or event.comment_id
            return self.client.reply_to_review_comment(event.number, thread, body)
        if event.kind is TriggerKind.CI_RUN and event.number <= 0 and event.run is not None:
            return self.client.comment_on_commit(event.run.head_sha, body)
        return self.client.comment(event.number, body)

    # -- issues ----------------------------------------------------------------------------
    def on_issue(self, event: GitHubEvent) -> ActionOutcome:
        remote_branch = f"mendbot/issue-{event.number}"
        label = f"issue #{event.number}"
        trigger = Trigger(
            kind=TriggerKind.ISSUE,
            repo_path=self.env.checkout,
            base_ref=self.head_sha(),
            include_uncommitted=False,
            branch_name=self.fresh_branch(remote_branch),
            instruction=events.instruction_text(event, self.inputs.trigger_phrase),
            label=label,
        )
        expected = self.remote.branch_sha(remote_branch)
        result = self.repair(trigger)
        notes: list[str] = []
        if result.status is RunStatus.NOTHING_TO_FIX:
            reproduced = self.reproduce_issue(event, trigger, result)
            if isinstance(reproduced, ActionOutcome):
                return reproduced
            result, trigger, note = reproduced
            notes.append(note)
        context = self.context(label, remote_branch, closes_issue=event.number, notes=tuple(notes))
        if result.status is RunStatus.FIXED:
            result = self.push_verified(result, trigger, remote_branch, expected)
            self.branch = remote_branch
            if result.status is not RunStatus.FIXED:
                return self.finish_unfixed(event, result, context, pushed=False)
            try:
                pull, created = self.open_or_update_pull(event, result, context, remote_branch)
            except GitHubError as error:
                self.report_branch_without_pull(event, result, context, remote_branch, error)
                raise
            kind = "draft pull request" if pull.draft else "pull request"
            verb = "opened" if created else "updated"
            text = (
                f"**mendbot {verb} a {kind} with a verified fix:** {pull.url}\n\n"
                + markdown.summary_line(result, context)
            )
            self.client.comment(event.number, markdown.message_comment(text, context))
            return self.outcome("fixed", f"fixed in {pull.url}", result)
        pushed = self.push_useful_work(result, remote_branch, expected)
        return self.finish_unfixed(event, result, context, pushed=pushed)

    def compare_url(self, branch: str, base: str) -> str:
        """The page where a person opens the pull request mendbot could not open."""
        server = self.env.server_url.rstrip("/")
        return f"{server}/{self.env.repository}/compare/{base}...{branch}?expand=1"

    def report_branch_without_pull(
        self,
        event: GitHubEvent,
        result: RunResult,
        context: ReportContext,
        branch: str,
        error: GitHubError,
    ) -> None:
        """The fix is pushed but no pull request holds it: say where it is, if the API answers."""
        self.missing_pull = self.compare_url(branch, event.default_branch)
        text = (
            f"**mendbot pushed a verified fix to `{branch}` but could not open the pull "
            f"request:** {error.message}\n\nOpen it from {self.missing_pull}\n\n"
            + markdown.summary_line(result, context)
        )
        try:
            self.client.comment(event.number, markdown.message_comment(text, context))
        except GitHubError as failure:
            self.log(f"warning: could not report the pushed branch: {failure}")

    def reproduce_issue(
        self, event: GitHubEvent, trigger: Trigger, result: RunResult
    ) -> ActionOutcome | tuple[RunResult, Trigger, str]:
        """The tests pass: write a failing test from the issue (needs a model), then repair."""
        base = trigger.base_ref[:12]
        if not self.settings.model or self.reproduce is None:
            text = (
                f"**mendbot found no failing test** at `{base}`. To repair this issue it first "
                "needs a test that reproduces it; writing one from the issue text needs a model. "
                "Set the action's `model` input (and `llm-url` if needed), or add a failing test "
                "and label the issue again."
            )
            self.client.comment(event.number, markdown.message_comment(text, self.context("")))
            return self.outcome(
                "nothing_to_fix", "the tests pass and no model is configured", result
            )
        self.log("the tests pass; writing a reproduction test from the issue")
        test = self.reproduce(trigger, self.settings)
        if test is None:
            text = (
                f"**mendbot found no failing test** at `{base}` and could not write a test "
                "that reproduces the issue (each attempt passed before any fix, or was not a "
                "valid test). Add a failing test and label the issue again."
            )
            self.client.comment(event.number, markdown.message_comment(text, self.context("")))
            return self.outcome("not_fixed", "no reproduction test could be written", result)
        path = safe_hint_path(test.path)
        if path is None or is_protected(path, self.settings.protected):
            raise PatchRefused(f"the reproduction test path {test.path!r} is not allowed")
        message = f"Add a test reproducing issue #{event.number}\n\n{test.description}".strip()
        new_base = commit_file(self.env.checkout, trigger.base_ref, path, test.text, message + "\n")
        trigger = dataclasses.replace(
            trigger, base_ref=new_base, branch_name=self.fresh_branch(trigger.branch_name or "")
        )
        result = self.repair(trigger)
        return result, trigger, f"mendbot wrote the reproduction test `{path}` from the issue."

    def open_or_update_pull(
        self, event: GitHubEvent, result: RunResult, context: ReportContext, branch: str
    ) -> tuple[PullInfo, bool]:
        """The pull request for ``branch``, reused when one is open; True when it is new."""
        title = f"Fix #{event.number}: {' '.join(event.title.split())}"[:250]
        body = markdown.pull_request_body(result, context)
        existing = self.client.find_open_pull(branch)
        if existing is not None:
            self.log(f"updating the existing pull request {existing.url}")
            pull = self.client.update_pull(existing.number, title=title, body=body)
        else:
            pull = self.client.open_pull(
                title=title,
                body=body,
                head=branch,
                base=event.default_branch,
                draft=self.inputs.draft,
            )
            self.log(f"opened {pull.url}")
        self.pr_url = pull.url
        return pull, existing is None

    # -- pull requests -----------------------------------------------------------------------
    def on_pull_request(self, event: GitHubEvent) -> ActionOutcome:
        pull = self.client.pull(event.number)
        label = f"pull request #{event.number}"
        if pull.state != "open":
            reason = f"{label} is {pull.state}"
            self.report(
                event,
                markdown.message_comment(
                    f"**mendbot:** {reason}; nothing done.", self.context(label)
                ),
            )
            return self.outcome("skipped", reason)
        same_repository = pull.head.repository == self.env.repository
        source = (
            f"refs/heads/{pull.head.ref}" if same_repository else f"refs/pull/{event.number}/head"
        )
        head = self.remote.fetch(source, local_ref=f"refs/mendbot/pull/{event.number}/head")
        self.pr_url = pull.url
        instruction = events.instruction_text(event, self.inputs.trigger_phrase)
        if event.kind is TriggerKind.REVIEW_COMMENT and event.diff_hunk:
            instruction += (
                f"\n\n(review comment on {event.path} line {event.line})\n{event.diff_hunk}"
            )
        trigger = Trigger(
            kind=event.kind,
            repo_path=self.env.checkout,
            base_ref=head,
            include_uncommitted=False,
            branch_name=self.fresh_branch(f"mendbot/pr-{event.number}"),
            hint_path=safe_hint_path(event.path),
            hint_line=event.line,
            instruction=instruction,
            label=label,
        )
        result = self.repair(trigger)
        work_branch = f"mendbot/pr-{event.number}"
        if result.status is RunStatus.NOTHING_TO_FIX:
            text = f"**mendbot found no failing test** on `{head[:12]}`; nothing to fix."
            self.report(event, markdown.message_comment(text, self.context(label)))
            return self.outcome("nothing_to_fix", "the tests pass on the pull request head", result)
        if result.status is not RunStatus.FIXED:
            expected = self.remote.branch_sha(work_branch)
            pushed = self.push_useful_work(result, work_branch, expected)
            context = self.context(label, work_branch if pushed else "")
            return self.finish_unfixed(event, result, context, pushed=pushed)
        if same_repository:
            result = self.push_verified(result, trigger, pull.head.ref, head)
            self.branch = pull.head.ref
            context = self.context(label, pull.head.ref)
            if result.status is not RunStatus.FIXED:
                return self.finish_unfixed(event, result, context, pushed=False)
            body = markdown.outcome_comment(
                result, context, f"pushed a verified fix to `{pull.head.ref}`"
            )
            self.report(event, body)
            return self.outcome("fixed", f"pushed to {pull.head.ref}", result)
        return self.fix_fork(event, pull, result, work_branch)

    def fix_fork(
        self, event: GitHubEvent, pull: PullInfo, result: RunResult, work_branch: str
    ) -> ActionOutcome:
        """A fork's branch cannot take our push: offer a pull request against it, or the patch."""
        label = f"pull request #{event.number}"
        why = "the pull request comes from a fork, which the workflow's token cannot push to."
        proposal: PullInfo | None = None
        if pull.head.repository:
            expected = self.remote.branch_sha(work_branch)
            outcome = self.remote.push(result.head, work_branch, expected=expected)
            if outcome.pushed:
                self.branch = work_branch
                context = self.context(label, work_branch)
                try:
                    proposal = self.propose_to_fork(event, pull, result, work_branch, context)
                except GitHubError as error:
                    self.log(f"cannot open a pull request against the fork: {error}")
                    why += (
                        f" Opening a pull request against {pull.head.repository} failed: "
                        f"{error.message}"
                    )
            else:
                why += f" Pushing {work_branch} was rejected: {outcome.detail}."
        else:
            why += " The fork no longer exists."
        context = self.context(label, self.branch)
        if proposal is not None:
            self.pr_url = proposal.url
            body = markdown.outcome_comment(
                result, context, f"opened {proposal.url} against the fork's branch"
            )
            self.report(event, body)
            return self.outcome("fixed", f"opened {proposal.url} against the fork", result)
        self.report(event, markdown.patch_comment(result, context, why))
        return self.outcome("fixed", "posted the verified patch as a comment", result)

    def propose_to_fork(
        self,
        event: GitHubEvent,
        pull: PullInfo,
        result: RunResult,
        work_branch: str,
        context: ReportContext,
    ) -> PullInfo:
        """Open (or, on a rerun, update) a pull request from our branch into the fork's."""
        fork = pull.head.repository
        title = f"mendbot: fix the tests of {self.env.repository}#{event.number}"
        body = markdown.pull_request_body(result, context)
        existing = self.client.find_open_pull(work_branch, repository=fork)
        if existing is not None:
            return self.client.update_pull(existing.number, title=title, body=body, repository=fork)
        return self.client.open_pull(
            title=title,
            body=body,
            head=f"{self.client.owner}:{work_branch}",
            base=pull.head.ref,
            draft=self.inputs.draft,
            repository=fork,
        )

    # -- pushing -----------------------------------------------------------------------------
    def push_verified(
        self, result: RunResult, trigger: Trigger, remote_branch: str, expected: str | None
    ) -> RunResult:
        """Push a fixed result; if the branch moved meanwhile, fetch, re-verify, retry once."""
        outcome = self.remote.push(result.head, remote_branch, expected=expected)
        if outcome.pushed:
            self.log(f"pushed {result.head[:12]} to {remote_branch}")
            return result
        self.log(f"the push to {remote_branch} was rejected ({outcome.detail}): the branch moved")
        moved = self.remote.fetch(
            f"refs/heads/{remote_branch}", local_ref=f"refs/mendbot/moved/{remote_branch}"
        )
        retry = dataclasses.replace(
            trigger,
            base_ref=moved,
            branch_name=self.fresh_branch(trigger.branch_name or remote_branch),
        )
        self.log(f"re-verifying on the moved branch at {moved[:12]}")
        again = self.repair(retry)
        if again.status is not RunStatus.FIXED:
            return again
        second: PushOutcome = self.remote.push(again.head, remote_branch, expected=moved)
        if not second.pushed:
            raise GitHubError(
                f"{remote_branch} moved again while mendbot re-verified its fix "
                f"({second.detail}); the verified fix is commit {again.head[:12]} on the local "
                f"branch {again.branch}",
                hint="re-run mendbot once the branch is quiet",
            )
        self.log(f"pushed {again.head[:12]} to {remote_branch} after re-verifying")
        return again

    def push_useful_work(self, result: RunResult, branch: str, expected: str | None) -> bool:
        """Push an unfinished repair when it committed something worth keeping."""
        useful = any(r.commit for r in result.rounds) and result.head and result.head != result.base
        if not useful:
            return False
        outcome = self.remote.push(result.head, branch, expected=expected)
        if outcome.pushed:
            self.branch = branch
            self.log(f"pushed the unfinished work to {branch}")
            return True
        self.log(f"could not push the unfinished work to {branch}: {outcome.detail}")
        return False

    def finish_unfixed(
        self, event: GitHubEvent, result: RunResult, context: ReportContext, *, pushed: bool
    ) -> ActionOutcome:
        if result.status is RunStatus.NOTHING_TO_FIX:
            text = "**mendbot found no failing test** after re-checking the moved branch."
            self.report(event, markdown.message_comment(text, context))
            return self.outcome("nothing_to_fix", "the moved branch passes", result)
        if not pushed:
            context = dataclasses.replace(context, remote_branch="")
        self.report(event, markdown.outcome_comment(result, context, "could not fix this"))
        return self.outcome("not_fixed", result.reason or "not fixed", result)


def summary_markdown(outcome: ActionOutcome, label: str, report_url: str = "") -> str:
    if outcome.result is not None and outcome.status not in ("skipped",):
        context = ReportContext(label=label, remote_branch=outcome.branch, report_url=report_url)
        text = compact_summary(outcome.result, context, outcome.status.replace("_", " "))
        if outcome.pr_url:
            text += f"\n\nPull request: {outcome.pr_url}\n"
        return text
    return f"## mendbot: {outcome.status.replace('_', ' ')}\n\n{outcome.message}\n"


def run_action(
    environment: ActionEnvironment,
    inputs: ActionInputs,
    *,
    run_repair: RunRepair,
    make_client: Callable[[ActionEnvironment], GitHubClient],
    reproduce: Reproduce | None = None,
    log: Callable[[str], None] = print,
) -> ActionOutcome:
    """Run the action and always leave outputs and a job summary, even when a step fails."""
    action = ActionRun(
        environment,
        inputs,
        run_repair=run_repair,
        make_client=make_client,
        reproduce=reproduce,
        log=log,
    )
    try:
        outcome = action.run()
    except MendbotError as error:
        failed = action.outcome("error", str(error))
        label = action.label or environment.event_name
        report = action.publish_runs()
        outputs.write_outputs(
            environment.output_path, {**failed.outputs(), **({"report": report} if report else {})}
        )
        summary = summary_markdown(failed, label, environment.run_url if report else "")
        summary += f"\n**Error:** {failed.message}\n"
        if action.missing_pull:
            summary += (
                f"\nThe verified fix is on the pushed branch `{failed.branch}`, without a pull "
                f"request: open it from {action.missing_pull}\n"
            )
        outputs.append_summary(environment.summary_path, redact(summary, (environment.token,)))
        raise
    label = action.label or environment.event_name
    report = action.publish_runs()
    outputs.write_outputs(
        environment.output_path, {**outcome.outputs(), **({"report": report} if report else {})}
    )
    summary = summary_markdown(outcome, label, environment.run_url if report else "")
    outputs.append_summary(environment.summary_path, redact(summary, (environment.token,)))
    return outcome
