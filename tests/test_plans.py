"""Plan parsing in both formats, budget normalisation, plan hygiene, and the planner's retry loop."""

import asyncio
import json
import re

import pytest

from agentwrite.domain import ASKED_PLAN_TITLE_CHARS, Brief, Plan, SectionPlan
from agentwrite.errors import InputError, PlanError
from agentwrite.graph.context import WriteContext
from agentwrite.graph.nodes.plan import make_plan
from agentwrite.plans import (
    clean_plan,
    label_of,
    load_plan_file,
    near_repeat,
    normalise_budgets,
    parse_plan,
    parse_plan_json,
    parse_plan_lines,
    plan_problems,
    section_count_bounds,
    strip_labels,
)
from agentwrite.runner import aplan, awrite
from agentwrite.settings import Settings
from agentwrite.testing.scripted_model import ScriptedModel
from tests.scripted import writer_reply

AGENTWRITE_LINES = """Here is the plan.
Paragraph 1 - Main Point: Arriving in Kunming, the spring city, and getting around. - Word Count: 700 words
Paragraph 2 - Main Point: Dali's old town and Erhai Lake. - Word Count: 800 words

Paragraph 3 - Main Point: Lijiang and Tiger Leaping Gorge - Word Count: 1,500 words
"""


YUNNAN = "Write about Yunnan: Kunming, Dali and Lijiang"
"""A brief AGENTWRITE_LINES keeps to (plan checks ask again for a plan sharing no word with its brief)."""


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
    ctx = WriteContext(model=model, settings=Settings())
    plan, usage, repairs = asyncio.run(
        make_plan(Brief(instruction="Write a 4000-word essay", target_words=4000), ctx)
    )
    assert isinstance(plan, Plan) and len(plan.sections) == 4 and plan.total_words == 4000
    assert usage.requests == 3 and repairs == []
    second, third = model.calls[1], model.calls[2]
    assert "That plan cannot be used: the plan is not a JSON object" in second.messages[-1]["content"]
    assert "it has 3 sections; a 4000-word document needs between 4 and 20" in third.messages[-1]["content"]
    assert third.messages[-2] == {"role": "assistant", "content": plan_json([100] * 3)}
    schema = model.calls[0].params.json_schema
    assert schema is not None and schema["properties"]["sections"]["minItems"] == 4


def test_planner_gives_up_after_its_attempts() -> None:
    model = ScriptedModel(["nope"] * 3)
    ctx = WriteContext(model=model, settings=Settings(plan_attempts=3))
    with pytest.raises(PlanError, match="no usable plan after 3 attempts"):
        asyncio.run(make_plan(Brief(instruction="Write an essay", target_words=1000), ctx))
    assert len(model.calls) == 3


def test_planner_asks_for_lines_without_structured_output() -> None:
    model = ScriptedModel([AGENTWRITE_LINES])
    ctx = WriteContext(model=model, settings=Settings(), structured_output=False)
    plan, _, repairs = asyncio.run(make_plan(Brief(instruction=YUNNAN, target_words=3000), ctx))
    assert model.calls[0].params.json_schema is None
    assert "Paragraph 1 - Main Point:" in model.calls[0].prompt
    assert plan.total_words == 3000 and repairs == []


# --- plan hygiene ----------------------------------------------------------------------------


def sections_json(
    sections: list[tuple[str, str]], title: str = "Growing Vegetables", words: int = 500
) -> str:
    return json.dumps(
        {
            "title": title,
            "sections": [{"title": t, "main_point": m, "target_words": words} for t, m in sections],
        }
    )


TIDY = [
    ("Choosing the spot", "Sun, shelter and drainage decide where the beds go."),
    ("Part of the problem", "Why most first gardens fail in their first summer."),
    ("Chapter and verse", "The rules of crop rotation, and where they come from."),
    ("Heading south: late crops", "What still grows when the nights get cold."),
]
"""Ordinary titles that begin with a label word: none of them is a label."""


@pytest.mark.parametrize(
    ("text", "label", "rest"),
    [
        ("Title 1: Starting a Vegetable Garden", "Title 1", "Starting a Vegetable Garden"),
        ("Title: Gardens", "Title", "Gardens"),
        ("Paragraph 2", "Paragraph 2", ""),
        ("Section 3 - Soil", "Section 3", "Soil"),
        ("Part 4: Water", "Part 4", "Water"),
        ("Chapter 5. Harvest", "Chapter 5", "Harvest"),
        ("chapter 5 The Harvest", "chapter 5", "The Harvest"),
        ("PART TWO: Pests", "PART TWO", "Pests"),
        ("**Title 1:** Seeds", "Title 1", "Seeds"),
        ("**Title 1: Seeds**", "Title 1", "Seeds"),
        ("## Section 2 – Tools", "Section 2", "Tools"),
        ("Main point: the soil", "Main point", "the soil"),
        ("第3部分：昆明", "第3部分", "昆明"),
        ("第二章 大理", "第二章", "大理"),
        ("段落2", "段落2", ""),
        ("标题：云南之旅", "标题", "云南之旅"),
    ],
)
def test_labels_are_found_and_stripped(text: str, label: str, rest: str) -> None:
    assert label_of(text) == label
    assert strip_labels(text) == rest


@pytest.mark.parametrize(
    "text",
    [
        "Part of the problem",
        "Chapter and verse",
        "Part-time work",
        "Titles of nobility",
        "Section 8 housing",
        "Chapter 11 bankruptcy",
        "Heading south",
        "Part one",
        "The Title: a film",
        "第一次去云南",
        "部分地区的天气",
        "主题公园",
    ],
)
def test_ordinary_titles_are_not_labels(text: str) -> None:
    assert label_of(text) == ""
    assert strip_labels(text) == text


def test_tidy_plan_has_no_problems_and_is_left_alone() -> None:
    plan = parse_plan_json(sections_json(TIDY))
    assert plan_problems(plan) == []
    assert clean_plan(plan) == (plan, [])


@pytest.mark.parametrize(
    ("sections", "title", "problem"),
    [
        (
            [("Title 1: Choosing the spot", TIDY[0][1]), *TIDY[1:]],
            "Gardens",
            'section 1\'s title starts with a label ("Title 1")',
        ),
        (TIDY, "Title: Gardens", 'the document title starts with a label ("Title")'),
        (
            [TIDY[0], ("**Section 2 -** Failures", TIDY[1][1]), *TIDY[2:]],
            "Gardens",
            'section 2\'s title starts with a label ("Section 2")',
        ),
        ([*TIDY[:3], ("Late crops", "Paragraph 4")], "Gardens", "section 4 has no main point, only a label"),
        (
            [*TIDY[:2], ("Crop rotation", "Title 3: Crop rotation.")],
            "Gardens",
            "section 3's main point only restates its title",
        ),
        (
            [*TIDY[:2], ("Crop rotation", "Crop rotation")],
            "Gardens",
            "section 3's main point only restates its title",
        ),
        (
            [TIDY[0], ("Choosing the Spot!", "Light and wind, measured over a week.")],
            "Gardens",
            'sections 1 and 2 have the same title ("Choosing the Spot!")',
        ),
        (
            [
                ("Planning a vegetable garden", TIDY[0][1]),
                ("Planning the vegetable garden: beds", TIDY[1][1]),
            ],
            "Gardens",
            "sections 1 and 2 have nearly the same title",
        ),
        (
            [TIDY[0], ("Main point: the soil", "Loam, clay and sand, and how to tell them apart.")],
            "Gardens",
            'section 2\'s title starts with a label ("Main point")',
        ),
    ],
)
def test_each_kind_of_problem_is_named_with_its_section(
    sections: list[tuple[str, str]], title: str, problem: str
) -> None:
    problems = plan_problems(parse_plan_json(sections_json(sections, title)))
    assert any(p.startswith(problem) for p in problems), problems
    assert all(p.startswith(problem) or "starts with a label" in p for p in problems), problems


CUT = "Starting a Vegetable Garden on a City balcony: Guide to Planning and Creating a "
"""The demo's section title: the brief's words, cut by the schema's 80-character limit."""


def test_a_title_cut_mid_phrase_is_a_problem_and_is_brought_back_to_its_whole_part() -> None:
    plan = parse_plan_json(sections_json([(CUT, TIDY[0][1]), ("Soil and pots, and", TIDY[1][1])], CUT))
    problems = plan_problems(plan)
    assert problems[0] == f'the document title stops mid-phrase ("{CUT.strip()}"); give a whole title'
    assert f'section 1\'s title stops mid-phrase ("{CUT.strip()}"); give a short heading' in problems
    assert 'section 2\'s title stops mid-phrase ("Soil and pots, and"); give a short heading' in problems
    cleaned, notes = clean_plan(plan)
    assert cleaned.title == "Starting a Vegetable Garden on a City balcony"
    # section 1's whole part is the document's title: its heading comes from its main point
    assert [s.title for s in cleaned.sections] == ["Sun", "Soil and pots"]
    assert any("stopped mid-phrase" in note for note in notes)


def test_a_title_at_the_schemas_length_limit_is_cut_even_on_a_whole_word() -> None:
    # the final demo's title: 120 characters, the schema's limit, ending "with a 20"
    title = (
        "Planning on a balcony with a vegetable garden on it, a 2000-word practical guide for the "
        "planning of a balcony with a 20"
    )
    assert len(title) == ASKED_PLAN_TITLE_CHARS
    plan = parse_plan_json(sections_json(TIDY, title))
    assert any(problem.startswith("the document title stops mid-phrase") for problem in plan_problems(plan))
    cleaned, notes = clean_plan(plan)
    whole = (
        "Planning on a balcony with a vegetable garden on it, a 2000-word practical guide for the "
        "planning of a balcony"
    )
    assert f'"{whole}" kept' in notes[0]
    # and the length it restates from the task goes too
    assert cleaned.title == whole.replace("2000-word ", "")


@pytest.mark.parametrize("title", ["Things to Look Out For", "A Garden of One's Own", "Tea", "潮汐与月亮"])
def test_whole_titles_are_not_cut(title: str) -> None:
    plan = parse_plan_json(sections_json([(title, TIDY[0][1]), TIDY[1]], "Gardens"))
    assert not any("mid-phrase" in p for p in plan_problems(plan))


def test_every_repeated_title_is_replaced_from_its_own_main_point() -> None:
    # the demo's planner: every section titled with the document's title, main points numbered
    points = [
        "Start a vegetable garden on a city balcony.",
        "Choose the right type of vegetable to start your garden on a city balcony.",
        "Prepare your garden by planting vegetables.",
        "Plan your garden for a city balcony.",
        "Choose the right type of vegetable for your city balcony.",
        "Choose the right tools for your garden.",
    ]
    title = "Starting a Vegetable Garden on a City balcony"
    plan = parse_plan_json(
        sections_json([(title, f"{i}. {p}") for i, p in enumerate(points, start=1)], title)
    )
    problems = plan_problems(plan)
    assert sum("repeats the document's title" in p for p in problems) == 6
    assert sum("have the same title" in p for p in problems) == 5
    cleaned, notes = clean_plan(plan)
    titles = [s.title for s in cleaned.sections]
    assert titles == [
        "Start a vegetable garden on a city balcony",
        "Choose the right type of vegetable to start",
        "Prepare your garden by planting vegetables",
        "Plan your garden for a city balcony",
        "Choose the right type of vegetable for your city balcony",  # the first 8 words repeat section 2
        "Choose the right tools for your garden",
    ]
    assert cleaned.title == title and [s.main_point for s in cleaned.sections] == points
    assert sum("repeated the document's title; replaced by" in note for note in notes) == 6
    # left: headings cut from one-clause main points restate them, which nothing can mend
    assert [p for p in plan_problems(cleaned) if "only restates its title" not in p] == []


def test_a_repeat_with_nothing_new_in_its_main_point_keeps_its_title() -> None:
    plan = parse_plan_json(
        sections_json([("Soil", "Soil."), ("Soil", "Soil."), ("Pots", "Which pots drain.")])
    )
    cleaned, notes = clean_plan(plan)
    assert [s.title for s in cleaned.sections] == ["Soil", "Soil", "Pots"]
    assert 'section 2: the title "Soil" repeats section 1\'s; kept' in notes


def test_one_section_may_share_the_document_title() -> None:
    plan = parse_plan_json(sections_json([("Growing Vegetables", TIDY[0][1])]))
    assert plan_problems(plan) == [] and clean_plan(plan) == (plan, [])


def test_near_repeats() -> None:
    assert near_repeat("Title 1: Planning a Garden", "planning the garden!")
    assert near_repeat("Growing tomatoes from seed indoors", "Growing tomatoes from seed indoors in March")
    assert not near_repeat("Soil preparation for tomatoes", "Soil preparation for peppers")
    assert not near_repeat("Growing tomatoes", "Harvesting tomatoes")
    assert not near_repeat("昆明的春天", "大理的春天")


def test_line_format_titles_carry_no_labels_and_are_not_held_to_differ_from_points() -> None:
    text = (
        "Paragraph 1 - Main Point: Title 1: Choosing the spot, by sun and shelter. - Word Count: 400 words\n"
        "Paragraph 2 - Main Point: Crop rotation. - Word Count: 400 words"
    )
    plan = parse_plan_lines(text, "Gardens")
    assert [s.title for s in plan.sections] == ["Choosing the spot", "Crop rotation"]
    problems = plan_problems(plan, titles_from_points=True)
    assert problems == ['section 1\'s main point starts with a label ("Title 1"); give the point alone']


def test_clean_plan_strips_labels_and_keeps_count_and_budgets() -> None:
    plan = parse_plan_json(
        json.dumps(
            {
                "title": "**Title:** Gardens",
                "sections": [
                    {
                        "title": "Title 1: Starting a garden",
                        "main_point": "Title 1: Starting a garden",
                        "target_words": 300,
                    },
                    {"title": "Title 2: Seeds", "main_point": "Paragraph 2", "target_words": 500},
                    {
                        "title": "Paragraph 3",
                        "main_point": "Part 3: Watering in dry weeks.",
                        "target_words": 700,
                    },
                    {
                        "title": "Starting a Garden",
                        "main_point": "Tools: what to buy first.",
                        "target_words": 500,
                    },
                ],
            }
        )
    )
    cleaned, notes = clean_plan(plan)
    assert cleaned.title == "Gardens"
    assert [(s.title, s.main_point) for s in cleaned.sections] == [
        ("Starting a garden", "Starting a garden"),
        ("Seeds", "Seeds"),
        ("Watering in dry weeks", "Watering in dry weeks."),
        ("Tools", "Tools: what to buy first."),
    ]
    assert [s.target_words for s in cleaned.sections] == [300, 500, 700, 500]
    assert not any(label_of(s.title) or label_of(s.main_point) for s in cleaned.sections)
    assert notes == [
        'document title: label "Title" removed',
        'section 1: label "Title 1" removed from the title',
        'section 1: label "Title 1" removed from the main point',
        "section 1: the main point only restates the title; kept",
        'section 2: label "Title 2" removed from the title',
        "section 2: no main point beyond a label; the title stands in for it",
        'section 3: label "Part 3" removed from the main point',
        'section 3: the title was only a label; "Watering in dry weeks" cut from the main point',
        'section 4: the title "Starting a Garden" repeated section 1\'s; '
        'replaced by "Tools", from its main point',
    ]


BAD_PLAN = sections_json(
    [
        ("Title 1: Starting a Vegetable Garden", "Title 1: Starting a vegetable garden."),
        ("Title 2: Choosing seeds", "Which seeds suit a first garden."),
        ("Title 3: Planning a vegetable garden", "Where the beds go."),
        ("Title 4: Watering", "How often, and when."),
    ],
    words=1000,
)
GOOD_PLAN = sections_json(TIDY, words=1000)
BRIEF = Brief(instruction="Write a 4000-word guide to vegetable gardens", target_words=4000)


def test_planner_rejects_untidy_plans_with_the_problems_fed_back() -> None:
    model = ScriptedModel([BAD_PLAN, GOOD_PLAN])
    plan, usage, repairs = asyncio.run(make_plan(BRIEF, WriteContext(model=model, settings=Settings())))
    assert [s.title for s in plan.sections] == [t for t, _ in TIDY]
    assert repairs == [] and usage.requests == 2
    retry = model.calls[1].prompt
    assert 'That plan cannot be used: section 1\'s title starts with a label ("Title 1")' in retry
    assert "section 1's main point only restates its title" in retry
    assert 'section 4\'s title starts with a label ("Title 4")' in retry


def test_planner_asks_afresh_after_a_copied_answer_and_cleans_a_plan_that_stays_untidy() -> None:
    model = ScriptedModel([BAD_PLAN] * 3)
    plan, _, repairs = asyncio.run(
        make_plan(BRIEF, WriteContext(model=model, settings=Settings(plan_attempts=3)))
    )
    assert len(model.calls) == 3
    # the second answer had the first's problems, word for word: the third request is the
    # first one again, without the answer a small model would copy once more
    assert [len(c.messages) for c in model.calls] == [2, 4, 2]
    assert model.calls[2].messages == model.calls[0].messages
    assert [s.title for s in plan.sections] == [
        "Starting a Vegetable Garden",
        "Choosing seeds",
        "Planning a vegetable garden",
        "Watering",
    ]
    assert plan.total_words == 4000
    assert 'section 1: label "Title 1" removed from the title' in repairs
    assert "section 1: the main point only restates the title; kept" in repairs


def test_planner_falls_back_to_the_latest_untidy_plan_after_a_structural_failure() -> None:
    model = ScriptedModel([BAD_PLAN, BAD_PLAN.replace("Title 4: Watering", "Title 5: Weeding"), "not a plan"])
    plan, _, repairs = asyncio.run(
        make_plan(BRIEF, WriteContext(model=model, settings=Settings(plan_attempts=3)))
    )
    assert plan.sections[3].title == "Weeding" and repairs
    assert "the plan is not a JSON object" not in model.calls[2].prompt


def test_structural_failures_still_fail_even_with_hygiene_problems_too() -> None:
    too_few = sections_json([("Title 1: Soil", "Title 1: Soil"), ("Title 2: Seeds", "Seeds")], words=2000)
    model = ScriptedModel([too_few] * 3)
    with pytest.raises(PlanError, match="no usable plan after 3 attempts; last problem: it has 2 sections"):
        asyncio.run(make_plan(BRIEF, WriteContext(model=model, settings=Settings(plan_attempts=3))))


def cut_plan(whole: list[tuple[str, str]]) -> str:
    """A JSON plan with these whole sections, then one cut off in a main point that ran on
    (a planner out of tokens)."""
    return (
        sections_json([*whole, ("Soil", "")], words=1000).removesuffix('", "target_words": 1000}]}')
        + "Soil is the ground of the garden and the ground of the garden is the soil of the ground"
    )


CUT_PLAN = cut_plan(TIDY)


def test_a_plan_cut_off_is_asked_again_and_its_whole_sections_kept_when_no_answer_does_better() -> None:
    model = ScriptedModel([CUT_PLAN] * 3)
    plan, _, repairs = asyncio.run(
        make_plan(BRIEF, WriteContext(model=model, settings=Settings(plan_attempts=3)))
    )
    assert len(model.calls) == 3
    assert (
        "it was cut off after 4 whole sections; keep each title and main point short" in model.calls[1].prompt
    )
    assert [s.title for s in plan.sections] == [t for t, _ in TIDY] and plan.total_words == 4000
    assert repairs == ["the plan was cut off after 4 whole sections; those were kept"]


def test_a_whole_plan_after_a_cut_one_is_used() -> None:
    model = ScriptedModel([CUT_PLAN, GOOD_PLAN])
    plan, usage, repairs = asyncio.run(make_plan(BRIEF, WriteContext(model=model, settings=Settings())))
    assert usage.requests == 2 and repairs == [] and len(plan.sections) == 4


def test_a_plan_cut_off_before_enough_whole_sections_fails() -> None:
    model = ScriptedModel([cut_plan(TIDY[:2])] * 3)
    with pytest.raises(PlanError, match=r"cut off after 2 whole sections.*it has 2 sections"):
        asyncio.run(make_plan(BRIEF, WriteContext(model=model, settings=Settings(plan_attempts=3))))


TALKING_PLAN = sections_json(
    [
        ("Here's a practical guide to your garden", "Choosing the spot: sun, shelter and drainage."),
        ("Part of the problem", "Why most first gardens fail in their first summer."),
        ("{{#3.section}}", "The rules of crop rotation, and where they come from."),
        ("Heading south: late crops", "What still grows when the nights get cold."),
    ],
    title="growing_vegetables_in_a_small_garden.json",
    words=1000,
)


def test_titles_that_talk_about_the_writing_are_asked_again_and_replaced_when_they_stay() -> None:
    model = ScriptedModel([TALKING_PLAN] * 3)
    plan, _, repairs = asyncio.run(make_plan(BRIEF, WriteContext(model=model, settings=Settings())))
    retry = model.calls[1].prompt
    assert 'the document title talks about the writing ("growing_vegetables_in_a_small_garden.json")' in retry
    assert "section 1's title talks about the writing (\"Here's a practical guide" in retry
    assert 'section 3\'s title talks about the writing ("{{#3.section}}")' in retry
    assert plan.title == "Growing vegetables in a small garden"
    assert [s.title for s in plan.sections] == [
        "Choosing the spot",
        "Part of the problem",
        "The rules of crop rotation",
        "Heading south: late crops",
    ]
    assert 'section 3: the title "{{#3.section}}" talked about the writing; ' in " ".join(repairs)


def test_line_format_plans_are_checked_too() -> None:
    lines = "\n".join(
        f"Paragraph {i} - Main Point: Part {i}: {point} - Word Count: 1000 words"
        for i, point in enumerate(["Soil.", "Seeds.", "Water.", "Harvest."], 1)
    )
    model = ScriptedModel([lines, AGENTWRITE_LINES])
    ctx = WriteContext(model=model, settings=Settings(), structured_output=False)
    plan, _, repairs = asyncio.run(make_plan(Brief(instruction=YUNNAN, target_words=3000), ctx))
    assert 'section 1\'s main point starts with a label ("Part 1")' in model.calls[1].prompt
    assert repairs == [] and plan.sections[0].title == "Arriving in Kunming"


def test_aplan_cleans_as_the_planner_node_does() -> None:
    plan = asyncio.run(aplan(BRIEF.instruction, model=ScriptedModel([BAD_PLAN] * 3)))
    assert not any(label_of(s.title) for s in plan.sections)


LOOPING_PLAN = sections_json(
    [
        ("Planning. Planning. Planning. Planning. 2. Planning.", "Planning. Planning. Planning. Planning."),
        ("Choosing seeds", "Which seeds suit a first garden."),
        ("Where the beds go", "Sun, shelter and drainage."),
        ("Watering", "How often, and when."),
    ],
    words=1000,
)


def test_a_field_that_loops_is_asked_again_and_said_once_when_it_keeps_looping() -> None:
    model = ScriptedModel([LOOPING_PLAN] * 3)
    plan, _, repairs = asyncio.run(make_plan(BRIEF, WriteContext(model=model, settings=Settings())))
    assert 'section 1\'s title repeats "planning" over and over' in model.calls[1].prompt
    assert (plan.sections[0].title, plan.sections[0].main_point) == ("Planning", "Planning.")
    assert "section 1: a repeated phrase said once in the title" in repairs


def headings(markdown: str) -> list[str]:
    return re.findall(r"^## (.+)$", markdown, flags=re.MULTILINE)


def test_a_document_from_an_untidy_plan_records_its_repairs() -> None:
    model = ScriptedModel([BAD_PLAN] * 3, responder=writer_reply)
    doc = asyncio.run(awrite(BRIEF.instruction, model=model, settings=Settings(plan_attempts=3)))
    assert headings(doc.markdown) == [
        "Starting a Vegetable Garden",
        "Choosing seeds",
        "Planning a vegetable garden",
        "Watering",
    ]
    assert "Title 1" not in doc.markdown
    sidecar = doc.sidecar()
    assert sidecar["plan_repairs"] == doc.plan_repairs and len(doc.plan_repairs) >= 4
    assert 'section 4: label "Title 4" removed from the title' in sidecar["plan_repairs"]
    assert "That plan cannot be used: section 1's title" in model.calls[1].prompt


def test_a_document_from_a_plan_fixed_on_retry_has_no_repairs() -> None:
    model = ScriptedModel([BAD_PLAN, GOOD_PLAN], responder=writer_reply)
    doc = asyncio.run(awrite(BRIEF.instruction, model=model))
    assert headings(doc.markdown) == [t for t, _ in TIDY]
    assert doc.plan_repairs == [] and doc.sidecar()["plan_repairs"] == []
    assert "section 2's title starts with a label" in model.calls[1].prompt


def test_user_plans_are_not_checked_for_hygiene() -> None:
    plan = Plan(
        title="Title: Mine",
        sections=[
            SectionPlan(title=f"Part {i}: As I like it", main_point="Part 1", target_words=300)
            for i in (1, 2)
        ],
    )
    model = ScriptedModel(responder=writer_reply)
    doc = asyncio.run(awrite("Essay", model=model, plan=plan))
    assert doc.plan == plan and doc.plan_repairs == [] and doc.plan_source == "user"
    assert headings(doc.markdown) == ["Part 1: As I like it", "Part 2: As I like it"]


@pytest.mark.parametrize(
    ("title", "stripped"),
    [("1. Exploring Cornwall", "Exploring Cornwall"), ("10) Local food", "Local food"),
     ("1984: The year", "1984: The year"), ("3.5 million visitors", "3.5 million visitors")],
)  # fmt: skip
def test_an_enumeration_is_a_label_and_a_year_is_not(title: str, stripped: str) -> None:
    from agentwrite.plans import strip_labels

    assert strip_labels(title) == stripped
