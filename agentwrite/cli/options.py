"""Command-line options that several commands share, declared once (typer annotations).

Every ``Settings`` field is a flag of each command that takes settings, generated from the field
(``--kebab-case`` name, its type, its description as the help text), so that a new setting is a
flag everywhere without a line here. ``with_setting_flags`` adds them to a command; the command
gets them, None meaning "not given", as one mapping for ``load_settings(overrides=...)``. Three
fields are handled explicitly: ``base_url`` (a repeatable ``--base-url``), ``decoding``
(repeatable ``--decoding ROLE.FIELD=VALUE``) and ``api_key``, which is never a flag: a secret
on a command line ends up in the shell history and the process list.
"""

from __future__ import annotations

import functools
import inspect
import types
from collections.abc import Callable, Collection, Mapping
from pathlib import Path
from typing import Annotated, Any, Literal, TypeVar, Union, get_args, get_origin

import typer
from pydantic import AliasChoices
from pydantic.fields import FieldInfo

from agentwrite.llm.decoding import decoding_overrides
from agentwrite.settings import ENV_PREFIX, Settings

F = TypeVar("F", bound=Callable[..., Any])

SETTINGS_PANEL = "Settings"
"""The help section of the generated flags (rich help only; plain help lists them with the rest)."""
SECRET_NOTE = (
    "The API key is never a flag: AGENTWRITE_API_KEY or OPENAI_API_KEY, or api_key in a settings file."
)
SettingsFlags = dict[str, Any]
"""The parameter a command decorated with ``with_setting_flags`` gets its setting flags in."""
FLAGS_PARAMETER = "settings_flags"

# Help texts carry no square brackets: typer's rich help would take them for markup and drop them.
DecodingFlags = Annotated[
    list[str] | None,
    typer.Option(
        "--decoding",
        help="Decoding of one role, ROLE.FIELD=VALUE (roles: planner, sketcher, writer, continuation, "
        "judge; fields: temperature, top_p, min_p, repetition_penalty, frequency_penalty, "
        "presence_penalty, stop, max_tokens, extra_body), e.g. writer.repetition_penalty=1.1; repeatable "
        "(env AGENTWRITE_DECODING, JSON).",
        rich_help_panel=SETTINGS_PANEL,
    ),
]
BaseUrls = Annotated[
    list[str] | None,
    typer.Option(
        "--base-url",
        help="OpenAI-compatible API root, e.g. http://127.0.0.1:8000/v1; repeat it to spread the requests "
        "over several servers (env AGENTWRITE_BASE_URL or OPENAI_BASE_URL, comma-separated; unset: "
        f"the bundled model runs in process). {SECRET_NOTE}",
        rich_help_panel=SETTINGS_PANEL,
    ),
]
ConfigFile = Annotated[
    Path | None,
    typer.Option(
        "--config",
        help="Settings file (YAML or TOML); environment and flags win.",
        rich_help_panel=SETTINGS_PANEL,
    ),
]
Serve = Annotated[
    bool,
    typer.Option(
        "--serve",
        help="Start a vLLM server on a free port for this run (the bundled model, or --serve-model) "
        "and point the run at it.",
    ),
]
ServeModel = Annotated[
    str | None,
    typer.Option(
        "--serve-model",
        metavar="FOLDER",
        help="With --serve: serve this local Hugging Face model folder (default: the bundled model); "
        "implies --serve.",
    ),
]

EXPLICIT_FLAGS: dict[str, Any] = {"base_url": BaseUrls, "decoding": DecodingFlags}
"""Settings whose flag is declared by hand above: they are not plain scalars."""
NOT_FLAGS = frozenset({"api_key", "allowed_base_urls"})
"""Settings no command line may carry (the key; what only the LangGraph server reads)."""


def env_names(name: str, field: FieldInfo) -> list[str]:
    """The environment variables that set a field.

    >>> env_names("model", Settings.model_fields["model"])
    ['AGENTWRITE_MODEL']
    >>> env_names("api_key", Settings.model_fields["api_key"])
    ['AGENTWRITE_API_KEY', 'OPENAI_API_KEY']
    """
    if isinstance(field.validation_alias, AliasChoices):
        return [str(choice) for choice in field.validation_alias.choices]
    return [ENV_PREFIX + name.upper()]


def setting_help(name: str, field: FieldInfo) -> str:
    """A field's description with its default and environment variable.

    >>> setting_help("connect_timeout", Settings.model_fields["connect_timeout"])
    'Seconds to wait for a connection. (default 10.0; env AGENTWRITE_CONNECT_TIMEOUT)'
    """
    default = field.get_default(call_default_factory=True)
    shown = {True: "on", False: "off"}.get(default, default) if isinstance(default, bool) else default
    said = [] if default in (None, [], {}) else [f"default {shown}"]
    said.append("env " + " or ".join(env_names(name, field)))
    return f"{field.description or ''} ({'; '.join(said)})".strip()


def setting_flag(name: str) -> Any:
    """The typer annotation of one setting's flag: ``--kebab-case``, the field's type (choices for
    a Literal, ``--x/--no-x`` for a bool), None when not given. A field of another type must be
    in ``EXPLICIT_FLAGS`` or ``NOT_FLAGS``: a TypeError at import time says so."""
    if name in EXPLICIT_FLAGS:
        return EXPLICIT_FLAGS[name]
    field = Settings.model_fields[name]
    kind = _scalar(field.annotation)
    if kind is None:
        raise TypeError(f"setting {name} ({field.annotation}) needs an explicit flag in cli.options")
    dashed = name.replace("_", "-")
    decl = f"--{dashed}/--no-{dashed}" if kind is bool else f"--{dashed}"
    option = typer.Option(decl, help=setting_help(name, field), rich_help_panel=SETTINGS_PANEL)
    return Annotated[kind | None, option]


def _scalar(annotation: Any) -> Any:
    """``bool``, ``int``, ``float``, ``str`` or a Literal of them, ``X | None`` unwrapped; else None."""
    if get_origin(annotation) in (Union, types.UnionType):
        rest = [a for a in get_args(annotation) if a is not type(None)]
        annotation = rest[0] if len(rest) == 1 else None
    if annotation in (bool, int, float, str):
        return annotation
    if get_origin(annotation) is Literal and all(isinstance(a, str) for a in get_args(annotation)):
        return annotation
    return None


def flag_names(skip: Collection[str] = ()) -> list[str]:
    """The settings that are flags, in the order of the fields."""
    return [n for n in Settings.model_fields if n not in NOT_FLAGS and n not in skip]


def with_generated_flags(names: list[str], flag: Callable[[str], Any], parameter: str) -> Callable[[F], F]:
    """Add a keyword-only flag for each of ``names`` (its typer annotation ``flag(name)``) to a
    typer command, after its own parameters. The command declares the keyword-only ``parameter``
    and gets in it every generated flag's value, None when not given.

    Typer reads the command's ``inspect.signature``, which honours ``__signature__``.
    """

    def decorate(func: F) -> F:
        signature = inspect.signature(func, eval_str=True)
        own = dict(signature.parameters)
        if own.pop(parameter, None) is None:
            raise TypeError(f"{func.__name__} must take a keyword-only {parameter} parameter")
        if clash := sorted(set(names) & set(own)):
            raise TypeError(f"{func.__name__} declares {clash} itself: leave them out of the generated flags")
        generated = [
            inspect.Parameter(n, inspect.Parameter.KEYWORD_ONLY, default=None, annotation=flag(n))
            for n in names
        ]

        @functools.wraps(func)
        def command(*args: Any, **kwargs: Any) -> Any:
            flags = {n: kwargs.pop(n, None) for n in names}
            return func(*args, **kwargs, **{parameter: flags})

        command.__signature__ = signature.replace(parameters=[*own.values(), *generated])  # type: ignore[attr-defined]
        command.__annotations__ = {p.name: p.annotation for p in command.__signature__.parameters.values()}  # type: ignore[attr-defined]
        return command  # type: ignore[return-value]

    return decorate


def with_setting_flags(skip: Collection[str] = ()) -> Callable[[F], F]:
    """Add a flag for every setting (but ``skip``, which the command declares its own way) to a
    typer command, after its own parameters. The command declares ``settings_flags:
    SettingsFlags`` (keyword-only) and gets in it every setting flag's value, None when not given."""
    return with_generated_flags(flag_names(skip), setting_flag, FLAGS_PARAMETER)


def setting_overrides(flags: Mapping[str, Any]) -> dict[str, Any]:
    """Setting flags as ``load_settings`` overrides: the ``--decoding ROLE.FIELD=VALUE`` lines
    become the ``decoding`` mapping; a flag not given (None, an empty list) is left out.

    >>> setting_overrides({"mode": "sketch", "seed": None, "base_url": [], "decoding": ["writer.top_p=0.9"]})
    {'mode': 'sketch', 'decoding': {'writer': {'top_p': 0.9}}}
    """
    out = {k: v for k, v in flags.items() if v is not None and v != []}
    if "decoding" in out:
        out["decoding"] = decoding_overrides(out["decoding"])
    return out
