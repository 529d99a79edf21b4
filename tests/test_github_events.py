"""Event payloads -> GitHubEvent, which events trigger, and who is trusted (over real HTTP)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from fake_github import (
    TOKEN,
    FakeGitHub,
    issue_comment_event,
    issue_labeled_event,
    review_comment_event,
)

from bot.errors import GitHubError
from bot.github import events
from bot.github.client import GitHubClient
from bot.github.trust import check_trust
from bot.models import TriggerKind

REPO = "acme/widgets"


@pytest.fixture
def github() -> FakeGitHub:
    with FakeGitHub() as fake:
        fake.add_repo(REPO)
        fake.set_permission(REPO, "maintainer", "write")
        fake.set_permission(REPO, "admin-person", "admin")
        fake.set_permission(REPO, "triager", "triage")
        fake.add_user("stranger")
        yield fake


def client(github: FakeGitHub) -> GitHubClient:
    return GitHubClient(TOKEN, REPO, api_url=github.api_url, pace_requests=False, backoff=0)


def test_issue_labeled_payload(github: FakeGitHub) -> None:
    issue = github.add_issue(REPO, title="Totals are off", body="see the cart", author="stranger")
    payload = issue_labeled_event(github, REPO, issue, label="mendbot", sender="maintainer")
    event = events.parse_event("issues", payload)
    assert event.kind is TriggerKind.ISSUE
    assert (event.number, event.title, event.body) == (1, "Totals are off", "see the cart")
    assert (event.label, event.sender.login, event.author.login) == (
        "mendbot",
        "maintainer",
        "stranger",
    )
    assert event.default_branch == "main" and event.repository == REPO
    assert events.skip_reason(event, label="mendbot", phrase="/mendbot fix") is None
    assert events.skip_reason(event, label="MendBot", phrase="/mendbot fix") is None
    reason = events.skip_reason(event, label="repair-me", phrase="/mendbot fix")
    assert reason is not None and "not the trigger label" in reason
    assert events.instruction_text(event, "/mendbot fix") == "Totals are off\n\nsee the cart"


def test_issue_events_other_than_labeled_are_skipped(github: FakeGitHub) -> None:
    issue = github.add_issue(REPO, title="t")
    payload = issue_labeled_event(github, REPO, issue, label="mendbot", sender="maintainer")
    payload["action"] = "unlabeled"
    event = events.parse_event("issues", payload)
    assert "labeled" in (events.skip_reason(event, label="mendbot", phrase="x") or "")


def test_pull_request_comment_payload(github: FakeGitHub) -> None:
    pull = github.add_pull(REPO, title="Add discounts", head_ref="discounts", head_sha="a" * 40)
    comment = github.add_comment(
        REPO,
        pull["number"],
        body="Please /mendbot fix the rounding",
        author="maintainer",
        association="MEMBER",
    )
    event = events.parse_event("issue_comment", issue_comment_event(github, REPO, 1, comment))
    assert event.kind is TriggerKind.PR_COMMENT and event.is_pull_request
    assert event.comment_id == comment["id"] and event.author_association == "MEMBER"
    assert events.skip_reason(event, label="mendbot", phrase="/mendbot fix") is None
    assert events.instruction_text(event, "/mendbot fix") == "Please  the rounding"
    other = events.skip_reason(event, label="mendbot", phrase="/repair")
    assert other is not None and "trigger phrase" in other


def test_comment_on_a_plain_issue_is_not_a_trigger(github: FakeGitHub) -> None:
    github.add_issue(REPO, title="bug")
    comment = github.add_comment(
        REPO, 1, body="/mendbot fix", author="maintainer", association="OWNER"
    )
    event = events.parse_event("issue_comment", issue_comment_event(github, REPO, 1, comment))
    assert "label the issue" in (events.skip_reason(event, label="m", phrase="/mendbot fix") or "")


def test_review_comment_payload(github: FakeGitHub) -> None:
    github.add_pull(REPO, title="Add discounts", head_ref="discounts", head_sha="b" * 40)
    comment = github.add_review_comment(
        REPO,
        1,
        body="/mendbot fix this boundary",
        author="maintainer",
        association="COLLABORATOR",
        path="shop/cart.py",
        line=12,
        diff_hunk="@@ -10,3 +10,3 @@\n-    a\n+    b",
        commit_id="b" * 40,
    )
    event = events.parse_event(
        "pull_request_review_comment", review_comment_event(github, REPO, 1, comment)
    )
    assert event.kind is TriggerKind.REVIEW_COMMENT
    assert (event.path, event.line) == ("shop/cart.py", 12)
    assert event.diff_hunk.startswith("@@ -10,3")
    assert event.head is not None and event.head.ref == "discounts" and event.head.sha == "b" * 40
    assert event.head.repository == REPO
    assert events.skip_reason(event, label="m", phrase="/mendbot fix") is None


@pytest.mark.parametrize(
    ("login", "kind", "body"),
    [
        ("github-actions[bot]", "Bot", "/mendbot fix"),
        ("renovate[bot]", "Bot", "/mendbot fix"),
        ("maintainer", "User", f"/mendbot fix quoted from an earlier report {events.MARKER}"),
    ],
)
def test_bot_comments_are_ignored(github: FakeGitHub, login: str, kind: str, body: str) -> None:
    github.add_pull(REPO, title="x", head_ref="x", head_sha="c" * 40)
    github.add_user(login, kind)
    comment = github.add_comment(REPO, 1, body=body, author=login, association="OWNER")
    event = events.parse_event("issue_comment", issue_comment_event(github, REPO, 1, comment))
    reason = events.skip_reason(event, label="m", phrase="/mendbot fix")
    assert reason is not None and "bot" in reason


def test_unsupported_event_and_broken_payloads_are_clear_errors(tmp_path: Path) -> None:
    with pytest.raises(GitHubError, match="does not handle the 'push' event") as caught:
        events.parse_event("push", {"repository": {}})
    assert "issues, issue_comment" in caught.value.hint
    with pytest.raises(GitHubError, match="no 'issue' object"):
        events.parse_event("issues", {"repository": {"full_name": REPO}})
    with pytest.raises(GitHubError, match="does not exist"):
        events.load_payload(tmp_path / "missing.json")
    broken = tmp_path / "event.json"
    broken.write_text("{not json")
    with pytest.raises(GitHubError, match="cannot read the event payload"):
        events.load_payload(broken)
    broken.write_text(json.dumps([1, 2]))
    with pytest.raises(GitHubError, match="top-level"):
        events.load_payload(broken)


# -- trust, decided through the permission endpoint of the fake server ---------------------------
def comment_event(github: FakeGitHub, author: str, association: str) -> events.GitHubEvent:
    if 1 not in github.repos[REPO].pulls:
        github.add_pull(REPO, title="x", head_ref="x", head_sha="d" * 40)
    comment = github.add_comment(
        REPO, 1, body="/mendbot fix", author=author, association=association
    )
    return events.parse_event("issue_comment", issue_comment_event(github, REPO, 1, comment))


def permission_calls(github: FakeGitHub) -> list[str]:
    return [c.path for c in github.calls if c.path.endswith("/permission")]


@pytest.mark.parametrize("association", ["OWNER", "MEMBER", "COLLABORATOR"])
def test_trusted_associations_need_no_lookup(github: FakeGitHub, association: str) -> None:
    event = comment_event(github, "stranger", association)
    decision = check_trust(event, client(github).permission)
    assert decision.trusted and association in decision.reason
    assert permission_calls(github) == []


def test_contributor_with_write_permission_is_trusted(github: FakeGitHub) -> None:
    event = comment_event(github, "maintainer", "CONTRIBUTOR")
    decision = check_trust(event, client(github).permission)
    assert decision.trusted and "write permission" in decision.reason
    assert permission_calls(github) == [f"/repos/{REPO}/collaborators/maintainer/permission"]


@pytest.mark.parametrize(
    ("login", "association"), [("stranger", "NONE"), ("triager", "CONTRIBUTOR")]
)
def test_others_are_refused(github: FakeGitHub, login: str, association: str) -> None:
    event = comment_event(github, login, association)
    decision = check_trust(event, client(github).permission)
    assert not decision.trusted
    assert login in decision.reason and "not an owner, member or collaborator" in decision.reason


def test_label_events_are_checked_by_the_senders_permission(github: FakeGitHub) -> None:
    issue = github.add_issue(REPO, title="t", author="admin-person")
    by_stranger = events.parse_event(
        "issues", issue_labeled_event(github, REPO, issue, label="mendbot", sender="stranger")
    )
    assert not check_trust(by_stranger, client(github).permission).trusted
    by_admin = events.parse_event(
        "issues", issue_labeled_event(github, REPO, issue, label="mendbot", sender="admin-person")
    )
    decision = check_trust(by_admin, client(github).permission)
    assert decision.trusted and "admin" in decision.reason
    assert permission_calls(github) == [
        f"/repos/{REPO}/collaborators/stranger/permission",
        f"/repos/{REPO}/collaborators/admin-person/permission",
    ]


def test_payload_with_author_other_than_sender_is_refused(github: FakeGitHub) -> None:
    event = comment_event(github, "stranger", "OWNER")
    forged = events.GitHubEvent(**{**event.__dict__, "sender": events.Actor("maintainer", "User")})
    assert not check_trust(forged, client(github).permission).trusted
