"""The in-process backend, running the bundled model for real on the CPU (a few tokens a request)."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import pytest

from agentwrite.errors import InputError, ModelError
from agentwrite.llm.base import ChatModel, Completion, GenerationParams, Message
from agentwrite.llm.bundled import BUNDLED_MODEL_NAME
from agentwrite.llm.local import LocalModel
from agentwrite.settings import Settings

SHORT_ANSWER: list[Message] = [{"role": "user", "content": "Reply with the single word: yes"}]


@pytest.fixture(scope="module")
def local() -> Iterator[LocalModel]:
    model = LocalModel()
    yield model
    asyncio.run(model.aclose())


def ask(text: str) -> list[Message]:
    return [{"role": "user", "content": text}]


async def test_speaks_the_protocol(local: LocalModel) -> None:
    assert isinstance(local, ChatModel)
    assert local.name == BUNDLED_MODEL_NAME
    assert await local.context_window() == 8192
    assert local.capabilities.structured_output is False


async def test_a_reply_cut_by_max_tokens_says_length(local: LocalModel) -> None:
    done = await local.complete(ask("Write a story about a lighthouse."), GenerationParams(8, temperature=0))
    assert done.finish_reason == "length"
    assert done.usage.completion_tokens == 8
    assert done.usage.requests == 1
    # the ChatML prompt: the default system message, the user turn and the assistant header
    assert done.usage.prompt_tokens > 10
    assert done.text.strip()


async def test_a_reply_that_ends_by_itself_says_stop(local: LocalModel) -> None:
    done = await local.complete(SHORT_ANSWER, GenerationParams(32, temperature=0))
    assert done.finish_reason == "stop"
    # the end-of-turn token counts as generated, as vLLM counts it
    assert done.usage.completion_tokens <= 32


async def test_min_tokens_keeps_the_reply_going(local: LocalModel) -> None:
    done = await local.complete(SHORT_ANSWER, GenerationParams(24, temperature=0, min_tokens=24))
    assert (done.finish_reason, done.usage.completion_tokens) == ("length", 24)


async def test_concurrent_requests_share_one_batch_with_their_own_limits(local: LocalModel) -> None:
    first = len(local.batch_sizes)
    replies = await asyncio.gather(
        local.complete(ask("Describe a forest."), GenerationParams(4, temperature=0)),
        local.complete(SHORT_ANSWER, GenerationParams(12, temperature=0, min_tokens=12)),
        local.complete(ask("Describe a river."), GenerationParams(9, temperature=0)),
    )
    assert local.batch_sizes[first:] == [3]
    assert [(r.finish_reason, r.usage.completion_tokens) for r in replies] == [
        ("length", 4),
        ("length", 12),
        ("length", 9),
    ]


async def test_greedy_batched_and_alone_agree(local: LocalModel) -> None:
    params = GenerationParams(6, temperature=0)
    alone = await local.complete(ask("Name three colours."), params)
    together = await asyncio.gather(
        local.complete(ask("Name three colours."), params),
        local.complete(ask("Write a long essay on the history of the printing press in Europe."), params),
    )
    assert together[0].text == alone.text


async def test_requests_that_sample_differently_run_in_separate_batches(local: LocalModel) -> None:
    first = len(local.batch_sizes)
    await asyncio.gather(
        local.complete(ask("Hi"), GenerationParams(2, temperature=0)),
        local.complete(ask("Hi"), GenerationParams(2, temperature=0.7, seed=1)),
        local.complete(ask("Hi"), GenerationParams(2, temperature=0)),
    )
    assert local.batch_sizes[first:] == [2, 1]


async def test_a_request_beyond_the_context_fails_alone(local: LocalModel) -> None:
    fits, too_long = await asyncio.gather(
        local.complete(ask("Hi"), GenerationParams(3, temperature=0)),
        local.complete(ask("Hi"), GenerationParams(8190)),
        return_exceptions=True,
    )
    assert isinstance(fits, Completion) and fits.usage.completion_tokens == 3
    assert isinstance(too_long, ModelError)
    assert "exceeds the model's context of 8192 tokens" in str(too_long)


def test_from_settings_picks_the_bundled_model_or_a_folder(tmp_path: Path) -> None:
    assert LocalModel.from_settings(Settings()).name == BUNDLED_MODEL_NAME
    (tmp_path / "config.json").write_text("{}", "utf-8")
    assert LocalModel.from_settings(Settings(model=str(tmp_path))).name == tmp_path.name
    with pytest.raises(InputError, match="not a local model folder"):
        LocalModel.from_settings(Settings(model="Qwen/Qwen2.5-7B-Instruct"))
