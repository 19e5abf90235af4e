"""The section checks in the writer: talk removed, scores kept, failing sections asked again
within their bounds (issue 23 items 1 and 2), against scripted fakes that count what is sent."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from agentwrite.domain import Brief, Plan, SectionPlan, Usage
from agentwrite.graph.context import WriteContext
from agentwrite.graph.nodes.section_request import fixed
from agentwrite.graph.nodes.write import generate_section, section_checks
from agentwrite.llm.base import Completion, GenerationParams, Message
from agentwrite.runner import awrite
from agentwrite.settings import Settings
from agentwrite.testing.scripted_model import ScriptedModel
from agentwrite.writing.checks import TALK_PENALTY
from agentwrite.writing.talk import talk_spans
from tests.scripted import asked_section, drifting, writer_reply

BRIEF = Brief(instruction="Write a 300-word guide to keeping a sourdough starter alive", target_words=300)
PLAN = Plan(
    title="Sourdough",
    sections=[
        SectionPlan(title="Feeding", main_point="Feeding the starter flour and water", target_words=100)
    ],
)
PROMPT: list[Message] = [{"role": "user", "content": "Write section 1 of 1, Feeding."}]
ON = (
    "Feed the sourdough starter equal weights of flour and water every day. "
    "Stir the fresh flour in well, so that the starter takes up air and stays lively. "
    "A warm kitchen makes the starter rise faster, and a cold one slows its feeding. "
    "Discard half of the starter before each feeding, or the jar will overflow with flour. "
    "Rye flour wakes a sluggish starter, because its bran feeds the yeast and the bacteria. "
    "After a few days of regular feeding the starter doubles within hours and smells sweet."
)
OFF = (
    "Drones fly over the busy city markets at night, and the traders count their coins. "
    "The harbour cranes lift containers of cheap electronics onto waiting lorries. "
    "Investors watch the quarterly figures of shipping companies with growing alarm. "
    "A new motorway links the airport to the business district in twenty minutes. "
    "Football fans crowd the stadium bars before the evening match begins. "
    "The council has voted to paint the old railway bridge a bright shade of green."
)
TALK_START = "Sure! Here is section 1 of the guide:\n"
TALK_MIDDLE = "\n[Insert your name here]\n"
TALK_END = "\nI hope this helps!"


def completion(text: str) -> Completion:
    return Completion(text, "stop", Usage(prompt_tokens=50, completion_tokens=len(text.split()), requests=1))


def write(
    model: ScriptedModel,
    *,
    planned_words: int = 1000,
    budget: int = 90,
    brief: Brief = BRIEF,
    plan: Plan = PLAN,
    **settings: object,
):
    ctx = WriteContext(model=model, settings=Settings(**settings))
    checks = section_checks(ctx, brief, plan, 0, budget)
    if checks is not None:
        checks.planned_words = planned_words  # as in a document of several sections
    section = asyncio.run(
        generate_section(
            ctx,
            fixed(list(PROMPT)),
            index=0,
            count=1,
            title=plan.sections[0].title,
            budget=budget,
            language=brief.language_name,
            checks=checks,
        )
    )
    return section, ctx


def test_talk_at_the_start_in_the_middle_and_at_the_end_is_removed_and_counted() -> None:
    model = ScriptedModel(
        [completion(TALK_START + ON.replace("feeding. ", "feeding." + TALK_MIDDLE, 1) + TALK_END)]
    )
    section, _ = write(model, max_candidates=1)
    assert "Here is" not in section.text and "[Insert" not in section.text and "hope" not in section.text
    assert section.text.startswith("Feed the sourdough") and section.text.endswith("smells sweet.")
    assert (
        section.scores is not None and section.scores.talk_lines == 4
    )  # Sure!, Here is..., [Insert...], I hope...
    talk_words = "Sure Here is section of the guide Insert your name here I hope this helps"
    assert section.words_dropped == len(talk_words.split())
    assert "talk" in section.scores.problems
    assert section.scores.score == pytest.approx(section.scores.on_topic - 4 * TALK_PENALTY, abs=1e-3)


def test_talk_is_removed_without_the_loop_guard_too() -> None:
    section, _ = write(
        ScriptedModel([completion(TALK_START + ON + TALK_END)]), max_candidates=1, loop_guard=False
    )
    assert section.text == ON.strip() and section.scores is not None and section.scores.talk_lines == 3


def test_a_drifting_section_is_asked_again_naming_its_point_and_the_best_is_kept() -> None:
    model = ScriptedModel([completion(OFF), completion(ON)])
    section, ctx = write(model)
    assert len(model.calls) == 2
    assert "Stay on: Feeding the starter flour and water." in model.calls[1].messages[-1]["content"]
    assert "Stay on" not in model.calls[0].messages[-1]["content"]
    assert section.chosen == 1 and section.text == ON.strip()
    first, second = section.candidates
    assert first.scores.problems == ["off_topic"] and second.scores.problems == []
    assert section.scores == second.scores and first.scores.score < second.scores.score
    assert [c.messages for c in section.candidates] == [m.messages for m in model.calls]  # as sent
    assert section.usage == first.usage + second.usage and section.check_tokens == second.usage.total_tokens
    assert ctx.check_budget.extra == second.usage.total_tokens


def test_never_more_candidates_than_allowed_and_the_best_of_them_kept() -> None:
    worse = OFF.replace("coins", "flour")  # a little closer to the point, still off it
    model = ScriptedModel([completion(OFF), completion(worse), completion(OFF), completion(ON)])
    section, _ = write(model, max_candidates=3)
    assert len(model.calls) == 3 and len(section.candidates) == 3
    scores = [c.scores.score for c in section.candidates]
    assert section.chosen == scores.index(max(scores))
    assert all("off_topic" in c.scores.problems for c in section.candidates)


def test_one_candidate_asks_once_and_keeps_no_candidates() -> None:
    model = ScriptedModel([completion(OFF)])
    section, _ = write(model, max_candidates=1)
    assert len(model.calls) == 1 and section.candidates == [] and section.chosen == 0
    assert section.scores is not None and section.scores.problems == ["off_topic"]


def test_never_more_extra_tokens_than_the_check_budget() -> None:
    """The budget allows as many re-asks as fit, each reserved at the first answer's cost."""
    model = ScriptedModel(responder=lambda messages, params: completion(OFF))
    no_floor = {"max_candidates": 10, "check_budget": 0.3, "min_reasks": 0}
    section, ctx = write(model, planned_words=60, budget=60, **no_floor)
    assert len(model.calls) == 1  # 0.3 x one answer's tokens: no re-ask fits
    section, ctx = write(model, planned_words=600, budget=60, **no_floor)
    answer = section.candidates[0].usage.total_tokens
    allowance = 0.3 * answer * 10  # ten sections of 60 words planned, each estimated at this one's cost
    extra = sum(c.usage.total_tokens for c in section.candidates[1:])  # a re-ask's prompt is longer
    assert (
        len(section.candidates) >= 3 and extra == ctx.check_budget.extra == section.check_tokens <= allowance
    )
    assert extra + answer > allowance  # one more, reserved at the first answer's cost, would not fit


def test_a_short_document_asks_again_min_reasks_times_past_its_share_and_no_more() -> None:
    """A one-section document: 0.3 of its tokens pays for no re-ask, ``min_reasks`` does."""
    for floor in (1, 2):
        model = ScriptedModel(responder=lambda messages, params: completion(OFF))
        section, ctx = write(
            model, planned_words=60, budget=60, max_candidates=10, check_budget=0.3, min_reasks=floor
        )
        assert len(model.calls) == 1 + floor and len(section.candidates) == 1 + floor
        assert ctx.check_budget.reasks == floor
        assert ctx.check_budget.extra == section.check_tokens > 0.3 * section.candidates[0].usage.total_tokens
        assert all("Stay on: " in call.messages[-1]["content"] for call in model.calls[1:])


def test_a_re_ask_stops_being_continued_once_it_has_spent_its_reserve() -> None:
    """A re-ask is reserved at the first answer's cost and sends no request past it: a
    model that answers the re-ask a few words at a time is not continued to its end."""
    steps = iter(range(1, 1000))

    def responder(messages: list[Message], params: GenerationParams) -> Completion:
        if len(messages) == 1 and "Stay on" not in messages[-1]["content"]:
            return completion(OFF)  # the first answer: off its point, asked again
        return completion(f"On day {next(steps)} feed the sourdough starter rye flour and water.")

    model = ScriptedModel(responder=responder)
    section, _ = write(
        model, planned_words=6000, budget=90, max_candidates=2, check_budget=0.9, max_continuations=10
    )
    first, again = (c.usage for c in section.candidates)
    assert again.total_tokens >= first.total_tokens  # continued until its reserve was spent...
    # ...and then not again: one request past it at most (unbounded, it took 9 requests and
    # 649 tokens against the first answer's 126)
    assert again.total_tokens < 2 * first.total_tokens
    assert section.check_tokens == again.total_tokens


def test_a_chinese_brief_answered_in_english_is_asked_again_in_chinese() -> None:
    brief = Brief(instruction="写一篇300字的指南，介绍如何养活酸面包的酵头。", target_words=300)
    plan = Plan(
        title="酵头",
        sections=[SectionPlan(title="喂养", main_point="每天给酵头喂面粉和水", target_words=100)],
    )
    chinese = (
        "每天给酵头喂等量的面粉和水，让酵头保持温暖和活跃。喂之前先倒掉一半酵头，否则瓶子很快就会装满。"
        "黑麦面粉能唤醒迟缓的酵头，因为麸皮里有酵母和细菌需要的养分。厨房温暖的时候，酵头长得更快。"
        "连续喂养几天以后，酵头会在几个小时内膨胀一倍，闻起来有淡淡的甜酸味。"
    )
    model = ScriptedModel([completion(ON), completion(chinese)])
    section, _ = write(model, budget=100, brief=brief, plan=plan)
    assert "Write in Chinese." in model.calls[1].messages[-1]["content"]
    assert (
        section.candidates[0].scores.language == "en" and "language" in section.candidates[0].scores.problems
    )
    assert section.chosen == 1 and section.scores is not None and section.scores.language == "zh"


def test_checks_off_keep_no_scores_and_ask_once() -> None:
    model = ScriptedModel([completion(TALK_START + OFF)])
    section, _ = write(model, checks=False)
    assert section.scores is None and section.candidates == [] and len(model.calls) == 1
    assert section.text.startswith("Sure!")  # talk is left alone with the checks off


@pytest.mark.parametrize("mode", ["sequential", "parallel", "sketch"])
def test_a_document_never_spends_more_than_its_check_budget(mode: str) -> None:
    """The odd sections' first answers drift: they are asked again while the budget lasts
    (10 sections: 0.3 of 10 first answers pays for 3 re-asks), the re-asks keep to the
    point and are kept, and the document's extra tokens stay within 0.3 of its first answers'."""

    def responder(messages: list[Message], params: GenerationParams) -> Completion:
        reply = writer_reply(messages, params)
        step = messages[-1]["content"]
        number = asked_section(step)
        if params.json_schema is None and number and number % 2 and "Above all" not in step:
            return Completion(drifting(len(reply.text.split()), number), reply.finish_reason, reply.usage)
        return reply

    model = ScriptedModel(responder=responder)
    doc = asyncio.run(
        awrite("Write a 10000-word travel guide to Yunnan", model=model, settings=Settings(mode=mode))
    )
    assert doc.checks == "lexical" and len(doc.sections) == 10
    first = sum((s.candidates[0].usage if s.candidates else s.usage).total_tokens for s in doc.sections)
    assert 0 < doc.check_tokens <= 0.3 * first
    assert all(len(s.candidates) <= 3 and s.scores is not None for s in doc.sections)
    asked_again = [s for s in doc.sections if s.candidates]
    assert 1 <= len(asked_again) <= 3
    for section in asked_again:
        assert section.candidates[0].scores.problems == ["off_topic"]
        assert section.chosen == 1 and section.scores is not None and section.scores.problems == []
        assert "Above all, in this answer: Stay on:" in section.candidates[1].messages[-1]["content"]


def test_a_resumed_run_counts_what_its_checkpointed_sections_spent(tmp_path: Path) -> None:
    """Every first answer drifts; the run dies at section 6 and is resumed: the re-asks of
    both runs together stay within 0.3 of the document's first answers."""

    def drift_then(fail_on: int | None) -> ScriptedModel:
        def reply(messages: list[Message], params: GenerationParams) -> Completion:
            answer = writer_reply(messages, params)
            number = asked_section(messages[-1]["content"])
            if number and number == fail_on:
                raise RuntimeError("died")
            if number and "Above all" not in messages[-1]["content"]:
                return Completion(
                    drifting(len(answer.text.split()), number), answer.finish_reason, answer.usage
                )
            return answer

        return ScriptedModel(responder=reply)

    brief, run = "Write a 10000-word travel guide to Yunnan", tmp_path / "run"
    with pytest.raises(RuntimeError):
        asyncio.run(awrite(brief, model=drift_then(6), settings=Settings(), run_dir=run))
    doc = asyncio.run(awrite(brief, model=drift_then(None), settings=Settings(), run_dir=run, resume=True))
    first = sum((s.candidates[0].usage if s.candidates else s.usage).total_tokens for s in doc.sections)
    assert 0 < doc.check_tokens <= 0.3 * first


@pytest.mark.vllm
def test_the_bundled_model_writes_with_checks_on(vllm_server) -> None:
    """End to end on the real bundled model (vLLM over HTTP), parallel mode, 300 words, the
    checks on with room for re-asks (check_budget 2: a short document's default 0.3 pays
    for none): every section keeps its scores, its kept text holds no line of talk, and
    every candidate kept its exact request."""
    settings = Settings(
        base_url=[vllm_server.base_url], model=vllm_server.model_name, mode="parallel", check_budget=2.0
    )
    doc = asyncio.run(
        awrite("Write a 300-word guide to keeping a sourdough starter alive", settings=settings)
    )
    assert doc.checks == "lexical" and doc.words > 0
    first = 0
    for section in doc.sections:
        assert section.scores is not None and talk_spans(section.text) == []
        assert len(section.candidates) <= settings.max_candidates
        if section.candidates:
            assert section.scores == section.candidates[section.chosen].scores
            assert all(c.messages[-1]["role"] == "user" for c in section.candidates)
            first += section.candidates[0].usage.total_tokens
        else:
            first += section.usage.total_tokens
    assert doc.check_tokens <= 2.0 * first * 1.5  # by estimate: a re-ask may run a little longer
