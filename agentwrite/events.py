"""Progress events a run emits. Nodes write them to LangGraph's custom stream as JSON
objects (``to_json``), so that an embedder on HTTP reads them as they are; the runner reads
them back (``from_json``) for its ``on_event``; the CLI renders them.

>>> from agentwrite.domain import SectionPlan
>>> plan = Plan(title="Tea", sections=[SectionPlan(title="Origins", main_point="Where.", target_words=300)])
>>> to_json(SectionStarted(0, 1, "Origins", 300))
{'event': 'section_started', 'index': 0, 'count': 1, 'title': 'Origins', 'target_words': 300}
>>> from_json(to_json(PlanReady(plan, "model"))) == PlanReady(plan, "model")
True
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from agentwrite.domain import Plan, Section


@dataclass(frozen=True)
class PlanReady:
    """The plan is known (from the model, the user, or a resumed run)."""

    plan: Plan
    source: str


@dataclass(frozen=True)
class SectionStarted:
    """A section request is about to be sent."""

    index: int
    count: int
    title: str
    target_words: int


@dataclass(frozen=True)
class SectionDone:
    """A section is written (or was found finished in a resumed run)."""

    section: Section
    count: int


@dataclass(frozen=True)
class SectionDelta:
    """A piece of a section's text as the server streams it (streaming backends only), the
    server's pieces of up to ``DELTA_INTERVAL`` seconds together (``TextBatches``). Raw: text
    that the loop guard cuts or drops later was streamed too, and a continuation streams on
    after it; ``SectionDone`` carries the section as kept."""

    index: int
    text: str


Event = PlanReady | SectionStarted | SectionDelta | SectionDone
EventSink = Callable[[Event], None]


def ignore(_: Event) -> None:
    """The default sink: drop events."""


def to_json(event: Event) -> dict[str, Any]:
    """The event as a JSON object: ``{"event": "plan_ready" | "section_started" |
    "section_delta" | "section_done", ...its fields}`` (plans and sections as their JSON)."""
    if isinstance(event, PlanReady):
        return {"event": "plan_ready", "plan": event.plan.model_dump(mode="json"), "source": event.source}
    if isinstance(event, SectionStarted):
        return {"event": "section_started", "index": event.index, "count": event.count,
                "title": event.title, "target_words": event.target_words}  # fmt: skip
    if isinstance(event, SectionDelta):
        return {"event": "section_delta", "index": event.index, "text": event.text}
    return {"event": "section_done", "section": event.section.model_dump(mode="json"), "count": event.count}


def from_json(data: dict[str, Any]) -> Event | None:
    """The event a ``to_json`` object stands for; None for anything else."""
    fields = {k: v for k, v in data.items() if k != "event"}
    match data.get("event"):
        case "plan_ready":
            return PlanReady(Plan.model_validate(data["plan"]), data["source"])
        case "section_started":
            return SectionStarted(**fields)
        case "section_delta":
            return SectionDelta(**fields)
        case "section_done":
            return SectionDone(Section.model_validate(data["section"]), data["count"])
    return None


DELTA_INTERVAL = 0.05
"""Seconds a piece of streamed text may wait for the next before they are sent together."""


class TextBatches:
    """Streamed text passed on in batches: a piece goes out with those held before it once
    ``interval`` seconds have passed since the last batch went (the first at once), and
    ``flush()`` sends what is held. Each event costs a run tens of microseconds (LangGraph
    wakes its stream for each), and an engine at GPU speed streams a piece of a few tokens
    every few milliseconds a section: about 2,800 events for 10,000 words, 20 a second a
    section once batched. A slow engine's pieces, further apart, still go out one by one.

    >>> sent = []
    >>> batches = TextBatches(sent.append, interval=3600)
    >>> for piece in ("Tea ", "grows ", "on hills."):
    ...     batches(piece)
    >>> batches.flush()
    >>> sent
    ['Tea ', 'grows on hills.']
    >>> one_by_one = []
    >>> batches = TextBatches(one_by_one.append, interval=0)
    >>> batches("Tea "), batches("grows."), one_by_one
    (None, None, ['Tea ', 'grows.'])
    """

    def __init__(self, send: Callable[[str], None], interval: float = DELTA_INTERVAL) -> None:
        self._send, self._interval = send, interval
        self._held: list[str] = []
        self._sent_at = -math.inf

    def __call__(self, piece: str) -> None:
        self._held.append(piece)
        now = time.monotonic()
        if now - self._sent_at >= self._interval:
            self._sent_at = now
            self.flush()

    def flush(self) -> None:
        """Send the pieces held, if any."""
        if self._held:
            text = "".join(self._held)
            self._held.clear()
            self._send(text)


def streamed(writer: Callable[[Any], None]) -> EventSink:
    """A sink that writes each event, as JSON, to a LangGraph stream writer (a node's
    ``runtime.stream_writer``; ``stream_mode="custom"`` reads them)."""
    return lambda event: writer(to_json(event))
