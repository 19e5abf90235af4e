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
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError

from agentwrite.decoding import ROLE_DEFAULTS, Decoding, Role
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

    temperature: float | None = Field(
        None, ge=0, le=2, description="Sampling temperature of every role (unset: each role's default)."
    )
    top_p: float | None = Field(
        None, gt=0, le=1, description="Nucleus sampling mass of every role (unset: each role's default)."
    )
    decoding: dict[Role, Decoding] = Field(
        default_factory=dict,
        description="Decoding per role (planner, sketcher, writer, continuation, judge), over the "
        "role defaults and temperature/top_p; on the command line --decoding ROLE.FIELD=VALUE.",
    )
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
    prior_text: PriorText = Field(
        "full",
        description="What a sequential section sees of the text before it: full (all of it, as the "
        "window allows; consecutive prompts share their prefix, for the server's cache) or digest "
        "(headings and opening sentences of earlier sections, the latest one whole).",
    )
    loop_guard: bool = Field(
        True,
        description="Watch sections as they stream; stop, cut and continue a section that loops, "
        "echoes the prompt or turns to gibberish.",
    )
    max_loop_cuts: int = Field(
        3, ge=0, le=10, description="Loops cut in one section before it is ended at the last cut."
    )
    loop_penalty_step: float = Field(
        0.03,
        ge=0,
        le=0.5,
        description="Raise of the continuation's repetition penalty after each loop cut in a section.",
    )

    def decoding_for(self, role: Role) -> Decoding:
        """The resolved decoding of ``role``: its defaults < temperature/top_p < decoding[role].

        >>> writer = Settings(temperature=0.3, decoding={"writer": {"top_p": 0.8}}).decoding_for("writer")
        >>> writer.model_dump(exclude_none=True)
        {'temperature': 0.3, 'top_p': 0.8, 'repetition_penalty': 1.1}
        """
        run_wide = Decoding(temperature=self.temperature, top_p=self.top_p)
        own = self.decoding.get(role, Decoding())
        return own.over(run_wide.over(ROLE_DEFAULTS[role]))


PriorText = Literal["digest", "full"]

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
    layers = [
        _read_config(config) if config is not None else {},
        _from_env(os.environ if env is None else env),
        {k: v for k, v in (overrides or {}).items() if v is not None},
    ]
    for layer in layers:
        decoding = merge_decoding(merged.get("decoding"), layer.get("decoding"))
        merged.update(layer)
        if decoding is not None:
            merged["decoding"] = decoding
    try:
        settings = Settings(**merged)
    except ValidationError as exc:
        raise InputError(_one_line(exc)) from None
    if settings.min_section_words > settings.max_section_words:
        raise InputError("min_section_words must not exceed max_section_words")
    return settings


def merge_decoding(lower: Any, upper: Any) -> Any:
    """Per-role decoding merged field by field, so that a flag for ``writer.temperature`` keeps
    the config file's ``writer.min_p`` (anything but mappings is left for validation to refuse).

    >>> merge_decoding({"writer": {"min_p": 0.05}}, {"writer": {"temperature": 0.9}})
    {'writer': {'min_p': 0.05, 'temperature': 0.9}}
    """
    if not isinstance(lower, dict) or not isinstance(upper, dict):
        return upper if upper is not None else lower
    out = {role: dict(fields) if isinstance(fields, dict) else fields for role, fields in lower.items()}
    for role, fields in upper.items():
        below = out.get(role)
        out[role] = {**below, **fields} if isinstance(below, dict) and isinstance(fields, dict) else fields
    return out


def _one_line(exc: ValidationError) -> str:
    first = exc.errors()[0]
    where = ".".join(str(p) for p in first["loc"]) or "settings"
    return f"invalid setting {where}: {first['msg']}" + (
        f" (and {exc.error_count() - 1} more)" if exc.error_count() > 1 else ""
    )
