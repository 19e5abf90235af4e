"""Instruction sets: read them from JSONL, and ask a model for new ones from seeds.

The format is LongBench-Write's and AgentWrite's, one JSON object a line:
``{"prompt": str, "length": int, "type": str, "id": str}``. Only ``prompt`` is required:
a missing ``length`` is parsed from the prompt (``agentwrite.length.parse_target``), a
missing ``id`` is a hash of the prompt, a missing ``type`` is ``"unknown"``. Other fields
are kept. A bad line is reported with its line number and the rest is read.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import logging
import random
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from agentwrite.dataset.near_duplicates import jaccard, shingles
from agentwrite.errors import InputError, ModelError
from agentwrite.files import MAX_DATA_FILE_BYTES, append_jsonl, atomic_file, read_bounded, read_text_file
from agentwrite.files.output_paths import output_file
from agentwrite.length import DEFAULT_TARGET_WORDS, MAX_TARGET_WORDS, parse_target
from agentwrite.llm.base import ChatModel, Completion, GenerationParams, Message
from agentwrite.llm.structured import NoJsonObject, NoValidAnswer, ask_until_valid, json_model, unfenced
from agentwrite.prompts import render
from agentwrite.writing.language import brief_language

log = logging.getLogger(__name__)

LengthSource = Literal["given", "prompt", "default"]
_KNOWN_FIELDS = ("prompt", "length", "type", "id")
_SAFE_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$")


@dataclass(frozen=True)
class Instruction:
    """One writing instruction and where it came from."""

    id: str
    prompt: str
    length: int
    type: str = "unknown"
    line: int = 0
    length_source: LengthSource = "given"
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def language(self) -> str:
        return brief_language(self.prompt).code

    def as_json(self) -> dict[str, Any]:
        """The JSONL record: the four known fields, then any extra ones."""
        return {"prompt": self.prompt, "length": self.length, "type": self.type, "id": self.id, **self.extra}


@dataclass(frozen=True)
class BadLine:
    """A line that could not be used, with the reason."""

    line: int
    reason: str
    text: str

    @property
    def id(self) -> str:
        """The key a bad line is recorded under in a rejects file."""
        return f"input-line-{self.line}"


def instruction_id(prompt: str) -> str:
    """A stable id from the prompt: a hash of its whitespace-normalised text.

    >>> instruction_id("Write  about tea.") == instruction_id("Write about tea.")
    True
    >>> instruction_id("Write about tea.")
    'i-9d269eda28f3e5fa'
    """
    normal = " ".join(prompt.split())
    return "i-" + hashlib.sha256(normal.encode("utf-8")).hexdigest()[:16]


def parse_instruction(data: object, line: int = 0, max_words: int = MAX_TARGET_WORDS) -> Instruction:
    """Check one decoded JSONL record and fill in what is missing. Raises InputError.

    >>> parse_instruction({"prompt": "写一篇3000字的游记"}).length
    3000
    >>> parse_instruction({"prompt": "An essay", "length": 0})
    Traceback (most recent call last):
    ...
    agentwrite.errors.InputError: length 0 is out of range (1 to 100000 words)
    """
    if not isinstance(data, dict):
        raise InputError("not a JSON object")
    prompt = data.get("prompt")
    if not isinstance(prompt, str) or not prompt.strip():
        raise InputError("no prompt (a non-empty string is required)")
    prompt = prompt.strip()
    if "\x00" in prompt:
        raise InputError("the prompt contains a NUL byte")
    length_source: LengthSource = "given"
    length = data.get("length")
    if length is None:
        length = parse_target(prompt)
        length_source = "prompt"
        if length is None:
            length, length_source = DEFAULT_TARGET_WORDS, "default"
    if isinstance(length, float) and length.is_integer():
        length = int(length)
    if isinstance(length, bool) or not isinstance(length, int):
        raise InputError(f"length must be an integer, got {json.dumps(length, ensure_ascii=False)[:40]}")
    if not 1 <= length <= max_words:
        raise InputError(f"length {length} is out of range (1 to {max_words} words)")
    kind = data.get("type", "unknown")
    if not isinstance(kind, str) or not kind.strip():
        raise InputError("type must be a non-empty string")
    given_id = data.get("id")
    if given_id is None:
        given_id = instruction_id(prompt)
    elif isinstance(given_id, int) and not isinstance(given_id, bool):
        given_id = str(given_id)
    if not isinstance(given_id, str) or not _SAFE_ID.match(given_id):
        raise InputError("id must be 1-128 characters of letters, digits, '.', '_' or '-'")
    extra = {k: v for k, v in data.items() if k not in _KNOWN_FIELDS}
    return Instruction(given_id, prompt, length, kind.strip(), line, length_source, extra)


def read_instructions(
    path: Path, *, max_words: int = MAX_TARGET_WORDS
) -> tuple[list[Instruction], list[BadLine]]:
    """Read an instruction file: the usable instructions and the bad lines, in file order.

    A UTF-8 byte-order mark and CRLF line ends are accepted; blank lines are skipped; a
    later line with an id seen before is a bad line. Raises InputError when the file
    cannot be read at all.
    """
    raw = read_bounded(Path(path), MAX_DATA_FILE_BYTES, "instructions")
    if raw.startswith(b"\xef\xbb\xbf"):
        raw = raw[3:]
    good: list[Instruction] = []
    bad: list[BadLine] = []
    seen: dict[str, int] = {}
    chunks = raw.split(b"\n")
    for number, chunk in enumerate(chunks, 1):
        last_unterminated = number == len(chunks)
        excerpt = chunk[:200].decode("utf-8", "replace")
        if not chunk.strip():
            continue
        try:
            data = json.loads(chunk.decode("utf-8"))
        except UnicodeDecodeError:
            bad.append(BadLine(number, "not valid UTF-8", excerpt))
            continue
        except json.JSONDecodeError as exc:
            reason = "truncated last line" if last_unterminated else f"not JSON ({exc.msg})"
            bad.append(BadLine(number, reason, excerpt))
            continue
        try:
            item = parse_instruction(data, number, max_words)
        except InputError as exc:
            bad.append(BadLine(number, str(exc), excerpt))
            continue
        if item.id in seen:
            bad.append(BadLine(number, f"duplicate id {item.id!r} (first on line {seen[item.id]})", excerpt))
            continue
        seen[item.id] = number
        good.append(item)
    for item_bad in bad:
        log.warning("%s line %d: %s", path, item_bad.line, item_bad.reason)
    return good, bad


def write_instructions(path: Path, items: Iterable[Instruction]) -> int:
    """Write instructions as JSONL, atomically (a temporary file renamed into place; a link
    at ``path`` is written through)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    count = 0
    with atomic_file(output_file(path, "--out")) as tmp, tmp.open("w", encoding="utf-8") as out:
        for item in items:
            append_jsonl(out, item.as_json())
            count += 1
    return count


class Genre(BaseModel):
    """A genre to ask for: its type label, its name in each language, a length range."""

    model_config = ConfigDict(extra="forbid")

    type: str
    en: str
    zh: str
    lengths: tuple[int, int] = (2000, 20000)


class InstructionSeeds(BaseModel):
    """Genre and topic seeds for new instructions (``datasets/instructions/seeds.yaml``).
    Languages without topics are never asked for."""

    model_config = ConfigDict(extra="forbid")

    genres: list[Genre] = Field(min_length=1)
    topics: dict[Literal["en", "zh"], list[str]]
    length_step: int = Field(1000, ge=1, description="Lengths are drawn in multiples of this.")

    @model_validator(mode="after")
    def _some_topic(self) -> InstructionSeeds:
        if not any(self.topics.values()):
            raise ValueError("no topics: give some under topics.en or topics.zh")
        return self

    @classmethod
    def load(cls, path: Path) -> InstructionSeeds:
        text = read_text_file(Path(path), "seeds file")
        try:
            return cls.model_validate(yaml.safe_load(text))
        except (yaml.YAMLError, ValidationError) as exc:
            raise InputError(f"bad seeds file {path}: {str(exc).splitlines()[0]}") from None


class GeneratedInstruction(BaseModel):
    """What the model returns when asked for a new instruction."""

    prompt: str = Field(description="The writing instruction, naming the required length.")


_LANGUAGE_NAMES = {"en": "English", "zh": "Chinese"}


def parse_generated(text: str) -> str:
    """The instruction text of a model reply: JSON ``{"prompt": ...}`` (fenced or not), or
    else the reply itself without surrounding quotes.

    >>> parse_generated('```json\\n{"prompt": "Write a 3000-word guide."}\\n```')
    'Write a 3000-word guide.'
    >>> parse_generated('"Write a 2000-word story."')
    'Write a 2000-word story.'
    """
    with contextlib.suppress(NoJsonObject):
        return json_model(text, GeneratedInstruction).prompt.strip()
    return unfenced(text).strip("\"'“”「」").strip()


@dataclass(frozen=True)
class _Ask:
    genre: Genre
    topic: str
    language: Literal["en", "zh"]
    length: int


def _draw(seeds: InstructionSeeds, rng: random.Random) -> _Ask:
    genre = rng.choice(seeds.genres)
    language: Literal["en", "zh"] = rng.choice([lang for lang in ("en", "zh") if seeds.topics.get(lang)])
    lo, hi = genre.lengths
    step = seeds.length_step
    length = rng.randrange(-(-lo // step), hi // step + 1) * step
    return _Ask(genre, rng.choice(seeds.topics[language]), language, max(length, 1))


def _check(prompt: str, ask: _Ask) -> str:
    """``prompt`` if it is a usable answer to ``ask``; ValueError says why not, in words the
    model is shown when it is asked again.

    >>> ask = _Ask(Genre(type="guide", en="guide", zh="指南"), "tea", "en", 2000)
    >>> _check("Write a 3000-word guide to tea for beginners.", ask)
    Traceback (most recent call last):
    ValueError: it names 3000 words; the instruction must ask for exactly 2000 words
    """
    if not 20 <= len(prompt) <= 2000:
        raise ValueError(f"it is {len(prompt)} characters long; write one of 20 to 2,000 characters")
    if brief_language(prompt).code != ask.language:
        raise ValueError(f"it is not in {_LANGUAGE_NAMES[ask.language]}")
    if (named := parse_target(prompt)) != ask.length:
        said = f"names {named} words" if named else "names no length"
        raise ValueError(f"it {said}; the instruction must ask for exactly {ask.length} words")
    return prompt


async def generate_instructions(
    model: ChatModel,
    n: int,
    seeds: InstructionSeeds,
    *,
    temperature: float = 1.0,
    concurrency: int = 8,
    seed: int = 0,
    max_attempts: int | None = None,
    similarity: float = 0.6,
    existing: Sequence[str] = (),
    retries: int = 1,
) -> list[Instruction]:
    """Ask ``model`` for up to ``n`` new instructions from genre and topic seeds.

    Each request names a genre, a topic, a language and a length; a reply is kept when it
    is in that language and names that length (else it is asked again ``retries`` times,
    shown its reply and what was wrong), and it is neither a copy nor a near copy (word
    3-gram Jaccard at or above ``similarity``) of a kept or ``existing`` prompt. Asks go out
    ``concurrency`` at a time and are judged in order, so a scripted model gives the same
    result every time. Stops after ``max_attempts`` asks (default 3n); raises ModelError
    when every ask of a batch fails for a model error.
    """
    if n < 1:
        raise InputError(f"n must be at least 1, got {n}")
    max_attempts = max_attempts if max_attempts is not None else 3 * n
    schema = GeneratedInstruction.model_json_schema()
    kept: list[Instruction] = []
    known = [shingles(p, 3) for p in existing]
    attempt = 0
    while len(kept) < n and attempt < max_attempts:
        batch = [_draw(seeds, random.Random(f"{seed}:{attempt + i}")) for i in range(concurrency)]
        batch = batch[: max_attempts - attempt]
        attempt += len(batch)
        replies = await asyncio.gather(
            *(_ask(model, ask, temperature, schema, seed, retries) for ask in batch), return_exceptions=True
        )
        failures = [r for r in replies if isinstance(r, BaseException) and not isinstance(r, NoValidAnswer)]
        for failure in failures:
            if not isinstance(failure, ModelError):
                raise failure
        if failures and len(failures) == len(replies):
            raise ModelError(f"every request of a batch failed; the last: {failures[-1]}")
        for ask, reply in zip(batch, replies, strict=True):
            if isinstance(reply, NoValidAnswer):
                log.info("generated instruction dropped: %s", reply.problems[-1])
                continue
            if isinstance(reply, BaseException):
                log.warning("instruction request failed: %s", reply)
                continue
            prompt = reply
            grams = shingles(prompt, 3)
            if any(jaccard(grams, other) >= similarity for other in known):
                log.info("generated instruction dropped: near copy")
                continue
            known.append(grams)
            kept.append(
                Instruction(
                    instruction_id(prompt),
                    prompt,
                    ask.length,
                    ask.genre.type,
                    0,
                    "given",
                    {"topic": ask.topic},
                )
            )
            if len(kept) == n:
                break
    if len(kept) < n:
        log.warning("kept %d of %d instructions after %d requests", len(kept), n, attempt)
    return kept


async def _ask(
    model: ChatModel, ask: _Ask, temperature: float, schema: dict[str, Any], seed: int, retries: int
) -> str:
    """A usable instruction for ``ask``; NoValidAnswer when no reply was usable."""
    text = render(
        "dataset_instruction",
        genre=getattr(ask.genre, ask.language),
        topic=ask.topic,
        language=_LANGUAGE_NAMES[ask.language],
        length=ask.length,
        length_phrase=f"{ask.length}字" if ask.language == "zh" else f"{ask.length} words",
    )
    params = GenerationParams(max_tokens=400, temperature=temperature, json_schema=schema, seed=seed)

    async def send(messages: list[Message], attempt: int) -> Completion:
        return await model.complete(messages, params)

    answer = await ask_until_valid(
        send,
        [{"role": "user", "content": text}],
        lambda reply: _check(parse_generated(reply), ask),
        attempts=1 + retries,
        what="instruction",
    )
    return answer.value
