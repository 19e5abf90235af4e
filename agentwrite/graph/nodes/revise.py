"""The revise pass (``revise``, the editor stage): once every section is written, the weakest
are written anew with their neighbours in view, and a rewrite is kept only if it scores better.

``revise_node`` picks the sections, weakest first by the checks' combined score: those that
fail a check or score below ``revise_below``, at most ``revise_sections`` of them, while the
estimated cost of their rewrites fits in the document's ``revise_budget``: that share of the
tokens of every section's first answer, less what the checks' re-asks and earlier rewrites
spent. A rewrite is estimated at its prompt's tokens plus the completion tokens of the
section's first answer; one that runs longer (more continuations) may leave the document a
little over, which ``Document.revise_tokens`` records. ``revise_tasks`` fans the picked
sections out, one ``revise_section_node`` each, so that a run stopped part-way keeps the
rewrites that finished (LangGraph keeps a step's finished tasks) and does the rest on resume.

A rewrite's request is the brief, the outline, the end of the section before and the start of
the section after (``EXCERPT_WORDS`` each), and one ask naming the section's title, main point,
length and the brief's language, with the problems of its kept text named as the choose loop
names them. It is written, cleaned and scored as a first answer is (``write_draft``, the same
``SectionChecks``), recorded as a ``Candidate`` with ``revision`` set, and chosen when its
combined score is higher.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any, TypedDict

from langgraph.runtime import Runtime
from langgraph.types import Send

from agentwrite.domain import Brief, Plan, Section
from agentwrite.errors import EmptySection
from agentwrite.events import ignore
from agentwrite.graph.context import WriteContext
from agentwrite.graph.nodes.section_request import fixed, section_fields
from agentwrite.graph.nodes.section_text import trim_to_budget
from agentwrite.graph.nodes.write import candidate, section_checks, write_draft
from agentwrite.graph.state import WriteState
from agentwrite.length import count_words
from agentwrite.llm.base import Message
from agentwrite.prompts import render
from agentwrite.settings import Settings
from agentwrite.text_stats import full_stops
from agentwrite.writing.checks import problem_request, with_problems
from agentwrite.writing.language import brief_language

log = logging.getLogger(__name__)

EXCERPT_WORDS = 60
"""Words shown of each neighbour: the end of the section before, the start of the one after."""


class RevisionTask(TypedDict):
    """What one rewrite receives: the brief, the plan, the section as written, and its
    neighbours' texts ("" where it has none)."""

    brief: Brief
    plan: Plan
    section: Section
    before: str
    after: str


def closing(text: str, words: int) -> str:
    """The last sentences of ``text`` that reach ``words`` words (all of it if shorter).

    >>> closing("Tea is old. It grew in Yunnan. Then trade came.", 4)
    'It grew in Yunnan. Then trade came.'
    >>> closing("茶很老。它来自云南。", 3), closing("Short.", 9)
    ('它来自云南。', 'Short.')
    """
    text = text.strip()
    starts = [0, *full_stops(text)]
    for start in reversed(starts):
        tail = text[start:].strip()
        if tail and count_words(tail) >= words:
            return tail
    return text


def revise_messages(task: RevisionTask, problems: list[str]) -> list[Message]:
    """The rewrite's request: brief, outline, neighbours' excerpts, the ask, the problems.

    >>> from agentwrite.domain import SectionPlan
    >>> plan = Plan(title="Tea", sections=[SectionPlan(title=t, main_point=f"{t} of tea", target_words=90)
    ...                                    for t in ("Origins", "Trade")])
    >>> brief = Brief(instruction="Write a 180-word history of tea", target_words=180)
    >>> section = Section(index=1, title="Trade", text="x", target_words=90, finish_reason="stop")
    >>> task = RevisionTask(brief=brief, plan=plan, section=section, before="Tea began in Yunnan.", after="")
    >>> before, asked = revise_messages(task, ["off_topic"])[1]["content"].split("\\n\\n")[2:]
    >>> before
    'The part before it ends: "…Tea began in Yunnan."'
    >>> print(asked.replace(", so", ",\\nso"))
    Write the part titled "Trade" (Trade of tea) anew, in about 90 words, in English,
    so that it follows on from the text before it. Start directly with the text.
    Above all, in this answer: Stay on: Trade of tea.
    """
    plan, section = task["plan"], task["section"]
    fields = section_fields(task["brief"], plan, section.index, section.target_words)
    before = closing(task["before"], EXCERPT_WORDS)
    after = trim_to_budget(task["after"].strip(), EXCERPT_WORDS)
    fit = [
        *(["follows on from the text before it"] if before else []),
        *(["leads into the text after it"] if after else []),
    ]
    prompt = render(
        "revise_section",
        **fields,
        before=f'The part before it ends: "…{before}"\n\n' if before else "",
        after=f'The part after it begins: "{after}…"\n\n' if after else "",
        fit=f", so that it {' and '.join(fit)}" if fit else "",
    )
    messages: list[Message] = [
        {"role": "system", "content": render("system", language=fields["language"])},
        {"role": "user", "content": prompt.strip()},
    ]
    if not problems:
        return messages
    language = brief_language(task["brief"].instruction)
    main_point = plan.sections[section.index].main_point
    return with_problems(messages, problem_request(problems, language, main_point))


def first_tokens(section: Section) -> int:
    """The tokens of a section's first answer: what it cost without the checks' re-asks and
    the revise pass."""
    return section.usage.total_tokens - section.check_tokens - section.revise_tokens


def weakest(sections: list[Section], below: float) -> list[Section]:
    """The sections the revise pass may rewrite, weakest first: scored, with their first
    request kept, failing a check or scoring below ``below``.

    >>> from agentwrite.domain import Candidate, SectionScores
    >>> def made(i, score, problems=()):
    ...     scores = SectionScores(on_topic=score, language="en", language_share=1,
    ...                            repeated_sentences=0, gibberish=0, problems=list(problems), score=score)
    ...     first = Candidate(text="t", scores=scores, messages=[], finish_reason="stop")
    ...     return Section(index=i, title="T", text="t", target_words=9, finish_reason="stop",
    ...                    scores=scores, candidates=[first])
    >>> [s.index for s in weakest([made(0, 0.9), made(1, 0.4), made(2, 0.8, ["talk"]), made(3, 0.2)], 0.5)]
    [3, 1, 2]
    """
    scored = [(s.scores, s) for s in sections if s.scores is not None and s.candidates]
    weak = [(scores.score, s.index, s) for scores, s in scored if scores.problems or scores.score < below]
    return [s for _, _, s in sorted(weak, key=lambda w: w[:2])]


def tasks_of(state: WriteState) -> list[RevisionTask]:
    """One task per section of ``state``, each with its neighbours' texts."""
    sections = state.get("sections", [])
    texts = ["", *(s.text for s in sections), ""]
    return [
        RevisionTask(brief=state["brief"], plan=state["plan"], section=s, before=texts[i], after=texts[i + 2])
        for i, s in enumerate(sections)
    ]


def pick(tasks: list[RevisionTask], s: Settings, cost: Callable[[RevisionTask], int]) -> list[int]:
    """The indices of the sections to rewrite (see the module's docstring); ``cost`` estimates
    a task's tokens."""
    sections = [t["section"] for t in tasks]
    spent = sum(x.check_tokens + x.revise_tokens for x in sections)
    left = s.revise_budget * sum(first_tokens(x) for x in sections) - spent
    picked: list[int] = []
    for section in weakest(sections, s.revise_below):
        if len(picked) == s.revise_sections:
            break
        tokens = cost(tasks[section.index])
        if tokens <= left:
            left -= tokens
            picked.append(section.index)
    return picked


def rewrite_cost(ctx: WriteContext, task: RevisionTask) -> int:
    """The tokens a rewrite is estimated at (and may spend): its prompt, and as many tokens
    as the section's first answer wrote."""
    section = task["section"]
    problems = section.scores.problems if section.scores else []
    first = section.candidates[0].usage.completion_tokens
    return ctx.gauge.prompt_tokens(revise_messages(task, problems)) + first


def revise_node(state: WriteState, runtime: Runtime[WriteContext]) -> dict[str, Any]:
    """Graph node: pick the sections to rewrite (none when ``revise`` is off)."""
    ctx = runtime.context
    if not ctx.settings.revise:
        return {"to_revise": []}

    picked = pick(tasks_of(state), ctx.settings, lambda task: rewrite_cost(ctx, task))
    if picked:
        log.info("revising sections %s", ", ".join(str(i + 1) for i in picked))
    return {"to_revise": picked}


def revise_tasks(state: WriteState) -> list[Send] | str:
    """Route: one ``revise_section`` task per picked section, or stitch."""
    tasks = tasks_of(state)
    return [Send("revise_section", tasks[i]) for i in state.get("to_revise", [])] or "stitch"


async def revise_section_node(task: RevisionTask, runtime: Runtime[WriteContext]) -> dict[str, Any]:
    """Graph node: write one section anew, and keep the rewrite if it scores better."""
    ctx = runtime.context
    brief, plan = Brief.model_validate(task["brief"]), Plan.model_validate(task["plan"])
    section = Section.model_validate(task["section"])  # typed again, as a server may give JSON
    task = RevisionTask(brief=brief, plan=plan, section=section, before=task["before"], after=task["after"])
    checks = section_checks(ctx, brief, plan, section.index, section.target_words)
    if checks is None or section.scores is None:
        return {}
    started = time.monotonic()
    try:
        draft, sent = await write_draft(
            ctx,
            fixed(revise_messages(task, section.scores.problems)),
            section.index,
            section.title,
            section.target_words,
            brief.language_name,
            [t for t in (task["before"], task["after"]) if t],
            ignore,
            checks,
            token_cap=rewrite_cost(ctx, task),
        )
    except EmptySection as error:
        log.warning("section %d: its rewrite %s; keeping it as it was", section.index + 1, error)
        return {}
    rewrite = candidate(draft, sent, checks, revision=True)
    candidates = [*section.candidates, rewrite]
    fields = section.model_dump()
    fields.update(
        candidates=candidates,
        usage=section.usage + draft.usage,
        seconds=section.seconds + time.monotonic() - started,
    )
    better = rewrite.scores.score > section.scores.score
    if better:
        fields.update(
            text=rewrite.text,
            scores=rewrite.scores,
            chosen=len(candidates) - 1,
            finish_reason=rewrite.finish_reason,
            loops_cut=draft.loops_cut,
            words_dropped=draft.words_dropped,
        )
    log.info(
        "section %d: rewrite scored %.3f against %.3f; %s",
        section.index + 1,
        rewrite.scores.score,
        section.scores.score,
        "kept" if better else "left",
    )
    return {"sections": [Section.model_validate(fields)]}
