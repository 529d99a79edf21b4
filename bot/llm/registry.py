"""Model specs (``ollama:qwen2.5-coder:7b``, ``openai:gpt-4o-mini``) to backends.

The provider is the part before the first colon; the rest is the model name as the server
knows it (Ollama tags keep their own colon). Keys come from the environment only, never from
settings files, so they never land in a repository, a trace or a report.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from urllib.parse import urlsplit

from bot.config import Settings
from bot.errors import ConfigError, LLMError
from bot.llm.base import LLMBackend
from bot.llm.ollama import OllamaBackend
from bot.llm.openai_compat import OpenAICompatBackend

OPENAI_URL = "https://api.openai.com/v1"
GITHUB_MODELS_URL = "https://models.github.ai/inference"
_GITHUB_HOSTS = ("models.github.ai", "models.inference.ai.azure.com")
_LOCAL_HOSTS = ("127.0.0.1", "localhost", "::1", "0.0.0.0", "host.docker.internal")

SPEC_EXAMPLES = "ollama:qwen2.5-coder:7b, openai:gpt-4o-mini, github:openai/gpt-4o-mini"


@dataclass(frozen=True)
class ModelSpec:
    provider: str  # "ollama" | "openai" | "github"
    model: str


def parse_model_spec(spec: str) -> ModelSpec:
    provider, separator, model = spec.strip().partition(":")
    provider = provider.lower()
    if not separator or not model.strip() or provider not in BACKENDS:
        raise ConfigError(
            f"model spec {spec!r} does not name a provider and a model",
            hint=f"write <provider>:<model>, for example {SPEC_EXAMPLES} "
            f"(providers: {', '.join(sorted(BACKENDS))})",
        )
    return ModelSpec(provider, model.strip())


def _is_github(url: str) -> bool:
    return (urlsplit(url).hostname or "") in _GITHUB_HOSTS


def _is_local(url: str) -> bool:
    host = urlsplit(url).hostname or ""
    return host in _LOCAL_HOSTS or host.endswith(".local")


def resolve_key(
    url: str, environ: Mapping[str, str], *, provider: str = ""
) -> tuple[str | None, str]:
    """The API key for ``url`` (or the ``github`` provider, whatever its URL) and the names of
    the variables it may come from."""
    names: tuple[str, ...]
    if provider == "github" or _is_github(url):
        names = ("MENDBOT_LLM_KEY", "GITHUB_TOKEN", "GH_TOKEN")
    else:
        names = ("MENDBOT_LLM_KEY", "OPENAI_API_KEY")
    for name in names:
        value = environ.get(name, "").strip()
        if value:
            return value, " or ".join(names)
    return None, " or ".join(names)


def _ollama(spec: ModelSpec, settings: Settings, environ: Mapping[str, str]) -> LLMBackend:
    return OllamaBackend(
        spec.model,
        host=settings.llm_url,
        timeout=settings.llm_timeout,
        num_ctx=settings.num_ctx,
        environ=environ,
    )


def _openai_compatible(
    spec: ModelSpec, settings: Settings, environ: Mapping[str, str], default_url: str
) -> LLMBackend:
    url = (settings.llm_url or environ.get("OPENAI_BASE_URL") or default_url).rstrip("/")
    key, key_source = resolve_key(url, environ, provider=spec.provider)
    if key is None:
        if not _is_local(url):
            raise ConfigError(
                f"no API key for {url}",
                hint=f"set {key_source} in the environment (never in a settings file)",
            )
        key = "not-needed"  # local servers (vLLM, llama.cpp, Ollama /v1) ignore the key
    if spec.provider == "github" or _is_github(url):
        key_source += " (in a workflow: its GITHUB_TOKEN, with `permissions: models: read`)"
    return OpenAICompatBackend(
        spec.model,
        base_url=url,
        api_key=key,
        timeout=settings.llm_timeout,
        context_window=settings.num_ctx,
        key_source=key_source,
    )


def _openai(spec: ModelSpec, settings: Settings, environ: Mapping[str, str]) -> LLMBackend:
    return _openai_compatible(spec, settings, environ, OPENAI_URL)


def _github(spec: ModelSpec, settings: Settings, environ: Mapping[str, str]) -> LLMBackend:
    return _openai_compatible(spec, settings, environ, GITHUB_MODELS_URL)


BACKENDS: dict[str, Callable[[ModelSpec, Settings, Mapping[str, str]], LLMBackend]] = {
    "ollama": _ollama,
    "openai": _openai,
    "github": _github,
}


def create_backend(
    settings: Settings, environ: Mapping[str, str] | None = None
) -> LLMBackend | None:
    """The backend ``settings.model`` names, not yet checked; None when no model is set."""
    if not settings.model:
        return None
    spec = parse_model_spec(settings.model)
    return BACKENDS[spec.provider](spec, settings, os.environ if environ is None else environ)


def make_backend(settings: Settings, environ: Mapping[str, str] | None = None) -> LLMBackend:
    """The backend ``settings.model`` names, not yet checked (call ``check()`` before use)."""
    backend = create_backend(settings, environ)
    if backend is None:
        raise ConfigError(
            "no model is configured",
            hint="pass --model ollama:qwen2.5-coder:7b (or openai:MODEL with --llm-url), "
            "or set model in [tool.mendbot]",
        )
    return backend


def connect_backend(
    settings: Settings, environ: Mapping[str, str] | None = None, *, required: bool
) -> tuple[LLMBackend | None, str]:
    """A checked backend, or None and the reason there is none.

    With ``required`` (``--engine llm``) a missing model is a ConfigError and an unusable
    server an LLMError; without it (``--engine auto``) both become the returned reason.
    """
    if not settings.model:
        reason = (
            "no LLM is configured; set --model (for example --model ollama:qwen2.5-coder:7b) "
            "or model in [tool.mendbot]"
        )
        if required:
            raise ConfigError("--engine llm needs a model", hint=reason)
        return None, reason
    try:
        backend = create_backend(settings, environ)
        assert backend is not None
        backend.check()
    except (LLMError, ConfigError) as error:
        if required:
            raise
        return None, f"the LLM is not used: {error}"
    return backend, ""
