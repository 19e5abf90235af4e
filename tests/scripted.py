"""The scripted fake model answering like ``writer_handler`` does over HTTP, in process."""

from __future__ import annotations

import re
import zlib
from typing import Any

from agentwrite.domain import Usage
from agentwrite.llm.base import Completion, GenerationParams, Message
from agentwrite.testing.fake_writer import prose, writer_handler
from agentwrite.testing.scripted_model import ScriptedModel


def as_request(messages: list[Message], params: GenerationParams) -> dict[str, Any]:
    """The chat-completions body an HTTP client would send for this call."""
    body: dict[str, Any] = {"messages": messages, "max_tokens": params.max_tokens}
    if params.min_tokens is not None:
        body["min_tokens"] = params.min_tokens
    if params.json_schema is not None:
        body["response_format"] = {"type": "json_schema", "json_schema": {"schema": params.json_schema}}
    return body


def writer_reply(messages: list[Message], params: GenerationParams) -> Completion:
    """What the deterministic writer server would answer, as a Completion."""
    reply = writer_handler(as_request(messages, params))
    assert reply.text is not None
    prompt_tokens = sum(len(m["content"].split()) for m in messages)
    usage = Usage(prompt_tokens=prompt_tokens, completion_tokens=len(reply.text.split()), requests=1)
    return Completion(reply.text, reply.finish_reason, usage)


_ASKED = re.compile(r'(?:Write only|Now write) the part titled "([^"]+)"')


def asked_section(prompt: str) -> int | None:
    """The number (from 1) of the section that a section's first request asks for, read from
    the outline in its prompt; None for any other request (a plan, a sketch, a continuation).

    >>> asked_section('Essay\\n\\nOutline of the whole piece:\\nT\\n1. A: a.\\n2. B: b.\\n\\n'
    ...               'Write only the part titled "B" (b.), in about 9 words, in English.')
    2
    >>> asked_section('Go on with "B" exactly where the text stops') is None
    True
    """
    asked = _ASKED.search(prompt)
    if asked is None:
        return None
    line = re.search(rf"^(\d+)\. {re.escape(asked.group(1))}: ", prompt, re.MULTILINE)
    return int(line.group(1)) if line else None


def writer_model(delay: float = 0.0) -> ScriptedModel:
    """A ScriptedModel that plans and writes like a cooperative model."""
    return ScriptedModel(responder=writer_reply, delay=delay)


OFF_WORDS = [
    *("drone", "invoice", "harbour", "crane", "lorry", "investor", "motorway", "stadium", "football"),
    *("council", "engine", "battery", "cable", "software", "printer", "parliament", "election"),
    *("striker", "goalkeeper", "insurance", "mortgage", "airline", "satellite", "rocket", "laptop"),
    *("keyboard", "tariff", "lawyer", "verdict", "tennis", "cinema", "actor", "concert", "guitar"),
]


def off_word(word: str) -> str:
    swapped = OFF_WORDS[zlib.crc32(word.lower().encode()) % len(OFF_WORDS)]
    return swapped.capitalize() if word[0].isupper() else swapped


def drifting(words: int, seed: int) -> str:
    """``prose`` of about ``words`` words with every word swapped for an off-topic one."""
    return re.sub(r"[A-Za-z]+", lambda m: off_word(m[0]), prose(words, seed))
