"""Pushing with git to a bare origin, the lease that detects a moved branch, and step outputs."""

from __future__ import annotations

import base64
import re
from pathlib import Path

import pytest
from fake_github import clone_checkout, commit_all, git, host_repository, write_files

from bot.errors import GitHubError
from bot.github import outputs
from bot.github.remote import Remote, changed_paths, commit_file, credential_config

TOKEN = "ghs_PushToken0123456789abcdefghijklmnopqr"


@pytest.fixture
def repos(tmp_path: Path) -> tuple[Path, Path, Path]:
    bare, work = host_repository(tmp_path, "widgets", {"app.py": "x = 1\n"})
    checkout = clone_checkout(bare, tmp_path / "checkout")
    return bare, work, checkout


def new_commit(folder: Path, name: str, text: str) -> str:
    write_files(folder, {name: text})
    return commit_all(folder, f"change {name}")


def test_push_a_new_branch_then_move_it_with_the_lease(repos: tuple[Path, Path, Path]) -> None:
    bare, _, checkout = repos
    remote = Remote(checkout, TOKEN)
    assert remote.branch_sha("mendbot/issue-3") is None
    first = new_commit(checkout, "app.py", "x = 2\n")
    pushed = remote.push(first, "mendbot/issue-3", expected=None)
    assert pushed.pushed and not pushed.rejected
    assert git(bare, "rev-parse", "refs/heads/mendbot/issue-3") == first
    assert remote.branch_sha("mendbot/issue-3") == first
    # a rerun replaces its own branch, but only if nobody moved it since it was read
    git(checkout, "checkout", "-q", "main")
    second = new_commit(checkout, "app.py", "x = 3\n")
    assert remote.push(second, "mendbot/issue-3", expected=first).pushed
    assert git(bare, "rev-parse", "refs/heads/mendbot/issue-3") == second


def test_a_moved_branch_is_a_rejection_not_an_error(repos: tuple[Path, Path, Path]) -> None:
    bare, work, checkout = repos
    base = git(checkout, "rev-parse", "HEAD")
    mine = new_commit(checkout, "app.py", "x = 2\n")
    someone_else = new_commit(work, "README", "docs\n")
    git(work, "push", "-q", "origin", "HEAD:refs/heads/main")
    outcome = Remote(checkout, TOKEN).push(mine, "main", expected=base)
    assert outcome.rejected and not outcome.pushed and "stale info" in outcome.detail
    assert git(bare, "rev-parse", "refs/heads/main") == someone_else  # nothing overwritten
    # the branch must not exist yet, but it does
    outcome = Remote(checkout, TOKEN).push(mine, "main", expected=None)
    assert outcome.rejected


def test_fetch_a_pull_request_ref(repos: tuple[Path, Path, Path]) -> None:
    _, work, checkout = repos
    head = new_commit(work, "feature.py", "y = 1\n")
    git(work, "push", "-q", "origin", "HEAD:refs/pull/7/head")
    fetched = Remote(checkout, TOKEN).fetch(
        "refs/pull/7/head", local_ref="refs/mendbot/pull/7/head"
    )
    assert fetched == head
    assert git(checkout, "rev-parse", "refs/mendbot/pull/7/head") == head


def test_push_failure_other_than_a_moved_branch_raises(
    tmp_path: Path, repos: tuple[Path, Path, Path]
) -> None:
    _, _, checkout = repos
    git(checkout, "remote", "set-url", "origin", str(tmp_path / "gone.git"))
    head = git(checkout, "rev-parse", "HEAD")
    with pytest.raises(GitHubError, match="git push to main failed") as caught:
        Remote(checkout, TOKEN).push(head, "main", expected=head)
    assert "contents: write" in caught.value.hint


def test_the_token_reaches_git_only_as_an_environment_header() -> None:
    config = credential_config("https://github.com/acme/widgets.git", TOKEN, persisted=False)
    assert config["GIT_CONFIG_KEY_0"] == "http.https://github.com/.extraheader"
    value = config["GIT_CONFIG_VALUE_0"]
    assert value.startswith("AUTHORIZATION: basic ")
    decoded = base64.b64decode(value.split()[-1]).decode()
    assert decoded == f"x-access-token:{TOKEN}"
    # actions/checkout already persisted a header: a second one would break the request
    assert credential_config("https://github.com/a/b", TOKEN, persisted=True) == {}
    assert credential_config("/srv/git/widgets.git", TOKEN, persisted=False) == {}
    assert credential_config("git@github.com:a/b.git", TOKEN, persisted=False) == {}


def test_commit_file_leaves_the_checkout_alone(repos: tuple[Path, Path, Path]) -> None:
    _, _, checkout = repos
    base = git(checkout, "rev-parse", "HEAD")
    (checkout / "app.py").write_text("x = 'edited, not committed'\n")
    commit = commit_file(
        checkout, base, "tests/test_issue_5.py", "def test_x():\n    assert 0\n", "Add a test\n"
    )
    assert git(checkout, "rev-parse", f"{commit}^") == base
    assert changed_paths(checkout, base, commit) == ["tests/test_issue_5.py"]
    assert git(checkout, "show", f"{commit}:tests/test_issue_5.py").startswith("def test_x")
    assert git(checkout, "rev-parse", "HEAD") == base
    assert "edited, not committed" in (checkout / "app.py").read_text()
    assert git(checkout, "status", "--porcelain") == "M app.py"


# -- $GITHUB_OUTPUT --------------------------------------------------------------------------------
def parse_output_file(text: str) -> dict[str, str]:
    """The runner's reading of the file: ``name=value`` lines and ``name<<DELIM`` blocks."""
    values: dict[str, str] = {}
    lines = text.split("\n")
    index = 0
    while index < len(lines):
        line = lines[index]
        index += 1
        if not line:
            continue
        if "<<" in line and ("=" not in line or line.index("<<") < line.index("=")):
            name, delimiter = line.split("<<", 1)
            body = []
            while lines[index] != delimiter:
                body.append(lines[index])
                index += 1
            index += 1
            values[name] = "\n".join(body)
        else:
            name, value = line.split("=", 1)
            values[name] = value
    return values


def test_outputs_use_a_fresh_random_delimiter(tmp_path: Path) -> None:
    path = tmp_path / "output"
    hostile = "mendbot/issue-1\nstatus<<EOF\nfixed\nEOF\nstatus=fixed"
    outputs.write_outputs(path, {"status": "not_fixed", "branch": hostile, "rounds": "2"})
    text = path.read_text()
    delimiters = re.findall(r"^(?:status|branch|rounds)<<(mendbot_[0-9a-f]{32})$", text, flags=re.M)
    assert len(delimiters) == 3 and len(set(delimiters)) == 3
    assert parse_output_file(text) == {"status": "not_fixed", "branch": hostile, "rounds": "2"}
    outputs.write_outputs(None, {"status": "x"})  # a local run has no output file
    with pytest.raises(GitHubError, match="invalid output name"):
        outputs.format_outputs({"bad name": "x"})


def test_summary_is_appended(tmp_path: Path) -> None:
    path = tmp_path / "summary.md"
    path.write_text("# earlier step\n")
    outputs.append_summary(path, "## mendbot: fixed\n\n")
    assert path.read_text() == "# earlier step\n## mendbot: fixed\n"
