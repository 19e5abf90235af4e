"""The plan's checks against its brief (``plan_checks``): a plan that leaves the brief, talks
about the writing or is in another language is asked for again with the problem named, and
when every attempt fails the least untidy one is written to."""

from __future__ import annotations

import asyncio
import json

from agentwrite.domain import Brief
from agentwrite.graph.context import WriteContext
from agentwrite.graph.nodes.plan import make_plan
from agentwrite.settings import Settings
from agentwrite.testing.scripted_model import ScriptedModel
from agentwrite.writing.plan_checks import brief_problems
from tests.scripted import writer_reply

BRIEF = Brief(
    instruction="Write an 800-word explainer on how ocean tides work, for curious adults.", target_words=800
)


def plan_json(title: str, *sections: tuple[str, str]) -> str:
    return json.dumps(
        {
            "title": title,
            "sections": [{"title": t, "main_point": m, "target_words": 400} for t, m in sections],
        }
    )


ON_BRIEF = plan_json(
    "How Tides Work",
    ("The Moon's pull", "The Moon's gravity pulls the ocean into two bulges."),
    ("Two tides a day", "The Earth turns under the bulges, so coasts see two high tides a day."),
)
OFF_BRIEF = plan_json(
    "What the Plan is about",
    ("Making a plan", "Planning and executing plans."),
    ("Executing the plan", "How to follow a plan through."),
)
OFF_AND_TALKING = plan_json(
    "Here is the plan for the document:",
    ("Making a plan", "Here is the outline of the essay:"),
    ("Executing the plan", "How to follow a plan through."),
)


def plan_with(model: ScriptedModel, **settings: object):
    ctx = WriteContext(model=model, settings=Settings(plan_checks=True, **settings))
    return asyncio.run(make_plan(BRIEF, ctx))


def test_an_off_brief_plan_is_asked_for_again_with_the_problem_named() -> None:
    model = ScriptedModel([OFF_BRIEF, ON_BRIEF])
    plan, _, repairs = plan_with(model)
    assert plan.title == "How Tides Work" and repairs == []
    assert len(model.calls) == 2
    assert "the sections are not about the instruction" in model.calls[1].messages[-1]["content"]


def test_when_no_attempt_keeps_to_the_brief_the_least_untidy_is_used() -> None:
    model = ScriptedModel([OFF_AND_TALKING, OFF_BRIEF, OFF_AND_TALKING])
    plan, _, _ = plan_with(model)
    assert len(model.calls) == 3
    assert plan.title == "What the Plan is about"  # one problem, against three in the others
    assert len(brief_problems(plan, BRIEF.instruction)) == 1


def test_off_by_default_the_plan_is_not_held_to_the_brief() -> None:
    model = ScriptedModel([OFF_BRIEF])
    plan, _, _ = asyncio.run(make_plan(BRIEF, WriteContext(model=model, settings=Settings())))
    assert plan.title == "What the Plan is about" and len(model.calls) == 1


def test_the_fake_servers_plans_keep_to_their_briefs() -> None:
    """The test doubles plan on the brief's subject, so plan checks (were they on by default)
    cost them no second request (``agentwrite.testing.schema_answers.topical``)."""
    for instruction in (BRIEF.instruction, "写一篇800字的文章，介绍潮汐是如何形成的。"):
        model = ScriptedModel(responder=writer_reply)
        plan, _, repairs = asyncio.run(
            make_plan(
                Brief(instruction=instruction, target_words=800),
                WriteContext(model=model, settings=Settings(plan_checks=True)),
            )
        )
        assert len(model.calls) == 1 and repairs == []
        assert brief_problems(plan, instruction) == []


def test_a_chinese_brief_planned_in_english_is_asked_for_in_chinese() -> None:
    brief = Brief(instruction="写一篇800字的文章，介绍潮汐是如何形成的。", target_words=800)
    chinese = plan_json(
        "潮汐",
        ("月球的引力", "月球的引力把海水拉成两个隆起。"),
        ("每天两次潮汐", "地球自转，海岸每天两次涨潮。"),
    )
    model = ScriptedModel([ON_BRIEF, chinese])
    plan, _, _ = asyncio.run(make_plan(brief, WriteContext(model=model, settings=Settings(plan_checks=True))))
    assert plan.title == "潮汐"
    assert "the plan is not in Chinese" in model.calls[1].messages[-1]["content"]
    assert "Chinese" in model.calls[0].messages[0]["content"]  # the system prompt names it from the start
