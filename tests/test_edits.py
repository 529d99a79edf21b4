"""Applying model edits: path guards, SEARCH/REPLACE fallbacks, function replacement, the
``# FILE:`` reply protocol, and every way a reply is refused."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.edits import (
    EditRejected,
    apply_search_replace,
    check_path,
    replace_file,
    replace_functions,
)
from bot.engines.replies import EditScope, apply_reply, parse_reply

STATS = '''"""Small statistics."""
import math


def mean(xs):
    return sum(xs) / len(xs)


class Summary:
    def __init__(self, xs):
        self.xs = list(xs)

    @property
    def size(self):
        return len(self.xs)

    def median(self):
        xs = sorted(self.xs)
        n = len(xs)
        return xs[n // 2]


def spread(xs):
    return max(xs) - min(xs)
'''

MEDIAN_FIXED_BLOCK = """\
<<<<<<< SEARCH
        return xs[n // 2]
=======
        if n % 2 == 0:
            return (xs[n // 2 - 1] + xs[n // 2]) / 2
        return xs[n // 2]
>>>>>>> REPLACE
"""


def scope(tmp_path: Path, **changes: object) -> EditScope:
    values: dict[str, object] = {
        "project_dir": tmp_path,
        "sources": {"stats/core.py": STATS, "stats/io.py": "def load(path):\n    return []\n"},
        "default_path": "stats/core.py",
        "test_sources": {"tests/test_core.py": "def test_x():\n    assert 1 == 1\n"},
    }
    values.update(changes)
    return EditScope(**values)  # type: ignore[arg-type]


def median_of(text: str, xs: list[int]) -> float:
    namespace: dict[str, object] = {}
    exec(compile(text, "core.py", "exec"), namespace)
    return namespace["Summary"](xs).median()  # type: ignore[operator, no-any-return]


# -- path guards ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("../outside.py", "leaves the project"),
        ("pkg/../../outside.py", "leaves the project"),
        ("/etc/passwd", "absolute path"),
        ("C:/Windows/x.py", "absolute path"),
        (".github/workflows/ci.yml", "under .github/"),
        ("sub/.github/x.py", "under .github/"),
        (".git/hooks/pre-commit", "git's own data"),
        ("tests/test_core.py", "is a test file"),
        ("pkg/conftest.py", "is a test file"),
        ("pkg/core_test.py", "is a test file"),
        ("setup.py", "protected (setting protected = 'setup.py')"),
        ("vendor/lib/x.py", "protected (setting protected = 'vendor/**')"),
        ("pkg\\core.py", "characters"),
        ("", "not a usable path"),
    ],
)
def test_check_path_refuses_with_a_reason(tmp_path: Path, path: str, expected: str) -> None:
    reason = check_path(path, tmp_path, (".github/**", "setup.py", "vendor/**"), allow_tests=False)
    assert reason is not None and expected in reason


def test_check_path_allows_code_and_tests_when_allowed(tmp_path: Path) -> None:
    assert check_path("stats/core.py", tmp_path) is None
    assert check_path("tests/test_core.py", tmp_path, allow_tests=True) is None


def test_check_path_follows_symbolic_links(tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    project = tmp_path / "project"
    project.mkdir()
    (project / "link").symlink_to(outside, target_is_directory=True)
    reason = check_path("link/x.py", project)
    assert reason is not None and "symbolic link" in reason


# -- SEARCH/REPLACE ---------------------------------------------------------------------------


def test_exact_search_replace() -> None:
    new, strategy = apply_search_replace(
        STATS, "        return xs[n // 2]", "        return xs[(n - 1) // 2]"
    )
    assert strategy == "exact"
    assert "return xs[(n - 1) // 2]" in new and new.endswith("\n")
    assert new.replace("return xs[(n - 1) // 2]", "return xs[n // 2]") == STATS


def test_whitespace_tolerant_match_reindents_the_replacement() -> None:
    search = "xs = sorted(self.xs)\nn = len(xs)\nreturn xs[n // 2]"
    replace = (
        "xs = sorted(self.xs)\nn = len(xs)\nif n % 2 == 0:\n"
        "    return (xs[n // 2 - 1] + xs[n // 2]) / 2\nreturn xs[n // 2]"
    )
    new, strategy = apply_search_replace(STATS, search, replace)
    assert strategy == "whitespace"
    assert median_of(new, [1, 2, 3, 4]) == 2.5
    assert median_of(new, [3, 1, 2]) == 2


def test_fuzzy_match_tolerates_a_small_slip() -> None:
    search = (
        "    def median(self):\n        xs = sorted(self.xs)\n"
        "        n = len(xs)  \n        return xs[n//2]"
    )
    replace = (
        "    def median(self):\n        xs = sorted(self.xs)\n        n = len(xs)\n"
        "        return (xs[(n - 1) // 2] + xs[n // 2]) / 2"
    )
    new, strategy = apply_search_replace(STATS, search, replace)
    assert strategy == "fuzzy"
    assert median_of(new, [1, 2, 3, 4]) == 2.5


def test_ambiguous_matches_are_refused() -> None:
    text = "def a(x):\n    return x + 1\n\n\ndef b(x):\n    return x + 1\n"
    with pytest.raises(EditRejected, match="matches 2 places"):
        apply_search_replace(text, "    return x + 1", "    return x + 2")
    with pytest.raises(EditRejected, match="ignoring whitespace it matches 2"):
        apply_search_replace(text, "return  x + 1", "return x + 2")
    fuzzy = (
        "def a(x):\n    value = x + 1\n    return value\n\n\n"
        "def b(x):\n    value = x + 1\n    return value\n"
    )
    with pytest.raises(EditRejected, match="ambiguous"):
        apply_search_replace(fuzzy, "value = x+1\nreturn  valu", "return x")


def test_search_that_is_not_there_is_refused() -> None:
    with pytest.raises(EditRejected, match="not found"):
        apply_search_replace(STATS, "    return statistics.fmean(values)", "x")
    with pytest.raises(EditRejected, match="empty SEARCH"):
        apply_search_replace(STATS, "\n\n", "x")


@settings(max_examples=60, deadline=None)
@given(
    st.lists(st.from_regex(r"[a-z_ =+()0-9]{0,20}", fullmatch=True), min_size=1, max_size=12),
    st.data(),
)
def test_exact_block_round_trips(lines: list[str], data: st.DataObject) -> None:
    text = "\n".join(lines) + "\n"
    start = data.draw(st.integers(0, len(lines) - 1))
    end = data.draw(st.integers(start + 1, len(lines)))
    chunk = lines[start:end]
    if not "".join(chunk).strip():
        return
    try:
        new, _ = apply_search_replace(text, "\n".join(chunk), "\n".join(chunk))
    except EditRejected as error:
        assert "ambiguous" in error.reason  # the only refusal an existing chunk may get
        return
    assert new == text


# -- functions and files ----------------------------------------------------------------------


def test_function_replacement_keeps_decorators_and_indentation() -> None:
    reply = "def size(self):\n    return len(self.xs) or 0\n"
    new, changed = replace_functions(STATS, reply)
    assert changed == ["Summary.size"]
    assert "    @property\n    def size(self):\n        return len(self.xs) or 0\n" in new


def test_function_replacement_checks_the_signature() -> None:
    reply = "def spread(xs, default=0):\n    return max(xs) - min(xs) if xs else default\n"
    with pytest.raises(EditRejected, match="changes the signature of spread"):
        replace_functions(STATS, reply)
    new, changed = replace_functions(STATS, reply, allow_signature_change=True)
    assert changed == ["spread"] and "def spread(xs, default=0):" in new


def test_a_reply_echoing_the_whole_file_changes_only_what_differs() -> None:
    echoed = STATS.replace("return xs[n // 2]", "return (xs[(n - 1) // 2] + xs[n // 2]) / 2")
    echoed = echoed.replace("return max(xs) - min(xs)", "return max(xs) - min(xs)  # same")
    new, changed = replace_functions(STATS, echoed)
    assert changed == ["Summary.median"]
    assert "# same" not in new  # an unchanged function keeps its original text


def test_new_imports_are_added_and_new_functions_need_the_file_level() -> None:
    reply = "import statistics\n\n\ndef spread(xs):\n    return statistics.pstdev(xs)\n"
    new, changed = replace_functions(STATS, reply)
    assert changed == ["spread", "import statistics"]
    assert new.index("import statistics") < new.index("def mean")
    helper = "def _helper(xs):\n    return xs\n\n\ndef spread(xs):\n    return _helper(xs)\n"
    with pytest.raises(EditRejected, match="adds new function"):
        replace_functions(STATS, helper)


def test_function_replacement_in_a_file_that_does_not_parse() -> None:
    broken = (
        "def ok():\n    return 1\n\n\ndef broken(x):\n    return (x +\n\n\n"
        "def after():\n    return 2\n"
    )
    new, changed = replace_functions(broken, "def broken(x):\n    return x + 1\n", path="m.py")
    assert changed == ["broken"]
    ast.parse(new)
    assert "def after():" in new and "def ok():" in new


def test_whole_file_must_keep_every_top_level_name() -> None:
    with pytest.raises(EditRejected, match="drops Summary, spread"):
        replace_file(STATS, '"""x"""\nimport math\n\n\ndef mean(xs):\n    return 0\n')
    with pytest.raises(EditRejected, match="syntax error"):
        replace_file(STATS, "def mean(:\n")


# -- the reply protocol -----------------------------------------------------------------------


def test_search_replace_reply_with_a_file_header(tmp_path: Path) -> None:
    reply = f"The median ignores even lengths.\n\n# FILE: stats/core.py\n{MEDIAN_FIXED_BLOCK}"
    applied = apply_reply(reply, scope(tmp_path), max_chars=50_000)
    assert list(applied.files) == ["stats/core.py"]
    assert median_of(applied.files["stats/core.py"], [1, 2, 3, 4]) == 2.5
    assert applied.how == ("stats/core.py: search/replace (exact)",)


@pytest.mark.parametrize(
    "reply",
    [
        # the header inside the fence, the markers inside it too
        f"```python\n# FILE: stats/core.py\n{MEDIAN_FIXED_BLOCK}```\n",
        # fences inside the SEARCH and REPLACE parts
        MEDIAN_FIXED_BLOCK.replace("<<<<<<< SEARCH\n", "<<<<<<< SEARCH\n```python\n")
        .replace("=======\n", "```\n=======\n```python\n")
        .replace(">>>>>>> REPLACE", "```\n>>>>>>> REPLACE"),
        # a bare path line before the block instead of the header
        f"stats/core.py\n{MEDIAN_FIXED_BLOCK}",
        # no header at all: the file the prompt was about
        MEDIAN_FIXED_BLOCK,
    ],
)
def test_odd_but_readable_replies_are_accepted(tmp_path: Path, reply: str) -> None:
    applied = apply_reply(reply, scope(tmp_path), max_chars=50_000)
    assert median_of(applied.files["stats/core.py"], [4, 1, 3, 2]) == 2.5


def test_function_reply_with_an_unclosed_fence(tmp_path: Path) -> None:
    reply = (
        "Here:\n# FILE: stats/core.py\n```python\n    def median(self):\n"
        "        xs = sorted(self.xs)\n        mid = len(xs) // 2\n"
        "        return xs[mid] if len(xs) % 2 else (xs[mid - 1] + xs[mid]) / 2\n"
    )
    applied = apply_reply(reply, scope(tmp_path, level="function"), max_chars=50_000)
    assert median_of(applied.files["stats/core.py"], [1, 2, 3, 4]) == 2.5


def test_multi_file_reply(tmp_path: Path) -> None:
    reply = (
        "# FILE: stats/core.py\n```python\ndef spread(xs):\n"
        "    return max(xs) - min(xs) if xs else 0\n```\n\n"
        "# FILE: stats/io.py\n```python\ndef load(path):\n    return [1]\n```\n"
    )
    applied = apply_reply(reply, scope(tmp_path, level="function"), max_chars=50_000)
    assert sorted(applied.files) == ["stats/core.py", "stats/io.py"]


def test_file_level_accepts_a_whole_new_file(tmp_path: Path) -> None:
    new_file = STATS.replace("return xs[n // 2]", "return (xs[(n - 1) // 2] + xs[n // 2]) / 2")
    reply = f"# FILE: stats/core.py\n```python\n{new_file}```\n"
    applied = apply_reply(reply, scope(tmp_path, level="file"), max_chars=50_000)
    assert applied.files["stats/core.py"] == new_file
    assert applied.how == ("stats/core.py: whole file",)


def test_header_inside_a_fence_with_two_files(tmp_path: Path) -> None:
    reply = (
        "```python\n# FILE: stats/io.py\ndef load(path):\n    return [2]\n"
        "# FILE: stats/core.py\ndef mean(xs):\n    return sum(xs) / max(len(xs), 1)\n```\n"
    )
    sections = parse_reply(reply, max_chars=10_000)
    assert [s.path for s in sections] == ["stats/io.py", "stats/core.py"]
    applied = apply_reply(reply, scope(tmp_path, level="function"), max_chars=50_000)
    assert "max(len(xs), 1)" in applied.files["stats/core.py"]
    assert "return [2]" in applied.files["stats/io.py"]


@pytest.mark.parametrize(
    ("reply", "reason"),
    [
        ("The bug is in median: it ignores even lengths. Average the middle two.", "prose only"),
        ("", "empty"),
        ("x" * 60_000, "too large"),
        ("```python\ndef median(self):\n    return (xs[\n```", "syntax error"),
        ("```def median(self): return 1```", "prose only"),
        (
            "<<<<<<< SEARCH\n    return statistics.fmean(values)\n"
            "=======\n    return 0\n>>>>>>> REPLACE",
            "not found",
        ),
        (
            "<<<<<<< SEARCH\n        return xs[n // 2]\n=======\n        return xs[0]\n",
            "not closed",
        ),
        (
            "# FILE: ../../etc/cron.py\n```python\ndef mean(xs):\n    return 0\n```",
            "leaves the project",
        ),
        ("# FILE: /tmp/evil.py\n```python\ndef mean(xs):\n    return 0\n```", "absolute path"),
        (
            "# FILE: tests/test_core.py\n```python\ndef test_x():\n    assert True\n```",
            "is a test file",
        ),
        ("# FILE: .github/workflows/x.py\n```python\ndef mean(xs):\n    return 0\n```", ".github/"),
        (
            "# FILE: stats/new.py\n```python\ndef mean(xs):\n    return 0\n```",
            "not one of the files under repair",
        ),
        (
            "# FILE: README.md\n```python\ndef mean(xs):\n    return 0\n```",
            "not a Python source file",
        ),
        (
            "```python\ndef mean(xs):\n    # just a comment\n    return sum(xs) / len(xs)\n```",
            "differently",
        ),
        (
            "<<<<<<< SEARCH\ndef spread(xs):\n"
            "=======\ndef spread(xs):  # widest gap\n>>>>>>> REPLACE",
            "changes no code",
        ),
        ("```python\ndef unrelated():\n    return 1\n```", "adds new function"),
        ("```python\nprint('hello')\n```", "redefines no function"),
    ],
)
def test_unusable_replies_are_refused_with_a_reason(
    tmp_path: Path, reply: str, reason: str
) -> None:
    with pytest.raises(EditRejected) as caught:
        apply_reply(reply, scope(tmp_path, level="function"), max_chars=50_000)
    assert reason in caught.value.reason


def test_test_edits_pass_when_the_mode_allows_them(tmp_path: Path) -> None:
    reply = "# FILE: tests/test_core.py\n```python\ndef test_x():\n    assert 2 == 2\n```"
    allowed = scope(tmp_path, level="function", allow_tests=True)
    assert "2 == 2" in apply_reply(reply, allowed, max_chars=50_000).files["tests/test_core.py"]


def test_protected_globs_apply_to_replies(tmp_path: Path) -> None:
    reply = "# FILE: stats/io.py\n```python\ndef load(path):\n    return [1]\n```"
    guarded = scope(tmp_path, level="function", protected=("stats/io.py",))
    with pytest.raises(EditRejected, match="protected"):
        apply_reply(reply, guarded, max_chars=50_000)
