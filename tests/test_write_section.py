"""Section writing: continuation on the token limit, on short sections, empty answers."""

import asyncio

import pytest

from agentwrite.domain import Usage
from agentwrite.errors import ModelError
from agentwrite.graph.context import RunContext
from agentwrite.graph.nodes.write import fixed, generate_section, section_params
from agentwrite.llm.base import Completion
from agentwrite.llm.fake import ScriptedModel
from agentwrite.settings import Settings
from tests.openai_server import prose

PROMPT = [{"role": "user", "content": "Write section 1."}]


def write(model: ScriptedModel, budget: int = 100, **settings: object):
    ctx = RunContext(model=model, settings=Settings(**settings))
    return asyncio.run(
        generate_section(ctx, fixed(list(PROMPT)), index=0, count=1, title="Tea", budget=budget)
    )


def test_length_cut_is_continued_and_joined_mid_sentence() -> None:
    model = ScriptedModel(
        [Completion("Tea grew first in the hills of", "length", Usage(completion_tokens=7)), prose(95)]
    )
    section = write(model)
    assert section.text.startswith("Tea grew first in the hills of " + prose(95).split()[0])
    assert section.finish_reason == "stop"
    assert len(model.calls) == 2
    follow_up = model.calls[1].messages
    assert follow_up[:1] == PROMPT
    assert follow_up[1] == {"role": "assistant", "content": "Tea grew first in the hills of"}
    assert "Continue section 1" in follow_up[2]["content"]


def test_short_section_is_continued_with_min_tokens() -> None:
    model = ScriptedModel([prose(30), prose(70, seed=5)])
    section = write(model)
    assert section.words == 100
    assert "about 70 more words" in model.calls[1].messages[-1]["content"]
    assert model.calls[1].params.min_tokens is not None


def test_long_enough_section_is_not_continued() -> None:
    model = ScriptedModel([prose(80)])
    assert write(model).words == 80
    assert len(model.calls) == 1


def test_continuations_are_bounded() -> None:
    model = ScriptedModel(responder=lambda m, p: Completion("more words here", "length", Usage()))
    section = write(model, max_continuations=2)
    assert len(model.calls) == 3
    assert section.finish_reason == "length"


def test_empty_answers_are_retried_then_fail_loudly() -> None:
    model = ScriptedModel(["", "   ", ""])
    with pytest.raises(ModelError, match="came back empty 3 times"):
        write(model)


def test_an_empty_answer_is_never_a_section() -> None:
    model = ScriptedModel(["", prose(100)])
    assert write(model).words == 100


def test_usage_adds_up_over_continuations() -> None:
    model = ScriptedModel(
        [
            Completion("Half of it", "length", Usage(prompt_tokens=10, completion_tokens=3, requests=1)),
            Completion(prose(98), "stop", Usage(prompt_tokens=20, completion_tokens=98, requests=1)),
        ]
    )
    usage = write(model).usage
    assert (usage.prompt_tokens, usage.completion_tokens, usage.requests) == (30, 101, 2)


def test_params_respect_the_context_window() -> None:
    ctx = RunContext(model=ScriptedModel(), settings=Settings(), max_context=1000)
    messages = [{"role": "user", "content": "x" * 1500}]  # about 500 tokens
    params = section_params(ctx, messages, 1000, force_length=True)
    assert params.max_tokens <= 1000 - 500
    assert params.min_tokens is not None and params.min_tokens <= params.max_tokens
    with pytest.raises(ModelError, match="no room for output"):
        section_params(ctx, [{"role": "user", "content": "x" * 3000}], 1000, force_length=True)


def test_min_tokens_can_be_turned_off() -> None:
    ctx = RunContext(model=ScriptedModel(), settings=Settings(min_tokens=False))
    assert section_params(ctx, list(PROMPT), 500, force_length=True).min_tokens is None
