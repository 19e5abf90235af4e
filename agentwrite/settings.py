"""Run settings: defaults in one place, then a config file, the environment and flags.

Precedence, lowest first: the defaults below < a config file (YAML or TOML, ``--config``)
< environment variables (``AGENTWRITE_<FIELD>``; the API key also from ``OPENAI_API_KEY``)
< explicit arguments (command-line flags or keyword arguments of ``agentwrite.write``).

>>> load_settings(env={"AGENTWRITE_MODEL": "smol"}, overrides={"temperature": 0.2}).model
'smol'
"""

from __future__ import annotations

import json
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError

from agentwrite.domain import WriteMode
from agentwrite.errors import InputError
from agentwrite.length import MAX_TARGET_WORDS


class Settings(BaseModel):
    """Everything a run can be told. Each field's description is its help text."""

    model_config = ConfigDict(extra="forbid", validate_assignment=True)

    base_url: str | None = Field(
        None,
        description="OpenAI-compatible API root, e.g. http://127.0.0.1:8000/v1. "
        "Unset: the bundled model runs in process.",
    )
    model: str | None = Field(
        None, description="Model name as the server knows it (default: the server's first model)."
    )
    api_key: SecretStr | None = Field(
        None, description="API key sent as a bearer token; never written anywhere."
    )
    timeout: float = Field(
        600.0,
        gt=0,
        description="Seconds to wait for a response: for the next chunk of a streamed one, "
        "for the whole answer when stream is off.",
    )
    stream: bool = Field(
        True, description="Stream completions, so that long answers on slow engines do not time out."
    )
    connect_timeout: float = Field(10.0, gt=0, description="Seconds to wait for a connection.")
    max_retries: int = Field(
        4, ge=0, le=20, description="Retries of a failed request (connection errors, timeouts, 429, 5xx)."
    )
    retry_base_delay: float = Field(
        1.0, ge=0, description="First backoff delay in seconds; it doubles with each retry, with jitter."
    )
    retry_max_delay: float = Field(30.0, ge=0, description="Longest backoff delay in seconds.")
    max_inflight: int = Field(64, ge=1, description="Most requests in flight at once from this process.")

    temperature: float = Field(0.7, ge=0, le=2, description="Sampling temperature.")
    top_p: float = Field(0.95, gt=0, le=1, description="Nucleus sampling mass.")
    seed: int | None = Field(None, description="Sampling seed, for servers that honour it.")
    min_tokens: bool = Field(
        True,
        description="Send vLLM's min_tokens so that short sections are not cut early "
        "(turn off for servers that reject unknown parameters).",
    )
    tokens_per_word: float = Field(1.6, gt=0, description="Token allowance per word when sizing max_tokens.")

    mode: WriteMode = Field(
        "sequential",
        description="sequential: each section sees the text before it; "
        "parallel: all sections at once from the plan; sketch: short sketches in order, then all at once.",
    )
    max_words: int = Field(MAX_TARGET_WORDS, ge=1, description="Ceiling on a word target.")
    min_section_words: int = Field(200, ge=1, description="Smallest section budget after normalisation.")
    max_section_words: int = Field(1000, ge=1, description="Largest section budget after normalisation.")
    plan_attempts: int = Field(
        3, ge=1, le=10, description="Planner attempts, each feeding back the last error."
    )
    structured_output: bool = Field(True, description="Ask the server for JSON that matches the plan schema.")
    max_continuations: int = Field(
        3,
        ge=0,
        le=10,
        description="Follow-up requests for a section that stopped "
        "on the token limit or came back well short.",
    )
    short_section_ratio: float = Field(
        0.6, gt=0, le=1, description="A section below this share of its budget is continued."
    )
    max_context: int | None = Field(
        None, ge=512, description="Context window in tokens (default: what the server reports)."
    )
    prior_text_chars: int | None = Field(
        None, ge=0, description="Cap on the characters of earlier text in a section prompt."
    )


ENV_PREFIX = "AGENTWRITE_"


def _read_config(path: Path) -> dict[str, Any]:
    try:
        text = path.read_text("utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"cannot read config file {path}: {exc}") from exc
    try:
        data = tomllib.loads(text) if path.suffix == ".toml" else yaml.safe_load(text)
    except (tomllib.TOMLDecodeError, yaml.YAMLError) as exc:
        kind = "TOML" if path.suffix == ".toml" else "YAML"
        raise InputError(f"config file {path} is not valid {kind}: {str(exc).splitlines()[0]}") from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise InputError(f"config file {path} must hold a mapping of settings")
    return {k.replace("-", "_"): v for k, v in data.items()}


def _from_env(env: Mapping[str, str]) -> dict[str, Any]:
    values: dict[str, Any] = {}
    if env.get("OPENAI_API_KEY"):
        values["api_key"] = env["OPENAI_API_KEY"]
    for name in Settings.model_fields:
        raw = env.get(ENV_PREFIX + name.upper())
        if raw is None or raw == "":
            continue
        try:
            values[name] = json.loads(raw) if name not in ("base_url", "model", "api_key", "mode") else raw
        except json.JSONDecodeError:
            values[name] = raw
    return values


def load_settings(
    config: Path | None = None,
    env: Mapping[str, str] | None = None,
    overrides: Mapping[str, Any] | None = None,
) -> Settings:
    """Merge defaults < config file < environment < overrides (None values are skipped)."""
    import os

    merged: dict[str, Any] = {}
    if config is not None:
        merged.update(_read_config(config))
    merged.update(_from_env(os.environ if env is None else env))
    merged.update({k: v for k, v in (overrides or {}).items() if v is not None})
    try:
        settings = Settings(**merged)
    except ValidationError as exc:
        raise InputError(_one_line(exc)) from None
    if settings.min_section_words > settings.max_section_words:
        raise InputError("min_section_words must not exceed max_section_words")
    return settings


def _one_line(exc: ValidationError) -> str:
    first = exc.errors()[0]
    where = ".".join(str(p) for p in first["loc"]) or "settings"
    return f"invalid setting {where}: {first['msg']}" + (
        f" (and {exc.error_count() - 1} more)" if exc.error_count() > 1 else ""
    )
