"""Writing and reading the simple settings files the command-line tool keeps."""

from __future__ import annotations


def format_setting(key: str, value: object) -> str:
    """One line of a settings file."""
    if not key or ":" in key:
        raise ValueError(f"invalid setting name {key!r}")
    return key + ": " + str(value)


def format_settings(settings: dict[str, object]) -> str:
    """All settings, sorted by name, one per line."""
    return "\n".join(format_setting(key, settings[key]) for key in sorted(settings))


def parse_settings(text: str) -> dict[str, str]:
    """The settings of a file written by ``format_settings``."""
    settings = {}
    for line in text.splitlines():
        if line.strip():
            key, _, value = line.partition(": ")
            settings[key] = value
    return settings
