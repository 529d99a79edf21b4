"""Turn tokens into a predicate over dict records.

Grammar: ``expr := term ("or" term)*``, ``term := factor ("and" factor)*``,
``factor := "not" factor | NAME OP value``. Comparisons with a missing field are false.
"""

from __future__ import annotations

import operator
from collections.abc import Callable
from typing import Any

from recordfilter.lexer import FilterSyntaxError, Token, tokenize

Predicate = Callable[[dict[str, Any]], bool]
COMPARE = {"=": operator.eq, "!=": operator.ne, "<": operator.lt, "<=": operator.le,
           ">": operator.gt, ">=": operator.ge}


class _Parser:
    def __init__(self, tokens: list[Token]) -> None:
        self.tokens = tokens
        self.index = 0

    def _peek_keyword(self, word: str) -> bool:
        token = self.tokens[self.index] if self.index < len(self.tokens) else None
        return token is not None and token.kind == "KEYWORD" and token.text.lower() == word

    def _take(self, kind: str) -> Token:
        if self.index >= len(self.tokens) or self.tokens[self.index].kind != kind:
            raise FilterSyntaxError(f"expected {kind} at token {self.index}")
        self.index += 1
        return self.tokens[self.index - 1]

    def expression(self) -> Predicate:
        terms = [self.term()]
        while self._peek_keyword("or"):
            self.index += 1
            terms.append(self.term())
        return lambda record: any(term(record) for term in terms)

    def term(self) -> Predicate:
        factors = [self.factor()]
        while self._peek_keyword("and"):
            self.index += 1
            factors.append(self.factor())
        return lambda record: all(factor(record) for factor in factors)

    def factor(self) -> Predicate:
        if self._peek_keyword("not"):
            self.index += 1
            inner = self.factor()
            return lambda record: not inner(record)
        name = self._take("NAME").text
        compare = COMPARE[self._take("OP").text]
        token = self.tokens[self.index] if self.index < len(self.tokens) else None
        if token is None or token.kind not in ("NUMBER", "STRING"):
            raise FilterSyntaxError(f"expected a value after {name}")
        self.index += 1
        value: Any = float(token.text) if token.kind == "NUMBER" else token.text
        return lambda record: name in record and compare(record[name], value)


def compile_filter(text: str) -> Predicate:
    parser = _Parser(tokenize(text))
    predicate = parser.expression()
    if parser.index != len(parser.tokens):
        raise FilterSyntaxError(f"unexpected text after token {parser.index}")
    return predicate
