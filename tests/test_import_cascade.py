"""A bug in code that runs while the package is imported: the failed import at base leaves
half-imported modules behind in the screening worker, and a second import of the package
then fails in another way (a NameError on a submodule's name). Candidates are judged on a
fresh import, as a new process would, so the fix is found by the fast path."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from conftest import CliResult

FILES = {
    "pkg/__init__.py": "from .core import *\n\ncore._signatures.build()\n",
    "pkg/_signatures.py": (
        "SIGNATURES = {}\n\n\n"
        "def expand(sig):\n"
        "    if len(sig) == 3:\n"
        "        assert isinstance(sig[+1], tuple)\n"
        "    return sig[0]\n\n\n"
        "def build():\n"
        '    for name, sig in [("first", (1, "x", ())), ("pair", (2, "y", ("a",)))]:\n'
        "        SIGNATURES[name] = expand(sig)\n"
    ),
    "pkg/core.py": (
        "from . import _signatures\n\n\ndef arity(name):\n    return _signatures.SIGNATURES[name]\n"
    ),
    "tests/test_core.py": (
        'import pkg\n\n\ndef test_first():\n    assert pkg.core.arity("first") == 1\n'
    ),
    "tests/test_pair.py": (
        'from pkg.core import arity\n\n\ndef test_pair():\n    assert arity("pair") == 2\n'
    ),
}


def test_a_bug_that_breaks_the_package_import_is_fixed_on_a_fresh_import(
    make_repo: Callable[..., Path], run_cli: Callable[..., CliResult]
) -> None:
    repo = make_repo(FILES)
    result = run_cli("fix", ".", "--json", "--time-budget", "90", cwd=repo)
    found = result.json()
    assert found["status"] == "fixed", (found["reason"], result.stderr[-3000:])
    assert "+        assert isinstance(sig[-1], tuple)" in found["diff"]
    screening = found["extra"]["screening"]
    assert screening["fast"] > 0 and screening["fallbacks"] == {}, screening
