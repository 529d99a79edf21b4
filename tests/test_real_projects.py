"""mendbot on projects set up as real ones are: their own coverage configuration, modules the
tests import lazily, missing test dependencies, module-level skips, unstable test ids,
tests that delete folders. Real repositories, real pytest, real processes."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import pytest
from conftest import BUGGY_CLAMP, CliResult, git, snapshot
from test_screening import Everything, edit, workspace_of

from bot.analysis.classify import failures_of
from bot.analysis.dependencies import missing_dependencies, missing_names
from bot.analysis.localize import localize
from bot.sandbox.local import LocalSandbox
from bot.testing.runner import TestRunner
from bot.validate import Validator

RunCli = Callable[..., CliResult]

# A module with plenty of import-time lines (imports, constants, a decorator, a class body,
# def lines) whose tests import it lazily, the failing test first: its import-time lines
# run inside that test.
PRICING = """\
import math
from functools import wraps

TAX = 0.2
DIGITS = 2


def logged(function):
    @wraps(function)
    def inner(*args):
        return function(*args)

    return inner


@logged
def gross(amount):
    return round(amount * (1 + TAX), DIGITS)


def discount(amount, percent):
    if percent > 100:
        raise ValueError("percent above 100")
    return amount - amount * percent / 1000


class Cart:
    rate = TAX
    unit = math.pi

    def __init__(self):
        self.items = []

    def add(self, amount):
        self.items.append(amount)
        return self

    def total(self):
        return sum(self.items)
"""
FAULTY_LINE = 24  # the 1000 that should be 100

PRICING_TESTS = """\
def test_a_discount():
    from shop.pricing import discount

    assert discount(200, 10) == 180


def test_b_gross():
    from shop.pricing import gross

    assert gross(100) == 120


def test_c_cart():
    from shop.pricing import Cart

    assert Cart().add(2).add(3).total() == 5


def test_d_no_discount():
    from shop.pricing import discount

    assert discount(50, 0) == 50
"""

# coverage.py settings of the kinds that broke mendbot's per-test measurement: relative file
# names, a source and omit that leave the code out, a plug-in that is not installed, and
# dynamic contexts of its own
COVERAGE_SETTINGS = {
    "relative_files": "true",
    "source": "tests",
    "omit": "shop/*",
    "plugins": "no_such_coverage_plugin",
    "dynamic_context": "test_function",
}


def coverage_config(kind: str) -> dict[str, str]:
    """The settings above, in the file ``kind`` names, as coverage.py reads each."""
    ini = "".join(f"{key} = {value}\n" for key, value in COVERAGE_SETTINGS.items())
    toml_values = {
        "relative_files": "true",
        "source": '["tests"]',
        "omit": '["shop/*"]',
        "plugins": '["no_such_coverage_plugin"]',
        "dynamic_context": '"test_function"',
    }
    toml = "".join(f"{key} = {value}\n" for key, value in toml_values.items())
    pytest_ini = '[tool.pytest.ini_options]\npythonpath = ["."]\n'
    if kind == ".coveragerc":
        return {".coveragerc": "[run]\n" + ini, "pyproject.toml": pytest_ini}
    if kind in ("setup.cfg", "tox.ini"):
        return {kind: "[coverage:run]\n" + ini, "pyproject.toml": pytest_ini}
    return {"pyproject.toml": pytest_ini + "\n[tool.coverage.run]\n" + toml}


def shop_repo(make_repo: Callable[..., Path], extra: dict[str, str]) -> Path:
    files = {"shop/__init__.py": "", "shop/pricing.py": PRICING}
    files["tests/test_pricing.py"] = PRICING_TESTS
    return make_repo({**files, **extra}, pyproject="pyproject.toml" not in extra)


def import_time_lines(source: str) -> set[int]:
    """The lines of ``source`` outside function bodies: what runs when it is imported."""
    import ast

    tree = ast.parse(source)
    inside: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            inside.update(range(node.body[0].lineno, (node.end_lineno or 0) + 1))
    return {n for n in range(1, len(source.splitlines()) + 1) if n not in inside}


@pytest.mark.parametrize("kind", [".coveragerc", "setup.cfg", "tox.ini", "pyproject.toml"])
def test_per_test_coverage_ignores_the_project_coverage_settings(
    make_repo: Callable[..., Path], kind: str
) -> None:
    root = shop_repo(make_repo, coverage_config(kind))
    runner = TestRunner(LocalSandbox(), root, root, autoload=False)
    try:
        measured = runner.run(timeout=60, per_test_timeout=10, coverage=True)
        nodeids = [r.nodeid for r in measured.results]
        forked = runner.run_forked(nodeids, tag="t", per_test_timeout=10, timeout=60, coverage=True)
    finally:
        runner.close()
    assert forked is not None
    assert measured.failing == ("tests/test_pricing.py::test_a_discount",)
    test = "tests/test_pricing.py::test_"
    # exactly the lines each test ran, in the code the project's settings left out
    expected = {
        f"{test}a_discount": {22, 24},
        f"{test}b_gross": {11, 18},
        f"{test}c_cart": {32, 35, 36, 39},
        f"{test}d_no_discount": {22, 24},
    }
    for run in (measured, forked):
        assert run.has_coverage
        found = {
            nodeid: set(files.get("shop/pricing.py", ()))
            for nodeid, files in run.own_coverage.items()
        }
        assert found == expected
        # and, in all it depends on, the first test also has the module's import-time lines
        first = run.coverage[f"{test}a_discount"]["shop/pricing.py"]
        assert expected[f"{test}a_discount"] | {1, 2, 4, 5, 8, 21, 27} <= first


def test_import_time_lines_are_no_test_s_own_and_localization_finds_the_fault(
    make_repo: Callable[..., Path],
) -> None:
    """Lines a module runs while a test's import loads it are what the test depends on (the
    hook's map of related tests reads them) but not what it ran: localization leaves them
    out, or they would crowd out the faulty line."""
    root = shop_repo(make_repo, {})
    runner = TestRunner(LocalSandbox(), root, root, autoload=False)
    try:
        measured = runner.run(timeout=60, per_test_timeout=10, coverage=True)
        nodeids = [r.nodeid for r in measured.results]
        forked = runner.run_forked(nodeids, tag="t", per_test_timeout=10, timeout=60, coverage=True)
    finally:
        runner.close()
    assert forked is not None
    imported = import_time_lines(PRICING)
    sources = {"shop/pricing.py": PRICING, "shop/__init__.py": ""}
    tests = {"tests/test_pricing.py": PRICING_TESTS}
    for run in (measured, forked):
        assert run.has_coverage
        assert set(run.own_coverage) == set(run.coverage)
        for nodeid, files in run.own_coverage.items():
            assert not set(files.get("shop/pricing.py", ())) & imported, nodeid
        failures = failures_of(run, {**sources, **tests})
        ranked = localize(failures, run, sources, tests)
        # the faulty line is among the most suspicious (with the ``if`` before it, which the
        # same tests run), and no import-time line is ranked at all
        best = {loc.line for loc in ranked if loc.score == ranked[0].score}
        assert best == {FAULTY_LINE - 2, FAULTY_LINE}
        assert not {loc.line for loc in ranked} & imported


def own_coverage_report(root: Path, out: Path) -> dict[str, object]:
    """The project's own ``pytest --cov`` run, as its developers run it: the JSON report
    (without its time stamp)."""
    subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-p", "pytest_cov"],
        cwd=root,
        env={**os.environ, "PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1", "COVERAGE_FILE": str(out)},
        capture_output=True,
        check=False,
        timeout=120,
    )
    report = root / "coverage.json"
    loaded = json.loads(report.read_text())
    report.unlink()
    loaded.pop("meta")
    assert isinstance(loaded, dict)
    return loaded


def test_the_project_coverage_run_is_set_aside_and_left_as_it_was(
    make_repo: Callable[..., Path], tmp_path: Path
) -> None:
    """A project that runs pytest-cov from its addopts, with a threshold its tests miss."""
    pyproject = (
        '[tool.pytest.ini_options]\npythonpath = ["."]\n'
        'addopts = "--cov=shop --cov-context=test --cov-fail-under=100 '
        '--cov-report=json:coverage.json"\n'
        "\n[tool.coverage.run]\nrelative_files = true\nbranch = true\n"
    )
    root = shop_repo(make_repo, {"pyproject.toml": pyproject})
    before = own_coverage_report(root, tmp_path / "before.coverage")
    runner = TestRunner(
        LocalSandbox(), root, root, pytest_args=("-p", "pytest_cov"), autoload=False
    )
    try:
        measured = runner.run(timeout=60, per_test_timeout=10, coverage=True)
        nodeids = [r.nodeid for r in measured.results]
        forked = runner.run_forked(nodeids, tag="t", per_test_timeout=10, timeout=60, coverage=True)
    finally:
        runner.close()
    assert forked is not None and forked.has_coverage and measured.has_coverage
    gross = measured.own_coverage["tests/test_pricing.py::test_b_gross"]["shop/pricing.py"]
    assert set(gross) == {11, 18}
    assert forked.coverage == measured.coverage
    # mendbot's runs wrote no coverage data or report into the project
    assert git(root, "status", "--porcelain", "--ignored") == ""
    # and the project's own coverage run reports what it reported before
    after = own_coverage_report(root, tmp_path / "after.coverage")
    assert after == before


# -------------------------------------------------------------------------- module-level skips

SKIPPING_MODULES = {
    # a test module for an optional dependency this environment does not have
    "tests/test_optional.py": """
        import pytest

        pytest.importorskip("mendbot_absent_pytest_plugin")


        def test_with_the_plugin():
            assert False
        """,
    # and one that skips itself on this platform, in a package of its own
    "tests/other/test_platform.py": """
        import pytest

        pytest.skip("not on this platform", allow_module_level=True)


        def test_platform():
            assert False
        """,
}


def test_a_module_that_skips_itself_is_skipped_not_broken(
    make_repo: Callable[..., Path], run_cli: RunCli
) -> None:
    root = make_repo({**BUGGY_CLAMP, **SKIPPING_MODULES})
    runner = TestRunner(LocalSandbox(), root, root, autoload=False)
    try:
        run = runner.run(timeout=60, per_test_timeout=10)
    finally:
        runner.close()
    assert run.collection_errors == ()
    assert run.failing == ("tests/test_shapes.py::test_above",)

    result = run_cli("fix", "--json", cwd=root)
    assert result.code == 0, result.stderr
    report = result.json()
    assert report["status"] == "fixed", report["reason"]
    assert report["remaining_failures"] == []
    assert "-        return low\n+        return high" in report["diff"]


def test_a_suite_that_only_skips_is_not_a_missing_pytest(
    make_repo: Callable[..., Path], run_cli: RunCli
) -> None:
    root = make_repo(SKIPPING_MODULES)
    result = run_cli("fix", "--json", cwd=root)
    assert result.code == 2
    assert "install pytest" not in result.stderr
    assert "no tests were collected" in result.stderr


# ------------------------------------------------------------------ missing test dependencies

ABSENT = "timewarp_fixtures"  # a test dependency no interpreter here has
NEEDS_ABSENT = {
    **BUGGY_CLAMP,
    "tests/test_clock.py": f"""
        import {ABSENT}


        def test_frozen():
            assert {ABSENT}.now() == 0
        """,
}


def test_a_missing_test_dependency_is_named_with_the_command_that_installs_it(
    make_repo: Callable[..., Path], run_cli: RunCli
) -> None:
    root = make_repo(NEEDS_ABSENT)
    result = run_cli("fix", "--json", cwd=root)
    assert result.code == 2, result.stderr
    assert f"the tests import module that the test interpreter {sys.executable}" in result.stderr
    assert f"does not have: {ABSENT}" in result.stderr
    assert f"{sys.executable} -m pip install {ABSENT}" in result.stderr
    assert result.json()["status"] == "error"
    assert "0 candidates" not in result.stderr


def test_the_hook_names_the_missing_test_dependency(
    make_repo: Callable[..., Path], run_cli: RunCli
) -> None:
    root = make_repo(NEEDS_ABSENT)
    path = root / "tests" / "test_clock.py"
    path.write_text(path.read_text() + "\n\ndef test_more():\n    assert True\n")
    git(root, "add", "tests/test_clock.py")
    result = run_cli("hook", cwd=root)
    assert result.code == 2, result.stderr
    assert f"does not have: {ABSENT}" in result.stderr
    assert f"-m pip install {ABSENT}" in result.stderr
    assert "collection failure" not in result.stderr


def test_only_imports_that_no_edit_can_repair_count_as_missing_dependencies(
    make_repo: Callable[..., Path],
) -> None:
    """A misspelt standard-library module, a misspelt or broken module of the project: bugs
    for the repair. A module found nowhere: a dependency to install."""
    root = make_repo(
        {
            "shop/__init__.py": "",
            "shop/pricing.py": "import jsno\n\n\ndef price():\n    return 1\n",
            "shop/taxes.py": "def rate():\n    return 0.2\n",
            "tests/test_pricing.py": "from shop.pricing import price\n\n\ndef test_price():\n"
            "    assert price() == 1\n",
            "tests/test_taxes.py": "from shop.taxs import rate\n\n\ndef test_rate():\n"
            "    assert rate() == 0.2\n",
            "tests/test_lazy.py": f"def test_lazy():\n    import {ABSENT}\n",
            "tests/test_needs.py": "import attr_absent_plugin\n",
        }
    )
    runner = TestRunner(LocalSandbox(), root, root, autoload=False)
    try:
        run = runner.run(timeout=60, per_test_timeout=10)
    finally:
        runner.close()
    assert sorted(missing_names(run)) == sorted(["jsno", "shop", ABSENT, "attr_absent_plugin"])
    assert sorted(missing_dependencies(run, root)) == sorted([ABSENT, "attr_absent_plugin"])


# ------------------------------------------------------------ tests that remove the worktree

TIDY = {
    "calc.py": """
        def total(values):
            return sum(values) + 1
        """,
    "tests/test_calc.py": """
        from calc import total


        def test_total():
            assert total([1, 2]) == 3
        """,
    # a careless clean-up at the end of the session that removes the project folder once
    # the totals are right (screening never ends a session: the proofs meet it)
    "tests/conftest.py": """
        import shutil
        from pathlib import Path

        from calc import total

        PROJECT = Path(__file__).resolve().parents[1]


        def pytest_sessionfinish(session):
            if total([1, 2]) == 3:
                shutil.rmtree(PROJECT, ignore_errors=True)
        """,
}


def test_a_candidate_whose_tests_remove_the_worktree_is_rejected_and_the_tree_restored(
    make_repo: Callable[..., Path], run_cli: RunCli
) -> None:
    root = make_repo(TIDY)
    before = snapshot(root)
    result = run_cli("fix", "--json", cwd=root)
    assert result.code == 1, result.stderr
    report = result.json()
    assert report["status"] == "not_fixed"
    # every candidate that fixed the total passed screening and removed the worktree's files
    # in its proof run; each was rejected for it, and the next one ran in a tree restored
    # from git
    assert any("mendbot restored them from git" in w for w in report["warnings"]), report
    assert "not a git repository" not in result.stderr
    rejected = [r for r in report["rounds"] if not r["commit"]]
    assert len(rejected) >= 2, report
    for round_ in rejected:
        # said as what the run removed, or as the git metadata it changed (mendbot's own git
        # watches that as well); restored either way
        reason = round_["reason"]
        assert "the tests removed the worktree's .git and" in reason or (
            "changed git metadata" in reason and "restored" in reason
        ), round_
    assert snapshot(root)["files"] == before["files"]


TIDY_IN_A_TEST = {
    "calc.py": TIDY["calc.py"],
    "tests/test_calc.py": """
        import shutil
        from pathlib import Path

        from calc import total

        PROJECT = Path(__file__).resolve().parents[1]


        def test_total():
            assert total([1, 2]) == 3


        def test_zz_tidy_up():
            if total([1, 2]) == 3:
                shutil.rmtree(PROJECT, ignore_errors=True)
        """,
}


@pytest.mark.parametrize(
    ("validation", "remover"),
    [("fast", "python"), ("naive", "python"), ("fast", "program")],
)
def test_screening_a_candidate_whose_test_removes_the_worktree(
    make_repo: Callable[..., Path], validation: str, remover: str
) -> None:
    """In a worktree as mendbot makes them: the fast path's child is undone (the worktree is
    the sandbox's mount point, which cannot be removed and made again: its contents are put
    back), the naive path's run is repaired from git and its candidate rejected for it. A
    removal by another program is out of the child's sight: the tree is restored from git
    after the batch, and the candidate's fresh pytest run meets it."""
    files = dict(TIDY_IN_A_TEST)
    if remover == "program":
        files["tests/test_calc.py"] = (
            files["tests/test_calc.py"]
            .replace(
                "shutil.rmtree(PROJECT, ignore_errors=True)",
                'subprocess.run(["rm", "-rf", str(PROJECT)], check=False)',
            )
            .replace("import shutil", "import subprocess")
        )
    root = make_repo(files)
    worktree = root.parent / "worktree"
    git(root, "worktree", "add", "-q", "--detach", str(worktree))
    workspace = replace(workspace_of(root), worktree=worktree, project_dir=worktree)
    runner = TestRunner(LocalSandbox(), worktree, worktree, autoload=False)
    fixed = "def total(values):\n    return sum(values)\n"
    try:
        baseline = runner.run(timeout=60, per_test_timeout=10)
        selection = Everything(baseline.failing, baseline.passing)
        validator = Validator(runner, workspace, validation, workers=2, test_timeout=10)
        (verdict,) = validator.screen([edit("fix", "calc.py", fixed)], selection, baseline)
        if validation == "naive" or remover == "program":
            assert not verdict.accepted
            assert verdict.reason.startswith("the tests removed the worktree's .git and")
        else:  # what the child removed was put back: the proof run is what meets it
            assert verdict.accepted
        # the tree is whole again, and a second screening runs in it
        assert git(worktree, "status", "--porcelain") == ""
        (again,) = validator.screen([edit("fix", "calc.py", fixed)], selection, baseline)
        assert (again.accepted, again.reason) == (verdict.accepted, verdict.reason)
    finally:
        runner.close()


def test_a_run_that_deletes_tracked_files_gets_them_back_and_says_so(
    make_repo: Callable[..., Path],
) -> None:
    root = make_repo(
        {
            "calc.py": "def total(values):\n    return sum(values)\n",
            "data/table.csv": "a,b\n",
            "tests/test_calc.py": (
                "import shutil\nfrom pathlib import Path\n\n\ndef test_cleanup():\n"
                "    shutil.rmtree(Path(__file__).resolve().parents[1] / 'data')\n"
            ),
        }
    )
    worktree = root.parent / "worktree"
    git(root, "worktree", "add", "-q", "--detach", str(worktree))
    (worktree / "calc.py").write_text("def total(values):\n    return sum(values) + 0\n")
    runner = TestRunner(LocalSandbox(), worktree, worktree, autoload=False)
    try:
        run = runner.run(timeout=60, per_test_timeout=10)
    finally:
        runner.close()
    assert run.damage == "the tests removed 1 tracked file(s) (data/table.csv)"
    assert (worktree / "data" / "table.csv").read_text() == "a,b\n"
    # what was changed, not deleted, is left as it was
    assert "+ 0" in (worktree / "calc.py").read_text()
    assert any("restored them from git" in warning for warning in runner.warnings)


# -------------------------------------------------------------------------- unstable test ids

UNSTABLE_IDS = {
    **BUGGY_CLAMP,
    "tests/test_params.py": """
        import datetime
        import time

        import pytest

        from shapes import clamp


        class Limit:
            def __init__(self, value):
                self.value = value


        # ids made from object addresses, and from the time of the collection
        @pytest.mark.parametrize("limit", [Limit(10), Limit(20)], ids=repr)
        def test_limit_inside(limit):
            assert clamp(5, 0, limit.value) == 5


        @pytest.mark.parametrize("stamp", [time.time()])
        def test_stamp_inside(stamp):
            assert clamp(stamp, 0, stamp + 1) == stamp


        @pytest.mark.parametrize("when", [datetime.datetime.now().isoformat()])
        def test_when(when):
            assert clamp(1, 0, 2) == 1
        """,
}


def test_tests_whose_ids_change_between_runs_are_matched_and_reported(
    make_repo: Callable[..., Path], run_cli: RunCli
) -> None:
    root = make_repo(UNSTABLE_IDS)
    runner = TestRunner(LocalSandbox(), root, root, autoload=False)
    try:
        first = runner.run(timeout=60, per_test_timeout=10)
        # a selection by those ids runs exactly those tests, in the order given
        chosen = [r.nodeid for r in first.results if "params" in r.nodeid][::-1]
        again = runner.run(chosen, timeout=60, per_test_timeout=10)
    finally:
        runner.close()
    ids = {r.nodeid for r in first.results if "params" in r.nodeid}
    test = "tests/test_params.py::test_"
    assert ids == {
        f"{test}limit_inside[<test_params.Limit object at {{addr}}>]",
        f"{test}limit_inside[<test_params.Limit object at {{addr}}>]#2",
        f"{test}stamp_inside[{{time}}]",
        f"{test}when[{{time}}]",
    }
    assert [r.nodeid for r in again.results] == chosen
    assert all(r.outcome.value == "passed" for r in again.results)
    assert any("4 test(s) have ids that change" in w for w in runner.warnings)

    result = run_cli("fix", "--json", cwd=root)
    assert result.code == 0, result.stderr
    report = result.json()
    assert report["status"] == "fixed", report["reason"]
    assert "-        return low\n+        return high" in report["diff"]
    assert any("have ids that change from one run to the next" in w for w in report["warnings"])


def test_clock_times_in_any_date_format_are_unstable_parts_of_an_id() -> None:
    from mendbot_pytest import stable_nodeid

    ids = {
        "t.py::test_parse[09:41:19 2026-12-05]": "t.py::test_parse[{time} 2026-12-05]",
        "t.py::test_parse[12-05-2026 09:41:19]": "t.py::test_parse[12-05-2026 {time}]",
        "t.py::test_parse[2026-12-05T09:41:19.5+01:00]": "t.py::test_parse[{time}]",
        "t.py::test_parse[<Thing at 0x7f3a2b1c>]": "t.py::test_parse[<Thing at {addr}>]",
        "t.py::test_parse[1.2.3]": "t.py::test_parse[1.2.3]",  # a version is no time
        "t.py::test_ratio[3:4]": "t.py::test_ratio[3:4]",  # neither is a ratio
    }
    assert {nodeid: stable_nodeid(nodeid) for nodeid in ids} == ids


TESTS_OF_CALC = "from calc import double\n\n\ndef test_double():\n    assert double(2) == 4\n"


def test_a_project_installed_in_development_mode_is_repaired_in_the_worktree(
    make_repo: Callable[..., Path], run_cli: Callable[..., CliResult]
) -> None:
    """`pip install -e .` puts the user's checkout on the environment's path (a .pth file
    here, as hatchling writes it): the tests mendbot runs in its worktree must import the
    worktree's code, or no candidate could ever change what they see."""
    root = make_repo(
        {
            ".gitignore": ".venv/\n",
            "src/calc/__init__.py": "def double(x):\n    return x * 3\n",
            "tests/test_calc.py": TESTS_OF_CALC,
        }
    )
    venv = root / ".venv"
    subprocess.run(
        [sys.executable, "-m", "venv", "--system-site-packages", "--without-pip", str(venv)],
        check=True,
    )
    python = venv / "bin" / "python"
    site = subprocess.run(
        [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()
    Path(site, "_calc_editable.pth").write_text(str(root / "src") + "\n")
    plain = subprocess.run(
        [str(python), "-m", "pytest", "-q", "-p", "no:cacheprovider"],
        cwd=root,
        capture_output=True,
        text=True,
    )
    assert plain.returncode == 1 and "1 failed" in plain.stdout
    result = run_cli("fix", "--json", cwd=root)
    report = result.json()
    assert report["status"] == "fixed", report.get("reason")
    assert "src/calc/__init__.py" in report["diff"] and "x * 2" in report["diff"]
    # the user's checkout is as it was: mendbot worked in its own tree
    assert (root / "src/calc/__init__.py").read_text() == "def double(x):\n    return x * 3\n"
