"""A scripted model for dataset builds, and a build you can run (and SIGKILL) in a subprocess.

The writer answers plan requests like ``tests.scripted.writer_reply`` (a plan that names the
instruction's subject; with a marker below that makes the prose leave it, write English or
repeat another document, the plan does the same) and section requests
with prose of random common words (seeded by the request) in the instruction's language that
names its subject (``agentwrite.testing.on_topic``), so that honest documents pass the
repetition, gibberish, duplicate, language, talk and on-topic filters. An instruction can ask
for misbehaviour by naming a marker; each marker's effect is what a test expects to see
filtered out.

    python -m tests.dataset_fakes INSTRUCTIONS OUT_DIR [DELAY]
"""

from __future__ import annotations

import asyncio
import json
import random
import re
import sys
import zlib
from collections.abc import Sequence
from pathlib import Path

from wordfreq import top_n_list

from agentwrite.errors import ModelRequestError, ServerUnreachable
from agentwrite.llm.base import Completion, GenerationParams, Message
from agentwrite.testing.on_topic import instruction_words, weave
from agentwrite.testing.schema_answers import schema_answer
from agentwrite.testing.scripted_model import ScriptedModel
from tests.scripted import asked_section, writer_reply

VOCABULARY = [w for w in top_n_list("en", 3000) if w.isascii() and w.isalpha() and 3 <= len(w) <= 9][:500]
"""Real words (so that fake prose passes the gibberish filter), drawn at random into prose."""
STARTS = ("the", "many", "some", "every", "most", "old", "new", "other")
"""First words of English sentences: a random first word may read as a direction ("use", "list")."""
CHINESE_VOCABULARY = [
    w for w in top_n_list("zh", 3000) if re.fullmatch("[\u4e00-\u9fff]", w) and w not in "字写篇章节段"
][:500]
"""Common Chinese characters, one counted word each, for the prose that answers a Chinese
instruction; none that talks about writing ("字数", a word count, reads as a label)."""

SHORT = "MARK-SHORT"  # sections come back at half their budget (builds here allow no continuation)
LOOP = "MARK-LOOP"  # every section repeats one sentence
ARTEFACT = "MARK-ARTEFACT"  # every section has "Word Count: 300 words." amid its prose
SAME = "MARK-SAME"  # the prose depends only on the section number: two such documents are duplicates
SAME_SUBJECT = ["essay", "mark", "same"]  # what SAME prose names: the words every SAME instruction shares
DRIFT = "MARK-DRIFT"  # the prose never names the instruction's subject
ENGLISH = "MARK-ENGLISH"  # the prose is English whatever the instruction's language
NOPLAN = "MARK-NOPLAN"  # the planner never gets a usable plan
ERROR = "MARK-ERROR"  # section requests fail with HTTP 400
DOWN = "MARK-DOWN"  # the server cannot be reached


def random_prose(words: int, seed: int, topic: Sequence[str] = (), chinese: bool = False) -> str:
    """``words`` words of random vocabulary in twelve-word sentences (``chinese``: characters,
    24 a sentence), ``topic``'s words woven in (``agentwrite.testing.on_topic.weave``);
    English sentences start with one of ``STARTS``."""
    rng = random.Random(seed)
    vocabulary, length = (CHINESE_VOCABULARY, 24) if chinese else (VOCABULARY, 12)
    out = [rng.choice(vocabulary if i % length or chinese else STARTS) for i in range(words)]
    weave(out, topic, length, about="说" if chinese else "about")
    end, space = ("。", "") if chinese else (".", " ")
    return (
        space.join(w + (end if i % length == length - 1 else "") for i, w in enumerate(out)).rstrip(end) + end
    )


def _prose(words: int, seed: int, messages: list[Message]) -> str:
    """Prose on the instruction's subject and in its language, unless a marker says otherwise."""
    request = _instruction(messages)  # the first user message first: it starts with the instruction
    topic = [] if DRIFT in request else instruction_words(request)
    chinese = bool(topic) and not topic[0].isascii()
    if chinese and ENGLISH in request:
        return random_prose(words, seed)
    return random_prose(words, seed, topic, chinese)


def _instruction(messages: list[Message]) -> str:
    return "\n".join(m["content"] for m in messages if m["role"] == "user")


def dataset_reply(messages: list[Message], params: GenerationParams) -> Completion | str:
    """The scripted server's answer to one request (see the module docstring)."""
    text = _instruction(messages)
    if DOWN in text:
        raise ServerUnreachable("http://127.0.0.1:9/v1", "connection refused")
    if params.json_schema is not None:
        if NOPLAN in text:
            return "no plan here"
        if DRIFT in text or ENGLISH in text or SAME in text:  # the plan too, as the prose will be
            topic = SAME_SUBJECT if SAME in text else []
            return json.dumps(schema_answer(params.json_schema, topic=topic))
        return writer_reply(messages, params)
    if ERROR in text:
        raise ModelRequestError("http://127.0.0.1:9/v1", 400, "prompt too long")
    words = params.min_tokens or int(params.max_tokens * 0.6)
    if SHORT in text:
        words = max(words // 2, 1)
    if LOOP in text:
        return " ".join(["The same sentence comes back again and again here."] * max(words // 9, 1))
    last = messages[-1]["content"]
    section = asked_section(last)
    seed = section if SAME in text and section is not None else zlib.crc32(last.encode())

    def prose(count: int, at: int) -> str:
        return random_prose(count, at, SAME_SUBJECT) if SAME in text else _prose(count, at, messages)

    if ARTEFACT in text:  # a plan line amid the prose (the stream stops at the budget: not at its end)
        half = words // 2
        return f"{prose(half, seed)} Word Count: 300 words. {prose(words - half, seed + 1)}"
    return prose(words, seed)


def dataset_model(delay: float = 0.0) -> ScriptedModel:
    return ScriptedModel(responder=dataset_reply, delay=delay)


def _main() -> None:
    from agentwrite.dataset.build import abuild_dataset
    from agentwrite.dataset.recipe import Recipe
    from agentwrite.settings import Settings

    instructions, out = Path(sys.argv[1]), Path(sys.argv[2])
    delay = float(sys.argv[3]) if len(sys.argv) > 3 else 0.0
    settings = Settings(max_continuations=0)
    asyncio.run(
        abuild_dataset(instructions, out, settings, dataset_model(delay), recipe=Recipe(concurrency=4))
    )


if __name__ == "__main__":
    _main()
