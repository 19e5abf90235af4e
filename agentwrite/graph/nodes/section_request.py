"""A section's requests: the fields every section prompt shares, the sampling for about so
many words within the context window, and the request that continues a section."""

from __future__ import annotations

from collections.abc import Callable

from agentwrite.domain import Brief, Plan
from agentwrite.graph.context import Request, WriteContext
from agentwrite.length import without_target
from agentwrite.llm.base import GenerationParams, Message, Watch
from agentwrite.llm.context_window import answer_tokens, output_room
from agentwrite.llm.decoding import Decoding
from agentwrite.plans import render_outline
from agentwrite.prompts import render


def section_params(
    ctx: WriteContext,
    messages: list[Message],
    words: int,
    *,
    force_length: bool,
    decoding: Decoding | None = None,
    watch: Watch | None = None,
) -> GenerationParams:
    """Sampling for a request that should add about ``words`` words.

    ``max_tokens`` allows for the budget with headroom and never runs past the context
    window; with ``force_length`` (and the server's ``min_tokens``) the model cannot stop
    far short of the budget. ``decoding`` defaults to the writer's.
    """
    s = ctx.settings
    decoding = decoding or s.decoding_for("writer")
    max_tokens = output_room(ctx.max_context, messages, answer_tokens(words, s.tokens_per_word), ctx.gauge)
    min_tokens = None
    if force_length and s.min_tokens:
        min_tokens = min(round(words * s.tokens_per_word * 0.7), max_tokens)
    return GenerationParams.of(decoding, max_tokens, min_tokens=min_tokens, seed=s.seed, watch=watch)


def section_fields(brief: Brief, plan: Plan, index: int, words: int) -> dict[str, object]:
    """The template variables every section prompt shares: the brief first (without the
    document's length, ``without_target``: the section has its own), the outline
    without word counts (a small model copies "(about 300 words)" into its text), and the
    language of the brief, which every section prompt names."""
    section = plan.sections[index]
    return {
        "instruction": without_target(brief.instruction),
        "outline": render_outline(plan),
        "title": section.title,
        "main_point": section.main_point,
        "words": words,
        "language": brief.language_name,
    }


def section_request(
    ctx: WriteContext,
    prompt: Callable[[], list[Message]],
    words: int,
    *,
    decoding: Decoding,
    force_length: bool,
    watch: Callable[[], Watch | None] = lambda: None,
) -> Request:
    """A request for about ``words`` words; ``prompt`` builds the messages (again, smaller,
    after the server refused them as too long for its window), ``watch`` a fresh watch for
    each try."""

    def build() -> tuple[list[Message], GenerationParams]:
        messages = prompt()
        return messages, section_params(
            ctx, messages, words, decoding=decoding, force_length=force_length, watch=watch()
        )

    return build


def fixed(messages: list[Message]) -> Callable[[], list[Message]]:
    """A prompt that cannot be made smaller."""
    return lambda: messages


def continuation_messages(
    first: list[Message], text: str, title: str, words: int, language: str, avoid: str
) -> list[Message]:
    """The request that continues a section: the first request, the text kept so far as
    the assistant's answer, and the step (naming the sentence not to write again, if any)."""
    step = render(
        "continue_section",
        title=title,
        words=words,
        language=language,
        avoid=f'Do not write this again: "{avoid}"' if avoid else "",
    )
    return [*first, {"role": "assistant", "content": text}, {"role": "user", "content": step.strip()}]


__all__ = ["continuation_messages", "fixed", "section_fields", "section_params", "section_request"]
