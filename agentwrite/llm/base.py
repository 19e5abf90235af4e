"""The one protocol every model backend speaks: chat messages in, a completion out."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol, TypedDict, runtime_checkable

from agentwrite.domain import Usage
from agentwrite.llm.decoding import Decoding

Watch = Callable[[str], bool]
"""Called with each new piece of a streamed answer; True stops the request at once."""

HALTED = "halted"
"""The finish reason of an answer that a ``watch`` stopped."""


class Message(TypedDict):
    """One chat message, as the OpenAI chat-completions API spells it."""

    role: Literal["system", "user", "assistant"]
    content: str


@dataclass(frozen=True)
class GenerationParams:
    """Sampling settings of one request.

    ``min_tokens``, ``min_p`` and ``repetition_penalty`` are vLLM extensions (ignored by
    backends that lack them); ``json_schema`` asks for structured output that matches the
    schema; ``extra`` goes into the request body as it is. ``watch`` sees the answer as it
    streams and may stop it (the completion then ends with ``HALTED``); backends that do not
    stream ignore it, and callers check the whole answer as well.
    """

    max_tokens: int
    temperature: float = 0.7
    top_p: float = 0.95
    min_tokens: int | None = None
    json_schema: dict[str, Any] | None = None
    seed: int | None = None
    min_p: float | None = None
    repetition_penalty: float | None = None
    frequency_penalty: float | None = None
    presence_penalty: float | None = None
    stop: tuple[str, ...] = ()
    extra: dict[str, Any] = field(default_factory=dict)
    watch: Watch | None = field(default=None, compare=False, repr=False)

    @classmethod
    def of(cls, decoding: Decoding, max_tokens: int, **fields: Any) -> GenerationParams:
        """Parameters from a role's decoding; ``max_tokens`` is capped by the role's own.

        >>> p = GenerationParams.of(Decoding(temperature=0.2, max_tokens=100, stop=["END"]), 500, seed=3)
        >>> p.max_tokens, p.temperature, p.top_p, p.stop, p.seed
        (100, 0.2, 0.95, ('END',), 3)
        """
        d = decoding
        return cls(
            max_tokens=min(max_tokens, d.max_tokens or max_tokens),
            temperature=0.7 if d.temperature is None else d.temperature,
            top_p=0.95 if d.top_p is None else d.top_p,
            min_p=d.min_p,
            repetition_penalty=d.repetition_penalty,
            frequency_penalty=d.frequency_penalty,
            presence_penalty=d.presence_penalty,
            stop=tuple(d.stop or ()),
            extra=dict(d.extra_body or {}),
            **fields,
        )


@dataclass(frozen=True)
class Completion:
    """What one request produced. ``finish_reason`` is ``"stop"`` or ``"length"`` (or
    whatever else the server says); ``usage`` counts this request alone."""

    text: str
    finish_reason: str
    usage: Usage


@dataclass(frozen=True)
class Capabilities:
    """What a backend honours of ``GenerationParams``: a ``json_schema`` (``structured_output``),
    ``min_tokens``, and a ``watch`` that sees the answer as it streams (``streaming_watch``);
    and whether ``count_tokens`` can give a prompt's exact size (``tokenize``)."""

    structured_output: bool = True
    min_tokens: bool = True
    streaming_watch: bool = True
    tokenize: bool = False


@runtime_checkable
class ChatModel(Protocol):
    """An asynchronous chat model. Implementations raise ``ModelError`` on failure;
    they never return error text as a completion."""

    @property
    def name(self) -> str:
        """The model's name, as recorded in sidecars."""
        ...

    @property
    def capabilities(self) -> Capabilities:
        """What this backend does with a request's parameters."""
        ...

    async def context_window(self) -> int | None:
        """The context window in tokens, where the backend can tell (a server is asked, which
        proves it reachable and resolves its model name)."""
        ...

    async def count_tokens(self, messages: list[Message]) -> int | None:
        """The prompt's exact size in tokens, chat template included, or None where the backend
        cannot tell (then callers estimate)."""
        ...

    async def complete(self, messages: list[Message], params: GenerationParams) -> Completion:
        """Run one chat completion."""
        ...

    async def aclose(self) -> None:
        """Release connections or weights."""
        ...


class ForwardingModel:
    """A ``ChatModel`` that passes everything on to ``inner``: the base of wrappers, which
    override only what they change."""

    def __init__(self, inner: ChatModel) -> None:
        self.inner = inner

    @property
    def name(self) -> str:
        return self.inner.name

    @property
    def capabilities(self) -> Capabilities:
        return self.inner.capabilities

    async def context_window(self) -> int | None:
        return await self.inner.context_window()

    async def count_tokens(self, messages: list[Message]) -> int | None:
        return await self.inner.count_tokens(messages)

    async def complete(self, messages: list[Message], params: GenerationParams) -> Completion:
        return await self.inner.complete(messages, params)

    async def aclose(self) -> None:
        await self.inner.aclose()
