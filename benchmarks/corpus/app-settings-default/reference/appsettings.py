"""Application settings read from ``key = value`` files, with typed accessors."""

from __future__ import annotations

from typing import Any

TRUE_WORDS = frozenset({"1", "true", "yes", "on"})
FALSE_WORDS = frozenset({"0", "false", "no", "off"})


class SettingsError(ValueError):
    """A settings file line or value cannot be understood."""


class Settings:
    def __init__(self, values: dict[str, str]) -> None:
        self._values = dict(values)

    @classmethod
    def from_text(cls, text: str) -> Settings:
        """Parse ``key = value`` lines; ``#`` starts a comment line, blank lines are ignored."""
        values = {}
        for number, raw in enumerate(text.splitlines(), start=1):
            line = raw.strip()
            if not line or line.startswith("#"):
                continue
            key, sep, value = line.partition("=")
            if not sep or not key.strip():
                raise SettingsError(f"line {number}: expected 'key = value', got {raw!r}")
            values[key.strip().lower()] = value.strip()
        return cls(values)

    def get(self, key: str, default: Any = None) -> Any:
        """The raw string for ``key``, or ``default`` when the key is not set."""
        return self._values.get(key.lower(), default)

    def get_int(self, key: str, default: int) -> int:
        raw = self.get(key)
        if raw is None:
            return default
        try:
            return int(raw)
        except ValueError:
            raise SettingsError(f"{key} must be a whole number, got {raw!r}") from None

    def get_bool(self, key: str, default: bool) -> bool:
        raw = self.get(key)
        if raw is None:
            return default
        if raw.lower() in TRUE_WORDS:
            return True
        if raw.lower() in FALSE_WORDS:
            return False
        raise SettingsError(f"{key} must be yes or no, got {raw!r}")

    def section(self, prefix: str) -> dict[str, str]:
        """Settings under ``prefix.``, with the prefix removed."""
        start = prefix.lower() + "."
        return {k[len(start) :]: v for k, v in self._values.items() if k.startswith(start)}
