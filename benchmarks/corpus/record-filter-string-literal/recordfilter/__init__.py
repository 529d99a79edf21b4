"""A small filter language for records: ``age >= 30 and city = 'Oslo'``."""

from recordfilter.lexer import FilterSyntaxError, Token, tokenize
from recordfilter.parser import compile_filter

__all__ = ["FilterSyntaxError", "Token", "compile_filter", "tokenize"]
