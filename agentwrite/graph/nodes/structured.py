"""Ask for a structured answer, feeding parse errors back until one is usable."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any, TypeVar

from agentwrite.context_budget import output_room
from agentwrite.decoding import Role
from agentwrite.domain import Usage
from agentwrite.errors import PlanError, PlanHygieneError
from agentwrite.graph.context import RunContext
from agentwrite.llm.base import GenerationParams, Message
from agentwrite.prompts import render

log = logging.getLogger(__name__)
T = TypeVar("T")

ECHO_CHARS = 2000
"""How much of a failed answer is fed back with the error (a junk answer can fill the window)."""


async def ask_until_valid(
    ctx: RunContext,
    messages: list[Message],
    parse: Callable[[str], T],
    *,
    what: str,
    role: Role,
    max_tokens: int,
    schema: dict[str, Any] | None,
    fallback: Callable[[PlanHygieneError], T] | None = None,
) -> tuple[T, Usage]:
    """Request, parse, and on a PlanError retry with the error fed back, up to
    ``settings.plan_attempts`` times; raise PlanError naming ``what`` after that.

    With ``fallback``, an answer that failed only on hygiene (``PlanHygieneError``) is not
    thrown away: when no attempt succeeds, ``fallback`` makes the result from the latest
    such failure (for a plan, the plan cleaned) instead of raising.
    """
    s = ctx.settings
    usage = Usage()
    error = PlanError("no attempt was made")
    untidy: PlanHygieneError | None = None
    first = messages
    for attempt in range(1, s.plan_attempts + 1):

        def request(messages: list[Message] = messages) -> tuple[list[Message], GenerationParams]:
            return messages, GenerationParams.of(
                s.decoding_for(role),
                output_room(ctx.max_context, messages, max_tokens, ctx.gauge),
                seed=s.seed,
                json_schema=schema,
            )

        _, completion = await ctx.complete(request)
        usage = usage + completion.usage
        try:
            return parse(completion.text), usage
        except PlanError as exc:
            error = exc
            if isinstance(exc, PlanHygieneError):
                untidy = exc
            log.warning("%s attempt %d of %d unusable: %s", what, attempt, s.plan_attempts, exc)
            messages = [
                *first,
                {"role": "assistant", "content": completion.text[:ECHO_CHARS]},
                {"role": "user", "content": render("plan_retry", error=str(exc))},
            ]
    if untidy is not None and fallback is not None:
        log.warning(
            "no tidy %s after %d attempts; using one cleaned: %s", what, s.plan_attempts, untidy.repairs
        )
        return fallback(untidy), usage
    raise PlanError(f"no usable {what} after {s.plan_attempts} attempts; last problem: {error}")
