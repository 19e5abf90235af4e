"""Section writing: continuation on the token limit, on short sections, empty answers."""

import asyncio

import pytest

from agentwrite.domain import Usage
from agentwrite.errors import ModelError
from agentwrite.graph.context import WriteContext
from agentwrite.graph.nodes.section_request import fixed, section_params
from agentwrite.graph.nodes.write import generate_section
from agentwrite.llm.base import Completion
from agentwrite.settings import Settings
from agentwrite.testing.fake_writer import prose
from agentwrite.testing.scripted_model import ScriptedModel

PROMPT = [{"role": "user", "content": "Write section 1."}]


def write(model: ScriptedModel, budget: int = 100, **settings: object):
    ctx = WriteContext(model=model, settings=Settings(**settings))
    return asyncio.run(
        generate_section(
            ctx, fixed(list(PROMPT)), index=0, count=1, title="Tea", language="English", budget=budget
        )
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
    assert follow_up[2]["content"].startswith('Go on with "Tea"') and "in English" in follow_up[2]["content"]


def test_a_cut_answer_past_its_budget_ends_at_a_sentence_and_says_stop() -> None:
    model = ScriptedModel([Completion(prose(130) + " And then the", "length", Usage(completion_tokens=200))])
    section = write(model)
    assert len(model.calls) == 1
    assert 100 <= section.words < 130 and section.text.endswith(".")
    assert section.finish_reason == "stop"


def test_a_streamed_answer_is_stopped_at_the_first_sentence_end_past_its_budget() -> None:
    model = ScriptedModel([Completion(prose(300), "length", Usage(completion_tokens=300))])
    section = write(model)  # prose(300): sentences of 10 words, so the stop comes after word 100
    assert len(model.calls) == 1 and model.calls[0].params.watch is not None
    assert section.text == prose(300)[: len(prose(100))]  # what trimming the whole answer would keep
    assert section.words == 100 and section.finish_reason == "stop"
    assert section.usage.completion_tokens <= 101  # the engine stopped there: no 200 words more


def test_a_stream_stopped_at_its_budget_counts_only_the_sentences_the_guard_keeps() -> None:
    repeated = "We dug the bed by the wall today."
    answer = prose(40, seed=4) + f" {repeated}" * 2 + " " + prose(200, seed=5)
    model = ScriptedModel([Completion(answer, "length", Usage())])
    section = write(model)
    assert section.text.count(repeated) == 1 and section.words_dropped == 8
    # 40 + 8 + six sentences of 10; counting the dropped repeat, it would stop at 98 kept words
    assert section.words == 108 and section.finish_reason == "stop"
    assert len(model.calls) == 1


def test_a_cut_answer_past_its_budget_without_a_sentence_end_says_length() -> None:
    words = "tea leaf cup pot " * 30
    model = ScriptedModel([Completion(words, "length", Usage(completion_tokens=200))])
    section = write(model, loop_guard=False)
    assert section.words == 120
    assert section.finish_reason == "length"


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
    ctx = WriteContext(model=ScriptedModel(), settings=Settings(), max_context=1000)
    messages = [{"role": "user", "content": "x" * 1500}]  # about 500 tokens
    params = section_params(ctx, messages, 1000, force_length=True)
    assert params.max_tokens <= 1000 - 500
    assert params.min_tokens is not None and params.min_tokens <= params.max_tokens
    with pytest.raises(ModelError, match="no room for output"):
        section_params(ctx, [{"role": "user", "content": "x" * 3000}], 1000, force_length=True)


def test_min_tokens_can_be_turned_off() -> None:
    ctx = WriteContext(model=ScriptedModel(), settings=Settings(min_tokens=False))
    assert section_params(ctx, list(PROMPT), 500, force_length=True).min_tokens is None


LOOPED = "I was experimenting with different types of seeds that are good for people."


def looping(fresh_words: int, seed: int, repeats: int = 40) -> str:
    """Fresh prose, then one sentence until the token limit, as a small model does."""
    return prose(fresh_words, seed=seed) + " " + " ".join([LOOPED] * repeats)


def test_a_loop_is_stopped_cut_and_the_section_continued_without_it() -> None:
    model = ScriptedModel(
        [Completion(looping(60, seed=1), "length", Usage()), Completion(prose(60, seed=2), "stop", Usage())]
    )
    section = write(model, budget=120)
    assert section.text.count(LOOPED) == 1  # the first time it was still a fine sentence
    assert section.loops_cut == 1 and section.words_dropped > 0
    assert section.words >= 120 * 0.9
    first, then = model.calls
    assert first.params.watch is not None  # the stream was watched, and stopped early:
    assert first.params.repetition_penalty == 1.1
    follow_up = then.messages
    assert follow_up[1]["role"] == "assistant" and LOOPED in follow_up[1]["content"]
    assert follow_up[1]["content"].count(LOOPED) == 1
    assert f'Do not write this again: "{LOOPED}"' in follow_up[2]["content"]
    assert then.params.repetition_penalty == pytest.approx(1.1 + 0.03)  # continuation, one step stronger


def test_a_stream_is_stopped_as_soon_as_it_loops() -> None:
    seen: list[str] = []

    def answer(messages, params):
        text = looping(40, seed=3, repeats=200)
        for i, piece in enumerate(text.split(" ")):  # what a streaming server would send
            seen.append(piece)
            if params.watch(" " + piece if i else piece):
                return Completion(" ".join(seen), "halted", Usage())
        raise AssertionError("the watch never stopped the stream")

    model = ScriptedModel([answer], responder=lambda m, p: prose(80, seed=len(m)))
    write(model, budget=100)
    assert len(seen) <= 40 + 4 * len(LOOPED.split())  # stopped at the third repeat, not after 200


def test_loops_are_cut_a_bounded_number_of_times_and_never_reach_the_text() -> None:
    model = ScriptedModel(responder=lambda messages, params: looping(15, seed=len(model.calls)))
    section = write(model, budget=300, max_loop_cuts=2)
    assert len(model.calls) == 3  # the first answer and two continuations, each cut
    assert section.loops_cut == 3 and section.text.count(LOOPED) == 1
    penalties = [call.params.repetition_penalty for call in model.calls]
    assert penalties == [1.1, pytest.approx(1.13), pytest.approx(1.16)]


def test_the_guard_can_be_turned_off() -> None:
    model = ScriptedModel([Completion(looping(60, seed=1, repeats=5), "stop", Usage())])
    section = write(model, budget=100, loop_guard=False)
    assert section.text.count(LOOPED) == 5 and section.loops_cut == 0
    assert model.calls[0].params.watch is None


def test_a_backend_that_cannot_stream_gets_its_whole_answers_checked() -> None:
    from agentwrite.llm.base import Capabilities

    answers = [
        Completion(looping(60, seed=1), "length", Usage()),
        Completion(prose(60, seed=2), "stop", Usage()),
    ]
    model = ScriptedModel(answers, capabilities=Capabilities(streaming_watch=False))
    section = write(model, budget=120)
    assert model.calls[0].params.watch is None  # nothing to watch: the answer arrives whole
    assert section.loops_cut == 1 and section.text.count(LOOPED) == 1
