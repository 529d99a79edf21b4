"""Run records stay bounded however big the suite, and old runs are pruned. Real repositories,
real pytest runs, the real CLI."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from conftest import BUGGY_CLAMP, CliResult, git

from bot.models import RunResult, RunStatus
from bot.report.markdown import regression_section

RunCli = Callable[..., CliResult]


def suite_of(count: int) -> dict[str, str]:
    """The clamp bug beside ``count`` passing parametrized tests."""
    return {
        **BUGGY_CLAMP,
        "tests/test_many.py": f"""
            import pytest


            @pytest.mark.parametrize("number", range({count}))
            def test_number_is_itself(number):
                assert number == number


            @pytest.mark.skip(reason="not here")
            def test_skipped():
                pass
            """,
    }


def stored_bytes(root: Path, run_id: str) -> int:
    sizes = [
        int(git(root, "cat-file", "-s", f"refs/mendbot/runs/{run_id}:{name}"))
        for name in ("run.json", "result.json", "trace.jsonl")
    ]
    return sum(sizes)


def test_records_do_not_grow_with_the_suite(
    make_repo: Callable[..., Path], run_cli: RunCli
) -> None:
    sizes = {}
    for count in (400, 2400):
        root = make_repo(suite_of(count), name=f"suite{count}")
        result = run_cli("fix", "--json", cwd=root)
        assert result.code == 0, result.stderr
        report = result.json()
        assert report["status"] == "fixed"
        baseline, final = report["extra"]["baseline"], report["extra"]["final"]
        total = count + 5  # the four clamp tests and the skipped one
        assert baseline["total"] == final["total"] == total
        assert baseline["counts"] == {"failed": 1, "passed": total - 2, "skipped": 1}
        assert final["counts"] == {"passed": total - 1, "skipped": 1}
        # the failing and the skipped tests in full, the passing ones counted
        assert baseline["outcomes"] == {
            "tests/test_shapes.py::test_above": "failed",
            "tests/test_many.py::test_skipped": "skipped",
        }
        assert baseline["unlisted"] == "passed"
        # the reports read the bounded form as they read the full one
        lines = regression_section(
            RunResult(RunStatus.FIXED, "", "", "", (), (), (), "", 0, 0.0, extra=report["extra"])
        )
        assert f"Tests passing at base: **{total - 2}**; passing after: **{total - 1}**" in (
            "\n".join(lines)
        )
        assert "No test that passed at base fails after the change." in lines
        sizes[count] = (len(result.stdout), stored_bytes(root, report["run_id"]))
    printed_small, stored_small = sizes[400]
    printed_big, stored_big = sizes[2400]
    # six times the tests, and the output and the stored run stay the same size (the
    # run's durations and ids differ by a few bytes)
    assert abs(printed_big - printed_small) < 1000, sizes
    assert abs(stored_big - stored_small) < 3000, sizes


def run_ids(root: Path) -> list[str]:
    refs = git(root, "for-each-ref", "--format=%(refname)", "refs/mendbot/runs/")
    return sorted(line.rsplit("/", 1)[1] for line in refs.splitlines())


def test_old_runs_are_pruned_after_each_run_and_on_request(
    make_repo: Callable[..., Path], run_cli: RunCli
) -> None:
    root = make_repo(BUGGY_CLAMP)
    folder = root / ".git" / "mendbot" / "runs"
    env = {"MENDBOT_KEEP_RUNS": "2"}
    seen: list[str] = []
    for number in range(3):
        result = run_cli("fix", "--json", cwd=root, env=env)
        assert result.code == 0, result.stderr
        seen.append(result.json()["run_id"])
        pruned = "removed the 1 oldest run record(s) from refs/mendbot/runs"
        assert (pruned in result.stderr) is (number == 2), result.stderr
    assert run_ids(root) == sorted(seen[1:])
    assert not (folder / seen[0]).exists()
    assert (folder / seen[2]).is_dir()
    # a rolled-back attempt's ref goes with its run
    git(root, "update-ref", f"refs/mendbot/rejected/{seen[1]}/1", "HEAD")

    listed = run_cli("runs", "--prune", "--keep", "1", cwd=root)
    assert listed.code == 0, listed.stderr
    assert listed.stdout.strip() == f"removed 1 run(s) ({seen[1]}); kept the newest 1"
    assert run_ids(root) == [seen[2]]
    assert git(root, "for-each-ref", "refs/mendbot/rejected/") == ""
    # nothing else of the user's was touched
    assert "mendbot/fix-" in git(root, "branch", "--list", "mendbot/*")

    usage = run_cli("runs", "--keep", "1", cwd=root)
    assert usage.code == 2 and "--keep goes with --prune" in usage.stderr
