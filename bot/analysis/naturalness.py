"""How ordinary a line of code looks: a token trigram model of Python, to order candidates.

Code people write is repetitive, and a line that is unusual for its project (`sig[+1]`,
`value | 1000`, `on_setattr < setters.NO_OP`, `not 1` as an argument) is more often wrong than
an ordinary one. A candidate that makes the suspicious line more ordinary is therefore more
likely to be the fix than one that makes it stranger, among candidates the templates and the
spectrum otherwise rank alike.

The model counts trigrams of abstracted tokens: keywords, builtins, operators and small
numbers are kept, other names become ``ID``, other numbers ``NUM`` and strings ``STR``; so it
learns the shape of code (`is not None`, `[-1]`, `x - 1`), not its vocabulary, and a few
thousand lines are enough to learn it. It is trained on the code under repair and on the
running interpreter's standard library (a base every machine has, counted once and kept in
mendbot's cache folder), and scores a line by the mean log-probability of its tokens with
stupid backoff to bigrams and unigrams.
"""

from __future__ import annotations

import bisect
import builtins
import contextlib
import functools
import hashlib
import io
import itertools
import json
import keyword
import math
import os
import sys
import sysconfig
import tokenize
from collections import Counter
from collections.abc import Iterable, Mapping
from pathlib import Path

_SKIPPED = {
    tokenize.NEWLINE,
    tokenize.NL,
    tokenize.COMMENT,
    tokenize.INDENT,
    tokenize.DEDENT,
    tokenize.ENCODING,
    tokenize.ENDMARKER,
}
_KEPT_NAMES = frozenset(keyword.kwlist) | frozenset(dir(builtins))
_KEPT_NUMBERS = frozenset({"0", "1", "2"})
_KIND = tokenize.tok_name
_START = "<s>"
_BACKOFF = 0.4  # stupid backoff's discount for each shorter context
MODEL_VERSION = 1
# the standard library's modules the base model reads (its top-level modules, in name order)
BASE_MODULES = 400


def tokens(text: str) -> list[tuple[str, int]]:
    """The abstracted tokens of ``text`` with their line numbers; a text that does not
    tokenize gives the tokens before the problem."""
    found: list[tuple[str, int]] = []
    with contextlib.suppress(tokenize.TokenError, IndentationError, SyntaxError):
        for token in tokenize.generate_tokens(io.StringIO(text).readline):
            if token.type in _SKIPPED:
                continue
            if token.type == tokenize.NAME:
                word = token.string if token.string in _KEPT_NAMES else "ID"
            elif token.type == tokenize.NUMBER:
                word = token.string if token.string in _KEPT_NUMBERS else "NUM"
            elif token.type == tokenize.STRING or _KIND.get(token.type) == "FSTRING_START":
                word = "STR"
            elif _KIND.get(token.type) in ("FSTRING_MIDDLE", "FSTRING_END"):
                continue  # the parts of an f-string (Python 3.12 on): one STR, its fields
            else:
                word = token.string
            found.append((word, token.start[0]))
    return found


class TokenModel:
    """Trigram counts of abstracted tokens."""

    def __init__(self) -> None:
        self.unigrams: Counter[str] = Counter()
        self.bigrams: Counter[tuple[str, str]] = Counter()
        self.trigrams: Counter[tuple[str, str, str]] = Counter()
        # the counts of each one- and two-token context, and of all tokens: made on the
        # first probability asked for, forgotten when the counts change
        self._totals: tuple[Counter[str], Counter[tuple[str, str]], int] | None = None

    def learn(self, texts: Iterable[str]) -> TokenModel:
        for text in texts:
            words = [_START, _START, *(word for word, _ in tokens(text))]
            self.unigrams.update(words[2:])
            self.bigrams.update(itertools.pairwise(words[1:]))
            self.trigrams.update(zip(words[:-2], words[1:-1], words[2:], strict=True))
        self._totals = None
        return self

    def add(self, other: TokenModel) -> TokenModel:
        self.unigrams.update(other.unigrams)
        self.bigrams.update(other.bigrams)
        self.trigrams.update(other.trigrams)
        self._totals = None
        return self

    def _contexts(self) -> tuple[Counter[str], Counter[tuple[str, str]], int]:
        if self._totals is None:
            first: Counter[str] = Counter()
            second: Counter[tuple[str, str]] = Counter()
            for (a, _), count in self.bigrams.items():
                first[a] += count
            for (a, b, _), count in self.trigrams.items():
                second[(a, b)] += count
            self._totals = (first, second, sum(self.unigrams.values()) + 1)
        return self._totals

    def log_probability(self, first: str, second: str, word: str) -> float:
        contexts1, contexts2, total = self._contexts()
        seen = self.trigrams.get((first, second, word), 0)
        if seen:
            return math.log(seen / contexts2[(first, second)])
        seen = self.bigrams.get((second, word), 0)
        if seen:
            return math.log(_BACKOFF * seen / contexts1[second])
        return math.log(_BACKOFF * _BACKOFF * (self.unigrams.get(word, 0) + 0.5) / total)

    def mean(self, trigrams: list[tuple[str, str, str]]) -> float:
        """The mean log-probability of the last token of each trigram; 0.0 for none."""
        values = [self.log_probability(*trigram) for trigram in trigrams]
        return sum(values) / len(values) if values else 0.0

    def to_json(self) -> dict[str, object]:
        return {
            "version": MODEL_VERSION,
            "unigrams": list(self.unigrams.items()),
            "bigrams": [[*key, count] for key, count in self.bigrams.items()],
            "trigrams": [[*key, count] for key, count in self.trigrams.items()],
        }

    @classmethod
    def from_json(cls, data: Mapping[str, object]) -> TokenModel:
        if data.get("version") != MODEL_VERSION:
            raise ValueError("another model version")
        model = cls()
        model.unigrams = Counter({str(w): int(c) for w, c in data["unigrams"]})  # type: ignore[attr-defined]
        model.bigrams = Counter({(str(a), str(b)): int(c) for a, b, c in data["bigrams"]})  # type: ignore[attr-defined]
        model.trigrams = Counter(
            {(str(a), str(b), str(w)): int(c) for a, b, w, c in data["trigrams"]}  # type: ignore[attr-defined]
        )
        return model


def _words_on(text: str, lines: Iterable[int]) -> list[tuple[str, str, str]]:
    """The tokens of ``text`` on ``lines``, each with the two tokens before it."""
    wanted = set(lines)
    words = [(_START, 0), (_START, 0), *tokens(text)]
    return [
        (words[i - 2][0], words[i - 1][0], words[i][0])
        for i in range(2, len(words))
        if words[i][1] in wanted
    ]


@functools.lru_cache(maxsize=256)
def _before_words(window: str, first: int, last: int) -> list[tuple[str, str, str]]:
    # the candidates at one statement share the window they change
    return _words_on(_unindented(window), range(first, last + 1))


def _cache_folder() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "mendbot" / "naturalness"


def _base_sources() -> list[Path]:
    stdlib = Path(sysconfig.get_paths()["stdlib"])
    return sorted(stdlib.glob("*.py"))[:BASE_MODULES]


_BASE: TokenModel | None = None


def base_model() -> TokenModel:
    """The model of the running interpreter's standard library: counted once per machine and
    Python version, then read from mendbot's cache folder (counted again when the cache
    cannot be read or written)."""
    global _BASE
    if _BASE is not None:
        return _BASE
    sources = _base_sources()
    key = hashlib.sha256(
        json.dumps([MODEL_VERSION, sys.version, [p.name for p in sources]]).encode()
    ).hexdigest()[:16]
    cached = _cache_folder() / f"stdlib-{key}.json"
    try:
        _BASE = TokenModel.from_json(json.loads(cached.read_text(encoding="utf-8")))
        return _BASE
    except Exception:  # a cache: missing, partial or from elsewhere, it is counted again
        pass
    texts: list[str] = []
    for path in sources:
        with contextlib.suppress(OSError):
            texts.append(path.read_text(encoding="utf-8", errors="replace"))
    _BASE = TokenModel().learn(texts)
    with contextlib.suppress(OSError):
        cached.parent.mkdir(parents=True, exist_ok=True)
        partial = cached.with_suffix(f".{os.getpid()}.tmp")
        partial.write_text(json.dumps(_BASE.to_json()), encoding="utf-8")
        partial.replace(cached)
    return _BASE


def project_model(sources: Mapping[str, str]) -> TokenModel:
    """The base model plus the code under repair."""
    return TokenModel().add(base_model()).learn(sources.values())


def line_starts(text: str) -> list[int]:
    """The offset of each line's first character, and the text's length last."""
    starts = [0]
    for line in text.splitlines(keepends=True):
        starts.append(starts[-1] + len(line))
    return starts


# how strongly a change in naturalness moves a candidate: its weight is multiplied by
# exp(NATURALNESS_WEIGHT * change), the change bounded to +-NATURALNESS_BOUND
NATURALNESS_WEIGHT = 0.5
NATURALNESS_BOUND = 2.0


def naturalness_factor(change: float) -> float:
    bounded = max(-NATURALNESS_BOUND, min(NATURALNESS_BOUND, change))
    return math.exp(NATURALNESS_WEIGHT * bounded)


def _unindented(text: str) -> str:
    # a window that starts indented, or dedents below its first line, still tokenizes
    return "".join(line.lstrip(" \t") for line in text.splitlines(keepends=True))


def change_in_naturalness(
    model: TokenModel,
    text: str,
    start: int,
    end: int,
    replacement: str,
    starts: list[int] | None = None,
) -> float:
    """How much more ordinary (positive) or stranger (negative) the lines of ``text[start:
    end]`` become when it is replaced by ``replacement``: the difference of the mean token
    log-probabilities of those lines, each token in the context of the two before it (the
    window starts two lines above). ``starts``: ``line_starts(text)``, when known."""
    starts = starts if starts is not None else line_starts(text)
    first = bisect.bisect_right(starts, start)  # 1-based line numbers
    last = max(first, bisect.bisect_right(starts, max(start, end - 1)))
    top = max(1, first - 2)
    window_start = starts[top - 1]
    window_end = starts[min(last, len(starts) - 1)]
    before = text[window_start:window_end]
    after = before[: start - window_start] + replacement + before[end - window_start :]
    grown = replacement.count("\n") - text.count("\n", start, end)
    span_after = range(first - top + 1, last - top + 2 + grown)
    old_words = _before_words(before, first - top + 1, last - top + 1)
    new_words = _words_on(_unindented(after), span_after)
    if abs(len(old_words) - len(new_words)) > 1:
        # a line that loses tokens looks more ordinary for being short: only substitutions
        # (an operator, a name, a number for another) and one token added or dropped (a
        # `not`, a unary minus) are judged
        return 0.0
    return model.mean(new_words) - model.mean(old_words)
