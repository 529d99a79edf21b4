"""The one redaction of everything that leaves mendbot.

Whatever mendbot prints, stores or posts (console output, JSON, the trace, the run record
under ``refs/mendbot/runs``, the HTML report, pull request bodies, comments and the step
summary) passes through :func:`redact` or :func:`redact_value`. Two kinds of secret are
removed: the values of this environment's secret-named variables (a token given to mendbot),
and anything shaped like a credential wherever it came from (a test that printed a key file):
private key blocks, GitHub, OpenAI, Slack, AWS, Google and PyPI tokens, passwords in URLs and
in ``.netrc`` lines, docker ``auth`` entries and ``Authorization`` headers.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Mapping
from typing import Any

from rich.console import Console

MASK = "***"
# names whose values are masked in output (narrower than what the sandboxes keep out of the
# tests' environment: GIT_AUTHOR_NAME is no secret, but tests need not see it either)
SECRET_NAME = re.compile(
    r"(TOKEN|SECRET|PASSWORD|PASSWD|API_KEY|CREDENTIAL|PRIVATE_KEY|ACCESS_KEY)", re.I
)
SHORTEST_SECRET = 8

_PRIVATE_KEY = re.compile(
    r"-----BEGIN ([A-Z0-9 ]*)PRIVATE KEY( BLOCK)?-----"
    r"(?:.*?-----END [A-Z0-9 ]*PRIVATE KEY( BLOCK)?-----|[A-Za-z0-9+/=\s:,-]*)",
    re.S,
)
_TOKENS = re.compile(
    r"\b(?:gh[pousr]_[A-Za-z0-9]{20,}"  # GitHub tokens
    r"|github_pat_[A-Za-z0-9_]{20,}"
    r"|sk-[A-Za-z0-9_-]{16,}"  # OpenAI-style keys
    r"|xox[abprs]-[A-Za-z0-9-]{10,}"  # Slack
    r"|(?:AKIA|ASIA|AGPA|AIDA|AROA|ANPA|ANVA|AIPA)[A-Z0-9]{16}"  # AWS key ids
    r"|AIza[0-9A-Za-z_-]{35}"  # Google API keys
    r"|pypi-[A-Za-z0-9_-]{50,}"  # PyPI tokens
    r"|glpat-[A-Za-z0-9_-]{20,})"  # GitLab tokens
)
# name = value pairs whose name says what the value is
_NAMED = re.compile(
    r"(?i)\b((?:aws_secret_access_key|aws_session_token|secret_access_key)[\"']?\s*[:=]\s*[\"']?)"
    r"[^\s\"',]+"
)
_URL_CREDENTIALS = re.compile(r"\b([a-zA-Z][a-zA-Z0-9+.-]*://)[^\s/:@\"'<>]+:[^\s/@\"'<>]+@")
_AUTHORIZATION = re.compile(
    r"(?i)\b((?:proxy-)?authorization[\"']?\s*[:=]\s*[\"']?)"
    r"(?:(?:bearer|basic|token|digest)\s+)?[^\s\"',]+"
)
_NETRC_PASSWORD = re.compile(r"(?i)\b(machine\s+\S+.*?\bpassword\s+)\S+")
_DOCKER_AUTH = re.compile(r"(?i)(\"(?:auth|identitytoken|registrytoken)\"\s*:\s*\")[^\"]+")


def known_secrets(environ: Mapping[str, str] | None = None) -> list[str]:
    """The values of the secret-named variables of ``environ`` (by default this process's)."""
    env = os.environ if environ is None else environ
    return [
        value
        for name, value in env.items()
        if SECRET_NAME.search(name) and len(value) >= SHORTEST_SECRET
    ]


def redact(text: str, secrets: Iterable[str] = ()) -> str:
    """``text`` with every known secret value and every secret-shaped string masked."""
    for secret in sorted({s for s in secrets if s}, key=len, reverse=True):
        text = text.replace(secret, MASK)
    text = _PRIVATE_KEY.sub(f"-----{MASK} PRIVATE KEY-----", text)
    text = _TOKENS.sub(MASK, text)
    text = _NAMED.sub(rf"\g<1>{MASK}", text)
    text = _URL_CREDENTIALS.sub(rf"\g<1>{MASK}:{MASK}@", text)
    text = _AUTHORIZATION.sub(rf"\g<1>{MASK}", text)
    text = _NETRC_PASSWORD.sub(rf"\g<1>{MASK}", text)
    return _DOCKER_AUTH.sub(rf"\g<1>{MASK}", text)


def redact_value(value: Any, secrets: Iterable[str] = ()) -> Any:
    """``value`` (strings, and lists, tuples and dicts of them) with every string redacted."""
    known = list(secrets)
    if isinstance(value, str):
        return redact(value, known)
    if isinstance(value, Mapping):
        return {redact(str(key), known): redact_value(item, known) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [redact_value(item, known) for item in value]
    return value


class RedactingConsole(Console):
    """A rich console whose printed text is redacted first: mendbot's human output."""

    def print(self, *objects: Any, **options: Any) -> None:
        secrets = known_secrets()
        cleaned = [redact(item, secrets) if isinstance(item, str) else item for item in objects]
        super().print(*cleaned, **options)


def echo(text: str, *, err: bool = False, nl: bool = True) -> None:
    """``click.echo`` of ``text``, redacted."""
    import click

    click.echo(redact(text, known_secrets()), err=err, nl=nl)
