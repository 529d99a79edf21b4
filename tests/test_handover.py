"""Taking a fix: resuming a verified branch, uncommitted changes, patches on stdout or in a
file, and the final runs on a tree that has a ``.git`` (real repositories, the real CLI)."""

from __future__ import annotations

import subprocess
from collections.abc import Callable
from pathlib import Path

from conftest import BUGGY_CLAMP, CliResult, git

from bot import workspace as ws

RunCli = Callable[..., CliResult]


def test_apply_after_a_fix_applies_the_verified_branch_and_a_rerun_reports_it_fixed(
    buggy_clamp: Path, run_cli: RunCli
) -> None:
    first = run_cli("fix", cwd=buggy_clamp)
    assert first.code == 0, first.stderr
    assert "mendbot fix --apply" in first.stderr  # the advice this test follows

    applied = run_cli("fix", "--apply", "--json", cwd=buggy_clamp)

    assert applied.code == 0, applied.stderr
    report = applied.json()
    assert report["status"] == "fixed", report
    assert "return high" in (buggy_clamp / "shapes.py").read_text()
    assert "applied the verified patch" in applied.stderr
    git(buggy_clamp, "checkout", "--", "shapes.py")

    again = run_cli("fix", "--json", cwd=buggy_clamp)
    rerun = again.json()
    assert rerun["status"] == "fixed" and rerun["branch"] == report["branch"]
    assert "already holds the verified fix" in rerun["reason"]
    assert "+        return high" in rerun["diff"]


def test_a_branch_with_commits_of_the_user_is_not_taken_for_a_verified_fix(
    buggy_clamp: Path, run_cli: RunCli
) -> None:
    first = run_cli("fix", "--json", cwd=buggy_clamp).json()
    branch = first["branch"]
    # the user adds a commit of their own on mendbot's branch
    git(buggy_clamp, "checkout", "-q", branch)
    (buggy_clamp / "notes.txt").write_text("mine\n")
    git(buggy_clamp, "add", "notes.txt")
    git(buggy_clamp, "commit", "-q", "-m", "my commit")
    git(buggy_clamp, "checkout", "-q", "main")

    again = run_cli("fix", "--json", cwd=buggy_clamp).json()

    assert again["status"] == "nothing_to_fix"


def test_the_same_uncommitted_state_gives_the_same_branch_and_the_advice_works(
    buggy_clamp: Path, run_cli: RunCli
) -> None:
    root = buggy_clamp
    # an uncommitted change of the user's in a tracked file
    readme = root / "tests" / "test_shapes.py"
    readme.write_text(readme.read_text() + "\n# a note of mine\n")
    head = git(root, "rev-parse", "HEAD")

    first = run_cli("fix", cwd=root)
    second = run_cli("fix", "--json", cwd=root)

    assert first.code == 0 and second.code == 0, first.stderr + second.stderr
    report = second.json()
    assert f"branch: {report['branch']} (base {report['base'][:10]})" in first.stderr
    assert git(root, "branch", "--list", "mendbot/*").count("mendbot/") == 1
    advice = next(line for line in first.stderr.splitlines() if line.startswith("take the fix"))
    assert "git merge" not in advice  # a merge would fail on the dirty tree
    command = advice.split("or: ", 1)[1].strip()
    assert command == f"git diff {report['base'][:12]} {report['branch']} | git apply"
    subprocess.run(command, shell=True, cwd=root, check=True, capture_output=True)
    assert "return high" in (root / "shapes.py").read_text()
    assert "# a note of mine" in readme.read_text()
    assert git(root, "rev-parse", "HEAD") == head  # no snapshot commit in the user's history


def test_snapshot_commit_is_deterministic(make_repo: Callable[..., Path]) -> None:
    root = make_repo({"a.py": "x = 1\n"})
    (root / "a.py").write_text("x = 2\n")
    first = ws.snapshot_base(root, "HEAD", include_uncommitted=True)
    second = ws.snapshot_base(root, "HEAD", include_uncommitted=True)
    assert first == second != git(root, "rev-parse", "HEAD").strip()
    assert git(root, "show", f"{first}:a.py") == "x = 2\n"


def test_patch_to_stdout_to_a_file_and_mendbot_diff(buggy_clamp: Path, run_cli: RunCli) -> None:
    root = buggy_clamp
    result = run_cli("fix", "--patch", "-", cwd=root)

    assert result.code == 0, result.stderr
    patch = result.stdout
    assert patch.startswith("diff --git a/shapes.py b/shapes.py")
    assert "mendbot:" not in patch and "branch:" not in patch  # progress stays on stderr
    check = subprocess.run(
        ["git", "apply", "--check", "-"], cwd=root, input=patch, text=True, capture_output=True
    )
    assert check.returncode == 0, check.stderr

    to_file = run_cli("fix", "--patch", "fix.diff", cwd=root)
    assert to_file.code == 0
    assert (root / "fix.diff").read_text() == patch

    latest = run_cli("diff", cwd=root)
    branch = git(root, "branch", "--list", "--format=%(refname:short)", "mendbot/*").strip()
    by_branch = run_cli("diff", branch, cwd=root)
    assert latest.code == 0 and by_branch.code == 0, latest.stderr + by_branch.stderr
    assert latest.stdout == patch == by_branch.stdout

    both = run_cli("fix", "--patch", "-", "--json", cwd=root)
    assert both.code == 2 and "standard output" in both.stderr


def test_files_git_ignores_are_brought_but_never_environments_caches_or_secrets(
    make_repo: Callable[..., Path], tmp_path: Path
) -> None:
    root = make_repo(
        {
            ".gitignore": "data/\nbuild/\n.env\n*.pem\n.venv/\nenv2/\n__pycache__/\n",
            "a.py": "x = 1\n",
        }
    )
    files = {
        "data/generated.json": "{}",
        "data/locale/de.mo": "compiled",
        "build/lib/helper.txt": "built",
        ".env": "SECRET=1",
        "data/server.pem": "-----BEGIN PRIVATE KEY-----",
        ".venv/pyvenv.cfg": "home = /usr",
        ".venv/lib/site.py": "",
        "env2/pyvenv.cfg": "home = /usr",
        "env2/bin/python": "",
        "__pycache__/a.cpython-311.pyc": "",
    }
    for relative, text in files.items():
        (root / relative).parent.mkdir(parents=True, exist_ok=True)
        (root / relative).write_text(text)
    (root / "data" / "link").symlink_to(root / "a.py")
    target = tmp_path / "worktree"
    target.mkdir()

    line = ws.bring_ignored(root, target)

    brought = sorted(p.relative_to(target).as_posix() for p in target.rglob("*") if p.is_file())
    assert brought == ["build/lib/helper.txt", "data/generated.json", "data/locale/de.mo"]
    assert not any(p.is_symlink() for p in target.rglob("*"))
    assert line.startswith("brought 3 file(s) git ignores")


def _project_with(make_repo: Callable[..., Path], extra_test: str, ignore: str = "") -> Path:
    files = dict(BUGGY_CLAMP)
    files["tests/test_env.py"] = extra_test
    if ignore:
        files[".gitignore"] = ignore
    return make_repo(files)


def test_a_test_that_needs_an_ignored_file_passes_in_mendbots_runs(
    make_repo: Callable[..., Path], run_cli: RunCli
) -> None:
    root = _project_with(
        make_repo,
        """
        import pathlib

        HERE = pathlib.Path(__file__).resolve().parent.parent


        def test_generated_data():
            assert (HERE / "generated" / "table.txt").read_text() == "42\\n"
        """,
        ignore="generated/\n",
    )
    (root / "generated").mkdir()
    (root / "generated" / "table.txt").write_text("42\n")

    result = run_cli("fix", "--json", cwd=root)

    assert result.code == 0, result.stderr
    report = result.json()
    assert report["status"] == "fixed", report
    assert report["fixed_tests"] == ["tests/test_shapes.py::test_above"]
    assert "brought 1 file(s) git ignores" in result.stderr


def test_the_final_runs_see_a_checkout_with_git_as_the_baseline_did(
    make_repo: Callable[..., Path], run_cli: RunCli
) -> None:
    """A test that asks git about its checkout passes at baseline; it must pass in the
    final runs too, or a correct fix is rolled back."""
    root = _project_with(
        make_repo,
        """
        import pathlib
        import subprocess

        HERE = pathlib.Path(__file__).resolve().parent.parent


        def test_git_sees_its_checkout():
            top = subprocess.run(
                ["git", "rev-parse", "--show-toplevel"],
                cwd=HERE, capture_output=True, text=True, check=True,
            ).stdout.strip()
            assert pathlib.Path(top).resolve() == HERE
        """,
    )

    result = run_cli("fix", "--json", cwd=root)

    assert result.code == 0, result.stderr
    report = result.json()
    assert report["status"] == "fixed", report
    assert report["fixed_tests"] == ["tests/test_shapes.py::test_above"]


def test_a_generated_file_git_ignores_is_never_edited(
    make_repo: Callable[..., Path], run_cli: RunCli
) -> None:
    """The bug is in a generated module git ignores (copied in so the tests can import it):
    mendbot cannot commit a change to it, so it refuses such candidates with a reason instead
    of failing the run."""
    root = make_repo(
        {
            ".gitignore": "generated_table.py\n",
            "tests/test_table.py": """
                from generated_table import lookup


                def test_lookup():
                    assert lookup(2) == 20
                """,
        }
    )
    (root / "generated_table.py").write_text("def lookup(key):\n    return key * 11\n")

    result = run_cli("fix", "--json", cwd=root)

    assert result.code == 1, result.stderr  # not fixed, and not an error
    report = result.json()
    assert report["status"] == "not_fixed"
    assert "brought 1 file(s) git ignores" in result.stderr
    assert (root / "generated_table.py").read_text() == "def lookup(key):\n    return key * 11\n"
