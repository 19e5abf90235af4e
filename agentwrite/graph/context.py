"""What every node gets through LangGraph's runtime context: the model and the settings."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field

from agentwrite.context_budget import TokenGauge, refused_prompt_tokens
from agentwrite.errors import ModelRequestError
from agentwrite.events import EventSink, ignore
from agentwrite.llm.base import ChatModel, Completion, GenerationParams, Message
from agentwrite.settings import Settings

log = logging.getLogger(__name__)


@dataclass
class RunContext:
    """Injected into nodes; never a global.

    ``max_context`` is the model's context window in tokens (None: unknown, no budget);
    ``structured_output`` says whether the backend honours a JSON schema; ``gauge`` learns
    how many tokens this model's prompts really take.
    """

    model: ChatModel
    settings: Settings
    max_context: int | None = None
    structured_output: bool = True
    emit: EventSink = field(default=ignore)
    gauge: TokenGauge = field(default_factory=TokenGauge)

    async def complete(self, messages: list[Message], params: Callable[[], GenerationParams]) -> Completion:
        """Ask the model with ``params()`` (which sizes ``max_tokens`` through ``gauge``) and
        learn the prompt's real size from the answer. A request the server refuses for not
        fitting its window is sent once more, refitted to the prompt size the refusal gave."""
        try:
            completion = await self.model.complete(messages, params())
        except ModelRequestError as error:
            reported = refused_prompt_tokens(str(error))
            if reported is None:
                raise
            self.gauge.observe(messages, reported)
            log.warning("the server counted %d prompt tokens, more than estimated; refitting", reported)
            completion = await self.model.complete(messages, params())
        self.gauge.observe(messages, completion.usage.prompt_tokens)
        return completion
