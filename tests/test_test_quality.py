"""The static checks a written test must pass before mendbot trusts it."""

from __future__ import annotations

import pytest

from bot.gates.test_quality import check_test_source, modules_of

MODULES = modules_of(["src/shop/cart.py", "shop/__init__.py", "tools.py"])
CART = "from shop.cart import Cart"
SKIPPING = "import pytest\n" + CART
TOTAL_IS_ONE = "assert Cart([1]).total() == 1"


def module(*body: str, header: str = CART, decorator: str = "") -> str:
    """A test module: ``header`` imports, then ``def test_x()`` with the given body lines."""
    lines = [header, "", "", *([decorator] if decorator else []), "def test_x():"]
    lines += [f"    {line}" for line in body]
    return "\n".join(lines) + "\n"


def problems_of(source: str) -> tuple[str, ...]:
    return check_test_source(source, code_modules=MODULES, code_names={"Cart", "total"}).problems


def test_module_names_cover_packages_and_src_layouts() -> None:
    assert {"shop", "shop.cart", "tools"} <= MODULES
    assert "src" not in MODULES and "shop.__init__" not in MODULES


@pytest.mark.parametrize(
    "source",
    [
        module("assert Cart([2, 3]).total() == 5"),
        module("assert c.total([1]) == 1", header="import shop.cart as c"),
        module("with pytest.raises(ValueError):", "    Cart([]).total()", header=SKIPPING),
        "from shop.cart import Cart\n\n\nclass TestCart:\n    def test_total(self):\n"
        "        cart = Cart([1])\n        assert cart.total() != 0\n",
        module(
            "try:",
            "    total([])",
            "except ZeroDivisionError:",
            "    raise AssertionError('crashes')",
            header="from tools import total",
        ),
    ],
)
def test_real_tests_pass(source: str) -> None:
    result = check_test_source(source, code_modules=MODULES)
    assert result.ok, result.problems
    assert result.test_names


@pytest.mark.parametrize(
    ("source", "problem"),
    [
        ("def helper():\n    assert 1 == 2\n", "has no test function"),
        (module("pass"), "empty body"),
        (module('"""Only a docstring."""'), "empty body"),
        (module("Cart([1])"), "no assert"),
        (module("Cart([1])", "assert True"), "asserts a constant"),
        (module("Cart([1])", "assert 1 == 1"), "asserts a constant"),
        (module("c = Cart([1])", "assert c == c"), "compares a value with itself"),
        (
            module("assert json.loads('1') == 1", header="import json"),
            "imports nothing from the code under test",
        ),
        (
            module("assert json.loads('1') == 1", header=CART + "\nimport json"),
            "does not use the code under test",
        ),
        (
            module(TOTAL_IS_ONE, header=SKIPPING, decorator="@pytest.mark.skip(reason='x')"),
            "marked pytest.mark.skip",
        ),
        (
            module(TOTAL_IS_ONE, header=SKIPPING, decorator="@pytest.mark.xfail"),
            "marked pytest.mark.xfail",
        ),
        (module("pytest.skip('no')", TOTAL_IS_ONE, header=SKIPPING), "calls pytest.skip()"),
        (
            module("try:", "    " + TOTAL_IS_ONE, "except Exception:", "    pass"),
            "swallows every error",
        ),
        (module("try:", "    " + TOTAL_IS_ONE, "except:", "    pass"), "swallows every error"),
        (CART + "\n\n\ndef test_x(:\n", "does not parse"),
    ],
)
def test_fake_tests_are_caught(source: str, problem: str) -> None:
    found = problems_of(source)
    assert any(problem in p for p in found), found
