"""A ``ChatModel`` over any OpenAI-compatible chat-completions server (vLLM first of all).

Requests go through the ``openai`` SDK (its own retries off) on one ``httpx.AsyncClient``
per instance, with a connection pool large enough for many requests at once (bound them
with ``LimitedModel``); ``tenacity`` retries them as the ``RetryPolicy`` says. What still
fails is raised as ``ServerUnreachable`` (no connection or no answer in time) or
``ModelRequestError`` (an error status or an unusable answer, in the server's own words;
``PromptTooLong``, with the prompt's size, when it refused a prompt too long for its window).
With ``failover=True`` (another server can take the request: ``EndpointPool`` says so) a
connection refused, reset or not made in time is raised at once, without the retries.

Kept in this package because the SDK does not do it: a streamed answer counts only once it
has a ``finish_reason`` and its stream ended with ``[DONE]`` (the SDK ends a cut stream
quietly), a plain JSON answer to a streamed request is read too (both in
``agentwrite.llm.openai_answer``; what a failure means is ``agentwrite.llm.openai_failure``),
and the API key and a URL's password, sent only in the ``Authorization`` header, are kept
out of every message, log line and repr (the URL is used in its public form,
``agentwrite.credentials``) and scrubbed from server text that echoes them.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import re
import ssl
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeVar

import httpx
import openai
from tenacity import RetryCallState

from agentwrite.credentials import check_api_key, public_url, redact, url_credentials
from agentwrite.errors import ModelRequestError, PromptTooLong, ServerUnreachable
from agentwrite.llm.base import Capabilities, Completion, GenerationParams, Message
from agentwrite.llm.openai_answer import read_stream, whole_completion
from agentwrite.llm.openai_failure import describe, refused_prompt_tokens, request_failure
from agentwrite.llm.retry import RequestFailure, RetryPolicy

if TYPE_CHECKING:
    from agentwrite.settings import Settings

logger = logging.getLogger(__name__)

T = TypeVar("T")

MAX_CONNECTIONS = 1024
"""Pool size: well above any sensible ``max_inflight``, so the pool never queues requests."""
INFO_DEADLINE = 60.0
"""Seconds ``GET /models`` and ``POST /tokenize`` may take in all, however the server sends."""

_DETAIL_CHARS = 300


@dataclass(frozen=True)
class ServerInfo:
    """What ``GET /models`` tells about a server: its model ids and the context window
    of the model in use (vLLM reports ``max_model_len``; others may not)."""

    model_ids: tuple[str, ...]
    max_model_len: int | None


@functools.cache
def tls_context() -> ssl.SSLContext:
    """The TLS settings every client shares: httpx's defaults (the CA bundle of ``certifi``),
    made once a process. Each client would otherwise load the bundle again, about 50 ms on
    this machine, which a document's run would wait for before its first request."""
    return httpx.create_ssl_context(trust_env=False)


class OpenAICompatModel:
    """Chat completions from ``{base_url}/chat/completions``.

    ``base_url`` is the API root, e.g. ``http://127.0.0.1:8000/v1``. When ``model`` is
    None the server's first model (``GET {base_url}/models``) is used, looked up once.
    ``vllm_extensions`` allows vLLM's own request fields (``min_tokens``, ``min_p``,
    ``repetition_penalty``).
    With ``stream`` (the default) completions are streamed and ``timeout`` bounds the
    silence between chunks; without it the server sends nothing until the answer is
    done, so ``timeout`` bounds the whole generation. Either way a completion ends by its
    deadline, ``timeout`` plus ``seconds_per_token`` for each token asked for, and
    ``GET /models`` and ``POST /tokenize`` by ``info_deadline``, however slowly a server
    keeps sending.
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
        seconds_per_token: float = 1.0,
        info_deadline: float = INFO_DEADLINE,
    ) -> None:
        self.base_url = public_url(base_url.rstrip("/"))  # the URL recorded and shown, and requested
        self._model = model
        self._api_key = api_key or None
        if self._api_key:
            check_api_key(self._api_key)
        login = url_credentials(base_url)
        self._secrets = [s for s in (self._api_key, login[1] if login else None) if s]
        self.retry = retry or RetryPolicy()
        self.vllm_extensions = vllm_extensions
        self.stream = stream
        self._timeout, self._seconds_per_token, self._info_deadline = (
            timeout,
            seconds_per_token,
            info_deadline,
        )
        self._model_lock = asyncio.Lock()
        self._window: int | None = None  # the server's max_model_len, once server_info() has told it
        self._tokenize = vllm_extensions  # vLLM's POST /tokenize, until a server shows it has none
        self._headers: dict[str, Any] = {} if self._api_key else {"Authorization": openai.Omit()}
        timeouts = httpx.Timeout(timeout, connect=connect_timeout, pool=None)
        self._http = httpx.AsyncClient(  # openai 3 types its own httpx2 client, and takes httpx's too
            auth=httpx.BasicAuth(*login) if login else None,  # a URL's user and password, as httpx sends them
            timeout=timeouts,
            limits=httpx.Limits(max_connections=MAX_CONNECTIONS, max_keepalive_connections=MAX_CONNECTIONS),
            trust_env=False,
            verify=tls_context(),
        )
        self._client = openai.AsyncOpenAI(
            base_url=self.base_url,
            api_key=self._api_key or "EMPTY",  # the SDK wants one; without a key no header goes out
            http_client=self._http,  # type: ignore[arg-type]
            timeout=timeouts,  # type: ignore[arg-type]
            max_retries=0,
        )

    @classmethod
    def from_settings(cls, settings: Settings, base_url: str | None = None) -> OpenAICompatModel:
        """A client for ``base_url``, by default the first of ``settings.base_url``."""
        base_url = base_url or next(iter(settings.base_url), None)
        if not base_url:
            raise ValueError("settings.base_url is not set")
        return cls(
            base_url,
            settings.model,
            api_key=settings.api_key.get_secret_value() if settings.api_key else None,
            timeout=settings.timeout,
            connect_timeout=settings.connect_timeout,
            retry=RetryPolicy.from_settings(settings),
            vllm_extensions=settings.min_tokens,
            stream=settings.stream,
            seconds_per_token=settings.seconds_per_token,
        )

    def __repr__(self) -> str:
        return f"OpenAICompatModel(base_url={self.base_url!r}, model={self._model!r})"

    @property
    def name(self) -> str:
        """The model id: as given, or as discovered by the first request."""
        return self._model or f"(first model at {self.base_url})"

    @property
    def capabilities(self) -> Capabilities:
        return Capabilities(
            min_tokens=self.vllm_extensions, streaming_watch=self.stream, tokenize=self._tokenize
        )

    async def context_window(self, *, failover: bool = False) -> int | None:
        """The server's ``max_model_len`` (``GET /models``), which also proves it reachable."""
        return (await self.server_info(failover=failover)).max_model_len

    async def count_tokens(self, messages: list[Message]) -> int | None:
        """The prompt's size, chat template included, from vLLM's ``POST /tokenize`` (at the
        server's root, beside ``/v1``). None, once and for all, from a server without that
        route; None for this call when it fails (callers estimate; the request itself will
        show what is wrong)."""
        if not self._tokenize:
            return None
        body = {"model": await self._resolve_model(), "add_generation_prompt": True}
        body["messages"] = [{"role": m["role"], "content": m["content"]} for m in messages]
        auth = {"Authorization": f"Bearer {self._api_key}"} if self._api_key else {}
        try:
            async with asyncio.timeout(self._info_deadline):
                response = await self._http.post(
                    self.base_url.removesuffix("/v1") + "/tokenize", json=body, headers=auth
                )
            count = response.json().get("count") if response.is_success else None
        except (httpx.HTTPError, ValueError, AttributeError, TimeoutError) as exc:
            logger.debug("POST /tokenize failed: %s", self._scrub(f"{type(exc).__name__}: {exc}"))
            return None
        if response.status_code in (404, 405):
            logger.info("%s has no /tokenize; prompt sizes are estimated", self.base_url)
            self._tokenize = False
        return count if isinstance(count, int) and count > 0 else None

    async def complete(
        self, messages: list[Message], params: GenerationParams, *, failover: bool = False
    ) -> Completion:
        model = await self._resolve_model(failover=failover)
        request = self._request(model, messages, params)

        deadline = self._timeout + params.max_tokens * self._seconds_per_token

        async def once() -> Completion:
            async with _deadline(deadline, f"{params.max_tokens} tokens"):
                answer = await self._client.chat.completions.create(**request)
                try:
                    if isinstance(answer, openai.AsyncStream):
                        return await read_stream(answer, params.watch)
                    return whole_completion(answer)
                except (AttributeError, TypeError, IndexError) as exc:  # a part missing or of the wrong type
                    raise RequestFailure(f"unusable answer ({type(exc).__name__}: {exc})") from None

        return await self._call("POST", "/chat/completions", once, failover=failover)

    async def server_info(self, *, failover: bool = False) -> ServerInfo:
        """Model ids and context window, from ``GET /models``."""

        async def once() -> list[Any]:
            async with _deadline(self._info_deadline, "the model list"):
                cards = (await self._client.models.list(extra_headers=self._headers)).data
            if not cards or not all(isinstance(getattr(c, "id", None), str) for c in cards):
                raise RequestFailure("the server lists no models, or a model without an id")
            return cards

        cards = await self._call("GET", "/models", once, failover=failover)
        ids = tuple(card.id for card in cards)
        if self._model is None:
            self._model = ids[0]
        max_len = getattr(next((c for c in cards if c.id == self._model), cards[0]), "max_model_len", None)
        self._window = max_len if isinstance(max_len, int) and max_len > 0 else None
        return ServerInfo(ids, self._window)

    async def ping(self) -> bool:
        """Whether the server answers ``GET /models`` now (one try, no retries)."""
        try:
            async with asyncio.timeout(self._info_deadline):
                await self._client.models.list(extra_headers=self._headers)
        except (openai.APIError, httpx.HTTPError, ValueError, TimeoutError):
            return False
        return True

    async def aclose(self) -> None:
        await self._client.close()

    async def _resolve_model(self, *, failover: bool = False) -> str:
        if self._model is None:
            async with self._model_lock:
                if self._model is None:
                    await self.server_info(failover=failover)
        assert self._model is not None
        return self._model

    def _request(self, model: str, messages: list[Message], params: GenerationParams) -> dict[str, Any]:
        """The SDK's arguments; vLLM's own fields and ``params.extra`` go in ``extra_body``."""
        request: dict[str, Any] = {
            "model": model,
            "messages": [{"role": m["role"], "content": m["content"]} for m in messages],
            "max_tokens": params.max_tokens,
            "temperature": params.temperature,
            "top_p": params.top_p,
        }
        if self.stream:
            request |= {"stream": True, "stream_options": {"include_usage": True}}
        optional = {
            "seed": params.seed,
            "frequency_penalty": params.frequency_penalty,
            "presence_penalty": params.presence_penalty,
            "stop": list(params.stop) or None,
        }
        request |= {name: value for name, value in optional.items() if value is not None}
        if params.json_schema is not None:
            name = _schema_name(params.json_schema)
            schema = {"name": name, "schema": params.json_schema, "strict": True}
            request["response_format"] = {"type": "json_schema", "json_schema": schema}
        extra: dict[str, Any] = {}
        if self.vllm_extensions:
            vllm = {"min_tokens": params.min_tokens or None, "min_p": params.min_p}
            vllm["repetition_penalty"] = params.repetition_penalty
            extra |= {name: value for name, value in vllm.items() if value is not None}
        request["extra_body"] = extra | params.extra
        request["extra_headers"] = self._headers
        return request

    async def _call(
        self, method: str, path: str, once: Callable[[], Awaitable[T]], *, failover: bool = False
    ) -> T:
        """``once()`` with retries; what still fails is raised as this package's error. With
        ``failover``, a failed connection is not tried again: another server takes the request."""
        url = self.base_url + path

        async def attempt() -> T:
            try:
                return await once()
            except (RequestFailure, openai.APIError, httpx.TransportError, ValueError) as exc:
                failure = self._failure(exc)
                if failover and failure.connection_failed:
                    failure.retryable = False
                raise failure from None

        def log_retry(state: RetryCallState) -> None:
            failure = state.outcome.exception() if state.outcome else None
            logger.warning(
                "%s %s failed (try %d of %d): %s; retrying in %.2f s",
                method, url, state.attempt_number, self.retry.attempts,
                describe(failure), state.next_action.sleep if state.next_action else 0.0,
            )  # fmt: skip

        try:
            return await self.retry.retrying(log_retry)(attempt)
        except RequestFailure as failure:
            if failure.unreachable:
                raise ServerUnreachable(url, failure.reason) from None
            size = refused_prompt_tokens(failure.reason, self._window)
            if size is not None:
                raise PromptTooLong(url, failure.status, failure.reason, size) from None
            raise ModelRequestError(url, failure.status, failure.reason) from None

    def _failure(self, exc: Exception) -> RequestFailure:
        """What one failed try means (``request_failure``), with this client's secrets scrubbed."""
        return request_failure(exc, self._scrub)

    def _scrub(self, text: str) -> str:
        """Server text made safe to show: one line, short, the key and the URL's password
        blanked out."""
        text = " ".join(redact(text, self._secrets).split())
        return text if len(text) <= _DETAIL_CHARS else text[: _DETAIL_CHARS - 1] + "…"


@asynccontextmanager
async def _deadline(seconds: float, what: str) -> AsyncIterator[None]:
    """A block that must end within ``seconds``: past them it is cancelled and a failure
    that counts as no answer (retried as a timeout is) is raised instead."""
    try:
        async with asyncio.timeout(seconds):
            yield
    except TimeoutError:
        reason = f"no whole answer within {seconds:g} s (the deadline for {what})"
        raise RequestFailure(reason, unreachable=True) from None


def _schema_name(schema: dict[str, Any]) -> str:
    """A name for a JSON schema as OpenAI's API wants it (``[a-zA-Z0-9_-]{1,64}``).

    >>> _schema_name({"title": "Plan"}), _schema_name({"title": "A plan: v2"}), _schema_name({})
    ('Plan', 'A_plan_v2', 'output')
    """
    title = schema.get("title")
    name = re.sub(r"[^a-zA-Z0-9_-]+", "_", title).strip("_")[:64] if isinstance(title, str) else ""
    return name or "output"


__all__ = ["OpenAICompatModel", "ServerInfo"]
