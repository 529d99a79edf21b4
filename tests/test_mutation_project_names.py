"""Names from the module's imports and constants from the project's modules, each shown on a
small module and compared whole after the edit."""

from __future__ import annotations

import ast

from bot.engines.mutations import LINE_TEMPLATES, PRIORS
from bot.engines.mutations.project_names import imported_name, project_constant
from bot.engines.mutations.tree import module_constants
from bot.models import FailureClass
from tests.test_mutation_families import Template
from tests.test_mutation_families import edited as edited_anywhere

SETTINGS = "DEFAULT_TIMEOUT = 30\nMAX_RETRIES = 5\nUSER_AGENT = 'fetcher/1.0'\nDEBUG = False\n"
PROJECT = tuple(("settings", name, value) for name, value in module_constants(ast.parse(SETTINGS)))


def edited(source: str, line: int, template: Template) -> list[str]:
    return edited_anywhere(source, line, template, project_constants=PROJECT)


def test_module_constants_are_upper_case_literal_numbers_and_strings() -> None:
    assert module_constants(ast.parse(SETTINGS)) == [
        ("DEFAULT_TIMEOUT", 30),
        ("MAX_RETRIES", 5),
        ("USER_AGENT", "fetcher/1.0"),
    ]
    assert module_constants(ast.parse("limit = 3\nNAMES = ['a']\nX = f()\n")) == []


def test_a_name_is_replaced_by_its_sibling_from_the_same_import() -> None:
    source = (
        "from urllib.parse import quote, unquote\n"
        "from os.path import join\n"
        "\n"
        "def decode(path):\n"
        "    return quote(path)\n"
    )
    assert edited(source, 5, imported_name) == [source.replace("quote(path)", "unquote(path)")]


def test_names_of_typing_are_not_swapped() -> None:
    source = "from typing import Any, Dict\n\ndef f(x):\n    y: Any = x\n    return y\n"
    assert edited(source, 4, imported_name) == []


def test_a_literal_becomes_a_constant_imported_by_name() -> None:
    source = (
        "from settings import DEFAULT_TIMEOUT, MAX_RETRIES\n"
        "\n"
        "def fetch(url):\n"
        "    return get(url, timeout=10, retries=MAX_RETRIES)\n"
    )
    found = edited(source, 4, project_constant)
    assert source.replace("timeout=10", "timeout=DEFAULT_TIMEOUT") in found
    assert source.replace("timeout=10", "timeout=MAX_RETRIES") in found
    # a constant the module does not import is not used
    assert all("USER_AGENT" not in text for text in found)


def test_a_literal_becomes_a_constant_of_an_imported_module() -> None:
    source = (
        "from project import settings\n"
        "\n"
        "def fetch(url, agent='curl'):\n"
        "    return get(url, timeout=10, agent=agent)\n"
    )
    found = edited(source, 4, project_constant)
    assert source.replace("timeout=10", "timeout=settings.DEFAULT_TIMEOUT") in found
    # strings are replaced by strings only, here in the default of a parameter the line reads
    assert source.replace("agent='curl'", "agent=settings.USER_AGENT") in found
    assert source.replace("timeout=10", "timeout=settings.USER_AGENT") not in found
    aliased = "import pkg.settings as conf\n\ndef f():\n    return 30 + 1\n"
    assert aliased.replace("30 + 1", "conf.MAX_RETRIES + 1") in edited(aliased, 4, project_constant)


def test_constants_of_the_module_itself_and_equal_values() -> None:
    source = "LIMIT = 100\nSTEP = 30\n\ndef clamp(n):\n    return min(n, 50) + 30\n"
    found = edited(source, 5, project_constant)
    assert source.replace("min(n, 50)", "min(n, LIMIT)") in found
    # a constant equal to the literal changes nothing
    assert source.replace("+ 30", "+ STEP") not in found
    # the definition of a constant is left alone
    assert edited(source, 1, project_constant) == []


def test_the_templates_are_in_the_engine_with_priors_of_their_own() -> None:
    assert imported_name in LINE_TEMPLATES and project_constant in LINE_TEMPLATES
    for failure_class in (FailureClass.LOGIC, FailureClass.RUNTIME_SAFETY, FailureClass.CONTRACT):
        assert {"imported-name", "project-constant"} <= set(PRIORS[failure_class])
