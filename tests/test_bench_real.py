"""The real-library bench's own judgement: how a claimed fix is checked, how memory is
sampled, and how the pinned libraries are read. (Downloading from PyPI is left to
`mendbot bench --suite real` itself: the tests run without the network.)"""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from conftest import git

from bot.bench_real import Library as RealLibrary
from bot.bench_real import (
    Prepared,
    RealBenchError,
    TreeMemory,
    check_fix,
    load_libraries,
)
from bot.proc import run

CODE = "def double(x):\n    return x * 2\n"
TESTS = "from calc import double\n\n\ndef test_double():\n    assert double(2) == 4\n"


def prepared(root: Path) -> Prepared:
    library = RealLibrary("calc", "1", (), (), ("calc.py",))
    return Prepared(
        library,
        root,
        Path(sys.executable),
        1,
        (),
        frozenset({"tests/test_calc.py"}),
        (1.0,),
        10.0,
    )


def branch_with(root: Path, name: str, files: dict[str, str]) -> str:
    git(root, "checkout", "-q", "-b", name, "pristine")
    for path, text in files.items():
        (root / path).write_text(text)
    git(root, "commit", "-qam", name)
    git(root, "checkout", "-q", "pristine")
    return name


@pytest.fixture
def library(make_repo: Callable[..., Path]) -> Path:
    root = make_repo({"calc.py": CODE, "tests/test_calc.py": TESTS})
    git(root, "branch", "-m", "pristine")
    return root


def test_a_claimed_fix_is_checked_as_a_user_would(library: Path) -> None:
    root = library
    checks = prepared(root)
    # the same code, laid out differently (as cosmic-ray leaves a changed number)
    same = branch_with(root, "same", {"calc.py": "def double(x):\n    return x *  2\n"})
    other = branch_with(root, "other", {"calc.py": "def double(x):\n    return x + x\n"})
    wrong = branch_with(root, "wrong", {"calc.py": "def double(x):\n    return x * 3\n"})
    weakened = branch_with(
        root,
        "weakened",
        {
            "calc.py": "def double(x):\n    return x * 3\n",
            "tests/test_calc.py": "def test_double():\n    pass\n",
        },
    )
    assert check_fix(checks, same) == "exact"
    assert check_fix(checks, other) == "plausible"
    assert check_fix(checks, wrong) == "false_claim"
    assert check_fix(checks, weakened) == "test_edit"
    assert git(root, "worktree", "list").count("\n") == 1  # the check's checkout is gone


def test_memory_is_sampled_over_the_whole_process_tree(tmp_path: Path) -> None:
    # a parent that starts a child holding 60 MB: the tree's peak counts the child
    script = (
        "import subprocess, sys\n"
        "subprocess.run([sys.executable, '-c', "
        '\'import time; b = bytearray(60 * 1024 * 1024); b[::4096] = b"x" * len(b[::4096]); '
        "time.sleep(1.5)'])\n"
    )
    memory = TreeMemory()
    result = run([sys.executable, "-c", script], cwd=tmp_path, timeout=60, on_start=memory.watch)
    peak = memory.stop()
    assert result.returncode == 0, result.stderr
    assert peak > 60


def test_an_unknown_library_is_refused_with_the_known_ones(tmp_path: Path) -> None:
    pins = tmp_path / "libraries.toml"
    pins.write_text('[[library]]\nname = "toolz"\nversion = "1.0.0"\nsources = ["toolz"]\n')
    assert [lib.name for lib in load_libraries(pins)] == ["toolz"]
    with pytest.raises(RealBenchError) as caught:
        load_libraries(pins, ("tolz",))
    assert "tolz" in caught.value.message and "toolz" in caught.value.hint


def test_the_pinned_libraries_parse() -> None:
    pins = Path(__file__).resolve().parent.parent / "benchmarks" / "real" / "libraries.toml"
    libraries = load_libraries(pins)
    assert {"python-slugify", "toolz", "more-itertools"} <= {lib.name for lib in libraries}
    assert all(lib.version and lib.sources for lib in libraries)


def test_the_same_candidates_are_screened_fast_and_naive_on_a_selected_suite(
    make_repo: Callable[..., Path],
) -> None:
    from bot.bench import compare_screening_in
    from bot.config import Settings
    from bot.sandbox.registry import make_sandbox

    root = make_repo(
        {
            "calc.py": "def double(x):\n    return x * 3\n",
            "tests/test_calc.py": TESTS,
            "tests/test_other.py": "def test_other():\n    assert False\n",
        }
    )
    settings = Settings(python=sys.executable, plugin_autoload=False)
    found = compare_screening_in(
        "calc bug-1",
        root,
        settings,
        lambda: make_sandbox(settings, project=root),
        6,
        ["tests/test_calc.py"],  # the selection: the failing test_other is not the suite's
    )
    assert found is not None
    assert found.bug == "calc bug-1"
    assert found.candidates == 6
    assert found.fast_seconds > 0 and found.naive_seconds > 0
    assert found.disagreements == []
    assert git(root, "status", "--porcelain") == ""  # both paths left the tree as it was
