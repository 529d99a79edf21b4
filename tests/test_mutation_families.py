"""Each template family makes the edit it promises on a small function, and only edits that
parse: the source after the edit is compared whole."""

from __future__ import annotations

import ast
from collections.abc import Callable, Iterator

from bot.engines.mutations import LINE_TEMPLATES, PRIORS, Mutation, Offsets, Site, statement_at
from bot.engines.mutations.calls import call_arguments, sibling_method
from bot.engines.mutations.containers import iterate_slice, wrap_in_container
from bot.engines.mutations.literals import asserted_literal, compared_values, corrected_literal
from bot.engines.mutations.names import outer_names
from bot.engines.mutations.operands import clamps, operands
from bot.engines.mutations.operators import comparison_shift, computed_off_by_one
from bot.engines.mutations.scope import held_expression, scope_clause, scope_condition
from bot.engines.mutations.scope_statements import (
    carried_assignment,
    missing_return,
    sibling_call,
)
from bot.models import FailureClass

Template = Callable[[Site, Offsets], Iterator[Mutation]]


def edited(
    source: str,
    line: int,
    template: Template,
    message: str = "",
    project_constants: tuple[tuple[str, str, object], ...] = (),
) -> list[str]:
    """Every source ``template`` proposes at ``line``, each checked to parse."""
    tree = ast.parse(source)
    statement, function = statement_at(tree, line)
    assert statement is not None
    site = Site(
        source,
        tree,
        line,
        statement,
        function,
        FailureClass.LOGIC,
        (),
        (),
        message,
        project_constants,
    )
    texts = [mutation.apply(source) for mutation in template(site, Offsets(source))]
    for text in texts:
        ast.parse(text)
    return texts


def test_operands_dropped_swapped_and_doubled() -> None:
    source = "def label(prefix, name):\n    return prefix + name.title()\n"
    found = edited(source, 2, operands)
    assert source.replace("prefix + name.title()", "name.title()") in found
    assert source.replace("prefix + name.title()", "prefix") in found
    assert source.replace("prefix + name.title()", "name.title() + prefix") in found
    assert source.replace("prefix + name.title()", "prefix + prefix") in found
    area = "def area(width, height):\n    return width * height * 1\n"
    identity = [
        m.template
        for m in operands(*_site(area, 2))
        if m.apply(area) == area.replace("width * height * 1", "width * height")
    ]
    assert identity == ["operand-identity"]


def test_commutative_operators_are_not_swapped() -> None:
    source = "def area(width, height):\n    return width * height\n"
    assert source.replace("width * height", "height * width") not in edited(source, 2, operands)


def test_clamps_keep_the_running_best_or_a_floor_of_zero() -> None:
    source = (
        "def best_run(values):\n"
        "    best = 0\n"
        "    for value in values:\n"
        "        best = value\n"
        "    return best\n"
    )
    found = edited(source, 4, clamps)
    assert source.replace("best = value", "best = max(best, value)") in found
    assert source.replace("best = value", "best = min(best, value)") in found
    assert source.replace("best = value", "best = max(value, 0)") in found
    # a name assigned for the first time has no previous value to keep
    fresh = "def f(a, b):\n    gap = a - b\n    return gap\n"
    assert all("max(gap" not in text for text in edited(fresh, 2, clamps))


def test_constant_conditions_and_returns_from_scope() -> None:
    source = (
        "def drain(queue):\n"
        "    pending = list(queue)\n"
        "    while True:\n"
        "        pending.pop()\n"
        "    return pending\n"
    )
    assert source.replace("while True", "while pending") in edited(source, 3, scope_condition)
    balanced = (
        "def balanced(text, limit):\n"
        "    depth = 0\n"
        "    for char in text:\n"
        "        depth += 1 if char == '(' else -1\n"
        "    return True\n"
    )
    found = edited(balanced, 5, scope_condition)
    assert balanced.replace("return True", "return depth == 0") in found
    assert balanced.replace("return True", "return depth == limit") in found


def test_an_expression_computed_again_is_replaced_by_the_local_that_holds_it() -> None:
    source = (
        "def report(prices, discount):\n"
        "    total = sum(prices)\n"
        "    total -= discount\n"
        "    return sum(prices)\n"
    )
    assert source.replace("return sum(prices)", "return total") in edited(
        source, 4, held_expression
    )


def test_computed_lengths_and_counts_are_off_by_one_with_their_precedence_kept() -> None:
    source = "def gaps(words):\n    return len(words) * [1]\n"
    found = edited(source, 2, computed_off_by_one)
    assert source.replace("len(words) * [1]", "(len(words) - 1) * [1]") in found
    assert source.replace("len(words) * [1]", "(len(words) + 1) * [1]") in found


def test_operator_and_constant_change_together() -> None:
    source = "def single(items):\n    return len(items) == 0\n"
    found = edited(source, 2, comparison_shift)
    assert source.replace("== 0", "<= 1") in found
    assert source.replace("== 0", ">= -1") in found


def test_conditions_widened_and_narrowed_with_names_in_scope() -> None:
    source = (
        "def change(total, coins, note=None):\n"
        "    for coin in coins:\n"
        "        total -= coin\n"
        "    if total < 0:\n"
        "        return None\n"
        "    return total\n"
    )
    found = edited(source, 4, scope_clause)
    assert source.replace("if total < 0:", "if total < 0 or not coins:") in found
    assert source.replace("if total < 0:", "if total < 0 and coins:") in found
    assert source.replace("if total < 0:", "if total < 0 or note is None:") in found
    optional = "def cut(text, limit=None):\n    if len(text) <= limit:\n        return text\n"
    assert optional.replace("if len", "if limit is None or len") in edited(
        optional, 2, scope_clause
    )


def test_a_value_is_carried_to_the_next_iteration() -> None:
    source = (
        "def steps(points):\n"
        "    prev = points[0]\n"
        "    out = []\n"
        "    for point in points[1:]:\n"
        "        out.append(point - prev)\n"
        "    return out\n"
    )
    expected = source.replace(
        "        out.append(point - prev)\n",
        "        out.append(point - prev)\n        prev = point\n",
    )
    assert expected in edited(source, 5, carried_assignment)


def test_the_loops_last_item_gets_the_sibling_call_after_the_loop() -> None:
    source = (
        "def lines(words, width):\n"
        "    out, line = [], ''\n"
        "    for word in words:\n"
        "        if len(line) + len(word) > width:\n"
        "            out.append(line)\n"
        "            line = word\n"
        "        else:\n"
        "            line += word\n"
        "    return out\n"
    )
    found = edited(source, 5, sibling_call)
    assert source.replace("    return out\n", "    out.append(line)\n    return out\n") in found
    assert all(text.endswith("    return out\n") for text in found)  # after the loop


def test_a_function_that_builds_a_value_returns_it() -> None:
    source = (
        "def evens(values):\n"
        "    found = []\n"
        "    for value in values:\n"
        "        if value % 2 == 0:\n"
        "            found.append(value)\n"
    )
    assert source + "    return found\n" in edited(source, 5, missing_return)
    returning = "def f(values):\n    found = []\n    return found\n"
    assert edited(returning, 2, missing_return) == []


def test_containers_and_slices() -> None:
    source = "def subsets(items):\n    if not items:\n        return []\n    return items\n"
    assert source.replace("return []", "return [[]]") in edited(source, 3, wrap_in_container)
    loop = (
        "def tail_sum(items, skip=0):\n"
        "    total = 0\n"
        "    for item in items:\n"
        "        total += item\n"
        "    return total\n"
    )
    found = edited(loop, 3, iterate_slice)
    assert loop.replace("in items:", "in items[skip:]:") in found
    assert loop.replace("in items:", "in items[1:]:") in found


def test_names_of_the_enclosing_function_and_of_self() -> None:
    source = (
        "def scaler(factor, offset):\n"
        "    def scale(value):\n"
        "        return value * offset\n"
        "    return scale\n"
    )
    assert source.replace("value * offset", "value * factor") in edited(source, 3, outer_names)
    method = (
        "class Meter:\n"
        "    def __init__(self, limit):\n"
        "        self.limit = limit\n"
        "\n"
        "    def over(self, value, limit=100):\n"
        "        return value > limit\n"
    )
    assert method.replace("value > limit", "value > self.limit") in edited(method, 6, outer_names)


def test_the_literal_that_produced_the_differing_part_takes_the_expected_text() -> None:
    message = "AssertionError: assert 'width: 3' == 'width = 3'"
    assert compared_values(message) == [("width: 3", "width = 3")]
    assert corrected_literal(": ", "width: 3", "width = 3") == " = "
    assert corrected_literal("width", "width: 3", "width = 3") is None  # the change is elsewhere
    source = "def show(name, value):\n    return name + ': ' + str(value)\n"
    found = edited(source, 2, asserted_literal, message)
    assert found == [source.replace("': '", "' = '")]
    formatted = "def show(name, value):\n    return f'{name}: {value}'\n"
    found = edited(formatted, 2, asserted_literal, message)
    assert found == [formatted.replace("f'{name}: {value}'", "f'{name} = {value}'")]
    assert edited(source, 2, asserted_literal, "AssertionError: assert 3 == 4") == []


def test_another_method_with_a_compatible_signature() -> None:
    source = (
        "class Window:\n"
        "    def first(self, items):\n"
        "        return items[0]\n"
        "\n"
        "    def last(self, items):\n"
        "        return items[-1]\n"
        "\n"
        "    def pair(self, items, other):\n"
        "        return items, other\n"
        "\n"
        "    def newest(self, items):\n"
        "        return self.first(items)\n"
    )
    found = edited(source, 12, sibling_method)
    assert source.replace("self.first(items)", "self.last(items)") in found
    assert source.replace("self.first(items)", "self.pair(items)") not in found


def test_arguments_removed_added_from_scope_and_flags_toggled() -> None:
    source = (
        "def render(rows, sep=',', strict=False):\n"
        "    return sep.join(rows)\n"
        "\n"
        "def report(rows, sep):\n"
        "    return render(rows, ';')\n"
    )
    found = edited(source, 5, call_arguments)
    assert source.replace("render(rows, ';')", "render(rows)") in found
    assert source.replace("render(rows, ';')", "render(rows, ';', strict=True)") in found
    calling = source.replace("render(rows, ';')", "render(rows)")
    assert calling.replace("render(rows)", "render(rows, sep)") in edited(
        calling, 5, call_arguments
    )
    keyword = source.replace("render(rows, ';')", "render(rows, strict=True)")
    assert keyword.replace("strict=True)", "strict=True, sep=sep)") in edited(
        keyword, 5, call_arguments
    )


NEW_TEMPLATES = (
    "drop-operand",
    "swap-operands",
    "duplicate-operand",
    "operand-identity",
    "clamp",
    "condition-from-scope",
    "held-expression",
    "computed-off-by-one",
    "comparison-shift",
    "scope-clause",
    "statement-from-scope",
    "missing-return",
    "wrap-container",
    "iterate-slice",
    "enclosing-name",
    "self-attribute",
    "asserted-literal",
    "sibling-method",
    "call-argument",
)


def test_every_template_the_families_make_has_a_prior_of_its_own() -> None:
    """The families are ordered by priors of their own, not by the fallback, and the
    templates listed here are the ones the engine makes on a sample of small functions."""
    made = {
        m.template
        for template in LINE_TEMPLATES
        for source, line, message in FAMILY_SAMPLES
        for m in template(*_site(source, line, message))
    }
    assert set(NEW_TEMPLATES) <= made
    for failure_class in (FailureClass.LOGIC, FailureClass.RUNTIME_SAFETY, FailureClass.CONTRACT):
        missing = [t for t in made if t not in PRIORS[failure_class]]
        assert missing == [], failure_class


FAMILY_SAMPLES = (
    ("def f(a, b):\n    best = 0\n    best = a - b\n    return best\n", 3, ""),
    ("def f(a):\n    best = a * 1 + a\n    return best\n", 2, ""),
    ("def f(xs):\n    while True:\n        xs.pop()\n", 2, ""),
    ("def f(xs, k=0):\n    for x in xs:\n        print(len(xs) * [x] == 0)\n", 2, ""),
    ("def f(xs, k=0):\n    for x in xs:\n        print(len(xs) * [x] == 0)\n", 3, ""),
    ("def f(s):\n    return s + ':'\n", 2, "AssertionError: assert 'a:' == 'a='"),
    ("def f(xs):\n    n = 0\n    for x in xs:\n        n += x\n    return True\n", 5, ""),
    (
        "def f(xs):\n    t = sum(xs)\n    out = []\n    for x in xs:\n"
        "        out.append(sum(xs))\n",
        5,
        "",
    ),
    (
        "def outer(a, b=None):\n    def inner(c):\n        if c > b:\n            return [a]\n"
        "        return []\n    return inner\n",
        3,
        "",
    ),
    ("def outer(a):\n    def inner(c):\n        return []\n    return inner\n", 3, ""),
    (
        "class C:\n    def __init__(self, n):\n        self.n = n\n\n    def a(self, x):\n"
        "        return x\n\n    def c(self, y):\n        return y\n\n"
        "    def b(self, x, flag=False):\n        return self.a(n)\n",
        12,
        "",
    ),
    (
        "def g(x, flag=False):\n    return x\n\ndef h(x, n):\n    prev = 0\n    for y in x:\n"
        "        print(g(y), prev)\n",
        7,
        "",
    ),
)


def _site(source: str, line: int, message: str = "") -> tuple[Site, Offsets]:
    tree = ast.parse(source)
    statement, function = statement_at(tree, line)
    assert statement is not None
    site = Site(source, tree, line, statement, function, FailureClass.LOGIC, (), (), message)
    return site, Offsets(source)


def test_every_other_arithmetic_operator_comes_after_the_likely_ones() -> None:
    from bot.engines.mutations.operators import binary_operator

    source = "def offset(elem, start):\n    return elem / start % 2\n"
    proposed = [(m.template, m.apply(source)) for m in binary_operator(*_site(source, 2))]
    division = [(t, text) for t, text in proposed if "elem / start" not in text]
    assert division[:2] == [
        ("arithmetic-operator", source.replace("elem / start", "elem // start")),
        ("arithmetic-operator", source.replace("elem / start", "elem * start")),
    ]
    others = [text for t, text in division if t == "other-arithmetic-operator"]
    assert source.replace("elem / start", "elem - start") in others
    assert source.replace("elem / start", "elem + start") in others
    # a power only of a small literal: `elem ** start` can make a candidate's test run for ever
    assert source.replace("elem / start", "elem ** start") not in [t for _, t in proposed]
    assert source.replace("% 2", "** 2") in [t for _, t in proposed]
    assert (
        PRIORS[FailureClass.LOGIC]["other-arithmetic-operator"]
        < (PRIORS[FailureClass.LOGIC]["arithmetic-operator"])
    )
    bitwise = "def seconds(value):\n    return value | 1000\n"
    assert bitwise.replace("|", "/") in [
        m.apply(bitwise) for m in binary_operator(*_site(bitwise, 2))
    ]


def test_a_number_off_by_a_power_of_ten() -> None:
    from bot.engines.mutations.literals import literal_magnitude

    source = "def suffix(value):\n    return value % 10 in (11, 12, 13)\n"
    found = edited(source, 2, literal_magnitude)
    assert source.replace("value % 10", "value % 100") in found
    assert source.replace("(11, 12", "(110, 12") in found
    assert source.replace("value % 10", "value % 1") in found
    minutes = "def seconds(minutes):\n    return minutes * 6\n"
    assert edited(minutes, 2, literal_magnitude) == [minutes.replace("* 6", "* 60")]
    # 0, 1 and -1 are not magnitudes (an increment, an identity): left to other templates
    assert edited("def f(x):\n    return x + 1\n", 2, literal_magnitude) == []
    seconds = "def ms(value):\n    return value * 1000.0\n"
    assert seconds.replace("1000.0", "100.0") in edited(seconds, 2, literal_magnitude)


def _proposed(template: Template, source: str, line: int) -> list[tuple[str, str]]:
    return [(m.template, m.apply(source)) for m in template(*_site(source, line))]


def test_every_binary_operator_can_stand_for_every_other() -> None:
    from bot.engines.mutations.operators import binary_operator

    source = "def grow(n, k):\n    return n << 1, n - k\n"
    proposed = _proposed(binary_operator, source, 2)
    assert proposed[0] == ("arithmetic-operator", source.replace("<<", ">>"))
    shifted = [text for _, text in proposed if "n - k" in text]
    for new in ("+", "-", "*", "/", "//", "%", "**", "&", "|", "^"):
        assert source.replace("<<", new) in shifted
    # bitwise and shift operators first for a shift, arithmetic after them
    assert shifted.index(source.replace("<<", "&")) < shifted.index(source.replace("<<", "+"))
    subtracted = [text for _, text in proposed if "n << 1" in text]
    assert source.replace("n - k", "n >> k") in subtracted
    assert source.replace("n - k", "n ^ k") in subtracted
    # neither a power nor a left shift by a name: `n ** k` may never end, `n << k` fill memory
    assert source.replace("n - k", "n ** k") not in subtracted
    assert source.replace("n - k", "n << k") not in subtracted
    nested = "def f(a, b):\n    return a ** b + 2\n"
    assert "a ** b ** 2" not in "".join(t for _, t in _proposed(binary_operator, nested, 2))


def test_every_comparison_operator_can_stand_for_every_other() -> None:
    from bot.engines.mutations.operators import compare_operator

    source = "def pick(item, seen):\n    return item is not None\n"
    proposed = _proposed(compare_operator, source, 2)
    assert proposed[0] == ("comparison-operator", source.replace("is not", "is"))
    others = {text for template, text in proposed if template == "other-comparison-operator"}
    # `!=` for `is not` against None is identity_equality's; an ordering with None or a
    # membership in None never runs
    assert others == {source.replace("is not", "==")}
    counted = "def empty(count, limit):\n    return count == 0 or count > limit\n"
    proposed = _proposed(compare_operator, counted, 2)
    zero = {text for template, text in proposed if "count > limit" in text}
    assert counted.replace("count == 0", "count < 0") in zero
    assert counted.replace("count == 0", "count > 0") in zero
    # `is` with a literal number is a SyntaxWarning, `in 0` a TypeError: code never says so
    assert not {counted.replace("==", op) for op in ("is", "is not", "in", "not in")} & zero
    limit = {text for template, text in proposed if "count == 0" in text}
    assert counted.replace("count > limit", "count is limit") in limit
    assert counted.replace("count > limit", "count in limit") in limit
    assert len(limit) == len(set(limit)) == 9


def test_numbers_off_by_one_wherever_written() -> None:
    from bot.engines.mutations.operators import off_by_one

    source = "def last(xs, scale=(-1, 0.5)):\n    return xs[- 2] * 2.0, scale\n"
    found = edited(source, 2, off_by_one)
    assert source.replace("[- 2]", "[-1]") in found
    assert source.replace("[- 2]", "[-3]") in found
    assert source.replace("2.0,", "1.0,") in found
    assert source.replace("2.0,", "3.0,") in found
    # the defaults of a parameter the line reads, inside a tuple too
    assert source.replace("(-1, 0.5)", "(0, 0.5)") in found
    assert source.replace("(-1, 0.5)", "(-1, 1.5)") in found
    # never the digits of a negative number alone
    assert source.replace("[- 2]", "[- 3]") not in found


def test_not_written_for_a_sign_where_a_number_is_used() -> None:
    from bot.engines.mutations.unary import unary_operator

    source = "def tail(items, n):\n    return items[not 1], items[: not n]\n"
    found = edited(source, 2, unary_operator)
    assert source.replace("not 1", "-1") in found
    assert source.replace("not n", "-n") in found
    assert source.replace("not n", "~n") in found
    tested = "def f(a, b):\n    if not a and b:\n        return 1\n"
    assert edited(tested, 2, unary_operator) == []
    kept = "def fresh(xs, old):\n    return [x for x in xs if not old(x)]\n"
    assert edited(kept, 2, unary_operator) == []
    inverted = "def stagger(items, offsets=(~1, 0)):\n    return offsets\n"
    assert inverted.replace("~1", "-1") in edited(inverted, 1, unary_operator)


def test_a_not_added_to_or_removed_from_one_operand() -> None:
    from bot.engines.mutations.unary import negate_operand

    source = "def both(relative, absolute):\n    if relative and not absolute:\n        return 1\n"
    found = edited(source, 2, negate_operand)
    assert source.replace("if relative", "if not relative") in found
    assert source.replace("not absolute", "absolute") in found
    # the whole condition is negate_condition's
    assert (
        source.replace("if relative and not absolute", "if not (relative and not absolute)")
        not in found
    )
    added = (
        "def f(limit, size):\n    if not limit is not None and (size > limit):\n        return 1\n"
    )
    found = edited(added, 2, negate_operand)
    assert added.replace("not limit is not None", "limit is not None") in found
    assert added.replace("(size > limit)", "not (size > limit)") in found
    returned = "def differ(xs):\n    return any(xs)\n"
    assert edited(returned, 2, negate_operand) == [returned.replace("any(xs)", "not any(xs)")]


def test_break_and_continue_swapped() -> None:
    from bot.engines.mutations.statements import break_continue

    source = "def first(xs):\n    for x in xs:\n        if x:\n            break\n    return x\n"
    assert edited(source, 4, break_continue) == [source.replace("break", "continue")]
    back = source.replace("break", "continue")
    assert edited(back, 4, break_continue) == [source]
    assert edited(source, 5, break_continue) == []
    assert (
        PRIORS[FailureClass.LOGIC]["break-continue"]
        > PRIORS[FailureClass.LOGIC]["delete-statement"]
    )
