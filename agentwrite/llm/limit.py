"""A bound on the requests in flight, shared by as many models and documents as hold it."""

from __future__ import annotations

from agentwrite.llm.base import Capabilities, ChatModel, Completion, GenerationParams, Message
from agentwrite.llm.scheduling import FairLimiter, current_ticket


class LimitedModel:
    """Wraps a ``ChatModel`` so that at most ``limit`` of its requests run at once; waiting
    requests go in the order of ``FairLimiter`` (documents nearly done first).

    Pass a ``FairLimiter`` instead of a number to share one bound between several wrappers
    (for instance one per document of a dataset build).
    """

    def __init__(self, inner: ChatModel, limit: int | FairLimiter) -> None:
        self.inner = inner
        self.limiter = limit if isinstance(limit, FairLimiter) else FairLimiter(limit)

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
        await self.limiter.acquire(current_ticket())
        try:
            return await self.inner.complete(messages, params)
        finally:
            self.limiter.release()

    async def aclose(self) -> None:
        await self.inner.aclose()
