"""Settings from, in rising precedence: defaults, [tool.mendbot] in pyproject.toml,
.mendbot.toml, MENDBOT_* environment variables, and command-line flags."""

from __future__ import annotations

import dataclasses
import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

from bot.errors import ConfigError

ENGINES = ("auto", "templates", "llm")
VALIDATIONS = ("fast", "naive")


@dataclass(frozen=True)
class Settings:
    engine: str = "auto"
    max_rounds: int = 5
    time_budget: float = 300.0  # seconds for the whole run
    test_timeout: float = 30.0  # seconds one test may run before it counts as hanging
    pytest_args: tuple[str, ...] = ()  # selection arguments passed to pytest
    sandbox: str = "local"
    python: str | None = None  # interpreter that runs the tests (default: mendbot's own)
    plugin_autoload: bool = True  # let pytest load installed plugins (entry points)
    validation: str = "fast"  # how candidates are screened before the real run
    workers: int = 2  # candidates screened in parallel
    candidate_budget: int = 3000  # candidates per round at most
    protected: tuple[str, ...] = (".github/**",)  # globs a patch may never touch
    allow_test_edits: bool = False
    learned_priors: bool = True  # order templates also by what paid off in earlier runs here
    # LLM settings (used when a model is configured)
    model: str | None = None  # "ollama:qwen2.5-coder:7b", "openai:gpt-4o-mini"
    llm_url: str | None = None
    llm_timeout: float = 120.0
    llm_max_calls: int = 12
    llm_max_tokens: int = 60_000
    num_ctx: int = 8192
    samples: int = 4  # best-of-N
    # docker sandbox
    docker_image: str | None = None
    base_image: str = "python:3.12-slim"
    setup_command: str | None = None  # installs the test dependencies in a prepared image
    # trust
    flaky_reruns: int = 1  # re-runs of the failing tests before repairing (0: no check)
    final_runs: int = 1  # extra full runs the final patch must pass
    rank_pool: int = 4  # plausible candidates gathered and ranked per batch (1: the first)
    trace: bool = True
    keep_runs: int = 100  # run records kept under refs/mendbot/runs after each run (0: all)

    def replace(self, **changes: Any) -> Settings:
        return dataclasses.replace(self, **changes)


def _coerce(name: str, value: Any, default: Any) -> Any:
    field_type = {f.name: f.type for f in fields(Settings)}[name]
    try:
        if isinstance(default, bool) or field_type == "bool":
            if isinstance(value, str):
                lowered = value.strip().lower()
                if lowered in ("1", "true", "yes", "on"):
                    return True
                if lowered in ("0", "false", "no", "off"):
                    return False
                raise ValueError(value)
            return bool(value)
        if field_type == "int":
            if isinstance(value, bool):
                raise ValueError(value)
            return int(value)
        if field_type == "float":
            return float(value)
        if field_type.startswith("tuple"):
            if isinstance(value, str):
                return tuple(value.split())
            if not isinstance(value, list | tuple):
                raise ValueError(value)
            return tuple(str(item) for item in value)
        if value is None:
            return None
        if not isinstance(value, str):
            raise ValueError(value)
        return value
    except (TypeError, ValueError):
        raise ConfigError(
            f"setting {name!r} has a bad value: {value!r}",
            hint=f"expected {field_type}",
        ) from None


def _normalize(raw: Mapping[str, Any], source: str) -> dict[str, Any]:
    known = {f.name: f.default for f in fields(Settings)}
    result: dict[str, Any] = {}
    for key, value in raw.items():
        name = key.replace("-", "_")
        if name not in known:
            raise ConfigError(
                f"unknown setting {key!r} in {source}",
                hint="known settings: " + ", ".join(sorted(k.replace("_", "-") for k in known)),
            )
        result[name] = _coerce(name, value, known[name])
    return result


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as handle:
            return tomllib.load(handle)
    except tomllib.TOMLDecodeError as error:
        raise ConfigError(f"{path} is not valid TOML: {error}", hint="fix the file") from None


def file_settings(project_dir: Path) -> dict[str, Any]:
    merged: dict[str, Any] = {}
    pyproject = project_dir / "pyproject.toml"
    if pyproject.is_file():
        table = _read_toml(pyproject).get("tool", {}).get("mendbot", {})
        if not isinstance(table, dict):
            raise ConfigError(f"[tool.mendbot] in {pyproject} must be a table")
        merged.update(_normalize(table, f"{pyproject} [tool.mendbot]"))
    dotfile = project_dir / ".mendbot.toml"
    if dotfile.is_file():
        merged.update(_normalize(_read_toml(dotfile), str(dotfile)))
    return merged


def environment_settings(environ: Mapping[str, str]) -> dict[str, Any]:
    known = {f.name for f in fields(Settings)}
    raw = {
        key[len("MENDBOT_") :].lower(): value
        for key, value in environ.items()
        if key.startswith("MENDBOT_") and key[len("MENDBOT_") :].lower() in known
    }
    return _normalize(raw, "the environment")


def validate(settings: Settings) -> Settings:
    if settings.engine not in ENGINES:
        raise ConfigError(
            f"unknown engine {settings.engine!r}", hint="use one of: " + ", ".join(ENGINES)
        )
    if settings.validation not in VALIDATIONS:
        raise ConfigError(
            f"unknown validation {settings.validation!r}",
            hint="use one of: " + ", ".join(VALIDATIONS),
        )
    for name in ("max_rounds", "workers", "candidate_budget", "samples", "final_runs", "rank_pool"):
        if getattr(settings, name) < 1:
            raise ConfigError(f"{name.replace('_', '-')} must be at least 1")
    if settings.flaky_reruns < 0:
        raise ConfigError("flaky-reruns must be 0 or more")
    if settings.keep_runs < 0:
        raise ConfigError("keep-runs must be 0 or more", hint="0 keeps every run")
    for name in ("time_budget", "test_timeout", "llm_timeout"):
        if getattr(settings, name) <= 0:
            raise ConfigError(f"{name.replace('_', '-')} must be a positive number of seconds")
    return settings


def load_settings(
    project_dir: Path,
    flags: Mapping[str, Any] | None = None,
    environ: Mapping[str, str] | None = None,
) -> Settings:
    """Merge every source into one validated Settings; flags that are None are not given."""
    merged: dict[str, Any] = {}
    merged.update(file_settings(project_dir))
    merged.update(environment_settings(os.environ if environ is None else environ))
    if flags:
        merged.update(
            _normalize({k: v for k, v in flags.items() if v is not None}, "command-line flags")
        )
    return validate(Settings(**merged))
