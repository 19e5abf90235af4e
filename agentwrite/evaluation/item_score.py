"""One prediction's figures (an ``ItemScore``): S_l and its bucket, the brief's language,
the coherence and brief figures of its text, the agent's plan adherence and the judge's
ratings."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from agentwrite.domain import Document
from agentwrite.evaluation.brief_figures import response_figures
from agentwrite.evaluation.embeddings import Embedder
from agentwrite.evaluation.longbench import bucket_of, length_score
from agentwrite.evaluation.predict import DOCUMENTS
from agentwrite.evaluation.score_files import ItemScore
from agentwrite.evaluation.structure import plan_adherence, split_markdown_sections
from agentwrite.evaluation.text_figures import text_figures
from agentwrite.length import count_words
from agentwrite.writing.language import brief_language
from agentwrite.writing.topic import LexicalScorer, TopicScorer


def score_item(
    row: dict[str, Any],
    document: Document | None,
    judged: dict[str, Any] | None,
    embed: Embedder | None,
    topic: TopicScorer | None = None,
) -> ItemScore:
    """One prediction's figures; the agent's ``document`` (its sidecar) adds plan adherence
    and gives the sections, else they are the response's Markdown sections. ``topic``
    scores the on-topic share (default: the lexical scorer).

    >>> row = {"key": "k", "prompt": "Write 100 words on tea.", "length": 100, "response_length": 130}
    >>> item = score_item(row, None, None, None)
    >>> item.s_l, item.bucket, item.language, item.coherence
    (90.0, '[0,500)', 'en', None)
    """
    has_text = isinstance(row.get("response"), str)
    produced = count_words(row["response"]) if has_text else row["response_length"]
    item = ItemScore(
        key=row["key"],
        type=row.get("type", ""),
        length=row["length"],
        response_length=produced,
        s_l=round(length_score(row["length"], produced), 4),
        bucket=bucket_of(row["length"]),
        language=brief_language(row["prompt"]).code,
    )
    if has_text:
        item.coherence = text_figures(row["prompt"], _sections_of(row, document), embed, row["response"])
        item.brief_checks = response_figures(row["prompt"], row["response"], topic or LexicalScorer())
        if document is not None:
            item.plan = _adherence(document, row["response"])
    if judged is not None:
        item.ratings, item.judge_truncated = judged["ratings"], judged["truncated"]
    return item


def _sections_of(row: dict[str, Any], document: Document | None) -> list[str]:
    if document is not None:
        return [s.text for s in document.sections]
    return [body for _, body in split_markdown_sections(row["response"])]


def _adherence(document: Document, response: str) -> dict[str, float]:
    headings = [title for title, _ in split_markdown_sections(response)]
    result = plan_adherence(
        [s.target_words for s in document.sections],
        [s.words for s in document.sections],
        [s.title for s in document.plan.sections],
        headings,
    )
    return {k: round(v, 4) for k, v in vars(result).items()}


def load_document(run_dir: Path, row: dict[str, Any]) -> Document | None:
    """The agent's sidecar of a prediction with text, when the run kept one."""
    path = run_dir / DOCUMENTS / f"{row['key']}.json"
    if not isinstance(row.get("response"), str) or not path.exists():
        return None
    data = json.loads(path.read_text("utf-8"))
    return Document.model_validate({**data, "markdown": ""})
