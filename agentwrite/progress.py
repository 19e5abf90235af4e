"""Terminal progress for a run: a rich progress bar fed by the run's events."""

from __future__ import annotations

import time
from types import TracebackType

from rich.console import Console
from rich.progress import BarColumn, Progress, TaskID, TextColumn, TimeElapsedColumn

from agentwrite.events import Event, PlanReady, SectionDone, SectionStarted


class RunProgress:
    """Shows the section being written, words so far against the target, and tokens/s.

    Use as a context manager and pass ``on_event`` to the runner.
    """

    def __init__(self, target_words: int, console: Console | None = None, enabled: bool = True) -> None:
        self._console = console or Console(stderr=True)
        self._bar = Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            TextColumn("{task.completed:>6.0f}/{task.total:.0f} words"),
            TextColumn("{task.fields[speed]}"),
            TimeElapsedColumn(),
            console=self._console,
            disable=not enabled,
            transient=False,
        )
        self._task: TaskID = self._bar.add_task("planning", total=target_words, speed="")
        self._started = time.monotonic()
        self._tokens = 0
        self._done = 0
        self._count = 0

    def __enter__(self) -> RunProgress:
        self._bar.start()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self._bar.stop()

    def on_event(self, event: Event) -> None:
        if isinstance(event, PlanReady):
            self._count = len(event.plan.sections)
            self._bar.update(self._task, description=f"plan ready ({self._count} sections, {event.source})")
        elif isinstance(event, SectionStarted):
            self._bar.update(
                self._task, description=f"section {event.index + 1}/{event.count}: {event.title[:40]}"
            )
        elif isinstance(event, SectionDone):
            self._done += 1
            self._tokens += event.section.usage.completion_tokens
            speed = self._tokens / max(time.monotonic() - self._started, 1e-6)
            self._bar.update(
                self._task,
                advance=event.section.words,
                speed=f"{speed:,.0f} tok/s",
                description=f"{self._done}/{event.count} sections written",
            )
