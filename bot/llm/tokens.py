"""Token estimates for prompt budgeting.

No tokenizer is bundled for every model a user may point mendbot at, so the estimate is a
heuristic that errs on the high side: BPE tokenizers used by code models spend roughly one
token per short word, one per punctuation mark, and about one per four characters of a long
identifier. Overestimating wastes a little context; underestimating lets Ollama cut the start
of the prompt without saying so, which is far worse.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence

from bot.llm.base import Message

_PIECES = re.compile(r"[A-Za-z]+|\d+|\s+|[^\sA-Za-z\d]")
MESSAGE_OVERHEAD = 6  # role markers and separators a chat template adds per message


def estimate_tokens(text: str) -> int:
    """An upper-leaning estimate of the number of tokens in ``text``."""
    if not text:
        return 0
    count = 0
    for piece in _PIECES.findall(text):
        if piece[0].isspace():
            # runs of spaces are usually merged into one token; newlines often are their own
            count += piece.count("\n") + (1 if len(piece) > piece.count("\n") else 0)
        elif piece[0].isalpha():
            count += max(1, math.ceil(len(piece) / 4))
        elif piece[0].isdigit():
            count += max(1, math.ceil(len(piece) / 3))
        else:
            count += 1
    # never estimate below the plain chars/3.5 rule of thumb
    return max(count, math.ceil(len(text) / 3.5))


def estimate_messages(messages: Sequence[Message]) -> int:
    return sum(estimate_tokens(m.content) + MESSAGE_OVERHEAD for m in messages) + 3
