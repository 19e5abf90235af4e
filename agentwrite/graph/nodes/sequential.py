"""Sequential mode (AgentWrite's): each section sees the plan and the text before it (all
of it as the window allows, or with ``prior_text: digest`` earlier sections summarised and
the latest one whole).

The prompt is ordered instruction, plan, text so far, step, so that the server's
prefix cache can reuse everything up to the step. A section the checks found off the brief
is shown in the text so far by its planned main point, not its text: once one section had
strayed, the next ones followed it (the brief suite's sequential subset kept 0.16 of its
English text on the brief, against 0.76 for the same prompts in parallel mode). Each
section's budget carries the shortfall or surplus of the sections before it, and the last
section, whose shortfall nothing carries, is continued while short of its budget at all.
"""

from __future__ import annotations

from typing import Any

from langgraph.runtime import Runtime

from agentwrite.domain import Plan, Section
from agentwrite.events import streamed
from agentwrite.graph.context import WriteContext
from agentwrite.graph.nodes.section_request import section_fields
from agentwrite.graph.nodes.write import generate_section, section_checks, with_sources
from agentwrite.graph.state import WriteState, state_chunks
from agentwrite.llm.base import Message
from agentwrite.llm.context_window import answer_tokens
from agentwrite.material.assign import section_chunks, section_material
from agentwrite.plans import normalise_budgets
from agentwrite.prompts import render
from agentwrite.writing.prior_text import fit_prior_text


def next_budget(plan: Plan, done: list[Section], target: int, lo: int, hi: int) -> int:
    """The next section's budget: what is left of the target, spread over the sections left
    in proportion to their planned budgets, but never below half or above twice its plan.

    >>> from agentwrite.domain import SectionPlan
    >>> p = Plan(title="T", sections=[SectionPlan(title=t, main_point="m", target_words=500) for t in "ABC"])
    >>> short = Section(index=0, title="A", text="word " * 300, target_words=500, finish_reason="stop")
    >>> next_budget(p, [], 1500, 200, 1000), next_budget(p, [short], 1500, 200, 1000)
    (500, 600)
    """
    rest = plan.sections[len(done) :]
    left = target - sum(s.words for s in done)
    planned = [s.target_words for s in rest]
    left = min(max(left, sum(planned) // 2), sum(planned) * 2)
    first = normalise_budgets(planned, left, lo, hi)[0]
    return max(1, first)


def shown_sections(sections: list[Section], plan: Plan) -> list[tuple[str, str]]:
    """Each written section as the text so far shows it: its title and text, or its planned
    main point where its checks found it off the brief.

    >>> from agentwrite.domain import SectionPlan, SectionScores
    >>> p = Plan(title="T", sections=[SectionPlan(title=t, main_point=f"{t} in short.", target_words=50)
    ...                              for t in ("Tides", "Moon")])
    >>> away = SectionScores(on_topic=0.02, language="en", language_share=1.0, repeated_sentences=0.0,
    ...                      gibberish=0.0, score=0.0, problems=["off_topic"])
    >>> done = [Section(index=0, title="Tides", text="Tides rise.", target_words=50, finish_reason="stop"),
    ...         Section(index=1, title="Moon", text="Buy shoes.", target_words=50, finish_reason="stop",
    ...                 scores=away)]
    >>> shown_sections(done, p)
    [('Tides', 'Tides rise.'), ('Moon', 'Moon in short.')]
    """
    return [
        (
            s.title,
            plan.sections[s.index].main_point if s.scores and "off_topic" in s.scores.problems else s.text,
        )
        for s in sections
    ]


def sequential_messages(
    state: WriteState, ctx: WriteContext, index: int, budget: int, shown: list[str] | None = None
) -> list[Message]:
    """The request for section ``index``: instruction, plan, text so far (fitted), the
    section's share of the user's material (if any: fitted to at most half the room the text
    so far has; ``shown`` is set to the ids it holds), step."""
    plan = state["plan"]
    fields = section_fields(state["brief"], plan, index, budget)
    system = render("system", language=fields["language"])
    frame_text = render("write_section", written="", material="", **fields)
    token_room = ctx.room_beside(system, frame_text, answer_tokens(budget, ctx.settings.tokens_per_word))
    chunks = section_chunks(state_chunks(state), plan.sections[index].sources)
    half = None if token_room is None else token_room // 2
    material, ids = section_material(chunks, half, ctx.gauge.text_tokens)
    if shown is not None:
        shown[:] = ids
    if token_room is not None and material:
        token_room = max(0, token_room - ctx.gauge.text_tokens(material))
    done = shown_sections(state.get("sections", []), plan)
    written = fit_prior_text(
        done,
        token_room,
        ctx.settings.prior_text_chars,
        count=ctx.gauge.text_tokens,
        least_summarised=max(0, len(done) - 1) if ctx.settings.prior_text == "digest" else 0,
    )
    return [
        {"role": "system", "content": system},
        {"role": "user", "content": render("write_section", written=written, material=material, **fields)},
    ]


async def write_next_node(state: WriteState, runtime: Runtime[WriteContext]) -> dict[str, Any]:
    """Graph node: write the first section not yet written."""
    ctx = runtime.context
    plan = state["plan"]
    done = state.get("sections", [])
    index = len(done)
    s = ctx.settings
    budget = next_budget(plan, done, state["brief"].target_words, s.min_section_words, s.max_section_words)
    shown: list[str] = []
    section = await generate_section(
        ctx,
        lambda: sequential_messages(state, ctx, index, budget, shown),  # fitted to the gauge as it is then
        index=index,
        count=len(plan.sections),
        title=plan.sections[index].title,
        language=state["brief"].language_name,
        budget=budget,
        earlier=[s.text for s in done],
        events=streamed(runtime.stream_writer),
        checks=section_checks(ctx, state["brief"], plan, index, budget),
        # a section's shortfall goes into the next one's budget; the last has no next one,
        # so it is continued while short of its budget at all
        least=1.0 if index == len(plan.sections) - 1 else None,
    )
    return {"sections": [with_sources(section, shown)]}


def after_section(state: WriteState) -> str:
    """Route: another section, or the revise pass when all are written."""
    plan = state["plan"]
    return "write_next" if len(state.get("sections", [])) < len(plan.sections) else "revise"
