"""Overfitting guards on real before/after sources: what is rejected, flagged or let through."""

from __future__ import annotations

import textwrap

import pytest

from bot.gates.overfit import changed_functions, failing_test_literals, inspect_edit, mocked_names

PRICE = textwrap.dedent(
    '''
    def price(quantity, unit, discount=None):
        """Total price of an order line."""
        if quantity <= 0:
            raise ValueError("quantity must be positive")
        total = quantity * unit
        if discount:
            total -= total * discount
        return round(total, 2)
    '''
).lstrip()

TESTS = {
    "tests/test_price.py": textwrap.dedent(
        """
        import pytest
        from price import price

        def test_bulk():
            assert price(15, 2.5) == 33.75

        @pytest.mark.parametrize("quantity", [7, 9])
        def test_odd(quantity):
            assert price(quantity, 1) == quantity

        def test_zero():
            with pytest.raises(ValueError):
                price(0, 1)
        """
    ).lstrip()
}


def edited(old: str, new: str) -> str:
    assert old in PRICE, old
    return PRICE.replace(old, new, 1)


def kinds(new: str, literals: frozenset[tuple[str, str]] = frozenset()) -> list[tuple[str, bool]]:
    report = inspect_edit(PRICE, new, path="price.py", literals=literals)
    return [(f.kind, f.reject) for f in report.findings]


def test_a_condition_turned_into_a_constant_is_rejected() -> None:
    new = edited("    if discount:\n", "    if True:\n")
    assert kinds(new) == [("condition-constant", True)]
    report = inspect_edit(PRICE, new, path="price.py")
    assert report.rejected is not None
    assert "`True`" in report.rejected.detail and report.rejected.line == 6


def test_returning_a_constant_instead_of_a_value_is_rejected() -> None:
    assert kinds(edited("return round(total, 2)", "return 0")) == [("returns-constant", True)]


def test_a_guard_that_returns_a_constant_is_not_a_constant_return() -> None:
    guarded = edited(
        "    total = quantity * unit\n",
        "    if unit is None:\n        return 0\n    total = quantity * unit\n",
    )
    assert kinds(guarded) == []


def test_a_bare_except_pass_is_rejected_and_a_narrow_one_flagged() -> None:
    body = "    total = quantity * unit\n"
    broad = edited(body, "    try:\n        total = quantity * unit\n    except:\n        pass\n")
    narrow = edited(
        body, "    try:\n        total = quantity * unit\n    except TypeError:\n        pass\n"
    )
    assert ("swallows-errors", True) in kinds(broad)
    assert ("swallows-errors", False) in kinds(narrow)
    assert inspect_edit(PRICE, narrow).rejected is None


def test_special_casing_a_literal_of_the_failing_test_is_rejected() -> None:
    literals = failing_test_literals(TESTS, ["tests/test_price.py::test_bulk"])
    assert ("int", "15") in literals and ("float", "33.75") in literals
    assert ("int", "1") not in literals  # small boundary values are never "special"
    special = edited(
        "    total = quantity * unit\n",
        "    if quantity == 15:\n        return 33.75\n    total = quantity * unit\n",
    )
    assert ("special-cases-test-input", True) in kinds(special, literals)
    # the same edit is fine when the literal is not from the failing test
    assert kinds(special, frozenset()) == []


def test_parametrized_literals_count_and_other_tests_do_not() -> None:
    odd = failing_test_literals(TESTS, ["tests/test_price.py::test_odd[7]"])
    assert ("int", "7") in odd and ("int", "9") in odd
    assert ("int", "15") not in odd
    membership = edited("    if discount:\n", "    if discount and quantity not in (7, 9):\n")
    assert ("special-cases-test-input", True) in kinds(membership, odd)


def test_boundary_guards_and_operator_fixes_pass() -> None:
    literals = failing_test_literals(TESTS, ["tests/test_price.py::test_bulk"])
    assert kinds(edited("quantity <= 0", "quantity < 0"), literals) == []
    assert kinds(edited("total * discount", "total / discount"), literals) == []
    assert kinds(edited("    if discount:\n", "    if discount is not None:\n"), literals) == []


def test_removing_statements_is_flagged_not_rejected() -> None:
    new = edited("        total -= total * discount\n", "        pass\n")
    report = inspect_edit(PRICE, new, path="price.py")
    assert [(f.kind, f.reject) for f in report.findings] == [("removes-statements", False)]
    assert report.rejected is None and "lost 1 statement" in report.flags[0].detail
    dropped_branch = edited(
        '    if quantity <= 0:\n        raise ValueError("quantity must be positive")\n', ""
    )
    assert [f.kind for f in inspect_edit(PRICE, dropped_branch).findings] == ["removes-statements"]


def test_only_the_touched_function_is_compared() -> None:
    two = PRICE + "\n\ndef unit_of(line):\n    return line['unit']\n"
    changed = two.replace("line['unit']", "line.get('unit')")
    names = [name for name, _, _ in changed_functions(two, changed)]
    assert names == ["unit_of"]
    method = "class Cart:\n    def total(self, items):\n        return sum(items)\n"
    assert [n for n, _, _ in changed_functions(method, method.replace("sum(items)", "0"))] == [
        "Cart.total"
    ]
    report = inspect_edit(method, method.replace("sum(items)", "0"))
    assert report.rejected is not None and report.rejected.kind == "returns-constant"


@pytest.mark.parametrize(
    ("old", "new"),
    [
        ("while n > 0:\n        n -= 1\n", "while False:\n        n -= 1\n"),
        ("x = a if a > b else b\n", "x = a if True else b\n"),
    ],
)
def test_loops_and_conditional_expressions_count_as_conditions(old: str, new: str) -> None:
    source = f"def f(n, a=1, b=2):\n    {old}    return n\n"
    report = inspect_edit(source, source.replace(old, new))
    assert report.rejected is not None and report.rejected.kind == "condition-constant"


def test_a_guard_clause_beside_a_changed_return_is_not_a_constant_return() -> None:
    old = "def is_prefix(word, text):\n    return len(word) > 0 and text.startswith(word)\n"
    guarded = (
        "def is_prefix(word, text):\n    if not word:\n        return False\n"
        "    return text.startswith(word)\n"
    )
    assert inspect_edit(old, guarded).findings == ()
    # a constant that replaces the computation is still one, guard or not
    constant = (
        "def is_prefix(word, text):\n    if not word:\n        return False\n    return True\n"
    )
    assert [f.kind for f in inspect_edit(old, constant).findings] == ["returns-constant"]
    # a condition on something that is not an input does not make a guard clause
    unrelated = (
        "def is_prefix(word, text):\n    if not DEBUG:\n        return False\n"
        "    return text.startswith(word)\n"
    )
    assert [f.kind for f in inspect_edit(old, unrelated).findings] == ["returns-constant"]


def shapes_of(old: str, new: str, mocked: frozenset[str] = frozenset()) -> list[tuple[str, bool]]:
    return [(f.kind, f.reject) for f in inspect_edit(old, new, mocked=mocked).findings]


@pytest.mark.parametrize(
    ("old", "new", "kind"),
    [
        # an increment changed to zero
        (
            "def tick(c):\n    c.count += 1\n",
            "def tick(c):\n    c.count += 0\n",
            "increment-to-zero",
        ),
        # an operand duplicated (meant w * h)
        (
            "def area(w, h):\n    return w - h\n",
            "def area(w, h):\n    return h + h\n",
            "duplicated-operand",
        ),
        # an arithmetic identity introduced
        (
            "def nxt(s):\n    return s + 1\n",
            "def nxt(s):\n    return s * 1\n",
            "arithmetic-identity",
        ),
        (
            "def nxt(s):\n    return s - 2\n",
            "def nxt(s):\n    return s - 0\n",
            "arithmetic-identity",
        ),
        # a literal shortened to a substring in a containment check
        (
            "def match(out):\n    return 'set-upstream' in out\n",
            "def match(out):\n    return 'upstream' in out\n",
            "widened-literal",
        ),
        (
            "def match(out):\n    return out.startswith('error: ')\n",
            "def match(out):\n    return out.startswith('e')\n",
            "widened-literal",
        ),
        # a check inverted so that it refuses its own positive example
        (
            "def match(out):\n    return 'set-upstream' in out and 'push' in out\n",
            "def match(out):\n    return 'set-upstream' not in out and 'push' in out\n",
            "inverted-check",
        ),
        (
            "def match(out):\n    return 'x' in out\n",
            "def match(out):\n    return not 'x' in out\n",
            "inverted-check",
        ),
    ],
)
def test_shapes_of_nonsense_patches_are_rejected(old: str, new: str, kind: str) -> None:
    # an inverted check is flagged (ranked lower, named in the report): a condition of the
    # wrong polarity is a real bug often enough
    assert (kind, kind != "inverted-check") in shapes_of(old, new)


def test_a_name_the_tests_mock_brought_in_is_rejected() -> None:
    tests = {
        "tests/test_git.py": textwrap.dedent(
            """
            from unittest import mock

            @mock.patch("shell.Popen")
            def test_aliases(popen):
                popen.return_value = "ok"

            def test_env(monkeypatch):
                monkeypatch.setattr("shell.environ", {})
            """
        )
    }
    mocked = mocked_names(tests)
    assert {"Popen", "environ"} <= mocked
    old = "def aliases(x):\n    return _get_aliases(x)\n"
    new = "def aliases(x):\n    return Popen(x)\n"
    assert ("uses-mocked-name", True) in shapes_of(old, new, mocked)
    # the same edit is not judged so when the tests mock nothing by that name
    assert shapes_of(old, new) == []


@pytest.mark.parametrize(
    ("old", "new"),
    [
        ("def area(w, h):\n    return w - h\n", "def area(w, h):\n    return w * h\n"),
        ("def tick(c):\n    c.count += 2\n", "def tick(c):\n    c.count += 1\n"),
        ("def nxt(s):\n    return s * 2\n", "def nxt(s):\n    return s + 2\n"),
        ("def sq(s):\n    return s * 2\n", "def sq(s):\n    return s * s\n"),
        (
            "def match(out):\n    return 'x' not in out\n",
            "def match(out):\n    return 'x' in out\n",
        ),
        (
            "def match(out):\n    return 'upstream' in out\n",
            "def match(out):\n    return 'set-upstream' in out\n",
        ),
    ],
)
def test_ordinary_fixes_of_the_same_code_pass(old: str, new: str) -> None:
    assert [kind for kind, reject in shapes_of(old, new) if reject] == []
