"""A loopback "model" that degenerates the way the bundled 135M model does on vLLM.

    writer = DegenerateWriter()
    with OpenAIServer(writer) as server:
        ...  # run the agent against server.base_url

Plan and sketch requests get a clean answer (``plan_answer``: from the request's JSON
schema, or in the plan line format). Every other request (a section, a
continuation) is answered, streamed one word an event a millisecond apart, with exactly
``max_tokens`` words (one token a word) and finish reason ``"length"``, made of, in order:

1. the last non-empty line of the last user message, echoed verbatim ("Write about 500
   words. ... Write only the prose of this section: no heading, ..."), then a blank line;
2. for about half of the requests (decided by the request's seed) a line of the prompt as a
   heading, ``### Outline of the whole piece``;
3. fresh prose: 150 to 250 words of distinct, grammatical sentences made of dictionary
   words, in paragraphs, different for every request (seeded by the request's messages
   and by how many times the same messages came before);
4. part-way through that prose (after its first third), two or three sentences copied
   verbatim from the prompt's block of earlier text (a heading such as "## Text written
   so far"), or, when the prompt has no such block, two stock sentences that are the same
   for every request of the same instruction (a small model's stock phrases, which is
   how parallel sections come to share sentences);
5. one sentence repeated, separated by spaces, until ``max_tokens`` words are out (the
   last repeat cut mid-sentence). The loop sentence is the last sentence of the fresh
   prose, so the text reads "... S S S S ..."; a continuation of the same conversation
   (same first user message) falls back into the loop of its earlier answer, unless the
   last user message names that sentence in a line like ``Do not write this again:
   "<sentence>"``; then the new fresh prose's last sentence is looped instead. A loop
   sentence is never one that the last user message names.

``min_tokens`` is accepted and changes nothing: the answer always runs to ``max_tokens``.
Everything is deterministic for the same sequence of requests per conversation. The
writer records what it did (``answers``) and every sentence it wrote as prose
(``prose_sentences``, normalised), so a test can tell prompt lines from prose.
"""

from __future__ import annotations

import json
import math
import random
import re
import threading
import zlib
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from agentwrite.length import parse_target
from agentwrite.testing.fake_writer import PLAN_LINE_MARKER, WORDS_PER_PLANNED_SECTION, requested_schema
from agentwrite.testing.openai_server import RecordedRequest
from agentwrite.testing.replies import Reply
from agentwrite.testing.schema_answers import phrase, schema_answer

TRICKLE = 0.001
"""Seconds between streamed words: enough for a client's hang-up to be seen at once."""

_EARLIER_TEXT = re.compile(
    r"^(?:#{1,4}\s*.*\b(so far|covered|earlier|previous)\b|the text so far:\s*$)", re.IGNORECASE
)
_STEP = re.compile(r"^(?:#{1,4}\s*your step\b|now write the part titled\b)", re.IGNORECASE)
_NAMED = re.compile(r"(?i)\bdo not (?:write|repeat)\b[^\"“\n]*[\"“]([^\"”\n]+)[\"”]")
_SENTENCE = re.compile(r"[^.!?\n]+[.!?]")
_DEFAULT_MAX_TOKENS = 1024

_ADJECTIVES = (
    "quiet", "ancient", "bright", "green", "narrow", "busy", "cool", "golden", "steep", "wide",
    "small", "crowded", "gentle", "rocky", "sunny", "misty", "wooden", "famous", "humble", "lively",
    "distant", "fragrant", "colourful", "patient", "careful", "friendly", "shaded", "open", "early",
    "late", "simple", "modest", "generous", "silent", "curious", "sturdy", "tall", "hidden", "fresh",
    "warm",
)  # fmt: skip
_NOUNS = (
    "river", "mountain", "valley", "market", "temple", "garden", "road", "village", "traveller",
    "guide", "bridge", "lake", "festival", "path", "forest", "city", "stone", "courtyard", "teahouse",
    "farmer", "boat", "terrace", "orchard", "square", "family", "cook", "kitchen", "window", "lantern",
    "wall", "hill", "field", "harbour", "station", "bus", "bicycle", "shop", "monastery", "gate",
    "meadow", "pond", "stream", "canyon", "cliff", "trail", "inn", "museum", "painter", "poet",
    "child", "grandmother", "merchant", "pilgrim", "shepherd", "horse", "yak", "noodle", "dumpling",
    "spice", "basket",
)  # fmt: skip
_VERBS = (
    "crossed", "followed", "watched", "passed", "reached", "painted", "carried", "visited", "greeted",
    "remembered", "guarded", "circled", "described", "admired", "shared", "cleaned", "opened",
    "climbed", "sold", "bought", "welcomed", "explored", "photographed", "decorated", "repaired",
    "studied", "praised", "sheltered", "lit", "named", "mapped", "traded", "tasted", "measured",
    "planted", "counted", "guided", "joined", "left", "found",
)  # fmt: skip
_ADVERBS = (
    "slowly", "often", "gently", "quietly", "carefully", "happily", "early", "patiently", "rarely",
    "proudly", "briskly", "openly", "warmly", "calmly", "eagerly", "kindly", "softly", "steadily",
    "boldly", "gladly",
)  # fmt: skip
_TEMPLATES = (
    "The {a} {n} {v} the {n} near the {a} {n}.",
    "In the {a} {n}, a {n} {v} the {n} {d}.",
    "{D}, the {n} {v} a {a} {n} beside the {n}.",
    "Every {n} {v} the {a} {n} before the {a} {n} closed.",
    "A {a} {n} and a {a} {n} {v} the {n} together.",
    "Along the {n}, the {a} {n} {d} {v} a {n} of {n}.",
    "Nobody {v} the {n} of the {a} {n} more {d} than the {n}.",
)
_TITLES = (
    ("Where the Journey Begins", "Why the region rewards a slow visit and how to arrive."),
    ("Getting Around", "Trains, buses and mountain roads between the main towns."),
    ("Markets and Street Food", "What to eat, where the morning markets are and what they sell."),
    ("Old Towns and Their Courtyards", "The stone lanes, wooden houses and canals of the old towns."),
    ("Peoples and Festivals", "The communities of the region and the festivals worth planning around."),
    ("Mountains and Gorges", "Walks and treks for every fitness, with the views they lead to."),
    ("Tea Country", "Tea gardens, tasting houses and the old caravan routes."),
    ("Where to Stay", "Guesthouses, inns and farm stays, from simple to comfortable."),
    ("Seasons and Weather", "When to go, what the rains change and what to pack."),
    ("Lakes and Rivers", "Boat trips, lakeshore villages and the great rivers of the west."),
    ("Temples and Monasteries", "Sacred places, how to visit them with respect, and their stories."),
    ("Practical Advice", "Money, permits, health and staying connected on the road."),
    ("Day Trips", "Short journeys from the main towns that fill a free day well."),
    ("Crafts and Workshops", "Batik, silver, paper and the workshops that welcome visitors."),
    ("Evenings and Music", "Where the towns gather after dark and what music they play."),
    ("Leaving with Memories", "How to end the journey, and what travellers take home."),
)


@dataclass
class Answer:
    """What the writer did for one prose request (in the order of ``DegenerateWriter.answers``)."""

    echo: str
    heading: bool
    fresh_words: int
    copied: list[str]
    loop_sentence: str
    named: list[str]
    max_tokens: int
    continuation: bool


@dataclass
class DegenerateWriter:
    """The handler: call it with a request's JSON, get a ``Reply``. See the module docstring.

    >>> writer = DegenerateWriter()
    >>> request = {"max_tokens": 400, "messages": [{"role": "user", "content":
    ...     "## Instruction\\nWrite a guide.\\n## Your step\\nWrite about 300 words. Write only the prose."}]}
    >>> reply = writer(request)
    >>> len(reply.text.split()), reply.finish_reason, reply.words_per_event
    (400, 'length', 1)
    >>> reply.text.startswith("Write about 300 words. Write only the prose.\\n\\n")
    True
    >>> answer = writer.answers[-1]
    >>> 150 <= answer.fresh_words <= 250, reply.text.count(answer.loop_sentence) > 10
    (True, True)
    >>> writer(request).text == reply.text  # the same messages again: fresh prose again
    False
    >>> loop = writer.answers[-1].loop_sentence
    >>> def go_on(step):
    ...     turn = [{"role": "assistant", "content": "Some text."}, {"role": "user", "content": step}]
    ...     return writer({**request, "messages": request["messages"] + turn})
    >>> go_on("Continue the section.").text.count(loop) > 10  # back into the same loop
    True
    >>> again = go_on(f'Continue the section.\\nDo not write this again: "{loop}"')
    >>> again.text.startswith('Do not write this again: "'), again.text.count(loop)
    (True, 1)
    """

    trickle: float = TRICKLE
    answers: list[Answer] = field(default_factory=list)
    prose_sentences: set[str] = field(default_factory=set)
    _seen: Counter[int] = field(default_factory=Counter)
    _loops: dict[int, str] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def __call__(self, request: dict[str, Any]) -> Reply:
        prompt = "\n".join(_user_texts(request))
        schema = requested_schema(request)
        if schema is not None or PLAN_LINE_MARKER in prompt:
            return Reply.completion(plan_answer(prompt, schema))
        return self._prose(request)

    def _prose(self, request: dict[str, Any]) -> Reply:
        messages = [m for m in request.get("messages", []) if isinstance(m, dict)]
        users = [str(m.get("content", "")) for m in messages if m.get("role") == "user"]
        last = users[-1] if users else ""
        max_tokens = int(request.get("max_tokens") or _DEFAULT_MAX_TOKENS)
        conversation = zlib.crc32((users[0] if users else "").encode())
        continuation = any(m.get("role") == "assistant" for m in messages)
        named = [n.strip() for n in _NAMED.findall(last)]
        key = zlib.crc32(json.dumps(messages, sort_keys=True).encode())
        with self._lock:
            self._seen[key] += 1
            rng = random.Random(zlib.crc32(f"{key}:{self._seen[key]}".encode()))
            earlier_loop = self._loops.get(conversation) if continuation else None

        echo = next((line.strip() for line in reversed(last.splitlines()) if line.strip()), "")
        heading = rng.random() < 0.5
        fresh = fresh_sentences(rng, rng.randint(150, 250))
        copied = copy_sentences(rng, prompt="\n".join(users))
        cut = max(1, len(fresh) // 3)
        body = fresh[:cut] + copied + fresh[cut:]
        loop = earlier_loop if earlier_loop and not _is_named(earlier_loop, named) else fresh[-1]
        if _is_named(loop, named):  # never loop on a named sentence: one more fresh one instead
            loop = fresh_sentences(rng, 1)[0]
            body.append(loop)

        parts = [echo, "\n\n"] if echo else []
        if heading:
            parts += ["### Outline of the whole piece", "\n\n"]
        for i, sentence in enumerate(body):
            parts += [sentence, "\n\n" if i % 5 == 4 else " "]
        text = "".join(parts) + " ".join([loop] * (max_tokens // max(1, len(loop.split())) + 1))
        text = _first_words(text, max_tokens)

        with self._lock:
            self._loops[conversation] = loop
            # copies of earlier text are not the writer's own words: a prompt line that leaked
            # into the document and was copied back must still count as a prompt line
            stock = not _earlier_text("\n".join(users))
            self.prose_sentences.update(_norm(s) for s in [*fresh, *(copied if stock else []), loop])
            self.answers.append(
                Answer(
                    echo=echo,
                    heading=heading,
                    fresh_words=sum(len(s.split()) for s in fresh),
                    copied=copied,
                    loop_sentence=loop,
                    named=named,
                    max_tokens=max_tokens,
                    continuation=continuation,
                )
            )
        return Reply.completion(text, "length", trickle=self.trickle, words_per_event=1)

    def is_prose(self, line: str) -> bool:
        """Whether every sentence of ``line`` is one this writer wrote as prose (so that a
        line of earlier text quoted in a prompt is not taken for the prompt's own words)."""
        sentences = _SENTENCE.findall(line) or [line]
        leftover = _SENTENCE.sub("", line).strip()
        return not leftover and all(_norm(s) in self.prose_sentences for s in sentences)


def fresh_sentences(rng: random.Random, words: int) -> list[str]:
    """Distinct sentences of dictionary words, at least ``words`` words in all.

    >>> sentences = fresh_sentences(random.Random(1), 60)
    >>> sum(len(s.split()) for s in sentences) >= 60, len(set(sentences)) == len(sentences)
    (True, True)
    """
    out: list[str] = []
    total = 0
    while total < words:
        template = rng.choice(_TEMPLATES)
        sentence = re.sub(r"\{([anvdD])\}", lambda m: _slot(rng, m.group(1)), template)
        sentence = re.sub(r"\b([Aa]) (?=[aeiou])", r"\1n ", sentence)  # "an early horse"
        if sentence not in out:
            out.append(sentence)
            total += len(sentence.split())
    return out


def _slot(rng: random.Random, kind: str) -> str:
    pool = {"a": _ADJECTIVES, "n": _NOUNS, "v": _VERBS, "d": _ADVERBS, "D": _ADVERBS}[kind]
    word = rng.choice(pool)
    return word.capitalize() if kind == "D" else word


def copy_sentences(rng: random.Random, prompt: str) -> list[str]:
    """Two or three sentences copied from the prompt's earlier-text block, in their order;
    without one, two stock sentences fixed by the prompt's instruction.

    >>> prompt = ("## Instruction\\nWrite.\\n## Text written so far\\n## One\\n"
    ...           "A b c d e f. G h i j k l.\\n## Your step")
    >>> copy_sentences(random.Random(0), prompt)
    ['A b c d e f.', 'G h i j k l.']
    >>> copy_sentences(random.Random(0), "## Instruction\\nWrite.") == copy_sentences(
    ...     random.Random(9), "## Instruction\\nWrite.\\n## Plan\\n1. Other")
    True
    """
    earlier = _earlier_text(prompt)
    candidates = [s.strip() for s in _SENTENCE.findall(earlier) if len(s.split()) >= 6]
    if candidates:
        k = min(len(candidates), rng.choice((2, 3)))
        picked = sorted(rng.sample(range(len(candidates)), k))
        return [candidates[i] for i in picked]
    instruction = _block(prompt, "instruction") or prompt
    return fresh_sentences(random.Random(zlib.crc32(instruction.encode())), 20)[:2]


def _earlier_text(prompt: str) -> str:
    """The lines under a heading about earlier text, up to the step heading."""
    lines = prompt.splitlines()
    start, end = _earlier_block(lines)
    return "\n".join(line for line in lines[start:end] if not line.lstrip().startswith(("#", "(")))


def _earlier_block(lines: list[str]) -> tuple[int, int]:
    """``lines[start:end]`` is the earlier text a prompt quotes (from under a heading such
    as "## Text written so far" up to the "## Your step" heading); empty if it has none.

    >>> _earlier_block(["## Plan", "1. A", "## Text written so far", "## A", "Tea.", "## Your step", "Go."])
    (3, 5)
    """
    start = next((i + 1 for i, line in enumerate(lines) if _EARLIER_TEXT.match(line)), None)
    if start is None:
        return 0, 0
    return start, next((i for i in range(start, len(lines)) if _STEP.match(lines[i])), len(lines))


def _block(prompt: str, heading: str) -> str:
    found = re.search(rf"(?im)^#+\s*{heading}\s*$\n(.*?)(?=^#|\Z)", prompt, flags=re.DOTALL)
    return found.group(1).strip() if found else ""


def plan_answer(prompt: str, schema: dict[str, Any] | None) -> str:
    """A clean plan: with a JSON ``schema``, what the schema asks for (``schema_answer``);
    else AgentWrite's plan lines, one section per ``WORDS_PER_PLANNED_SECTION`` of the target
    (the largest word count the prompt names, 10,000 if none), split evenly, each main point
    led by a distinct heading (a travel guide's, then ``phrase``'s past the sixteenth).

    >>> from agentwrite.plans import parse_plan_lines
    >>> plan = parse_plan_lines(plan_answer("Write 1000 words.", None), "Guide")
    >>> plan.title, [(s.title, s.target_words) for s in plan.sections]
    ("A Traveller's Guide", [('Where the Journey Begins', 500), ('Getting Around', 500)])
    >>> plan.sections[1].main_point
    'Getting Around: Trains, buses and mountain roads between the main towns.'
    >>> schema = {"type": "object", "required": ["title"], "properties": {"title": {"type": "string"}}}
    >>> plan_answer("Write 1000 words.", schema)
    '{"title": "Quiet river mornings"}'
    """
    if schema is not None:
        return json.dumps(schema_answer(schema))
    target = parse_target(prompt) or 10_000
    count = max(1, math.ceil(target / WORDS_PER_PLANNED_SECTION))
    budgets = [target // count + (1 if i < target % count else 0) for i in range(count)]
    points = []
    for i in range(count):
        heading, point = _TITLES[i % len(_TITLES)]
        points.append(f"{heading if i < len(_TITLES) else phrase(i)}: {point}")
    lines = ["Title: A Traveller's Guide"]
    lines += [
        f"Paragraph {i} - Main Point: {point} {PLAN_LINE_MARKER} {words} words"
        for i, (point, words) in enumerate(zip(points, budgets, strict=True), 1)
    ]
    return "\n".join(lines)


def prompt_lines(
    requests: list[RecordedRequest],
    writer: DegenerateWriter,
    headings: Iterable[str] = (),
    min_words: int = 4,
) -> set[str]:
    """Every line of every user or system message the server received that has at least
    ``min_words`` words, normalised (``_norm``): what must never reach the document.

    Left out is the earlier text a prompt quotes (the lines under "## Text written so far"
    or a heading like it, up to "## Your step"), which the document rightly holds; a
    prompt line that leaked into a section and is quoted back still counts, from the
    request that first carried it. Left out as well, wherever they are: lines that are
    all the writer's own prose, and lines that are only one of ``headings`` (the
    document's title and section titles)."""
    allowed = {_norm(h) for h in headings}
    lines: set[str] = set()
    for request in requests:
        for message in (request.body or {}).get("messages", []):
            if not isinstance(message, dict) or message.get("role") not in ("user", "system"):
                continue
            content = str(message.get("content", "")).splitlines()
            start, end = _earlier_block(content)
            for line in content[:start] + content[end:]:
                if len(line.split()) < min_words or writer.is_prose(line) or _norm(line) in allowed:
                    continue
                lines.add(_norm(line))
    return lines


def _user_texts(request: dict[str, Any]) -> list[str]:
    return [
        str(m.get("content", ""))
        for m in request.get("messages", [])
        if isinstance(m, dict) and m.get("role") != "assistant"
    ]


def _is_named(sentence: str, named: list[str]) -> bool:
    return _norm(sentence) in {_norm(n) for n in named}


def _first_words(text: str, n: int) -> str:
    """``text`` up to the end of its ``n``-th whitespace-separated word.

    >>> _first_words("a b\\n\\nc d", 3)
    'a b\\n\\nc'
    """
    ends = [m.end() for m in re.finditer(r"\S+", text)]
    return text if len(ends) <= n else text[: ends[n - 1]]


def _norm(text: str) -> str:
    """Lowercase words separated by single spaces: how lines and sentences compare.

    >>> _norm("## Write about 500 words. Write *only* the prose!")
    'write about 500 words write only the prose'
    """
    return " ".join(re.sub(r"[\W_]+", " ", text.lower()).split())


__all__ = ["Answer", "DegenerateWriter", "copy_sentences", "fresh_sentences", "plan_answer", "prompt_lines"]
