"""Terminal progress: a rich bar for one document (fed by its events) and one for a job of many items."""

from __future__ import annotations

import logging
import sys
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from datetime import timedelta
from types import TracebackType
from typing import Self

from rich.console import Console
from rich.file_proxy import FileProxy
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
)

from agentwrite.events import Event, PlanReady, SectionDone, SectionStarted


class _LiveBar:
    """A rich bar on screen for the length of a ``with`` block, log lines printed above it."""

    def __init__(self, bar: Progress) -> None:
        self._bar = bar
        self._restore_logs: Callable[[], None] = lambda: None

    def __enter__(self) -> Self:
        self._bar.start()
        self._restore_logs = _logs_above_the_bar()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self._restore_logs()
        self._bar.stop()


class DocumentProgress(_LiveBar):
    """Shows the section being written, words so far against the target, and tokens/s.

    Use as a context manager and pass ``on_event`` to the runner.
    """

    def __init__(self, target_words: int, console: Console | None = None, enabled: bool = True) -> None:
        self._console = console or Console(stderr=True)
        super().__init__(
            Progress(
                TextColumn("{task.description}"),
                BarColumn(),
                TextColumn("{task.completed:>6.0f}/{task.total:.0f} words"),
                TextColumn("{task.fields[speed]}"),
                TimeElapsedColumn(),
                console=self._console,
                disable=not enabled,
                transient=False,
            )
        )
        self._task: TaskID = self._bar.add_task("planning", total=target_words, speed="")
        self._started = time.monotonic()
        self._tokens = 0
        self._done = 0
        self._count = 0

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

    @contextmanager
    def paused(self) -> Iterator[None]:
        """The bar off the screen while the person is asked something (the plan review)."""
        self._bar.stop()
        try:
            yield
        finally:
            self._bar.start()


class JobProgress(_LiveBar):
    """A job of many items on standard error: on a terminal a rich bar with done/total, the
    job's tallies, tokens/s, elapsed and time left; elsewhere the caller's plain line per item.

    Use as a context manager and call ``item`` after each finished item. ``enabled=False``
    shows nothing; ``plain=False`` prints no lines where there is no terminal.
    """

    def __init__(
        self, description: str, console: Console | None = None, *, enabled: bool = True, plain: bool = True
    ) -> None:
        self._console = console or Console(stderr=True)
        live = enabled and self._console.is_terminal
        self._plain = enabled and plain and not live
        super().__init__(
            Progress(
                TextColumn("{task.description}"),
                BarColumn(),
                MofNCompleteColumn(),
                TextColumn("{task.fields[tally]}"),
                TextColumn("{task.fields[speed]}"),
                TimeElapsedColumn(),
                TextColumn("{task.fields[left]}"),
                console=self._console,
                disable=not live,
            )
        )
        self._task = self._bar.add_task(description, total=None, tally="", speed="", left="")
        self._description = description
        self._started = self._phase_started = self._last = time.monotonic()
        self._done_before: int | None = None  # items done before this session (or phase) began
        self._tokens = 0

    def item(
        self,
        line: str,
        *,
        done: int,
        total: int,
        tally: Mapping[str, int],
        tokens: int = 0,
        description: str | None = None,
    ) -> None:
        """One more item finished: ``done`` of ``total`` now, ``tally`` counts by outcome,
        ``tokens`` its completion tokens; a new ``description`` starts a new phase (its own pace)."""
        now = time.monotonic()
        if description is not None and description != self._description:
            self._description, self._phase_started, self._done_before = description, self._last, None
        if self._done_before is None:
            self._done_before = done - 1
        self._tokens += tokens
        self._last = now
        if self._plain:
            self._console.file.write(line + "\n")
            self._console.file.flush()
        left = time_left(done, total, self._done_before, now - self._phase_started)
        self._bar.update(
            self._task,
            description=self._description,
            completed=done,
            total=total,
            tally=", ".join(f"{count} {name}" for name, count in tally.items()),
            speed=f"{self._tokens / max(now - self._started, 1e-6):,.0f} tok/s" if self._tokens else "",
            left=f"{timedelta(seconds=round(left))} left" if left is not None else "",
        )


def time_left(done: int, total: int, done_before: int, seconds: float) -> float | None:
    """Seconds left at this session's pace, from the ``done - done_before`` items it finished
    in ``seconds`` (items done before it do not count); None before it finished any.

    >>> time_left(done=30, total=50, done_before=20, seconds=60.0)  # 10 items a minute
    120.0
    >>> time_left(done=20, total=50, done_before=20, seconds=5.0) is None
    True
    """
    finished = done - done_before
    if finished <= 0 or seconds <= 0:
        return None
    return max(total - done, 0) * seconds / finished


def _logs_above_the_bar() -> Callable[[], None]:
    """Point the log handlers that write to standard error at rich's proxy of it (set while
    a bar is live), so log lines print above the bar instead of through it; return the undo."""
    proxy = sys.stderr
    if not isinstance(proxy, FileProxy):
        return lambda: None
    moved = [
        handler
        for handler in logging.getLogger().handlers
        if type(handler) is logging.StreamHandler and handler.stream is proxy.rich_proxied_file
    ]
    for handler in moved:
        handler.setStream(proxy)

    def undo() -> None:
        for handler in moved:
            handler.setStream(proxy.rich_proxied_file)

    return undo
