"""A scripted model for dataset builds, and a build you can run (and SIGKILL) in a subprocess.

The writer answers plan requests like ``tests.scripted.writer_reply`` and section requests
with prose of random common English words (seeded by the request), so that honest documents
pass the repetition, gibberish and duplicate filters. An instruction can ask for misbehaviour by naming a
marker; each marker's effect is what a test expects to see filtered out.

    python -m tests.dataset_fakes INSTRUCTIONS OUT_DIR [DELAY]
"""

from __future__ import annotations

import asyncio
import random
import sys
import zlib
from pathlib import Path

from wordfreq import top_n_list

from agentwrite.errors import ModelRequestError, ServerUnreachable
from agentwrite.llm.base import Completion, GenerationParams, Message
from agentwrite.testing.scripted_model import ScriptedModel
from tests.scripted import asked_section, writer_reply

VOCABULARY = [w for w in top_n_list("en", 3000) if w.isascii() and w.isalpha() and 3 <= len(w) <= 9][:500]
"""Real words (so that fake prose passes the gibberish filter), drawn at random into prose."""

SHORT = "MARK-SHORT"  # sections come back at half their budget (builds here allow no continuation)
LOOP = "MARK-LOOP"  # every section repeats one sentence
ARTEFACT = "MARK-ARTEFACT"  # every section ends with "Word Count: 300 words." inside its last line
SAME = "MARK-SAME"  # the prose depends only on the section number: two such documents are duplicates
NOPLAN = "MARK-NOPLAN"  # the planner never gets a usable plan
ERROR = "MARK-ERROR"  # section requests fail with HTTP 400
DOWN = "MARK-DOWN"  # the server cannot be reached


def random_prose(words: int, seed: int) -> str:
    """``words`` words of random vocabulary in twelve-word sentences."""
    rng = random.Random(seed)
    out = [rng.choice(VOCABULARY) + ("." if i % 12 == 11 else "") for i in range(words)]
    return " ".join(out).rstrip(".") + "."


def _instruction(messages: list[Message]) -> str:
    return "\n".join(m["content"] for m in messages if m["role"] == "user")


def dataset_reply(messages: list[Message], params: GenerationParams) -> Completion | str:
    """The scripted server's answer to one request (see the module docstring)."""
    text = _instruction(messages)
    if DOWN in text:
        raise ServerUnreachable("http://127.0.0.1:9/v1", "connection refused")
    if params.json_schema is not None:
        return "no plan here" if NOPLAN in text else writer_reply(messages, params)
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
    prose = random_prose(words, seed)
    return prose + " Word Count: 300 words." if ARTEFACT in text else prose


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
