"""The last step: one Markdown document from the plan and the written sections."""

from __future__ import annotations

from typing import Any

from langgraph.runtime import Runtime

from agentwrite.domain import Section
from agentwrite.graph.context import WriteContext
from agentwrite.graph.state import WriteState
from agentwrite.plans import titles_from_text
from agentwrite.writing.loop_guard import LoopGuard
from agentwrite.writing.markdown import stitch


def drop_repeats_across(sections: list[Section]) -> list[Section]:
    """Each section without the sentences that an earlier section already holds (sections
    written side by side cannot see each other), the words removed added to its
    ``words_dropped``; sections that lose nothing are returned as they are.

    >>> def made(i, text):
    ...     return Section(index=i, title="S", text=text, target_words=9, finish_reason="stop")
    >>> a, b = made(0, "Tea grows on hills. It is old."), made(1, "Tea grows on hills. Trade came.")
    >>> [(s.text, s.words_dropped) for s in drop_repeats_across([a, b])]
    [('Tea grows on hills. It is old.', 0), ('Trade came.', 4)]
    """
    guard = LoopGuard()
    out = []
    for section in sections:
        text, dropped = guard.clean(section.text)
        guard.remember(text)
        if dropped:
            fields = section.model_dump()
            fields.update(text=text, words_dropped=section.words_dropped + dropped)
            section = Section.model_validate(fields)  # counts its words again
        out.append(section)
    return out


def stitch_node(state: WriteState, runtime: Runtime[WriteContext]) -> dict[str, Any]:
    """Graph node: sentences repeated across sections dropped, a heading from its own text
    for a section whose planned title is only a label or a repeat, then the title and each
    section under its heading."""
    plan = state["plan"]
    sections = state.get("sections", [])
    if [s.index for s in sections] != list(range(len(plan.sections))):
        raise RuntimeError("stitch reached with sections missing")
    if runtime.context.settings.loop_guard:
        sections = drop_repeats_across(sections)
    notes: list[str] = []
    if state.get("plan_source") == "model":  # a plan of the user's is theirs
        plan, notes = titles_from_text(plan, [s.text for s in sections])
    markdown = stitch(plan.title, [(plan.sections[s.index].title, s.text) for s in sections])
    update: dict[str, Any] = {"sections": sections, "markdown": markdown}
    if notes:
        titled = [s.model_copy(update={"title": plan.sections[s.index].title}) for s in sections]
        update |= {"sections": titled, "plan": plan, "plan_repairs": [*state.get("plan_repairs", []), *notes]}
    return update
