"""Version constraints for the plugin manager: ``>=1.2, <2.0``, ``==1.4.1``, ``^1.2``."""

from __future__ import annotations

import operator
import re

Version = tuple[int, int, int]
VERSION = re.compile(r"^(\d+)(?:\.(\d+))?(?:\.(\d+))?$")
CLAUSE = re.compile(r"^(>=|<=|==|!=|>|<|\^|~)?\s*(\S+)$")
COMPARE = {">=": operator.ge, "<=": operator.le, "==": operator.eq, "!=": operator.ne,
           ">": operator.gt, "<": operator.lt}


def parse_version(text: str) -> Version:
    """``"1.2"`` -> ``(1, 2, 0)``; missing parts count as zero."""
    match = VERSION.match(text.strip())
    if match is None:
        raise ValueError(f"not a version: {text!r}")
    major, minor, patch = (int(part) if part else 0 for part in match.groups())
    return major, minor, patch


def _upper_bound(symbol: str, target: Version) -> Version:
    """The first version excluded by a caret or tilde clause."""
    major, minor, patch = target
    if symbol == "~" or (major == 0 and minor > 0):
        return (major, minor + 1, 0)
    if major == 0 and minor == 0:
        return (0, 0, patch + 1)
    return (major + 1, 0, 0)


def satisfies(version: str, spec: str) -> bool:
    """Whether ``version`` meets every comma-separated clause of ``spec``.

    A bare version means ``==``. ``^1.2.3`` allows changes that keep the left-most
    non-zero part (``>=1.2.3, <2.0.0``; ``^0.3.1`` is ``>=0.3.1, <0.4.0``), and ``~1.2.3``
    allows patch changes only (``>=1.2.3, <1.3.0``).
    """
    current = parse_version(version)
    for clause in spec.split(","):
        match = CLAUSE.match(clause.strip())
        if match is None:
            raise ValueError(f"not a version constraint: {clause!r}")
        symbol, target_text = match.groups()
        symbol = symbol or "=="
        target = parse_version(target_text)
        if symbol in ("^", "~"):
            if not target <= current < _upper_bound(symbol, target):
                return False
        elif not COMPARE[symbol](current, target):
            return False
    return True


def newest_matching(versions: list[str], spec: str) -> str | None:
    candidates = [v for v in versions if satisfies(v, spec)]
    return max(candidates, key=parse_version, default=None)
