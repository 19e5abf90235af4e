"""What every node gets through LangGraph's runtime context: the model and the settings."""

from __future__ import annotations

from dataclasses import dataclass, field

from agentwrite.events import EventSink, ignore
from agentwrite.llm.base import ChatModel
from agentwrite.settings import Settings


@dataclass
class RunContext:
    """Injected into nodes; never a global.

    ``max_context`` is the model's context window in tokens (None: unknown, no budget);
    ``structured_output`` says whether the backend honours a JSON schema.
    """

    model: ChatModel
    settings: Settings
    max_context: int | None = None
    structured_output: bool = True
    emit: EventSink = field(default=ignore)
