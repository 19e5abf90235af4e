"""Command-line options that several commands share, declared once (typer annotations)."""

from __future__ import annotations

from typing import Annotated

import typer

DecodingFlags = Annotated[
    list[str] | None,
    typer.Option(
        "--decoding",
        help="Decoding of one role, ROLE.FIELD=VALUE (roles: planner, sketcher, writer, continuation, "
        "judge; fields: temperature, top_p, min_p, repetition_penalty, frequency_penalty, "
        "presence_penalty, stop, max_tokens, extra_body), e.g. writer.repetition_penalty=1.1; repeatable.",
    ),
]
Temperature = Annotated[
    float | None, typer.Option(help="Sampling temperature of every role (default: each role's).")
]
