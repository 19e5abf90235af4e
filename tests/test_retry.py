import random
from datetime import UTC, datetime

import httpx
import pytest

from agentwrite.errors import ModelRequestError, ServerUnreachable
from agentwrite.llm.retry import RetryPolicy, is_retryable, parse_retry_after, retryable_status
from agentwrite.settings import load_settings


def test_ceilings_double_then_stop_at_max_delay():
    policy = RetryPolicy(max_retries=6, base_delay=0.25, max_delay=3.0)
    assert policy.delays() == (0.25, 0.5, 1.0, 2.0, 3.0, 3.0)
    assert policy.attempts == 7


def test_no_retries_means_one_try_and_no_delays():
    policy = RetryPolicy(max_retries=0)
    assert policy.attempts == 1
    assert policy.delays() == ()


def test_ceiling_of_a_very_late_retry_does_not_overflow():
    assert RetryPolicy(base_delay=1, max_delay=30).ceiling(5000) == 30


@pytest.mark.parametrize(("jitter", "low_share"), [("full", 0.0), ("equal", 0.5)])
def test_jittered_delays_stay_within_their_band(jitter, low_share):
    policy = RetryPolicy(max_retries=5, base_delay=1.0, max_delay=8.0, jitter=jitter)
    rng = random.Random(7)
    for attempt, ceiling in enumerate([1.0, 2.0, 4.0, 8.0, 8.0]):
        draws = [policy.delay_for(attempt, rng=rng) for _ in range(300)]
        assert min(draws) >= low_share * ceiling
        assert max(draws) <= ceiling
        # the draws spread over the band instead of sitting on one value
        assert max(draws) - min(draws) > 0.8 * (1 - low_share) * ceiling


def test_jitter_none_waits_the_ceiling_exactly():
    policy = RetryPolicy(base_delay=0.5, max_delay=10, jitter="none")
    assert [policy.delay_for(n) for n in range(4)] == [0.5, 1.0, 2.0, 4.0]


def test_retry_after_replaces_the_backoff_and_is_capped():
    policy = RetryPolicy(base_delay=1.0, max_delay=5.0, jitter="none")
    assert policy.delay_for(0, retry_after=3.0) == 3.0
    assert policy.delay_for(3, retry_after=0.5) == 0.5  # shorter than the ceiling of 5: the server wins
    assert policy.delay_for(0, retry_after=120.0) == 5.0
    assert policy.delay_for(0, retry_after=-4.0) == 0.0


def test_bad_policies_are_refused():
    with pytest.raises(ValueError):
        RetryPolicy(max_retries=-1)
    with pytest.raises(ValueError):
        RetryPolicy(jitter="sometimes")  # type: ignore[arg-type]


def test_policy_from_settings():
    settings = load_settings(
        env={}, overrides={"max_retries": 2, "retry_base_delay": 0.1, "retry_max_delay": 0.4}
    )
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
    assert is_retryable(ModelRequestError("http://x/v1", status, "detail")) is expected


@pytest.mark.parametrize(
    ("exc", "expected"),
    [
        (httpx.ConnectError("refused"), True),
        (httpx.ConnectTimeout("slow"), True),
        (httpx.ReadTimeout("slow"), True),
        (httpx.RemoteProtocolError("peer closed connection"), True),
        (httpx.ReadError("reset"), True),
        (httpx.UnsupportedProtocol("ftp"), False),
        (ModelRequestError("http://x/v1", None, "body is not JSON"), True),
        (ServerUnreachable("http://x/v1", "gone"), False),
        (ValueError("x"), False),
    ],
)
def test_which_exceptions_are_retried(exc, expected):
    assert is_retryable(exc) is expected


def test_retry_after_header_forms():
    now = datetime(2026, 1, 1, 12, 0, 0, tzinfo=UTC)
    assert parse_retry_after("2", now) == 2.0
    assert parse_retry_after("Thu, 01 Jan 2026 12:00:30 GMT", now) == 30.0
    assert parse_retry_after("Thu, 01 Jan 2026 11:00:00 GMT", now) == 0.0  # already past
    assert parse_retry_after("-3", now) == 0.0
    assert parse_retry_after("nan", now) is None
    assert parse_retry_after("", now) is None
