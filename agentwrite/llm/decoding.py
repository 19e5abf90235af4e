"""Decoding settings per role: the planner, the sketcher, the section writer, the
continuation of a cut section, and the judge each sample in their own way.

Every field is optional; an unset field takes the value of the layer below. The layers,
lowest first: ``ROLE_DEFAULTS``, then the run-wide ``temperature``/``top_p`` settings when
they are set, then the ``decoding:`` settings of that role (config file, environment,
``--decoding ROLE.FIELD=VALUE`` flags).

>>> writer = ROLE_DEFAULTS["writer"]
>>> Decoding(temperature=0.2).over(writer).temperature, Decoding(temperature=0.2).over(writer).top_p
(0.2, 0.95)
>>> parse_decoding_flag("writer.repetition_penalty=1.1")
('writer', 'repetition_penalty', 1.1)
"""

from __future__ import annotations

import json
from typing import Any, Literal, get_args

from pydantic import BaseModel, ConfigDict, Field

from agentwrite.errors import InputError

Role = Literal["planner", "sketcher", "writer", "continuation", "judge"]
ROLES: tuple[Role, ...] = get_args(Role)


class Decoding(BaseModel):
    """Sampling settings of one role; None means "not set here"."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    temperature: float | None = Field(None, ge=0, le=2, description="Sampling temperature.")
    top_p: float | None = Field(None, gt=0, le=1, description="Nucleus sampling mass.")
    min_p: float | None = Field(
        None, ge=0, le=1, description="Drop tokens below this share of the top token's probability (vLLM)."
    )
    repetition_penalty: float | None = Field(
        None, gt=0, le=2, description="Multiplicative penalty on tokens already in prompt or output (vLLM)."
    )
    frequency_penalty: float | None = Field(
        None, ge=-2, le=2, description="Penalty growing with how often a token was generated."
    )
    presence_penalty: float | None = Field(
        None, ge=-2, le=2, description="Penalty on any token already generated."
    )
    stop: list[str] | None = Field(None, description="Stop sequences.")
    max_tokens: int | None = Field(None, ge=1, description="Ceiling on the role's output tokens.")
    extra_body: dict[str, Any] | None = Field(
        None, description="Server-specific request fields, e.g. chat_template_kwargs."
    )

    def over(self, base: Decoding) -> Decoding:
        """These settings, with the unset ones taken from ``base``."""
        return base.model_copy(update=self.model_dump(exclude_none=True))

    def stronger(self, step: float) -> Decoding:
        """The same, with the repetition penalty raised by ``step`` (from 1.0 if unset).

        >>> Decoding(repetition_penalty=1.05).stronger(0.05).repetition_penalty
        1.1
        """
        if not step:
            return self
        penalty = round((self.repetition_penalty or 1.0) + step, 4)
        return self.model_copy(update={"repetition_penalty": penalty})


ROLE_DEFAULTS: dict[Role, Decoding] = {
    "planner": Decoding(temperature=0.6, top_p=0.95),
    "sketcher": Decoding(temperature=0.7, top_p=0.95),
    "writer": Decoding(temperature=0.7, top_p=0.95, repetition_penalty=1.1),
    "continuation": Decoding(temperature=0.7, top_p=0.95, repetition_penalty=1.1),
    "judge": Decoding(temperature=0.0, top_p=1.0),
}
"""Defaults measured with the bundled 135M model on vLLM (``eval/section_length.py``;
eval/README.md, "Quality"): without a repetition penalty every 300- and 600-word section
looped, within 20 to 90 words; at 1.1 93 to 96% of the words came before any loop, with
1 to 2% gibberish; at 1.2 the text loops into gibberish more often than at 1.1. A
continuation after a loop cut is asked with the penalty raised by ``loop_penalty_step``."""


def parse_decoding_flag(flag: str) -> tuple[Role, str, Any]:
    """``ROLE.FIELD=VALUE`` from the command line; VALUE is read as JSON where it parses
    (numbers, lists, objects), else as a string; InputError when the role or field is unknown.

    >>> parse_decoding_flag('judge.stop=["</answer>"]')
    ('judge', 'stop', ['</answer>'])
    >>> parse_decoding_flag("writer.speed=1")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    agentwrite.errors.InputError: --decoding writer.speed=1: no decoding field 'speed' (one of: ...)
    """
    where, sep, raw = flag.partition("=")
    role, dot, name = where.strip().partition(".")
    if not sep or not dot:
        raise InputError(f"--decoding {flag}: expected ROLE.FIELD=VALUE, e.g. writer.temperature=0.8")
    if role not in ROLES:
        raise InputError(f"--decoding {flag}: no role {role!r} (one of: {', '.join(ROLES)})")
    if name not in Decoding.model_fields:
        fields = ", ".join(Decoding.model_fields)
        raise InputError(f"--decoding {flag}: no decoding field {name!r} (one of: {fields})")
    try:
        value = json.loads(raw)
    except json.JSONDecodeError:
        value = raw
    return role, name, value  # type: ignore[return-value]


def decoding_overrides(flags: list[str]) -> dict[str, dict[str, Any]]:
    """``--decoding`` flags gathered per role.

    >>> decoding_overrides(["writer.temperature=0.8", "writer.min_p=0.05", "judge.temperature=0"])
    {'writer': {'temperature': 0.8, 'min_p': 0.05}, 'judge': {'temperature': 0}}
    """
    out: dict[str, dict[str, Any]] = {}
    for flag in flags:
        role, name, value = parse_decoding_flag(flag)
        out.setdefault(role, {})[name] = value
    return out
