"""A bound on the requests in flight, shared by as many models and documents as hold it."""

from __future__ import annotations

from agentwrite.llm.base import ChatModel, Completion, ForwardingModel, GenerationParams, Message
from agentwrite.llm.scheduling import FairLimiter, current_ticket


class LimitedModel(ForwardingModel):
    """Wraps a ``ChatModel`` so that at most ``limit`` of its requests run at once; waiting
    requests go in the order of ``FairLimiter`` (documents nearly done first). Token counts
    are not held back by the bound: they are cheap.

    Pass a ``FairLimiter`` instead of a number to share one bound between several wrappers
    (for instance one per document of a dataset build).
    """

    def __init__(self, inner: ChatModel, limit: int | FairLimiter) -> None:
        super().__init__(inner)
        self.limiter = limit if isinstance(limit, FairLimiter) else FairLimiter(limit)

    async def complete(self, messages: list[Message], params: GenerationParams) -> Completion:
        await self.limiter.acquire(current_ticket())
        try:
            return await self.inner.complete(messages, params)
        finally:
            self.limiter.release()
