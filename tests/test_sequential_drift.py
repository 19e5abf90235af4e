"""Sequential mode does not write on from a section that left the brief: the text so far shows
such a section by its planned main point (``graph/nodes/sequential.shown_sections``)."""

from __future__ import annotations

import asyncio

from agentwrite.llm.base import Completion, GenerationParams, Message
from agentwrite.runner import awrite
from agentwrite.settings import Settings
from agentwrite.testing.scripted_model import ScriptedModel
from tests.scripted import asked_section, drifting, writer_reply

BRIEF = "Write a 1200-word essay on the tea horse road"


def first_section_drifts(messages: list[Message], params: GenerationParams) -> Completion:
    """The writer, but every answer for the first section is off the brief."""
    answer = writer_reply(messages, params)
    if asked_section(messages[-1]["content"]) != 1 and not messages[-1]["content"].startswith("Go on"):
        return answer
    return Completion(drifting(len(answer.text.split()), 1), answer.finish_reason, answer.usage)


def test_the_next_section_sees_the_main_point_of_a_section_that_drifted() -> None:
    model = ScriptedModel(responder=first_section_drifts)
    doc = asyncio.run(awrite(BRIEF, model=model, settings=Settings(mode="sequential", max_candidates=1)))
    first = doc.sections[0]
    assert first.scores is not None and "off_topic" in first.scores.problems
    second = next(c for c in model.calls if asked_section(c.messages[-1]["content"]) == 2)
    prompt = second.messages[-1]["content"]
    assert doc.plan.sections[0].main_point in prompt
    assert first.text[:60] not in prompt
