"""Parse web server access logs in the common log format and summarize traffic."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass

LINE = re.compile(
    r'(?P<host>\S+) \S+ (?P<user>\S+) \[(?P<time>[^\]]+)\] '
    r'"(?P<method>[A-Z]+) (?P<path>\S+)[^"]*" (?P<status>\d{3}) (?P<size>\d+|-)'
)


@dataclass(frozen=True)
class Request:
    host: str
    method: str
    path: str
    status: int
    size: int


def parse_line(line: str) -> Request | None:
    """One request, or None when the line is not in the common log format."""
    match = LINE.match(line)
    size = match.group("size")
    return Request(
        host=match.group("host"),
        method=match.group("method"),
        path=match.group("path").split("?", 1)[0],
        status=int(match.group("status")),
        size=0 if size == "-" else int(size),
    )


def parse_log(lines: Iterable[str]) -> list[Request]:
    """Every well-formed request; garbage lines (truncated writes, banners) are skipped."""
    requests = []
    for line in lines:
        request = parse_line(line)
        if request is not None:
            requests.append(request)
    return requests


def status_counts(requests: Iterable[Request]) -> dict[str, int]:
    """Requests per status class: ``{"2xx": 10, "4xx": 2}``."""
    counts = Counter(f"{request.status // 100}xx" for request in requests)
    return dict(sorted(counts.items()))


def top_paths(requests: Iterable[Request], count: int = 3) -> list[tuple[str, int]]:
    counts = Counter(request.path for request in requests)
    return sorted(counts.items(), key=lambda item: (-item[1], item[0]))[:count]
