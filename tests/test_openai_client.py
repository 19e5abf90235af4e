"""The OpenAI-compatible client against a real HTTP server on a loopback socket."""

import asyncio
import itertools
import json
import logging
import socket
import threading
import time
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from agentwrite.domain import Plan, Usage
from agentwrite.errors import ModelRequestError, PromptTooLong, ServerUnreachable
from agentwrite.llm.base import HALTED, Capabilities, GenerationParams
from agentwrite.llm.limit import LimitedModel
from agentwrite.llm.openai_compat import OpenAICompatModel, ServerInfo
from agentwrite.llm.retry import RetryPolicy
from agentwrite.llm.scheduling import FairLimiter
from agentwrite.settings import load_settings
from agentwrite.testing.openai_server import OpenAIServer
from agentwrite.testing.replies import Reply
from tests.conftest import RealNetworkBlocked

FAST = RetryPolicy(max_retries=3, base_delay=0.01, max_delay=0.05)
ASK = [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Say hello."}]
PARAMS = GenerationParams(max_tokens=32)
KEY = "sk-test-5ecret-key-0042"


def scripted(*replies: Reply) -> Callable[[dict[str, Any]], Reply]:
    """A handler that answers with ``replies`` in order, repeating the last one."""
    queue = iter(replies)
    last: list[Reply] = []

    def handler(request: dict[str, Any]) -> Reply:
        last[:] = [next(queue, last[0] if last else replies[-1])]
        return last[0]

    return handler


def client(server: OpenAIServer, **kwargs: Any) -> OpenAICompatModel:
    kwargs.setdefault("retry", FAST)
    return OpenAICompatModel(server.base_url, kwargs.pop("model", "test-model"), **kwargs)


async def complete_once(handler, params: GenerationParams = PARAMS, **kwargs: Any):
    """Run one completion; return (completion or exception, server)."""
    with OpenAIServer(handler) as server:
        model = client(server, **kwargs)
        try:
            return await model.complete(ASK, params), server
        except Exception as exc:
            return exc, server
        finally:
            await model.aclose()


async def test_completion_is_parsed_with_usage_and_cached_tokens():
    usage = {"prompt_tokens": 12, "completion_tokens": 3, "prompt_tokens_details": {"cached_tokens": 8}}
    result, server = await complete_once(scripted(Reply.completion("Hello there.", "length", usage)))
    assert result.text == "Hello there."
    assert result.finish_reason == "length"
    assert result.usage == Usage(prompt_tokens=12, completion_tokens=3, cached_tokens=8, requests=1)
    [request] = server.requests
    assert (request.method, request.path) == ("POST", "/v1/chat/completions")
    assert request.body == {
        "model": "test-model",
        "messages": ASK,
        "max_tokens": 32,
        "temperature": 0.7,
        "top_p": 0.95,
        "stream": True,
        "stream_options": {"include_usage": True},
    }
    assert "authorization" not in request.headers


async def test_usage_without_cache_details_or_at_all():
    bare = {"prompt_tokens": 5, "completion_tokens": None}
    result, _ = await complete_once(scripted(Reply.completion("x", usage=bare)))
    assert result.usage == Usage(prompt_tokens=5, requests=1)


async def test_empty_completion_that_stopped_is_returned_as_is():
    result, server = await complete_once(scripted(Reply.completion("", "stop")))
    assert (result.text, result.finish_reason) == ("", "stop")
    assert len(server.requests) == 1


async def test_seed_json_schema_min_tokens_and_extra_are_sent():
    schema = Plan.model_json_schema()
    params = GenerationParams(
        max_tokens=900,
        temperature=0.0,
        top_p=1.0,
        min_tokens=600,
        json_schema=schema,
        seed=11,
        extra={"repetition_penalty": 1.05},
    )
    _, server = await complete_once(scripted(Reply.completion("{}")), params)
    body = server.requests[0].body
    assert body["response_format"] == {
        "type": "json_schema",
        "json_schema": {"name": "Plan", "schema": schema, "strict": True},
    }
    assert (body["min_tokens"], body["seed"], body["temperature"], body["top_p"]) == (600, 11, 0.0, 1.0)
    assert body["repetition_penalty"] == 1.05


async def test_min_tokens_is_left_out_without_vllm_extensions():
    params = GenerationParams(max_tokens=64, min_tokens=40)
    _, server = await complete_once(scripted(Reply.completion("ok")), params, vllm_extensions=False)
    assert "min_tokens" not in server.requests[0].body


async def test_model_is_discovered_once_from_the_server():
    with OpenAIServer(scripted(Reply.completion("hi")), models=("first-model", "second-model")) as server:
        model = client(server, model=None)
        await asyncio.gather(*(model.complete(ASK, PARAMS) for _ in range(4)))
        await model.aclose()
    gets = [r for r in server.requests if r.method == "GET"]
    assert [r.path for r in gets] == ["/v1/models"]
    assert {r.body["model"] for r in server.completion_requests()} == {"first-model"}
    assert model.name == "first-model"


@pytest.mark.parametrize(("max_model_len", "expected"), [(4096, 4096), (None, None)])
async def test_server_info(max_model_len, expected):
    with OpenAIServer(models=("a", "b"), max_model_len=max_model_len) as server:
        model = client(server, model="b")
        info = await model.server_info()
        await model.aclose()
    assert info == ServerInfo(model_ids=("a", "b"), max_model_len=expected)


@pytest.mark.parametrize("status", [500, 502, 503, 429])
async def test_retryable_status_is_retried_until_success(status):
    handler = scripted(Reply.error(status), Reply.error(status), Reply.completion("finally"))
    result, server = await complete_once(handler)
    assert result.text == "finally"
    assert len(server.requests) == 3


@pytest.mark.parametrize(
    ("status", "retry_after", "max_delay", "least", "most"),
    [(429, "0.4", 5.0, 0.4, 3.0), (503, "30", 0.05, 0.0, 3.0)],
    ids=["honoured", "capped-by-max-delay"],
)
async def test_retry_after(status, retry_after, max_delay, least, most):
    handler = scripted(Reply.error(status, headers={"Retry-After": retry_after}), Reply.completion("ok"))
    retry = RetryPolicy(max_retries=1, base_delay=0.001, max_delay=max_delay)
    started = time.monotonic()
    result, _ = await complete_once(handler, retry=retry)
    assert result.text == "ok"
    assert least <= time.monotonic() - started < most


@pytest.mark.parametrize("status", [400, 401, 404, 422])
async def test_other_client_errors_fail_at_once_with_the_server_message(status):
    handler = scripted(Reply.error(status, "max_tokens is too large for this model"))
    exc, server = await complete_once(handler)
    assert isinstance(exc, ModelRequestError)
    assert exc.status == status
    assert "max_tokens is too large for this model" in str(exc)
    assert "/v1/chat/completions" in str(exc)
    assert len(server.requests) == 1


VLLM_REFUSAL = (
    "This model's maximum context length is 4096 tokens. However, you requested 96 output tokens "
    "and your prompt contains at least 4001 input tokens, for a total of at least 4097 tokens."
)


@pytest.mark.parametrize(
    ("detail", "window", "size"),
    [
        (VLLM_REFUSAL, None, 4001),
        ("min_tokens must be less than or equal to max_tokens=530, got 648.", 4096, 3566),
        ("max_tokens must be at least 1, got -3.", 4096, 4099),
        ("max_tokens must be at least 1, got 0.", None, 0),  # the window was never asked for
    ],
)
async def test_a_refusal_for_length_is_raised_with_the_prompt_size_it_tells(detail, window, size):
    with OpenAIServer(scripted(Reply.error(400, detail)), max_model_len=window) as server:
        model = client(server)
        if window:
            assert await model.context_window() == window
        with pytest.raises(PromptTooLong) as refused:
            await model.complete(ASK, PARAMS)
        await model.aclose()
    assert (refused.value.prompt_tokens, refused.value.status) == (size, 400)
    assert detail[:40] in str(refused.value)


async def test_tries_are_bounded_then_the_http_error_is_raised():
    exc, server = await complete_once(scripted(Reply.error(503, "overloaded")))
    assert isinstance(exc, ModelRequestError)
    assert exc.status == 503
    assert "overloaded" in str(exc)
    assert len(server.requests) == FAST.attempts == 4


async def test_long_error_bodies_are_cut_to_one_short_line():
    exc, _ = await complete_once(scripted(Reply.raw("line one\n" + "x" * 5000, status=400)))
    assert isinstance(exc, ModelRequestError)
    assert "\n" not in str(exc)
    assert len(str(exc)) < 500


@pytest.mark.parametrize(
    "bad",
    [
        Reply.raw("<html>502 Bad Gateway</html>"),
        Reply.raw('{"choices": [{"message": {"content": "cut of', declared_length=400),
        Reply.raw('{"choices": []}'),
        Reply.raw('{"choices": [{"message": {"content": null}, "finish_reason": "stop"}]}'),
        Reply.raw('{"object": "chat.completion"}'),
    ],
    ids=["not-json", "truncated", "no-choices", "null-content", "no-choices-key"],
)
async def test_unusable_bodies_are_retried(bad):
    result, server = await complete_once(scripted(bad, Reply.completion("good")))
    assert result.text == "good"
    assert len(server.completion_requests()) == 2


async def test_a_body_that_stays_unusable_ends_in_model_request_error():
    exc, server = await complete_once(scripted(Reply.raw("not json at all")))
    assert isinstance(exc, ModelRequestError)
    assert exc.status is None
    assert "not JSON" in str(exc)
    assert len(server.requests) == 4


async def test_read_timeout_is_retried():
    handler = scripted(Reply.completion("late", delay=2.0), Reply.completion("on time"))
    result, server = await complete_once(handler, timeout=0.3)
    assert result.text == "on time"
    assert len(server.requests) == 2


async def test_read_timeouts_that_persist_end_in_server_unreachable():
    retry = RetryPolicy(max_retries=1, base_delay=0.01, max_delay=0.01)
    exc, server = await complete_once(scripted(Reply.completion("late", delay=2.0)), timeout=0.3, retry=retry)
    assert isinstance(exc, ServerUnreachable)
    assert "read timeout" in str(exc)
    assert server.base_url + "/chat/completions" in str(exc)
    assert len(server.requests) == 2


async def test_a_slow_stream_outlasts_the_timeout_as_long_as_chunks_keep_coming():
    slow = Reply.completion("one two three four five six seven eight nine ten eleven twelve", trickle=0.15)
    result, server = await complete_once(scripted(slow), timeout=0.5)
    assert result.text == "one two three four five six seven eight nine ten eleven twelve"
    assert result.usage.completion_tokens == 12
    assert len(server.requests) == 1  # six events over about a second, never 0.5 s apart


async def test_without_streaming_a_plain_json_answer_is_asked_for():
    result, server = await complete_once(scripted(Reply.completion("Tea grew.")), stream=False)
    assert result.text == "Tea grew."
    assert "stream" not in server.requests[0].body and "stream_options" not in server.requests[0].body


async def test_a_plain_json_answer_to_a_streamed_request_is_read():
    answer = {
        "choices": [{"message": {"content": "Tea grew."}, "finish_reason": "stop"}],
        "usage": {"prompt_tokens": 4, "completion_tokens": 2},
    }
    result, server = await complete_once(scripted(Reply.raw(json.dumps(answer))))
    assert (result.text, result.finish_reason) == ("Tea grew.", "stop")
    assert result.usage == Usage(prompt_tokens=4, completion_tokens=2, requests=1)
    assert server.requests[0].body["stream"] is True


async def test_a_watch_stops_the_stream_and_the_server_sees_the_client_hang_up():
    seen: list[str] = []

    def watch(piece: str) -> bool:
        seen.append(piece)
        return len(seen) == 5

    engine = Reply.completion("tea " * 400, "length", trickle=0.001, words_per_event=1)
    with OpenAIServer(scripted(engine)) as server:
        model = client(server)
        result = await model.complete(ASK, GenerationParams(max_tokens=400, watch=watch))
        await model.aclose()
        assert server.wait_idle()
        [request] = server.aborted_requests()
    assert (result.text, result.finish_reason) == ("tea " * 5, HALTED)
    assert result.usage == Usage(completion_tokens=5, requests=1)  # one token an event, as vLLM streams
    assert request.content_events_sent < 50 and len(server.completion_requests()) == 1


CUT_STREAM = 'data: {"choices": [{"delta": {"content": "Tea grew"}, "finish_reason": null}]}\n\n'


@pytest.mark.parametrize(
    "bad",
    [
        Reply.events(CUT_STREAM),
        Reply.events(CUT_STREAM + 'data: {"choices": [{"delta": {}, "finish_reason": "stop"}]}\n\n'),
        Reply.events(CUT_STREAM + "data: {not json\n\n"),
        Reply.events('data: {"error": {"message": "engine died", "code": 500}}\n\n'),
    ],
    ids=["no-finish", "no-done", "bad-event", "error-500"],
)
async def test_unfinished_or_failed_streams_are_retried_never_returned(bad):
    result, server = await complete_once(scripted(bad, Reply.completion("Tea grew in Yunnan.")))
    assert result.text == "Tea grew in Yunnan."
    assert len(server.completion_requests()) == 2


async def test_a_client_error_mid_stream_is_not_retried():
    bad = Reply.events('data: {"error": {"message": "prompt too long", "code": 400}}\n\ndata: [DONE]\n\n')
    exc, server = await complete_once(scripted(bad))
    assert isinstance(exc, ModelRequestError) and exc.status == 400
    assert "prompt too long" in str(exc)
    assert len(server.completion_requests()) == 1


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


async def test_unreachable_server_names_its_url_after_bounded_retries(caplog):
    url = f"http://127.0.0.1:{free_port()}/v1"
    model = OpenAICompatModel(url, "m", retry=RetryPolicy(max_retries=2, base_delay=0.01, max_delay=0.01))
    with (
        caplog.at_level(logging.WARNING, logger="agentwrite.llm.openai_compat"),
        pytest.raises(ServerUnreachable) as caught,
    ):
        await model.complete(ASK, PARAMS)
    await model.aclose()
    assert f"{url}/chat/completions" in str(caught.value)
    assert caught.value.url == f"{url}/chat/completions"
    retries = [r.getMessage() for r in caplog.records]
    assert len(retries) == 2
    assert "try 1 of 3" in retries[0] and "try 2 of 3" in retries[1]
    assert all(f"{url}/chat/completions" in line for line in retries)


async def test_unreachable_server_during_model_discovery():
    url = f"http://127.0.0.1:{free_port()}/v1"
    model = OpenAICompatModel(url, retry=RetryPolicy(max_retries=0))
    with pytest.raises(ServerUnreachable, match="/v1/models"):
        await model.complete(ASK, PARAMS)
    await model.aclose()


async def test_api_key_is_sent_but_never_shown(caplog):
    def echo_key(request: dict[str, Any]) -> Reply:
        return Reply.error(next(statuses), f"key {KEY} rejected")

    statuses = itertools.chain([500], itertools.repeat(401))
    caplog.set_level(logging.DEBUG)
    exc, server = await complete_once(echo_key, api_key=KEY)
    assert isinstance(exc, ModelRequestError)
    assert server.requests[0].headers["authorization"] == f"Bearer {KEY}"
    assert len(server.requests) == 2
    assert KEY not in str(exc)
    assert "rejected" in str(exc)
    assert KEY not in caplog.text
    assert "rejected" in caplog.text  # the retry of the 500 was logged, scrubbed

    unreachable = OpenAICompatModel(f"http://127.0.0.1:{free_port()}/v1", "m", api_key=KEY, retry=FAST)
    with pytest.raises(ServerUnreachable) as caught:
        await unreachable.complete(ASK, PARAMS)
    await unreachable.aclose()
    assert KEY not in str(caught.value)
    assert KEY not in repr(unreachable)


async def test_from_settings(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("OPENAI_API_KEY", KEY)
    settings = load_settings(
        overrides={"base_url": "http://127.0.0.1:9/v1/", "model": "m", "max_retries": 1, "min_tokens": False},
    )
    model = OpenAICompatModel.from_settings(settings)
    await model.aclose()
    assert (model.base_url, model.name, model.vllm_extensions) == ("http://127.0.0.1:9/v1", "m", False)
    assert model.capabilities == Capabilities(structured_output=True, min_tokens=False, streaming_watch=True)
    assert model.retry.attempts == 2
    assert KEY not in repr(model)


async def test_many_requests_run_at_once_without_a_limit():
    # each answer waits until all twelve requests are in flight: a client that sent fewer at
    # once would leave the barrier broken after its timeout, and the requests answered 500
    everyone = threading.Barrier(12, timeout=60)

    def handler(request: dict[str, Any]) -> Reply:
        everyone.wait()
        return Reply.completion("ok")

    with OpenAIServer(handler) as server:
        model = client(server)
        answers = await asyncio.gather(*(model.complete(ASK, PARAMS) for _ in range(12)))
        await model.aclose()
    assert [a.text for a in answers] == ["ok"] * 12 and server.max_concurrency == 12


async def test_a_shared_limit_bounds_requests_in_flight_across_wrappers():
    shared = FairLimiter(3)
    with OpenAIServer(scripted(Reply.completion("ok", delay=0.1))) as server:
        inner = client(server)
        first, second = LimitedModel(inner, shared), LimitedModel(inner, shared)
        calls = [m.complete(ASK, PARAMS) for m in (first, second) for _ in range(5)]
        results = await asyncio.gather(*calls)
        await first.aclose()
    assert len(results) == 10
    assert server.max_concurrency == 3
    assert first.name == "test-model" and first.capabilities == inner.capabilities


def test_limit_must_be_positive():
    with pytest.raises(ValueError):
        LimitedModel(OpenAICompatModel("http://127.0.0.1:9/v1", "m"), 0)


async def test_tests_cannot_reach_a_remote_host():
    async with httpx.AsyncClient() as http:
        with pytest.raises(RealNetworkBlocked):
            await http.get("http://192.0.2.1/v1/models")
    with pytest.raises(RealNetworkBlocked):
        httpx.get("https://api.openai.com/v1/models")
    remote = OpenAICompatModel("http://192.0.2.1/v1", "m", retry=RetryPolicy(max_retries=0))
    with pytest.raises((RealNetworkBlocked, ServerUnreachable)) as caught:  # the SDK's requests too
        await remote.complete(ASK, PARAMS)  # (openai < 3 wraps the guard's error, then it is retried)
    await remote.aclose()
    assert "RealNetworkBlocked" in caught.typename + str(caught.value)
