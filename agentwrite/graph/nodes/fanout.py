"""Parallel and sketch modes: every section is requested at once, fanned out with Send.

Parallel sections see the instruction and the plan; in sketch mode they also see the
sketch of the whole document, so each knows what comes before and after it.
"""

from __future__ import annotations

from typing import Any

from langgraph.runtime import Runtime
from langgraph.types import Send

from agentwrite.events import streamed
from agentwrite.graph.context import WriteContext
from agentwrite.graph.nodes.section_request import section_fields
from agentwrite.graph.nodes.write import generate_section, section_checks, with_sources
from agentwrite.graph.state import SectionTask, WriteState, state_chunks
from agentwrite.length import estimate_tokens
from agentwrite.llm.base import Message
from agentwrite.llm.context_window import answer_tokens
from agentwrite.material.assign import section_chunks, section_material
from agentwrite.prompts import render


def fan_out(state: WriteState) -> list[Send] | str:
    """Route: one ``write_section`` task per section not yet written, or the revise pass."""
    plan = state["plan"]
    done = {s.index for s in state.get("sections", [])}
    tasks = [
        Send(
            "write_section",
            SectionTask(
                brief=state["brief"],
                plan=plan,
                sketches=state.get("sketches", []),
                index=i,
                chunks=section_chunks(state_chunks(state), plan.sections[i].sources),
            ),
        )
        for i in range(len(plan.sections))
        if i not in done
    ]
    return tasks or "revise"


def fanout_messages(
    task: SectionTask, ctx: WriteContext | None = None, shown: list[str] | None = None
) -> list[Message]:
    """The request for one section: instruction, plan, (sketch,) the section's share of the
    user's material (if any: fitted to the room ``ctx``'s window leaves beside the answer;
    ``shown`` is set to the ids it holds), step."""
    plan, index = task["plan"], task["index"]
    budget = plan.sections[index].target_words
    fields = section_fields(task["brief"], plan, index, budget)
    if task["sketches"]:
        titles = [section.title for section in plan.sections]
        sketch = "\n".join(
            f"{i}. {title}: {text}"
            for i, (title, text) in enumerate(zip(titles, task["sketches"], strict=True), start=1)
        )
        del fields["main_point"], fields["outline"]  # the sketches take their place
        fields.update(sketch=sketch, section_sketch=task["sketches"][index])
    template = "write_from_sketch" if task["sketches"] else "write_parallel"
    system = render("system", language=fields["language"])
    chunks = state_chunks(task)
    material = ""
    ids: list[str] = []
    if chunks:
        room = None
        if ctx is not None:
            bare = render(template, material="", **fields)
            room = ctx.room_beside(system, bare, answer_tokens(budget, ctx.settings.tokens_per_word))
        material, ids = section_material(chunks, room, ctx.gauge.text_tokens if ctx else estimate_tokens)
    if shown is not None:
        shown[:] = ids
    prompt = render(template, material=material, **fields)
    return [{"role": "system", "content": system}, {"role": "user", "content": prompt}]


async def write_section_node(task: SectionTask, runtime: Runtime[WriteContext]) -> dict[str, Any]:
    """Graph node: write one fanned-out section."""
    plan, index = task["plan"], task["index"]
    shown: list[str] = []
    section = await generate_section(
        runtime.context,
        lambda: fanout_messages(task, runtime.context, shown),  # fitted to the gauge as it is then
        index=index,
        count=len(plan.sections),
        title=plan.sections[index].title,
        language=task["brief"].language_name,
        budget=plan.sections[index].target_words,
        events=streamed(runtime.stream_writer),
        checks=section_checks(runtime.context, task["brief"], plan, index, plan.sections[index].target_words),
    )
    return {"sections": [with_sources(section, shown)]}
