"""Talking to the ``origin`` remote with git: look up, fetch and push branches.

The token reaches git through ``GIT_CONFIG_*`` environment variables of the git process only
(an ``http.extraheader`` for the remote's host), never through argv, a config file or the
repair's environment. When the checkout already persisted credentials (actions/checkout's
default) they are used as they are. Hooks are switched off for every git call made here.
"""

from __future__ import annotations

import base64
import os
import re
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from bot import gitcmd, proc
from bot.errors import GitHubError
from bot.models import ProcessResult
from bot.trace import redact

GIT_TIMEOUT = 300.0
# what reaching a remote may need of the environment (an ssh agent, proxies, certificates)
REACHING_REMOTE = (
    "SSH_AUTH_SOCK",
    "HTTPS_PROXY",
    "https_proxy",
    "HTTP_PROXY",
    "http_proxy",
    "NO_PROXY",
    "no_proxy",
    "SSL_CERT_FILE",
    "SSL_CERT_DIR",
    "GIT_SSL_CAINFO",
)
_PORCELAIN_STATUS = re.compile(r"^(?P<flag>[ +\-*=!])\t(?P<refs>\S+)\t(?P<summary>.*)$")


@dataclass(frozen=True)
class PushOutcome:
    pushed: bool
    rejected: bool  # the remote branch moved (stale lease or not a fast-forward)
    detail: str


def credential_config(url: str, token: str, *, persisted: bool) -> dict[str, str]:
    """``GIT_CONFIG_*`` variables that send the token as an auth header to the remote's host.

    Empty for remotes that are not https, without a token, or when the checkout already
    persisted credentials (two Authorization headers make GitHub refuse the request).
    """
    parts = urlsplit(url)
    if not token or persisted or parts.scheme != "https" or not parts.hostname:
        return {}
    credential = base64.b64encode(f"x-access-token:{token}".encode()).decode()
    return {
        "GIT_CONFIG_COUNT": "1",
        "GIT_CONFIG_KEY_0": f"http.https://{parts.hostname}/.extraheader",
        "GIT_CONFIG_VALUE_0": f"AUTHORIZATION: basic {credential}",
    }


class Remote:
    """One remote of a local clone, with the credentials to reach it."""

    def __init__(self, repo_dir: Path, token: str = "", name: str = "origin") -> None:
        self.repo_dir = repo_dir
        self.name = name
        self._token = token
        self._secrets = [token] if token else []
        self._env = self._environment()

    def _environment(self) -> dict[str, str]:
        """What git gets besides ``bot.gitcmd``'s allow-listed environment: the remote's
        credentials (and an ssh agent), for this remote's commands only."""
        env = {key: os.environ[key] for key in REACHING_REMOTE if key in os.environ}
        url = self._git(["remote", "get-url", self.name], env=env, check=False).strip()
        persisted = self._git(
            ["config", "--get-regexp", r"^http\..*\.extraheader$"], env=env, check=False
        ).strip()
        env.update(credential_config(url, self._token, persisted=bool(persisted)))
        return env

    def _run(self, args: Sequence[str], *, env: dict[str, str] | None = None) -> ProcessResult:
        # the user's own checkout (never a worktree a test ran in), with git's neutral settings
        return gitcmd.run(
            args,
            gitcmd.Place(self.repo_dir),
            env=self._env if env is None else env,
            timeout=GIT_TIMEOUT,
        )

    def _git(
        self, args: Sequence[str], *, env: dict[str, str] | None = None, check: bool = True
    ) -> str:
        result = self._run(args, env=env)
        if check and (result.returncode != 0 or result.timed_out):
            output = redact((result.stderr or result.stdout).strip(), self._secrets)
            if result.timed_out:
                output = f"timed out after {GIT_TIMEOUT:.0f}s"
            raise GitHubError(
                f"git {args[0]} failed: {output}",
                hint="check the remote, the network and that the token may push "
                "(`permissions: contents: write`)",
            )
        return result.stdout

    def branch_sha(self, branch: str) -> str | None:
        """The commit ``branch`` points to on the remote, or None when it does not exist."""
        output = self._git(["ls-remote", "--heads", self.name, f"refs/heads/{branch}"])
        for line in output.splitlines():
            sha, _, ref = line.partition("\t")
            if ref.strip() == f"refs/heads/{branch}":
                return sha.strip()
        return None

    def fetch(self, source: str, *, local_ref: str) -> str:
        """Fetch ``source`` (a remote ref) into ``local_ref`` and return its commit."""
        self._git(["fetch", "--no-tags", "--quiet", self.name, f"+{source}:{local_ref}"])
        return self._git(["rev-parse", "--verify", f"{local_ref}^{{commit}}"]).strip()

    def claim(self, ref: str, commit: str) -> bool:
        """Create ``ref`` (outside refs/heads) at ``commit`` unless the remote has it already.

        True when this call created it: a marker two runs cannot both set.
        """
        outcome = self.push(commit, "", expected=None, ref=ref)
        # git reports a ref that already has this value as "up to date", lease or not
        return outcome.pushed and "up to date" not in outcome.detail

    def push(self, commit: str, branch: str, *, expected: str | None, ref: str = "") -> PushOutcome:
        """Push ``commit`` to ``refs/heads/<branch>`` if the remote branch is still ``expected``.

        ``expected=None`` means the branch must not exist yet. A moved branch is a rejected
        outcome, not an exception; any other failure (auth, network) raises GitHubError.
        """
        ref = ref or f"refs/heads/{branch}"
        branch = branch or ref
        lease = f"--force-with-lease={ref}:{expected or ''}"
        result = self._run(["push", "--porcelain", lease, self.name, f"{commit}:{ref}"])
        output = redact(f"{result.stdout}\n{result.stderr}".strip(), self._secrets)
        statuses = [
            match
            for line in result.stdout.splitlines()
            if (match := _PORCELAIN_STATUS.match(line)) and match["refs"].endswith(ref)
        ]
        if result.returncode == 0 and not result.timed_out and statuses:
            return PushOutcome(pushed=True, rejected=False, detail=statuses[0]["summary"])
        if statuses and statuses[0]["flag"] == "!":
            summary = statuses[0]["summary"]
            if any(word in summary for word in ("stale info", "fetch first", "non-fast-forward")):
                return PushOutcome(pushed=False, rejected=True, detail=summary)
            raise GitHubError(
                f"the remote refused the push to {branch}: {summary}",
                hint="a branch protection rule or a hook on the remote blocks it",
            )
        raise GitHubError(
            f"git push to {branch} failed: {output or 'timed out'}",
            hint="check that the token may push (`permissions: contents: write`) and that the "
            "remote is reachable",
        )

    def push_ref(self, ref: str) -> bool:
        """Push a local ref outside refs/heads (a run record under refs/mendbot/runs/) to the
        same name on the remote; True when the remote has it afterwards."""
        result = self._run(["push", "--porcelain", self.name, f"{ref}:{ref}"])
        return result.returncode == 0 and not result.timed_out


def changed_paths(repo_dir: Path, base: str, head: str) -> list[str]:
    """Repository-relative paths that differ between two commits (renames on both sides)."""
    output = proc.git(["diff", "--name-only", "--no-renames", "-z", base, head], cwd=repo_dir)
    return [path for path in output.split("\0") if path]


def commit_file(repo_dir: Path, base: str, path: str, text: str, message: str) -> str:
    """A new commit on top of ``base`` that adds or replaces one file; no checkout is touched."""
    git_dir = Path(proc.git(["rev-parse", "--absolute-git-dir"], cwd=repo_dir).strip())
    index = git_dir / f"mendbot-index-{os.getpid()}-{time.monotonic_ns()}"
    env = {"GIT_INDEX_FILE": str(index)}

    def git(args: Sequence[str], stdin_text: str | None = None) -> str:
        result = gitcmd.run(
            args, gitcmd.Place(repo_dir), env=env, timeout=60, stdin_text=stdin_text
        )
        if result.returncode != 0:
            raise GitHubError(f"git {args[0]} failed: {result.stderr.strip()}")
        return result.stdout.strip()

    try:
        git(["read-tree", base])
        blob = git(["hash-object", "-w", "--stdin"], stdin_text=text)
        git(["update-index", "--add", "--cacheinfo", f"100644,{blob},{path}"])
        tree = git(["write-tree"])
        return git(["commit-tree", tree, "-p", base, "-F", "-"], stdin_text=message)
    finally:
        index.unlink(missing_ok=True)
