"""A deterministic stand-in for a model, good enough for the agent to plan and write a whole
document against it: ``writer_handler`` answers a request (a JSON schema's instance, plan
lines, or filler ``prose`` that names the instruction's subject), the default handler of
``agentwrite.testing.openai_server.OpenAIServer``.
"""

from __future__ import annotations

import json
import math
import zlib
from collections.abc import Sequence
from typing import Any

from agentwrite.length import parse_target
from agentwrite.testing.on_topic import instruction_words, weave
from agentwrite.testing.replies import Reply, prompt_text
from agentwrite.testing.schema_answers import schema_answer, topical

_VOCABULARY = [
    "river",
    "mountain",
    "valley",
    "market",
    "temple",
    "garden",
    "road",
    "village",
    "morning",
    "evening",
    "traveller",
    "guide",
    "tea",
    "rice",
    "bridge",
    "lake",
    "season",
    "festival",
    "history",
    "culture",
    "path",
    "forest",
    "city",
    "stone",
    "wind",
    "light",
    "quiet",
    "ancient",
    "bright",
    "green",
    "early",
    "late",
    "slowly",
    "often",
    "always",
    "gently",
    "walk",
    "visit",
    "taste",
    "follow",
    "remember",
    "discover",
    "return",
    "wander",
    "notice",
]
_DEFAULT_MAX_TOKENS = 1024
PLAN_LINE_MARKER = "- Word Count:"
"""What marks a request for AgentWrite's plan lines: the answer format's own field."""
WORDS_PER_PLANNED_SECTION = 500
"""How many words of the target a section of ``plan_lines`` takes (the format has no bounds)."""


def writer_handler(request: dict[str, Any]) -> Reply:
    """Answer like a cooperative model, one token per word.

    A request for JSON output (``response_format`` of type ``json_schema``) gets what its
    schema asks for (``schema_answer``: a plan gets the fewest sections the schema allows,
    each of the smallest budget, which the agent scales to its target, and its strings name
    the instruction's subject, in its script). A prompt that shows
    AgentWrite's plan line format (its ``- Word Count:`` marker) gets those lines
    (``plan_lines``). Any other request gets prose of ``min_tokens`` words when given, else
    about 0.6 x ``max_tokens``, capped at ``max_tokens`` words with finish reason
    ``"length"`` when it hits the cap; the prose names the instruction's subject
    (``agentwrite.testing.on_topic``).

    >>> schema = {"type": "object", "required": ["title"], "properties": {"title": {"type": "string"}}}
    >>> writer_handler({"response_format": {"type": "json_schema", "json_schema": {"schema": schema}}}).text
    '{"title": "Quiet river mornings"}'
    >>> reply = writer_handler({"max_tokens": 50, "messages": [{"role": "user", "content": "Write."}]})
    >>> len(reply.text.split()), reply.finish_reason
    (30, 'stop')
    """
    prompt = prompt_text(request)
    messages = [m for m in request.get("messages", []) if isinstance(m, dict)]
    users = [str(m.get("content", "")) for m in messages if m.get("role") == "user"]
    topic = instruction_words(users[0] if users else "")
    if (schema := requested_schema(request)) is not None:
        return Reply.completion(json.dumps(schema_answer(schema, topic=topic), ensure_ascii=False))
    if PLAN_LINE_MARKER in prompt:
        return Reply.completion(plan_lines(prompt))
    max_tokens = int(request.get("max_tokens") or _DEFAULT_MAX_TOKENS)
    words = int(request.get("min_tokens") or 0) or max(1, int(max_tokens * 0.6))
    finish = "length" if words >= max_tokens else "stop"
    text = prose(min(words, max_tokens), seed=zlib.crc32(prompt.encode()), topic=topic)
    return Reply.completion(text, finish)


def requested_schema(request: dict[str, Any]) -> dict[str, Any] | None:
    """The JSON schema a chat-completions request asks its answer to match, if any.

    >>> requested_schema({"response_format": {"type": "json_schema", "json_schema": {"schema": {}}}})
    {}
    >>> requested_schema({"response_format": {"type": "text"}}) is None, requested_schema({}) is None
    (True, True)
    """
    response_format = request.get("response_format")
    if not isinstance(response_format, dict) or response_format.get("type") != "json_schema":
        return None
    schema = (response_format.get("json_schema") or {}).get("schema")
    return schema if isinstance(schema, dict) else {}


def plan_lines(prompt: str) -> str:
    """A plan in AgentWrite's line format, one section per ``WORDS_PER_PLANNED_SECTION`` of
    the target (the largest word count the prompt names, 10,000 if none), split evenly, each
    main point a distinct phrase that names the instruction's subject (``topical``).

    >>> print(plan_lines("Write a 1200-word guide to tea."))
    Title: A Test Document
    Paragraph 1 - Main Point: Quiet river guide mornings. - Word Count: 400 words
    Paragraph 2 - Main Point: Ancient mountain guide evenings. - Word Count: 400 words
    Paragraph 3 - Main Point: Bright valley guide seasons. - Word Count: 400 words
    """
    target = parse_target(prompt) or 10_000
    count = max(1, math.ceil(target / WORDS_PER_PLANNED_SECTION))
    budgets = [target // count + (1 if i < target % count else 0) for i in range(count)]
    topic = instruction_words(prompt)
    lines = ["Title: A Test Document"]
    lines += [
        f"Paragraph {i} - Main Point: {topical(i - 1, topic)}. {PLAN_LINE_MARKER} {words} words"
        for i, words in enumerate(budgets, 1)
    ]
    return "\n".join(lines)


def prose(words: int, seed: int = 0, topic: Sequence[str] = ()) -> str:
    """``words`` words (as ``count_words`` counts them) of filler prose in sentences and
    paragraphs, the same for the same seed. Words are drawn by a hash of seed and position,
    so that no two sentences repeat (as a model that writes well would not); ``topic``'s
    words are woven in (``agentwrite.testing.on_topic.weave``).

    >>> prose(12, seed=3)
    'Stone evening tea notice lake bridge market light follow slowly. Late quiet.'
    >>> prose(12, seed=3, topic=["essay", "tea"])
    'Stone about essay tea essay tea market light follow slowly. Late about.'
    """
    drawn = [_VOCABULARY[zlib.crc32(f"{seed}:{i}".encode()) % len(_VOCABULARY)] for i in range(words)]
    weave(drawn, topic, sentence_words=10)
    out = []
    for i, word in enumerate(drawn):
        if i % 10 == 0:
            word = word.capitalize()
        end_of_sentence = i % 10 == 9 or i == words - 1
        out.append(word + ("." if end_of_sentence else ""))
        if end_of_sentence and i % 80 == 79 and i != words - 1:
            out.append("\n\n")
    return " ".join(out).replace(" \n\n ", "\n\n")
