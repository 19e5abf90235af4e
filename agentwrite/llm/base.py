"""The one protocol every model backend speaks: chat messages in, a completion out."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal, Protocol, TypedDict, runtime_checkable

from agentwrite.domain import Usage


class Message(TypedDict):
    """One chat message, as the OpenAI chat-completions API spells it."""

    role: Literal["system", "user", "assistant"]
    content: str


@dataclass(frozen=True)
class GenerationParams:
    """Sampling settings of one request.

    ``min_tokens`` is a vLLM extension (ignored by backends that lack it);
    ``json_schema`` asks for structured output that matches the schema.
    """

    max_tokens: int
    temperature: float = 0.7
    top_p: float = 0.95
    min_tokens: int | None = None
    json_schema: dict[str, Any] | None = None
    seed: int | None = None
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Completion:
    """What one request produced. ``finish_reason`` is ``"stop"`` or ``"length"`` (or
    whatever else the server says); ``usage`` counts this request alone."""

    text: str
    finish_reason: str
    usage: Usage


@runtime_checkable
class ChatModel(Protocol):
    """An asynchronous chat model. Implementations raise ``ModelError`` on failure;
    they never return error text as a completion."""

    @property
    def name(self) -> str:
        """The model's name, as recorded in sidecars."""
        ...

    async def complete(self, messages: list[Message], params: GenerationParams) -> Completion:
        """Run one chat completion."""
        ...

    async def aclose(self) -> None:
        """Release connections or weights."""
        ...
