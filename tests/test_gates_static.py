"""Static gates: which tools a repository configures, and their findings before and after."""

from __future__ import annotations

import importlib.util
from collections import Counter
from pathlib import Path

import pytest

from bot.gates.static import TOOLS, StaticChecker, compare, module_name
from bot.sandbox.registry import make_sandbox

TOOL = {tool.name: tool for tool in TOOLS}


def checker(root: Path) -> StaticChecker:
    support = root.parent / "support"
    support.mkdir(exist_ok=True)
    return StaticChecker(
        sandbox=make_sandbox("local"),
        root=root,
        project_dir=root,
        support_dir=support,
        scratch=root.parent / "scratch",
    )


def write(root: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text)
    return root


@pytest.mark.parametrize(
    ("files", "expected"),
    [
        ({"pyproject.toml": "[tool.ruff]\nline-length = 90\n"}, {"ruff"}),
        ({"ruff.toml": "line-length = 90\n"}, {"ruff"}),
        ({".ruff.toml": ""}, {"ruff"}),
        ({"mypy.ini": "[mypy]\nstrict = True\n"}, {"mypy"}),
        ({"setup.cfg": "[mypy]\nstrict = True\n"}, {"mypy"}),
        ({"setup.cfg": "[metadata]\nname = x\n"}, set()),
        ({"pyproject.toml": "[tool.mypy]\nstrict = true\n[tool.bandit]\n"}, {"mypy", "bandit"}),
        ({".bandit": "[bandit]\n"}, {"bandit"}),
        ({"pyproject.toml": "[tool.pytest.ini_options]\n"}, set()),
    ],
)
def test_tools_run_only_where_configured(
    tmp_path: Path, files: dict[str, str], expected: set[str]
) -> None:
    root = write(tmp_path / "repo", files)
    assert set(checker(root).configured()) == expected


def test_configuration_in_a_parent_folder_applies(tmp_path: Path) -> None:
    root = write(tmp_path / "repo", {"ruff.toml": "", "services/api/app.py": "x = 1\n"})
    found = StaticChecker(
        sandbox=make_sandbox("local"),
        root=root,
        project_dir=root / "services" / "api",
        support_dir=tmp_path,
        scratch=tmp_path / "scratch",
    ).configured()
    assert found == {"ruff": (root, "ruff.toml")}


def test_ruff_findings_through_the_sandbox(tmp_path: Path) -> None:
    root = write(
        tmp_path / "repo",
        {
            "pyproject.toml": '[tool.ruff.lint]\nselect = ["F"]\n',
            "calc.py": "import os\n\n\ndef double(x):\n    return 2 * x\n",
        },
    )
    static = checker(root)
    before = static.findings(TOOL["ruff"], {"calc.py": (root / "calc.py").read_text()})
    assert before == Counter({("calc.py", "F401", "`os` imported but unused"): 1})
    # the same finding on another line is not new; an unused variable is
    moved = "\n\nimport os\n\n\ndef double(x):\n    y = 1\n    return 2 * x\n"
    (root / "calc.py").write_text(moved)
    after = static.findings(TOOL["ruff"], {"calc.py": moved})
    assert isinstance(before, Counter) and isinstance(after, Counter)
    result = compare("ruff", before, after)
    assert result.failed
    assert result.detail == (
        "1 new finding: calc.py: F841 Local variable `y` is assigned to but never used"
    )
    fixed = "def double(x):\n    return 2 * x\n"
    (root / "calc.py").write_text(fixed)
    cleaned = compare("ruff", before, static.findings(TOOL["ruff"], {"calc.py": fixed}))
    assert cleaned.status.value == "passed"
    assert cleaned.detail == "no new findings (0 in the changed files, 1 fewer than before)"


def test_mypy_findings_compare_by_code_and_message(tmp_path: Path) -> None:
    root = write(
        tmp_path / "repo",
        {"mypy.ini": "[mypy]\n", "calc.py": "def double(x: int) -> int:\n    return 2 * x\n"},
    )
    static = checker(root)
    before = static.findings(TOOL["mypy"], {"calc.py": (root / "calc.py").read_text()})
    assert before == Counter()
    bad = "def double(x: int) -> int:\n    return str(2 * x)\n"
    (root / "calc.py").write_text(bad)
    after = static.findings(TOOL["mypy"], {"calc.py": bad})
    assert isinstance(after, Counter)
    ((file, code, message),) = after
    assert (file, code) == ("calc.py", "return-value")
    assert "Incompatible return value type" in message
    assert compare("mypy", before, after).failed


def test_a_tool_that_is_not_installed_is_not_run(tmp_path: Path) -> None:
    if importlib.util.find_spec("bandit") is not None:
        pytest.skip("bandit is installed here; this checks the result when it is not")
    root = write(tmp_path / "repo", {".bandit": "[bandit]\n", "calc.py": "x = 1\n"})
    static = checker(root)
    found = static.findings(TOOL["bandit"], {"calc.py": "x = 1\n"})
    assert found == "bandit is not installed where the tests run"
    result = compare("bandit", found, found)
    assert result.status.value == "not_run"
    assert result.detail == "not run: bandit is not installed where the tests run"


def test_module_names() -> None:
    assert module_name("src/shop/cart.py") == "shop.cart"
    assert module_name("shop/__init__.py") == "shop"
    assert module_name("tools.py") == "tools"
    assert module_name("scripts/run-me.py") is None
    assert module_name("notes.txt") is None
