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
BaseUrls = Annotated[
    list[str] | None,
    typer.Option(
        "--base-url",
        help="OpenAI-compatible API root, e.g. http://127.0.0.1:8000/v1; repeat it to spread the requests "
        "over several servers [env: AGENTWRITE_BASE_URL, comma-separated].",
    ),
]
Temperature = Annotated[
    float | None, typer.Option(help="Sampling temperature of every role (default: each role's).")
]
