"""Quality filters for generated training documents, each with its threshold and its figure.

A document is checked against every filter; each check records the measured value, the
threshold and whether it passed, so that ``meta.jsonl`` says exactly why a document was kept
or dropped. The near-duplicate check needs the documents accepted before it and lives in
``agentwrite.dataset.near_duplicates``; the others look at one document alone
(``check_document``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, Protocol

from pydantic import BaseModel, ConfigDict, Field

from agentwrite.errors import InputError
from agentwrite.evaluation.longbench import length_score
from agentwrite.length import count_words, estimate_tokens
from agentwrite.llm.base import Message
from agentwrite.text_stats import (
    cross_section_repeated_sentence_rate,
    document_repeated_sentence_rate,
    gibberish_rate,
    repeated_ngram_rate,
)
from agentwrite.writing.language import brief_language, language_of, language_share
from agentwrite.writing.talk import talk_per_1000_words
from agentwrite.writing.topic import on_topic_share, scorer

DEFAULT_ARTEFACT_PATTERNS: tuple[str, ...] = (
    r"(?im)^\W*paragraph\s+\d+\s*[-–—:]",
    r"(?i)\bword\s*count\s*[:：]",
    r"(?i)\bmain\s*point\s*[:：]",
    r"(?m)^\W*段落\s*\d+\s*[-–—:：]",
    r"字数\s*[:：]\s*\d",
    r"主要内容\s*[:：]",
)
"""Traces of the plan that must not survive in a written document."""


class FilterConfig(BaseModel):
    """Thresholds of the document filters. Every field is recorded with each verdict."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    min_words: int = Field(500, ge=0, description="Fewest words a kept document may have.")
    min_length_score: float = Field(
        80.0, ge=0, le=100, description="Lowest LongBench-Write length score S_l vs. the requested length."
    )
    ngram_n: int = Field(8, ge=1, description="n of the repeated n-gram rate.")
    max_repeated_ngram_rate: float = Field(
        0.25, ge=0, le=1, description="Highest share of n-gram occurrences whose n-gram recurs."
    )
    max_repeated_sentence_rate: float = Field(
        0.10,
        ge=0,
        le=1,
        description="Highest share of sentences (of 5 words or more) that occur more than once anywhere "
        "in the document, within a section as well as across sections.",
    )
    max_gibberish_rate: float = Field(
        0.10,
        ge=0,
        le=1,
        description="Highest share of counted words that are not words: Latin words missing from "
        "wordfreq's English list, CJK characters outside the common ones (agentwrite.text_stats).",
    )
    artefact_patterns: tuple[str, ...] = Field(
        DEFAULT_ARTEFACT_PATTERNS, description="Regular expressions of plan artefacts left in the text."
    )
    max_artefacts: int = Field(0, ge=0, description="Most plan-artefact matches a kept document may have.")
    min_language_share: float = Field(
        0.5,
        ge=0,
        le=1,
        description="Lowest share of the document's words in the script of the instruction's language; "
        "the document's own language (agentwrite.writing.language) must be that language too. 0: no check.",
    )
    max_talk_per_1000_words: float = Field(
        1.0,
        ge=0,
        description="Most lines of talk about the writing (agentwrite.writing.talk) per 1,000 words.",
    )
    min_on_topic: float = Field(
        0.5,
        ge=0,
        le=1,
        description="Lowest share of the document's 150-word chunks on the instruction's subject "
        "(agentwrite.writing.topic, with topic_scorer).",
    )
    topic_scorer: Literal["lexical", "minilm"] = Field(
        "lexical", description="The on-topic scorer: lexical (no model) or minilm (the eval extra)."
    )
    max_tokens: int = Field(32_768, ge=1, description="Most tokens of instruction plus document.")
    near_duplicate_threshold: float = Field(
        0.8, gt=0, le=1, description="Estimated Jaccard similarity of word 5-grams that makes a duplicate."
    )


@dataclass(frozen=True)
class Verdict:
    """One filter's figure, its threshold and the outcome, with a ``note`` where the figure
    alone does not say it (the languages, for the language filter).

    >>> Verdict("language", 0.02, 0.5, False, "document in en, instruction in zh").detail()
    'language 0.02 vs. threshold 0.5 (document in en, instruction in zh)'
    """

    name: str
    value: float
    threshold: float
    passed: bool
    note: str = ""

    def as_json(self) -> dict[str, Any]:
        figures = {"value": self.value, "threshold": self.threshold, "passed": self.passed}
        return figures | {"note": self.note} if self.note else figures

    def detail(self) -> str:
        """The verdict in words, as a reject's ``detail`` gives it."""
        note = f" ({self.note})" if self.note else ""
        return f"{self.name} {self.value} vs. threshold {self.threshold}{note}"


REJECT_REASONS = {
    "min_words": "too short",
    "length_score": "length score too low",
    "repeated_ngrams": "too repetitive",
    "repeated_sentences": "too repetitive",
    "gibberish": "gibberish",
    "plan_artefacts": "plan artefacts in the text",
    "language": "not in the instruction's language",
    "talk": "talk about the writing",
    "off_topic": "off the instruction's subject",
    "max_tokens": "too many tokens",
    "near_duplicate": "duplicate",
}


def first_failure(verdicts: list[Verdict]) -> Verdict | None:
    """The first failed verdict, or None when all passed.

    >>> first_failure([Verdict("a", 1, 0, True), Verdict("b", 0, 1, False)]).name
    'b'
    """
    return next((v for v in verdicts if not v.passed), None)


def count_artefacts(text: str, patterns: tuple[str, ...] = DEFAULT_ARTEFACT_PATTERNS) -> int:
    """How many times the plan-artefact patterns match ``text``.

    >>> count_artefacts("Paragraph 3 - The tea road.\\nWord Count: 400 words. Main Point: tea")
    3
    >>> count_artefacts("A paragraph about tea; the word count is high."), count_artefacts("字数：500")
    (0, 1)
    """
    return sum(len(re.findall(pattern, text)) for pattern in patterns)


class TokenCounter(Protocol):
    """Counts the tokens of a training conversation."""

    name: str

    def count(self, messages: list[Message]) -> int: ...


class EstimatedTokens:
    """A tokenizer-free, cautious estimate: ``agentwrite.length.estimate_tokens`` of each
    message plus four tokens per message for the chat template.

    >>> chat = [{"role": "user", "content": "Tea, please."}, {"role": "assistant", "content": "茶"}]
    >>> EstimatedTokens().count(chat)  # (5 + 4) + (2 + 4)
    15
    """

    name = "estimate"

    def count(self, messages: list[Message]) -> int:
        return sum(estimate_tokens(m["content"]) + 4 for m in messages)


class HFTokens:
    """Exact counts with a tokenizer loaded from a local folder (no hub access); the chat
    template is applied when the tokenizer has one."""

    def __init__(self, folder: Path) -> None:
        from agentwrite.llm.bundled import require_local_extra

        require_local_extra(
            "exact token counts", ("transformers",), instead="leave the tokenizer out for an estimate"
        )
        from transformers import AutoTokenizer

        self._tokenizer = AutoTokenizer.from_pretrained(str(folder), local_files_only=True)
        self.name = f"tokenizer:{Path(folder).name}"

    def count(self, messages: list[Message]) -> int:
        tok = self._tokenizer
        if getattr(tok, "chat_template", None):
            chat = [{"role": m["role"], "content": m["content"]} for m in messages]
            text = tok.apply_chat_template(chat, tokenize=False)
        else:
            text = "\n".join(m["content"] for m in messages)
        return len(tok.encode(text, add_special_tokens=False))


def token_counter(spec: str | Path | None) -> TokenCounter:
    """The estimate for None; else a real tokenizer from a local folder, where ``"bundled"``
    names the bundled model's folder. Raises InputError for a missing folder."""
    if spec is None:
        return EstimatedTokens()
    if str(spec) == "bundled":
        from agentwrite.llm.bundled import bundled_model_dir

        return HFTokens(bundled_model_dir())
    if not Path(spec).is_dir():
        raise InputError(f"tokenizer folder {spec} does not exist")
    return HFTokens(Path(spec))


def check_document(
    instruction: str,
    requested_words: int,
    sections: list[str],
    document: str,
    config: FilterConfig,
    tokens: TokenCounter,
) -> tuple[list[Verdict], dict[str, Any]]:
    """Every single-document filter's verdict, and the figures for the record.

    ``sections`` are the section texts (for the cross-section repetition figure, recorded
    but not filtered on); ``document`` is the stitched text that would go into the
    training example, on which the filters look. The language, talk and on-topic filters
    compare it with ``instruction``.
    """
    words = count_words(document)
    score = length_score(requested_words, words)
    ngram_rate = repeated_ngram_rate(document, config.ngram_n)
    sentence_rate = document_repeated_sentence_rate(document)
    gibberish = gibberish_rate(document)
    artefacts = count_artefacts(document, config.artefact_patterns)
    asked, written = brief_language(instruction), language_of(document)
    share = language_share(document, asked)
    in_language = not config.min_language_share or (
        share >= config.min_language_share and written.code == asked.code
    )
    talk = talk_per_1000_words(document)
    topic = scorer(config.topic_scorer)
    on_topic = on_topic_share(document, instruction, topic)
    n_tokens = tokens.count(
        [{"role": "user", "content": instruction}, {"role": "assistant", "content": document}]
    )
    verdicts = [
        Verdict("min_words", words, config.min_words, words >= config.min_words),
        Verdict("length_score", round(score, 2), config.min_length_score, score >= config.min_length_score),
        Verdict(
            "repeated_ngrams",
            round(ngram_rate, 4),
            config.max_repeated_ngram_rate,
            ngram_rate <= config.max_repeated_ngram_rate,
        ),
        Verdict(
            "repeated_sentences",
            round(sentence_rate, 4),
            config.max_repeated_sentence_rate,
            sentence_rate <= config.max_repeated_sentence_rate,
        ),
        Verdict(
            "gibberish",
            round(gibberish, 4),
            config.max_gibberish_rate,
            gibberish <= config.max_gibberish_rate,
        ),
        Verdict("plan_artefacts", artefacts, config.max_artefacts, artefacts <= config.max_artefacts),
        Verdict(
            "language",
            round(share, 4),
            config.min_language_share,
            in_language,
            f"document in {written.code}, instruction in {asked.code}",
        ),
        Verdict(
            "talk", round(talk, 4), config.max_talk_per_1000_words, talk <= config.max_talk_per_1000_words
        ),
        Verdict("off_topic", round(on_topic, 4), config.min_on_topic, on_topic >= config.min_on_topic),
        Verdict("max_tokens", n_tokens, config.max_tokens, n_tokens <= config.max_tokens),
    ]
    figures = {
        "words": words,
        "length_score": round(score, 2),
        "repeated_ngram_rate": round(ngram_rate, 4),
        "repeated_ngram_n": config.ngram_n,
        "document_repeated_sentence_rate": round(sentence_rate, 4),
        "cross_section_repeated_sentence_rate": round(cross_section_repeated_sentence_rate(sections), 4),
        "gibberish_rate": round(gibberish, 4),
        "plan_artefacts": artefacts,
        "language": written.code,
        "instruction_language": asked.code,
        "language_share": round(share, 4),
        "talk_per_1000_words": round(talk, 4),
        "on_topic": round(on_topic, 4),
        "topic_scorer": topic.name,
        "tokens": n_tokens,
        "tokenizer": tokens.name,
    }
    return verdicts, figures
