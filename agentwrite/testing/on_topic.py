"""Filler prose that keeps to its brief: the instruction's words woven into it.

A cooperative model names its subject as it writes; the test doubles' filler prose does the
same, so that a document of it passes the on-topic check (``agentwrite.writing.topic``) and
a dataset build's on-topic filter. ``instruction_words`` gives the words of a request's
instruction that the lexical scorer counts; ``weave`` puts four of them (the next four each
time, round and round) after "about" as the second to sixth words of a sentence every
``MENTION_EVERY`` words and in the last sentence. Five words: fewer than the loop guard's
span of 8 that may not come back a third time (``agentwrite.writing.loop_rules.SPAN_WORDS``).
"""

from __future__ import annotations

from collections.abc import Sequence

from agentwrite.writing.language import brief_language
from agentwrite.writing.topic import lexical_tokens

MENTION_EVERY = 120
"""Words from one mention of the subject to the next: one in every 150-word chunk."""
MENTION_WORDS = 4
"""Words of the subject in one mention."""
PLANNER_INSTRUCTION = "## Instruction\n"
"""What stands before the instruction in the planner's prompt (``prompts/plan_json.md``)."""


def instruction_words(prompt: str) -> list[str]:
    """The words of the instruction that ``prompt`` (a request's first user message) starts
    with, up to its first blank line, as the section prompts quote it (or, in the planner's
    prompt, that stands under its "## Instruction" heading), that the lexical on-topic scorer
    counts: Latin words, or single characters for a Chinese instruction.

    >>> instruction_words("Write a 600-word essay on tea.\\n\\nOutline of the whole piece: ...")
    ['essay', 'on', 'tea']
    >>> instruction_words("写一篇600字的散文，主题是江南水乡。")[:4]
    ['散', '文', '主', '题']
    >>> instruction_words("Plan a document.\\n\\n## Instruction\\nWrite about tides.\\n\\n## What the plan")
    ['about', 'tide']
    """
    planned = prompt.split(PLANNER_INSTRUCTION, 1)
    instruction = planned[-1].strip().split("\n\n", 1)[0]
    tokens = lexical_tokens(instruction)
    if brief_language(instruction).code == "zh":
        return [token for token in tokens if len(token) == 1 and not token.isascii()]
    return [token for token in tokens if token.isascii()]


def weave(words: list[str], topic: Sequence[str], sentence_words: int, about: str = "about") -> None:
    """Put ``about`` and four words of ``topic`` into ``words`` (sentences of
    ``sentence_words`` words each) in place of others, as the module's docstring says; the
    count of words stays the same.

    >>> words = ["w"] * 30
    >>> weave(words, ["tea", "leaf", "cup"], sentence_words=10)
    >>> " ".join(words)
    'w about tea leaf cup tea w w w w w w w w w w w w w w w about leaf cup tea leaf w w w w'
    """
    if not topic or not words:
        return
    last = (len(words) - 1) // sentence_words * sentence_words + 1  # the last sentence's second word
    starts = [*range(1, last - MENTION_WORDS, MENTION_EVERY), last]
    for k, start in enumerate(start for start in starts if start < len(words)):
        count = min(MENTION_WORDS, len(words) - start - 1)
        mention = [topic[(MENTION_WORDS * k + j) % len(topic)] for j in range(count)]
        words[start : start + 1 + count] = [about, *mention]
