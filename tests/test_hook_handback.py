"""Setting unstaged changes aside and handing a fix back, at every point a run can die."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from conftest import git

from bot.errors import RepositoryError
from bot.handback import SetAside, hand_back, hook_run, recover

STAGED = "def area(w, h):\n    return w + h\n\n\ndef label():\n    return 'box'\n"
FIXED = STAGED.replace("w + h", "w * h")
# the user's unstaged change, away from the fixed line
UNSTAGED = STAGED.replace("'box'", "'crate'") + "# todo \xe2\n"
FIX = (
    "diff --git a/geometry.py b/geometry.py\n"
    "--- a/geometry.py\n"
    "+++ b/geometry.py\n"
    "@@ -1,5 +1,5 @@\n"
    " def area(w, h):\n"
    "-    return w + h\n"
    "+    return w * h\n"
    " \n"
    " \n"
    " def label():\n"
)


@pytest.fixture
def repo(make_repo: Callable[..., Path]) -> Path:
    root = make_repo({"geometry.py": "def area(w, h):\n    return 0\n", "other.py": "X = 1\n"})
    (root / "geometry.py").write_text(STAGED)
    git(root, "add", "geometry.py")
    (root / "geometry.py").write_text(UNSTAGED)
    (root / "other.py").write_bytes(b"X = 2\r\n")
    return root


def folder_of(root: Path) -> Path:
    folder = root / ".git" / "mendbot" / "hook"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def test_the_fix_lands_between_the_staged_and_the_unstaged_changes(repo: Path) -> None:
    index = (repo / ".git/index").read_bytes()
    outcome = hand_back(repo, folder_of(repo), repo / ".git/index", FIX)
    assert outcome.applied
    assert (repo / "geometry.py").read_text() == UNSTAGED.replace("w + h", "w * h")
    assert (repo / "other.py").read_bytes() == b"X = 2\r\n"
    assert (repo / ".git/index").read_bytes() == index
    assert git(repo, "show", ":geometry.py") == STAGED
    assert sorted(p.name for p in folder_of(repo).iterdir()) == []


def test_a_fix_already_in_the_working_tree_is_left_alone(repo: Path) -> None:
    assert hand_back(repo, folder_of(repo), repo / ".git/index", FIX).applied
    fixed = (repo / "geometry.py").read_bytes()
    again = hand_back(repo, folder_of(repo), repo / ".git/index", FIX)
    assert again.applied and again.already
    assert (repo / "geometry.py").read_bytes() == fixed


def test_a_conflict_keeps_the_users_version(repo: Path) -> None:
    mine = UNSTAGED.replace("w + h", "w + h + 0")
    (repo / "geometry.py").write_text(mine)
    outcome = hand_back(repo, folder_of(repo), repo / ".git/index", FIX)
    assert not outcome.applied and outcome.conflict_files == ("geometry.py",)
    assert (repo / "geometry.py").read_text() == mine


def test_a_fix_for_a_file_without_unstaged_changes_is_applied_directly(repo: Path) -> None:
    (repo / "geometry.py").write_text(STAGED)
    assert hand_back(repo, folder_of(repo), repo / ".git/index", FIX).applied
    assert (repo / "geometry.py").read_text() == FIXED


@pytest.mark.parametrize(
    ("stage", "said", "expected"),
    [
        ("saved", "already in place", UNSTAGED),
        ("checked out", "restored your unstaged changes", UNSTAGED),
        ("fix applied", "restored your unstaged changes", UNSTAGED.replace("w + h", "w * h")),
    ],
    ids=["after-saving", "after-checkout", "after-the-fix"],
)
def test_the_next_run_restores_what_a_killed_run_set_aside(
    repo: Path, stage: str, said: str, expected: str
) -> None:
    folder = folder_of(repo)
    aside = SetAside(repo, folder)
    assert aside.save(repo / ".git/index", ["geometry.py"])
    if stage != "saved":
        aside.checkout_staged()
        assert (repo / "geometry.py").read_text() == STAGED
    if stage == "fix applied":
        (repo / "geometry.py").write_text(FIXED)
    # the process died here; the next run starts with recovery
    notes = recover(repo, folder)
    assert len(notes) == 1 and said in notes[0]
    assert (repo / "geometry.py").read_text() == expected
    assert not aside.patch.exists()
    assert len(list(folder.glob("restored-*.patch"))) == 1
    assert (repo / "other.py").read_bytes() == b"X = 2\r\n"


def test_a_conflicting_unfinished_fix_gives_way_to_the_users_changes(repo: Path) -> None:
    mine = UNSTAGED.replace("w + h", "w + h + 0")
    (repo / "geometry.py").write_text(mine)
    folder = folder_of(repo)
    assert SetAside(repo, folder).save(repo / ".git/index", ["geometry.py"])
    (repo / "geometry.py").write_text(FIXED)  # killed after the fix, before re-applying
    notes = recover(repo, folder)
    assert "over an unfinished fix" in notes[0]
    assert (repo / "geometry.py").read_text() == mine


def test_runs_exclude_each_other_and_a_dead_runs_folder_is_removed(repo: Path) -> None:
    with hook_run(repo, "first") as first:
        assert first.scratch.is_dir()
        second = hook_run(repo, "second")
        with pytest.raises(RepositoryError, match="another mendbot hook run is active"):
            second.__enter__()
        (first.scratch / "left-over").write_text("x")
    assert not first.scratch.exists()
    assert not (first.folder / "run.json").exists()
