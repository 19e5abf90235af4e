"""The fault proxy itself: each fault does what it says, and the client survives it."""

import asyncio
import time

import pytest

from agentwrite.errors import ModelRequestError, ServerUnreachable
from agentwrite.llm.base import GenerationParams
from agentwrite.llm.openai_compat import OpenAICompatModel
from agentwrite.llm.retry import RetryPolicy
from agentwrite.testing.fault_proxy import FAILING, MARKER, Fault, FaultProxy, Injection, scripted, seeded
from agentwrite.testing.openai_server import OpenAIServer
from agentwrite.testing.replies import Reply

ASK = [{"role": "user", "content": "Say hello."}]
PARAMS = GenerationParams(max_tokens=32)
FAST = RetryPolicy(max_retries=2, base_delay=0.01, max_delay=0.05)
SIX_WORDS = "one two three four five six"


def client(proxy: FaultProxy, retries: int = 2, key: str | None = None) -> OpenAICompatModel:
    policy = RetryPolicy(max_retries=retries, base_delay=0.01, max_delay=0.05)
    return OpenAICompatModel(proxy.base_url, "test-model", timeout=0.5, retry=policy, api_key=key)


@pytest.mark.parametrize("fault", sorted(FAILING, key=str))
async def test_a_failing_fault_costs_one_retry_and_the_answer_is_the_upstreams(fault: Fault) -> None:
    with (
        OpenAIServer(lambda r: Reply.completion(SIX_WORDS)) as upstream,
        FaultProxy(upstream.base_url, scripted(fault), stall=1.0) as proxy,
    ):
        model = client(proxy)
        done = await model.complete(ASK, PARAMS)
        await model.aclose()
        assert done.text == SIX_WORDS
        assert proxy.injections == [Injection(1, fault), Injection(2, None)]
        # only answers the proxy forwarded reached the upstream
        forwarded = {Fault.DROP, Fault.TRUNCATED}
        assert len(upstream.completion_requests()) == (2 if fault in forwarded else 1)


@pytest.mark.parametrize("fault", [Fault.HTTP_503, Fault.STALL, Fault.DROP, Fault.NOT_JSON])
async def test_a_fault_on_every_try_is_a_typed_error(fault: Fault) -> None:
    with (
        OpenAIServer(lambda r: Reply.completion(SIX_WORDS)) as upstream,
        FaultProxy(upstream.base_url, seeded(1.0, seed=0, kinds=[fault]), stall=1.0) as proxy,
    ):
        model = client(proxy, retries=1)
        with pytest.raises((ModelRequestError, ServerUnreachable)) as caught:
            await model.complete(ASK, PARAMS)
        await model.aclose()
    assert proxy.requests == 2
    assert proxy.base_url in str(caught.value)


async def test_content_faults_reach_the_caller_as_completions() -> None:
    with (
        OpenAIServer(lambda r: Reply.completion(SIX_WORDS)) as upstream,
        FaultProxy(
            upstream.base_url, scripted(Fault.EMPTY, Fault.CUT_SHORT, Fault.DELAY), delay=0.2
        ) as proxy,
    ):
        model = client(proxy)
        empty = await model.complete(ASK, PARAMS)
        cut = await model.complete(ASK, PARAMS)
        started = time.monotonic()
        late = await model.complete(ASK, PARAMS)
        waited = time.monotonic() - started
        await model.aclose()
    assert (empty.text, empty.finish_reason) == ("", "stop")
    assert (cut.text, cut.finish_reason) == ("one two", "length")
    assert late.text == SIX_WORDS and waited >= 0.2


async def test_a_reordered_response_is_overtaken_by_a_later_one() -> None:
    def by_prompt(request: dict) -> Reply:
        return Reply.completion(request["messages"][0]["content"], delay=0.05)

    with (
        OpenAIServer(by_prompt) as upstream,
        FaultProxy(upstream.base_url, scripted(Fault.REORDER), hold=2.0) as proxy,
    ):
        model = client(proxy)
        finished: list[str] = []

        async def ask(text: str, after: float) -> None:
            await asyncio.sleep(after)
            finished.append((await model.complete([{"role": "user", "content": text}], PARAMS)).text)

        await asyncio.gather(ask("first", 0.0), ask("second", 0.02))
        await model.aclose()
    assert finished == ["second", "first"]


async def test_the_echoed_key_is_scrubbed_from_retry_logs_and_errors(
    caplog: pytest.LogCaptureFixture,
) -> None:
    key = "sk-proxy-test-31337"
    with (
        OpenAIServer(lambda r: Reply.completion(SIX_WORDS)) as upstream,
        FaultProxy(upstream.base_url, seeded(1.0, seed=0, kinds=[Fault.ECHO_AUTH])) as proxy,
    ):
        model = client(proxy, retries=1, key=key)
        with pytest.raises(ModelRequestError) as caught:
            await model.complete(ASK, PARAMS)
        await model.aclose()
    assert MARKER in str(caught.value) and key not in str(caught.value)
    assert "***" in str(caught.value)
    assert key not in caplog.text and MARKER in caplog.text


def test_seeded_schedules_fault_about_the_asked_share() -> None:
    schedule = seeded(0.4, seed=11)
    faulted = sum(schedule(n) is not None for n in range(1, 1001))
    assert 350 <= faulted <= 450
    assert {schedule(n) for n in range(1, 1001)} - {None} == set(Fault)
