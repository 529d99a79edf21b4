"""`mendbot fix` end to end: real git repositories, real pytest runs, the real CLI."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from conftest import BUGGY_CLAMP, CliResult, git, snapshot, write_tree

RunCli = Callable[..., CliResult]


def test_fixes_a_bug_on_a_branch_and_leaves_the_checkout_untouched(
    buggy_clamp: Path, run_cli: RunCli
) -> None:
    root = buggy_clamp
    # the user has work in progress: an untracked file, a staged change, a stash
    (root / "notes.txt").write_text("my notes\n")
    (root / "README.md").write_text("readme\n")
    git(root, "add", "README.md")
    (root / "scratch.py").write_text("x = 1\n")
    git(root, "stash", "push", "-q", "--include-untracked", "--", "scratch.py")
    before = snapshot(root)

    result = run_cli("fix", "--json", cwd=root)

    assert result.code == 0, result.stderr
    report = result.json()
    assert report["status"] == "fixed"
    assert report["fixed_tests"] == ["tests/test_shapes.py::test_above"]
    assert report["remaining_failures"] == []
    assert report["branch"].startswith("mendbot/fix-")
    assert "-        return low\n+        return high" in report["diff"]
    assert report["candidates_tried"] >= 1
    kept = [r for r in report["rounds"] if r["commit"]]
    assert len(kept) == 1 and kept[0]["files"] == ["shapes.py"]
    assert kept[0]["tests_fixed"] == ["tests/test_shapes.py::test_above"]
    # one commit per round on the branch, with trailers, on top of the base
    log = git(root, "log", "--format=%H%n%B%n--end--", f"{report['base']}..{report['branch']}")
    assert log.count("--end--") == 1
    assert "Mendbot-Round: 1" in log and "Mendbot-Engine: templates" in log
    assert "Mendbot-Fixed: tests/test_shapes.py::test_above" in log
    assert git(root, "rev-parse", report["branch"]).strip() == report["head"]
    # the fix itself passes its tests on the branch
    assert "return high" in git(root, "show", f"{report['branch']}:shapes.py")
    # nothing of the user's changed, and no worktree is left registered
    assert snapshot(root) == before
    assert git(root, "worktree", "list").count("\n") == 1


def test_json_is_one_object_and_progress_goes_to_stderr(buggy_clamp: Path, run_cli: RunCli) -> None:
    result = run_cli("fix", "--json", cwd=buggy_clamp)
    assert result.code == 0
    assert result.stdout.strip().startswith("{") and result.stdout.strip().endswith("}")
    report = result.json()
    for key in (
        "status",
        "base",
        "branch",
        "head",
        "rounds",
        "fixed_tests",
        "remaining_failures",
        "diff",
        "candidates_tried",
        "duration_s",
    ):
        assert key in report
    assert "baseline" in result.stderr


def test_uncommitted_changes_are_the_base(make_repo: Callable[..., Path], run_cli: RunCli) -> None:
    fixed = dict(BUGGY_CLAMP)
    fixed["shapes.py"] = BUGGY_CLAMP["shapes.py"].replace(
        "return low\n            return value", "return high\n            return value"
    )
    root = make_repo(fixed)
    head = git(root, "rev-parse", "HEAD").strip()
    # the bug exists only in the working tree, not in HEAD
    text = (
        (root / "shapes.py")
        .read_text()
        .replace("value > high:\n        return high", "value > high:\n        return low")
    )
    (root / "shapes.py").write_text(text)
    before = snapshot(root)

    result = run_cli("fix", "--json", cwd=root)

    assert result.code == 0, result.stderr
    report = result.json()
    assert report["status"] == "fixed"
    assert report["base"] != head
    assert git(root, "rev-parse", f"{report['base']}^").strip() == head
    assert snapshot(root) == before


def test_nothing_to_fix_leaves_no_branch(make_repo: Callable[..., Path], run_cli: RunCli) -> None:
    root = make_repo(
        {
            "ok.py": "def one():\n    return 1\n",
            "tests/test_ok.py": "from ok import one\n\ndef test_one():\n    assert one() == 1\n",
        }
    )
    result = run_cli("fix", "--json", cwd=root)
    assert result.code == 0
    assert result.json()["status"] == "nothing_to_fix"
    assert "mendbot/" not in git(root, "branch", "--list")


def test_not_a_git_repository(tmp_path: Path, run_cli: RunCli) -> None:
    write_tree(tmp_path / "plain", {"tests/test_x.py": "def test_x():\n    assert False\n"})
    result = run_cli("fix", str(tmp_path / "plain"), cwd=tmp_path)
    assert result.code == 2
    assert "not inside a git repository" in result.stderr
    assert "git init" in result.stderr


def test_missing_path_and_no_tests(make_repo: Callable[..., Path], run_cli: RunCli) -> None:
    root = make_repo({"lib.py": "X = 1\n"})
    missing = run_cli("fix", "nope", cwd=root)
    assert missing.code == 2 and "does not exist" in missing.stderr
    empty = run_cli("fix", "--json", cwd=root)
    assert empty.code == 2
    assert "no tests were collected" in empty.stderr
    assert empty.json()["status"] == "error"
    # the run failed before any round: the branch it made is gone again
    assert "mendbot/" not in git(root, "branch", "--list")


def test_unfixable_bug_stops_with_a_reason(make_repo: Callable[..., Path], run_cli: RunCli) -> None:
    root = make_repo(
        {
            "words.py": """
            def reverse_words(text):
                return text
            """,
            "tests/test_words.py": """
            from words import reverse_words

            def test_reverse():
                assert reverse_words("a b c") == "c b a"
            """,
        }
    )
    before = snapshot(root)
    result = run_cli("fix", "--json", "--time-budget", "40", cwd=root)
    assert result.code == 1
    report = result.json()
    assert report["status"] == "not_fixed"
    assert report["remaining_failures"] == ["tests/test_words.py::test_reverse"]
    assert (
        "still fail under every candidate" in report["reason"] or "time budget" in report["reason"]
    )
    assert "test_reverse" not in report["reason"]  # listed once, under the headline
    assert report["branch"] is None  # nothing was committed, so no branch is left behind
    assert snapshot(root) == before


def test_hanging_test_does_not_hang_mendbot(
    make_repo: Callable[..., Path], run_cli: RunCli
) -> None:
    root = make_repo(
        {
            "countdown.py": """
            def countdown(n):
                steps = []
                while n > 0:
                    steps.append(n)
                return steps
            """,
            "tests/test_countdown.py": """
            from countdown import countdown

            def test_three():
                assert countdown(3) == [3, 2, 1]

            def test_zero():
                assert countdown(0) == []
            """,
        }
    )
    result = run_cli("fix", "--json", "--test-timeout", "2", cwd=root, timeout=180)
    report = result.json()
    assert report["status"] == "fixed", report
    assert "n -= 1" in report["diff"]
    assert report["rounds"][-1]["tests_fixed"] == ["tests/test_countdown.py::test_three"]


def test_project_in_a_subfolder(make_repo: Callable[..., Path], run_cli: RunCli) -> None:
    files = {f"services/geo/{k}": v for k, v in BUGGY_CLAMP.items()}
    files["services/geo/pyproject.toml"] = (
        '[tool.pytest.ini_options]\npythonpath = ["."]\ntestpaths = ["tests"]\n'
    )
    files["README.md"] = "monorepo\n"
    root = make_repo(files, pyproject=False)
    result = run_cli("fix", "services/geo", "--json", cwd=root)
    assert result.code == 0, result.stderr
    report = result.json()
    assert report["project"] == "services/geo"
    assert "services/geo/shapes.py" in report["diff"]


def test_apply_changes_the_working_tree_but_not_the_index(
    buggy_clamp: Path, run_cli: RunCli
) -> None:
    index_before = (buggy_clamp / ".git" / "index").read_bytes()
    result = run_cli("fix", "--apply", cwd=buggy_clamp)
    assert result.code == 0, result.stderr
    assert "return high" in (buggy_clamp / "shapes.py").read_text()
    assert (buggy_clamp / ".git" / "index").read_bytes() == index_before
    assert git(buggy_clamp, "diff", "--cached") == ""
    assert "shapes.py" in git(buggy_clamp, "diff", "--name-only")


def test_rerun_reuses_the_branch(buggy_clamp: Path, run_cli: RunCli) -> None:
    first = run_cli("fix", "--json", cwd=buggy_clamp).json()
    second = run_cli("fix", "--json", cwd=buggy_clamp).json()
    assert second["branch"] == first["branch"]
    assert git(buggy_clamp, "branch", "--list", "mendbot/*").count("mendbot/") == 1


def test_pytest_arguments_select_tests(make_repo: Callable[..., Path], run_cli: RunCli) -> None:
    files = dict(BUGGY_CLAMP)
    files["tests/test_other.py"] = "def test_broken_elsewhere():\n    assert 1 == 2\n"
    root = make_repo(files)
    result = run_cli("fix", ".", "--json", "--", "tests/test_shapes.py", cwd=root)
    assert result.code == 0, result.stderr
    report = result.json()
    assert report["status"] == "fixed"
    assert all("test_other" not in t for t in report["extra"]["final"]["outcomes"])


def test_pytest_options_after_a_bare_double_dash_select_tests_in_the_current_folder(
    make_repo: Callable[..., Path], run_cli: RunCli
) -> None:
    """`mendbot fix -- --deselect X`: without a PATH before `--`, the first pytest option is
    not a folder that does not exist."""
    files = dict(BUGGY_CLAMP)
    files["tests/test_other.py"] = "def test_broken_elsewhere():\n    assert 1 == 2\n"
    root = make_repo(files)
    deselect = "tests/test_other.py::test_broken_elsewhere"
    result = run_cli("fix", "--json", "--", "--deselect", deselect, cwd=root)
    assert result.code == 0, result.stderr
    report = result.json()
    assert report["status"] == "fixed", report
    assert deselect not in report["extra"]["final"]["outcomes"]


def test_settings_come_from_pyproject(make_repo: Callable[..., Path], run_cli: RunCli) -> None:
    files = dict(BUGGY_CLAMP)
    files["pyproject.toml"] = (
        '[tool.pytest.ini_options]\npythonpath = ["."]\ntestpaths = ["tests"]\n\n'
        "[tool.mendbot]\nmax-rounds = 0\n"
    )
    root = make_repo(files)
    bad = run_cli("fix", cwd=root)
    assert bad.code == 2 and "max-rounds must be at least 1" in bad.stderr
    (root / "pyproject.toml").write_text(
        files["pyproject.toml"].replace("max-rounds = 0", "colour = 1")
    )
    unknown = run_cli("fix", cwd=root)
    assert unknown.code == 2 and "unknown setting 'colour'" in unknown.stderr


def test_llm_engine_without_a_model_is_a_usage_error(buggy_clamp: Path, run_cli: RunCli) -> None:
    result = run_cli("fix", "--engine", "llm", cwd=buggy_clamp, env={"MENDBOT_MODEL": ""})
    assert result.code == 2
    assert "needs a model" in result.stderr


def test_syntax_error_is_repaired(make_repo: Callable[..., Path], run_cli: RunCli) -> None:
    root = make_repo(
        {
            "greet.py": """
            def greet(name)
                return "hello " + name
            """,
            "tests/test_greet.py": """
            from greet import greet

            def test_greet():
                assert greet("ada") == "hello ada"
            """,
        }
    )
    result = run_cli("fix", "--json", cwd=root)
    assert result.code == 0, result.stderr
    report = result.json()
    assert report["status"] == "fixed"
    assert "+def greet(name):" in report["diff"]
    assert report["failures"][0]["class"] == "FORMAT"


def test_two_bugs_take_two_rounds(make_repo: Callable[..., Path], run_cli: RunCli) -> None:
    root = make_repo(
        {
            "stats.py": """
            def total(values):
                result = 0
                for value in values:
                    result -= value
                return result


            def largest(values):
                best = values[0]
                for value in values:
                    if value < best:
                        best = value
                return best
            """,
            "tests/test_stats.py": """
            from stats import largest, total

            def test_total():
                assert total([1, 2, 3]) == 6

            def test_largest():
                assert largest([3, 9, 2]) == 9

            def test_single():
                assert largest([4]) == 4
            """,
        }
    )
    report = run_cli("fix", "--json", cwd=root).json()
    assert report["status"] == "fixed"
    kept = [r for r in report["rounds"] if r["commit"]]
    assert len(kept) == 2
    assert sorted(t for r in kept for t in r["tests_fixed"]) == [
        "tests/test_stats.py::test_largest",
        "tests/test_stats.py::test_total",
    ]
    count = git(root, "rev-list", "--count", f"{report['base']}..{report['branch']}")
    assert count.strip() == "2"


def test_a_round_that_breaks_a_passing_test_is_rolled_back(
    make_repo: Callable[..., Path], run_cli: RunCli
) -> None:
    files = dict(BUGGY_CLAMP)
    # This test never runs clamp's lines, so screening cannot see that a fix breaks it;
    # only the full run from the committed tree can.
    files["tests/test_docs.py"] = """
        import inspect

        import shapes


        def test_source_is_frozen():
            assert "return low\\n    return value" in inspect.getsource(shapes.clamp)
        """
    root = make_repo(files)
    before = snapshot(root)
    result = run_cli("fix", "--json", "--max-rounds", "2", "--time-budget", "60", cwd=root)
    report = result.json()
    assert report["status"] == "not_fixed"
    rolled_back = [r for r in report["rounds"] if r["commit"] is None]
    assert rolled_back, report["rounds"]
    first = rolled_back[0]
    assert first["reason"].startswith(
        "rolled back: breaks tests/test_docs.py::test_source_is_frozen"
    )
    ref = first["rejected_ref"]
    assert ref.startswith(f"refs/mendbot/rejected/{report['run_id']}/")
    # the rejected attempt stays reachable and holds the candidate's change
    assert "return high" in git(root, "show", f"{ref}:shapes.py")
    assert snapshot(root) == before


GREET = """
def greet(name):
    return "Hi, " + name + "!"
"""

GREET_TESTS = """
import unittest

from greet import greet


class GreetTest(unittest.TestCase):
    def test_greet(self):
        self.assertEqual(greet("Ada"), "Hello, Ada!")

    def test_type(self):
        self.assertIsInstance(greet("Ada"), str)
"""


def test_a_file_the_suite_collects_tests_from_is_a_test_file_whatever_its_name(
    make_repo: Callable[..., Path], run_cli: RunCli
) -> None:
    """Libraries keep tests in files such as ``test.py`` and select them on the command line.
    mendbot must not "fix" a failing test there by removing its assertion."""
    root = make_repo({"greet.py": GREET, "test.py": GREET_TESTS})

    result = run_cli("fix", "--json", "--time-budget", "60", ".", "--", "test.py", cwd=root)

    report = result.json()
    assert report["status"] == "not_fixed", report["diff"]
    assert "test.py" not in report["diff"]
    assert git(root, "status", "--porcelain") == ""
