"""Catch a section that degenerates: loops, copies, echoes the prompt or turns to gibberish.

Small models reach a word count by repeating themselves (one sentence twenty times), by
copying the text they are shown, or by echoing the prompt's own directions. A
:class:`LoopGuard` reads a section's text (as it streams, through :meth:`LoopGuard.watch`,
and whole) and judges each sentence against what it knows: the prompt, the sections
written before, and the sentences before it in the same text.

A sentence is *bad* when it repeats an earlier sentence of the text or of an earlier
section, restates a line of the prompt (a direction, a plan line, a heading), or is mostly
not words. Bad sentences are dropped (:meth:`LoopGuard.clean`). A *loop*
(:meth:`LoopGuard.find`) is three repeated or gibberish sentences close together, a run of
``COPY_RUN`` sentences copied from earlier sections, a word span coming back a third time,
a run of words with no sentence end, or a gibberish tail: the text is cut just before it
began, and the writer asks for the rest of the section again. Echoes of the prompt are
dropped but never make a loop by themselves: a model often starts by restating its
directions and then writes well, and an echo that comes back is a repeat.

Sentences shorter than ``MIN_WORDS`` counted words ("Yes.", "Step 2:") are never judged.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from agentwrite.length import count_words
from agentwrite.llm.base import Watch
from agentwrite.text_stats import WORD_TOKEN, gibberish_rate, normalise_sentence, sentence_spans

MIN_WORDS = 3
"""Shorter sentences are too generic to call repeated ("Write about 800 words." is three)."""
LOOP_REPEATS = 3
LOOP_WINDOW = 5
"""``LOOP_REPEATS`` repeated or gibberish sentences among ``LOOP_WINDOW`` in a row make a
loop ("S S S", or "A B A B A"); one or two are dropped."""
COPY_RUN = 4
"""This many sentences copied from earlier sections, in a row, make a loop."""
SPAN_WORDS = 8
"""A span of this many words that comes back a third time is a loop (loops without sentence ends)."""
RUN_ON_WORDS = 150
"""A run of more counted words than this without a sentence end or line break is a loop."""
GIBBERISH_WORDS = 30
GIBBERISH_SHARE = 0.3
"""A sentence, or a tail without a sentence end, of at least ``GIBBERISH_WORDS`` words (or
the last ``GIBBERISH_WORDS`` of a longer tail) whose share of non-words is above this."""
CHECK_CHARS = 80
"""While streaming, a check runs at each sentence end or line break, or after this many characters."""

_HEADING_MARK = re.compile(r"^\s{0,3}#{1,6}\s+")
_CHECK_NOW = re.compile(r"[.!?。！？\n]")
_CODE_BLOCK = re.compile(r"^ {0,3}(`{3,}|~{3,}).*?(?:^ {0,3}\1|\Z)", re.M | re.S)


@dataclass(frozen=True)
class Loop:
    """Where a text degenerates: ``text[:start]`` is kept; ``kind`` says how it went wrong
    and ``sample`` is the sentence to name when asking again ("do not write this again")."""

    start: int
    kind: str
    sample: str


@dataclass(frozen=True)
class _Judged:
    start: int
    end: int
    fault: str | None  # why the sentence is bad, None when it is fine


class LoopGuard:
    """Judges sections against the prompt lines and the earlier sections it is given.

    >>> guard = LoopGuard(prompt=["## Your step\\nWrite about 300 words. Write only the prose."],
    ...                   earlier=["Tea began in the hills of Yunnan long ago."])
    >>> text = "Write about 300 words. Tea spread along the old caravan roads. It reached Tibet."
    >>> guard.clean(text)
    ('Tea spread along the old caravan roads. It reached Tibet.', 3)
    >>> looping = "Tea is grown on terraces. " + "We picked the leaves every single morning. " * 4
    >>> loop = guard.find(looping)
    >>> looping[: loop.start], loop.kind
    ('Tea is grown on terraces. We picked the leaves every single morning. ', 'repeated sentence')
    """

    def __init__(self, prompt: Iterable[str] = (), earlier: Iterable[str] = ()) -> None:
        self._prompt: set[str] = set()
        self._headings: set[str] = set()
        for text in prompt:
            self.add_prompt(text)
        self._earlier: set[str] = set()
        for text in earlier:
            self.remember(text)

    def add_prompt(self, text: str) -> None:
        """Count the lines of ``text`` as prompt too (a later request's step)."""
        for start, end in sentence_spans(text):
            sentence = text[start:end]
            if _HEADING_MARK.match(sentence):
                self._headings.add(normalise_sentence(sentence))
            elif _judged(sentence):
                self._prompt.add(normalise_sentence(sentence))

    def remember(self, text: str) -> None:
        """Count the sentences of ``text`` as already written (a finished section)."""
        for start, end in sentence_spans(text):
            if _judged(text[start:end]):
                self._earlier.add(normalise_sentence(text[start:end]))

    def find(self, text: str) -> Loop | None:
        """The first loop in ``text``, or None.

        >>> LoopGuard().find("Fine. " + "and then we dug and then we dug the bed " * 3).kind
        'repeated span'
        >>> distinct = " ".join(a + b for a in "abcdefghijklm" for b in "nopqrstuvwxyz")
        >>> LoopGuard().find("A clear start. " + distinct).kind
        'run-on text'
        """
        judged = self._judge(text)
        return (
            _repeats_close_together(text, judged)
            or _copied_run(text, judged)
            or _repeated_span(text, judged)
            or _run_on(text, judged)
        )

    def clean(self, text: str) -> tuple[str, int]:
        """``text`` without its bad sentences, and how many counted words went with them."""
        bad = [s for s in self._judge(text) if s.fault]
        if not bad:
            return text, 0
        dropped = sum(count_words(text[s.start : s.end]) for s in bad)
        kept, last = [], 0
        for s in bad:
            kept.append(text[last : s.start])
            last = s.end
            while last < len(text) and text[last] in " \t":
                last += 1
        kept.append(text[last:])
        return _tidy("".join(kept)), dropped

    def watch(self, prefix: str = "") -> Watch:
        """A watch for a streamed answer that continues ``prefix``: True (stop) as soon as
        ``prefix`` plus the answer so far has a loop. It checks at sentence ends, line
        breaks and every ``CHECK_CHARS`` characters, not at every token."""
        seen = [prefix]
        unchecked = 0

        def on_piece(piece: str) -> bool:
            nonlocal unchecked
            seen.append(piece)
            unchecked += len(piece)
            if unchecked < CHECK_CHARS and not _CHECK_NOW.search(piece):
                return False
            unchecked = 0
            return self.find(_joined(seen)) is not None

        return on_piece

    def _judge(self, text: str) -> list[_Judged]:
        out: list[_Judged] = []
        here: set[str] = set()
        code = [m.span() for m in _CODE_BLOCK.finditer(text)]
        for start, end in sentence_spans(text):
            if any(a <= start < b for a, b in code):
                continue  # code repeats itself by nature
            sentence = text[start:end]
            key = normalise_sentence(sentence)
            fault = None
            if _HEADING_MARK.match(sentence) or not _judged(sentence):
                if key in self._headings:
                    fault = "prompt echo"
            elif key in here:
                fault = "repeated sentence"
            elif key in self._earlier:
                fault = "copied from an earlier section"
            elif key in self._prompt or key in self._headings:
                fault = "prompt echo"
            elif count_words(sentence) >= GIBBERISH_WORDS and gibberish_rate(sentence) > GIBBERISH_SHARE:
                fault = "gibberish"
            here.add(key)
            out.append(_Judged(start, end, fault))
        return out


def _judged(sentence: str) -> bool:
    return count_words(sentence) >= MIN_WORDS


def _joined(pieces: list[str]) -> str:
    """The pieces as one string, kept as one piece so that joining stays linear."""
    if len(pieces) > 1:
        pieces[:] = ["".join(pieces)]
    return pieces[0]


_LOOPING = ("repeated sentence", "gibberish")
_COPIED = "copied from an earlier section"


def _repeats_close_together(text: str, judged: list[_Judged]) -> Loop | None:
    """``LOOP_REPEATS`` repeated or gibberish sentences among ``LOOP_WINDOW`` in a row."""
    bad = [i for i, s in enumerate(judged) if s.fault in _LOOPING]
    for k in range(len(bad) - LOOP_REPEATS + 1):
        if bad[k + LOOP_REPEATS - 1] - bad[k] <= LOOP_WINDOW - 1:
            s = judged[bad[k]]
            return Loop(s.start, s.fault or "", text[s.start : s.end])
    return None


def _copied_run(text: str, judged: list[_Judged]) -> Loop | None:
    """``COPY_RUN`` sentences copied from earlier sections in a row (echoes in between
    neither break nor extend the run)."""
    run = 0
    for i, s in enumerate(judged):
        if s.fault == "prompt echo":
            continue
        run = run + 1 if s.fault == _COPIED else 0
        if run == COPY_RUN:
            copies = [c for c in judged[: i + 1] if c.fault == _COPIED]
            first = copies[-COPY_RUN]
            return Loop(first.start, _COPIED, text[first.start : first.end])
    return None


def _repeated_span(text: str, judged: list[_Judged]) -> Loop | None:
    """A span of ``SPAN_WORDS`` words that occurs a third time in sentences not already bad
    (whole repeats, copies and echoes are weighed by the other rules): the loop starts at the
    sentence holding its second occurrence."""
    judged_bad = [(s.start, s.end) for s in judged if s.fault]  # the other rules weigh those
    tokens = [
        (m.group().lower(), m.start())
        for m in WORD_TOKEN.finditer(text)
        if not any(a <= m.start() < b for a, b in judged_bad)
    ]
    seen: dict[tuple[str, ...], list[int]] = {}
    for i in range(len(tokens) - SPAN_WORDS + 1):
        gram = tuple(t for t, _ in tokens[i : i + SPAN_WORDS])
        where = seen.setdefault(gram, [])
        if where and i - where[-1] < SPAN_WORDS:
            continue  # overlapping occurrences ("a a a a ...") count once per span
        where.append(i)
        if len(where) == 3:
            second = tokens[where[1]][1]
            holder = max((s for s in judged if s.start <= second), key=lambda s: s.start, default=None)
            if holder is None:
                return Loop(0, "repeated span", " ".join(gram))
            return Loop(holder.start, "repeated span", text[holder.start : holder.end][:200])
    return None


def _run_on(text: str, judged: list[_Judged]) -> Loop | None:
    """A sentence too long to be one, or a gibberish tail that has not ended yet."""
    for s in judged:
        sentence = text[s.start : s.end]
        words = count_words(sentence)
        if words > RUN_ON_WORDS:
            return Loop(s.start, "run-on text", sentence[:200])
    if judged:
        tail = text[judged[-1].start :]
        last = " ".join(WORD_TOKEN.findall(tail)[-GIBBERISH_WORDS:])
        if count_words(last) >= GIBBERISH_WORDS and gibberish_rate(last) > GIBBERISH_SHARE:
            return Loop(judged[-1].start, "gibberish", tail[:200])
    return None


def _tidy(text: str) -> str:
    """Whitespace left by removed sentences: no trailing spaces, no empty paragraphs.

    >>> _tidy("One.  \\n\\n  \\n\\nTwo. Three. ")
    'One.\\n\\nTwo. Three.'
    """
    lines = [line.rstrip() for line in text.split("\n")]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()
