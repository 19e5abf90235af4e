"""Which waiting request goes next: documents nearly done before new work.

Every document a run writes holds a ``DocumentTicket`` in a context variable (set by the
runner, inherited by every task the graph starts), so that the layers below see whose
request they are serving without being told: ``FairLimiter`` lets the request of the
document with the fewest words left to write go first when requests wait for a slot (ties:
the document admitted first), and an endpoint pool keeps a document on the server that
holds its prompt prefix in cache. Fewest words left first is shortest-remaining-work-first,
which gives the least mean time to finish a document for the same total work: a short
document, or a long one near its end, does not queue behind a long document's sections.

>>> import asyncio
>>> async def order() -> list[str]:
...     limiter, served = FairLimiter(1), []
...     await limiter.acquire(DocumentTicket())  # the one slot is taken
...     async def ask(name: str, ticket: DocumentTicket) -> None:
...         await limiter.acquire(ticket)
...         served.append(name)
...         limiter.release()
...     waiting = [asyncio.create_task(ask("new", DocumentTicket(words_left=2000))),
...                asyncio.create_task(ask("nearly done", DocumentTicket(words_left=300)))]
...     await asyncio.sleep(0)
...     limiter.release()
...     await asyncio.gather(*waiting)
...     return served
>>> asyncio.run(order())
['nearly done', 'new']
"""

from __future__ import annotations

import asyncio
import heapq
import itertools
import math
from contextvars import ContextVar
from dataclasses import dataclass, field

from agentwrite.domain import EndpointUsage

_ADMITTED = itertools.count()


@dataclass(eq=False)
class DocumentTicket:
    """One document in flight: when it was admitted, the words it has left to write (its
    target less the words of its finished sections; unknown until its run starts), and what
    each endpoint did for it (by URL)."""

    words_left: int | None = None
    order: int = field(default_factory=lambda: next(_ADMITTED))
    endpoints: dict[str, EndpointUsage] = field(default_factory=dict)
    target: int | None = None
    written: dict[int, int] = field(default_factory=dict)

    def start(self, target: int) -> None:
        """The document's run starts: ``target`` words, none written yet."""
        self.target, self.words_left = target, target
        self.written.clear()

    def section_written(self, index: int, words: int) -> None:
        """A section is written (again: its latest count stands); fewer words left.

        >>> ticket = DocumentTicket()
        >>> ticket.start(1000); ticket.section_written(0, 400); ticket.section_written(0, 450)
        >>> ticket.words_left
        550
        """
        self.written[index] = words
        if self.target is not None:
            self.words_left = max(0, self.target - sum(self.written.values()))

    @property
    def rank(self) -> tuple[float, int]:
        """Lower goes first: the fewest words left, then the earliest admitted."""
        return (math.inf if self.words_left is None else self.words_left, self.order)


CURRENT_DOCUMENT: ContextVar[DocumentTicket | None] = ContextVar("agentwrite_document", default=None)
"""The document whose work the current task does (None outside a run)."""


def current_ticket() -> DocumentTicket | None:
    """The ticket of the document the current task works for."""
    return CURRENT_DOCUMENT.get()


class FairLimiter:
    """At most ``slots`` requests at once; waiting requests are let in by their document's
    ``rank`` at the time they began to wait (``fair``), or first come, first served. Share one
    limiter between several models (for instance one per document of a build) to share the bound."""

    def __init__(self, slots: int, *, fair: bool = True) -> None:
        if slots < 1:
            raise ValueError(f"the in-flight limit must be at least 1, got {slots}")
        self.slots, self.fair = slots, fair
        self._free = slots
        self._waiting: list[tuple[tuple[float, int], int, asyncio.Future[None]]] = []
        self._arrivals = itertools.count()

    async def acquire(self, ticket: DocumentTicket | None) -> None:
        """Wait for a slot; a request outside any document ranks behind every document."""
        if self._free > 0 and not self._waiting:
            self._free -= 1
            return
        rank = ticket.rank if ticket is not None and self.fair else (math.inf, 0)
        waiter: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        heapq.heappush(self._waiting, (rank, next(self._arrivals), waiter))
        try:
            await waiter
        except asyncio.CancelledError:
            if waiter.done() and not waiter.cancelled():
                self.release()  # the slot came just as the caller gave up: pass it on
            raise

    def release(self) -> None:
        """Hand the slot to the best-ranked waiter still waiting, else free it."""
        while self._waiting:
            _, _, waiter = heapq.heappop(self._waiting)
            if not waiter.done():
                waiter.set_result(None)
                return
        self._free += 1

    @property
    def waiting(self) -> int:
        """Requests waiting for a slot."""
        return sum(1 for _, _, w in self._waiting if not w.done())
