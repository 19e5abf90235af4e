"""The whole workflow end to end with the scripted fake model."""

import asyncio
import json
import re
import zlib

import pytest

from agentwrite.domain import Plan, SectionPlan
from agentwrite.errors import InputError
from agentwrite.events import PlanReady, SectionDone, SectionStarted
from agentwrite.llm.base import Completion
from agentwrite.runner import awrite
from agentwrite.settings import Settings
from agentwrite.testing.fake_writer import prose
from agentwrite.testing.scripted_model import ScriptedModel
from tests.scripted import writer_model, writer_reply


def run(brief: str, model: ScriptedModel, **kwargs: object):
    return asyncio.run(awrite(brief, model=model, **kwargs))


@pytest.mark.parametrize("mode", ["sequential", "parallel", "sketch"])
def test_ten_thousand_words_from_a_server_that_honours_min_tokens(mode: str) -> None:
    """The length comes from the agent: every section request asks for at least 70% of its
    budget in tokens (``min_tokens``), which the server honours, and what runs past the
    budget is trimmed to it; the fake writes one token per word."""
    events: list[object] = []
    model = writer_model()
    doc = run("Write a 10000-word travel guide to Yunnan", model, settings=Settings(mode=mode),
              on_event=events.append)  # fmt: skip
    # min_tokens asks for 1.12 x a budget in words of this fake; a section that ends by
    # itself is kept whole, one cut by the token limit is trimmed to its budget
    assert 10_000 <= doc.words <= 10_000 * 1.15
    section_calls = [c for c in model.calls if c.params.json_schema is None]
    assert len(section_calls) == len(doc.sections)
    smallest = min(s.target_words for s in doc.sections)
    assert all((c.params.min_tokens or 0) >= 0.7 * smallest for c in section_calls)
    assert [s.index for s in doc.sections] == list(range(len(doc.plan.sections)))
    headings = re.findall(r"^## (.+)$", doc.markdown, flags=re.MULTILINE)
    assert headings == [s.title for s in doc.plan.sections]
    assert doc.markdown.count("\n# ") + doc.markdown.startswith("# ") == 1
    assert doc.plan_source == "model" and doc.mode == mode
    assert sum(isinstance(e, SectionDone) for e in events) == len(doc.plan.sections)
    assert isinstance(events[0], PlanReady)
    assert doc.usage.requests == sum(s.usage.requests for s in doc.sections) + (2 if mode == "sketch" else 1)


@pytest.mark.parametrize("prior_text", ["full", "digest"])
def test_sequential_prompts_carry_the_text_so_far_in_prefix_order(prior_text: str) -> None:
    model = writer_model()
    doc = run("Write a 3000-word essay on tea", model, settings=Settings(prior_text=prior_text))
    section_calls = model.calls[1:]
    assert len(section_calls) == len(doc.plan.sections) > 2
    for i, call in enumerate(section_calls):
        prompt = call.messages[-1]["content"]
        order = [
            prompt.index(h)
            for h in (
                "Write an essay on tea",  # the brief without its length: the section has its own
                "Outline of the whole piece:",
                "The text so far:",
                "Now write",
            )
        ]
        assert order == sorted(order) and order[0] == 0
        for j, earlier in enumerate(doc.sections[:i]):
            verbatim = prior_text == "full" or j == i - 1  # a digest keeps only the latest whole
            assert (earlier.text in prompt) == verbatim
            assert f"## {earlier.title}" in prompt
        assert prompt.count("(summary)") == (max(0, i - 1) if prior_text == "digest" else 0)
        assert (
            f'Now write the part titled "{doc.plan.sections[i].title}"' in prompt and "in English" in prompt
        )


@pytest.mark.parametrize(("mode", "last_words"), [("sequential", 500), ("parallel", 400)])
def test_the_last_sequential_section_is_continued_while_short_of_its_budget(
    mode: str, last_words: int
) -> None:
    """No later section takes up the last one's shortfall: in sequential mode it is continued
    though it ended by itself at 80% of its budget (above ``short_section_ratio``); parallel
    sections carry nothing, and each keeps the usual rule."""
    calls = {"B": 0}

    def reply(messages, params):
        if 'titled "B"' in messages[-1]["content"] or messages[-1]["content"][-1:] == "B":
            calls["B"] += 1
            return Completion(
                prose(400 if calls["B"] == 1 else 100, seed=calls["B"]),
                "stop",
                writer_reply(messages, params).usage,
            )
        return writer_reply(messages, params)

    model = ScriptedModel(responder=reply)
    plan = Plan(title="T", sections=[SectionPlan(title=t, main_point="m", target_words=500) for t in "AB"])
    doc = run("Essay", model, plan=plan, settings=Settings(mode=mode, checks=False))
    assert [s.words for s in doc.sections] == [500, last_words]


def test_shortfall_is_carried_into_later_budgets() -> None:
    short = iter([prose(250), prose(90, seed=1)])  # first section far short, then its continuation

    def reply(messages, params):
        if params.json_schema is not None:
            return writer_reply(messages, params)
        text = next(short, None)
        return (
            Completion(text, "stop", writer_reply(messages, params).usage)
            if text
            else writer_reply(messages, params)
        )

    model = ScriptedModel(responder=reply)
    plan = Plan(title="T", sections=[SectionPlan(title=t, main_point="m", target_words=500) for t in "ABCD"])
    # checks off: a short first section is continued, not asked for again
    doc = run("Essay", model, plan=plan, settings=Settings(max_continuations=1, checks=False))
    assert doc.sections[0].words == 340
    later = [s.target_words for s in doc.sections[1:]]
    assert later[0] == 554  # 1660 words left over three sections: 554 + 553 + 553
    assert doc.plan_source == "user"
    assert model.calls[0].params.json_schema is None  # no planner call with a user plan


def test_user_plan_and_words_must_agree() -> None:
    plan = Plan(title="T", sections=[SectionPlan(title="A", main_point="m", target_words=500)])
    with pytest.raises(InputError, match="add up to 500 words, but the target is 2000"):
        run("Essay", writer_model(), plan=plan, words=2000)
    doc = run("Essay", writer_model(), plan=plan, words=520)
    assert doc.plan.total_words == 520


def test_doubled_headings_and_plan_labels_are_removed() -> None:
    def reply(messages, params):
        if params.json_schema is not None:
            return writer_reply(messages, params)
        title = re.search(r'the part titled "([^"]+)"', messages[-1]["content"]).group(1)
        text = prose(520, seed=zlib.crc32(title.encode()))
        body = f"## {title}\n\nParagraph 2 - {text}\n\nWord Count: 520 words"
        return Completion(body, "stop", writer_reply(messages, params).usage)

    # the fake plans the fewest sections the budget bounds allow: two of 500 words
    settings = Settings(max_section_words=500)
    doc = run("Write a 1000-word essay", ScriptedModel(responder=reply), settings=settings)
    assert "Paragraph 2" not in doc.markdown and "Word Count" not in doc.markdown
    for section in doc.plan.sections:
        assert doc.markdown.count(f"## {section.title}\n") == 1


def test_events_name_each_section_as_it_starts() -> None:
    events: list[object] = []
    run("Write a 1000-word essay", writer_model(), on_event=events.append)
    started = [e for e in events if isinstance(e, SectionStarted)]
    assert [e.index for e in started] == list(range(len(started)))


@pytest.mark.parametrize("mode", ["sequential", "parallel"])
def test_a_sentence_is_written_once_across_sections(mode: str) -> None:
    shared = "Every guide to tea should start in the hills of Yunnan."

    def reply(messages, params):
        if params.json_schema is not None:
            return writer_reply(messages, params)
        text = prose(300, seed=zlib.crc32(messages[-1]["content"].encode()))
        return Completion(f"{shared} {text}", "stop", writer_reply(messages, params).usage)

    # three sections of 500 words (the fewest the bounds allow), each answered in one go
    settings = Settings(mode=mode, max_section_words=500)
    doc = run("Write a 1500-word essay on tea", ScriptedModel(responder=reply), settings=settings)
    assert doc.markdown.count(shared) == 1
    assert doc.sections[0].text.startswith(shared) and doc.sections[0].words_dropped == 0
    assert all(s.words_dropped >= 11 for s in doc.sections[1:])
    assert doc.words_dropped == sum(s.words_dropped for s in doc.sections)


def test_the_demos_plan_gives_distinct_whole_headings_without_brackets_or_the_title_again() -> None:
    """The bundled model's demo plan, on every attempt: the brief's words cut at the schema's
    limit as the title of the document and of every section, the same numbered main point
    for all, and each section opening with a "<<Title>>" line (one left unclosed)."""
    cut = "Starting a Vegetable Garden on a City balcony: Guide to Planning and Creating a "
    point = "Planning and creating a sustainable living garden"
    openings = ["<<Planning Your First Garden>>", "<<Sustainability in Urban Agriculture>>",
                "<<Guide to Planning and Creating a Sustainable Living", "Pots come first."]  # fmt: skip

    def reply(messages, params):
        if params.json_schema is not None:
            sections = [
                {"title": cut, "main_point": f"{i}. {point}", "target_words": 300} for i in range(1, 5)
            ]
            return json.dumps({"title": cut.strip(), "sections": sections})
        text = prose(290, seed=len(model.calls))
        return f"{openings[len(model.calls) % len(openings)]}\n\nGardens grow in pots and boxes. {text}"

    model = ScriptedModel(responder=reply)
    doc = run("Write a 1200-word practical guide to starting a vegetable garden on a city balcony.", model)
    found = re.findall(r"^(#+) (.+)$", doc.markdown, flags=re.MULTILINE)
    assert found[0] == ("#", "Starting a Vegetable Garden on a City balcony")
    sections = [text for level, text in found if level == "##"]
    assert len(sections) == len(set(sections)) >= 3
    assert "<<" not in doc.markdown and ">>" not in doc.markdown
    assert not any(h.startswith("Starting a Vegetable Garden") for h in sections)
    assert not any(re.search(r"\b(?:a|to|and|the)$", h) for h in sections)


def test_a_heading_the_plan_left_as_a_label_comes_from_the_section_text() -> None:
    def reply(messages, params):
        if params.json_schema is not None:  # every attempt: titles and main points that are labels
            sections = [
                {"title": f"Title {i}", "main_point": f"Title {i}", "target_words": 300} for i in (1, 2)
            ]
            return json.dumps({"title": "Tea", "sections": sections})
        return f"Leaves are picked at dawn in spring. {prose(290, seed=len(model.calls))}"

    model = ScriptedModel(responder=reply)
    doc = run("Write a 600-word essay on tea", model)
    headings = re.findall(r"^## (.+)$", doc.markdown, flags=re.MULTILINE)
    assert headings[0] == "Leaves are picked at dawn in spring"
    assert [s.title for s in doc.sections] == [s.title for s in doc.plan.sections] == headings
    assert not any(re.match(r"(?i)title\b", h) for h in headings)
    assert any("taken from its text" in note for note in doc.plan_repairs)
