"""Parallel and sketch modes: every section is requested at once, fanned out with Send.

Parallel sections see the instruction and the plan; in sketch mode they also see the
sketch of the whole document, so each knows what comes before and after it.
"""

from __future__ import annotations

from typing import Any

from langgraph.runtime import Runtime
from langgraph.types import Send

from agentwrite.graph.context import RunContext
from agentwrite.graph.nodes.write import fixed, generate_section, section_fields
from agentwrite.graph.state import SectionTask, WriteState
from agentwrite.llm.base import Message
from agentwrite.prompts import render


def fan_out(state: WriteState) -> list[Send] | str:
    """Route: one ``write_section`` task per section not yet written, or stitch."""
    plan = state["plan"]
    assert plan is not None
    done = {s.index for s in state.get("sections", [])}
    tasks = [
        Send(
            "write_section",
            SectionTask(brief=state["brief"], plan=plan, sketches=state.get("sketches", []), index=i),
        )
        for i in range(len(plan.sections))
        if i not in done
    ]
    return tasks or "stitch"


def fanout_messages(task: SectionTask) -> list[Message]:
    """The request for one section: instruction, plan, (sketch,) step."""
    plan, index = task["plan"], task["index"]
    fields = section_fields(task["brief"], plan, index, plan.sections[index].target_words)
    if task["sketches"]:
        sketch = "\n".join(f"{i}. {text}" for i, text in enumerate(task["sketches"], start=1))
        del fields["main_point"]  # the section's sketch takes its place
        prompt = render("write_from_sketch", sketch=sketch, section_sketch=task["sketches"][index], **fields)
    else:
        prompt = render("write_parallel", **fields)
    return [{"role": "system", "content": render("system")}, {"role": "user", "content": prompt}]


async def write_section_node(task: SectionTask, runtime: Runtime[RunContext]) -> dict[str, Any]:
    """Graph node: write one fanned-out section."""
    plan, index = task["plan"], task["index"]
    section = await generate_section(
        runtime.context,
        fixed(fanout_messages(task)),
        index=index,
        count=len(plan.sections),
        title=plan.sections[index].title,
        budget=plan.sections[index].target_words,
    )
    return {"sections": [section]}
