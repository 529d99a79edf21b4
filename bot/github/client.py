"""A small wrapper around PyGithub: the calls mendbot makes, each failure a clear GitHubError.

The API root comes from ``GITHUB_API_URL`` (GitHub Enterprise and test servers included).
Transient failures (5xx, dropped connections, rate limits that say when to come back) are
retried with tenacity under one ``RetryPolicy`` (``bot.github.retry``), within a bounded total
wait. Calls that create something are retried only where a repeat cannot duplicate it: before
a pull request or a comment is created again, mendbot looks for the one the failed attempt may
have created after all; reactions are idempotent on GitHub's side.
"""

from __future__ import annotations

import datetime
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, TypeVar

import requests
from github import Auth, Github, GithubException
from tenacity import RetryCallState, Retrying, retry_if_exception

from bot.errors import GitHubError
from bot.github.events import PullHead
from bot.github.retry import (
    RetryPolicy,
    is_rate_limit,
    pause_before_retry,
    reset_in,
    retry_after,
)
from bot.trace import redact

T = TypeVar("T")

DEFAULT_API_URL = "https://api.github.com"
TRUSTED_PERMISSIONS = frozenset({"admin", "maintain", "write"})
PERMISSION_HINT = (
    "give the workflow `permissions: contents: write, pull-requests: write, issues: write`"
)
CREATE_PR_SETTING = (
    "enable Settings > Actions > General > Workflow permissions > "
    '"Allow GitHub Actions to create and approve pull requests"'
)
# comments created by a failed attempt are looked for from this long before the first attempt
# (the runner's clock and GitHub's may disagree a little)
LOOKUP_SLACK = datetime.timedelta(minutes=5)


@dataclass(frozen=True)
class PullInfo:
    number: int
    url: str  # html url
    title: str
    state: str
    draft: bool
    head: PullHead
    author: str = ""  # login of the person who opened it


@dataclass(frozen=True)
class FailedJob:
    """A job of a workflow run that failed, with its log when GitHub still has it."""

    id: int
    name: str
    url: str
    log: str | None  # None: the logs expired or cannot be read


def _message(data: Any) -> str:
    if isinstance(data, Mapping):
        message = str(data.get("message") or "")
        errors = data.get("errors")
        if isinstance(errors, list):
            details = [
                str(item.get("message") or item.get("code") or "")
                if isinstance(item, Mapping)
                else str(item)
                for item in errors
            ]
            details = [d for d in details if d]
            if details:
                message = f"{message} ({'; '.join(details)})" if message else "; ".join(details)
        return message
    return str(data or "")


def _reset_time(headers: Mapping[str, Any] | None) -> str:
    seconds = reset_in(headers)
    if seconds is None:
        return ""
    moment = datetime.datetime.now(datetime.UTC) + datetime.timedelta(seconds=seconds)
    return moment.strftime("%Y-%m-%d %H:%M:%S UTC")


def _rate_limit_hint(headers: Mapping[str, Any] | None, waited: float) -> str:
    """When to run again, from what GitHub said: Retry-After first, then the reset time."""
    pause = retry_after(headers)
    already = f"mendbot already waited {waited:.0f} s; " if waited >= 1 else ""
    if pause is not None:
        return f"{already}GitHub asked to wait {pause:.0f} s more: re-run the job after that"
    reset = _reset_time(headers)
    if reset:
        return f"{already}re-run the job after the limit resets at {reset}"
    return f"{already}this is a secondary rate limit: wait a minute or more, then re-run the job"


def translate(
    error: Exception, what: str, secrets: list[str], *, attempts: int = 1, waited: float = 0.0
) -> GitHubError:
    """One GitHubError whose message says what failed and what to do about it."""
    tried = f", {attempts} attempts" if attempts > 1 else ""
    if isinstance(error, GithubException):
        status = error.status
        message = _message(error.data)
        headers = error.headers or {}
        lowered = message.lower()
        if is_rate_limit(error) or (status == 403 and retry_after(headers) is not None):
            text, hint = (
                f"GitHub API rate limit exceeded while trying to {what} (HTTP {status}{tried})",
                _rate_limit_hint(headers, waited),
            )
        elif status == 401:
            text = f"GitHub rejected the token while trying to {what} (HTTP 401: {message})"
            hint = "pass a valid token through the action's `token` input"
        elif status == 403 and "create or approve pull requests" in lowered:
            text = f"GitHub Actions may not {what} in this repository (HTTP 403: {message})"
            hint = CREATE_PR_SETTING
        elif status == 403:
            text = f"the token may not {what} (HTTP 403: {message})"
            hint = PERMISSION_HINT
        elif status == 404:
            text = f"GitHub answered 404 Not Found while trying to {what}"
            hint = "check that it exists and that the token can see it; " + PERMISSION_HINT
        elif status == 422:
            text = f"GitHub refused to {what} (HTTP 422: {message})"
            hint = "the request was understood but not valid; see the message above"
        elif status >= 500:
            text = f"GitHub had a server error while trying to {what} (HTTP {status}{tried})"
            hint = "GitHub is having trouble; re-run the job later"
        else:
            text = f"GitHub API error while trying to {what} (HTTP {status}: {message})"
            hint = ""
        return GitHubError(redact(text, secrets), hint=redact(hint, secrets))
    if isinstance(error, requests.RequestException):
        return GitHubError(
            redact(f"cannot reach the GitHub API while trying to {what}{tried}: {error}", secrets),
            hint="check GITHUB_API_URL and the runner's network",
        )
    return GitHubError(redact(f"GitHub API call failed while trying to {what}: {error}", secrets))


class GitHubClient:
    """The GitHub REST calls of one action run, against one repository."""

    def __init__(
        self,
        token: str,
        repository: str,
        *,
        api_url: str = DEFAULT_API_URL,
        retries: int = 3,
        backoff: float = 2.0,
        max_total_wait: float = 90.0,
        pace_requests: bool = True,
        timeout: int = 30,
        sleep: Callable[[float], None] | None = None,
    ) -> None:
        if not token:
            raise GitHubError(
                "no GitHub token was given",
                hint="the action passes `token` (default: github.token) as GITHUB_TOKEN",
            )
        if repository.count("/") != 1:
            raise GitHubError(
                f"GITHUB_REPOSITORY {repository!r} is not of the form owner/name",
                hint="run inside GitHub Actions, or set GITHUB_REPOSITORY=owner/name",
            )
        self.repository = repository
        self.owner = repository.split("/")[0]
        self.api_url = api_url.rstrip("/") or DEFAULT_API_URL
        self.policy = RetryPolicy(retries=retries, backoff=backoff, max_total_wait=max_total_wait)
        self._sleep = sleep
        self._secrets = [token]
        pacing: dict[str, Any] = (
            {}
            if pace_requests
            else {"seconds_between_requests": None, "seconds_between_writes": None}
        )
        self._github = Github(
            base_url=self.api_url,
            auth=Auth.Token(token),
            retry=None,  # every retry is decided in one place: _call
            timeout=timeout,
            user_agent="mendbot",
            lazy=True,  # objects are fetched when read, so a reaction or comment is one request
            **pacing,
        )

    def _call(
        self, what: str, call: Callable[[], T], *, lookup: Callable[[], T | None] | None = None
    ) -> T:
        """``call()``, retried on transient failures within the policy's total wait.

        ``lookup`` makes a call that creates something safe to repeat: before each new attempt
        it looks for what an earlier, failed attempt may have created after all.
        """
        policy = self.policy

        def wait(state: RetryCallState) -> float:
            error = state.outcome.exception() if state.outcome is not None else None
            pause = pause_before_retry(error, state.attempt_number, policy.backoff) if error else 0
            return pause or 0.0

        def stop(state: RetryCallState) -> bool:
            return (
                state.attempt_number >= policy.attempts
                or state.idle_for + state.upcoming_sleep > policy.max_total_wait
            )

        retrying = Retrying(
            retry=retry_if_exception(lambda e: pause_before_retry(e, 1, 0.0) is not None),
            wait=wait,
            stop=stop,
            reraise=True,
            sleep=self._sleep or time.sleep,
        )
        try:
            for attempt in retrying:
                with attempt:
                    if lookup is not None and attempt.retry_state.attempt_number > 1:
                        found = lookup()
                        if found is not None:
                            return found
                    return call()
        except (GithubException, requests.RequestException) as error:
            statistics = retrying.statistics
            raise translate(
                error,
                what,
                self._secrets,
                attempts=int(statistics.get("attempt_number", 1)),
                waited=float(statistics.get("idle_for", 0.0)),
            ) from None
        raise AssertionError("unreachable: tenacity either returns or raises")  # pragma: no cover

    def _repo(self, repository: str | None = None) -> Any:
        return self._github.get_repo(repository or self.repository)

    def _since(self) -> datetime.datetime:
        return datetime.datetime.now(datetime.UTC) - LOOKUP_SLACK

    def permission(self, login: str) -> str:
        """The user's permission on the repository: admin, maintain, write, triage, read or none."""
        return self._call(
            f"read the permission of {login} on {self.repository}",
            lambda: str(self._repo().get_collaborator_permission(login)),
        )

    # GitHub answers 200 with the existing reaction when it is added twice: safe to repeat.
    def react_to_issue(self, number: int, content: str) -> None:
        self._call(
            f"add a reaction to #{number}",
            lambda: self._repo().get_issue(number).create_reaction(content),
        )

    def react_to_comment(self, number: int, comment_id: int, content: str) -> None:
        self._call(
            f"add a reaction to comment {comment_id}",
            lambda: self._repo().get_issue(number).get_comment(comment_id).create_reaction(content),
        )

    def react_to_review_comment(self, number: int, comment_id: int, content: str) -> None:
        self._call(
            f"add a reaction to review comment {comment_id}",
            lambda: (
                self._repo()
                .get_pull(number)
                .get_review_comment(comment_id)
                .create_reaction(content)
            ),
        )

    def comment(self, number: int, body: str) -> str:
        """Post a comment on an issue or pull request; returns its html url."""
        text = redact(body, self._secrets)
        since = self._since()

        def posted() -> str | None:
            for existing in self._repo().get_issue(number).get_comments(since=since):
                if existing.body == text:
                    return str(existing.html_url or "")
            return None

        return self._call(
            f"comment on #{number}",
            lambda: str(self._repo().get_issue(number).create_comment(text).html_url or ""),
            lookup=posted,
        )

    def reply_to_review_comment(self, number: int, comment_id: int, body: str) -> str:
        text = redact(body, self._secrets)
        since = self._since()

        def posted() -> str | None:
            for existing in self._repo().get_pull(number).get_review_comments(since=since):
                if existing.in_reply_to_id == comment_id and existing.body == text:
                    return str(existing.html_url or "")
            return None

        return self._call(
            f"reply to review comment {comment_id} on #{number}",
            lambda: str(
                self._repo().get_pull(number).create_review_comment_reply(comment_id, text).html_url
                or ""
            ),
            lookup=posted,
        )

    def pull(self, number: int) -> PullInfo:
        return self._call(
            f"read pull request #{number} of {self.repository}",
            lambda: self._info(self._repo().get_pull(number)),
        )

    def _first_open_pull(self, target: str, head: str, base: str = "") -> PullInfo | None:
        """The open pull request of ``target`` whose head is ``owner:branch`` (one request)."""
        owner, _, branch = head.rpartition(":")
        pulls = self._repo(target).get_pulls(
            state="open", head=f"{owner or self.owner}:{branch}", **({"base": base} if base else {})
        )
        for pull in pulls:
            return self._info(pull)
        return None

    def find_open_pull(self, head_branch: str, *, repository: str | None = None) -> PullInfo | None:
        """The open pull request whose head is ``owner:head_branch`` (owner of this repository
        unless ``head_branch`` names one)."""
        target = repository or self.repository
        return self._call(
            f"list the pull requests of {target}",
            lambda: self._first_open_pull(target, head_branch),
        )

    def open_pull(
        self,
        *,
        title: str,
        body: str,
        head: str,
        base: str,
        draft: bool,
        repository: str | None = None,
    ) -> PullInfo:
        """Open a pull request; a failed attempt that created it after all is found, not
        repeated (GitHub refuses a second open pull request for the same head and base)."""
        target = repository or self.repository

        def create() -> PullInfo:
            try:
                created = self._repo(target).create_pull(
                    base=base,
                    head=head,
                    title=redact(title, self._secrets),
                    body=redact(body, self._secrets),
                    draft=draft,
                )
            except GithubException as error:
                if error.status == 422 and "already exists" in _message(error.data):
                    existing = self._first_open_pull(target, head, base)
                    if existing is not None:
                        return existing
                raise
            return self._info(created)

        return self._call(
            f"open a pull request in {target}",
            create,
            lookup=lambda: self._first_open_pull(target, head, base),
        )

    def failed_jobs(self, run_id: int, *, log_timeout: float = 30.0) -> list[FailedJob]:
        """The jobs of the run's latest attempt that failed, each with its log if available."""

        def listing() -> list[tuple[int, str, str, Any]]:
            jobs = self._repo().get_workflow_run(run_id).jobs("latest")
            return [
                (int(job.id), str(job.name or ""), str(job.html_url or ""), job)
                for job in jobs
                if job.conclusion in ("failure", "timed_out")
            ]

        found = self._call(f"list the jobs of workflow run {run_id}", listing)
        return [
            FailedJob(id=job_id, name=name, url=url, log=self._job_log(job, log_timeout))
            for job_id, name, url, job in found
        ]

    def _job_log(self, job: Any, timeout: float) -> str | None:
        """A job's log text: the API answers with a short-lived download address."""
        try:
            address = self._call(f"find the log of job {job.id}", lambda: str(job.logs_url()))
        except GitHubError:
            return None  # expired (410) or not readable: the failing tests are found by running
        try:
            answer = requests.get(address, timeout=timeout)  # pre-signed: no token is sent
        except requests.RequestException:
            return None
        return answer.text if answer.status_code == 200 else None

    def comment_on_commit(self, sha: str, body: str) -> str:
        """A comment on a commit (where a default-branch CI failure is answered)."""
        text = redact(body, self._secrets)

        def posted() -> str | None:
            for existing in self._repo().get_commit(sha).get_comments():
                if existing.body == text:
                    return str(existing.html_url or "")
            return None

        return self._call(
            f"comment on commit {sha[:12]}",
            lambda: str(self._repo().get_commit(sha).create_comment(text).html_url or ""),
            lookup=posted,
        )

    def update_pull(
        self, number: int, *, title: str, body: str, repository: str | None = None
    ) -> PullInfo:
        target = repository or self.repository

        def update() -> PullInfo:
            pull = self._repo(target).get_pull(number)
            pull.edit(title=redact(title, self._secrets), body=redact(body, self._secrets))
            return self._info(pull)

        return self._call(f"update pull request #{number} of {target}", update)

    @staticmethod
    def _info(pull: Any) -> PullInfo:
        head_repo = pull.head.repo
        return PullInfo(
            number=int(pull.number),
            url=str(pull.html_url or ""),
            title=str(pull.title or ""),
            state=str(pull.state or ""),
            draft=bool(pull.draft),
            head=PullHead(
                ref=str(pull.head.ref or ""),
                sha=str(pull.head.sha or ""),
                repository=str(head_repo.full_name) if head_repo is not None else "",
                base_ref=str(pull.base.ref or ""),
            ),
            author=str(pull.user.login or "") if pull.user is not None else "",
        )
