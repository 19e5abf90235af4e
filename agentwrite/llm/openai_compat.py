"""A ``ChatModel`` over any OpenAI-compatible chat-completions server (vLLM first of all).

One ``httpx.AsyncClient`` per instance, with a connection pool large enough for many
requests at once (bound them with ``LimitedModel``). Failed requests are retried as the
``RetryPolicy`` says; what still fails is raised as ``ServerUnreachable`` (no connection
or no answer in time) or ``ModelRequestError`` (an error status or an unusable body).
The API key travels only in the ``Authorization`` header: it is kept out of every
message, log line and repr, and scrubbed from server error text that echoes it.
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeVar, cast

import httpx

from agentwrite.errors import ModelError, ModelRequestError, ServerUnreachable
from agentwrite.llm.base import Completion, GenerationParams, Message, Watch
from agentwrite.llm.retry import RetryPolicy, is_retryable, parse_retry_after
from agentwrite.llm.stream import CompletionStream, StreamError, mapping, usage_of

if TYPE_CHECKING:
    from agentwrite.settings import Settings

logger = logging.getLogger(__name__)

T = TypeVar("T")

MAX_CONNECTIONS = 1024
"""Pool size: well above any sensible ``max_inflight``, so the pool never queues requests."""

_DETAIL_CHARS = 300


@dataclass(frozen=True)
class ServerInfo:
    """What ``GET /models`` tells about a server: its model ids and the context window
    of the model in use (vLLM reports ``max_model_len``; others may not)."""

    model_ids: tuple[str, ...]
    max_model_len: int | None


class _BadBody(Exception):
    """A 2xx answer whose body cannot be used."""


class OpenAICompatModel:
    """Chat completions from ``{base_url}/chat/completions``.

    ``base_url`` is the API root, e.g. ``http://127.0.0.1:8000/v1``. When ``model`` is
    None the server's first model (``GET {base_url}/models``) is used, looked up once.
    ``vllm_extensions`` allows vLLM's own request fields (``min_tokens``, ``min_p``,
    ``repetition_penalty``).
    With ``stream`` (the default) completions are streamed and ``timeout`` bounds the
    silence between chunks; without it the server sends nothing until the answer is
    done, so ``timeout`` bounds the whole generation. A server that answers a streamed
    request with plain JSON is understood too.
    """

    def __init__(
        self,
        base_url: str,
        model: str | None = None,
        *,
        api_key: str | None = None,
        timeout: float = 600,
        connect_timeout: float = 10,
        retry: RetryPolicy | None = None,
        vllm_extensions: bool = True,
        stream: bool = True,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self._model = model
        self._api_key = api_key or None
        self.retry = retry or RetryPolicy()
        self.vllm_extensions = vllm_extensions
        self.stream = stream
        self._model_lock = asyncio.Lock()
        headers = {"Authorization": f"Bearer {self._api_key}"} if self._api_key else {}
        self._client = httpx.AsyncClient(
            headers=headers,
            timeout=httpx.Timeout(timeout, connect=connect_timeout, pool=None),
            limits=httpx.Limits(max_connections=MAX_CONNECTIONS, max_keepalive_connections=MAX_CONNECTIONS),
            trust_env=False,
        )

    @classmethod
    def from_settings(cls, settings: Settings) -> OpenAICompatModel:
        """A client for ``settings.base_url`` (which must be set)."""
        if not settings.base_url:
            raise ValueError("settings.base_url is not set")
        return cls(
            settings.base_url,
            settings.model,
            api_key=settings.api_key.get_secret_value() if settings.api_key else None,
            timeout=settings.timeout,
            connect_timeout=settings.connect_timeout,
            retry=RetryPolicy.from_settings(settings),
            vllm_extensions=settings.min_tokens,
            stream=settings.stream,
        )

    def __repr__(self) -> str:
        return f"OpenAICompatModel(base_url={self.base_url!r}, model={self._model!r})"

    @property
    def name(self) -> str:
        """The model id: as given, or as discovered by the first request."""
        return self._model or f"(first model at {self.base_url})"

    async def complete(self, messages: list[Message], params: GenerationParams) -> Completion:
        model = await self._resolve_model()
        body = self._body(model, messages, params)
        return await self._call("POST", "/chat/completions", body, _completion, watch=params.watch)

    async def server_info(self) -> ServerInfo:
        """Model ids and context window, from ``GET /models``."""
        cards = await self._call("GET", "/models", None, _model_cards)
        ids = tuple(card["id"] for card in cards)
        if self._model is None:
            self._model = ids[0]
        card = next((c for c in cards if c["id"] == self._model), cards[0])
        max_len = card.get("max_model_len")
        return ServerInfo(ids, max_len if isinstance(max_len, int) and max_len > 0 else None)

    async def aclose(self) -> None:
        await self._client.aclose()

    async def _resolve_model(self) -> str:
        if self._model is None:
            async with self._model_lock:
                if self._model is None:
                    await self.server_info()
        assert self._model is not None
        return self._model

    def _body(self, model: str, messages: list[Message], params: GenerationParams) -> dict[str, Any]:
        body: dict[str, Any] = {
            "model": model,
            "messages": [{"role": m["role"], "content": m["content"]} for m in messages],
            "max_tokens": params.max_tokens,
            "temperature": params.temperature,
            "top_p": params.top_p,
        }
        if self.stream:
            body["stream"] = True
            body["stream_options"] = {"include_usage": True}
        if params.seed is not None:
            body["seed"] = params.seed
        for name in ("frequency_penalty", "presence_penalty"):
            if getattr(params, name) is not None:
                body[name] = getattr(params, name)
        if params.stop:
            body["stop"] = list(params.stop)
        if self.vllm_extensions:
            if params.min_tokens:
                body["min_tokens"] = params.min_tokens
            for name in ("min_p", "repetition_penalty"):
                if getattr(params, name) is not None:
                    body[name] = getattr(params, name)
        if params.json_schema is not None:
            body["response_format"] = {
                "type": "json_schema",
                "json_schema": {
                    "name": _schema_name(params.json_schema),
                    "schema": params.json_schema,
                    "strict": True,
                },
            }
        body.update(params.extra)
        return body

    async def _call(
        self,
        method: str,
        path: str,
        body: dict[str, Any] | None,
        parse: Callable[[Any], T],
        watch: Watch | None = None,
    ) -> T:
        """One request with retries; ``parse`` turns the JSON answer into the result or
        raises ``_BadBody``; ``watch`` sees a streamed answer's pieces and may stop it."""
        url = self.base_url + path
        for attempt in range(self.retry.attempts):
            retry_after: float | None = None
            try:
                async with self._client.stream(method, url, json=body) as response:
                    if response.status_code >= 400:
                        await response.aread()
                        retry_after = parse_retry_after(response.headers.get("retry-after"))
                        raise ModelRequestError(
                            url, response.status_code, self._scrub(_error_detail(response))
                        )
                    if response.headers.get("content-type", "").startswith("text/event-stream"):
                        return cast(T, await self._read_stream(url, response, watch))
                    await response.aread()
                try:
                    return parse(response.json())
                except ValueError as exc:  # json.JSONDecodeError is a ValueError
                    raise ModelRequestError(url, None, f"body is not JSON ({exc})") from None
                except _BadBody as exc:
                    raise ModelRequestError(url, None, self._scrub(str(exc))) from None
            except (httpx.TransportError, ModelRequestError) as exc:
                last_try = attempt + 1 >= self.retry.attempts
                if last_try or not is_retryable(exc):
                    raise self._final_error(url, exc) from None
                delay = self.retry.delay_for(attempt, retry_after)
                logger.warning(
                    "%s %s failed (try %d of %d): %s; retrying in %.2f s",
                    method,
                    url,
                    attempt + 1,
                    self.retry.attempts,
                    self._reason(exc),
                    delay,
                )
                await asyncio.sleep(delay)
        raise AssertionError("unreachable: the last try raises")  # pragma: no cover

    async def _read_stream(self, url: str, response: httpx.Response, watch: Watch | None) -> Completion:
        """A streamed completion, whole, or ``ModelRequestError`` (never a partial answer),
        or the answer so far when ``watch`` stops it: leaving the response closes the
        connection, and vLLM aborts a request whose client has gone."""
        stream = CompletionStream()
        try:
            async for line in response.aiter_lines():
                piece = stream.feed(line)
                if piece and watch is not None and watch(piece):
                    return stream.halted()
            return stream.completion()
        except StreamError as exc:
            raise ModelRequestError(url, exc.status, self._scrub(str(exc))) from None

    def _final_error(self, url: str, exc: Exception) -> ModelError:
        if isinstance(exc, ModelRequestError):
            return exc
        return ServerUnreachable(url, self._reason(exc))

    def _reason(self, exc: Exception) -> str:
        if isinstance(exc, ModelRequestError):
            return str(exc)
        if isinstance(exc, httpx.TimeoutException):
            kind = type(exc).__name__.removesuffix("Timeout").lower() or "request"
            return f"no answer in time ({kind} timeout)"
        detail = str(exc)
        return self._scrub(f"{type(exc).__name__}: {detail}" if detail else type(exc).__name__)

    def _scrub(self, text: str) -> str:
        """Server text made safe to show: one line, short, the key blanked out."""
        if self._api_key:
            text = text.replace(self._api_key, "***")
        text = " ".join(text.split())
        return text if len(text) <= _DETAIL_CHARS else text[: _DETAIL_CHARS - 1] + "…"


def _error_detail(response: httpx.Response) -> str:
    """The server's own words about an error: OpenAI's ``error.message``, vLLM's older
    ``message`` or FastAPI's ``detail``, else the raw text."""
    try:
        data = response.json()
    except ValueError:
        return response.text or response.reason_phrase
    if isinstance(data, dict):
        error = data.get("error")
        if isinstance(error, dict) and isinstance(error.get("message"), str):
            return error["message"]
        for key in ("message", "detail", "error"):
            if isinstance(data.get(key), str):
                return data[key]
    return response.text


def _completion(data: Any) -> Completion:
    """Parse a chat-completions answer.

    >>> done = _completion({"choices": [{"message": {"content": "Hi."}, "finish_reason": "stop"}],
    ...                     "usage": {"prompt_tokens": 9, "completion_tokens": 2,
    ...                               "prompt_tokens_details": {"cached_tokens": 8}}})
    >>> done.text, done.finish_reason, done.usage
    ('Hi.', 'stop', Usage(prompt_tokens=9, completion_tokens=2, cached_tokens=8, requests=1))
    """
    try:
        choice = data["choices"][0]
        text = choice["message"]["content"]
    except (KeyError, IndexError, TypeError):
        raise _BadBody("answer has no choices[0].message.content") from None
    if not isinstance(text, str):
        raise _BadBody("choices[0].message.content is not text")
    finish = str(choice.get("finish_reason") or "unknown")
    return Completion(text=text, finish_reason=finish, usage=usage_of(mapping(data.get("usage"))))


def _model_cards(data: Any) -> list[dict[str, Any]]:
    """The model entries of a ``/models`` answer (at least one, each with an id).

    >>> _model_cards({"data": [{"id": "smol", "max_model_len": 8192}]})
    [{'id': 'smol', 'max_model_len': 8192}]
    """
    cards = data.get("data") if isinstance(data, dict) else None
    if not isinstance(cards, list) or not cards:
        raise _BadBody("the server lists no models")
    if not all(isinstance(c, dict) and isinstance(c.get("id"), str) for c in cards):
        raise _BadBody("a model entry has no id")
    return cards


def _schema_name(schema: dict[str, Any]) -> str:
    """A name for a JSON schema as OpenAI's API wants it (``[a-zA-Z0-9_-]{1,64}``).

    >>> _schema_name({"title": "Plan"}), _schema_name({"title": "A plan: v2"}), _schema_name({})
    ('Plan', 'A_plan_v2', 'output')
    """
    title = schema.get("title")
    name = re.sub(r"[^a-zA-Z0-9_-]+", "_", title).strip("_")[:64] if isinstance(title, str) else ""
    return name or "output"


__all__ = ["OpenAICompatModel", "ServerInfo"]
