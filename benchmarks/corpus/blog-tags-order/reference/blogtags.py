"""Clean up the tags authors type into the blog editor.

Tags are stored as lowercase slugs (``"Machine Learning"`` -> ``"machine-learning"``).
The author's order matters: the first tag is shown as the post's main topic.
"""

from __future__ import annotations

import re

MAX_TAGS = 8
_SEPARATORS = re.compile(r"[\s_]+")
_INVALID = re.compile(r"[^a-z0-9-]")


def slugify(raw: str) -> str | None:
    """The slug for one typed tag, or None if nothing usable is left."""
    text = raw.strip().lstrip("#").lower()
    text = _SEPARATORS.sub("-", text)
    text = _INVALID.sub("", text)
    text = re.sub(r"-{2,}", "-", text).strip("-")
    return text or None


def normalize_tags(raw_tags: list[str]) -> list[str]:
    """Slugs of ``raw_tags`` without duplicates, in the order the author typed them.

    Raises ValueError when more than ``MAX_TAGS`` distinct tags remain.
    """
    seen: set[str] = set()
    result = []
    for raw in raw_tags:
        tag = slugify(raw)
        if tag is None or tag in seen:
            continue
        seen.add(tag)
        result.append(tag)
    if len(result) > MAX_TAGS:
        raise ValueError(f"at most {MAX_TAGS} tags, got {len(result)}")
    return result


def parse_tag_field(text: str) -> list[str]:
    """Tags from the comma-separated editor field."""
    return normalize_tags(text.split(","))
