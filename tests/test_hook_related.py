"""Choosing the tests related to changed files: imports, names, conftest, the coverage map."""

from __future__ import annotations

import json
from pathlib import Path

from conftest import write_tree

from bot.related import (
    imported_names,
    load_coverage_map,
    module_names,
    related_tests,
    save_coverage_map,
)

PROJECT = {
    "src/shop/__init__.py": "",
    "src/shop/money.py": "def cents(x):\n    return round(x * 100)\n",
    "src/shop/cart.py": "from .money import cents\n\ndef total(items):\n    return cents(items)\n",
    "src/shop/report.py": "from shop import cart\n",
    "src/shop/unrelated.py": "X = 1\n",
    "tests/test_cart.py": "from shop.cart import total\n\ndef test_total():\n    assert total(1)\n",
    "tests/test_report.py": "import shop.report\n\ndef test_report():\n    assert shop.report\n",
    "tests/test_money.py": "def test_nothing_imported():\n    assert True\n",
    "tests/test_unrelated.py": "from shop.unrelated import X\n\ndef test_x():\n    assert X\n",
    "tests/helpers.py": "from shop.money import cents\n",
    "tests/api/conftest.py": "import shop.money\n",
    "tests/api/test_api.py": "def test_api():\n    assert True\n",
    "tests/api/api_test.py": "def test_api2():\n    assert True\n",
    "scripts/tool.py": "import importlib\nimportlib.import_module('shop.unrelated')\n",
}


def test_module_names_and_imports() -> None:
    assert module_names("src/shop/cart.py") == ["src.shop.cart", "shop.cart", "cart"]
    assert module_names("src/shop/__init__.py") == ["src.shop", "shop"]
    names = imported_names(
        "src/shop/cart.py", "from .money import cents\nfrom . import util\nimport a.b.c\n"
    )
    assert {"src.shop.money", "src.shop.money.cents", "src.shop.util", "a", "a.b", "a.b.c"} <= (
        names
    )
    assert imported_names("broken.py", "def (:\n") == set()


def test_transitive_relative_and_conftest_imports(tmp_path: Path) -> None:
    write_tree(tmp_path, PROJECT)
    related = related_tests(tmp_path, ["src/shop/money.py"])
    assert related.tests == (
        "tests/api/api_test.py",
        "tests/api/test_api.py",
        "tests/test_cart.py",
        "tests/test_money.py",
        "tests/test_report.py",
    )
    assert related.reasons["tests/test_cart.py"] == "imports src/shop/money.py"
    assert related.reasons["tests/test_report.py"] == "imports src/shop/money.py"
    assert related.reasons["tests/test_money.py"] == "named after money.py"
    assert related.reasons["tests/api/test_api.py"] == "its conftest imports src/shop/money.py"
    # helpers.py imports money but is not a test file, and nothing imports unrelated.py
    assert "tests/test_unrelated.py" not in related.tests


def test_changed_tests_conftest_and_modules_without_tests(tmp_path: Path) -> None:
    write_tree(tmp_path, PROJECT)
    assert related_tests(tmp_path, ["tests/test_unrelated.py"]).tests == (
        "tests/test_unrelated.py",
    )
    assert related_tests(tmp_path, ["tests/api/conftest.py"]).tests == (
        "tests/api/api_test.py",
        "tests/api/test_api.py",
    )
    assert related_tests(tmp_path, ["scripts/tool.py"]).tests == ()
    assert related_tests(tmp_path, ["README.md"]).tests == ()


def test_a_deleted_module_relates_to_what_still_imports_it(tmp_path: Path) -> None:
    project = dict(PROJECT)
    del project["src/shop/unrelated.py"]
    write_tree(tmp_path, project)
    related = related_tests(tmp_path, ["src/shop/unrelated.py"])
    assert related.tests == ("tests/test_unrelated.py",)


def test_the_coverage_map_adds_tests_imports_cannot_see(tmp_path: Path) -> None:
    write_tree(tmp_path, PROJECT)
    map_path = tmp_path / "map" / "coverage-map.json"
    coverage = {
        "tests/test_unrelated.py::test_x": {"src/shop/unrelated.py": frozenset({1})},
        "tests/test_api.py::test_gone": {"src/shop/unrelated.py": frozenset({1})},
        "tests/test_cart.py::test_total": {"src/shop/cart.py": frozenset({1, 2})},
    }
    assert save_coverage_map(map_path, "", "abc", coverage) == 3
    save_coverage_map(map_path, "other", "def", {"t::x": {"a.py": frozenset({1})}})
    loaded = load_coverage_map(map_path, "")
    assert loaded["tests/test_cart.py::test_total"] == ["src/shop/cart.py"]
    assert load_coverage_map(map_path, "other") == {"t::x": ["a.py"]}
    # scripts/tool.py imports unrelated.py dynamically; only the map knows a test runs it
    (tmp_path / "tests/test_dynamic.py").write_text("def test_dynamic():\n    assert True\n")
    save_coverage_map(
        map_path,
        "",
        "abc",
        {"tests/test_dynamic.py::test_dynamic": {"scripts/tool.py": frozenset({2})}},
    )
    related = related_tests(tmp_path, ["scripts/tool.py"], load_coverage_map(map_path, ""))
    assert related.tests == ("tests/test_dynamic.py",)
    assert related.reasons["tests/test_dynamic.py"] == "runs scripts/tool.py (coverage map)"
    # a test file that no longer exists is not run
    related = related_tests(
        tmp_path,
        ["src/shop/unrelated.py"],
        {"tests/test_api.py::test_gone": ["src/shop/unrelated.py"]},
    )
    assert related.tests == ("tests/test_unrelated.py",)


def test_a_damaged_map_is_ignored(tmp_path: Path) -> None:
    path = tmp_path / "coverage-map.json"
    path.write_text("{not json")
    assert load_coverage_map(path, "") == {}
    path.write_text(json.dumps({"version": 99, "projects": {".": {"tests": {"a": ["b"]}}}}))
    assert load_coverage_map(path, "") == {}
