"""One instruction's document in a dataset build: written by ``agentwrite.runner.awrite`` in
its own checkpointed run folder, then judged by the filters; with ``pairs`` or
``document_pairs`` in the recipe, an accepted document brings its preference pairs
(``agentwrite.dataset.pairs``), and with ``rejected_pairs`` a rejected one those of its pairs
that its failed check separates. The ``Outcome`` goes to the build's one committer.
"""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from agentwrite.dataset.filters import (
    REJECT_REASONS,
    TokenCounter,
    Verdict,
    check_document,
    first_failure,
)
from agentwrite.dataset.instructions import Instruction
from agentwrite.dataset.pairs import document_pair, pairs_of_rejected, section_pairs
from agentwrite.dataset.preference import PreferencePair
from agentwrite.dataset.recipe import Recipe
from agentwrite.dataset.records import BuildRecord, timestamp
from agentwrite.domain import Document
from agentwrite.errors import (
    AgentwriteError,
    EmptySection,
    InputError,
    ModelError,
    PlanError,
    ServerUnreachable,
)
from agentwrite.llm.base import ChatModel
from agentwrite.llm.decoding import ROLES
from agentwrite.llm.scheduling import CURRENT_DOCUMENT, DocumentTicket
from agentwrite.settings import Settings

log = logging.getLogger(__name__)

RUNS = "runs"
"""The folder of a build that holds each document's run folder, named by its id."""


@dataclass
class Outcome:
    """What became of one instruction: its document and pairs, or why it was rejected."""

    item: Instruction
    meta: BuildRecord
    document: str | None = None
    reject: str | None = None
    detail: str = ""
    pairs: list[dict[str, Any]] = field(default_factory=list)
    """The document's ``pairs.jsonl`` lines: an accepted document's, or a rejected one's that the
    recipe's ``rejected_pairs`` keeps (a near-duplicate drops them)."""


def _sampling(settings: Settings) -> dict[str, Any]:
    return {
        "mode": settings.mode,
        "decoding": {role: settings.decoding_for(role).model_dump(exclude_none=True) for role in ROLES},
        "seed": settings.seed,
        "min_tokens": settings.min_tokens,
        "tokens_per_word": settings.tokens_per_word,
        "max_section_words": settings.max_section_words,
        "min_section_words": settings.min_section_words,
    }


def _new_record(item: Instruction, session: str) -> BuildRecord:
    return BuildRecord(
        id=item.id,
        status="rejected",
        reason=None,
        type=item.type,
        language=item.language,
        requested_words=item.length,
        length_source=item.length_source,
        line=item.line,
        session=session,
    )


def _document_fields(doc: Document) -> dict[str, Any]:
    return {
        "model": doc.model,
        "plan_source": doc.plan_source,
        "plan": doc.plan.model_dump(mode="json"),
        "sections": [
            {
                "title": s.title,
                "target_words": s.target_words,
                "words": s.words,
                "finish_reason": s.finish_reason,
            }
            for s in doc.sections
        ],
        "usage": doc.usage.model_dump(mode="json"),
    }


async def write_document(
    item: Instruction,
    *,
    model: ChatModel,
    settings: Settings,
    recipe: Recipe,
    tokens: TokenCounter,
    runs: Path,
    session: str,
) -> Outcome:
    """Write ``item``'s document in ``runs / item.id`` (resuming its checkpoints) and judge
    it; ServerUnreachable stops the build, any other failure becomes a reject."""
    from agentwrite.runner import awrite  # here: merge, export and stats use this module without LangGraph

    meta = _new_record(item, session)
    meta.add(sampling=_sampling(settings), started_at=timestamp())
    started = time.monotonic()
    ticket = DocumentTicket()  # what each server did for this document, failed or not
    entered = CURRENT_DOCUMENT.set(ticket)
    try:
        doc = await awrite(
            item.prompt,
            settings=settings,
            model=model,
            words=item.length,
            run_dir=runs / item.id,
            resume=True,
            wait_for_run_dir=True,  # a writer of a killed driver's job may still be at it
        )
    except ServerUnreachable:
        raise  # the server is gone: stop the build rather than reject everything left
    except PlanError as exc:
        return _failed(meta, item, "plan failed", exc)
    except EmptySection as exc:
        return _failed(meta, item, "model wrote nothing usable", exc)
    except ModelError as exc:
        return _failed(meta, item, "server error after retries", exc)
    except InputError as exc:
        return _failed(meta, item, "bad input", exc)
    except AgentwriteError as exc:
        return _failed(meta, item, type(exc).__name__, exc)
    else:  # the one-request answer of document pairs counts in this document's endpoints too
        return await _checked(item, doc, meta, model=model, settings=settings, recipe=recipe, tokens=tokens)
    finally:
        CURRENT_DOCUMENT.reset(entered)
        meta.add(
            endpoints={url: u.model_dump() for url, u in ticket.endpoints.items()},
            seconds=round(time.monotonic() - started, 3),
            finished_at=timestamp(),
        )


async def _checked(
    item: Instruction,
    doc: Document,
    meta: BuildRecord,
    *,
    model: ChatModel,
    settings: Settings,
    recipe: Recipe,
    tokens: TokenCounter,
) -> Outcome:
    """The outcome of a written document: the filters' verdicts and, when it passes them, its
    preference pairs as the recipe asks."""
    meta.add(**_document_fields(doc))
    verdicts, figures = await asyncio.to_thread(
        check_document,
        item.prompt,
        item.length,
        [s.text for s in doc.sections],
        doc.markdown,
        recipe.filters,
        tokens,
    )
    meta.add(**figures)
    meta.add(filters={v.name: v.as_json() for v in verdicts}, write_seconds=round(doc.wall_seconds, 3))
    failed = first_failure(verdicts)
    if failed is not None:
        kept: list[PreferencePair] = []
        if recipe.pairs and recipe.rejected_pairs:
            kept = pairs_of_rejected(section_pairs(item.id, doc.sections, recipe.pair_margin), failed.name)
        return Outcome(
            item,
            meta,
            reject=REJECT_REASONS[failed.name],
            detail=failed.detail(),
            pairs=[p.model_dump(mode="json") for p in kept],
        )
    pairs = section_pairs(item.id, doc.sections, recipe.pair_margin) if recipe.pairs else []
    if recipe.document_pairs:
        pair = await _document_pair(item, doc.markdown, verdicts, meta, model, settings, recipe, tokens)
        pairs += [pair] if pair is not None else []
    return Outcome(item, meta, document=doc.markdown, pairs=[p.model_dump(mode="json") for p in pairs])


async def _document_pair(
    item: Instruction,
    document: str,
    verdicts: list[Verdict],
    meta: BuildRecord,
    model: ChatModel,
    settings: Settings,
    recipe: Recipe,
    tokens: TokenCounter,
) -> PreferencePair | None:
    """Ask the one-request answer to the instruction, filter it as documents are filtered
    (its figures go into ``meta``'s ``one_request``) and pair it with the agent's document."""
    from agentwrite.evaluation.predict import direct_answer  # LangGraph, as awrite
    from agentwrite.graph.context import WriteContext

    try:
        max_context = settings.max_context or await model.context_window()
        answer = await direct_answer(item.prompt, WriteContext(model, settings, max_context))  # as eval's
    except ServerUnreachable:
        raise
    except AgentwriteError as exc:
        log.warning("%s: no document pair: the one-request answer failed: %s", item.id, exc)
        meta.add(one_request={"error": str(exc)})
        return None
    answer_verdicts, figures = await asyncio.to_thread(
        check_document, item.prompt, item.length, [answer.response], answer.response, recipe.filters, tokens
    )
    meta.add(
        one_request={
            "words": figures["words"],
            "finish_reason": answer.finish_reason,
            "usage": answer.usage.model_dump(mode="json"),
            "failed": [v.name for v in answer_verdicts if not v.passed],
        }
    )
    return document_pair(item.id, item.prompt, document, answer.response, verdicts, answer_verdicts)


def _failed(meta: BuildRecord, item: Instruction, reason: str, exc: Exception) -> Outcome:
    log.warning("%s: %s: %s", item.id, reason, exc)
    return Outcome(item, meta, reject=reason, detail=str(exc))
