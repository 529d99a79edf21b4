"""The token model that orders candidates by how ordinary they leave a line."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bot.analysis import naturalness
from bot.analysis.naturalness import (
    TokenModel,
    base_model,
    change_in_naturalness,
    naturalness_factor,
    tokens,
)
from bot.models import FailureClass, Location
from tests.template_engine_helpers import failure, new_text, proposals

LIBRARY = (
    "def last(items):\n    return items[-1]\n\n"
    "def first_after(items, start):\n    if start is not None:\n        return items[start]\n"
    "    return items[0]\n\n"
    "def before_last(items):\n    return items[-2]\n"
)


def test_tokens_keep_the_shape_of_code_not_its_names() -> None:
    words = [word for word, _ in tokens("if total is not None:\n    x = f'{a}' + 'b' * 1000\n")]
    assert words[:6] == ["if", "ID", "is", "not", "None", ":"]
    assert "STR" in words and "NUM" in words
    assert "total" not in words and "1000" not in words
    # line numbers come with the tokens
    assert tokens("a = 1\nb = 2\n")[-1] == ("2", 2)


def test_a_line_made_ordinary_scores_above_one_made_strange() -> None:
    model = TokenModel().learn([LIBRARY])
    text = "def tail(sig):\n    return sig[+1]\n"
    plus = text.index("+")
    back = change_in_naturalness(model, text, plus, plus + 1, "-")
    assert back > 0  # `[-1]` is how this code base indexes from the end
    odd = change_in_naturalness(model, "def tail(sig):\n    return sig[-1]\n", plus, plus + 1, "~")
    assert odd < 0
    assert naturalness_factor(back) > 1 > naturalness_factor(odd)
    # the factor is bounded both ways
    assert naturalness_factor(1e9) == naturalness_factor(naturalness.NATURALNESS_BOUND)
    assert naturalness_factor(-1e9) == naturalness_factor(-naturalness.NATURALNESS_BOUND)


def test_a_window_that_starts_indented_or_dedents_still_scores() -> None:
    model = TokenModel().learn([LIBRARY])
    text = "class A:\n    def f(self):\n        if x:\n            y = 1\n    z = items[+1]\n"
    plus = text.index("+")
    assert change_in_naturalness(model, text, plus, plus + 1, "-") > 0
    # a replacement that adds a line
    assert isinstance(change_in_naturalness(model, text, plus, plus + 1, "-\n    "), float)


def test_the_base_model_is_counted_once_and_kept_in_the_cache(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    monkeypatch.setattr(naturalness, "_BASE", None)
    monkeypatch.setattr(naturalness, "BASE_MODULES", 5)
    counted = base_model()
    kept = list((tmp_path / "mendbot" / "naturalness").glob("stdlib-*.json"))
    assert len(kept) == 1 and counted.trigrams
    monkeypatch.setattr(naturalness, "_BASE", None)
    assert base_model().trigrams == counted.trigrams
    # a broken cache file is counted again, not trusted
    for broken in (json.dumps({"version": -1}), "[1, 2]", "{", json.dumps({"version": 1})):
        kept[0].write_text(broken)
        monkeypatch.setattr(naturalness, "_BASE", None)
        assert base_model().trigrams == counted.trigrams


def test_among_equal_candidates_the_engine_tries_the_ordinary_one_first(tmp_path: Path) -> None:
    # `sig[+2]`, `sig[+0]`, `sig[-1]`: each one token from `sig[+1]`, with priors alike; the
    # project's own code says which one is ordinary
    sources = {"pkg/util.py": LIBRARY, "pkg/sig.py": "def tail(sig):\n    return sig[+1]\n"}
    location = Location("pkg/sig.py", 2, "tail", 1.0, "traceback")
    failures = [failure(FailureClass.LOGIC, "AssertionError")]
    found = proposals(sources, [location], failures, tmp_path)
    assert "return sig[-1]\n" in new_text(found[0]), [c.description for c in found[:5]]
