"""Progress events a run emits. Library code emits them; the CLI renders them."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

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


Event = PlanReady | SectionStarted | SectionDone
EventSink = Callable[[Event], None]


def ignore(_: Event) -> None:
    """The default sink: drop events."""
