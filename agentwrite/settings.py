"""Run settings: defaults in one place, then a config file, the environment and flags.

``pydantic-settings`` layers them, lowest first: the defaults below < a config file (YAML or
TOML, ``--config``; or a build recipe's ``settings:``) < environment variables
(``AGENTWRITE_<FIELD>``, JSON for ``decoding``; the API key and URL also from ``OPENAI_API_KEY``
and ``OPENAI_BASE_URL``) <
explicit arguments (command-line flags or keyword arguments). Mappings merge key by key, so a
flag for ``writer.temperature`` keeps the config file's ``writer.min_p``.

>>> load_settings(overrides={"model": "smol", "temperature": 0.2}).model
'smol'
"""

from __future__ import annotations

import json
import re
import urllib.parse
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import AliasChoices, Field, SecretStr, ValidationError, field_validator, model_validator
from pydantic_settings import (
    BaseSettings,
    EnvSettingsSource,
    InitSettingsSource,
    NoDecode,
    SettingsConfigDict,
    SettingsError,
)

from agentwrite.credentials import check_api_key, public_url
from agentwrite.domain import MAX_SECTIONS, WriteMode
from agentwrite.errors import InputError
from agentwrite.files import read_text_file
from agentwrite.length import MAX_TARGET_WORDS
from agentwrite.llm.decoding import ROLE_DEFAULTS, Decoding, Role

ENV_PREFIX = "AGENTWRITE_"
PriorText = Literal["digest", "full"]


class Settings(BaseSettings):
    """Everything a run can be told. Each field's description is its help text. Made
    directly (``Settings(model=...)``), the environment still applies below the arguments."""

    model_config = SettingsConfigDict(
        env_prefix=ENV_PREFIX, env_ignore_empty=True, extra="forbid", validate_assignment=True,
        validate_by_name=True,
    )  # fmt: skip

    base_url: Annotated[list[str], NoDecode] = Field(
        default_factory=list,
        validation_alias=AliasChoices("AGENTWRITE_BASE_URL", "OPENAI_BASE_URL"),
        description="OpenAI-compatible API roots, e.g. http://127.0.0.1:8000/v1; several spread the "
        "requests (config file: base_urls or base_url; environment: comma-separated). "
        "Unset: the bundled model runs in process.",
    )
    model: str | None = Field(
        None, description="Model name as the server knows it (default: the server's first model)."
    )
    allowed_base_urls: Annotated[list[str], NoDecode] = Field(
        default_factory=list,
        description="LangGraph server only (agentwrite/graph/app.py): the base URLs a run's context may "
        "choose besides the server's own base_url (environment: comma-separated). None by default: "
        "runs use the server's.",
    )
    api_key: SecretStr | None = Field(
        None,
        validation_alias=AliasChoices("AGENTWRITE_API_KEY", "OPENAI_API_KEY"),
        description="API key sent as a bearer token; never written anywhere.",
    )
    timeout: float = Field(
        600.0,
        gt=0,
        description="Seconds to wait for a response: for the next chunk of a streamed one, "
        "for the whole answer when stream is off.",
    )
    seconds_per_token: float = Field(
        1.0,
        gt=0,
        description="The most seconds a completion may take for each token it asks for, on top of "
        "timeout: a server that keeps sending without finishing is cut off then (a long section on a "
        "CPU server may rightly stream for minutes).",
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
    checks: bool = Field(
        True,
        description="Check each section as it is written: remove lines of talk about the writing, score "
        "on-topic, language, repetition and gibberish, and ask again for a section that fails "
        "(max_candidates, check_budget).",
    )
    talk_model: bool = Field(
        False,
        description="The checks also remove a sentence that the learned talk model (agentwrite/writing/"
        "talk_model.py) finds to be talk where no pattern did; off by default: it calls some clean "
        "writing talk (eval/README.md).",
    )
    plan_checks: bool = Field(
        False,
        description="Check the model's plan against the brief (on its subject, no talk about the writing, "
        "in the brief's language) and ask again naming what failed; off by default: no better on the brief "
        "suite's plans (eval/README.md).",
    )
    topic_scorer: Literal["lexical", "minilm"] = Field(
        "lexical",
        description="The checks' on-topic scorer: lexical (no model, the same figures whatever is installed) "
        "or minilm (all-MiniLM-L6-v2 embeddings, the eval extra).",
    )
    max_candidates: int = Field(
        3,
        ge=1,
        le=10,
        description="Most answers asked for a section while it fails a check (1: ask once).",
    )
    check_budget: float = Field(
        0.3,
        ge=0,
        le=5,
        description="Extra tokens the checks' re-asks may spend in a document, as a share of its tokens "
        "without them (0.3: at most 1.3 times).",
    )
    min_reasks: int = Field(
        1,
        ge=0,
        le=10,
        description="Re-asks a document may make whatever check_budget allows: a document of one to "
        "three sections has no room for one at 0.3 (1: a short one may spend one section's tokens more).",
    )
    min_on_topic: float = Field(
        0.5,
        ge=0,
        le=1,
        description="A section less close than this to its brief and point (0 to 1) is off topic.",
    )
    revise: bool = Field(
        False,
        description="After all sections are written, rewrite the weakest (failing a check, or scoring "
        "below revise_below) with their neighbours in view, keeping a rewrite only if it scores "
        "better (revise_sections, revise_budget; needs checks).",
    )
    revise_sections: int = Field(
        3, ge=0, le=MAX_SECTIONS, description="Most sections the revise pass rewrites in a document."
    )
    revise_below: float = Field(
        0.5,
        ge=0,
        le=1,
        description="A section scoring below this (the checks' combined score) is revised even when it "
        "fails no check.",
    )
    revise_budget: float = Field(
        0.6,
        ge=0,
        le=5,
        description="Extra tokens the checks' re-asks and the revise pass together may spend in a "
        "document, as a share of its tokens without them (0.6: at most 1.6 times).",
    )

    @model_validator(mode="after")
    def _revise_needs_checks(self) -> Settings:
        if self.revise and not self.checks:
            raise ValueError("revise needs the section checks (checks on): it rewrites by their scores")
        return self

    @field_validator("base_url", "allowed_base_urls", mode="before")
    @classmethod
    def _url_list(cls, value: Any) -> Any:
        """One URL, a comma-separated list, a JSON list or a list; each must be http(s) with a
        host and a port in range; a text that lists no URL is refused (unset, the model runs
        in process)."""
        if value is None:
            return []
        if isinstance(value, str):
            text = value.strip()
            value = json.loads(text) if text.startswith("[") else [u for u in text.split(",") if u.strip()]
            if not value:  # ',,,' or '[]': a list given, but empty
                raise ValueError("lists no server URL; leave it unset instead")
        if isinstance(value, list | tuple):
            urls = [u.strip().rstrip("/") if isinstance(u, str) else u for u in value]
            for url in urls:
                if isinstance(url, str):
                    _check_url(url)
            return list(dict.fromkeys(urls))
        return value

    def decoding_for(self, role: Role) -> Decoding:
        """The resolved decoding of ``role``: its defaults < temperature/top_p < decoding[role].

        >>> writer = Settings(temperature=0.3, decoding={"writer": {"top_p": 0.8}}).decoding_for("writer")
        >>> writer.model_dump(exclude_none=True)
        {'temperature': 0.3, 'top_p': 0.8, 'repetition_penalty': 1.1}
        """
        run_wide = Decoding(temperature=self.temperature, top_p=self.top_p)
        own = self.decoding.get(role, Decoding())
        return own.over(run_wide.over(ROLE_DEFAULTS[role]))

    @classmethod
    def settings_customise_sources(cls, settings_cls, init_settings, env_settings, **_: Any):  # type: ignore[no-untyped-def,override]
        """Arguments over the environment; no dotenv or secrets files."""
        return init_settings, env_settings


def _check_url(url: str) -> None:
    """ValueError, naming the URL without its password, when ``url`` is no usable http(s) URL.

    >>> _check_url("http://127.0.0.1:99999/v1")
    Traceback (most recent call last):
    ...
    ValueError: 'http://127.0.0.1:99999/v1' has a port out of range (1 to 65535)
    """
    shown = public_url(url)
    if not re.fullmatch(r"https?://[^/\s]+(/\S*)?", url):
        raise ValueError(f"{shown!r} is not an http(s) URL such as http://127.0.0.1:8000/v1")
    parts = urllib.parse.urlsplit(url)
    try:
        port = parts.port
    except ValueError:
        port = 0
    if port is not None and not 1 <= port <= 65535:
        raise ValueError(f"{shown!r} has a port out of range (1 to 65535)")
    if not parts.hostname:
        raise ValueError(f"{shown!r} names no host")


_FIELD_OF_ALIAS = {
    alias: name
    for name, field in Settings.model_fields.items()
    if isinstance(field.validation_alias, AliasChoices)
    for alias in field.validation_alias.choices
}


def _read_config(path: Path) -> dict[str, Any]:
    import tomllib  # here: most commands read no config file

    import yaml

    text = read_text_file(path, "config file")
    try:
        data = tomllib.loads(text) if path.suffix == ".toml" else yaml.safe_load(text)
    except (tomllib.TOMLDecodeError, yaml.YAMLError) as exc:
        kind = "TOML" if path.suffix == ".toml" else "YAML"
        raise InputError(f"config file {path} is not valid {kind}: {str(exc).splitlines()[0]}") from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise InputError(f"config file {path} must hold a mapping of settings")
    return data


def load_settings(
    config: Path | Mapping[str, Any] | None = None, overrides: Mapping[str, Any] | None = None
) -> Settings:
    """Defaults < ``config`` (a YAML/TOML file, or its mapping) < environment < ``overrides``
    (None values are skipped). A bad value anywhere is an ``InputError`` naming the setting."""
    data = _read_config(config) if isinstance(config, Path) else dict(config or {})
    given = {k: v for k, v in (overrides or {}).items() if v is not None}
    layers = [_dashes_to_underscores(given), _dashes_to_underscores(data)]
    sources = (
        InitSettingsSource(Settings, init_kwargs=layers[0]),
        EnvSettingsSource(Settings),
        InitSettingsSource(Settings, init_kwargs=layers[1]),
    )
    try:
        settings = Settings(_build_sources=(sources, layers[0]))
    except ValidationError as exc:
        raise InputError(_one_line(exc)) from None
    except SettingsError as exc:  # a variable that does not parse (JSON for a mapping or a list)
        field = re.search(r'field "(\w+)"', str(exc))
        name = field.group(1) if field else "settings"
        raise InputError(f"invalid setting {name}: its environment variable is not valid JSON") from None
    if settings.min_section_words > settings.max_section_words:
        raise InputError("min_section_words must not exceed max_section_words")
    if settings.api_key is not None:
        check_api_key(settings.api_key.get_secret_value())
    return settings


def _dashes_to_underscores(data: Mapping[str, Any]) -> dict[str, Any]:
    """Keys as the fields spell them (``base_urls``, the plural a config file may use, too)."""
    out = {k.replace("-", "_"): v for k, v in data.items()}
    if "base_urls" in out:
        if "base_url" in out:
            raise InputError("give base_url or base_urls, not both")
        out["base_url"] = out.pop("base_urls")
    return out


def _one_line(exc: ValidationError) -> str:
    """The first error, with the setting named as the field is (not as the environment variable)."""
    first = exc.errors()[0]
    where = ".".join(_FIELD_OF_ALIAS.get(str(p), str(p)) for p in first["loc"]) or "settings"
    return f"invalid setting {where}: {first['msg'].removeprefix('Value error, ')}" + (
        f" (and {exc.error_count() - 1} more)" if exc.error_count() > 1 else ""
    )
