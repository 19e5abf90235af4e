"""Run a coroutine from synchronous code, also where an event loop already runs (a notebook)."""

from __future__ import annotations

import asyncio
import contextvars
from collections.abc import Callable, Coroutine
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

T = TypeVar("T")


def run_sync(coro_fn: Callable[[], Coroutine[Any, Any, T]]) -> T:
    """``asyncio.run(coro_fn())``; when this thread already runs a loop, the same on a fresh loop
    in a worker thread (with this context), this thread waiting. Exceptions come through as raised.

    >>> async def inside():
    ...     return run_sync(lambda: asyncio.sleep(0, result="done"))
    >>> asyncio.run(inside())
    'done'
    """
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(coro_fn())
    pool = ThreadPoolExecutor(1, thread_name_prefix="agentwrite-sync")
    try:
        return pool.submit(contextvars.copy_context().run, lambda: asyncio.run(coro_fn())).result()
    finally:
        pool.shutdown(wait=False)  # an interrupted wait returns at once
