"""Section writers: one request per section, continued when it comes back well short of
its budget (cut by the token limit or not); a cut section that is long enough ends at the
first full sentence that reaches its budget instead, saving a round trip. A streamed answer
is stopped there as it comes in, so the engine does not write the headroom that ``max_tokens``
allows only to have it trimmed. Words are counted in the section as the document will hold
it (cleaned of labels and plan lines)."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from agentwrite.domain import Brief, Candidate, Plan, Section, Usage
from agentwrite.errors import ContextFull, EmptySection
from agentwrite.events import EventSink, SectionDelta, SectionDone, SectionStarted, TextBatches, ignore
from agentwrite.graph.context import WriteContext
from agentwrite.graph.nodes.section_request import continuation_messages, fixed, section_request
from agentwrite.graph.nodes.section_text import join_continuation, trim_to_budget
from agentwrite.length import count_words
from agentwrite.llm.base import HALTED, Message, Watch
from agentwrite.llm.scheduling import current_ticket
from agentwrite.settings import Settings
from agentwrite.text_stats import ends_with_full_stop
from agentwrite.writing.checks import TALK, SectionChecks, problem_request, remove_talk, with_problems
from agentwrite.writing.loop_guard import GuardedText, LoopGuard, Tally
from agentwrite.writing.markdown import clean_section_text
from agentwrite.writing.topic import scorer

log = logging.getLogger(__name__)

_EMPTY_RETRIES = 2
_BUDGET = "budget"
"""A draft's finish when its answer was stopped as it streamed, at its budget."""


def section_checks(
    ctx: WriteContext, brief: Brief, plan: Plan, index: int, budget: int
) -> SectionChecks | None:
    """The checks of section ``index`` as the settings ask for them (None: checks off)."""
    s = ctx.settings
    if not s.checks:
        return None
    return SectionChecks(
        brief.instruction,
        plan.sections[index].main_point,
        scorer(s.topic_scorer),
        min_on_topic=s.min_on_topic,
        min_words=round(s.short_section_ratio * budget),
        planned_words=plan.total_words,
        learned_talk=s.talk_model,
    )


def with_sources(section: Section, shown: Sequence[str]) -> Section:
    """The section with the ids of the user's material its prompt showed (unchanged when none).

    >>> s = Section(index=0, title="Soil", text="Clay.", target_words=9, finish_reason="stop")
    >>> with_sources(s, ["notes.md#2"]).sources, with_sources(s, []) is s
    (['notes.md#2'], True)
    """
    return section.model_copy(update={"sources": list(shown)}) if shown else section


@dataclass
class Draft:
    """A section while it is written: the text kept so far and what it took."""

    text: str = ""
    finish: str = "stop"
    usage: Usage = field(default_factory=Usage)
    loops_cut: int = 0
    words_dropped: int = 0
    continuations: int = 0
    empty_answers: int = 0
    avoid: str = ""
    talk_lines: int = 0


async def generate_section(
    ctx: WriteContext,
    prompt: Callable[[], list[Message]],
    *,
    index: int,
    count: int,
    title: str,
    budget: int,
    language: str,
    earlier: Sequence[str] = (),
    events: EventSink = ignore,
    checks: SectionChecks | None = None,
    least: float | None = None,
) -> Section:
    """Write one section from the prompt ``prompt()`` builds; raise ModelError rather than
    return bad text.

    With the loop guard on, the answer is watched as it streams: a loop stops the request,
    is cut off, and the section is continued from before it with a stronger repetition
    penalty and the looping sentence named; sentences that repeat one another or
    ``earlier`` sections, or echo the prompt, are dropped. A section cut short (by the token
    limit or a loop) or well short of its budget (under ``least`` of it: by default the
    ``short_section_ratio`` setting) is continued; one cut past its budget ends
    at the first sentence that reaches it (an answer that ended by itself is kept whole).

    With ``checks``, sentences of talk about the writing are dropped too, and a section
    whose text fails a check is asked for again with its problems named at the end of the
    request, up to ``max_candidates`` answers and while the document's ``check_budget``
    allows (its first ``min_reasks`` re-asks whatever the budget); the best by the combined
    score is kept, and every answer is kept in ``Section.candidates`` (when more than one
    was asked, or the revise pass is on: a rewrite is paired against the first request).

    ``events`` hears the section start and end, and each piece of its text as it streams
    (``SectionDelta``, where the backend streams). ``language``: the brief's, as a
    continuation's request names it.
    """
    s = ctx.settings
    events(SectionStarted(index, count, title, budget))
    started = time.monotonic()
    draft, sent = await write_draft(
        ctx, prompt, index, title, budget, language, earlier, events, checks, least=least
    )
    drafts, candidates = [draft], []
    if checks is not None:
        ctx.check_budget.first(draft.usage.total_tokens, words=budget, planned_words=checks.planned_words)
        candidates.append(candidate(draft, sent, checks))
    while (
        checks is not None
        and (problems := candidates[-1].scores.problems)
        and len(candidates) < s.max_candidates
    ):
        estimate = draft.usage.total_tokens  # the first answer's cost
        if not ctx.check_budget.reserve(estimate, s.check_budget, floor=s.min_reasks):
            log.info("section %d: no check budget left to ask again (%s)", index + 1, ", ".join(problems))
            break
        log.info("section %d: asking again (%s)", index + 1, ", ".join(problems))
        asked = _with_problems(prompt, problem_request(problems, checks.language, checks.main_point))
        try:
            again, sent = await write_draft(
                ctx,
                asked,
                index,
                title,
                budget,
                language,
                earlier,
                events,
                checks,
                token_cap=estimate,
                least=least,
            )
        except EmptySection as error:
            ctx.check_budget.spend(estimate, 0)
            log.warning("section %d: asked again, %s; keeping the earlier answers", index + 1, error)
            break
        ctx.check_budget.spend(estimate, again.usage.total_tokens)
        drafts.append(again)
        candidates.append(candidate(again, sent, checks))
    chosen = max(range(len(candidates)), key=lambda i: (candidates[i].scores.score, -i)) if candidates else 0
    kept = drafts[chosen]
    section = Section(
        index=index,
        title=title,
        text=kept.text,
        target_words=budget,
        finish_reason=_finish(kept),
        usage=sum((d.usage for d in drafts), Usage()),
        seconds=time.monotonic() - started,
        loops_cut=kept.loops_cut,
        words_dropped=kept.words_dropped,
        scores=candidates[chosen].scores if candidates else None,
        candidates=candidates if len(candidates) > 1 or s.revise else [],
        chosen=chosen,
    )
    if (ticket := current_ticket()) is not None:
        ticket.section_written(index, section.words)  # fewer words left: its next requests rank higher
    events(SectionDone(section, count))
    return section


def _with_problems(prompt: Callable[[], list[Message]], line: str) -> Callable[[], list[Message]]:
    """``prompt`` with ``line`` at the end of its last user message (each time it is built)."""
    return lambda: with_problems(prompt(), line)


def _finish(draft: Draft) -> str:
    """A draft's finish reason as a section records it."""
    return "length" if draft.finish in ("loop", HALTED) else draft.finish


def candidate(
    draft: Draft, sent: list[Message], checks: SectionChecks, *, revision: bool = False
) -> Candidate:
    """A draft as a candidate: its text scored by ``checks``, with the messages ``sent``."""
    return Candidate(
        text=draft.text,
        scores=checks.scores(draft.text, draft.talk_lines),
        messages=[{"role": m["role"], "content": m["content"]} for m in sent],
        finish_reason=_finish(draft),
        usage=draft.usage,
        revision=revision,
    )


async def write_draft(
    ctx: WriteContext,
    prompt: Callable[[], list[Message]],
    index: int,
    title: str,
    budget: int,
    language: str,
    earlier: Sequence[str],
    events: EventSink,
    checks: SectionChecks | None,
    *,
    token_cap: int | None = None,
    least: float | None = None,
) -> tuple[Draft, list[Message]]:
    """One answer for a section, continued as needed (see ``generate_section``), and the
    messages of its first request. With ``token_cap`` (a re-ask's or a rewrite's share of
    the check budget) no request is sent once the answer's requests have cost that many
    tokens: the answer ends as it is (EmptySection when it has no text yet). ``least``: the
    share of the budget below which an answer that ended by itself is continued (default
    the ``short_section_ratio`` setting)."""
    s = ctx.settings
    least = s.short_section_ratio if least is None else least
    judges = [checks.judge] if checks is not None else []
    guard = LoopGuard([m["content"] for m in prompt()], earlier, judges) if s.loop_guard else None
    streams = ctx.model.capabilities.streaming_watch  # else whole answers only, and no deltas
    delta = (
        TextBatches(lambda text: events(SectionDelta(index, text))) if streams and ctx.stream_text else None
    )
    watched = guard if streams else None
    tally = checks.tally if checks is not None else None
    draft = Draft()
    first: list[Message] = []
    while True:
        if token_cap is not None and draft.usage.total_tokens >= token_cap:
            if not draft.text:
                raise EmptySection(f"section {index + 1}: spent its {token_cap} tokens with no text kept")
            log.info("section %d: its %d tokens are spent; not continued", index + 1, token_cap)
            break
        if not draft.text:  # the first request, or again after an empty or all-loop answer
            decoding = s.decoding_for("writer").stronger(s.loop_penalty_step * draft.loops_cut)
            watcher = _Watcher(watched, "", delta, budget, tally)
            request = section_request(
                ctx, prompt, budget, decoding=decoding, force_length=True, watch=watcher
            )
        else:
            more = max(budget - count_words(draft.text), 50)
            decoding = s.decoding_for("continuation").stronger(s.loop_penalty_step * draft.loops_cut)
            follow_up = continuation_messages(first, draft.text, title, more, language, draft.avoid)
            if guard is not None:
                guard.add_prompt(follow_up[-1]["content"])  # its step may be echoed back too
            watcher = _Watcher(watched, draft.text + " ", delta, budget, tally)
            request = section_request(
                ctx,
                fixed(follow_up),
                more,
                decoding=decoding,
                force_length=count_words(draft.text) < s.short_section_ratio * budget,
                watch=watcher,
            )
        try:
            sent, completion = await ctx.complete(request)
        except ContextFull:
            if not draft.text:
                raise
            log.warning("section %d: no room left in the context window to continue it", index + 1)
            break
        finally:
            if delta is not None:
                delta.flush()  # the answer's last pieces, before anything else is said of it
        if not draft.text:
            first = sent
        draft.usage = draft.usage + completion.usage
        finish = (
            _BUDGET if completion.finish_reason == HALTED and watcher.reached else completion.finish_reason
        )
        _take(draft, completion.text, finish, guard, title, index, watcher.reading)
        if not draft.text:
            draft.empty_answers += 1
            if draft.empty_answers > _EMPTY_RETRIES:
                looping = " (looping from its start)" if draft.loops_cut else ""
                raise EmptySection(
                    f"section {index + 1} came back empty {draft.empty_answers} times{looping}"
                )
            log.warning("section %d came back empty (attempt %d)", index + 1, draft.empty_answers)
            continue
        if not _needs_more(draft, budget, s, least):
            break
    if checks is not None and guard is None:
        draft.text, talk, dropped = remove_talk(draft.text, learned=checks.learned_talk)
        draft.talk_lines += talk
        draft.words_dropped += dropped
    return draft, first


@dataclass
class _Watcher:
    """Makes a fresh watch for each try of a request: each streamed piece goes to ``delta``
    first, then to the loop guard's watch, which stops the answer at a loop. With the guard
    on, the answer is also stopped once the sentences the guard keeps (``prefix``, the text
    so far, included) reach ``budget`` words; ``reached`` says whether the latest try was,
    ``reading`` is the guard's reading of its text (so that the answer need not be read
    again when it is taken). ``tally`` makes the section checks' tally for each reading."""

    guard: LoopGuard | None
    prefix: str
    delta: Callable[[str], None] | None
    budget: int
    tally: Callable[[], Tally] | None = None
    reached: bool = False
    reading: GuardedText | None = None

    def __call__(self) -> Watch | None:
        self.reached = False
        delta = self.delta
        if self.guard is None:
            return None if delta is None else lambda piece: bool(delta(piece))
        reading = self.reading = self.guard.read(self.prefix, self.tally() if self.tally else None)
        check = reading.watch()

        def watch(piece: str) -> bool:
            stop = check(piece)
            if not stop:
                sentences = reading.sentences
                self.reached = stop = sum(s.words for s in sentences if not s.fault) >= self.budget
                if stop:  # the piece that ended the sentence may begin the next: not shown
                    piece = piece[: max(0, len(piece) - (len(reading.text) - sentences[-1].end))]
            if delta is not None:
                delta(piece)
            return stop

        return watch


def _take(
    draft: Draft,
    answer: str,
    finish: str,
    guard: LoopGuard | None,
    title: str,
    index: int,
    streamed: GuardedText | None = None,
) -> None:
    """Add an answer to the draft: cut a loop, clean the text, drop bad sentences.
    ``streamed``, the guard's reading of the answer as it streamed, serves when it read
    this very text (a first answer; a continuation is joined otherwise)."""
    raw = join_continuation(draft.text, answer) if draft.text else answer
    reading = None
    if guard is not None:
        reading = streamed if streamed is not None and streamed.text == raw else guard.read(raw)
    loop = None
    if reading is not None:
        reading.end()
        loop = reading.loop()
    if loop is not None:
        kept = raw[: loop.start]
        draft.words_dropped += count_words(raw) - count_words(kept)
        draft.loops_cut += 1
        draft.avoid = loop.sample
        log.info("section %d: cut a loop (%s): %.80s", index + 1, loop.kind, loop.sample)
        raw, finish = kept, "loop"
    elif finish == HALTED:
        finish = "length"  # stopped by a watch the whole text no longer trips: treat as cut
    body = clean_section_text(raw, title)
    if guard is not None:
        if reading is None or loop is not None or body != raw:
            reading = guard.read(body)  # another text than the one read: read it
        body, dropped = reading.clean()
        draft.words_dropped += dropped
        draft.talk_lines += sum(1 for sentence in reading.sentences if sentence.fault == TALK)
    draft.text, draft.finish = body, finish


def _needs_more(draft: Draft, budget: int, s: Settings, least: float) -> bool:
    """Whether to continue the section (one that ended by itself: when under ``least`` of
    its budget); a section past its budget is trimmed instead."""
    if draft.finish == _BUDGET:  # stopped as it streamed: the stop may have left a sentence begun
        draft.text, draft.finish = trim_to_budget(draft.text, budget), "stop"
    words = count_words(draft.text)
    cut = draft.finish in ("length", "loop")
    if not cut and words >= least * budget:
        return False
    if words >= budget:
        draft.text = trim_to_budget(draft.text, budget)
        if cut and ends_with_full_stop(draft.text):
            draft.finish = "stop"  # trimmed to a sentence end: the section ends properly
        return False
    if draft.finish == "loop":
        return draft.loops_cut <= s.max_loop_cuts
    draft.continuations += 1
    return draft.continuations <= s.max_continuations
