"""Headings and fences have one rule (``writing.markdown_lines``), and every reader of
Markdown lines keeps to it: the section cleaner, the material's reader, the loop guard, a
streamed text's code blocks and the plan repair's opening sentence."""

from __future__ import annotations

import pytest
from markdown_it import MarkdownIt

from agentwrite.domain import Plan, SectionPlan
from agentwrite.material.assign import plan_from_material
from agentwrite.material.read import Chunk, split_text
from agentwrite.plans.repair import titles_from_text
from agentwrite.writing.loop_guard import LoopGuard
from agentwrite.writing.markdown import clean_section_text
from agentwrite.writing.markdown_lines import Heading, atx_heading, code_blocks, is_heading, opening_fence
from agentwrite.writing.streamed_text import StreamedText

LINES = {
    "## Soil": Heading(2, "Soil"),
    "## ": Heading(2, ""),  # an empty heading
    "##": Heading(2, ""),
    "   # Three spaces": Heading(1, "Three spaces"),
    "    # Four spaces": None,  # indented code
    "\t# A tab": None,
    "#hashtag": None,
    "#1 tip": None,
    "## Soil ##": Heading(2, "Soil"),  # closing hashes
    "## C#": Heading(2, "C#"),  # a hash that closes nothing
    "### ###": Heading(3, ""),
    "######": Heading(6, ""),
    "####### Seven": None,
    "#\tTab after": Heading(1, "Tab after"),
}


@pytest.mark.parametrize("line", LINES)
def test_a_heading_is_what_commonmark_reads(line: str) -> None:
    assert atx_heading(line) == LINES[line]
    assert is_heading(line) == (LINES[line] is not None)
    tokens = MarkdownIt("commonmark").parse(line)
    parsed = tokens[0].type == "heading_open" and Heading(int(tokens[0].tag[1:]), tokens[1].content)
    assert (parsed or None) == LINES[line]


def test_fences_open_with_three_backticks_or_tildes_and_close_with_as_many() -> None:
    assert [opening_fence(x) for x in ("```", "~~~ text", "````python", "``", "    ```")] == [
        "```",
        "~~~",
        "````",
        None,
        None,
    ]
    text = "A\n````\n```\nstill code\n~~~~\n````\nB\n~~~\n```\n~~~\nC\n```\nopen to the end"
    blocks = [text[a:b] for a, b in code_blocks(text)]
    assert blocks == ["````\n```\nstill code\n~~~~\n````", "~~~\n```\n~~~", "```\nopen to the end"]


def test_text_after_a_closing_fence_is_prose() -> None:
    text = "```\nls\n``` and then prose"
    assert code_blocks(text) == [(0, 10)] and text[10:] == " and then prose"


USERS_TEXT = (
    "#hashtag lines are prose.\n"
    "## \n"
    "\t# tab line\n"
    "## Soil ##\n"
    "Clay drains badly.\n"
    "```\n"
    "# a comment\n"
    "~~~\n"
    "```\n"
    "## Seeds\n"
    "Sow tomatoes in March.\n"
    "````\n"
    "# unclosed"
)


def test_the_section_cleaner_keeps_to_the_rule() -> None:
    cleaned = clean_section_text("Intro line.\n" + USERS_TEXT, "Tea").split("\n")
    assert cleaned == [
        "Intro line.",
        "#hashtag lines are prose.",
        "\t# tab line",
        "### Soil",
        "Clay drains badly.",
        "```",
        "# a comment",
        "~~~",
        "```",
        "### Seeds",
        "Sow tomatoes in March.",
        "````",
        "# unclosed",
        "````",  # the unclosed fence closed
    ]


def test_the_material_reader_keeps_to_the_rule() -> None:
    chunks = split_text(USERS_TEXT, "notes.md")
    assert [(c.heading, c.text.split("\n")[0]) for c in chunks] == [
        ("", "#hashtag lines are prose."),
        ("", "##"),  # an empty heading starts a chunk, under no heading
        ("Soil", "## Soil ##"),
        ("Seeds", "## Seeds"),
    ]
    assert "\t# tab line" in chunks[1].text and "# a comment" in chunks[2].text
    assert chunks[3].text.endswith("# unclosed")
    material = [
        Chunk(id="n#1", source="n", heading="A", text="```\n# Not a title\n```"),
        Chunk(id="n#2", source="n", heading="B", text="# Title ##\n\nText."),
    ]
    plan = plan_from_material("Notes", material, 100, 1, 2, 10, 100)
    assert plan is not None and plan.title == "Title"


def test_the_loop_guard_and_the_streamed_text_keep_to_the_rule() -> None:
    guard = LoopGuard(prompt=["## Your step here\n##\n#hashtag is a prompt line"])
    assert guard.headings == {"your step here"}
    streamed = StreamedText(USERS_TEXT)
    streamed.advance()
    assert [p for p in range(len(USERS_TEXT)) if streamed.fences.in_block(USERS_TEXT, p)] == [
        p for a, b in code_blocks(USERS_TEXT) for p in range(a, b)
    ]


def test_the_plan_repair_takes_no_code_for_an_opening_sentence() -> None:
    section = SectionPlan(title="Gardens", main_point="Gardens.", target_words=300)
    plan = Plan(title="Gardens", sections=[section, section])
    text = "```\nprint the soil map\n```\n## Beds\nRaised beds drain well."
    fixed, _ = titles_from_text(plan, ["Soil first.", text])
    assert fixed.sections[1].title == "Raised beds drain well"
