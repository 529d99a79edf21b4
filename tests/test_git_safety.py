"""mendbot's own git never reads what code under test could have written.

The hostile project's tests rewrite the worktree's ``.git`` pointer file to a git directory
they built inside the worktree: its config names a script as ``core.fsmonitor``, hooks
(``core.hooksPath``) and ``diff.external``, and it borrows the real objects through
alternates. The script writes a marker file and its environment. mendbot runs with secrets in
its environment; the marker must never appear, no secret may be written anywhere, and the run
must never claim a head commit the user's repository does not hold.
"""

from __future__ import annotations

import ast
import json
import os
import re
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from conftest import GIT_ENV, CliResult, git, snapshot

from bot import gitcmd

RunCli = Callable[..., CliResult]
SECRETS = {
    "GITHUB_TOKEN": "ghp_" + "S3cr3tT0k3nV4lu3F0rT3st1ng0000000000",
    "OPENAI_API_KEY": "sk-" + "t3st4p1k3yth4tmustn3v3rl34k00000000",
}

CALC = """\
def clamp(value, low, high):
    if value < low:
        return low
    if value > high:
        return low
    return value
"""

TESTS = """\
from calc import clamp


def test_inside():
    assert clamp(5, 0, 10) == 5


def test_above():
    assert clamp(50, 0, 10) == 10
"""

# Builds a git directory inside the worktree and points the worktree's .git file at it.
HOSTILE_CONFTEST = """\
import os
import pathlib
import stat

ROOT = pathlib.Path(__file__).resolve().parent.parent
MARKER = {marker!r}
WHEN = {when!r}


def _resolve(common, ref):
    loose = common / ref
    if loose.is_file():
        return loose.read_text().strip()
    packed = common / "packed-refs"
    if packed.is_file():
        for line in packed.read_text().splitlines():
            if line.endswith(" " + ref):
                return line.split()[0]
    return ""


def tamper():
    dotgit = ROOT / ".git"
    if not dotgit.is_file():
        return  # the user's own checkout (a .git folder): not a worktree
    text = dotgit.read_text().strip()
    if ".evil" in text:
        return
    admin = pathlib.Path(text.split(":", 1)[1].strip())
    common = (admin / (admin / "commondir").read_text().strip()).resolve()
    head = (admin / "HEAD").read_text().strip()
    sha = _resolve(common, head[5:].strip()) if head.startswith("ref:") else head
    evil = ROOT / ".evil"
    (evil / "objects" / "info").mkdir(parents=True, exist_ok=True)
    (evil / "refs" / "heads").mkdir(parents=True, exist_ok=True)
    (evil / "hooks").mkdir(parents=True, exist_ok=True)
    (evil / "objects" / "info" / "alternates").write_text(str(common / "objects") + "\\n")
    (evil / "HEAD").write_text(sha + "\\n")
    if (admin / "index").is_file():
        (evil / "index").write_bytes((admin / "index").read_bytes())
    script = evil / "payload.sh"
    script.write_text("#!/bin/sh\\necho \\"payload ran: $0 $*\\" >> " + MARKER
                      + "\\nenv >> " + MARKER + "\\n")
    script.chmod(script.stat().st_mode | stat.S_IEXEC)
    for hook in ("pre-commit", "post-commit", "post-checkout", "reference-transaction"):
        target = evil / "hooks" / hook
        target.write_text(script.read_text())
        target.chmod(0o755)
    (evil / "config").write_text(
        "[core]\\n\\trepositoryformatversion = 0\\n\\tbare = false\\n"
        "\\tfsmonitor = " + str(script) + "\\n\\thooksPath = " + str(evil / "hooks") + "\\n"
        "\\tpager = " + str(script) + "\\n"
        "[diff]\\n\\texternal = " + str(script) + "\\n"
    )
    dotgit.write_text("gitdir: " + str(evil) + "\\n")


def _fixed():
    import calc
    return calc.clamp(50, 0, 10) == 10


def pytest_sessionfinish(session, exitstatus):
    if WHEN == "always" or (WHEN == "when-fixed" and _fixed()):
        tamper()
"""


def hostile_repo(make_repo: Callable[..., Path], marker: Path, when: str) -> Path:
    conftest = HOSTILE_CONFTEST.format(marker=str(marker), when=when)
    ast.parse(conftest)
    return make_repo({"calc.py": CALC, "tests/test_calc.py": TESTS, "tests/conftest.py": conftest})


def everything_written(root: Path, result: CliResult) -> str:
    """All mendbot wrote: its output, every object reachable from every ref (run records
    included) and the files of the checkout."""
    texts = [result.stdout, result.stderr]
    texts.append(git(root, "log", "--all", "-p", "--format=%H%n%B"))
    for ref in git(root, "for-each-ref", "--format=%(refname)", "refs/mendbot/").split():
        for name in git(root, "ls-tree", "--name-only", ref).split():
            texts.append(git(root, "show", f"{ref}:{name}"))
    texts += [p.read_text(errors="replace") for p in root.rglob("*") if p.is_file()]
    return "\n".join(texts)


def assert_contained(root: Path, marker: Path, result: CliResult, before: dict) -> None:
    assert not marker.exists(), "the hostile git configuration ran: " + marker.read_text()[:500]
    written = everything_written(root, result)
    for value in SECRETS.values():
        assert value not in written
    assert snapshot(root) == before  # the user's files, index, HEAD and main are intact
    assert git(root, "worktree", "list").count("\n") == 1


@pytest.mark.parametrize("sandbox", ["local"])
def test_a_test_that_redirects_git_at_baseline_stops_the_run(
    make_repo: Callable[..., Path], run_cli: RunCli, tmp_path: Path, sandbox: str
) -> None:
    marker = tmp_path / "marker.txt"
    root = hostile_repo(make_repo, marker, "always")
    before = snapshot(root)

    result = run_cli("fix", "--json", "--sandbox", sandbox, cwd=root, env=SECRETS)

    assert result.code == 2, result.stderr
    assert "changed git metadata" in result.stderr and "base commit" in result.stderr
    assert result.json()["status"] == "error"
    assert_contained(root, marker, result, before)
    assert git(root, "branch", "--list", "mendbot/*") == ""


def test_a_test_that_redirects_git_once_fixed_never_gives_a_fixed_run(
    make_repo: Callable[..., Path], run_cli: RunCli, tmp_path: Path
) -> None:
    marker = tmp_path / "marker.txt"
    root = hostile_repo(make_repo, marker, "when-fixed")
    before = snapshot(root)

    result = run_cli("fix", "--json", cwd=root, env=SECRETS)

    assert_contained(root, marker, result, before)
    report = result.json()
    assert report["status"] == "not_fixed", report
    assert result.code == 1
    # every candidate that fixed the bug tampered with git: rejected with that reason
    assert "changed git metadata" in result.stderr + result.stdout
    head = report["head"]
    assert git(root, "cat-file", "-t", head).strip() == "commit"  # never a fake head


def test_git_commands_carry_no_secret_and_override_programs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The one builder of git commands: an allow-listed environment and command-line
    overrides of every setting that names a program, checked with git itself."""
    for key, value in SECRETS.items():
        monkeypatch.setenv(key, value)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "aws-secret")
    monkeypatch.setenv("GIT_DIR", str(tmp_path / "elsewhere"))
    env = gitcmd.environment()
    assert not set(SECRETS) & set(env)
    assert "AWS_SECRET_ACCESS_KEY" not in env and "GIT_DIR" not in env
    assert env["GIT_CONFIG_NOSYSTEM"] == "1" and env["GIT_CONFIG_GLOBAL"] == os.devnull

    repo = tmp_path / "repo"
    repo.mkdir()
    git(repo, "init", "-q")
    git(repo, "config", "core.fsmonitor", "/bin/false-monitor")
    git(repo, "config", "core.hooksPath", str(tmp_path / "hooks"))
    git(repo, "config", "diff.external", "/bin/false-diff")
    shown = gitcmd.output(
        ["config", "--show-origin", "--get-all", "core.fsmonitor"], gitcmd.Place(repo)
    )
    assert shown.strip().splitlines()[-1].endswith("false")
    for key, wanted in (("core.hookspath", "/dev/null"), ("diff.external", "")):
        value = gitcmd.output(["config", "--get", key], gitcmd.Place(repo)).strip()
        assert value == wanted


def test_no_git_subprocess_outside_the_one_builder() -> None:
    """Every git command of bot/ goes through bot/gitcmd.py; GitPython is imported by
    bot/gitread.py alone (the in-process reader)."""
    root = Path(__file__).resolve().parent.parent / "bot"
    processes = re.compile(r"""(\[\s*["']git["']\s*,|["']git["']\s*,\s*\*)""")
    gitpython = re.compile(r"^\s*(import git\b|from git(\.\w+)* import|from gitdb)", re.M)
    offenders = []
    for path in sorted(root.rglob("*.py")):
        text = path.read_text(encoding="utf-8")
        name = str(path.relative_to(root))
        if name != "gitcmd.py" and processes.search(text):
            offenders.append(name)
        if name != "gitread.py" and gitpython.search(text):
            offenders.append(name)
    assert offenders == []


READER_PROBE = """\
import sys
from pathlib import Path

marker = Path(sys.argv[1])
import bot.gitread as gitread
import git.cmd

def refuse(self, command, *args, **kwargs):
    with marker.open("a") as out:
        out.write(f"GitPython started {command!r}\\n")
    raise RuntimeError("GitPython started a git process")

git.cmd.Git.execute = refuse
opened = gitread.open_reader

def counted(*args, **kwargs):
    with (marker.parent / "readers.txt").open("a") as out:
        out.write("opened\\n")
    return opened(*args, **kwargs)

gitread.open_reader = counted
from bot.cli import main
main(sys.argv[2:])
"""


def test_reading_the_users_repository_starts_no_git_process_of_gitpython(
    buggy_clamp: Path, tmp_path: Path
) -> None:
    """Two real `mendbot fix` runs: the second reuses the branch and finds the verified fix by
    reading branch tips, commit messages and the run record with GitPython. GitPython's git
    executable is a script that leaves a marker, and its process runner is replaced by one
    that leaves a marker and fails: neither may ever be reached, not even at import."""
    probe_folder = tmp_path / "probe"
    probe_folder.mkdir()
    marker = probe_folder / "marker.txt"
    script = probe_folder / "fake-git"
    script.write_text(f'#!/bin/sh\necho "$@" >> {marker}\necho "git version 2.99.0"\n')
    script.chmod(0o755)
    env = {
        **os.environ,
        **GIT_ENV,
        "MENDBOT_PLUGIN_AUTOLOAD": "0",
        "GIT_PYTHON_GIT_EXECUTABLE": str(script),
    }

    def fix() -> dict[str, object]:
        done = subprocess.run(
            [sys.executable, "-c", READER_PROBE, str(marker), "fix", "--json"],
            cwd=buggy_clamp,
            env=env,
            capture_output=True,
            text=True,
            timeout=240,
        )
        assert done.stdout.strip(), done.stderr
        report: dict[str, object] = json.loads(done.stdout)
        return report

    first = fix()
    assert first["status"] == "fixed", first
    again = fix()

    assert not marker.exists(), marker.read_text()
    assert (probe_folder / "readers.txt").exists()  # the reader was used
    assert again["status"] == "fixed" and again["branch"] == first["branch"]
    assert "already holds the verified fix" in str(again["reason"])
    assert git(buggy_clamp, "rev-parse", str(again["branch"])).strip() == again["head"]


def test_environment_of_git_has_no_secret_in_a_real_run(tmp_path: Path) -> None:
    """git sees no secret: a repository whose config aliases `status` cannot be used to read
    the environment; ``git var`` shows what git itself got."""
    repo = tmp_path / "repo"
    repo.mkdir()
    git(repo, "init", "-q")
    env = {**os.environ, **SECRETS}
    code = (
        "from pathlib import Path; from bot import gitcmd; import sys; "
        "r = gitcmd.run(['-c', 'alias.env=!env', 'env'], gitcmd.Place(Path(sys.argv[1]))); "
        "print(r.stdout)"
    )
    shown = subprocess.run(
        [sys.executable, "-c", code, str(repo)], env=env, capture_output=True, text=True
    ).stdout
    assert "PATH=" in shown
    for value in SECRETS.values():
        assert value not in shown


@pytest.mark.docker
def test_under_docker_the_tests_never_see_the_git_metadata(
    docker_client: object,
    docker_base_image: str,
    docker_wheelhouse: Path,
    make_repo: Callable[..., Path],
    run_cli: RunCli,
    tmp_path: Path,
) -> None:
    """The docker sandbox runs the tests on a throwaway copy of the worktree without its
    ``.git``: the hostile suite finds no pointer to rewrite, nothing it writes comes back, and
    the run repairs the bug as it would any other."""
    from bot.sandbox.prepare import prepare_image, read_recipe

    marker = tmp_path / "marker.txt"
    pyproject = (
        '[project]\nname = "calc"\nversion = "0.1.0"\n'
        '[project.optional-dependencies]\ntest = ["pytest"]\n'
        '[tool.pytest.ini_options]\npythonpath = ["."]\ntestpaths = ["tests"]\n'
        f'[tool.mendbot]\nbase-image = "{docker_base_image}"\n'
    )
    conftest = HOSTILE_CONFTEST.format(marker=str(marker), when="always")
    root = make_repo(
        {
            "calc.py": CALC,
            "tests/test_calc.py": TESTS,
            "tests/conftest.py": conftest,
            "pyproject.toml": pyproject,
        }
    )
    prepare_image(
        docker_client, root, read_recipe(root, docker_base_image), wheelhouse=docker_wheelhouse
    )
    before = snapshot(root)

    result = run_cli("fix", "--json", "--sandbox", "docker", cwd=root, env=SECRETS, timeout=600)

    assert_contained(root, marker, result, before)
    report = result.json()
    assert report["status"] == "fixed", result.stderr
    assert git(root, "rev-parse", report["branch"]).strip() == report["head"]


def test_a_claimed_head_is_checked_in_the_users_repository(
    make_repo: Callable[..., Path], tmp_path: Path
) -> None:
    from bot import workspace as ws
    from bot.errors import RepositoryError

    root = make_repo({"a.py": "x = 1\n"})
    base = git(root, "rev-parse", "HEAD").strip()
    git(root, "checkout", "-q", "-b", "mendbot/fix-x")
    (root / "a.py").write_text("x = 2\n")
    git(root, "commit", "-qam", "round")
    head = git(root, "rev-parse", "HEAD").strip()
    git(root, "checkout", "-q", "main")
    ws.verify_claim(root, "mendbot/fix-x", head, base)  # the truth passes

    # a commit made elsewhere (another repository's objects): not in the user's repository
    other = make_repo({"a.py": "x = 3\n"}, name="other")
    fake = git(other, "rev-parse", "HEAD").strip()
    with pytest.raises(RepositoryError, match="claims mendbot/fix-x"):
        ws.verify_claim(root, "mendbot/fix-x", fake, base)
    with pytest.raises(RepositoryError, match="missing"):
        ws.verify_claim(root, "mendbot/fix-gone", head, base)
    with pytest.raises(RepositoryError, match="does not build on the base"):
        ws.verify_claim(root, "mendbot/fix-x", head, fake)


def test_the_reader_sees_what_git_sees_in_packs_and_linked_worktrees(
    make_repo: Callable[..., Path], tmp_path: Path
) -> None:
    """Branch tips, round bases and run records read in-process match git's answers once
    refs and objects are packed (``git gc``), from a linked worktree of the user's too; a
    name git would refuse or a ref that is missing reads as no commit."""
    from bot import gitread
    from bot import workspace as ws

    root = make_repo({"a.py": "x = 1\n"})
    base = git(root, "rev-parse", "HEAD").strip()
    git(root, "checkout", "-q", "-b", "mendbot/fix-x")
    for number in (2, 3):
        (root / "a.py").write_text(f"x = {number}\n")
        git(root, "commit", "-qam", f"round {number}\n\nMendbot-Round: {number}\nMendbot-Run: r1")
    head = git(root, "rev-parse", "HEAD").strip()
    record = git(root, "commit-tree", "-m", "record", git(root, "rev-parse", "HEAD^{tree}").strip())
    git(root, "update-ref", "refs/mendbot/runs/r1", record.strip())
    git(root, "tag", "-a", "-m", "annotated", "v1", base)
    git(root, "checkout", "-q", "main")
    git(root, "gc", "-q", "--prune=now")
    assert not list((root / ".git" / "refs" / "heads").rglob("fix-x"))  # packed now

    linked = tmp_path / "linked"
    git(root, "worktree", "add", "-q", "--detach", str(linked))
    for top in (root, linked.resolve()):
        assert ws.branch_tip(top, "mendbot/fix-x") == head
        assert ws.branch_tip(top, "main") == base
        assert ws.round_base(top, head) == base
        for missing in ("gone", "../../config", "a..b", "x.lock", ""):
            assert ws.branch_tip(top, missing) == ""
        reader = ws.reader(top)
        assert gitread.commit_of(reader, "refs/tags/v1") == base  # peeled
        assert gitread.file_at(reader, "refs/mendbot/runs/r1", "a.py") == b"x = 3\n"
        assert gitread.file_at(reader, "refs/mendbot/runs/r1", "none.py") is None
        ws.verify_claim(top, "mendbot/fix-x", head, base)
