"""Files a candidate writes never decide another candidate's verdict, and code the tests run
in another program is judged by a fresh pytest run. Real projects, real pytest, real forks."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from conftest import git
from test_screening import Everything, edit, workspace_of

from bot.models import Candidate, Verdict, Workspace
from bot.sandbox.local import LocalSandbox
from bot.testing.runner import TestRunner
from bot.validate import Validator

# A lookup that trusts a cache file next to it. The bug: compute() adds a "!".
LOOKUP = """
import json
import os
import time

HERE = os.path.dirname(os.path.abspath(__file__))
CACHE = os.path.join(HERE, "cache.json")
RATES = os.path.join(HERE, "data", "rates.txt")


def lookup(key):
    if os.path.exists(CACHE):
        with open(CACHE) as cache:
            return json.load(cache).get(key, "miss")
    return compute(key)


def compute(key):
    return key.upper() + "!"


def rate():
    with open(RATES) as rates:
        return int(rates.read())
"""

TESTS = """
import lookup


def test_lookup_upper():
    assert lookup.lookup("a") == "A"


def test_rate():
    assert lookup.rate() == 7
"""

WRONG = '    return key.upper() + "!"\n'
RIGHT = "    return key.upper()\n"
# Each writes something that would make a later (or concurrent) wrong candidate look right,
# or a right one look wrong, and stays wrong itself.
POISONERS = {
    # a cache holding the expected answer: a wrong candidate reading it would "pass"
    "writes-cache": '    with open(CACHE, "w") as cache:\n'
    '        json.dump({"a": "A"}, cache)\n'
    "    time.sleep(0.4)\n"
    '    return key + "?"\n',
    # a tracked data file changed: a right candidate would then fail test_rate
    "changes-data": '    with open(RATES, "w") as rates:\n'
    '        rates.write("0")\n'
    "    time.sleep(0.4)\n"
    '    return key + "?"\n',
    # a tracked data file removed
    "removes-data": '    os.remove(RATES)\n    time.sleep(0.4)\n    return key + "?"\n',
    # written through os.open and renamed into place, as atomic writers do
    "renames-cache": '    fd = os.open(CACHE + ".tmp", os.O_WRONLY | os.O_CREAT, 0o644)\n'
    '    os.write(fd, b\'{"a": "A"}\')\n'
    "    os.close(fd)\n"
    '    os.replace(CACHE + ".tmp", CACHE)\n'
    "    time.sleep(0.4)\n"
    '    return key + "?"\n',
}


@pytest.fixture
def project(make_repo: Callable[..., Path]) -> Iterator[tuple[TestRunner, Workspace]]:
    root = make_repo({"lookup.py": LOOKUP, "data/rates.txt": "7", "tests/test_lookup.py": TESTS})
    runner = TestRunner(LocalSandbox(), root, root, autoload=False)
    yield runner, workspace_of(root)
    runner.close()


def candidate(name: str, body: str) -> Candidate:
    return edit(name, "lookup.py", LOOKUP.replace(WRONG, body))


def batch() -> list[Candidate]:
    """Each poisoner is followed by a wrong candidate that its file would make look right, and
    a right candidate that its change would make look wrong."""
    found: list[Candidate] = []
    for name, body in POISONERS.items():
        found += [
            candidate(name, body),
            candidate(f"after-{name}-wrong", '    return key.lower() + "!"\n'),
            candidate(f"after-{name}-right", RIGHT),
        ]
    return found


def screen(runner: TestRunner, workspace: Workspace, mode: str) -> dict[str, Verdict | None]:
    baseline = runner.run(timeout=60, per_test_timeout=5)
    assert baseline.failing == ("tests/test_lookup.py::test_lookup_upper",)
    validator = Validator(runner, workspace, mode, workers=2, test_timeout=5)
    candidates = batch()
    verdicts = validator.screen(
        candidates, Everything(baseline.failing, baseline.passing), baseline, stop_at_first=False
    )
    assert validator.stats.fast == (len(candidates) if mode == "fast" else 0)
    return {c.id: v for c, v in zip(candidates, verdicts, strict=True)}


def accepted(verdicts: dict[str, Verdict | None]) -> set[str]:
    return {name for name, verdict in verdicts.items() if verdict is not None and verdict.accepted}


def test_files_a_candidate_writes_never_reach_another(
    project: tuple[TestRunner, Workspace],
) -> None:
    runner, workspace = project
    fast = screen(runner, workspace, "fast")
    assert accepted(fast) == {f"after-{name}-right" for name in POISONERS}
    # every file is as committed: nothing written, changed or removed is left behind
    assert git(workspace.worktree, "status", "--porcelain", "--untracked-files=all") == ""
    assert (workspace.project_dir / "data" / "rates.txt").read_text().strip() == "7"


def test_fast_and_naive_agree_when_candidates_write_files(
    project: tuple[TestRunner, Workspace],
) -> None:
    runner, workspace = project
    fast = screen(runner, workspace, "fast")
    naive = screen(runner, workspace, "naive")
    assert {k: (v.accepted if v else None) for k, v in fast.items()} == {
        k: (v.accepted if v else None) for k, v in naive.items()
    }
    assert git(workspace.worktree, "status", "--porcelain", "--untracked-files=all") == ""


GREETER = """
def greeting(name):
    return "hello " + name + "!!"


if __name__ == "__main__":
    import sys
    print(greeting(sys.argv[1]))
"""

GREETER_TESTS = """
import os
import subprocess
import sys

import greeter

HERE = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def test_command_line():
    done = subprocess.run(
        [sys.executable, os.path.join(HERE, "greeter.py"), "ann"],
        capture_output=True, text=True, check=True,
    )
    assert done.stdout.strip() == "hello ann!"


def test_plain():
    assert greeter.greeting("bo").startswith("hello bo")
"""


def test_tests_that_run_another_program_are_judged_by_a_fresh_pytest(
    make_repo: Callable[..., Path],
) -> None:
    """A child swaps the candidate in its own memory; a program the tests start reads the file
    on disk instead. Such a candidate goes to the naive path, which writes it and runs pytest,
    so a right fix is not rejected for the screening's sake."""
    root = make_repo({"greeter.py": GREETER, "tests/test_greeter.py": GREETER_TESTS})
    runner = TestRunner(LocalSandbox(), root, root, autoload=False)
    try:
        baseline = runner.run(timeout=60, per_test_timeout=10)
        assert baseline.failing == ("tests/test_greeter.py::test_command_line",)
        right, wrong = (
            edit(name, "greeter.py", GREETER.replace('"!!"', ending))
            for name, ending in (("right", '"!"'), ("wrong", '"?"'))
        )
        validator = Validator(runner, workspace_of(root), "fast", workers=2, test_timeout=10)
        verdicts = validator.screen(
            [wrong, right],
            Everything(baseline.failing, baseline.passing),
            baseline,
            stop_at_first=False,
        )
        assert [v.accepted if v else None for v in verdicts] == [False, True]
        assert validator.stats.naive == 2  # both were handed over, neither judged by a swap
        assert git(root, "status", "--porcelain", "--untracked-files=all") == ""
    finally:
        runner.close()


def test_restore_puts_back_what_a_dying_child_changed(tmp_path: Path) -> None:
    """The journal is written before each change, so a child killed mid-way is undone too."""
    project = tmp_path / "project"
    (project / "sub").mkdir(parents=True)
    (project / "kept.txt").write_text("original")
    (project / "sub" / "inner.txt").write_text("inner")
    os.symlink("kept.txt", project / "link")
    folder = tmp_path / "child"
    script = f"""
import os, shutil, signal, sqlite3, sys
sys.path.insert(0, {str(Path(__file__).resolve().parent.parent)!r})
import mendbot_writes
mendbot_writes.install()
mendbot_writes.arm({str(folder)!r})
os.chdir({str(project)!r})
open("kept.txt", "a").write(" and more")
open("new.txt", "w").write("new")
os.makedirs("made/deeper")
shutil.rmtree("sub")
os.remove("link")
os.symlink("new.txt", "link")
sqlite3.connect("db.sqlite").execute("create table t (x)")
import tempfile
tempfile.mkstemp()  # in the child's own folder: not journaled
os.kill(os.getpid(), signal.SIGKILL)
"""
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, timeout=60)
    assert done.returncode == -9, done.stderr.decode()
    assert (project / "kept.txt").read_text() == "original and more"  # it did change things
    import mendbot_writes

    changed, unknown = mendbot_writes.restore(str(folder))
    assert changed and unknown == ""
    assert sorted(p.relative_to(project).as_posix() for p in project.rglob("*")) == [
        "kept.txt",
        "link",
        "sub",
        "sub/inner.txt",
    ]
    assert (project / "kept.txt").read_text() == "original"
    assert (project / "sub" / "inner.txt").read_text() == "inner"
    assert os.readlink(project / "link") == "kept.txt"
