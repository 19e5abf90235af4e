"""A text read as it streams splits into the sentences and code blocks of the whole text."""

import random

from agentwrite.text_stats import sentence_spans
from agentwrite.writing.markdown_lines import code_blocks
from agentwrite.writing.streamed_text import StreamedText

UNITS = [
    "Tea",
    "is",
    " ",
    " ",
    ". ",
    ".",
    "!",
    "?",
    "\n",
    "\n",
    "```",
    "````",
    "~~~",
    "`",
    "。",
    "”",
    "茶",
    "\r",
    "   ",
    "x1",
]
"""Pieces of text that make sentence ends, line breaks and fences, and words between them."""


def test_sentences_and_code_blocks_are_those_of_the_whole_text_at_every_length() -> None:
    rng = random.Random(27)
    for _ in range(300):
        text = "".join(rng.choice(UNITS) for _ in range(rng.randint(1, 30)))
        streamed, finished = StreamedText(), []
        for end in range(1, len(text) + 1):
            streamed.add(text[end - 1])
            finished += streamed.advance()
            so_far = text[:end]
            last = streamed.unfinished()
            assert finished + ([last] if last else []) == sentence_spans(so_far), so_far
            blocks = code_blocks(so_far)
            in_code = [p for p in range(end) if any(a <= p < b for a, b in blocks)]
            assert [p for p in range(end) if streamed.fences.in_block(so_far, p)] == in_code, so_far


def test_a_finished_sentence_is_never_read_again() -> None:
    streamed = StreamedText("Tea is old. It grew in Yunnan. ")
    assert streamed.advance() == [(0, 11), (12, 30)]
    streamed.add("Trade came")
    assert streamed.advance() == [] and streamed.rest == 30
    streamed.add(".\n")
    assert streamed.advance() == [(31, 42)] and streamed.unfinished() is None
