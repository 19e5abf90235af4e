"""Several OpenAI-compatible servers as one ``ChatModel``.

A document's first request goes to the server with the fewest requests outstanding (of
those, the one that was given the fewest documents), and
the document stays there while that server is healthy, so that the server's prefix cache
keeps serving its growing prompt.

The pool holds one health state per server, shared by every document. A server whose
connection is refused or reset while another server is in is taken out at once, without
retries or backoff; one that fails otherwise (no answer in time, a 5xx, a cut stream) is
taken out after its own retries. Either way the request goes to another server, and the
server is asked again in the background, by one probe (``GET /models``, the wait doubling
from ``probe_delay`` to ``max_probe_delay``), until it answers and is taken back. Only the
last server in waits and retries; when every server is out, a request asks them again,
each with its retries, and the run fails when none answers, with one line that names each
URL and why it failed. Errors that any server would give (a 4xx: a bad request, a prompt
too long) are raised as they are. The servers are asked for their window once, together,
for all documents.

What each server did is counted per server (``usage``) and, within a run, per document
(the ``DocumentTicket`` of ``agentwrite.llm.scheduling``).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from agentwrite.domain import EndpointUsage
from agentwrite.errors import ModelRequestError, NoServerLeft, PromptTooLong, ServerUnreachable
from agentwrite.llm.base import Capabilities, Completion, GenerationParams, Message
from agentwrite.llm.openai_compat import OpenAICompatModel
from agentwrite.llm.scheduling import DocumentTicket, current_ticket

log = logging.getLogger(__name__)


@dataclass(eq=False)
class Endpoint:
    """One server of the pool: its client, its requests in flight, the documents that went to
    it, why it is out (None: in)."""

    client: OpenAICompatModel
    outstanding: int = 0
    documents: int = 0
    down: str | None = None
    usage: EndpointUsage = field(default_factory=EndpointUsage)
    probe: asyncio.Task[None] | None = None

    @property
    def url(self) -> str:
        return self.client.base_url


def fails_the_server(error: BaseException) -> bool:
    """Whether a request's failure speaks against its server rather than the request: no
    connection or answer, a 5xx, an unusable answer; not a 4xx, which any server would give.

    >>> [fails_the_server(e) for e in (ServerUnreachable("u", "down"), ModelRequestError("u", 503, "busy"))]
    [True, True]
    >>> [fails_the_server(e) for e in (ModelRequestError("u", 400, "no"), PromptTooLong("u", 400, "long", 9))]
    [False, False]
    """
    if isinstance(error, ServerUnreachable):
        return True
    if isinstance(error, PromptTooLong):
        return False
    return isinstance(error, ModelRequestError) and (error.status is None or error.status >= 500)


class EndpointPool:
    """Requests spread over ``clients`` (one ``OpenAICompatModel`` per server)."""

    def __init__(
        self, clients: Sequence[OpenAICompatModel], *, probe_delay: float = 1.0, max_probe_delay: float = 60.0
    ) -> None:
        if not clients:
            raise ValueError("an endpoint pool needs at least one server")
        self.endpoints = [Endpoint(c) for c in clients]
        self.probe_delay, self.max_probe_delay = probe_delay, max_probe_delay
        self._sticky: dict[int, Endpoint] = {}
        self._window: tuple[int | None] | None = None  # (the smallest window,) once the servers were asked
        self._asking = asyncio.Lock()  # documents that start together wait for one round of questions

    @property
    def name(self) -> str:
        """The model's name; the names joined with `` | `` when the servers serve different ones."""
        return " | ".join(dict.fromkeys(e.client.name for e in self.endpoints))

    @property
    def capabilities(self) -> Capabilities:
        """What every server can do."""
        each = [e.client.capabilities for e in self.endpoints]
        return Capabilities(
            **{f: all(getattr(c, f) for c in each) for f in Capabilities.__dataclass_fields__}
        )

    def usage(self) -> dict[str, EndpointUsage]:
        """What each server did so far, by URL."""
        return {e.url: e.usage for e in self.endpoints}

    def report(self) -> list[dict[str, Any]]:
        """Each server's URL, model, state and figures, for a run's records."""
        return [
            {"url": e.url, "model": e.client.name, "up": e.down is None, "down_because": e.down}
            | e.usage.model_dump()
            for e in self.endpoints
        ]

    async def context_window(self) -> int | None:
        """The smallest window the servers report. The first call asks every server at once
        (which proves it reachable and resolves its model's name) and takes out those that
        cannot be reached, a refused connection at once; when none answers, all are asked
        again with their retries. Calls made meanwhile wait for that answer; later calls answer
        from what was learnt (their requests find out which servers are in)."""
        async with self._asking:
            if self._window is None:
                windows = await self._ask_windows(failover=len(self.endpoints) > 1)
                if all(e.down is not None for e in self.endpoints):
                    windows = await self._ask_windows(failover=False)
                self._check_some_left()
                for endpoint in self.endpoints:
                    if endpoint.down is not None:
                        log.warning("%s is out from the start: %s", endpoint.url, endpoint.down)
                self._window = (min(windows, default=None),)
        return self._window[0]

    async def _ask_windows(self, *, failover: bool) -> list[int]:
        """The windows of the servers that answer; the others are taken out."""
        answers = await asyncio.gather(
            *(e.client.context_window(failover=failover) for e in self.endpoints), return_exceptions=True
        )
        windows = []
        for endpoint, answer in zip(self.endpoints, answers, strict=True):
            if isinstance(answer, BaseException):
                if len(self.endpoints) == 1 or not fails_the_server(answer):
                    raise answer
                self._count(endpoint, current_ticket(), EndpointUsage(failures=1))
                self._take_out(endpoint, answer, quiet=True)  # said by the caller, or in the error
            else:
                endpoint.down = None
                if answer is not None:
                    windows.append(answer)
        return windows

    async def count_tokens(self, messages: list[Message]) -> int | None:
        """The prompt's size as the server the document sticks to counts it (None on failure)."""
        endpoint = self._choose(current_ticket(), ())
        if endpoint is None:
            return None
        try:
            return await endpoint.client.count_tokens(messages)
        except Exception:  # a count is a hint: the request itself will tell what is wrong
            return None

    async def complete(self, messages: list[Message], params: GenerationParams) -> Completion:
        ticket = current_ticket()
        tried: list[Endpoint] = []
        while (endpoint := self._choose(ticket, tried) or self._last_resort(tried)) is not None:
            # a failed connection goes straight to another server while one is in
            failover = any(e.down is None and e is not endpoint and e not in tried for e in self.endpoints)
            endpoint.outstanding += 1
            try:
                completion = await endpoint.client.complete(messages, params, failover=failover)
            except Exception as error:
                if not fails_the_server(error):
                    raise
                self._count(endpoint, ticket, EndpointUsage(failures=1))
                if len(self.endpoints) == 1:
                    raise  # one server: its own error says it best, and the next request tries it again
                self._take_out(endpoint, error)
                tried.append(endpoint)
                continue
            finally:
                endpoint.outstanding -= 1
            if endpoint.down is not None:  # it answered: asked as the last resort, or taken out meanwhile
                log.warning("%s answers again; taking it back", endpoint.url)
                endpoint.down = None
            used = completion.usage
            answered = EndpointUsage(
                requests=1, prompt_tokens=used.prompt_tokens, completion_tokens=used.completion_tokens
            )
            self._count(endpoint, ticket, answered)
            return completion
        raise self._no_server_left()

    async def aclose(self) -> None:
        for endpoint in self.endpoints:
            if endpoint.probe is not None:
                endpoint.probe.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await endpoint.probe
            await endpoint.client.aclose()

    def _choose(self, ticket: DocumentTicket | None, tried: Sequence[Endpoint]) -> Endpoint | None:
        """The document's server while it is in; else the one with the fewest outstanding (and
        of those, the fewest documents)."""
        up = [e for e in self.endpoints if e.down is None and e not in tried]
        if not up:
            return None
        sticky = self._sticky.get(ticket.order) if ticket is not None else None
        if sticky in up:
            return sticky
        # fewest in flight; among those, fewest documents so far, so that documents that start
        # together (their first request a token count, which is not in flight) spread out
        chosen = min(up, key=lambda e: (e.outstanding, e.documents))
        if ticket is not None:
            self._sticky[ticket.order] = chosen
            chosen.documents += 1
        return chosen

    def _last_resort(self, tried: Sequence[Endpoint]) -> Endpoint | None:
        """With every server out, one not yet tried by this request: asked again, with its
        retries (the wait for a server to come back)."""
        return next((e for e in self.endpoints if e not in tried), None) if len(self.endpoints) > 1 else None

    def _count(self, endpoint: Endpoint, ticket: DocumentTicket | None, usage: EndpointUsage) -> None:
        endpoint.usage = endpoint.usage + usage
        if ticket is not None:
            ticket.endpoints[endpoint.url] = ticket.endpoints.get(endpoint.url, EndpointUsage()) + usage

    def _take_out(self, endpoint: Endpoint, error: BaseException, *, quiet: bool = False) -> None:
        reason = getattr(error, "reason", None) or str(error) or type(error).__name__
        if endpoint.down is None and not quiet:
            log.warning("taking %s out: %s; asking it again in the background", endpoint.url, reason)
        endpoint.down = reason
        if endpoint.probe is None or endpoint.probe.done():
            endpoint.probe = asyncio.get_running_loop().create_task(self._probe(endpoint))

    async def _probe(self, endpoint: Endpoint) -> None:
        delay = self.probe_delay
        while endpoint.down is not None:
            await asyncio.sleep(delay)
            if await endpoint.client.ping():
                log.warning("%s answers again; taking it back", endpoint.url)
                endpoint.down = None
            delay = min(delay * 2, self.max_probe_delay)

    def _check_some_left(self) -> None:
        if all(e.down is not None for e in self.endpoints):
            raise self._no_server_left()

    def _no_server_left(self) -> NoServerLeft:
        return NoServerLeft({e.url: e.down or "it failed" for e in self.endpoints})
