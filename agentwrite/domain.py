"""The domain types: what goes into a run, what the model plans, what comes out.

Every model output is parsed into one of these pydantic models; the ``description`` of a
field doubles as the JSON schema sent to the server for structured output.
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from typing import Any, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field, computed_field, field_validator, model_validator

from agentwrite.length import MAX_TARGET_WORDS, count_words
from agentwrite.writing.language import brief_language

MAX_BRIEF_CHARS = 20_000
MAX_SECTIONS = 200
MAX_PLAN_TITLE_CHARS = 300
MAX_SECTION_TITLE_CHARS = 200
"""The longest titles a plan may have (one the user edits or loads, say)."""
ASKED_PLAN_TITLE_CHARS = 120
ASKED_SECTION_TITLE_CHARS = 80
ASKED_MAIN_POINT_CHARS = 300
"""The longest fields the planner is asked for (its schema's ``maxLength``): tighter than
what a plan may have, so that a constrained decoder cannot ramble inside a field."""

WriteMode = Literal["sequential", "parallel", "sketch"]


CountsT = TypeVar("CountsT", bound=BaseModel)


def _field_sums(a: CountsT, b: CountsT) -> CountsT:
    """A model of counts whose every field is the sum of ``a``'s and ``b``'s."""
    return type(a)(**{name: getattr(a, name) + getattr(b, name) for name in type(a).model_fields})


class Usage(BaseModel):
    """Token usage of one or more model calls.

    >>> (Usage(prompt_tokens=3, completion_tokens=5) + Usage(prompt_tokens=1)).total_tokens
    9
    """

    model_config = ConfigDict(frozen=True)

    prompt_tokens: int = 0
    completion_tokens: int = 0
    cached_tokens: int = Field(0, description="Prompt tokens the server served from its prefix cache.")
    requests: int = 0
    refused: int = Field(
        0, description="Requests the server refused as too long for its window (each refitted, sent again)."
    )

    @property
    def total_tokens(self) -> int:
        return self.prompt_tokens + self.completion_tokens

    def __add__(self, other: Usage) -> Usage:
        return _field_sums(self, other)


class EndpointUsage(BaseModel):
    """What one server did: requests answered and failed, tokens billed.

    >>> (EndpointUsage(requests=1, prompt_tokens=9) + EndpointUsage(failures=1)).model_dump()
    {'requests': 1, 'failures': 1, 'prompt_tokens': 9, 'completion_tokens': 0}
    """

    model_config = ConfigDict(frozen=True)

    requests: int = Field(0, description="Requests it answered.")
    failures: int = Field(
        0, description="Requests that failed there after its retries (sent elsewhere, or raised)."
    )
    prompt_tokens: int = 0
    completion_tokens: int = 0

    def __add__(self, other: EndpointUsage) -> EndpointUsage:
        return _field_sums(self, other)


def endpoint_totals(records: Iterable[Mapping[str, Any]]) -> dict[str, dict[str, int]]:
    """What each server did over many records (documents, predictions), by URL: the sums of
    their ``endpoints`` figures.

    >>> endpoint_totals([{"endpoints": {"http://a/v1": {"requests": 2, "failures": 1}}},
    ...                  {"endpoints": {"http://a/v1": {"requests": 3, "failures": 0}}}, {}])
    {'http://a/v1': {'requests': 5, 'failures': 1}}
    """
    total: dict[str, Counter[str]] = defaultdict(Counter)
    for record in records:
        for url, figures in record.get("endpoints", {}).items():
            total[url].update(figures)
    return {url: dict(figures) for url, figures in sorted(total.items())}


class Brief(BaseModel):
    """What the user asked for: the instruction and the word target."""

    model_config = ConfigDict(frozen=True)

    instruction: str = Field(description="The writing instruction, as the user gave it.")
    target_words: int = Field(ge=1, le=MAX_TARGET_WORDS, description="Words the document should have.")

    @field_validator("instruction")
    @classmethod
    def _instruction_is_usable(cls, value: str) -> str:
        value = value.strip()
        if not value:
            raise ValueError("the brief is empty")
        if len(value) > MAX_BRIEF_CHARS:
            raise ValueError(f"the brief has {len(value)} characters; the limit is {MAX_BRIEF_CHARS}")
        if "\x00" in value:
            raise ValueError("the brief contains a NUL byte")
        return value

    @property
    def language(self) -> str:
        """The brief's language code (``agentwrite.writing.language.brief_language``)."""
        return brief_language(self.instruction).code

    @property
    def language_name(self) -> str:
        """The brief's language as prompts name it ("English", "Chinese")."""
        return brief_language(self.instruction).name


class SectionPlan(BaseModel):
    """One planned section: its title, its main point and its word budget."""

    title: str = Field(
        min_length=1, max_length=MAX_SECTION_TITLE_CHARS, description="A short heading for the section."
    )
    main_point: str = Field(min_length=1, description="What the section covers, in one or two sentences.")
    target_words: int = Field(ge=1, description="How many words the section should have.")
    sources: list[str] = Field(
        default_factory=list,
        exclude_if=lambda ids: not ids,
        description="The ids of the pieces of the user's material this section draws on (notes.md#3).",
    )

    @field_validator("title", "main_point")
    @classmethod
    def _strip(cls, value: str) -> str:
        value = " ".join(value.split())
        if not value:
            raise ValueError("must not be blank")
        return value

    @field_validator("sources", mode="before")
    @classmethod
    def _ids(cls, value: object) -> object:
        """Ids as a model may give them: numbers, or one string of ids separated by commas.

        >>> SectionPlan(title="Soil", main_point="Clay.", target_words=9, sources="a#1, a#2").sources
        ['a#1', 'a#2']
        """
        if isinstance(value, str):
            value = re.split(r"[,，;；]", value)
        if isinstance(value, list):
            value = [str(v).strip() if isinstance(v, str | int) else v for v in value]
            return [v for v in value if v != ""]
        return value


class Plan(BaseModel):
    """The outline of a document: a title and its sections in order."""

    title: str = Field(min_length=1, max_length=MAX_PLAN_TITLE_CHARS, description="The document's title.")
    sections: list[SectionPlan] = Field(
        min_length=1, max_length=MAX_SECTIONS, description="The sections, in reading order."
    )

    @property
    def total_words(self) -> int:
        return sum(s.target_words for s in self.sections)


CHECKS = ("talk", "off_topic", "language", "repetition", "gibberish", "short")
"""The section checks a text may fail (``SectionScores.problems``), in the order they are named."""


class SectionScores(BaseModel):
    """A section's text as the judge-free checks see it (``agentwrite.writing.checks``).

    >>> SectionScores(on_topic=0.9, language="en", language_share=1.0, repeated_sentences=0.0,
    ...               gibberish=0.01, score=0.9).problems
    []
    """

    talk_lines: int = Field(
        0,
        ge=0,
        description="Sentences or lines of talk about the writing found (removed from the text).",
    )
    on_topic: float = Field(
        ge=0,
        le=1,
        description="Closeness to the brief and the main point (the Document names the scorer).",
    )
    language: str = Field(description="The language of the text (en, zh...).")
    language_share: float = Field(ge=0, le=1, description="Share of its words in the brief's language.")
    repeated_sentences: float = Field(ge=0, le=1, description="Share of sentences that occur more than once.")
    gibberish: float = Field(ge=0, le=1, description="Share of words that are not words.")
    problems: list[str] = Field(default_factory=list, description="The checks it failed, from CHECKS.")
    score: float = Field(description="The checks combined, higher is better.")


class Candidate(BaseModel):
    """One answer asked for a section: the text as cleaned, its scores and the exact request."""

    text: str
    scores: SectionScores
    messages: list[dict[str, str]] = Field(description="The request's messages (role, content), as sent.")
    finish_reason: str
    usage: Usage = Usage()


class Section(BaseModel):
    """A written section and what it cost (every candidate's tokens, where several were asked)."""

    index: int = Field(ge=0)
    title: str
    text: str
    target_words: int
    words: int = 0
    finish_reason: str
    usage: Usage = Usage()
    seconds: float = 0.0
    loops_cut: int = Field(0, ge=0, description="Loops the loop guard cut out of this section.")
    words_dropped: int = Field(
        0,
        ge=0,
        description="Words removed from what the model wrote: loops cut, repeated or copied sentences, "
        "prompt echoes.",
    )
    sources: list[str] = Field(
        default_factory=list,
        exclude_if=lambda ids: not ids,
        description="The ids of the user's material in this section's prompt (omitted when none).",
    )
    scores: SectionScores | None = Field(None, description="The kept text's checks (None: checks off).")
    candidates: list[Candidate] = Field(
        default_factory=list,
        description="Every candidate in the order asked, the kept one included (none if only one).",
    )
    chosen: int = Field(0, ge=0, description="The index of the kept candidate in candidates.")

    @property
    def check_tokens(self) -> int:
        """Tokens of the candidates asked after the first: what the checks' re-asks cost."""
        return sum(c.usage.total_tokens for c in self.candidates[1:])

    @model_validator(mode="after")
    def _count(self) -> Section:
        self.words = count_words(self.text)
        return self


class Document(BaseModel):
    """The result of a run: the stitched Markdown and everything that made it."""

    brief: Brief
    plan: Plan
    plan_source: Literal["model", "user"]
    plan_repairs: list[str] = Field(
        default_factory=list,
        description="What was cleaned in a model plan that kept failing the hygiene checks (empty if none).",
    )
    mode: WriteMode
    model: str
    decoding: dict[str, dict[str, Any]] = Field(
        default_factory=dict, description="The decoding settings of each role, as sent."
    )
    sections: list[Section]
    markdown: str
    words: int
    usage: Usage
    endpoints: dict[str, EndpointUsage] = Field(
        default_factory=dict, description="What each server did for this run, by URL (empty in process)."
    )
    sources: dict[str, list[str]] = Field(
        default_factory=dict,
        exclude_if=lambda files: not files,
        description="The user's material by file name, with its chunk ids (omitted when none).",
    )
    checks: str | None = Field(
        None, description="The on-topic scorer of the section checks (lexical, minilm); None: checks off."
    )
    wall_seconds: float
    created_at: datetime = Field(default_factory=lambda: datetime.now(UTC))

    @computed_field  # type: ignore[prop-decorator]
    @property
    def loops_cut(self) -> int:
        """Loops cut in all sections."""
        return sum(s.loops_cut for s in self.sections)

    @computed_field  # type: ignore[prop-decorator]
    @property
    def words_dropped(self) -> int:
        """Words removed from what the model wrote, in all sections."""
        return sum(s.words_dropped for s in self.sections)

    @computed_field  # type: ignore[prop-decorator]
    @property
    def check_tokens(self) -> int:
        """Tokens the section checks' re-asks cost, in all sections."""
        return sum(s.check_tokens for s in self.sections)

    def sidecar(self) -> dict[str, object]:
        """The JSON sidecar: everything but the Markdown, which lives in its own file."""
        return self.model_dump(mode="json", exclude={"markdown"})
