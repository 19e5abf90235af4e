"""What every node gets through LangGraph's runtime context: the model, the settings, and
requests fitted to the model's context window.

The words: *context* alone (``WriteContext``, ``ctx``, ``runtime.context``) is LangGraph's
runtime context, this object; the model's token limit is always the *context window* or the
*window* (``max_context``, the setting's name, is its size; ``llm/context_window.py``)."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field, replace

from agentwrite.domain import Usage
from agentwrite.errors import PromptTooLong
from agentwrite.llm.base import ChatModel, Completion, GenerationParams, Message
from agentwrite.llm.context_window import TokenGauge, room_after
from agentwrite.settings import Settings
from agentwrite.writing.budget import CheckBudget

log = logging.getLogger(__name__)

REFITS = 3
Request = Callable[[], tuple[list[Message], GenerationParams]]


@dataclass
class WriteContext:
    """Injected into nodes; never a global.

    ``max_context`` is the model's context window in tokens (None: unknown, no budget);
    ``structured_output`` says whether the backend honours a JSON schema; ``gauge`` learns
    how many tokens this model's prompts really take; ``stream_text``: section writers send
    their text as it streams (``SectionDelta``, the pieces of up to 50 ms together; tens of
    microseconds an event, so off unless someone listens); ``check_budget`` what the section
    checks' re-asks have spent in this run's document.
    """

    model: ChatModel
    settings: Settings
    max_context: int | None = None
    structured_output: bool = True
    gauge: TokenGauge = field(default_factory=TokenGauge)
    stream_text: bool = False
    check_budget: CheckBudget = field(default_factory=CheckBudget)

    def room_beside(self, system: str, prompt: str, output: int) -> int | None:
        """The tokens the window leaves beside a prompt (``system`` and the user's ``prompt``,
        built with its blocks of material and text so far left empty) and ``output`` tokens
        of answer: what those blocks may fill. None when the window is unknown. The planner
        and both section writers size their blocks by it."""
        if self.max_context is None:
            return None
        frame: list[Message] = [{"role": "system", "content": system}, {"role": "user", "content": prompt}]
        return max(0, room_after(self.max_context, frame, self.gauge) - output)

    async def complete(self, request: Request) -> tuple[list[Message], Completion]:
        """Ask the model for ``request()`` (which sizes the prompt and ``max_tokens`` through
        ``gauge``) and learn the prompt's real size from the answer. A request the server
        refuses for not fitting its window is built again with the grown gauge, up to
        ``REFITS`` times (counted in the completion's ``usage.refused``). Returns the
        messages sent and the completion."""
        for refit in range(REFITS + 1):
            messages, params = await self._counted(request)
            try:
                completion = await self.model.complete(messages, params)
            except PromptTooLong as error:
                if self.max_context is None or refit == REFITS:
                    raise  # no window to refit to, or refitted enough
                self.gauge.refused(messages, error.prompt_tokens)
                log.warning("the server refused a prompt as too long for its window; refitting it")
                continue
            self.gauge.observe(messages, completion.usage.prompt_tokens)
            if refit:
                completion = replace(completion, usage=completion.usage + Usage(refused=refit))
            return messages, completion
        raise AssertionError("unreachable")

    async def _counted(self, request: Request) -> tuple[list[Message], GenerationParams]:
        """``request()``, sized by the prompt's exact token count where the model can count
        it and there is a window to fit: counted, then built again with the count known
        (the same messages, now with ``max_tokens`` from the count; or a prompt fitted anew
        when the count taught the gauge that the text is denser than estimated)."""
        messages, params = request()
        if self.max_context is None or not self.model.capabilities.tokenize:
            return messages, params
        for _ in range(REFITS):
            tokens = await self.model.count_tokens(messages)
            if tokens is None:
                break
            self.gauge.counted(messages, tokens)
            refitted, params = request()
            if refitted == messages:
                break
            messages = refitted
        return messages, params


RunContext = WriteContext
"""The old name, kept for code written before (the graph, its state and its context share one word)."""
