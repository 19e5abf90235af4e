import json
from datetime import UTC, datetime

import httpx
import openai
import pytest
from tenacity import RetryCallState

from agentwrite.llm.openai_compat import OpenAICompatModel
from agentwrite.llm.retry import RequestFailure, RetryPolicy, parse_retry_after, retryable_status
from agentwrite.settings import load_settings


def failed(attempt: int, exc: BaseException) -> RetryCallState:
    """tenacity's state after try number ``attempt`` failed with ``exc``."""
    state = RetryCallState(None, None, (), {})
    state.attempt_number = attempt
    state.set_exception((type(exc), exc, None))
    return state


def test_attempts_count_the_first_try():
    assert RetryPolicy(max_retries=6).attempts == 7
    assert RetryPolicy(max_retries=0).attempts == 1


def test_waits_are_drawn_below_a_ceiling_that_doubles_then_stops_at_max_delay():
    policy = RetryPolicy(max_retries=6, base_delay=1.0, max_delay=8.0)
    for attempt, ceiling in enumerate([1.0, 2.0, 4.0, 8.0, 8.0, 8.0], 1):
        draws = [policy.wait(failed(attempt, RequestFailure("x", 503))) for _ in range(300)]
        assert min(draws) >= 0 and max(draws) <= ceiling
        # full jitter: the draws spread over the band instead of sitting on one value
        assert max(draws) - min(draws) > 0.8 * ceiling


def test_a_very_late_retry_waits_at_most_max_delay():
    assert RetryPolicy(base_delay=1, max_delay=30).wait(failed(5000, RequestFailure("x"))) <= 30


def test_retry_after_replaces_the_backoff_and_is_capped():
    policy = RetryPolicy(base_delay=1.0, max_delay=5.0)
    assert policy.wait(failed(1, RequestFailure("busy", 429, retry_after=3.0))) == 3.0
    assert policy.wait(failed(4, RequestFailure("busy", 503, retry_after=0.5))) == 0.5  # the server wins
    assert policy.wait(failed(1, RequestFailure("busy", 503, retry_after=120.0))) == 5.0
    assert policy.wait(failed(1, RequestFailure("busy", 503, retry_after=0.0))) == 0.0


def test_bad_policies_are_refused():
    with pytest.raises(ValueError):
        RetryPolicy(max_retries=-1)
    with pytest.raises(ValueError):
        RetryPolicy(base_delay=-0.5)


def test_policy_from_settings():
    settings = load_settings(overrides={"max_retries": 2, "retry_base_delay": 0.1, "retry_max_delay": 0.4})
    assert RetryPolicy.from_settings(settings) == RetryPolicy(max_retries=2, base_delay=0.1, max_delay=0.4)


@pytest.mark.parametrize(
    ("status", "expected"),
    [
        (400, False),
        (401, False),
        (403, False),
        (404, False),
        (408, False),
        (422, False),
        (429, True),
        (500, True),
        (502, True),
        (503, True),
        (504, True),
    ],
)
def test_which_statuses_are_retried(status, expected):
    assert retryable_status(status) is expected
    assert RequestFailure("detail", status).retryable is expected


REQUEST = httpx.Request("POST", "http://127.0.0.1:9/v1/chat/completions")


def status_error(status: int, message: str, **headers: str) -> openai.APIStatusError:
    body = {"error": {"message": message, "code": status}}
    response = httpx.Response(status, json=body, headers=headers, request=REQUEST)
    return openai.APIStatusError(f"Error code: {status}", response=response, body=body["error"])


def wrapped(cause: Exception) -> openai.APIConnectionError:
    """An httpx error as the SDK raises it (the SDK keeps the cause)."""
    try:
        raise openai.APIConnectionError(request=REQUEST) from cause
    except openai.APIConnectionError as exc:
        return exc


@pytest.mark.parametrize(
    ("exc", "retryable", "unreachable"),
    [
        (httpx.ConnectError("refused"), True, True),
        (wrapped(httpx.ConnectError("refused")), True, True),
        (httpx.ConnectTimeout("slow"), True, True),
        (wrapped(httpx.ReadTimeout("slow")), True, True),
        (httpx.RemoteProtocolError("peer closed connection"), True, True),
        (httpx.ReadError("reset"), True, True),
        (wrapped(httpx.UnsupportedProtocol("ftp")), False, True),
        (status_error(503, "overloaded"), True, False),
        (status_error(400, "bad"), False, False),
        (openai.APIError("engine died", REQUEST, body={"message": "engine died", "code": 500}), True, False),
        (openai.APIError("prompt too long", REQUEST, body={"message": "x", "code": 400}), False, False),
        (json.JSONDecodeError("Expecting value", "<html>", 0), True, False),
        (RequestFailure("the stream ended before the answer did (no [DONE])"), True, False),
    ],
)
def test_which_failures_are_retried(exc, retryable, unreachable):
    failure = OpenAICompatModel("http://127.0.0.1:9/v1", "m")._failure(exc)
    assert (failure.retryable, failure.unreachable) == (retryable, unreachable)


def test_a_failure_keeps_the_servers_words_and_retry_after_without_the_key():
    model = OpenAICompatModel("http://127.0.0.1:9/v1", "m", api_key="sk-secret-0042")
    failure = model._failure(status_error(429, "slow down, sk-secret-0042\nplease", **{"Retry-After": "2"}))
    assert (failure.status, failure.reason, failure.retry_after) == (429, "slow down, *** please", 2.0)
    timeout = model._failure(wrapped(httpx.ReadTimeout("slow")))
    assert timeout.reason == "no answer in time (read timeout)"


def test_retry_after_header_forms():
    now = datetime(2026, 1, 1, 12, 0, 0, tzinfo=UTC)
    assert parse_retry_after("2", now) == 2.0
    assert parse_retry_after("Thu, 01 Jan 2026 12:00:30 GMT", now) == 30.0
    assert parse_retry_after("Thu, 01 Jan 2026 11:00:00 GMT", now) == 0.0  # already past
    assert parse_retry_after("-3", now) == 0.0
    assert parse_retry_after("nan", now) is None
    assert parse_retry_after("", now) is None
