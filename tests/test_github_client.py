"""The PyGithub wrapper against the fake REST server: calls, and every failure as a clear error."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

import pytest
from fake_github import TOKEN, FakeGitHub, git, host_repository

from bot.errors import GitHubError
from bot.github.client import GitHubClient

REPO = "acme/widgets"


@pytest.fixture
def github() -> FakeGitHub:
    with FakeGitHub() as fake:
        fake.add_repo(REPO)
        fake.set_permission(REPO, "maintainer", "write")
        yield fake


def client(
    github: FakeGitHub,
    token: str = TOKEN,
    retries: int = 2,
    *,
    sleep: Callable[[float], None] | None = None,
    max_total_wait: float = 90.0,
) -> GitHubClient:
    return GitHubClient(
        token,
        REPO,
        api_url=github.api_url,
        pace_requests=False,
        backoff=0,
        retries=retries,
        sleep=sleep,
        max_total_wait=max_total_wait,
    )


def test_comments_reactions_and_replies(github: FakeGitHub) -> None:
    github.add_issue(REPO, title="bug")
    github.add_pull(REPO, title="pr", head_ref="feature", head_sha="e" * 40)
    review = github.add_review_comment(
        REPO,
        2,
        body="/mendbot fix",
        author="maintainer",
        association="MEMBER",
        path="a.py",
        line=3,
        diff_hunk="@@",
        commit_id="e" * 40,
    )
    api = client(github)
    api.react_to_issue(1, "eyes")
    api.react_to_review_comment(2, review["id"], "eyes")
    url = api.comment(1, "done")
    reply = api.reply_to_review_comment(2, review["id"], "fixed it")
    assert url.endswith("#issuecomment-" + url.rsplit("-", 1)[1]) and "/issues/1" in url
    assert "#discussion_r" in reply
    assert [r["subject"][0] for r in github.reactions] == ["issue", "review_comment"]
    assert [c["body"] for c in github.comments_on(REPO, 1)] == ["done"]
    assert [c["body"] for c in github.replies_to(review["id"])] == ["fixed it"]
    # lazy objects: each action is exactly one request, nothing fetched first
    assert [c.method for c in github.calls] == ["POST", "POST", "POST", "POST"]
    assert all(c.authorization == f"token {TOKEN}" for c in github.calls)


def test_pull_requests_open_find_update(github: FakeGitHub, tmp_path) -> None:
    bare, work = host_repository(tmp_path, "widgets", {"a.py": "x = 1\n"})
    github.repos[REPO].git_dir = bare
    git(work, "push", "-q", "origin", "HEAD:refs/heads/mendbot/issue-1")
    api = client(github)
    assert api.find_open_pull("mendbot/issue-1") is None
    opened = api.open_pull(
        title="Fix #1: bug", body="body", head="mendbot/issue-1", base="main", draft=True
    )
    assert opened.draft and opened.head.ref == "mendbot/issue-1" and opened.head.repository == REPO
    found = api.find_open_pull("mendbot/issue-1")
    assert found is not None and found.number == opened.number
    updated = api.update_pull(opened.number, title="Fix #1: bug (again)", body="new body")
    assert updated.title == "Fix #1: bug (again)"
    assert github.repos[REPO].pulls[opened.number]["body"] == "new body"
    assert github.calls[0].query == {"state": ["open"], "head": ["acme:mendbot/issue-1"]}
    # GitHub refuses a second open pull request for the same head (422 "already exists"):
    # opening again is idempotent and answers the open one
    again = api.open_pull(title="again", body="", head="mendbot/issue-1", base="main", draft=True)
    assert again.number == opened.number and len(github.repos[REPO].pulls) == 1
    assert github.calls[-2].status == 422


def test_not_found_is_a_clear_error(github: FakeGitHub) -> None:
    with pytest.raises(GitHubError) as caught:
        client(github).pull(99)
    assert "404 Not Found" in caught.value.message and "pull request #99" in caught.value.message
    assert "permissions" in caught.value.hint


def test_server_errors_are_retried_then_reported(github: FakeGitHub) -> None:
    github.add_pull(REPO, title="pr", head_ref="feature", head_sha="f" * 40)
    github.fail("GET", rf"/repos/{REPO}/pulls/1", 502, times=1)
    assert client(github).pull(1).head.ref == "feature"  # one 502, then the answer
    github.calls.clear()
    github.fail("GET", rf"/repos/{REPO}/pulls/1", 503, times=-1)
    with pytest.raises(GitHubError) as caught:
        client(github, retries=2).pull(1)
    assert "server error" in caught.value.message and "HTTP 503" in caught.value.message
    assert "re-run the job later" in caught.value.hint
    assert len(github.calls) == 3  # the first try and two retries


@pytest.mark.parametrize("carried_out", [False, True])
def test_a_failed_comment_is_retried_without_a_duplicate(
    github: FakeGitHub, carried_out: bool
) -> None:
    """A 500 on creating a comment is retried, but only after looking for the comment: when
    GitHub created it anyway, it is not posted a second time."""
    github.add_issue(REPO, title="bug")
    github.fail("POST", rf"/repos/{REPO}/issues/1/comments", 500, after=carried_out)
    url = client(github).comment(1, "hello <!-- mendbot -->")
    (comment,) = github.comments_on(REPO, 1)
    assert comment["body"] == "hello <!-- mendbot -->" and url == comment["html_url"]
    assert github.count("POST", rf"/repos/{REPO}/issues/1/comments") == (1 if carried_out else 2)
    assert github.count("GET", rf"/repos/{REPO}/issues/1/comments") == 1
    (lookup,) = [c for c in github.calls if c.method == "GET"]
    assert "since" in lookup.query  # only recent comments are read, not the whole history


@pytest.mark.parametrize("carried_out", [False, True])
def test_a_failed_pull_request_creation_is_retried_without_a_duplicate(
    github: FakeGitHub, tmp_path: Path, carried_out: bool
) -> None:
    bare, work = host_repository(tmp_path, "widgets", {"a.py": "x = 1\n"})
    github.repos[REPO].git_dir = bare
    git(work, "push", "-q", "origin", "HEAD:refs/heads/mendbot/issue-1")
    github.fail("POST", rf"/repos/{REPO}/pulls", 502, after=carried_out)
    opened = client(github).open_pull(
        title="Fix #1", body="b", head="mendbot/issue-1", base="main", draft=True
    )
    (pull,) = github.repos[REPO].pulls.values()
    assert opened.number == pull["number"] and opened.head.ref == "mendbot/issue-1"
    assert github.count("POST", rf"/repos/{REPO}/pulls") == (1 if carried_out else 2)
    lookups = [c.query for c in github.calls if c.method == "GET"]
    assert lookups == [{"state": ["open"], "head": ["acme:mendbot/issue-1"], "base": ["main"]}]


def test_reactions_and_review_replies_survive_a_5xx(github: FakeGitHub) -> None:
    github.add_pull(REPO, title="pr", head_ref="feature", head_sha="e" * 40)
    review = github.add_review_comment(
        REPO,
        1,
        body="/mendbot fix",
        author="maintainer",
        association="MEMBER",
        path="a.py",
        line=3,
        diff_hunk="@@",
        commit_id="e" * 40,
    )
    github.fail("POST", rf"/repos/{REPO}/issues/1/reactions", 502, after=True)
    github.fail("POST", rf"/repos/{REPO}/pulls/1/comments/\d+/replies", 503, after=True)
    api = client(github)
    api.react_to_issue(1, "eyes")
    api.reply_to_review_comment(1, review["id"], "fixed it")
    assert [r["content"] for r in github.reactions] == ["eyes"]  # the repeat was a 200
    assert [c["body"] for c in github.replies_to(review["id"])] == ["fixed it"]
    assert github.count("POST", rf"/repos/{REPO}/pulls/1/comments/\d+/replies") == 1


@pytest.mark.parametrize("status", [429, 403])
def test_retry_after_is_honoured(github: FakeGitHub, status: int) -> None:
    """A secondary rate limit with Retry-After: 3 waits those 3 seconds (really) and goes on;
    the primary limit's reset, an hour away, plays no part."""
    github.add_issue(REPO, title="bug")
    github.secondary_rate_limit("POST", rf"/repos/{REPO}/issues/1/comments", status=status)
    waits: list[float] = []

    def sleep(seconds: float) -> None:
        waits.append(seconds)
        time.sleep(seconds)

    client(github, sleep=sleep).comment(1, "hello")
    assert waits == [3.0]
    assert len(github.comments_on(REPO, 1)) == 1
    assert [c.status for c in github.calls if c.method == "POST"] == [status, 201]


def test_secondary_rate_limit_without_header_waits_a_minute(github: FakeGitHub) -> None:
    github.secondary_rate_limit("GET", rf"/repos/{REPO}/pulls/1", retry_after=None, status=403)
    github.add_pull(REPO, title="pr", head_ref="feature", head_sha="f" * 40)
    waits: list[float] = []
    assert client(github, sleep=waits.append).pull(1).head.ref == "feature"
    assert waits == [60.0]


def test_the_total_wait_is_bounded(github: FakeGitHub) -> None:
    """Each answer asks for 40 s; within 90 s in all mendbot waits twice, then reports, and
    the hint says what GitHub asked for (not the primary limit's reset)."""
    github.secondary_rate_limit("GET", rf"/repos/{REPO}/pulls/1", retry_after=40, times=-1)
    waits: list[float] = []
    with pytest.raises(GitHubError) as caught:
        client(github, retries=5, sleep=waits.append).pull(1)
    assert waits == [40.0, 40.0] and github.count("GET", rf"/repos/{REPO}/pulls/1") == 3
    assert "rate limit exceeded" in caught.value.message and "3 attempts" in caught.value.message
    assert "already waited 80 s" in caught.value.hint
    assert "wait 40 s more" in caught.value.hint and "resets" not in caught.value.hint


def test_a_wait_longer_than_the_budget_is_not_started(github: FakeGitHub) -> None:
    github.secondary_rate_limit("GET", rf"/repos/{REPO}/pulls/1", retry_after=600)
    waits: list[float] = []
    with pytest.raises(GitHubError) as caught:
        client(github, sleep=waits.append).pull(1)
    assert waits == [] and "GitHub asked to wait 600 s" in caught.value.hint


def test_permission_errors_are_not_retried(github: FakeGitHub) -> None:
    github.fail("GET", rf"/repos/{REPO}/pulls/1", 403, message="Resource not accessible")
    with pytest.raises(GitHubError, match="may not read pull request"):
        client(github, sleep=lambda seconds: None).pull(1)
    assert len(github.calls) == 1


def test_bad_token_and_missing_token(github: FakeGitHub) -> None:
    with pytest.raises(GitHubError, match="rejected the token") as caught:
        client(github, token="ghs_" + "x" * 36).permission("maintainer")
    assert "ghs_" not in str(caught.value)
    with pytest.raises(GitHubError, match="no GitHub token"):
        GitHubClient("", REPO)
    with pytest.raises(GitHubError, match="owner/name"):
        GitHubClient(TOKEN, "widgets")


def test_actions_may_not_open_pull_requests(github: FakeGitHub) -> None:
    github.fail(
        "POST",
        rf"/repos/{REPO}/pulls",
        403,
        message="GitHub Actions is not permitted to create or approve pull requests.",
    )
    with pytest.raises(GitHubError) as caught:
        client(github).open_pull(title="t", body="b", head="x", base="main", draft=True)
    assert "Allow GitHub Actions to create and approve pull requests" in caught.value.hint


def test_the_token_never_appears_in_an_error(github: FakeGitHub) -> None:
    github.fail("GET", rf"/repos/{REPO}/pulls/5", 422, message=f"token {TOKEN} is odd")
    with pytest.raises(GitHubError) as caught:
        client(github).pull(5)
    assert TOKEN not in str(caught.value) and "***" in str(caught.value)


def test_unreachable_api(tmp_path) -> None:
    api = GitHubClient(TOKEN, REPO, api_url="http://127.0.0.1:9", retries=0, pace_requests=False)
    with pytest.raises(GitHubError, match="cannot reach the GitHub API") as caught:
        api.permission("x")
    assert "GITHUB_API_URL" in caught.value.hint
