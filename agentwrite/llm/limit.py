"""A bound on the requests in flight, shared by as many models and documents as hold it."""

from __future__ import annotations

import asyncio

from agentwrite.llm.base import Capabilities, ChatModel, Completion, GenerationParams, Message


class LimitedModel:
    """Wraps a ``ChatModel`` so that at most ``limit`` of its requests run at once.

    Pass an ``asyncio.Semaphore`` instead of a number to share one bound between
    several wrappers (for instance one per document of a dataset build).
    """

    def __init__(self, inner: ChatModel, limit: int | asyncio.Semaphore) -> None:
        if isinstance(limit, int) and limit < 1:
            raise ValueError(f"the in-flight limit must be at least 1, got {limit}")
        self.inner = inner
        self.semaphore = limit if isinstance(limit, asyncio.Semaphore) else asyncio.Semaphore(limit)

    @property
    def name(self) -> str:
        return self.inner.name

    @property
    def capabilities(self) -> Capabilities:
        return self.inner.capabilities

    async def context_window(self) -> int | None:
        return await self.inner.context_window()

    async def count_tokens(self, messages: list[Message]) -> int | None:
        return await self.inner.count_tokens(messages)  # cheap: not held back by the bound

    async def complete(self, messages: list[Message], params: GenerationParams) -> Completion:
        async with self.semaphore:
            return await self.inner.complete(messages, params)

    async def aclose(self) -> None:
        await self.inner.aclose()
