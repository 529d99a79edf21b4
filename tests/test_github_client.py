"""The PyGithub wrapper against the fake REST server: calls, and every failure as a clear error."""

from __future__ import annotations

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


def client(github: FakeGitHub, token: str = TOKEN, retries: int = 2) -> GitHubClient:
    return GitHubClient(
        token, REPO, api_url=github.api_url, pace_requests=False, backoff=0, retries=retries
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
    with pytest.raises(GitHubError, match="already exists"):
        api.open_pull(title="again", body="", head="mendbot/issue-1", base="main", draft=True)


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


def test_a_failed_post_is_not_repeated(github: FakeGitHub) -> None:
    github.add_issue(REPO, title="bug")
    github.fail("POST", rf"/repos/{REPO}/issues/1/comments", 500, times=1)
    with pytest.raises(GitHubError, match="HTTP 500"):
        client(github).comment(1, "hello")
    assert len(github.calls) == 1 and github.comments_on(REPO, 1) == []


def test_rate_limit_is_reported_at_once_with_the_reset_time(github: FakeGitHub) -> None:
    github.rate_limit("GET", rf"/repos/{REPO}/collaborators/.*/permission")
    with pytest.raises(GitHubError) as caught:
        client(github).permission("maintainer")
    assert "rate limit exceeded" in caught.value.message
    assert "resets at" in caught.value.hint and "UTC" in caught.value.hint
    assert len(github.calls) == 1  # no waiting an hour for the reset


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
