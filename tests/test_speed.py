"""What each write mode sends, the context budget, overlap of parallel requests and shared
prompt prefixes, all seen through the scripted fake's record of calls."""

import asyncio
import itertools
import json

import pytest

from agentwrite.domain import Usage
from agentwrite.errors import PlanError
from agentwrite.graph.context import WriteContext
from agentwrite.graph.nodes.section_request import fixed
from agentwrite.graph.nodes.write import generate_section
from agentwrite.length import estimate_tokens, without_target
from agentwrite.llm.base import Completion
from agentwrite.llm.factory import make_model
from agentwrite.llm.limit import LimitedModel
from agentwrite.runner import awrite
from agentwrite.settings import Settings
from agentwrite.testing.fake_writer import prose
from agentwrite.testing.scripted_model import RecordedCall, ScriptedModel
from tests.scripted import writer_model, writer_reply

BRIEF = "Write a 3000-word guide to the tea houses of Chengdu"
STEP = "Now write the part titled"  # the step of a sequential request
ASK = "Write only the part titled"  # the step of a parallel or sketch request
SKETCH = "Outline of the whole piece, with what each part says:"


def write(model, mode: str, words: int = 3000, **settings: object):
    return asyncio.run(awrite(BRIEF, model=model, words=words, settings=Settings(mode=mode, **settings)))


def section_calls(calls: list[RecordedCall]) -> list[RecordedCall]:
    """The requests that write a section (not the plan or the sketch)."""
    return [c for c in calls if "the part titled" in c.messages[-1]["content"]]


def user_prompt(call: RecordedCall) -> str:
    return call.messages[-1]["content"]


def test_parallel_sections_see_only_instruction_and_plan() -> None:
    model = writer_model()
    doc = write(model, "parallel")
    calls = section_calls(model.calls)
    assert len(calls) == len(doc.sections) == len(doc.plan.sections) > 1
    first = doc.plan.sections[0]
    for call in calls:
        prompt = user_prompt(call)
        assert prompt.startswith(without_target(BRIEF)) and f"1. {first.title}: {first.main_point}" in prompt
        assert "3000-word" not in prompt  # the section has its own length
        assert "The text so far" not in prompt and SKETCH not in prompt and "words)" not in prompt
        assert not any(s.text[:80] in prompt for s in doc.sections)


def test_sketch_sections_see_instruction_plan_and_the_whole_sketch() -> None:
    model = writer_model()
    doc = write(model, "sketch")
    sketch_requests = [
        c for c in model.calls if c.params.json_schema and "sketches" in str(c.params.json_schema)
    ]
    [sketch_request] = sketch_requests
    sketches = json.loads(writer_reply(sketch_request.messages, sketch_request.params).text)["sketches"]
    calls = section_calls(model.calls)
    assert len(calls) == len(doc.sections) == len(sketches) > 1
    for call in calls:
        prompt = user_prompt(call)
        assert prompt.startswith(without_target(BRIEF)) and "The text so far" not in prompt
        # every section sees the whole sketch, numbered, under the sections' titles
        sketch = prompt[prompt.index(SKETCH) : prompt.index(ASK)]
        titles = [s.title for s in doc.plan.sections]
        assert all(f"{i}. {titles[i - 1]}: {text}\n" in sketch for i, text in enumerate(sketches, start=1))
        assert not any(s.text[:80] in prompt for s in doc.sections)
    # the sketch request itself comes after the plan and before any section
    assert model.calls.index(sketch_request) < model.calls.index(calls[0])


def fits(calls: list[RecordedCall], window: int) -> bool:
    """Every request's estimated prompt plus its max_tokens fits the window."""
    return all(
        sum(estimate_tokens(m["content"]) for m in c.messages) + c.params.max_tokens <= window for c in calls
    )


@pytest.mark.parametrize("mode", ["sequential", "parallel", "sketch"])
def test_no_request_exceeds_a_small_context_window(mode: str) -> None:
    model = writer_model()
    # the fake plans the fewest sections the budget bounds allow: sixteen of 500 words
    doc = write(model, mode, words=8000, max_context=2048, max_section_words=500)
    assert doc.words >= 7000 and len(doc.sections) == 16
    assert fits(model.calls, 2048)


def test_sequential_summarises_the_oldest_text_and_keeps_the_latest_verbatim() -> None:
    model = writer_model()
    # sixteen sections of 500 words, as above
    doc = write(model, "sequential", words=8000, max_context=8192, prior_text="full", max_section_words=500)
    assert len(doc.sections) == 16
    assert fits(model.calls, 8192)
    last = user_prompt(section_calls(model.calls)[-1])
    summarised = last.count("(summary)")
    assert 1 <= summarised <= 13  # some of the 15 sections before are summarised; at least two are not
    assert [s.text in last for s in doc.sections[:-1]] == [i >= summarised for i in range(15)]


def test_parallel_requests_overlap() -> None:
    model = writer_model(delay=0.05)
    doc = write(model, "parallel")
    assert model.max_concurrency == len(doc.sections) > 1


def test_in_flight_bound_holds_across_documents() -> None:
    inner = writer_model(delay=0.02)
    shared = LimitedModel(inner, 4)

    async def three() -> None:
        await asyncio.gather(
            *(awrite(BRIEF, model=shared, words=2000, settings=Settings(mode="parallel")) for _ in range(3))
        )

    asyncio.run(three())
    assert inner.max_concurrency == 4


def test_sequential_requests_never_overlap() -> None:
    model = writer_model(delay=0.01)
    write(model, "sequential", words=2000)
    assert model.max_concurrency == 1


def test_make_model_applies_max_inflight() -> None:
    model = make_model(Settings(base_url="http://127.0.0.1:9/v1", max_inflight=3))
    assert isinstance(model, LimitedModel) and model.limiter.slots == 3
    asyncio.run(model.aclose())


def test_sequential_prompts_extend_the_previous_prompt() -> None:
    """With the full text so far, request k+1 starts with request k's prompt up to its step,
    so the server's prefix cache reuses the instruction, the plan and all the text before
    (a digest, the default, shares only what comes before the text so far)."""
    model = writer_model()
    write(model, "sequential", prior_text="full")
    calls = section_calls(model.calls)
    system = {c.messages[0]["content"] for c in calls}
    assert len(system) == 1
    prompts = [user_prompt(c) for c in calls]
    # the first section has nothing written yet; from the second on the text only grows
    assert prompts[1].startswith(prompts[0][: prompts[0].index("The text so far:")])
    for before, after in itertools.pairwise(prompts[1:]):
        assert after.startswith(before[: before.index(STEP)])


@pytest.mark.parametrize("mode", ["parallel", "sketch"])
def test_fanned_out_prompts_share_everything_before_the_step(mode: str) -> None:
    model = writer_model()
    write(model, mode)
    heads = {user_prompt(c)[: user_prompt(c).index(ASK)] for c in section_calls(model.calls)}
    assert len(heads) == 1


def test_plan_request_fits_a_small_context_window() -> None:
    model = ScriptedModel(responder=lambda messages, params: "{}")
    window = 1024
    with pytest.raises(PlanError):  # an unusable plan, but every attempt must fit the window
        write(model, "parallel", words=20000, max_context=window)
    assert len(model.calls) == 3 and fits(model.calls, window)


def test_a_chinese_plan_gets_room_for_its_characters() -> None:
    """An 8,000-character Chinese plan was cut at 2,176 tokens three times over on vLLM."""
    asked = {}
    for brief in ("Write an 8000-word travel guide to Yunnan.", "写一篇8000字的云南旅行指南。"):
        model = ScriptedModel(responder=lambda messages, params: "{}")
        with pytest.raises(PlanError):
            asyncio.run(awrite(brief, model=model, settings=Settings(mode="parallel")))
        asked[brief[:1]] = model.calls[0].params.max_tokens
    assert asked["W"] == 256 + 96 * 20 and asked["写"] > 3 * asked["W"]


def section_ctx(model: ScriptedModel, max_context: int | None = None) -> WriteContext:
    return WriteContext(model=model, settings=Settings(), max_context=max_context)


def test_a_length_cut_past_the_budget_ends_at_a_sentence_without_another_request() -> None:
    model = ScriptedModel([Completion(prose(300) + " And then the tea", "length", Usage())])
    ask = [{"role": "user", "content": "Write section 1."}]
    section = asyncio.run(
        generate_section(
            section_ctx(model), fixed(ask), index=0, count=1, title="Tea", language="English", budget=95
        )
    )
    assert len(model.calls) == 1
    assert section.text == prose(100)  # the first sentence end at or past the budget


def test_words_the_cleaner_drops_do_not_count_towards_the_budget() -> None:
    # 20 words of prose among 200 words of plan lines that the section cleaner strips
    filler = "\n".join(
        "Main point: the long history of tea in Yunnan, Sichuan and Fujian." for _ in range(20)
    )
    model = ScriptedModel(
        [Completion(f"{prose(20)}\n{filler}\nAnd then", "length", Usage()), prose(90, seed=1)]
    )
    ask = [{"role": "user", "content": "Write section 1."}]
    section = asyncio.run(
        generate_section(
            section_ctx(model), fixed(ask), index=0, count=1, title="Tea", language="English", budget=100
        )
    )
    assert len(model.calls) == 2  # continued: 20 words kept is short of the budget
    assert "Main point" not in section.text and section.words >= 100


def test_a_length_cut_short_of_the_budget_is_continued_not_cut() -> None:
    model = ScriptedModel([Completion(prose(70) + " And then the tea", "length", Usage()), "was served."])
    ask = [{"role": "user", "content": "Write section 1."}]
    section = asyncio.run(
        generate_section(
            section_ctx(model), fixed(ask), index=0, count=1, title="Tea", language="English", budget=100
        )
    )
    assert len(model.calls) == 2
    assert section.text.endswith("And then the tea was served.")
    assert model.calls[1].params.min_tokens is None  # not short: no forced length


def test_a_continuation_without_room_in_the_window_ends_the_section() -> None:
    model = ScriptedModel([Completion(prose(150), "length", Usage(completion_tokens=150))])
    ask = [{"role": "user", "content": "x" * 1920}]  # 768 estimated tokens of a 1024-token window
    section = asyncio.run(
        generate_section(
            section_ctx(model, 1024),
            fixed(ask),
            index=0,
            count=1,
            title="Tea",
            language="English",
            budget=400,
        )
    )
    assert len(model.calls) == 1 and section.words == 150
