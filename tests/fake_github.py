"""A GitHub look-alike for tests: a REST server on 127.0.0.1 plus bare git repositories.

The REST side speaks enough of the GitHub API for the unmodified PyGithub client: repositories,
issues, issue comments, review comments and replies, reactions, pull requests (create, list,
get, update), collaborator permissions and users. Every request is recorded. Any route can be
scripted to fail (404, 5xx, a primary or secondary rate limit with GitHub's headers) a given
number of times, before the request takes effect or after it (as when GitHub answers 502 to a
request it carried out).

The git side: each repository may be backed by a bare repository on disk, which tests use as
the ``origin`` of a clone; creating a pull request checks that its head branch was pushed.
The Actions side: workflow runs with their jobs and job logs (the logs endpoint answers 302
with a download address, as GitHub does), and commit comments.

Event payload builders at the end produce the webhook shapes GitHub documents.
"""

from __future__ import annotations

import json
import re
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

TOKEN = "ghs_FakeToken0123456789abcdefghijklmnopqrstuv"


def _now() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())


@dataclass
class Call:
    method: str
    path: str
    query: dict[str, list[str]]
    body: Any
    authorization: str
    status: int = 0


@dataclass
class Failure:
    method: str
    pattern: re.Pattern[str]
    status: int
    body: dict[str, Any]
    headers: dict[str, str]
    times: int
    after: bool = False  # carry the request out, then answer with the failure


@dataclass
class Repo:
    full_name: str
    default_branch: str = "main"
    git_dir: Path | None = None
    fork: bool = False
    permissions: dict[str, str] = field(default_factory=dict)
    issues: dict[int, dict[str, Any]] = field(default_factory=dict)
    pulls: dict[int, dict[str, Any]] = field(default_factory=dict)
    runs: dict[int, dict[str, Any]] = field(default_factory=dict)
    commit_comments: list[dict[str, Any]] = field(default_factory=list)
    next_number: int = 1


class Reply(Exception):
    def __init__(self, status: int, body: Any = None, headers: dict[str, str] | None = None):
        super().__init__(status)
        self.status = status
        self.body = body
        self.headers = headers or {}


def not_found() -> Reply:
    return Reply(404, {"message": "Not Found", "documentation_url": "https://docs.github.com/rest"})


class FakeGitHub:
    """Start with ``with FakeGitHub() as github:``; ``github.api_url`` is the base URL."""

    def __init__(self, token: str = TOKEN) -> None:
        self.token = token
        self.calls: list[Call] = []
        self.repos: dict[str, Repo] = {}
        self.users: dict[str, dict[str, Any]] = {}
        self.comments: dict[int, dict[str, Any]] = {}  # issue comments by id
        self.review_comments: dict[int, dict[str, Any]] = {}
        self.reactions: list[dict[str, Any]] = []  # each with "subject": ("issue", repo, n) ...
        self.failures: list[Failure] = []
        self.job_logs: dict[int, str] = {}  # job id -> log text (absent: logs expired)
        self._ids = iter(range(1000, 10**9))
        self._lock = threading.RLock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._server.daemon_threads = True
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )
        self.routes: list[tuple[str, re.Pattern[str], Callable[..., Any]]] = [
            ("GET", re.compile(r"/repos/(?P<repo>[^/]+/[^/]+)"), self._get_repo),
            ("GET", re.compile(r"/users/(?P<login>[^/]+)"), self._get_user),
            (
                "GET",
                re.compile(
                    r"/repos/(?P<repo>[^/]+/[^/]+)/collaborators/(?P<login>[^/]+)/permission"
                ),
                self._get_permission,
            ),
            ("GET", re.compile(r"/repos/(?P<repo>[^/]+/[^/]+)/issues/(?P<n>\d+)"), self._get_issue),
            (
                "GET",
                re.compile(r"/repos/(?P<repo>[^/]+/[^/]+)/issues/(?P<n>\d+)/comments"),
                self._list_comments,
            ),
            (
                "POST",
                re.compile(r"/repos/(?P<repo>[^/]+/[^/]+)/issues/(?P<n>\d+)/comments"),
                self._create_comment,
            ),
            (
                "GET",
                re.compile(r"/repos/(?P<repo>[^/]+/[^/]+)/issues/comments/(?P<id>\d+)"),
                self._get_comment,
            ),
            (
                "POST",
                re.compile(r"/repos/(?P<repo>[^/]+/[^/]+)/issues/(?P<n>\d+)/reactions"),
                self._react_issue,
            ),
            (
                "POST",
                re.compile(r"/repos/(?P<repo>[^/]+/[^/]+)/issues/comments/(?P<id>\d+)/reactions"),
                self._react_comment,
            ),
            (
                "POST",
                re.compile(r"/repos/(?P<repo>[^/]+/[^/]+)/pulls/comments/(?P<id>\d+)/reactions"),
                self._react_review_comment,
            ),
            (
                "GET",
                re.compile(r"/repos/(?P<repo>[^/]+/[^/]+)/pulls/comments/(?P<id>\d+)"),
                self._get_review_comment,
            ),
            (
                "POST",
                re.compile(
                    r"/repos/(?P<repo>[^/]+/[^/]+)/pulls/(?P<n>\d+)/comments/(?P<id>\d+)/replies"
                ),
                self._reply_review_comment,
            ),
            (
                "GET",
                re.compile(r"/repos/(?P<repo>[^/]+/[^/]+)/pulls/(?P<n>\d+)/comments"),
                self._list_review_comments,
            ),
            ("GET", re.compile(r"/repos/(?P<repo>[^/]+/[^/]+)/pulls"), self._list_pulls),
            ("POST", re.compile(r"/repos/(?P<repo>[^/]+/[^/]+)/pulls"), self._create_pull),
            ("GET", re.compile(r"/repos/(?P<repo>[^/]+/[^/]+)/pulls/(?P<n>\d+)"), self._get_pull),
            (
                "GET",
                re.compile(r"/repos/(?P<repo>[^/]+/[^/]+)/actions/runs/(?P<id>\d+)"),
                self._get_run,
            ),
            (
                "GET",
                re.compile(r"/repos/(?P<repo>[^/]+/[^/]+)/actions/runs/(?P<id>\d+)/jobs"),
                self._list_jobs,
            ),
            (
                "GET",
                re.compile(r"/repos/(?P<repo>[^/]+/[^/]+)/actions/jobs/(?P<id>\d+)/logs"),
                self._job_logs,
            ),
            (
                "GET",
                re.compile(r"/repos/(?P<repo>[^/]+/[^/]+)/commits/(?P<sha>[0-9a-f]{40})"),
                self._get_commit,
            ),
            (
                "POST",
                re.compile(r"/repos/(?P<repo>[^/]+/[^/]+)/commits/(?P<sha>[0-9a-f]{40})/comments"),
                self._create_commit_comment,
            ),
            (
                "GET",
                re.compile(r"/repos/(?P<repo>[^/]+/[^/]+)/commits/(?P<sha>[0-9a-f]{40})/comments"),
                self._list_commit_comments,
            ),
            (
                "PATCH",
                re.compile(r"/repos/(?P<repo>[^/]+/[^/]+)/pulls/(?P<n>\d+)"),
                self._update_pull,
            ),
        ]

    # -- lifecycle -----------------------------------------------------------------------------
    def __enter__(self) -> FakeGitHub:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()

    @property
    def api_url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    @property
    def html_url(self) -> str:
        return self.api_url + "/html"

    # -- scripting -----------------------------------------------------------------------------
    def fail(
        self,
        method: str,
        path_pattern: str,
        status: int,
        *,
        message: str = "",
        headers: dict[str, str] | None = None,
        times: int = 1,
        after: bool = False,
    ) -> None:
        """Answer the next ``times`` matching requests with ``status`` (times=-1: always);
        ``after``: the request takes effect first, only its answer is the failure."""
        default = {404: "Not Found", 500: "Internal Server Error", 502: "Bad Gateway"}
        body = {
            "message": message or default.get(status, "Error"),
            "documentation_url": "https://docs.github.com/rest",
        }
        self.failures.append(
            Failure(method, re.compile(path_pattern), status, body, headers or {}, times, after)
        )

    def secondary_rate_limit(
        self,
        method: str,
        path_pattern: str,
        *,
        retry_after: int | None = 3,
        status: int = 429,
        times: int = 1,
    ) -> None:
        """A secondary rate limit: 429 (or 403) with ``Retry-After`` when given; the primary
        limit is not exhausted, so ``X-RateLimit-Reset`` (an hour away) does not apply."""
        self.fail(
            method,
            path_pattern,
            status,
            message="You have exceeded a secondary rate limit. Please wait a few minutes "
            "before you try again.",
            headers={"Retry-After": str(retry_after)} if retry_after is not None else {},
            times=times,
        )

    def count(self, method: str, path_pattern: str) -> int:
        """How many requests matched (whatever they were answered)."""
        pattern = re.compile(path_pattern)
        return sum(1 for c in self.calls if c.method == method and pattern.fullmatch(c.path))

    def rate_limit(self, method: str, path_pattern: str, *, times: int = -1) -> None:
        """A primary rate limit: 403, remaining 0, reset in an hour (GitHub's headers)."""
        reset = int(time.time()) + 3600
        self.fail(
            method,
            path_pattern,
            403,
            message="API rate limit exceeded for installation ID 4242.",
            headers={
                "X-RateLimit-Limit": "5000",
                "X-RateLimit-Remaining": "0",
                "X-RateLimit-Used": "5000",
                "X-RateLimit-Reset": str(reset),
                "X-RateLimit-Resource": "core",
            },
            times=times,
        )

    # -- state ---------------------------------------------------------------------------------
    def add_user(self, login: str, type: str = "User") -> dict[str, Any]:
        user = {
            "login": login,
            "id": next(self._ids),
            "type": type,
            "url": f"{self.api_url}/users/{login}",
            "html_url": f"{self.html_url}/{login}",
            "site_admin": False,
        }
        self.users[login] = user
        return user

    def user(self, login: str) -> dict[str, Any]:
        return self.users.get(login) or self.add_user(
            login, "Bot" if login.endswith("[bot]") else "User"
        )

    def add_repo(
        self,
        full_name: str,
        *,
        default_branch: str = "main",
        git_dir: Path | None = None,
        fork: bool = False,
    ) -> Repo:
        repo = Repo(full_name, default_branch, git_dir, fork)
        self.repos[full_name] = repo
        self.user(full_name.split("/")[0])
        return repo

    def set_permission(self, full_name: str, login: str, permission: str) -> None:
        self.user(login)
        self.repos[full_name].permissions[login] = permission

    def repo_json(self, repo: Repo) -> dict[str, Any]:
        owner, name = repo.full_name.split("/")
        return {
            "id": abs(hash(repo.full_name)) % 10**8,
            "name": name,
            "full_name": repo.full_name,
            "owner": self.user(owner),
            "private": False,
            "fork": repo.fork,
            "default_branch": repo.default_branch,
            "url": f"{self.api_url}/repos/{repo.full_name}",
            "html_url": f"{self.html_url}/{repo.full_name}",
            "clone_url": str(repo.git_dir) if repo.git_dir else "",
        }

    def add_issue(
        self,
        full_name: str,
        *,
        title: str,
        body: str = "",
        author: str = "reporter",
        labels: tuple[str, ...] = (),
    ) -> dict[str, Any]:
        repo = self.repos[full_name]
        number = repo.next_number
        repo.next_number += 1
        issue = {
            "id": next(self._ids),
            "number": number,
            "title": title,
            "body": body,
            "state": "open",
            "user": self.user(author),
            "labels": [{"name": label} for label in labels],
            "author_association": "COLLABORATOR" if repo.permissions.get(author) else "NONE",
            "url": f"{self.api_url}/repos/{full_name}/issues/{number}",
            "html_url": f"{self.html_url}/{full_name}/issues/{number}",
            "comments_url": f"{self.api_url}/repos/{full_name}/issues/{number}/comments",
            "repository_url": f"{self.api_url}/repos/{full_name}",
        }
        repo.issues[number] = issue
        return issue

    def _pull_json(
        self,
        repo: Repo,
        number: int,
        *,
        title: str,
        body: str,
        head_repo: Repo | None,
        head_ref: str,
        head_sha: str,
        base_ref: str,
        author: str,
        draft: bool,
    ) -> dict[str, Any]:
        full = repo.full_name
        head_owner = (head_repo.full_name if head_repo else full).split("/")[0]
        return {
            "id": next(self._ids),
            "number": number,
            "title": title,
            "body": body,
            "state": "open",
            "draft": draft,
            "merged": False,
            "user": self.user(author),
            "url": f"{self.api_url}/repos/{full}/pulls/{number}",
            "html_url": f"{self.html_url}/{full}/pull/{number}",
            "issue_url": f"{self.api_url}/repos/{full}/issues/{number}",
            "head": {
                "label": f"{head_owner}:{head_ref}",
                "ref": head_ref,
                "sha": head_sha,
                "user": self.user(head_owner),
                "repo": self.repo_json(head_repo) if head_repo else None,
            },
            "base": {
                "label": f"{full.split('/')[0]}:{base_ref}",
                "ref": base_ref,
                "sha": "",
                "user": self.user(full.split("/")[0]),
                "repo": self.repo_json(repo),
            },
        }

    def add_pull(
        self,
        full_name: str,
        *,
        title: str,
        head_ref: str,
        head_sha: str,
        head_repo: str | None = None,
        base_ref: str = "main",
        author: str = "contributor",
        body: str = "",
    ) -> dict[str, Any]:
        repo = self.repos[full_name]
        number = repo.next_number
        repo.next_number += 1
        head = self.repos.get(head_repo or full_name)
        pull = self._pull_json(
            repo,
            number,
            title=title,
            body=body,
            head_repo=head,
            head_ref=head_ref,
            head_sha=head_sha,
            base_ref=base_ref,
            author=author,
            draft=False,
        )
        repo.pulls[number] = pull
        issue = {
            **{k: pull[k] for k in ("id", "number", "title", "body", "state", "user")},
            "labels": [],
            "url": pull["issue_url"],
            "html_url": pull["html_url"],
            "pull_request": {"url": pull["url"], "html_url": pull["html_url"]},
        }
        repo.issues[number] = issue
        return pull

    def add_comment(
        self, full_name: str, number: int, *, body: str, author: str, association: str
    ) -> dict[str, Any]:
        comment_id = next(self._ids)
        comment = {
            "id": comment_id,
            "body": body,
            "user": self.user(author),
            "author_association": association,
            "url": f"{self.api_url}/repos/{full_name}/issues/comments/{comment_id}",
            "html_url": f"{self.html_url}/{full_name}/issues/{number}#issuecomment-{comment_id}",
            "issue_url": f"{self.api_url}/repos/{full_name}/issues/{number}",
            "created_at": _now(),
            "_repo": full_name,
            "_number": number,
        }
        self.comments[comment_id] = comment
        return comment

    def add_review_comment(
        self,
        full_name: str,
        number: int,
        *,
        body: str,
        author: str,
        association: str,
        path: str,
        line: int,
        diff_hunk: str,
        commit_id: str,
        in_reply_to: int | None = None,
    ) -> dict[str, Any]:
        comment_id = next(self._ids)
        comment = {
            "id": comment_id,
            "body": body,
            "user": self.user(author),
            "author_association": association,
            "path": path,
            "line": line,
            "original_line": line,
            "side": "RIGHT",
            "diff_hunk": diff_hunk,
            "commit_id": commit_id,
            "original_commit_id": commit_id,
            "pull_request_review_id": next(self._ids),
            "url": f"{self.api_url}/repos/{full_name}/pulls/comments/{comment_id}",
            "html_url": f"{self.html_url}/{full_name}/pull/{number}#discussion_r{comment_id}",
            "pull_request_url": f"{self.api_url}/repos/{full_name}/pulls/{number}",
            "created_at": _now(),
            "_repo": full_name,
            "_number": number,
        }
        if in_reply_to is not None:
            comment["in_reply_to_id"] = in_reply_to
        self.review_comments[comment_id] = comment
        return comment

    # -- questions tests ask -------------------------------------------------------------------
    def comments_on(self, full_name: str, number: int) -> list[dict[str, Any]]:
        return [
            c for c in self.comments.values() if c["_repo"] == full_name and c["_number"] == number
        ]

    def replies_to(self, comment_id: int) -> list[dict[str, Any]]:
        return [c for c in self.review_comments.values() if c.get("in_reply_to_id") == comment_id]

    def writes(self) -> list[Call]:
        return [c for c in self.calls if c.method in ("POST", "PATCH", "PUT", "DELETE")]

    def public(self, record: dict[str, Any]) -> dict[str, Any]:
        return {k: v for k, v in record.items() if not k.startswith("_")}

    # -- HTTP ----------------------------------------------------------------------------------
    def _handler(self) -> type[BaseHTTPRequestHandler]:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: Any) -> None:
                return

            def _serve(self, method: str) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length) if length else b""
                try:
                    body = json.loads(raw) if raw else None
                except json.JSONDecodeError:
                    body = raw.decode("utf-8", "replace")
                parts = urlsplit(self.path)
                call = Call(
                    method,
                    unquote(parts.path),
                    parse_qs(parts.query),
                    body,
                    self.headers.get("Authorization", ""),
                )
                with fake._lock:
                    fake.calls.append(call)
                    status, payload, headers = fake.answer(call)
                    call.status = status
                if isinstance(payload, bytes):  # a log download: plain text
                    data, content_type = payload, "text/plain; charset=utf-8"
                else:
                    data = b"" if payload is None else json.dumps(payload).encode()
                    content_type = "application/json; charset=utf-8"
                self.send_response(status)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(data)))
                for key, value in headers.items():
                    self.send_header(key, value)
                self.end_headers()
                self.wfile.write(data)

            def do_GET(self) -> None:
                self._serve("GET")

            def do_POST(self) -> None:
                self._serve("POST")

            def do_PATCH(self) -> None:
                self._serve("PATCH")

        return Handler

    def answer(self, call: Call) -> tuple[int, Any, dict[str, str]]:
        headers = {
            "X-RateLimit-Limit": "5000",
            "X-RateLimit-Remaining": "4999",
            "X-RateLimit-Reset": str(int(time.time()) + 3600),
        }
        download = re.fullmatch(r"/_downloads/job-logs/(\d+)", call.path)
        if download:  # a pre-signed address: no token needed, and none should be sent
            text = self.job_logs.get(int(download[1]))
            return (200, text.encode(), {}) if text is not None else (404, None, {})
        if call.authorization not in (f"token {self.token}", f"Bearer {self.token}"):
            return 401, {"message": "Bad credentials"}, headers
        for failure in self.failures:
            if (
                failure.times != 0
                and failure.method == call.method
                and failure.pattern.fullmatch(call.path)
            ):
                failure.times -= 1 if failure.times > 0 else 0
                if failure.after:
                    self._route(call, headers)
                return failure.status, failure.body, {**headers, **failure.headers}
        return self._route(call, headers)

    def _route(self, call: Call, headers: dict[str, str]) -> tuple[int, Any, dict[str, str]]:
        for method, pattern, handler in self.routes:
            match = pattern.fullmatch(call.path)
            if method == call.method and match:
                try:
                    status, payload = handler(call, **match.groupdict())
                except Reply as reply:
                    return reply.status, reply.body, {**headers, **reply.headers}
                return status, payload, headers
        return 404, {"message": "Not Found"}, headers

    def _repo(self, repo: str) -> Repo:
        if repo not in self.repos:
            raise not_found()
        return self.repos[repo]

    def _get_repo(self, call: Call, repo: str) -> tuple[int, Any]:
        return 200, self.repo_json(self._repo(repo))

    def _get_user(self, call: Call, login: str) -> tuple[int, Any]:
        if login not in self.users:
            raise not_found()
        return 200, self.users[login]

    def _get_permission(self, call: Call, repo: str, login: str) -> tuple[int, Any]:
        target = self._repo(repo)
        if login not in self.users:
            raise Reply(404, {"message": f"{login} is not a user"})
        permission = target.permissions.get(login, "read")
        return 200, {"permission": permission, "role_name": permission, "user": self.users[login]}

    def _get_issue(self, call: Call, repo: str, n: str) -> tuple[int, Any]:
        issues = self._repo(repo).issues
        if int(n) not in issues:
            raise not_found()
        return 200, issues[int(n)]

    def _list_comments(self, call: Call, repo: str, n: str) -> tuple[int, Any]:
        since = (call.query.get("since") or [""])[0]
        comments = [c for c in self.comments_on(repo, int(n)) if c["created_at"] >= since]
        return 200, [self.public(c) for c in comments]

    def _list_review_comments(self, call: Call, repo: str, n: str) -> tuple[int, Any]:
        since = (call.query.get("since") or [""])[0]
        comments = [
            c
            for c in self.review_comments.values()
            if c["_repo"] == repo and c["_number"] == int(n) and c["created_at"] >= since
        ]
        return 200, [self.public(c) for c in comments]

    def _create_comment(self, call: Call, repo: str, n: str) -> tuple[int, Any]:
        if int(n) not in self._repo(repo).issues:
            raise not_found()
        login = self._actor()
        comment = self.add_comment(
            repo,
            int(n),
            body=str((call.body or {}).get("body", "")),
            author=login,
            association="NONE",
        )
        return 201, self.public(comment)

    def _actor(self) -> str:
        return "github-actions[bot]"

    def _get_comment(self, call: Call, repo: str, id: str) -> tuple[int, Any]:
        comment = self.comments.get(int(id))
        if comment is None or comment["_repo"] != repo:
            raise not_found()
        return 200, self.public(comment)

    def _reaction(self, call: Call, subject: tuple[Any, ...]) -> tuple[int, Any]:
        content = (call.body or {}).get("content")
        allowed = {"+1", "-1", "laugh", "confused", "heart", "hooray", "rocket", "eyes"}
        if content not in allowed:
            raise Reply(422, {"message": "Validation Failed"})
        user = self.user(self._actor())
        for existing in self.reactions:  # GitHub: the same reaction again is a 200, not a copy
            if (existing["subject"], existing["content"], existing["user"]["login"]) == (
                subject,
                content,
                user["login"],
            ):
                return 200, {k: v for k, v in existing.items() if k != "subject"}
        reaction = {"id": next(self._ids), "content": content, "user": user}
        self.reactions.append({**reaction, "subject": subject})
        return 201, reaction

    def _react_issue(self, call: Call, repo: str, n: str) -> tuple[int, Any]:
        if int(n) not in self._repo(repo).issues:
            raise not_found()
        return self._reaction(call, ("issue", repo, int(n)))

    def _react_comment(self, call: Call, repo: str, id: str) -> tuple[int, Any]:
        if int(id) not in self.comments:
            raise not_found()
        return self._reaction(call, ("comment", repo, int(id)))

    def _react_review_comment(self, call: Call, repo: str, id: str) -> tuple[int, Any]:
        if int(id) not in self.review_comments:
            raise not_found()
        return self._reaction(call, ("review_comment", repo, int(id)))

    def _get_review_comment(self, call: Call, repo: str, id: str) -> tuple[int, Any]:
        comment = self.review_comments.get(int(id))
        if comment is None:
            raise not_found()
        return 200, self.public(comment)

    def _reply_review_comment(self, call: Call, repo: str, n: str, id: str) -> tuple[int, Any]:
        parent = self.review_comments.get(int(id))
        if parent is None or parent["_number"] != int(n):
            raise not_found()
        if "in_reply_to_id" in parent:  # GitHub: replies to replies are not supported
            raise Reply(422, {"message": "Validation Failed"})
        reply = self.add_review_comment(
            repo,
            int(n),
            body=str((call.body or {}).get("body", "")),
            author=self._actor(),
            association="NONE",
            path=parent["path"],
            line=parent["line"],
            diff_hunk=parent["diff_hunk"],
            commit_id=parent["commit_id"],
            in_reply_to=int(id),
        )
        return 201, self.public(reply)

    def _list_pulls(self, call: Call, repo: str) -> tuple[int, Any]:
        pulls = list(self._repo(repo).pulls.values())
        state = (call.query.get("state") or ["open"])[0]
        if state != "all":
            pulls = [p for p in pulls if p["state"] == state]
        if call.query.get("head"):
            pulls = [p for p in pulls if p["head"]["label"] == call.query["head"][0]]
        if call.query.get("base"):
            pulls = [p for p in pulls if p["base"]["ref"] == call.query["base"][0]]
        return 200, pulls

    def _branch_sha(self, repo: Repo, branch: str) -> str | None:
        if repo.git_dir is None:
            return None
        result = subprocess.run(
            ["git", "rev-parse", "--verify", "--quiet", f"refs/heads/{branch}"],
            cwd=repo.git_dir,
            capture_output=True,
            text=True,
            check=False,
        )
        return result.stdout.strip() or None

    def _create_pull(self, call: Call, repo: str) -> tuple[int, Any]:
        target = self._repo(repo)
        body = call.body or {}
        head, base = str(body.get("head", "")), str(body.get("base", ""))
        owner, _, branch = head.rpartition(":")
        owner = owner or repo.split("/")[0]
        head_repo = self.repos.get(f"{owner}/{repo.split('/')[1]}") or next(
            (r for r in self.repos.values() if r.full_name.split("/")[0] == owner), None
        )
        invalid = {
            "message": "Validation Failed",
            "errors": [{"resource": "PullRequest", "field": "head", "code": "invalid"}],
        }
        if head_repo is None or not base or not branch:
            raise Reply(422, invalid)
        sha = self._branch_sha(head_repo, branch)
        if head_repo.git_dir is not None and sha is None:
            raise Reply(422, invalid)
        label = f"{owner}:{branch}"
        if any(
            p["head"]["label"] == label and p["base"]["ref"] == base and p["state"] == "open"
            for p in target.pulls.values()
        ):
            raise Reply(
                422,
                {
                    "message": "Validation Failed",
                    "errors": [
                        {
                            "resource": "PullRequest",
                            "code": "custom",
                            "message": f"A pull request already exists for {label}.",
                        }
                    ],
                },
            )
        number = target.next_number
        target.next_number += 1
        pull = self._pull_json(
            target,
            number,
            title=str(body.get("title", "")),
            body=str(body.get("body", "")),
            head_repo=head_repo,
            head_ref=branch,
            head_sha=sha or "",
            base_ref=base,
            author=self._actor(),
            draft=bool(body.get("draft", False)),
        )
        target.pulls[number] = pull
        target.issues[number] = {
            **{k: pull[k] for k in ("id", "number", "title", "body", "state", "user")},
            "labels": [],
            "url": pull["issue_url"],
            "html_url": pull["html_url"],
            "pull_request": {"url": pull["url"]},
        }
        return 201, pull

    def _get_run(self, call: Call, repo: str, id: str) -> tuple[int, Any]:
        run = self._repo(repo).runs.get(int(id))
        if run is None:
            raise not_found()
        return 200, {k: v for k, v in run.items() if k != "_jobs"}

    def _list_jobs(self, call: Call, repo: str, id: str) -> tuple[int, Any]:
        run = self._repo(repo).runs.get(int(id))
        if run is None:
            raise not_found()
        return 200, {"total_count": len(run["_jobs"]), "jobs": run["_jobs"]}

    def _job_logs(self, call: Call, repo: str, id: str) -> tuple[int, Any]:
        if int(id) not in self.job_logs:
            raise Reply(410, {"message": "Logs have expired"})
        location = f"{self.api_url}/_downloads/job-logs/{id}"
        raise Reply(302, None, {"Location": location})

    def _get_commit(self, call: Call, repo: str, sha: str) -> tuple[int, Any]:
        self._repo(repo)
        return 200, {
            "sha": sha,
            "url": f"{self.api_url}/repos/{repo}/commits/{sha}",
            "html_url": f"{self.html_url}/{repo}/commit/{sha}",
        }

    def _list_commit_comments(self, call: Call, repo: str, sha: str) -> tuple[int, Any]:
        return 200, [c for c in self._repo(repo).commit_comments if c["commit_id"] == sha]

    def _create_commit_comment(self, call: Call, repo: str, sha: str) -> tuple[int, Any]:
        target = self._repo(repo)
        comment_id = next(self._ids)
        comment = {
            "id": comment_id,
            "body": str((call.body or {}).get("body", "")),
            "commit_id": sha,
            "user": self.user(self._actor()),
            "url": f"{self.api_url}/repos/{repo}/comments/{comment_id}",
            "html_url": f"{self.html_url}/{repo}/commit/{sha}#commitcomment-{comment_id}",
            "created_at": _now(),
        }
        target.commit_comments.append(comment)
        return 201, comment

    def add_workflow_run(
        self,
        full_name: str,
        *,
        head_sha: str,
        head_branch: str,
        event: str,
        jobs: dict[str, tuple[str, str | None]],
        head_repo: str | None = None,
        name: str = "ci",
        conclusion: str = "failure",
        actor: str = "maintainer",
    ) -> dict[str, Any]:
        """A completed run; ``jobs`` maps a job name to (conclusion, log text or None)."""
        repo = self.repos[full_name]
        run_id = next(self._ids)
        base = f"{self.api_url}/repos/{full_name}/actions/runs/{run_id}"
        job_list = []
        for job_name, (job_conclusion, log) in jobs.items():
            job_id = next(self._ids)
            if log is not None:
                self.job_logs[job_id] = log
            job_list.append(
                {
                    "id": job_id,
                    "run_id": run_id,
                    "name": job_name,
                    "status": "completed",
                    "conclusion": job_conclusion,
                    "head_sha": head_sha,
                    "url": f"{self.api_url}/repos/{full_name}/actions/jobs/{job_id}",
                    "html_url": f"{self.html_url}/{full_name}/actions/runs/{run_id}/job/{job_id}",
                    "steps": [],
                }
            )
        run = {
            "id": run_id,
            "name": name,
            "event": event,
            "status": "completed",
            "conclusion": conclusion,
            "head_branch": head_branch,
            "head_sha": head_sha,
            "run_attempt": 1,
            "url": base,
            "html_url": f"{self.html_url}/{full_name}/actions/runs/{run_id}",
            "jobs_url": f"{base}/jobs",
            "logs_url": f"{base}/logs",
            "actor": self.user(actor),
            "triggering_actor": self.user(actor),
            "repository": self.repo_json(repo),
            "head_repository": self.repo_json(self.repos[head_repo or full_name]),
            "_jobs": job_list,
        }
        repo.runs[run_id] = run
        return run

    def _get_pull(self, call: Call, repo: str, n: str) -> tuple[int, Any]:
        pulls = self._repo(repo).pulls
        if int(n) not in pulls:
            raise not_found()
        return 200, pulls[int(n)]

    def _update_pull(self, call: Call, repo: str, n: str) -> tuple[int, Any]:
        pulls = self._repo(repo).pulls
        if int(n) not in pulls:
            raise not_found()
        for key in ("title", "body", "state"):
            if key in (call.body or {}):
                pulls[int(n)][key] = call.body[key]
        return 200, pulls[int(n)]


# -- webhook payloads, in the shapes GitHub documents --------------------------------------------
def _repository(github: FakeGitHub, full_name: str) -> dict[str, Any]:
    return github.repo_json(github.repos[full_name])


def issue_labeled_event(
    github: FakeGitHub, full_name: str, issue: dict[str, Any], *, label: str, sender: str
) -> dict[str, Any]:
    return {
        "action": "labeled",
        "issue": {**issue, "labels": [*issue["labels"], {"name": label}]},
        "label": {"name": label, "color": "ededed"},
        "repository": _repository(github, full_name),
        "sender": github.user(sender),
    }


def issue_comment_event(
    github: FakeGitHub, full_name: str, number: int, comment: dict[str, Any]
) -> dict[str, Any]:
    return {
        "action": "created",
        "issue": github.repos[full_name].issues[number],
        "comment": github.public(comment),
        "repository": _repository(github, full_name),
        "sender": comment["user"],
    }


def review_comment_event(
    github: FakeGitHub, full_name: str, number: int, comment: dict[str, Any]
) -> dict[str, Any]:
    return {
        "action": "created",
        "comment": github.public(comment),
        "pull_request": github.repos[full_name].pulls[number],
        "repository": _repository(github, full_name),
        "sender": comment["user"],
    }


def workflow_run_event(
    github: FakeGitHub,
    full_name: str,
    run: dict[str, Any],
    *,
    head_commit: dict[str, Any],
    pulls: tuple[int, ...] = (),
) -> dict[str, Any]:
    """``workflow_run`` (completed): ``pull_requests`` lists only pull requests whose head is
    in this repository, as GitHub's payload does (a fork's is empty)."""
    repo = github.repos[full_name]
    listed = []
    for number in pulls:
        pull = repo.pulls[number]
        listed.append(
            {
                "id": pull["id"],
                "number": number,
                "url": pull["url"],
                "head": {k: pull["head"][k] for k in ("ref", "sha")}
                | {"repo": pull["head"]["repo"]},
                "base": {k: pull["base"][k] for k in ("ref", "sha")}
                | {"repo": pull["base"]["repo"]},
            }
        )
    public = {k: v for k, v in run.items() if k != "_jobs"}
    return {
        "action": "completed",
        "workflow_run": {**public, "pull_requests": listed, "head_commit": head_commit},
        "workflow": {"id": 161335, "name": run["name"], "path": ".github/workflows/ci.yml"},
        "repository": _repository(github, full_name),
        "sender": run["triggering_actor"],
    }


def head_commit(folder: Path, sha: str) -> dict[str, Any]:
    """The ``head_commit`` object of a push or workflow_run payload, from a real commit."""
    fields = git(folder, "show", "-s", "--format=%an%x00%ae%x00%cn%x00%ce%x00%B", sha)
    author, author_email, committer, committer_email, message = fields.split("\0", 4)
    return {
        "id": sha,
        "tree_id": git(folder, "rev-parse", f"{sha}^{{tree}}"),
        "message": message.strip(),
        "timestamp": "2024-05-01T12:00:00Z",
        "author": {"name": author, "email": author_email},
        "committer": {"name": committer, "email": committer_email},
    }


def iter_bodies(calls: list[Call]) -> Iterator[str]:
    for call in calls:
        if isinstance(call.body, dict):
            yield json.dumps(call.body)


# -- git: bare repositories as origin, clones as the runner's checkout ---------------------------
GIT_IDENTITY = [
    "-c",
    "user.name=Test Person",
    "-c",
    "user.email=person@example.com",
    "-c",
    "init.defaultBranch=main",
    "-c",
    "commit.gpgsign=false",
]


def git(cwd: Path, *args: str) -> str:
    result = subprocess.run(
        ["git", *GIT_IDENTITY, *args], cwd=cwd, capture_output=True, text=True, check=False
    )
    if result.returncode != 0:
        raise AssertionError(f"git {' '.join(args)} failed: {result.stderr}")
    return result.stdout.strip()


def write_files(folder: Path, files: dict[str, str]) -> None:
    for name, text in files.items():
        path = folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")


def commit_all(folder: Path, message: str) -> str:
    git(folder, "add", "-A")
    git(folder, "commit", "-q", "-m", message)
    return git(folder, "rev-parse", "HEAD")


def host_repository(root: Path, name: str, files: dict[str, str]) -> tuple[Path, Path]:
    """A bare ``origin`` holding ``files`` on main, and a work clone to push more from."""
    bare = root / f"{name}.git"
    git(root, "init", "-q", "--bare", str(bare))
    work = root / f"{name}-work"
    git(root, "clone", "-q", str(bare), str(work))
    write_files(work, files)
    commit_all(work, "initial")
    git(work, "push", "-q", "origin", "HEAD:refs/heads/main")
    git(bare, "symbolic-ref", "HEAD", "refs/heads/main")
    return bare, work


def clone_checkout(bare: Path, destination: Path) -> Path:
    """What actions/checkout leaves: a clone of origin on the default branch."""
    git(destination.parent, "clone", "-q", str(bare), str(destination))
    return destination
