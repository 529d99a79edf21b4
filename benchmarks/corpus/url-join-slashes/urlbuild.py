"""Build REST API URLs from a base URL, path segments and query parameters."""

from __future__ import annotations

from urllib.parse import quote, urlencode


def join_url(base: str, *segments: object) -> str:
    """Append path segments to ``base`` with exactly one slash between parts.

    Segments are percent-encoded, so ``"a b"`` becomes ``"a%20b"``; empty ones are skipped.
    """
    if not base:
        raise ValueError("base URL is empty")
    url = base.lstrip("/")
    for segment in segments:
        text = str(segment).strip("/")
        if text:
            url += "/" + quote(text, safe="/")
    return url


def with_query(url: str, params: dict[str, object]) -> str:
    """Add query parameters, dropping ones whose value is None; keys keep their order."""
    kept = {key: value for key, value in params.items() if value is not None}
    if not kept:
        return url
    separator = "&" if "?" in url else "?"
    return url + separator + urlencode(kept, doseq=True)


def path_segments(path: str) -> list[str]:
    """``"/v1//users/42/"`` -> ``["v1", "users", "42"]``."""
    return [segment for segment in path.split("/") if segment]
