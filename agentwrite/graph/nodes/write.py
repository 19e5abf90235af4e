"""Section writers: one request per section, continued when it comes back well short of
its budget (cut by the token limit or not); a cut section that is long enough ends at the
first full sentence that reaches its budget instead, saving a round trip. Words are counted
in the section as the document will hold it (cleaned of labels and plan lines)."""

from __future__ import annotations

import logging
import math
import re
import time
from collections.abc import Callable

from agentwrite.context_budget import output_room
from agentwrite.domain import Brief, Plan, Section, Usage
from agentwrite.errors import ContextFull, ModelError
from agentwrite.events import SectionDone, SectionStarted
from agentwrite.graph.context import Request, RunContext
from agentwrite.length import count_words
from agentwrite.llm.base import GenerationParams, Message
from agentwrite.markdown import clean_section_text
from agentwrite.plans import render_plan
from agentwrite.prompts import render

log = logging.getLogger(__name__)

_EMPTY_RETRIES = 2
# A Latin stop counts only before a space or the end of the text ("3.5" ends no sentence).
_SENTENCE_END = re.compile(r"[.!?…][\"'”’)\]]*(?=\s|$)|[。！？][\"'”’」』）)\]]*")
_ENDS_SENTENCE = re.compile(r"[.!?。！？…\"'”’)\]]\s*$")


def section_params(
    ctx: RunContext, messages: list[Message], words: int, *, force_length: bool
) -> GenerationParams:
    """Sampling for a request that should add about ``words`` words.

    ``max_tokens`` allows for the budget with headroom and never runs past the context
    window; with ``force_length`` (and the server's ``min_tokens``) the model cannot stop
    far short of the budget.
    """
    s = ctx.settings
    wanted = math.ceil(words * s.tokens_per_word * 1.3) + 32
    max_tokens = output_room(ctx.max_context, messages, wanted, ctx.gauge)
    min_tokens = None
    if force_length and s.min_tokens:
        min_tokens = min(round(words * s.tokens_per_word * 0.7), max_tokens)
    return GenerationParams(
        max_tokens=max_tokens, temperature=s.temperature, top_p=s.top_p, min_tokens=min_tokens, seed=s.seed
    )


def section_fields(brief: Brief, plan: Plan, index: int, words: int) -> dict[str, object]:
    """The template variables every section prompt shares."""
    section = plan.sections[index]
    return {
        "instruction": brief.instruction,
        "plan": render_plan(plan),
        "number": index + 1,
        "count": len(plan.sections),
        "title": section.title,
        "main_point": section.main_point,
        "words": words,
    }


def join_continuation(text: str, more: str) -> str:
    """Append a continuation: mid-sentence cuts are joined with a space, else a new paragraph.

    >>> join_continuation("Tea began in", "Yunnan."), join_continuation("Tea.", "Trade.")
    ('Tea began in Yunnan.', 'Tea.\\n\\nTrade.')
    """
    text, more = text.rstrip(), more.strip()
    if not text:
        return more
    return f"{text}\n\n{more}" if _ENDS_SENTENCE.search(text) else f"{text} {more}"


def trim_to_budget(text: str, budget: int) -> str:
    """Cut a text at the first sentence end that reaches ``budget`` words, else at its
    last sentence end (unchanged if it has none): a section cut by the token limit keeps
    to its plan instead of running on to the limit's headroom.

    >>> trim_to_budget("Tea is old. It grew in Yunnan. Then trade came. And", 4)
    'Tea is old. It grew in Yunnan.'
    >>> trim_to_budget("Tea is old. It grew in", 9), trim_to_budget("no end here", 2)
    ('Tea is old.', 'no end here')
    >>> trim_to_budget("It costs 3.5 yuan here. More", 2), trim_to_budget("茶很老。它来自云南。再", 3)
    ('It costs 3.5 yuan here.', '茶很老。')
    """
    last = None
    for end in _SENTENCE_END.finditer(text):
        last = end.end()
        if count_words(text[:last]) >= budget:
            break
    return text if last is None else text[:last]


def section_request(
    ctx: RunContext, prompt: Callable[[], list[Message]], words: int, *, force_length: bool
) -> Request:
    """A request for about ``words`` words; ``prompt`` builds the messages (again, smaller,
    after the server refused them as too long for its window)."""

    def build() -> tuple[list[Message], GenerationParams]:
        messages = prompt()
        return messages, section_params(ctx, messages, words, force_length=force_length)

    return build


def fixed(messages: list[Message]) -> Callable[[], list[Message]]:
    """A prompt that cannot be made smaller."""
    return lambda: messages


async def generate_section(
    ctx: RunContext, prompt: Callable[[], list[Message]], *, index: int, count: int, title: str, budget: int
) -> Section:
    """Write one section from the prompt ``prompt()`` builds; raise ModelError rather than
    return bad text."""
    s = ctx.settings
    ctx.emit(SectionStarted(index, count, title, budget))
    started = time.monotonic()
    usage = Usage()
    text, finish = "", "stop"
    messages: list[Message] = []
    for attempt in range(_EMPTY_RETRIES + 1):
        messages, completion = await ctx.complete(section_request(ctx, prompt, budget, force_length=True))
        usage = usage + completion.usage
        text, finish = completion.text, completion.finish_reason
        if clean_section_text(text, title):
            break
        log.warning("section %d came back empty (attempt %d)", index + 1, attempt + 1)
    else:
        raise ModelError(f"section {index + 1} came back empty {_EMPTY_RETRIES + 1} times")

    for _ in range(s.max_continuations):
        body = clean_section_text(text, title)  # what the document will hold: decide on that
        words = count_words(body)
        short = words < s.short_section_ratio * budget
        if finish != "length" and not short:
            break
        if words >= budget:  # cut by the token limit past its budget: end at a sentence, no round trip
            text = trim_to_budget(body, budget)
            break
        more = max(budget - words, 50)
        follow_up: list[Message] = [
            *messages,
            {"role": "assistant", "content": text},
            {
                "role": "user",
                "content": render("continue_section", number=index + 1, title=title, words=more),
            },
        ]
        try:
            _, completion = await ctx.complete(
                section_request(ctx, fixed(follow_up), more, force_length=short)
            )
        except ContextFull:
            log.warning("section %d: no room left in the context window to continue it", index + 1)
            break
        usage = usage + completion.usage
        if not completion.text.strip():
            break
        text, finish = join_continuation(text, completion.text), completion.finish_reason

    section = Section(
        index=index,
        title=title,
        text=clean_section_text(text, title),
        target_words=budget,
        finish_reason=finish,
        usage=usage,
        seconds=time.monotonic() - started,
    )
    ctx.emit(SectionDone(section, count))
    return section
