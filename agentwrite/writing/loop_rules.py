"""The loop guard's rules for where a loop starts, fed one judged sentence at a time.

:class:`LoopRules` hears each finished sentence of a text once, in order, with the fault
the guard found in it (``agentwrite.writing.loop_guard``), and the words of each finished line of
code; it keeps the first loop each rule has found so far. Asked for the text's loop, it
adds the unfinished last sentence for that answer only. The rules, in the order they are
asked:

1. ``LOOP_REPEATS`` repeated or gibberish sentences among ``LOOP_WINDOW`` in a row; the
   loop starts at the first of them;
2. ``COPY_RUN`` sentences copied from earlier sections in a row (echoes and other
   faults in between neither break nor extend the run); from the first;
3. a span of ``SPAN_WORDS`` words, outside bad sentences, back a third time; from the
   sentence holding its second occurrence;
4. a sentence of more than ``RUN_ON_WORDS`` words; else a gibberish tail: the last
   ``GIBBERISH_WORDS`` words from the last sentence's start, more than ``GIBBERISH_SHARE``
   of them not words.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass
from typing import NamedTuple

from agentwrite.text_stats import gibberish_rate

LOOP_REPEATS = 3
LOOP_WINDOW = 5
"""``LOOP_REPEATS`` repeated or gibberish sentences among ``LOOP_WINDOW`` in a row make a
loop ("S S S", or "A B A B A"); one or two are dropped."""
COPY_RUN = 4
"""This many sentences copied from earlier sections, in a row, make a loop."""
SPAN_WORDS = 8
"""A span of this many words that comes back a third time is a loop (loops without sentence ends)."""
RUN_ON_WORDS = 150
"""A run of more words (the guard's, of every script) than this without a sentence end or
line break is a loop."""
GIBBERISH_WORDS = 30
GIBBERISH_SHARE = 0.3
"""A sentence, or a tail without a sentence end, of at least ``GIBBERISH_WORDS`` words (or
the last ``GIBBERISH_WORDS`` of a longer tail) whose share of non-words is above this."""

REPEATED = "repeated sentence"
COPIED = "copied from an earlier section"
GIBBERISH = "gibberish"
_LOOPING = (REPEATED, GIBBERISH)


@dataclass(frozen=True)
class Loop:
    """Where a text degenerates: ``text[:start]`` is kept; ``kind`` says how it went wrong
    and ``sample`` is the sentence to name when asking again ("do not write this again")."""

    start: int
    kind: str
    sample: str


class Sentence(NamedTuple):
    """A sentence of a text outside code blocks, as the guard judged it: ``text`` is
    ``start:end`` of the text, ``words`` its counted words, ``fault`` None when it is fine,
    ``tokens`` its words as the guard's rules see them (``text_stats.GUARD_TOKEN``: every
    script's; the counted words for Latin and CJK text)."""

    start: int
    end: int
    text: str
    words: int
    fault: str | None
    tokens: int


class LoopRules:
    """The loop rules over one text (see the module docstring).

    >>> rules = LoopRules()
    >>> for start, fault in [(0, None), (16, "repeated sentence"), (32, "repeated sentence")]:
    ...     rules.take(Sentence(start, start + 15, "We dug the bed.", 4, fault, 4), [])
    >>> rules.loop(None, [], "")  # two repeats are dropped, not a loop
    >>> rules.loop(Sentence(48, 62, "We dug the bed", 4, "repeated sentence", 4), [], "")
    Loop(start=16, kind='repeated sentence', sample='We dug the bed.')
    """

    def __init__(self) -> None:
        self.sentences: list[Sentence] = []
        self._looping: list[int] = []  # the sentences repeated or gibberish
        self._copies: list[int] = []
        self._run = 0  # copied sentences in a row
        self._span_words: list[str] = []  # words outside bad sentences, lowercased
        self._span_holders: list[int] = []  # the sentence each is in (for code: the one before)
        self._last_at: dict[tuple[str, ...], int] = {}  # where each span last occurred (and counted)
        self._second_at: dict[tuple[str, ...], int] = {}  # where a span counted twice occurred second
        self._next_span = 0  # the first word whose span is not counted yet
        self._last_words: deque[str] = deque(maxlen=GIBBERISH_WORDS)  # from the last sentence's start
        self._repeats: Loop | None = None
        self._copied: Loop | None = None
        self._span: Loop | None = None
        self._run_on: Loop | None = None

    def take(self, sentence: Sentence, words: list[str]) -> None:
        """One more finished sentence, judged, and its words (``Sentence.tokens`` of them)."""
        index, fault = len(self.sentences), sentence.fault
        self.sentences.append(sentence)
        self._last_words.clear()
        self._last_words.extend(words)
        if fault in _LOOPING:
            self._looping.append(index)
            if self._repeats is None and len(self._looping) >= LOOP_REPEATS:
                first = self._looping[-LOOP_REPEATS]
                if index - first <= LOOP_WINDOW - 1:
                    self._repeats = _loop_at(self.sentences[first])
        if fault is None or fault in _LOOPING or fault == COPIED:  # echoes neither break nor extend a run
            self._run = self._run + 1 if fault == COPIED else 0
            if fault == COPIED:
                self._copies.append(index)
            if self._copied is None and self._run == COPY_RUN:
                self._copied = _loop_at(self.sentences[self._copies[-COPY_RUN]])
        if self._run_on is None and sentence.tokens > RUN_ON_WORDS:
            self._run_on = Loop(sentence.start, "run-on text", sentence.text[:200])
        if fault is None:
            self._add_span_words(words, index)

    def take_code(self, words: list[str]) -> None:
        """The words of a finished line of code: not judged, but they make spans."""
        self._last_words.extend(words)
        self._add_span_words(words, len(self.sentences) - 1)

    def loop(self, tail: Sentence | None, tail_words: list[str], text: str) -> Loop | None:
        """The first loop of ``text``, whose unfinished last sentence (judged for now) is
        ``tail`` with ``tail_words`` (None, and its words, when it lies in a code block;
        None and no words when there is none)."""
        self._count_spans()
        return (
            self._repeats
            or self._repeats_with(tail)
            or self._copied
            or self._copies_with(tail)
            or self._span
            or self._span_with(tail_words if tail is None or tail.fault is None else [], tail)
            or self._run_on
            or self._run_on_with(tail, tail_words, text)
        )

    def _add_span_words(self, words: list[str], holder: int) -> None:
        """Words outside bad sentences, whose spans are counted when a loop is asked for
        (a text read only to be cleaned needs no spans)."""
        if self._span is None and words:
            self._span_words += " ".join(words).lower().split(" ")
            self._span_holders += [holder] * len(words)

    def _count_spans(self) -> None:
        if self._span is not None:
            return
        first = self._next_span
        new = self._span_words[first:]
        grams = list(zip(*(new[k:] for k in range(SPAN_WORDS)), strict=False))
        self._next_span = first + len(grams)
        last_at = self._last_at
        if len(set(grams)) == len(grams) and last_at.keys().isdisjoint(grams):
            last_at.update(zip(grams, range(first, self._next_span), strict=True))  # all new: most spans
            return
        for i, gram in enumerate(grams, first):
            last = last_at.get(gram)
            if last is None:
                last_at[gram] = i
            elif i - last >= SPAN_WORDS:  # overlapping ones ("a a a a") count once
                if gram in self._second_at:
                    self._span = self._span_loop(self._span_holders[self._second_at[gram]], gram, None)
                    return
                last_at[gram] = self._second_at[gram] = i

    def _repeats_with(self, tail: Sentence | None) -> Loop | None:
        looping = self._looping[-(LOOP_REPEATS - 1) :]
        if tail is None or tail.fault not in _LOOPING or len(looping) < LOOP_REPEATS - 1:
            return None
        return (
            _loop_at(self.sentences[looping[0]]) if len(self.sentences) - looping[0] < LOOP_WINDOW else None
        )

    def _copies_with(self, tail: Sentence | None) -> Loop | None:
        if tail is None or tail.fault != COPIED or self._run + 1 != COPY_RUN:
            return None
        return _loop_at(self.sentences[self._copies[-(COPY_RUN - 1)]])

    def _span_with(self, extra: list[str], tail: Sentence | None) -> Loop | None:
        """A span back a third time with the unfinished sentence's words (``extra``)."""
        first = self._next_span
        if not extra or (len(self._span_words) - first + len(extra) < 2 * SPAN_WORDS and not self._second_at):
            return None  # too few words for a span to come twice more, and none has come twice yet
        words = self._span_words[first:] + " ".join(extra).lower().split(" ")
        last_at: dict[tuple[str, ...], int] = {}
        second_at: dict[tuple[str, ...], int] = {}
        for i, gram in enumerate(zip(*(words[k:] for k in range(SPAN_WORDS)), strict=False), first):
            last = last_at.get(gram, self._last_at.get(gram))
            if last is None:
                last_at[gram] = i
            elif i - last >= SPAN_WORDS:
                second = second_at.get(gram, self._second_at.get(gram))
                if second is None:
                    last_at[gram] = second_at[gram] = i
                    continue
                if second < len(self._span_holders):
                    holder = self._span_holders[second]
                else:  # in the unfinished sentence, or in code after the last sentence
                    holder = len(self.sentences) if tail is not None else len(self.sentences) - 1
                return self._span_loop(holder, gram, tail)
        return None

    def _span_loop(self, holder: int, gram: tuple[str, ...], tail: Sentence | None) -> Loop:
        """The loop of a span whose second occurrence is in sentence ``holder`` (the
        unfinished one when it is past the finished ones; none when negative)."""
        sentence = tail if holder == len(self.sentences) else self.sentences[holder] if holder >= 0 else None
        if sentence is None:
            return Loop(0, "repeated span", " ".join(gram))
        return Loop(sentence.start, "repeated span", sentence.text[:200])

    def _run_on_with(self, tail: Sentence | None, tail_words: list[str], text: str) -> Loop | None:
        if tail is not None and tail.tokens > RUN_ON_WORDS:
            return Loop(tail.start, "run-on text", tail.text[:200])
        last = tail or (self.sentences[-1] if self.sentences else None)
        if last is None:
            return None
        words = tail_words if tail is not None else [*self._last_words, *tail_words]
        if len(words) < GIBBERISH_WORDS:
            return None
        tail_text = " ".join(words[-GIBBERISH_WORDS:])
        if gibberish_rate(tail_text) > GIBBERISH_SHARE:
            return Loop(last.start, GIBBERISH, text[last.start : last.start + 200])
        return None


def _loop_at(sentence: Sentence) -> Loop:
    return Loop(sentence.start, sentence.fault or "", sentence.text)
