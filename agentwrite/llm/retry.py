"""Which failed model requests are tried again, and after how long: ``tenacity`` does the
retrying; this module says what the settings mean to it.

A retry waits a random time below a ceiling that doubles each time, ``min(max_delay,
base_delay * 2**n)`` ("full jitter", ``tenacity.wait_random_exponential``), or as long as
the server's ``Retry-After`` asks, still capped by ``max_delay``. Connection errors,
timeouts, 429, 5xx and unusable answers are retried; other 4xx are not.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import TYPE_CHECKING

from tenacity import AsyncRetrying, RetryCallState, retry_if_exception, stop_after_attempt
from tenacity import wait_random_exponential as backoff

if TYPE_CHECKING:
    from agentwrite.settings import Settings


class RequestFailure(Exception):
    """One failed try, as the retry loop sees it: ``reason`` is safe to show (one line, no
    API key), ``status`` the HTTP status if any (None for an unusable answer),
    ``unreachable`` says no answer came at all (no connection, a timeout, a cut stream), and
    ``connection_failed`` that the connection itself failed (refused, reset, or not made in
    time): nothing says the server is there, so another server may take the request at once."""

    def __init__(
        self,
        reason: str,
        status: int | None = None,
        *,
        unreachable: bool = False,
        connection_failed: bool = False,
        retryable: bool | None = None,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(reason)
        self.reason, self.status, self.unreachable = reason, status, unreachable or connection_failed
        self.connection_failed = connection_failed
        self.retry_after = retry_after
        self.retryable = retryable if retryable is not None else status is None or retryable_status(status)


def retryable_status(status: int) -> bool:
    """Whether an HTTP status is worth another try: 429 and every 5xx, no other.

    >>> [retryable_status(s) for s in (200, 400, 404, 429, 500, 503)]
    [False, False, False, True, True, True]
    """
    return status == 429 or 500 <= status <= 599


@dataclass(frozen=True)
class RetryPolicy:
    """A request is tried at most ``max_retries + 1`` times (``attempts``)."""

    max_retries: int = 4
    base_delay: float = 1.0
    max_delay: float = 30.0

    def __post_init__(self) -> None:
        if self.max_retries < 0 or self.base_delay < 0 or self.max_delay < 0:
            raise ValueError("retry counts and delays must not be negative")

    @classmethod
    def from_settings(cls, settings: Settings) -> RetryPolicy:
        """The policy the run settings ask for."""
        return cls(settings.max_retries, settings.retry_base_delay, settings.retry_max_delay)

    @property
    def attempts(self) -> int:
        """Tries in all, the first one included."""
        return self.max_retries + 1

    def wait(self, state: RetryCallState) -> float:
        """Seconds before the next try: the failure's ``retry_after`` if the server gave one,
        else a draw below the doubling ceiling; never above ``max_delay``."""
        failure = state.outcome.exception() if state.outcome else None
        after = getattr(failure, "retry_after", None)
        if after is not None:
            return min(after, self.max_delay)
        return float(backoff(multiplier=self.base_delay, max=self.max_delay)(state))

    def retrying(self, before_sleep: Callable[[RetryCallState], None]) -> AsyncRetrying:
        """A ``tenacity`` loop that retries ``RequestFailure``s that may pass on another try
        and re-raises the last one; ``before_sleep`` sees each retry before its wait."""
        return AsyncRetrying(
            stop=stop_after_attempt(self.attempts),
            wait=self.wait,
            retry=retry_if_exception(lambda exc: isinstance(exc, RequestFailure) and exc.retryable),
            before_sleep=before_sleep,
            reraise=True,
        )


def parse_retry_after(value: str | None, now: datetime | None = None) -> float | None:
    """Seconds a ``Retry-After`` header asks to wait (delta-seconds or an HTTP date), or
    None when it is absent or unreadable.

    >>> parse_retry_after("3"), parse_retry_after(" 0.5 "), parse_retry_after("soon"), parse_retry_after(None)
    (3.0, 0.5, None, None)
    >>> parse_retry_after("Wed, 21 Oct 2015 07:28:10 GMT", datetime(2015, 10, 21, 7, 28, tzinfo=UTC))
    10.0
    """
    if value is None:
        return None
    try:
        seconds = float(value)
    except ValueError:
        try:
            when = parsedate_to_datetime(value.strip())
        except (TypeError, ValueError):
            return None
        when = when if when.tzinfo else when.replace(tzinfo=UTC)
        seconds = (when - (now or datetime.now(UTC))).total_seconds()
    return max(seconds, 0.0) if math.isfinite(seconds) else None
