"""The planner: ask for an outline, validate it, feed errors back, normalise budgets,
and clean a plan that stays untidy."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, NoReturn

from langgraph.runtime import Runtime

from agentwrite.domain import (
    ASKED_MAIN_POINT_CHARS,
    ASKED_PLAN_TITLE_CHARS,
    ASKED_SECTION_TITLE_CHARS,
    Brief,
    Plan,
    Usage,
)
from agentwrite.errors import PlanError, PlanHygieneError
from agentwrite.events import PlanReady, streamed
from agentwrite.graph.context import WriteContext
from agentwrite.graph.plan_request import ask_for_plan
from agentwrite.graph.state import WriteState, state_chunks
from agentwrite.length import cjk_share
from agentwrite.llm.base import Message
from agentwrite.material.assign import assign_material, plan_from_material, plan_material
from agentwrite.material.read import Chunk
from agentwrite.plans import (
    clean_plan,
    describe_problems,
    normalise_budgets,
    parse_plan_with_format,
    plan_problems,
    render_plan,
    section_count_bounds,
    whole_sections,
    with_budgets,
)
from agentwrite.prompts import render
from agentwrite.writing.plan_checks import brief_problems

SECTION_WORDS_HINT = 500
"""Words per section that the planner suggests (AgentWrite's plans run 200 to 1,000)."""
CHUNKS_PER_SECTION = 6
"""The most chunks of the user's material the schema lets one planned section name."""


def asked_section_bounds(target: int, lo: int, hi: int) -> tuple[int, int, int]:
    """Fewest, suggested and most sections the planner asks for.

    The most is the suggestion plus a quarter (at least 2), within what the budget bounds
    allow: a constrained decoder lets a small model list sections up to the schema's limit,
    and at ``target // lo`` a 20,000-word plan ran to 100 sections (thousands of tokens).

    >>> asked_section_bounds(20_000, 200, 1000), asked_section_bounds(3000, 200, 1000)
    ((20, 40, 50), (3, 6, 8))
    >>> asked_section_bounds(300, 200, 1000)
    (1, 1, 1)
    """
    fewest, most = section_count_bounds(target, lo, hi)
    suggested = min(max(round(target / SECTION_WORDS_HINT), fewest), most)
    return fewest, suggested, min(most, suggested + max(2, suggested // 4))


def plan_messages(brief: Brief, ctx: WriteContext, chunks: Sequence[Chunk] = ()) -> list[Message]:
    """The planner's first request; with the user's material listed (as much of each chunk as
    the window leaves room for beside the plan) when there is any."""
    s = ctx.settings
    fewest, suggested, most = asked_section_bounds(
        brief.target_words, s.min_section_words, s.max_section_words
    )
    structured = ctx.structured_output and s.structured_output
    template = "plan_json" if structured else "plan_lines"
    fields = {
        "instruction": brief.instruction,
        "target_words": brief.target_words,
        "min_sections": fewest,
        "max_sections": most,
        "suggested_sections": suggested,
        "language": brief.language_name,
    }
    system = render("system", language=brief.language_name)
    material = ""
    if chunks:
        bare = render(template, material="", **fields)
        room = ctx.room_beside(system, bare, plan_max_tokens(brief.instruction, most))
        kind = "plan_material_json" if structured else "plan_material_lines"
        material = plan_material(chunks, kind, room, ctx.gauge.text_tokens)
    prompt = render(template, material=material, **fields)
    return [{"role": "system", "content": system}, {"role": "user", "content": prompt}]


def check_plan(plan: Plan, brief: Brief, ctx: WriteContext, *, titles_from_points: bool = False) -> Plan:
    """Enforce the section count for the target, normalise the budgets, then check the
    plan's hygiene (``plan_problems``) and, with ``plan_checks`` on, that it keeps to the brief
    (``agentwrite.writing.plan_checks.brief_problems``: on its subject, no talk about the
    writing, in the brief's language).

    A wrong section count raises PlanError; hygiene problems raise PlanHygieneError, which
    carries the plan cleaned (``clean_plan``) for when no attempt does better, and the
    problems cleaning left (what the fallback compares: a plan of labels only keeps all of
    its problems, one with cut or repeated titles loses most).
    ``titles_from_points``: the plan came in the line format (headings cut from main points).
    """
    s = ctx.settings
    fewest, most = section_count_bounds(brief.target_words, s.min_section_words, s.max_section_words)
    count = len(plan.sections)
    if not fewest <= count <= most:
        raise PlanError(
            f"it has {count} sections; a {brief.target_words}-word document needs between {fewest} and {most}"
        )
    budgets = normalise_budgets(
        [sec.target_words for sec in plan.sections],
        brief.target_words,
        s.min_section_words,
        s.max_section_words,
    )
    plan = with_budgets(plan, budgets)

    def problems_of(plan: Plan) -> list[str]:
        found = plan_problems(plan, titles_from_points=titles_from_points)
        return found + (brief_problems(plan, brief.instruction) if s.plan_checks else [])

    if problems := problems_of(plan):
        cleaned, repairs = clean_plan(plan, titles_from_points=titles_from_points)
        raise PlanHygieneError(describe_problems(problems), cleaned, repairs, len(problems_of(cleaned)))
    return plan


def plan_schema(fewest: int, most: int, ids: Sequence[str] = ()) -> dict[str, Any]:
    """The Plan schema for structured output, with the section count for this target and
    bounded string lengths, so that a constrained decoder cannot return a plan of the wrong
    size or ramble inside a field. With the ids of the user's material, each section must
    name one to ``CHUNKS_PER_SECTION`` of them; without, sections have no ``sources``.

    >>> schema = plan_schema(3, 15)
    >>> schema["properties"]["sections"]["minItems"], schema["properties"]["sections"]["maxItems"]
    (3, 15)
    >>> "sources" in schema["$defs"]["SectionPlan"]["properties"]
    False
    >>> plan_schema(3, 15, ["n#1", "n#2"])["$defs"]["SectionPlan"]["properties"]["sources"]["items"]
    {'type': 'string', 'enum': ['n#1', 'n#2']}
    """
    schema = Plan.model_json_schema()
    schema["properties"]["sections"].update(minItems=fewest, maxItems=most)
    schema["properties"]["title"]["maxLength"] = ASKED_PLAN_TITLE_CHARS
    section_schema = schema["$defs"]["SectionPlan"]
    section = section_schema["properties"]
    section["title"]["maxLength"] = ASKED_SECTION_TITLE_CHARS
    section["main_point"]["maxLength"] = ASKED_MAIN_POINT_CHARS
    section["target_words"]["maximum"] = 100_000
    if not ids:
        del section["sources"]
        return schema
    section["sources"].update(
        items={"type": "string", "enum": list(ids)}, minItems=1, maxItems=min(len(ids), CHUNKS_PER_SECTION)
    )
    section_schema["required"] = [*section_schema.get("required", []), "sources"]
    return schema


def plan_max_tokens(instruction: str, most: int) -> int:
    """Room for a plan of ``most`` sections: 96 tokens a section in English and up to 396
    in Chinese, whose characters cost a byte-level tokenizer several tokens each (8,192 at
    most; the context window may cut it further).

    >>> plan_max_tokens("Write a 4000-word guide", 10), plan_max_tokens("写一篇4000字的指南", 10)
    (1216, 4216)
    """
    per_section = 96 + round(300 * cjk_share(instruction))
    return min(8192, 256 + per_section * most)


async def make_plan(
    brief: Brief, ctx: WriteContext, chunks: Sequence[Chunk] = (), *, revise: tuple[Plan, str] | None = None
) -> tuple[Plan, Usage, list[str]]:
    """Ask the model for a plan, retrying with the error fed back; return it with its usage
    and the repairs made to it (empty unless it had to be cleaned).

    A plan whose only problems are hygiene is asked for again like any other; when no
    attempt is tidy, the latest such plan is used cleaned, and the repairs say what changed.
    With the user's material (``chunks``), each section names the chunks it draws on; ids the
    model got wrong are dropped and chunks it left out go to the sections that fit them best
    (``assign_material``), with a note in the repairs.
    ``revise``: a plan the person reviewed and their comment on it; the planner is shown both
    (``revision_messages``) and asked for the whole plan again.
    Raises PlanError after ``settings.plan_attempts`` unusable answers.
    """
    s = ctx.settings
    messages = plan_messages(brief, ctx, chunks) + (revision_messages(*revise) if revise else [])
    fallback_title = brief.instruction.splitlines()[0][:ASKED_PLAN_TITLE_CHARS]
    fewest, _, most = asked_section_bounds(brief.target_words, s.min_section_words, s.max_section_words)
    ids = [c.id for c in chunks]
    schema = plan_schema(fewest, most, ids) if ctx.structured_output and s.structured_output else None

    def parse(text: str) -> tuple[Plan, list[str]]:
        try:
            plan, form = parse_plan_with_format(text, fallback_title)
        except PlanError as error:
            if (cut := whole_sections(text)) is None:
                raise
            keep_whole_sections(cut, error, brief, ctx)
        return check_plan(plan, brief, ctx, titles_from_points=form == "lines"), []

    (plan, repairs), usage = await ask_for_plan(
        ctx,
        messages,
        parse,
        what="plan",
        role="planner",
        max_tokens=plan_max_tokens(brief.instruction, most),
        schema=schema,
        fallback=lambda untidy: _last_resort(untidy, brief, ctx, chunks),
    )
    plan, notes = assign_material(plan, chunks)
    return plan, usage, repairs + notes


def keep_whole_sections(cut: Plan, error: PlanError, brief: Brief, ctx: WriteContext) -> NoReturn:
    """A plan cut off part-way (``whole_sections``) is asked for again like an untidy one,
    with the cut named; when no attempt does better, its whole sections are the plan (with
    budgets for the whole target), if there are enough of them. Never returns: it raises
    PlanHygieneError carrying the cut plan, or PlanError when too few sections are whole."""
    count = len(cut.sections)
    problem = f"{error}: it was cut off after {count} whole sections; keep each title and main point short"
    note = f"the plan was cut off after {count} whole sections; those were kept"
    try:
        plan = check_plan(cut, brief, ctx)
    except PlanHygieneError as untidy:
        raise PlanHygieneError(
            f"{problem}; {untidy}", untidy.cleaned, [note, *untidy.repairs], untidy.problems + 1
        ) from None
    except PlanError as too_few:
        raise PlanError(f"{problem}; {too_few}") from None
    raise PlanHygieneError(problem, plan, [note], 1)


def _last_resort(
    untidy: PlanHygieneError, brief: Brief, ctx: WriteContext, chunks: Sequence[Chunk]
) -> tuple[Plan, list[str]]:
    """The plan to write to when no attempt was tidy: one that follows the headings of the
    user's material where it has enough of them (a model that cannot plan tidily wrote the
    untidy one), else the model's latest plan, cleaned."""
    s = ctx.settings
    fewest, _, most = asked_section_bounds(brief.target_words, s.min_section_words, s.max_section_words)
    lo, hi = s.min_section_words, s.max_section_words
    outline = plan_from_material(untidy.cleaned.title, chunks, brief.target_words, fewest, most, lo, hi)
    if outline is None:
        return untidy.cleaned, untidy.repairs
    return outline, ["the model's plans stayed untidy; the plan follows the headings of the material"]


def revision_messages(plan: Plan, comment: str) -> list[Message]:
    """The turn that asks for a new plan: the reviewed plan as the planner's answer, then the
    person's comment."""
    return [
        {"role": "assistant", "content": render_plan(plan)},
        {"role": "user", "content": render("plan_revise", comment=comment)},
    ]


async def plan_node(state: WriteState, runtime: Runtime[WriteContext]) -> dict[str, Any]:
    """Graph node: plan unless the user supplied one. The brief and a plan may come as their
    JSON (from a LangGraph server's client); they are read into their types here."""
    ctx = runtime.context
    brief = Brief.model_validate(state["brief"])
    if (given := state.get("plan")) is not None:
        return {"brief": brief, "plan": Plan.model_validate(given)}
    plan, usage, repairs = await make_plan(brief, ctx, state_chunks(state))
    streamed(runtime.stream_writer)(PlanReady(plan, "model"))
    return {"brief": brief, "plan": plan, "plan_source": "model", "plan_usage": usage,
            "plan_repairs": repairs}  # fmt: skip
