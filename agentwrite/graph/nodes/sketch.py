"""Sketch mode's first step: a few sentences per section, written in order in one request."""

from __future__ import annotations

import re
from typing import Any

from langgraph.runtime import Runtime
from pydantic import BaseModel, Field

from agentwrite.errors import PlanError
from agentwrite.graph.context import WriteContext
from agentwrite.graph.plan_request import ask_for_plan
from agentwrite.graph.state import WriteState
from agentwrite.llm.base import Message
from agentwrite.llm.structured import NoJsonObject, json_model
from agentwrite.plans import render_plan
from agentwrite.prompts import render

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
    try:
        sketches = json_model(text, Sketch).sketches
    except NoJsonObject:
        sketches = []
    if not sketches:
        sketches = [m.group(2) for line in text.splitlines() if (m := _NUMBERED.match(line))]
    sketches = [" ".join(s.split()) for s in sketches]
    if len(sketches) != count or not all(sketches):
        raise PlanError(f"the sketch has {len(sketches)} usable entries; {count} are needed")
    return sketches


async def sketch_node(state: WriteState, runtime: Runtime[WriteContext]) -> dict[str, Any]:
    """Graph node: sketch every section, retrying with the error fed back."""
    ctx = runtime.context
    s = ctx.settings
    plan = state["plan"]
    if state.get("sketches"):
        return {}
    count = len(plan.sections)
    prompt = render("sketch", instruction=state["brief"].instruction, plan=render_plan(plan), count=count)
    messages: list[Message] = [
        {"role": "system", "content": render("system", language=state["brief"].language_name)},
        {"role": "user", "content": prompt},
    ]
    schema = None
    if ctx.structured_output and s.structured_output:
        schema = Sketch.model_json_schema()
        schema["properties"]["sketches"].update(minItems=count, maxItems=count)
    sketches, usage = await ask_for_plan(
        ctx,
        messages,
        lambda text: parse_sketches(text, count),
        what="sketch",
        role="sketcher",
        max_tokens=120 * count + 64,
        schema=schema,
    )
    return {"sketches": sketches, "sketch_usage": usage}
