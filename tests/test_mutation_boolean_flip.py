"""Boolean flips: a flag literal in a call, a `getattr` default or a parameter default, and the
literal a value read on a suspicious line was set from elsewhere in the project."""

from __future__ import annotations

from bot.engines.mutations import PRIORS, Mutation, changes_a_literal, value_origins
from bot.engines.mutations.literals import boolean_flip, constant_replacement
from bot.engines.mutations.operators import off_by_one
from bot.models import FailureClass, Location
from tests.test_mutation_families import _site, edited
from tests.test_template_engine_order import DIALECTS, READER


def test_a_flag_in_a_keyword_argument_and_a_getattr_default_is_flipped() -> None:
    source = (
        "def load(meta, text):\n"
        "    many = getattr(meta, 'many', True)\n"
        "    return parse(text, strict=True, many=many)\n"
    )
    assert source.replace("'many', True", "'many', False") in edited(source, 2, boolean_flip)
    assert source.replace("strict=True", "strict=False") in edited(source, 3, boolean_flip)


def test_the_default_of_a_parameter_the_line_reads_is_flipped() -> None:
    source = "def render(rows, header=True):\n    if header:\n        rows = rows[1:]\n"
    assert edited(source, 2, boolean_flip) == [source.replace("header=True", "header=False")]
    # on the def line, every default of the function
    assert edited(source, 1, boolean_flip) == [source.replace("header=True", "header=False")]
    # a line that does not read the parameter leaves its default alone
    assert edited(source, 3, boolean_flip) == []


def test_flags_are_flipped_once_and_are_not_numbers() -> None:
    source = "def f(x):\n    return g(x, True)\n"
    assert source.replace("True", "False") in edited(source, 2, boolean_flip)
    assert [m for m in constant_replacement(*_site(source, 2)) if "True" in m.description] == []
    # `True + 1` is no bound
    assert all("True " not in text for text in edited(source, 2, off_by_one))


def test_constants_of_a_read_default_are_replaced_too() -> None:
    source = "def page(items, size=10):\n    return items[:size]\n"
    assert source.replace("size=10", "size=0") in edited(source, 2, constant_replacement)


def test_the_line_that_set_a_value_the_suspicious_line_reads_is_an_origin() -> None:
    sources = {"dialects.py": DIALECTS, "reader.py": READER}
    site = Location("reader.py", 7, "rows", 0.8, "spectrum")
    origins = value_origins(sources, [(site, 0.8)])
    assert [(o.file, o.line, o.reason) for o, _ in origins] == [("dialects.py", 5, "value-origin")]
    assert origins[0][1] < 0.8  # ranked below the line that reads it
    # `self.name = name` holds no literal; a line already among the sites is not added again
    assert value_origins(sources, [(site, 0.8), (origins[0][0], 0.5)]) == []


def test_only_literal_edits_are_made_where_a_value_is_set() -> None:
    text = "self.limit = compute(3) + base\n"
    three = text.index("3")
    base = text.index("base")
    assert changes_a_literal(text, Mutation(three, three + 1, "4", "off-by-one", "", ""))
    assert not changes_a_literal(text, Mutation(base, base + 4, "base + 1", "off-by-one", "", ""))
    assert not changes_a_literal(text, Mutation(base, base + 4, "other", "identifier", "", ""))
    named = 'self.many = getattr(meta, "many", False)\n'
    key = named.index('"many"')
    assert not changes_a_literal(named, Mutation(key, key + 6, "'fields'", "constant", "", ""))


def test_boolean_flips_have_priors_of_their_own() -> None:
    for failure_class in (FailureClass.LOGIC, FailureClass.RUNTIME_SAFETY, FailureClass.CONTRACT):
        assert "boolean-flip" in PRIORS[failure_class]
