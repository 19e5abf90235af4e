"""A bound on the requests in flight, shared by as many models and documents as hold it.

>>> import asyncio
>>> from agentwrite.llm.base import GenerationParams
>>> from agentwrite.llm.fake import ScriptedModel
>>> inner = ScriptedModel(responder=lambda messages, params: "ok", delay=0.01)
>>> model = LimitedModel(inner, 2)
>>> async def five():
...     ask = [{"role": "user", "content": "hi"}]
...     return await asyncio.gather(*(model.complete(ask, GenerationParams(max_tokens=4)) for _ in range(5)))
>>> len(asyncio.run(five())), inner.max_concurrency
(5, 2)
"""

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

    async def complete(self, messages: list[Message], params: GenerationParams) -> Completion:
        async with self.semaphore:
            return await self.inner.complete(messages, params)

    async def aclose(self) -> None:
        await self.inner.aclose()
