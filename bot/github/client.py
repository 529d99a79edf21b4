"""A small wrapper around PyGithub: the calls mendbot makes, each failure a clear GitHubError.

The API root comes from ``GITHUB_API_URL`` (GitHub Enterprise and test servers included).
Idempotent calls are retried a few times on 5xx answers; a rate limit that resets later than
``max_rate_limit_wait`` seconds is reported at once instead of stalling the job.
"""

from __future__ import annotations

import contextlib
import datetime
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

import requests
from github import Auth, Github, GithubException, GithubRetry, RateLimitExceededException
from urllib3.util.retry import Retry

from bot.errors import GitHubError
from bot.github.events import PullHead
from bot.trace import redact

DEFAULT_API_URL = "https://api.github.com"
TRUSTED_PERMISSIONS = frozenset({"admin", "maintain", "write"})
PERMISSION_HINT = (
    "give the workflow `permissions: contents: write, pull-requests: write, issues: write`"
)
CREATE_PR_SETTING = (
    "enable Settings > Actions > General > Workflow permissions > "
    '"Allow GitHub Actions to create and approve pull requests"'
)


@dataclass(frozen=True)
class PullInfo:
    number: int
    url: str  # html url
    title: str
    state: str
    draft: bool
    head: PullHead


def _retry(retries: int, backoff: float, max_rate_limit_wait: float) -> Retry:
    return GithubRetry(
        total=retries,
        backoff_factor=backoff,
        max_rate_limit_wait=max_rate_limit_wait,
        # POST is left out on purpose: a retried POST can create a second comment or PR.
        allowed_methods=frozenset({"GET", "HEAD", "PATCH", "PUT", "DELETE"}),
        raise_on_status=False,  # the last 5xx reaches PyGithub, which raises GithubException
    )


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
    lowered = {str(key).lower(): value for key, value in (headers or {}).items()}
    value = str(lowered.get("x-ratelimit-reset") or "")
    if not value.isdigit():
        return ""
    moment = datetime.datetime.fromtimestamp(int(value), datetime.UTC)
    return moment.strftime("%Y-%m-%d %H:%M UTC")


def translate(error: Exception, what: str, secrets: list[str]) -> GitHubError:
    """One GitHubError whose message says what failed and what to do about it."""
    if isinstance(error, GithubException):
        status = error.status
        message = _message(error.data)
        headers = error.headers or {}
        lowered = message.lower()
        if (
            isinstance(error, RateLimitExceededException)
            or status == 429
            or (status == 403 and "rate limit" in lowered)
        ):
            reset = _reset_time(headers)
            text, hint = (
                f"GitHub API rate limit exceeded while trying to {what} (HTTP {status})",
                f"re-run the job after the limit resets{' at ' + reset if reset else ''}",
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
            text = f"GitHub had a server error while trying to {what} (HTTP {status})"
            hint = "GitHub is having trouble; re-run the job later"
        else:
            text = f"GitHub API error while trying to {what} (HTTP {status}: {message})"
            hint = ""
        return GitHubError(redact(text, secrets), hint=redact(hint, secrets))
    if isinstance(error, requests.RequestException):
        return GitHubError(
            redact(f"cannot reach the GitHub API while trying to {what}: {error}", secrets),
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
        max_rate_limit_wait: float = 60.0,
        pace_requests: bool = True,
        timeout: int = 30,
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
        self._secrets = [token]
        pacing: dict[str, Any] = (
            {}
            if pace_requests
            else {"seconds_between_requests": None, "seconds_between_writes": None}
        )
        self._github = Github(
            base_url=self.api_url,
            auth=Auth.Token(token),
            retry=_retry(retries, backoff, max_rate_limit_wait),
            timeout=timeout,
            user_agent="mendbot",
            lazy=True,  # objects are fetched when read, so a reaction or comment is one request
            **pacing,
        )

    @contextlib.contextmanager
    def _calling(self, what: str) -> Iterator[None]:
        try:
            yield
        except (GithubException, requests.RequestException) as error:
            raise translate(error, what, self._secrets) from None

    def _repo(self, repository: str | None = None) -> Any:
        return self._github.get_repo(repository or self.repository)

    def permission(self, login: str) -> str:
        """The user's permission on the repository: admin, maintain, write, triage, read or none."""
        with self._calling(f"read the permission of {login} on {self.repository}"):
            return str(self._repo().get_collaborator_permission(login))

    def react_to_issue(self, number: int, content: str) -> None:
        with self._calling(f"add a reaction to #{number}"):
            self._repo().get_issue(number).create_reaction(content)

    def react_to_comment(self, number: int, comment_id: int, content: str) -> None:
        with self._calling(f"add a reaction to comment {comment_id}"):
            self._repo().get_issue(number).get_comment(comment_id).create_reaction(content)

    def react_to_review_comment(self, number: int, comment_id: int, content: str) -> None:
        with self._calling(f"add a reaction to review comment {comment_id}"):
            self._repo().get_pull(number).get_review_comment(comment_id).create_reaction(content)

    def comment(self, number: int, body: str) -> str:
        """Post a comment on an issue or pull request; returns its html url."""
        with self._calling(f"comment on #{number}"):
            created = self._repo().get_issue(number).create_comment(redact(body, self._secrets))
            return str(created.html_url or "")

    def reply_to_review_comment(self, number: int, comment_id: int, body: str) -> str:
        with self._calling(f"reply to review comment {comment_id} on #{number}"):
            created = (
                self._repo()
                .get_pull(number)
                .create_review_comment_reply(comment_id, redact(body, self._secrets))
            )
            return str(created.html_url or "")

    def pull(self, number: int) -> PullInfo:
        with self._calling(f"read pull request #{number} of {self.repository}"):
            return self._info(self._repo().get_pull(number))

    def find_open_pull(self, head_branch: str, *, repository: str | None = None) -> PullInfo | None:
        """The open pull request whose head is ``owner:head_branch`` (owner of this repository)."""
        target = repository or self.repository
        with self._calling(f"list the pull requests of {target}"):
            for pull in self._repo(target).get_pulls(
                state="open", head=f"{self.owner}:{head_branch}"
            ):
                return self._info(pull)
        return None

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
        target = repository or self.repository
        with self._calling(f"open a pull request in {target}"):
            created = self._repo(target).create_pull(
                base=base,
                head=head,
                title=redact(title, self._secrets),
                body=redact(body, self._secrets),
                draft=draft,
            )
            return self._info(created)

    def update_pull(
        self, number: int, *, title: str, body: str, repository: str | None = None
    ) -> PullInfo:
        target = repository or self.repository
        with self._calling(f"update pull request #{number} of {target}"):
            pull = self._repo(target).get_pull(number)
            pull.edit(title=redact(title, self._secrets), body=redact(body, self._secrets))
            return self._info(pull)

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
        )
