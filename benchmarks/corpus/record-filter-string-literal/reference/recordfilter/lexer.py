"""Split a filter expression into tokens."""

from __future__ import annotations

from dataclasses import dataclass

OPERATORS = ("<=", ">=", "!=", "=", "<", ">")
KEYWORDS = ("and", "or", "not")


class FilterSyntaxError(ValueError):
    """The filter text cannot be read; the message gives the character position."""


@dataclass(frozen=True)
class Token:
    kind: str  # NAME, NUMBER, STRING, OP, KEYWORD
    text: str
    position: int


def tokenize(text: str) -> list[Token]:
    tokens = []
    pos = 0
    while pos < len(text):
        char = text[pos]
        if char.isspace():
            pos += 1
        elif char in "'\"":
            end = text.find(char, pos + 1)
            if end == -1:
                raise FilterSyntaxError(f"unterminated string at {pos}")
            tokens.append(Token("STRING", text[pos + 1 : end], pos))
            pos = end + 1
        elif char.isdigit():
            end = pos
            while end < len(text) and (text[end].isdigit() or text[end] == "."):
                end += 1
            tokens.append(Token("NUMBER", text[pos:end], pos))
            pos = end
        elif char.isalpha() or char == "_":
            end = pos
            while end < len(text) and (text[end].isalnum() or text[end] == "_"):
                end += 1
            word = text[pos:end]
            tokens.append(Token("KEYWORD" if word.lower() in KEYWORDS else "NAME", word, pos))
            pos = end
        else:
            operator = next((op for op in OPERATORS if text.startswith(op, pos)), None)
            if operator is None:
                raise FilterSyntaxError(f"unexpected {char!r} at {pos}")
            tokens.append(Token("OP", operator, pos))
            pos += len(operator)
    return tokens
