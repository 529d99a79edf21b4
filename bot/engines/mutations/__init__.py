"""Fix templates: small, deterministic source edits at a suspicious line.

Each template looks at the statement on a line and proposes ``Mutation`` values: a span of the
original text and its replacement. Edits are made on the text, not by re-printing the tree, so
a patch changes only the characters it must and the diff stays minimal.

The families follow what template- and mutation-based program repair found to pay off on real
bugs, and what real Python fixes look like, one module each: operators and boundaries
(``operators``), names and attributes (``names``), conditions and guards (``conditions``),
statements (``statements``), calls (``calls``), exceptions and contracts (``contracts``),
literals (``literals``), syntax and imports (``syntax``), operands, clamps and accumulators
(``operands``), expressions and conditions built from the names in scope (``scope``),
statements built from the surrounding code (``scope_statements``), containers and slices
(``containers``), unary operators (``unary``), names from the module's imports and constants
from the project's modules (``project_names``). ``origins`` finds where a value a suspicious
line reads was set, ``recursion`` the base cases of a recursive function. The tree queries
they share are in ``tree``; the order they are tried in is in ``priors``.
"""

from __future__ import annotations

from collections.abc import Iterator

from bot.engines.mutations.calls import (
    call_arguments,
    dict_get,
    sibling_method,
    swap_arguments,
    wrap_unwrap,
)
from bot.engines.mutations.conditions import (
    boolean_operator,
    copied_guard,
    empty_guard,
    negate_condition,
    none_guard,
    widen_narrow,
)
from bot.engines.mutations.containers import iterate_slice, wrap_in_container
from bot.engines.mutations.contracts import exception_contract, expected_from_tests
from bot.engines.mutations.literals import (
    asserted_literal,
    boolean_flip,
    constant_replacement,
    literal_magnitude,
)
from bot.engines.mutations.names import attribute_replacement, identifier_replacement, outer_names
from bot.engines.mutations.operands import clamps, operands
from bot.engines.mutations.operators import (
    binary_operator,
    compare_operator,
    comparison_shift,
    computed_off_by_one,
    identity_equality,
    off_by_one,
)
from bot.engines.mutations.origins import changes_a_literal, value_origins
from bot.engines.mutations.priors import PRIORS, prior
from bot.engines.mutations.project_names import imported_name, project_constant
from bot.engines.mutations.recursion import BASE_CASE_TEMPLATES, base_case_lines
from bot.engines.mutations.scope import held_expression, scope_clause, scope_condition
from bot.engines.mutations.scope_statements import carried_assignment, missing_return, sibling_call
from bot.engines.mutations.statements import (
    break_continue,
    delete_statement,
    insert_statement,
    return_value,
)
from bot.engines.mutations.syntax import import_repairs, syntax_repairs
from bot.engines.mutations.tree import (
    Mutation,
    Offsets,
    Site,
    dump,
    module_constants,
    source_segment,
    statement_at,
    walk,
)
from bot.engines.mutations.unary import negate_operand, unary_negation, unary_operator

__all__ = [
    "BASE_CASE_TEMPLATES",
    "LINE_TEMPLATES",
    "PRIORS",
    "Mutation",
    "Offsets",
    "Site",
    "base_case_lines",
    "changes_a_literal",
    "dump",
    "expected_from_tests",
    "import_repairs",
    "insert_statement",
    "module_constants",
    "mutations_at",
    "prior",
    "source_segment",
    "statement_at",
    "syntax_repairs",
    "value_origins",
    "walk",
]

LINE_TEMPLATES = (
    compare_operator,
    comparison_shift,
    computed_off_by_one,
    identity_equality,
    binary_operator,
    boolean_operator,
    negate_condition,
    widen_narrow,
    off_by_one,
    boolean_flip,
    constant_replacement,
    literal_magnitude,
    identifier_replacement,
    attribute_replacement,
    swap_arguments,
    wrap_unwrap,
    return_value,
    dict_get,
    none_guard,
    empty_guard,
    exception_contract,
    insert_statement,
    copied_guard,
    delete_statement,
    # among candidates of equal weight and size, the order of this tuple decides
    operands,
    clamps,
    scope_condition,
    held_expression,
    scope_clause,
    carried_assignment,
    sibling_call,
    missing_return,
    wrap_in_container,
    iterate_slice,
    outer_names,
    asserted_literal,
    sibling_method,
    call_arguments,
    unary_operator,
    unary_negation,
    negate_operand,
    break_continue,
    imported_name,
    project_constant,
)


def mutations_at(site: Site) -> Iterator[Mutation]:
    offsets = Offsets(site.text)
    for template in LINE_TEMPLATES:
        yield from template(site, offsets)
