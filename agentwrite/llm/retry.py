"""When to retry a failed model request, and how long to wait before the next try.

The wait before retry ``n`` (counted from 0) is drawn below a ceiling that doubles each
time, ``min(max_delay, base_delay * 2**n)``; "full" jitter draws it from
``[0, ceiling]``, "equal" jitter from ``[ceiling/2, ceiling]`` (the two schemes of the AWS
Architecture Blog's "Exponential Backoff and Jitter", 2015). A server's ``Retry-After``
replaces the drawn wait, still capped by ``max_delay``.

>>> RetryPolicy(max_retries=4, base_delay=1.0, max_delay=5.0).delays()
(1.0, 2.0, 4.0, 5.0)
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import TYPE_CHECKING, Literal

import httpx

from agentwrite.errors import ModelRequestError

if TYPE_CHECKING:
    from agentwrite.settings import Settings

Jitter = Literal["full", "equal", "none"]


@dataclass(frozen=True)
class RetryPolicy:
    """How many times a failed request is retried and how long to wait in between.

    A request is tried at most ``max_retries + 1`` times (``attempts``).
    """

    max_retries: int = 4
    base_delay: float = 1.0
    max_delay: float = 30.0
    jitter: Jitter = "full"

    def __post_init__(self) -> None:
        if self.max_retries < 0 or self.base_delay < 0 or self.max_delay < 0:
            raise ValueError("retry counts and delays must not be negative")
        if self.jitter not in ("full", "equal", "none"):
            raise ValueError(f"unknown jitter scheme {self.jitter!r}")

    @classmethod
    def from_settings(cls, settings: Settings) -> RetryPolicy:
        """The policy the run settings ask for."""
        return cls(
            max_retries=settings.max_retries,
            base_delay=settings.retry_base_delay,
            max_delay=settings.retry_max_delay,
        )

    @property
    def attempts(self) -> int:
        """Tries in all, the first one included."""
        return self.max_retries + 1

    def ceiling(self, attempt: int) -> float:
        """The largest wait before retry ``attempt`` (0 is the first retry).

        >>> [RetryPolicy(base_delay=0.5, max_delay=3).ceiling(n) for n in range(5)]
        [0.5, 1.0, 2.0, 3, 3]
        """
        # min() before the power would overflow a float for a long run of retries
        return min(self.max_delay, self.base_delay * 2 ** min(attempt, 64))

    def delays(self) -> tuple[float, ...]:
        """The ceilings of every retry this policy allows, in order."""
        return tuple(self.ceiling(n) for n in range(self.max_retries))

    def delay_for(
        self, attempt: int, retry_after: float | None = None, rng: random.Random | None = None
    ) -> float:
        """Seconds to wait before retry ``attempt``: the server's ``retry_after`` if it
        gave one, else a jittered draw below the ceiling; never above ``max_delay``.

        >>> policy = RetryPolicy(base_delay=1, max_delay=10, jitter="none")
        >>> policy.delay_for(2), policy.delay_for(2, retry_after=7.5), policy.delay_for(0, retry_after=60)
        (4, 7.5, 10)
        """
        if retry_after is not None:
            return min(max(retry_after, 0.0), self.max_delay)
        ceiling = self.ceiling(attempt)
        draw = (rng or random).random()
        if self.jitter == "full":
            return ceiling * draw
        if self.jitter == "equal":
            return ceiling / 2 + ceiling / 2 * draw
        return ceiling


RETRYABLE_STATUS = frozenset({429})


def retryable_status(status: int) -> bool:
    """Whether an HTTP status is worth another try: 429 and every 5xx, no other.

    >>> [retryable_status(s) for s in (200, 400, 404, 429, 500, 503)]
    [False, False, False, True, True, True]
    """
    return status in RETRYABLE_STATUS or 500 <= status <= 599


def is_retryable(exc: BaseException) -> bool:
    """Whether a failed request may succeed if tried again.

    Connection errors and timeouts (any ``httpx.TransportError`` but a URL scheme httpx
    cannot speak) are retried, as are ``ModelRequestError`` with a retryable status or
    with no status (a 200 whose body was unusable: a server fault). Nothing else is.

    >>> is_retryable(httpx.ConnectError("refused")), is_retryable(httpx.ReadTimeout("slow"))
    (True, True)
    >>> is_retryable(ModelRequestError("u", 503, "busy")), is_retryable(ModelRequestError("u", 400, "bad"))
    (True, False)
    >>> is_retryable(ModelRequestError("u", None, "body is not JSON")), is_retryable(ValueError())
    (True, False)
    """
    if isinstance(exc, httpx.UnsupportedProtocol):
        return False
    if isinstance(exc, httpx.TransportError):
        return True
    if isinstance(exc, ModelRequestError):
        return exc.status is None or retryable_status(exc.status)
    return False


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
    value = value.strip()
    try:
        seconds = float(value)
    except ValueError:
        try:
            when = parsedate_to_datetime(value)
        except (TypeError, ValueError):
            return None
        if when.tzinfo is None:
            when = when.replace(tzinfo=UTC)
        seconds = (when - (now or datetime.now(UTC))).total_seconds()
    if not math.isfinite(seconds):
        return None
    return max(seconds, 0.0)
