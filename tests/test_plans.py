"""Plan parsing in both formats, budget normalisation, and the planner's retry loop."""

import asyncio
import json

import pytest

from agentwrite.domain import Brief, Plan
from agentwrite.errors import InputError, PlanError
from agentwrite.graph.context import RunContext
from agentwrite.graph.nodes.plan import make_plan
from agentwrite.llm.fake import ScriptedModel
from agentwrite.plans import (
    load_plan_file,
    normalise_budgets,
    parse_plan,
    parse_plan_json,
    parse_plan_lines,
    section_count_bounds,
)
from agentwrite.settings import Settings

AGENTWRITE_LINES = """Here is the plan.
Paragraph 1 - Main Point: Arriving in Kunming, the spring city, and getting around. - Word Count: 700 words
Paragraph 2 - Main Point: Dali's old town and Erhai Lake. - Word Count: 800 words

Paragraph 3 - Main Point: Lijiang and Tiger Leaping Gorge - Word Count: 1,500 words
"""


def plan_json(budgets: list[int], title: str = "Yunnan") -> str:
    sections = [
        {"title": f"S{i}", "main_point": f"Point {i}.", "target_words": b} for i, b in enumerate(budgets)
    ]
    return json.dumps({"title": title, "sections": sections})


def test_line_format() -> None:
    plan = parse_plan_lines(AGENTWRITE_LINES, "Fallback title")
    assert plan.title == "Fallback title"
    assert [s.target_words for s in plan.sections] == [700, 800, 1500]
    assert plan.sections[0].title == "Arriving in Kunming"
    assert plan.sections[2].main_point == "Lijiang and Tiger Leaping Gorge"


def test_line_format_in_chinese_and_with_title_line() -> None:
    text = "Title: 云南之旅\n段落1 - 要点：昆明的春天 - 字数：800字\n段落2 - 要点：大理古城 - 字数：1200字"
    plan = parse_plan_lines(text, "x")
    assert plan.title == "云南之旅"
    assert [s.target_words for s in plan.sections] == [800, 1200]


def test_json_with_fences_and_chatter() -> None:
    plan = parse_plan_json("Sure, here it is:\n```json\n" + plan_json([400, 600]) + "\n```\nEnjoy!")
    assert [s.target_words for s in plan.sections] == [400, 600]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("no json here", "not a JSON object"),
        ('{"title": "T", "sections": [}', "not valid JSON"),
        ('{"title": "T", "sections": []}', "sections"),
        (
            '{"title": "T", "sections": [{"title": "A", "main_point": "m", "target_words": 0}]}',
            "target_words",
        ),
        ('{"title": "", "sections": [{"title": "A", "main_point": "m", "target_words": 5}]}', "title"),
    ],
)
def test_bad_json_plans_say_why(text: str, message: str) -> None:
    with pytest.raises(PlanError, match=message):
        parse_plan_json(text)


def test_parse_plan_falls_back_to_lines() -> None:
    assert len(parse_plan(AGENTWRITE_LINES, "T").sections) == 3


@pytest.mark.parametrize(
    ("budgets", "target", "expected"),
    [
        ([500, 500], 1000, [500, 500]),
        ([100, 300], 2000, [1000, 1000]),  # 500/1500 would break the cap: the second is held at 1000
        ([1, 1, 1], 1000, [334, 333, 333]),
        ([5000, 10, 10], 1500, [1000, 250, 250]),  # capped at 1000, the rest shared evenly
        ([300, 300, 300], 100, [34, 33, 33]),  # too small for the lower bound: bound widened
        ([300, 300], 5000, [2500, 2500]),  # too large for the upper bound: bound widened
    ],
)
def test_normalise_budgets(budgets: list[int], target: int, expected: list[int]) -> None:
    result = normalise_budgets(budgets, target, 200, 1000)
    assert result == expected
    assert sum(result) == target


def test_section_count_bounds() -> None:
    assert section_count_bounds(10_000, 200, 1000) == (10, 50)
    assert section_count_bounds(100_000, 200, 1000) == (100, 200)


def test_user_plan_file_errors_are_input_errors() -> None:
    with pytest.raises(InputError, match="not valid JSON"):
        load_plan_file("{", "p.json")
    with pytest.raises(InputError, match=r"p\.json"):
        load_plan_file('{"title": "T", "sections": []}', "p.json")


def test_planner_feeds_errors_back_then_succeeds() -> None:
    model = ScriptedModel(["I cannot plan.", plan_json([100] * 3), plan_json([1000] * 4)])
    ctx = RunContext(model=model, settings=Settings())
    plan, usage = asyncio.run(make_plan(Brief(instruction="Write a 4000-word essay", target_words=4000), ctx))
    assert isinstance(plan, Plan) and len(plan.sections) == 4 and plan.total_words == 4000
    assert usage.requests == 3
    second, third = model.calls[1], model.calls[2]
    assert "That plan cannot be used: the plan is not a JSON object" in second.messages[-1]["content"]
    assert "it has 3 sections; a 4000-word document needs between 4 and 20" in third.messages[-1]["content"]
    assert third.messages[-2] == {"role": "assistant", "content": plan_json([100] * 3)}
    schema = model.calls[0].params.json_schema
    assert schema is not None and schema["properties"]["sections"]["minItems"] == 4


def test_planner_gives_up_after_its_attempts() -> None:
    model = ScriptedModel(["nope"] * 3)
    ctx = RunContext(model=model, settings=Settings(plan_attempts=3))
    with pytest.raises(PlanError, match="no usable plan after 3 attempts"):
        asyncio.run(make_plan(Brief(instruction="Write an essay", target_words=1000), ctx))
    assert len(model.calls) == 3


def test_planner_asks_for_lines_without_structured_output() -> None:
    model = ScriptedModel([AGENTWRITE_LINES])
    ctx = RunContext(model=model, settings=Settings(), structured_output=False)
    plan, _ = asyncio.run(make_plan(Brief(instruction="Write about Yunnan", target_words=3000), ctx))
    assert model.calls[0].params.json_schema is None
    assert "Paragraph 1 - Main Point:" in model.calls[0].prompt
    assert plan.total_words == 3000
