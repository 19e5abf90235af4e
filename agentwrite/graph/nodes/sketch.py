"""Sketch mode's first step: a few sentences per section, written in order in one request."""

from __future__ import annotations

import json
import logging
import re
from typing import Any

from langgraph.runtime import Runtime
from pydantic import BaseModel, Field, ValidationError

from agentwrite.context_budget import output_room
from agentwrite.domain import Usage
from agentwrite.errors import PlanError
from agentwrite.graph.context import RunContext
from agentwrite.graph.state import WriteState
from agentwrite.llm.base import GenerationParams, Message
from agentwrite.plans import render_plan
from agentwrite.prompts import render

log = logging.getLogger(__name__)
_ECHO_CHARS = 2000  # of a failed answer, fed back with the error (a junk answer can fill the window)
_NUMBERED = re.compile(r"^\s*(\d+)[.)]\s+(.+?)\s*$")


class Sketch(BaseModel):
    """Structured output of the sketch request."""

    sketches: list[str] = Field(description="Two or three sentences per section, in order.")


def parse_sketches(text: str, count: int) -> list[str]:
    """Sketches from JSON (``{"sketches": [...]}``) or numbered lines; exactly ``count``.

    >>> parse_sketches('{"sketches": ["Opens.", "Closes."]}', 2)
    ['Opens.', 'Closes.']
    >>> parse_sketches("1. Opens.\\n2. Closes.", 2)
    ['Opens.', 'Closes.']
    """
    sketches: list[str] = []
    start, end = text.find("{"), text.rfind("}")
    if 0 <= start < end:
        try:
            sketches = Sketch.model_validate(json.loads(text[start : end + 1])).sketches
        except (json.JSONDecodeError, ValidationError):
            sketches = []
    if not sketches:
        sketches = [m.group(2) for line in text.splitlines() if (m := _NUMBERED.match(line))]
    sketches = [" ".join(s.split()) for s in sketches]
    if len(sketches) != count or not all(sketches):
        raise PlanError(f"the sketch has {len(sketches)} usable entries; {count} are needed")
    return sketches


async def sketch_node(state: WriteState, runtime: Runtime[RunContext]) -> dict[str, Any]:
    """Graph node: sketch every section, retrying with the error fed back."""
    ctx = runtime.context
    s = ctx.settings
    plan = state["plan"]
    assert plan is not None
    if state.get("sketches"):
        return {}
    count = len(plan.sections)
    prompt = render("sketch", instruction=state["brief"].instruction, plan=render_plan(plan), count=count)
    messages: list[Message] = [
        {"role": "system", "content": render("system")},
        {"role": "user", "content": prompt},
    ]
    schema = None
    if ctx.structured_output and s.structured_output:
        schema = Sketch.model_json_schema()
        schema["properties"]["sketches"].update(minItems=count, maxItems=count)
    usage = Usage()
    error = PlanError("no attempt was made")
    for attempt in range(1, s.plan_attempts + 1):
        params = GenerationParams(
            max_tokens=output_room(ctx.max_context, messages, 120 * count + 64),
            temperature=s.temperature,
            top_p=s.top_p,
            seed=s.seed,
            json_schema=schema,
        )
        completion = await ctx.model.complete(messages, params)
        usage = usage + completion.usage
        try:
            return {"sketches": parse_sketches(completion.text, count), "sketch_usage": usage}
        except PlanError as exc:
            error = exc
            log.warning("sketch attempt %d of %d unusable: %s", attempt, s.plan_attempts, exc)
            messages = [
                *messages[:2],
                {"role": "assistant", "content": completion.text[:_ECHO_CHARS]},
                {"role": "user", "content": render("plan_retry", error=str(exc))},
            ]
    raise PlanError(f"no usable sketch after {s.plan_attempts} attempts; last problem: {error}")
