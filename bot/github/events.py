"""Webhook event payloads (as the runner writes them to ``GITHUB_EVENT_PATH``) -> ``GitHubEvent``.

Only the four events mendbot acts on are understood: ``issues`` (labeled),
``issue_comment`` (created, on a pull request), ``pull_request_review_comment`` (created) and
``workflow_run`` (completed with a failure, for a pull request or the default branch).
Every text field here is untrusted: it is carried as data and never decides which files change.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bot.errors import GitHubError
from bot.models import TriggerKind

# Every comment mendbot writes carries this marker, so it never answers itself.
MARKER = "<!-- mendbot -->"
BOT_LOGINS = frozenset({"github-actions[bot]", "github-actions"})

SUPPORTED_EVENTS = ("issues", "issue_comment", "pull_request_review_comment", "workflow_run")
# the CI runs mendbot answers: a pull request's, or a push's to the default branch
CI_RUN_EVENTS = ("pull_request", "push")
# a commit whose message carries one of these trailers is one of mendbot's own rounds
OWN_TRAILER = re.compile(r"^Mendbot-[A-Za-z-]+:", re.MULTILINE)
OWN_EMAILS = frozenset({"mendbot@users.noreply.github.com"})


@dataclass(frozen=True)
class Actor:
    login: str
    type: str  # "User", "Bot" or "Organization"

    @property
    def is_bot(self) -> bool:
        return self.type == "Bot" or self.login in BOT_LOGINS or self.login.endswith("[bot]")


@dataclass(frozen=True)
class PullHead:
    """Where a pull request's head lives (from a payload or the pulls API)."""

    ref: str
    sha: str
    repository: str  # full name; "" when the fork was deleted
    base_ref: str


@dataclass(frozen=True)
class WorkflowRun:
    """The failed CI run a ``workflow_run`` event reports."""

    id: int
    workflow: str  # the workflow's name
    event: str  # what started the run: "pull_request", "push", ...
    conclusion: str
    head_sha: str
    head_branch: str
    head_repository: str  # full name; another one than the repository's for a fork
    commit_message: str
    commit_author: str  # "name <email>" of the head commit's author
    commit_committer: str
    pull_numbers: tuple[int, ...]  # pull requests from this repository's branches only
    url: str  # the run's html page

    def made_by_mendbot(self) -> bool:
        """True when the run tested one of mendbot's own commits (no repair of a repair)."""
        if OWN_TRAILER.search(self.commit_message):
            return True
        people = (self.commit_author, self.commit_committer)
        return any(
            person.split(" <")[0] == "mendbot" or any(e in person for e in OWN_EMAILS)
            for person in people
        )


@dataclass(frozen=True)
class GitHubEvent:
    name: str  # the GITHUB_EVENT_NAME
    action: str
    kind: TriggerKind
    repository: str  # owner/name of the repository the workflow runs in
    default_branch: str
    number: int  # the issue or pull request number
    title: str
    body: str  # the issue body for label events, the comment body for comment events
    sender: Actor
    author: Actor  # who wrote the issue or comment
    author_association: str  # of the comment; "" for label events (the labeler is checked)
    label: str = ""
    is_pull_request: bool = False
    comment_id: int | None = None
    in_reply_to_id: int | None = None
    path: str | None = None  # review comments: repository-relative file
    line: int | None = None
    diff_hunk: str = ""
    head: PullHead | None = None  # review comments carry the pull request in the payload
    run: WorkflowRun | None = None  # workflow_run events: the failed run

    @property
    def is_comment(self) -> bool:
        return self.comment_id is not None


def _mapping(value: Any, where: str) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise GitHubError(
            f"the event payload has no {where!r} object",
            hint="mendbot action reads the webhook payload GitHub writes to GITHUB_EVENT_PATH; "
            "run it from a workflow triggered by issues, issue_comment, "
            "pull_request_review_comment or workflow_run",
        )
    return value


def _text(value: Any) -> str:
    return value if isinstance(value, str) else ""


def _int(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _actor(value: Any) -> Actor:
    data = value if isinstance(value, Mapping) else {}
    return Actor(login=_text(data.get("login")), type=_text(data.get("type")) or "User")


def _head(pull: Mapping[str, Any]) -> PullHead:
    head = _mapping(pull.get("head"), "pull_request.head")
    base = _mapping(pull.get("base"), "pull_request.base")
    head_repo = head.get("repo")
    return PullHead(
        ref=_text(head.get("ref")),
        sha=_text(head.get("sha")),
        repository=_text(head_repo.get("full_name")) if isinstance(head_repo, Mapping) else "",
        base_ref=_text(base.get("ref")),
    )


def load_payload(path: Path) -> Mapping[str, Any]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise GitHubError(
            f"the event payload {path} does not exist",
            hint="GITHUB_EVENT_PATH must name the JSON file the runner writes for the event",
        ) from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
        raise GitHubError(f"cannot read the event payload {path}: {error}") from None
    return _mapping(data, "top-level")


def parse_event(name: str, payload: Mapping[str, Any]) -> GitHubEvent:
    """Turn a payload into a GitHubEvent; an unsupported event name is an error."""
    if name not in SUPPORTED_EVENTS:
        raise GitHubError(
            f"mendbot does not handle the {name!r} event",
            hint="trigger the workflow on: " + ", ".join(SUPPORTED_EVENTS),
        )
    repository = _mapping(payload.get("repository"), "repository")
    common: dict[str, Any] = {
        "name": name,
        "action": _text(payload.get("action")),
        "repository": _text(repository.get("full_name")),
        "default_branch": _text(repository.get("default_branch")) or "main",
        "sender": _actor(payload.get("sender")),
    }
    if name == "workflow_run":
        return _workflow_run_event(payload, common)
    if name == "pull_request_review_comment":
        comment = _mapping(payload.get("comment"), "comment")
        pull = _mapping(payload.get("pull_request"), "pull_request")
        line = _int(comment.get("line")) or _int(comment.get("original_line"))
        return GitHubEvent(
            kind=TriggerKind.REVIEW_COMMENT,
            number=_int(pull.get("number")) or 0,
            title=_text(pull.get("title")),
            body=_text(comment.get("body")),
            author=_actor(comment.get("user")),
            author_association=_text(comment.get("author_association")),
            is_pull_request=True,
            comment_id=_int(comment.get("id")),
            in_reply_to_id=_int(comment.get("in_reply_to_id")),
            path=_text(comment.get("path")) or None,
            line=line,
            diff_hunk=_text(comment.get("diff_hunk")),
            head=_head(pull),
            **common,
        )
    issue = _mapping(payload.get("issue"), "issue")
    is_pull_request = isinstance(issue.get("pull_request"), Mapping)
    if name == "issues":
        label = payload.get("label")
        return GitHubEvent(
            kind=TriggerKind.ISSUE,
            number=_int(issue.get("number")) or 0,
            title=_text(issue.get("title")),
            body=_text(issue.get("body")),
            author=_actor(issue.get("user")),
            author_association="",
            label=_text(label.get("name")) if isinstance(label, Mapping) else "",
            is_pull_request=is_pull_request,
            **common,
        )
    comment = _mapping(payload.get("comment"), "comment")
    return GitHubEvent(
        kind=TriggerKind.PR_COMMENT,
        number=_int(issue.get("number")) or 0,
        title=_text(issue.get("title")),
        body=_text(comment.get("body")),
        author=_actor(comment.get("user")),
        author_association=_text(comment.get("author_association")),
        is_pull_request=is_pull_request,
        comment_id=_int(comment.get("id")),
        **common,
    )


def _person(value: Any) -> str:
    data = value if isinstance(value, Mapping) else {}
    return f"{_text(data.get('name'))} <{_text(data.get('email'))}>"


def _workflow_run_event(payload: Mapping[str, Any], common: dict[str, Any]) -> GitHubEvent:
    run = _mapping(payload.get("workflow_run"), "workflow_run")
    commit = run.get("head_commit")
    commit = commit if isinstance(commit, Mapping) else {}
    head_repository = run.get("head_repository")
    pulls = run.get("pull_requests")
    numbers = tuple(
        number
        for pull in (pulls if isinstance(pulls, list) else [])
        if isinstance(pull, Mapping) and (number := _int(pull.get("number")))
    )
    workflow = payload.get("workflow")
    name = _text(run.get("name")) or (
        _text(workflow.get("name")) if isinstance(workflow, Mapping) else ""
    )
    failed = WorkflowRun(
        id=_int(run.get("id")) or 0,
        workflow=name,
        event=_text(run.get("event")),
        conclusion=_text(run.get("conclusion")),
        head_sha=_text(run.get("head_sha")),
        head_branch=_text(run.get("head_branch")),
        head_repository=_text(head_repository.get("full_name"))
        if isinstance(head_repository, Mapping)
        else "",
        commit_message=_text(commit.get("message")),
        commit_author=_person(commit.get("author")),
        commit_committer=_person(commit.get("committer")),
        pull_numbers=numbers,
        url=_text(run.get("html_url")),
    )
    return GitHubEvent(
        kind=TriggerKind.CI_RUN,
        number=numbers[0] if numbers else 0,
        title=f"{failed.workflow} failed on {failed.head_branch or failed.head_sha[:12]}",
        body="",
        author=_actor(run.get("actor")),
        author_association="",
        is_pull_request=bool(numbers),
        run=failed,
        **common,
    )


def ci_run_skip_reason(event: GitHubEvent) -> str | None:
    """Why a ``workflow_run`` event is not one mendbot repairs, or None."""
    run = event.run
    if run is None or not event.repository or run.id <= 0 or not run.head_sha:
        return "the payload names no workflow run, repository or head commit"
    if event.action != "completed":
        return f"workflow_run event with action {event.action!r}; mendbot acts on 'completed'"
    if run.conclusion != "failure":
        return f"the run of {run.workflow} ended {run.conclusion or 'without a conclusion'}"
    if run.event not in CI_RUN_EVENTS:
        return f"the run was started by {run.event!r}; mendbot answers pull_request and push runs"
    if run.event == "push" and run.head_branch != event.default_branch:
        return (
            f"the run tested a push to {run.head_branch!r}, not to the default branch "
            f"{event.default_branch!r}"
        )
    if run.made_by_mendbot():
        return f"the run tested mendbot's own commit {run.head_sha[:12]} (no repair of a repair)"
    return None


def contains_phrase(body: str, phrase: str) -> bool:
    return bool(phrase.strip()) and phrase.strip().casefold() in body.casefold()


def skip_reason(event: GitHubEvent, *, label: str, phrase: str) -> str | None:
    """Why this event is not a trigger, or None when mendbot should act on it."""
    if event.kind is TriggerKind.CI_RUN:
        return ci_run_skip_reason(event)
    if not event.repository or event.number <= 0:
        return "the payload names no repository or issue number"
    if event.sender.is_bot:
        return f"the event comes from a bot ({event.sender.login})"
    if event.is_comment and (event.author.is_bot or MARKER in event.body):
        return "the comment was written by a bot (mendbot does not answer itself)"
    if event.name == "issues":
        if event.action != "labeled":
            return f"issues event with action {event.action!r}; mendbot acts on 'labeled'"
        if event.label.casefold() != label.casefold():
            return f"label {event.label!r} is not the trigger label {label!r}"
        if event.is_pull_request:
            return "the labeled item is a pull request; comment the trigger phrase on it instead"
        return None
    if event.action != "created":
        return f"{event.name} event with action {event.action!r}; mendbot acts on 'created'"
    if not contains_phrase(event.body, phrase):
        return f"the comment does not contain the trigger phrase {phrase!r}"
    if event.name == "issue_comment" and not event.is_pull_request:
        return "the comment is on an issue, not a pull request; label the issue instead"
    return None


def instruction_text(event: GitHubEvent, phrase: str) -> str:
    """The person's words, without the trigger phrase: untrusted data for the engines."""
    if event.kind is TriggerKind.ISSUE:
        return f"{event.title}\n\n{event.body}".strip()
    text = event.body
    index = text.casefold().find(phrase.strip().casefold()) if phrase.strip() else -1
    if index >= 0:
        text = text[:index] + text[index + len(phrase.strip()) :]
    return text.strip()
