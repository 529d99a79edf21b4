"""The unary-operator family: a sign or inversion swapped or dropped, and a minus added to a
number operand, each shown on a small function and compared whole after the edit."""

from __future__ import annotations

import ast

from bot.engines.mutations import LINE_TEMPLATES, PRIORS, Offsets, Site, statement_at
from bot.engines.mutations.unary import unary_negation, unary_operator
from bot.models import FailureClass
from tests.test_mutation_families import Template, edited


def test_a_plus_sign_on_an_index_becomes_a_minus() -> None:
    source = "def last(signal):\n    return signal[+1]\n"
    found = edited(source, 2, unary_operator)
    assert source.replace("signal[+1]", "signal[-1]") in found
    assert source.replace("signal[+1]", "signal[1]") in found


def test_a_minus_is_swapped_dropped_or_turned_into_an_inversion() -> None:
    source = "def debit(amount):\n    change = -amount\n    return change\n"
    found = edited(source, 2, unary_operator)
    assert source.replace("-amount", "+amount") in found
    assert source.replace("-amount", "amount") in found
    assert source.replace("-amount", "~amount") in found


def test_an_inversion_is_dropped_or_becomes_a_minus() -> None:
    source = "def mask(bits, flag):\n    return bits & ~flag\n"
    found = edited(source, 2, unary_operator)
    assert source.replace("~flag", "flag") in found
    assert source.replace("~flag", "-flag") in found


def test_dropping_a_minus_keeps_the_operand_whole() -> None:
    source = "def f(a, b):\n    return 2 * -(a + b)\n"
    assert source.replace("-(a + b)", "(a + b)") in edited(source, 2, unary_operator)


def test_floats_are_not_inverted() -> None:
    source = "def f(x):\n    return x * -0.5\n"
    found = edited(source, 2, unary_operator)
    assert source.replace("-0.5", "0.5") in found
    assert all("~" not in text for text in found)


def test_a_minus_is_added_to_an_index_an_operand_and_a_returned_number() -> None:
    source = "def tail(items, k):\n    return items[k:] + items[2] * k\n"
    found = edited(source, 2, unary_negation)
    assert source.replace("items[k:]", "items[-k:]") in found
    assert source.replace("items[2]", "items[-2]") in found
    assert source.replace("* k", "* -k") in found
    returned = "def step():\n    return 3\n"
    assert edited(returned, 2, unary_negation) == [returned.replace("3", "-3")]


def test_a_minus_is_added_to_the_default_of_a_parameter_the_line_reads() -> None:
    source = "def walk(items, step=1):\n    return items[::step]\n"
    found = edited(source, 2, unary_negation)
    assert source.replace("step=1", "step=-1") in found
    assert source.replace("[::step]", "[::-step]") in found
    # a parameter the line does not read keeps its default
    unread = "def walk(items, step=1):\n    return items[0]\n"
    assert all("step=-1" not in text for text in edited(unread, 2, unary_negation))


def test_no_minus_where_no_number_is_computed() -> None:
    source = "def greet(name):\n    print(name, 'hello')\n"
    assert edited(source, 2, unary_negation) == []
    power = "def square(x):\n    return x ** 2\n"
    # `-x ** 2` negates the power, not the base: the base is left alone
    assert power.replace("x ** 2", "-x ** 2") not in edited(power, 2, unary_negation)


def test_the_unary_templates_are_in_the_engine_with_priors_of_their_own() -> None:
    templates: list[Template] = [unary_operator, unary_negation]
    assert all(template in LINE_TEMPLATES for template in templates)
    for failure_class in (FailureClass.LOGIC, FailureClass.RUNTIME_SAFETY, FailureClass.CONTRACT):
        assert {"unary-operator", "unary-negation"} <= set(PRIORS[failure_class])
    # a swap of an existing sign is tried before a guessed new minus
    logic = PRIORS[FailureClass.LOGIC]
    assert logic["unary-operator"] > logic["unary-negation"]


def test_a_continued_line_is_not_mistaken_for_the_operator() -> None:
    source = "def f(a):\n    return (\n        -a\n    )\n"
    tree = ast.parse(source)
    statement, function = statement_at(tree, 2)
    assert statement is not None
    site = Site(source, tree, 2, statement, function, FailureClass.LOGIC, (), (), "")
    texts = [m.apply(source) for m in unary_operator(site, Offsets(source))]
    assert source.replace("-a", "+a") in texts
    assert source.replace("-a", "a") in texts
