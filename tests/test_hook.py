"""The pre-commit hook end to end: the real pre-commit client (`pre-commit install` + `git
commit`, `pre-commit try-repo`), the plain git hook, and `mendbot hook` run directly, on real
repositories with real pytest runs."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import textwrap
import time
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path

import pytest
import yaml
from conftest import BUGGY_CLAMP, GIT_ENV, CliResult, git, snapshot

from bot.commands.hook import script_text

RunCli = Callable[..., CliResult]
MAIN = Path(__file__).resolve().parents[1]
CORRECT = "if value > high:\n        return high"
BUGGY = "if value > high:\n        return low"

PROJECT = {
    **BUGGY_CLAMP,
    "shapes.py": BUGGY_CLAMP["shapes.py"].replace(
        "return low\n            return value", "return high\n            return value"
    ),
    # an old failure in code the commits never touch: running it would fail every commit
    "legacy.py": "def answer():\n    return 41\n",
    "tests/test_legacy.py": "from legacy import answer\n\n\ndef test_answer():\n"
    "    assert answer() == 42\n",
    "notes.py": "TITLE = 'notes'\n",
    "README.md": "project\n",
}
LOCAL_CONFIG = f"""\
repos:
-   repo: local
    hooks:
    -   id: mendbot
        name: mendbot
        entry: {sys.executable} -m bot hook
        language: system
        pass_filenames: false
        types: [python]
        require_serial: true
        verbose: true
        stages: [{{stage}}]
"""


def environment(home: Path, extra: Mapping[str, str] | None = None) -> dict[str, str]:
    env = {**os.environ, **GIT_ENV, "MENDBOT_PLUGIN_AUTOLOAD": "0", "PRE_COMMIT_HOME": str(home)}
    for name in (
        "PRE_COMMIT",
        "SKIP",
        "GIT_INDEX_FILE",
        "PRE_COMMIT_FROM_REF",
        "PRE_COMMIT_TO_REF",
    ):
        env.pop(name, None)
    env.update(extra or {})
    return env


def run(
    root: Path, *argv: str, home: Path, env: Mapping[str, str] | None = None, timeout: float = 240
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        list(argv),
        cwd=root,
        env=environment(home, env),
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def introduce_bug(root: Path) -> None:
    path = root / "shapes.py"
    path.write_text(path.read_text().replace(CORRECT, BUGGY))


def index_entries(root: Path) -> str:
    """What is staged: every index entry's mode, blob and path."""
    return git(root, "ls-files", "--stage")


def worktrees(root: Path) -> int:
    return git(root, "worktree", "list", "--porcelain").count("worktree ")


def branches(root: Path) -> str:
    return git(root, "for-each-ref", "--format=%(refname)", "refs/heads/")


@pytest.fixture
def home(tmp_path: Path) -> Path:
    return tmp_path / "pre-commit-home"


@pytest.fixture
def project(make_repo: Callable[..., Path]) -> Path:
    return make_repo(PROJECT, name="project")


def with_framework(root: Path, home: Path, stage: str = "pre-commit") -> None:
    """Install the pre-commit framework with mendbot as a local hook of this interpreter."""
    (root / ".pre-commit-config.yaml").write_text(LOCAL_CONFIG.format(stage=stage))
    git(root, "add", ".pre-commit-config.yaml")
    git(root, "commit", "-q", "--no-verify", "-m", "pre-commit config")
    done = run(root, sys.executable, "-m", "pre_commit", "install", "--hook-type", stage, home=home)
    assert done.returncode == 0, done.stderr


# ------------------------------------------------------------ with the pre-commit framework


def test_a_passing_commit_runs_only_the_related_tests(project: Path, home: Path) -> None:
    with_framework(project, home)
    head = git(project, "rev-parse", "HEAD")
    path = project / "shapes.py"
    path.write_text(path.read_text().replace("closed range", "closed interval"))
    git(project, "add", "shapes.py")

    done = run(project, "git", "commit", "-m", "docs", home=home)

    assert done.returncode == 0, done.stdout + done.stderr
    assert git(project, "rev-parse", "HEAD") != head
    assert "mendbot....." in done.stderr and "Passed" in done.stderr
    # the output says which tests ran; the failing legacy test was not one of them
    assert "tests/test_shapes.py (imports shapes.py)" in done.stderr
    assert "test_legacy" not in done.stderr
    assert "4 related test(s) passed" in done.stderr


def test_all_files_runs_every_test(project: Path, home: Path) -> None:
    """`pre-commit run --all-files` stages nothing: mendbot runs the whole suite (and says
    so) instead of passing without a test, and repairs what fails there."""
    with_framework(project, home)
    staged = index_entries(project)

    everything = run(project, sys.executable, "-m", "pre_commit", "run", "--all-files", home=home)

    output = everything.stdout + everything.stderr
    assert everything.returncode == 1, output
    assert "mendbot ran every test of the project" in output
    assert "files were modified by this hook" in output
    # the old failure in code no commit touched is one of them, and it was repaired
    assert "return 42" in (project / "legacy.py").read_text()
    assert index_entries(project) == staged


def test_a_fix_that_pre_commit_will_roll_back_says_so(project: Path, home: Path) -> None:
    """An unstaged edit on the line the fix changes: pre-commit set it aside, and when it
    puts it back it rolls the hook's fix back. mendbot says what will really happen."""
    with_framework(project, home)
    introduce_bug(project)
    git(project, "add", "shapes.py")
    path = project / "shapes.py"
    mine = path.read_text().replace(BUGGY, BUGGY + "  # low, really?")
    path.write_text(mine)

    done = run(project, "git", "commit", "-m", "bug", home=home)

    output = done.stdout + done.stderr
    assert done.returncode == 1, output
    assert "pre-commit will roll the fix back when it restores them" in output
    assert "the verified fix is in your working tree" not in output
    assert "Rolling back fixes" in output  # pre-commit did what mendbot said it would
    assert path.read_text() == mine  # the user's version, as said
    assert CORRECT in git(project, "show", "mendbot/hook:shapes.py")  # the fix, where said
    assert "git diff" in output and "mendbot/hook | git apply" in output


def test_a_failing_commit_is_repaired_in_the_working_tree(project: Path, home: Path) -> None:
    with_framework(project, home)
    head = git(project, "rev-parse", "HEAD")
    introduce_bug(project)
    path = project / "shapes.py"
    path.write_text(path.read_text().replace("closed range", "closed interval"))
    git(project, "add", "shapes.py")
    # unstaged edits in other files and an untracked file: byte for byte afterwards
    (project / "notes.py").write_bytes(b"TITLE = 'notes'\r\n# draft\xff\n")
    (project / "README.md").write_text("project\nwork in progress\n")
    (project / "scratch.txt").write_text("untracked\n")
    others = {p: (project / p).read_bytes() for p in ("notes.py", "README.md", "scratch.txt")}
    staged = index_entries(project)

    done = run(project, "git", "commit", "-m", "bug", home=home)

    output = done.stdout + done.stderr
    assert done.returncode == 1, output
    assert "files were modified by this hook" in output
    assert "fixed 1 failing test(s)" in output
    assert "-        return low\n+        return high" in output  # the diff
    assert "root cause:" in output and "Failure class: LOGIC" in output
    assert git(project, "rev-parse", "HEAD") == head  # no commit
    assert index_entries(project) == staged  # the index still holds the user's version
    assert CORRECT in (project / "shapes.py").read_text()  # the fix, unstaged
    assert git(project, "diff", "--name-only", "--", "shapes.py") == "shapes.py\n"
    assert {p: (project / p).read_bytes() for p in others} == others
    assert worktrees(project) == 1
    assert "refs/heads/mendbot/hook" in branches(project)
    assert git(project, "stash", "list") == ""
    # the user reviews, stages the fix, and the commit goes through
    git(project, "add", "shapes.py")
    again = run(project, "git", "commit", "-m", "clamp", home=home)
    assert again.returncode == 0, again.stdout + again.stderr
    committed = git(project, "show", "HEAD:shapes.py")
    assert CORRECT in committed and "closed interval" in committed
    assert {p: (project / p).read_bytes() for p in others} == others


def test_a_partially_staged_file_keeps_its_unstaged_part(project: Path, home: Path) -> None:
    with_framework(project, home)
    introduce_bug(project)
    git(project, "add", "shapes.py")
    unstaged = "\n\ndef double(values):\n    return [v * 2 for v in values]\n"
    with (project / "shapes.py").open("a") as handle:
        handle.write(unstaged)
    staged = index_entries(project)

    done = run(project, "git", "commit", "-m", "bug", home=home)

    assert done.returncode == 1, done.stdout
    text = (project / "shapes.py").read_text()
    assert CORRECT in text and text.endswith(unstaged)  # fixed, unstaged part still there
    assert index_entries(project) == staged
    assert BUGGY in git(project, "show", ":shapes.py")  # the staged version is the user's


def test_an_unrepairable_bug_fails_with_what_was_tried(project: Path, home: Path) -> None:
    with_framework(project, home)
    (project / "words.py").write_text("def reverse_words(text):\n    return text\n")
    (project / "tests/test_words.py").write_text(
        "from words import reverse_words\n\n"
        "def test_reverse():\n    assert reverse_words('a b c') == 'c b a'\n"
    )
    git(project, "add", "words.py", "tests/test_words.py")
    before = snapshot(project)

    done = run(project, "git", "commit", "-m", "words", home=home, env={"MENDBOT_MAX_ROUNDS": "1"})

    output = done.stdout + done.stderr
    assert done.returncode == 1, output
    assert "could not repair" in output or "time budget" in output
    assert "tried:" in output and "candidate fixes from templates" in output
    assert "still failing: tests/test_words.py::test_reverse" in output
    assert "files were modified" not in output
    after = snapshot(project)
    assert after["files"] == before["files"] and after["head"] == before["head"]
    assert index_entries(project) == git(project, "ls-files", "--stage")
    assert "mendbot/hook" not in branches(project)  # nothing worth keeping
    assert worktrees(project) == 1


def test_pre_push_checks_the_pushed_commits(project: Path, home: Path, tmp_path: Path) -> None:
    remote = tmp_path / "remote.git"
    git(tmp_path, "init", "-q", "--bare", str(remote))
    git(project, "remote", "add", "origin", str(remote))
    git(project, "push", "-q", "origin", "main")
    with_framework(project, home, stage="pre-push")
    git(project, "push", "-q", "origin", "main")
    introduce_bug(project)
    git(project, "commit", "-q", "-am", "bug")  # no pre-commit hook: it runs on push
    pushed_before = git(remote, "rev-parse", "main")

    done = run(project, "git", "push", "origin", "main", home=home)

    output = done.stdout + done.stderr
    assert done.returncode != 0, output
    assert "files were modified by this hook" in output
    assert git(remote, "rev-parse", "main") == pushed_before  # the push was stopped
    fixed = (project / "shapes.py").read_bytes()
    assert CORRECT in fixed.decode()
    # pushing again before committing the fix: pre-commit sets the unstaged fix aside, the
    # hook writes the same fix, and pre-commit keeps the user's version (the same text)
    again = run(project, "git", "push", "origin", "main", home=home)
    assert again.returncode != 0
    assert "fixed 1 failing test(s)" in again.stdout + again.stderr
    assert (project / "shapes.py").read_bytes() == fixed
    assert git(remote, "rev-parse", "main") == pushed_before


# ------------------------------------------------------------ the real `language: python` hook


@pytest.fixture(scope="session")
def hook_repository(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """mendbot's source as it is now, committed into a git repository pre-commit can install."""
    target = tmp_path_factory.mktemp("mendbot-hook-repo")
    listed = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=MAIN,
        capture_output=True,
        check=True,
    ).stdout.decode()
    for relative in filter(None, listed.split("\0")):
        source = MAIN / relative
        if source.is_file() and not relative.startswith(("benchmarks/", "examples/", "tests/")):
            destination = target / relative
            destination.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, destination)
    git(target, "init", "-q", "-b", "main")
    git(target, "add", "-A")
    git(target, "commit", "-q", "-m", "mendbot")
    return target


@pytest.fixture(scope="session")
def shared_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One pre-commit cache per test session: its virtualenv for mendbot is built once."""
    return tmp_path_factory.mktemp("pre-commit-home")


def test_manifest_is_valid_for_pre_commit(tmp_path: Path) -> None:
    manifest = yaml.safe_load((MAIN / ".pre-commit-hooks.yaml").read_text())
    (hook,) = manifest
    assert hook["id"] == "mendbot" and hook["entry"] == "mendbot hook"
    assert hook["language"] == "python" and hook["pass_filenames"] is False
    assert hook["stages"] == ["pre-commit"]
    assert hook["minimum_pre_commit_version"] == "3.2.0"
    done = run(
        MAIN, sys.executable, "-m", "pre_commit", "validate-manifest", ".pre-commit-hooks.yaml",
        home=tmp_path,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr


@pytest.mark.slow
def test_try_repo_installs_and_runs_the_real_hook(
    project: Path, hook_repository: Path, shared_home: Path
) -> None:
    introduce_bug(project)
    git(project, "add", "shapes.py")
    staged = index_entries(project)

    done = run(
        project, sys.executable, "-m", "pre_commit", "try-repo", str(hook_repository), "mendbot",
        home=shared_home, timeout=900,
    )  # fmt: skip

    output = done.stdout + done.stderr
    assert done.returncode == 1, output
    assert "files were modified by this hook" in output
    assert "fixed 1 failing test(s)" in output
    assert CORRECT in (project / "shapes.py").read_text()
    assert index_entries(project) == staged


# ------------------------------------------------------------ `mendbot hook` directly


def test_outside_pre_commit_unstaged_changes_are_set_aside_and_restored(
    project: Path, run_cli: RunCli
) -> None:
    introduce_bug(project)
    git(project, "add", "shapes.py")
    unstaged = "\n\ndef double(values):\n    return [v * 2 for v in values]\n"
    with (project / "shapes.py").open("a") as handle:
        handle.write(unstaged)
    (project / "notes.py").write_text("TITLE = 'draft'\n")
    before = snapshot(project)

    done = run_cli("hook", cwd=project)

    assert done.code == 1, done.stderr
    after = snapshot(project)
    assert after["index"] == before["index"]  # the index file, byte for byte
    assert after["head"] == before["head"] and after["stash"] == before["stash"]
    text = (project / "shapes.py").read_text()
    assert CORRECT in text and text.endswith(unstaged)
    changed = {p for p in before["files"] if before["files"][p] != after["files"][p]}
    assert changed == {"shapes.py"}
    assert not list((project / ".git/mendbot/hook").glob("unstaged.*"))


def test_a_fix_that_conflicts_with_unstaged_changes_keeps_the_users_version(
    project: Path, run_cli: RunCli
) -> None:
    introduce_bug(project)
    git(project, "add", "shapes.py")
    path = project / "shapes.py"
    path.write_text(path.read_text().replace(BUGGY, "if value > high:\n        return low  # ?"))
    before = snapshot(project)

    done = run_cli("hook", cwd=project)

    assert done.code == 1, done.stderr
    assert "conflicts with your unstaged changes in shapes.py" in done.stderr
    assert "your version was kept" in done.stderr
    assert snapshot(project) == before
    take = done.stderr.split("take it with: ")[1].splitlines()[0]
    assert take.endswith("mendbot/hook | git apply")
    assert "return high" in git(project, "show", "mendbot/hook:shapes.py")


def test_check_only_and_report_only_touch_no_file(project: Path, run_cli: RunCli) -> None:
    introduce_bug(project)
    git(project, "add", "shapes.py")
    before = snapshot(project)

    check = run_cli("hook", "--check-only", cwd=project)
    assert check.code == 1
    assert "1 related test(s) fail (--check-only" in check.stderr
    assert "failing: tests/test_shapes.py::test_above" in check.stderr
    assert snapshot(project) == before
    assert "mendbot/hook" not in branches(project)

    report = run_cli("hook", "--report-only", cwd=project)
    assert report.code == 1
    assert "found a verified fix for 1 test(s); no file was changed (--report-only)" in (
        report.stderr
    )
    assert snapshot(project) == before
    assert "+        return high" in report.stderr
    # the printed command takes the fix
    take = report.stderr.split("take it with: ")[1].splitlines()[0]
    base, branch = take.split()[2:4]
    patch = git(project, "diff", base, branch)
    subprocess.run(["git", "apply"], input=patch, text=True, cwd=project, check=True)
    assert CORRECT in (project / "shapes.py").read_text()


def test_notes_that_pass(project: Path, run_cli: RunCli, make_repo: Callable[..., Path]) -> None:
    skipped = run_cli("hook", cwd=project, env={"SKIP": "black, mendbot"})
    assert skipped.code == 0 and "skipped" in skipped.stderr

    (project / "notes.py").write_text("TITLE = 'changed'\n")
    git(project, "add", "notes.py")
    nothing = run_cli("hook", cwd=project)
    assert nothing.code == 0, nothing.stderr
    assert "nothing to test: no tests are related to notes.py" in nothing.stderr

    git(project, "reset", "-q", "notes.py")
    # files named on the command line (pass_filenames: true) are the changed set
    named = run_cli("hook", "shapes.py", cwd=project)
    assert named.code == 0, named.stderr
    assert "tests/test_shapes.py (imports shapes.py)" in named.stderr
    (project / "README.md").write_text("docs only\n")
    git(project, "add", "README.md")
    docs = run_cli("hook", cwd=project)
    assert docs.code == 0 and "no Python file of the project changed" in docs.stderr

    first = project.parent / "fresh"
    first.mkdir()
    git(first, "init", "-q")
    (first / "a.py").write_text("A = 1\n")
    git(first, "add", "a.py")
    unborn = run_cli("hook", cwd=first)
    assert unborn.code == 0 and "first commit" in unborn.stderr


def test_missing_pytest_is_a_clear_failure(project: Path, run_cli: RunCli) -> None:
    # a project virtualenv without pytest: the hook prefers it, and says what to do
    subprocess.run(
        [sys.executable, "-m", "venv", "--without-pip", str(project / ".venv")], check=True
    )
    introduce_bug(project)
    git(project, "add", "shapes.py")
    before = snapshot(project)

    done = run_cli("hook", cwd=project)

    python = project / ".venv" / "bin" / "python"
    assert done.code == 2, done.stderr
    assert f"tests run with {python}" in done.stderr
    assert f"pytest is not installed for {python}" in done.stderr
    assert "pip install pytest" in done.stderr
    assert snapshot(project)["files"] == before["files"]


def test_the_budget_running_out_is_a_clear_failure(
    make_repo: Callable[..., Path], run_cli: RunCli
) -> None:
    slow = dict(PROJECT)
    # (the project's texts are indented; write_tree dedents them, so dedent before prepending)
    slow["tests/test_shapes.py"] = "import time\n\n" + textwrap.dedent(
        PROJECT["tests/test_shapes.py"]
    ).replace("def test_above():\n", "def test_above():\n    time.sleep(30)\n")
    root = make_repo(slow)
    introduce_bug(root)
    git(root, "add", "shapes.py")
    before = snapshot(root)

    started = time.monotonic()
    done = run_cli("hook", "--time-budget", "1", cwd=root)

    # one budget for the related tests and the repair: `git commit` is not held for the
    # related tests' own 30 s (a generous bound: start-up of the CLI and the sandbox)
    assert time.monotonic() - started < 12, done.stderr
    assert done.code == 1, done.stderr
    assert "the time budget of 1s ran out" in done.stderr
    assert "--time-budget" in done.stderr
    assert snapshot(root)["files"] == before["files"]
    assert worktrees(root) == 1


def test_all_records_the_coverage_map_that_later_runs_use(project: Path, run_cli: RunCli) -> None:
    # a test that reaches notes.py without importing it: only coverage can tell
    (project / "tests/test_dynamic.py").write_text(
        "import importlib\n\n"
        "def test_title():\n    assert importlib.import_module('notes').TITLE == 'notes'\n"
    )
    git(project, "add", "tests/test_dynamic.py")
    git(project, "commit", "-q", "-m", "dynamic")
    full = run_cli("hook", "--all", "--check-only", cwd=project)
    assert full.code == 1  # the legacy test fails in a full run
    recorded = json.loads((project / ".git/mendbot/coverage-map.json").read_text())
    tests = recorded["projects"]["."]["tests"]
    assert "notes.py" in tests["tests/test_dynamic.py::test_title"]

    (project / "notes.py").write_text("TITLE = 'notes'  # same\n")
    git(project, "add", "notes.py")
    done = run_cli("hook", cwd=project)
    assert done.code == 0, done.stderr
    assert "tests/test_dynamic.py (runs notes.py (coverage map))" in done.stderr


# ------------------------------------------------------------ interrupted runs


def _wait_for(condition: Callable[[], bool], process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 120
    while not condition():
        assert process.poll() is None, "mendbot finished before it could be interrupted"
        assert time.monotonic() < deadline, "mendbot never reached the point to interrupt"
        time.sleep(0.05)


def _wait_for_leftovers(marker: str) -> None:
    """Wait until no process works in or names ``marker`` (a killed run's test processes
    live on in their own sessions until their tests end)."""

    def busy() -> bool:
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit():
                continue
            try:
                cmdline = (entry / "cmdline").read_bytes().decode(errors="replace")
                cwd = os.readlink(entry / "cwd")
            except OSError:
                continue
            if marker in cmdline or cwd.startswith(marker):
                return True
        return False

    deadline = time.monotonic() + 120
    while busy():
        assert time.monotonic() < deadline, "the killed run's processes never ended"
        time.sleep(0.1)


def test_a_killed_run_leaves_the_files_intact_and_the_next_run_cleans_up(
    make_repo: Callable[..., Path], run_cli: RunCli
) -> None:
    slow = dict(PROJECT)
    # (the project's texts are indented; write_tree dedents them, so dedent before prepending)
    slow["tests/test_shapes.py"] = "import time\n\n" + textwrap.dedent(
        PROJECT["tests/test_shapes.py"]
    ).replace("def test_scale():\n", "def test_scale():\n    time.sleep(0.5)\n")
    root = make_repo(slow)
    introduce_bug(root)
    git(root, "add", "shapes.py")
    (root / "notes.py").write_text("TITLE = 'draft'\n")
    before = snapshot(root)
    env = {**os.environ, **GIT_ENV, "MENDBOT_PLUGIN_AUTOLOAD": "0"}
    process = subprocess.Popen(
        [sys.executable, "-m", "bot", "hook"],
        cwd=root,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        _wait_for(lambda: worktrees(root) == 2, process)  # the repair is under way
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
    record = json.loads((root / ".git/mendbot/hook/run.json").read_text())
    scratch = Path(record["scratch"])
    assert snapshot(root) == before  # the user's files, index and refs: untouched
    _wait_for_leftovers(str(scratch))  # the test processes it started run to their end

    done = run_cli("hook", "--check-only", cwd=root)

    assert "cleaned up after an interrupted mendbot run" in done.stderr
    assert worktrees(root) == 1
    assert not scratch.exists()
    assert not (root / ".git/mendbot/hook/run.json").exists()
    assert snapshot(root)["files"] == before["files"]


def test_changes_set_aside_by_a_killed_run_are_restored(project: Path, run_cli: RunCli) -> None:
    introduce_bug(project)
    git(project, "add", "shapes.py")
    path = project / "shapes.py"
    path.write_bytes(path.read_bytes() + b"\n# unstaged \xe2\x9c\x93\n")
    before = snapshot(project)
    # the real set-aside code, in a process killed right after it checked out the staged
    # version (the moment a hook run is most exposed)
    script = (
        "import os, signal, sys\n"
        "from pathlib import Path\n"
        "from bot.handback import SetAside\n"
        "top = Path(sys.argv[1])\n"
        "folder = top / '.git/mendbot/hook'\n"
        "folder.mkdir(parents=True, exist_ok=True)\n"
        "aside = SetAside(top, folder)\n"
        "assert aside.save(top / '.git/index', ['shapes.py'])\n"
        "aside.checkout_staged()\n"
        "os.kill(os.getpid(), signal.SIGKILL)\n"
    )
    killed = subprocess.run([sys.executable, "-c", script, str(project)], cwd=project)
    assert killed.returncode == -signal.SIGKILL
    assert path.read_bytes() == git(project, "show", ":shapes.py").encode()  # set aside

    done = run_cli("hook", "--check-only", cwd=project)

    assert "restored your unstaged changes" in done.stderr
    assert snapshot(project)["files"] == before["files"]
    assert not (project / ".git/mendbot/hook/unstaged.patch").exists()


# ------------------------------------------------------------ the plain git hook


@pytest.fixture
def plain_hook(project: Path, run_cli: RunCli) -> Iterator[Path]:
    done = run_cli("install-hook", cwd=project)
    assert done.code == 0, done.stderr
    yield project / ".git" / "hooks" / "pre-commit"


def test_the_plain_git_hook_repairs_without_pre_commit(
    project: Path, plain_hook: Path, home: Path
) -> None:
    assert plain_hook.read_text() == script_text(sys.executable)
    head = git(project, "rev-parse", "HEAD")
    introduce_bug(project)
    git(project, "add", "shapes.py")
    unstaged = "\n\ndef double(values):\n    return [v * 2 for v in values]\n"
    with (project / "shapes.py").open("a") as handle:
        handle.write(unstaged)
    (project / "notes.py").write_bytes(b"TITLE = 'draft'\r\n")
    staged = index_entries(project)

    blocked = run(project, "git", "commit", "-m", "bug", home=home)

    assert blocked.returncode == 1, blocked.stderr
    assert "fixed 1 failing test(s)" in blocked.stderr
    assert git(project, "rev-parse", "HEAD") == head
    assert index_entries(project) == staged
    text = (project / "shapes.py").read_text()
    assert CORRECT in text and text.endswith(unstaged)
    assert (project / "notes.py").read_bytes() == b"TITLE = 'draft'\r\n"

    skipped = run(project, "git", "commit", "-q", "-m", "bug", home=home, env={"SKIP": "mendbot"})
    assert skipped.returncode == 0 and "skipped" in skipped.stdout + skipped.stderr
    assert BUGGY in git(project, "show", "HEAD:shapes.py")

    # `git commit -a` commits from a temporary index (GIT_INDEX_FILE): that is what is tested
    path = project / "shapes.py"
    path.write_text(path.read_text().replace(CORRECT, BUGGY))
    all_files = run(project, "git", "commit", "-a", "-m", "all", home=home)
    assert all_files.returncode == 1, all_files.stderr
    assert "fixed 1 failing test(s)" in all_files.stderr
    assert CORRECT in path.read_text()
    git(project, "add", "-A")
    fixed = run(project, "git", "commit", "-q", "-m", "fixed", home=home)
    assert fixed.returncode == 0, fixed.stderr
    assert worktrees(project) == 1


def test_install_hook_respects_existing_hooks_and_hooks_path(
    project: Path, run_cli: RunCli
) -> None:
    hooks = project / ".git" / "hooks"
    hooks.mkdir(exist_ok=True)
    (hooks / "pre-commit").write_text("#!/bin/sh\necho mine\n")
    refused = run_cli("install-hook", cwd=project)
    assert refused.code == 2 and "already exists" in refused.stderr and "--force" in refused.stderr
    assert (hooks / "pre-commit").read_text() == "#!/bin/sh\necho mine\n"

    forced = run_cli("install-hook", "--force", cwd=project)
    assert forced.code == 0, forced.stderr
    assert (hooks / "pre-commit.mendbot-backup").read_text() == "#!/bin/sh\necho mine\n"
    assert os.access(hooks / "pre-commit", os.X_OK)
    again = run_cli("install-hook", cwd=project)
    assert again.code == 0 and "already installed" in again.stderr

    git(project, "config", "core.hooksPath", "githooks")
    custom = run_cli("install-hook", "--hook-type", "pre-push", cwd=project)
    assert custom.code == 0, custom.stderr
    assert (project / "githooks" / "pre-push").read_text() == script_text(sys.executable)

    (project / "githooks" / "pre-commit").write_text("#!/bin/sh\n# File generated by pre-commit\n")
    framework = run_cli("install-hook", cwd=project)
    assert framework.code == 2 and ".pre-commit-config.yaml" in framework.stderr


def test_the_plain_pre_push_hook_checks_the_pushed_commits(
    project: Path, run_cli: RunCli, home: Path, tmp_path: Path
) -> None:
    remote = tmp_path / "remote.git"
    git(tmp_path, "init", "-q", "--bare", str(remote))
    git(project, "remote", "add", "origin", str(remote))
    git(project, "push", "-q", "origin", "main")
    git(project, "config", "core.hooksPath", "githooks")
    installed = run_cli("install-hook", "--hook-type", "pre-push", cwd=project)
    assert installed.code == 0, installed.stderr
    introduce_bug(project)
    git(project, "commit", "-q", "-am", "bug")
    pushed_before = git(remote, "rev-parse", "main")

    done = run(project, "git", "push", "origin", "main", home=home)

    assert done.returncode != 0, done.stderr
    assert "fixed 1 failing test(s)" in done.stderr
    assert "tests/test_shapes.py (imports shapes.py)" in done.stderr
    assert git(remote, "rev-parse", "main") == pushed_before
    assert CORRECT in (project / "shapes.py").read_text()
    # a new branch: the commits not yet on the remote are checked (here: a passing one)
    git(project, "checkout", "-q", "-b", "topic")
    path = project / "shapes.py"
    path.write_text(path.read_text().replace("closed range", "closed interval"))
    git(project, "commit", "-q", "-am", "fixed")
    topic = run(project, "git", "push", "origin", "topic", home=home)
    assert topic.returncode == 0, topic.stderr
    assert "related test(s) passed" in topic.stderr


def test_the_shipped_script_is_the_one_installed() -> None:
    shipped = (MAIN / "hooks" / "pre-commit").read_text()
    assert shipped == script_text()
    assert os.access(MAIN / "hooks" / "pre-commit", os.X_OK)
    checked = subprocess.run(["sh", "-n", str(MAIN / "hooks" / "pre-commit")])
    assert checked.returncode == 0
