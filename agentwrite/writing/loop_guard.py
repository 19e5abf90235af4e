"""Catch a section that degenerates: loops, copies, echoes the prompt or turns to gibberish.

Small models reach a word count by repeating themselves (one sentence twenty times), by
copying the text they are shown, or by echoing the prompt's own directions. A
:class:`LoopGuard` reads a section's text as it streams (:meth:`LoopGuard.watch`, or a
:class:`GuardedText` of :meth:`LoopGuard.read`) or whole, and judges each sentence once,
when it ends, against what it knows: the prompt, the sections written before, and the
sentences before it in the same text.

A sentence is *bad* when it repeats an earlier sentence of the text or of an earlier
section, restates a line of the prompt (a direction, a plan line, a heading), or is mostly
not words. Bad sentences are dropped (:meth:`LoopGuard.clean`). A *loop*
(:meth:`LoopGuard.find`) is three repeated or gibberish sentences close together, a run of
``COPY_RUN`` sentences copied from earlier sections, a word span coming back a third time,
a run of words with no sentence end, or a gibberish tail: the text is cut just before it
began, and the writer asks for the rest of the section again. Echoes of the prompt are
dropped but never make a loop by themselves: a model often starts by restating its
directions and then writes well, and an echo that comes back is a repeat.

Sentences shorter than ``MIN_WORDS`` words ("Yes.", "Step 2:") are never judged but for
headings echoed; sentences in fenced code blocks are not judged at all. The rules see the
words of every script (``text_stats.GUARD_TOKEN``: a run of Arabic or Cyrillic letters is
a word too), while the words a text is said to have, and those dropped with a sentence,
are counted as LongBench-Write counts them (Latin words and CJK characters): a small model
that slides into Arabic nonsense loops where the count sees no words at all.

More checks plug in as *judges*: callables from a finished sentence to the name of its
fault, or None. A sentence that the guard finds fine is put to each judge in turn; the
first fault named is its fault, dropped by ``clean`` like an echo and, like an echo,
never a loop by itself. A *tally* (a callable given each finished sentence, as a
:class:`Sentence`) keeps running figures of a text as it streams, such as the share of its
words in the brief's script; :attr:`GuardedText.words` counts its words so far.

The work is proportional to the text: words are tokenised once, word spans counted as
words arrive, and only the unfinished last sentence is looked at again at each check (its
judgment there is provisional, by the guard's own rules). The decisions are those the
guard made when it judged the whole text again at every check (commit f949d27), recorded
in ``tests/fixtures/loop_guard``.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence
from functools import lru_cache

from agentwrite.llm.base import Watch
from agentwrite.text_stats import WORD_TOKEN, gibberish_rate, guard_tokens, normalise_sentence, sentence_spans
from agentwrite.writing.loop_rules import (
    COPIED,
    GIBBERISH,
    GIBBERISH_SHARE,
    GIBBERISH_WORDS,
    REPEATED,
    Loop,
    LoopRules,
    Sentence,
)
from agentwrite.writing.markdown_lines import is_heading
from agentwrite.writing.streamed_text import StreamedText

MIN_WORDS = 3
"""Shorter sentences are too generic to call repeated ("Write about 800 words." is three)."""
CHECK_CHARS = 80
"""While streaming, a check runs at each sentence end or line break, or after this many characters."""
PROMPT_ECHO = "prompt echo"

_CHECK_NOW = re.compile(r"[.!?。！？\n]")

SentenceJudge = Callable[[str], str | None]
"""A check of one finished sentence: the name of its fault, or None."""
Tally = Callable[[Sentence], None]
"""Told each finished sentence of a text once, in order (running figures of a section)."""


class LoopGuard:
    """Judges sections against the prompt lines and the earlier sections it is given, and
    the extra ``judges``' faults.

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

    def __init__(
        self, prompt: Iterable[str] = (), earlier: Iterable[str] = (), judges: Sequence[SentenceJudge] = ()
    ) -> None:
        self.judges = tuple(judges)
        self.version = 0
        """Counts the changes to what the guard knows (a text read before one is read again)."""
        self.prompt: set[str] = set()
        self.headings: set[str] = set()
        self.earlier: set[str] = set()
        for text in prompt:
            self.add_prompt(text)
        for text in earlier:
            self.remember(text)

    def add_prompt(self, text: str) -> None:
        """Count the lines of ``text`` as prompt too (a later request's step)."""
        for line in text.split("\n"):
            headings, _, others = _line_keys(line)
            self.headings.update(headings)
            self.prompt.update(others)
        self.version += 1

    def remember(self, text: str) -> None:
        """Count the sentences of ``text`` as already written (a finished section)."""
        for line in text.split("\n"):
            _, long_headings, others = _line_keys(line)
            self.earlier.update(long_headings, others)
        self.version += 1

    def read(self, prefix: str = "", tally: Tally | None = None) -> GuardedText:
        """A text to feed as it streams, starting with ``prefix``; ``tally`` is told each
        of its sentences as it ends."""
        return GuardedText(self, prefix, tally)

    def find(self, text: str) -> Loop | None:
        """The first loop in ``text``, or None.

        >>> LoopGuard().find("Fine. " + "and then we dug and then we dug the bed " * 3).kind
        'repeated span'
        >>> distinct = " ".join(a + b for a in "abcdefghijklm" for b in "nopqrstuvwxyz")
        >>> LoopGuard().find("A clear start. " + distinct).kind
        'run-on text'
        """
        read = self.read(text)
        read.end()
        return read.loop()

    def clean(self, text: str) -> tuple[str, int]:
        """``text`` without its bad sentences, and how many counted words went with them."""
        return self.read(text).clean()

    def watch(self, prefix: str = "", tally: Tally | None = None) -> Watch:
        """A watch for a streamed answer that continues ``prefix``: True (stop) as soon as
        ``prefix`` plus the answer so far has a loop (``GuardedText.watch``)."""
        return self.read(prefix, tally).watch()

    def verdict(self, sentence: str, key: str, words: int, here: set[str]) -> str | None:
        """The guard's own verdict on one sentence (``key`` normalised, ``words`` its words
        of every script, ``text_stats.guard_tokens``), ``here`` holding the sentences before
        it in its text."""
        if is_heading(sentence) or words < MIN_WORDS:  # a prompt line made a heading too
            return PROMPT_ECHO if key in self.headings or key in self.prompt else None
        if key in here:
            return REPEATED
        if key in self.earlier:
            return COPIED
        if key in self.prompt or key in self.headings:
            return PROMPT_ECHO
        if words >= GIBBERISH_WORDS and gibberish_rate(sentence) > GIBBERISH_SHARE:
            return GIBBERISH
        return None


class GuardedText:
    """A text the guard reads as it grows: ``add`` pieces, ask for the ``loop`` (as
    ``find`` would answer on the text so far) whenever wanted, ``end`` it, ``clean`` it.

    >>> read = LoopGuard().read("Tea is old. ")
    >>> for piece in ["We dug the bed. ", "We dug the bed. ", "We dug the bed. ", "We dug the bed"]:
    ...     read.add(piece)
    >>> read.loop(), read.words  # the third repeat is not finished: a loop for now
    (Loop(start=28, kind='repeated sentence', sample='We dug the bed.'), 19)
    >>> [s.fault for s in read.sentences]
    [None, None, 'repeated sentence', 'repeated sentence']
    """

    def __init__(self, guard: LoopGuard, prefix: str = "", tally: Tally | None = None) -> None:
        self._guard = guard
        self._tally = tally
        self._told = 0
        self._ended = False
        self._restart(prefix)

    def _restart(self, text: str) -> None:
        self._version = self._guard.version
        self._stream = StreamedText(text)
        self._rules = LoopRules()
        self._here: set[str] = set()
        self._counted = 0

    @property
    def text(self) -> str:
        self._advance()
        return self._stream.text

    @property
    def sentences(self) -> list[Sentence]:
        """The finished sentences outside code blocks, as judged."""
        self._advance()
        return self._rules.sentences

    @property
    def words(self) -> int:
        """Counted words of the text so far."""
        self._advance()
        return self._counted + len(WORD_TOKEN.findall(self._stream.text, self._stream.rest))

    def add(self, piece: str) -> None:
        """Take one more piece of the text (read at the next question)."""
        if self._ended:
            raise ValueError("the text has ended")
        self._stream.add(piece)

    def end(self) -> None:
        """The text is complete: its last sentence is finished too."""
        if not self._ended:
            self._advance()
            if (last := self._stream.unfinished()) is not None:
                self._take(*last)
            self._stream.rest = len(self._stream.text)
            self._ended = True

    def loop(self) -> Loop | None:
        """The first loop of the text so far, or None (``LoopRules``, with the unfinished
        last sentence judged for now by the guard's own verdict)."""
        self._advance()
        stream = self._stream
        span = None if self._ended else stream.unfinished()
        if span is None:
            return self._rules.loop(None, [], stream.text)
        start, end = span
        words, counted = guard_tokens(stream.text, start, end)
        if stream.fences.in_block(stream.text, start):
            return self._rules.loop(None, words, stream.text)
        text = stream.text[start:end]
        fault = self._guard.verdict(text, normalise_sentence(text), len(words), self._here)
        return self._rules.loop(Sentence(start, end, text, counted, fault, len(words)), words, stream.text)

    def watch(self) -> Watch:
        """A watch that adds each streamed piece to this text: True (stop) as soon as the
        text has a loop. It checks at sentence ends, line breaks and every ``CHECK_CHARS``
        characters, not at every piece; the text's figures (``words``, a tally's) can be
        read meanwhile."""
        unchecked = 0

        def on_piece(piece: str) -> bool:
            nonlocal unchecked
            self.add(piece)
            unchecked += len(piece)
            if unchecked < CHECK_CHARS and not _CHECK_NOW.search(piece):
                return False
            unchecked = 0
            return self.loop() is not None

        return on_piece

    def clean(self) -> tuple[str, int]:
        """The whole text (ended) without its bad sentences, and how many counted words
        went with them."""
        self.end()
        text = self._stream.text
        bad = [s for s in self._rules.sentences if s.fault]
        if not bad:
            return text, 0
        kept, last = [], 0
        for s in bad:
            kept.append(text[last : s.start])
            last = s.end
            while last < len(text) and text[last] in " \t":
                last += 1
        kept.append(text[last:])
        return tidy("".join(kept)), sum(s.words for s in bad)

    def _advance(self) -> None:
        if self._version != self._guard.version:  # what the guard knows changed: read again
            self._stream.advance()
            ended, self._ended = self._ended, False
            self._restart(self._stream.text)
            if ended:
                self.end()
                return
        for start, end in self._stream.advance():
            self._take(start, end)

    def _take(self, start: int, end: int) -> None:
        """A finished sentence (or line of code): judged once, its words counted once."""
        text = self._stream.text
        words, counted = guard_tokens(text, start, end)  # counted: count_words(text[start:end])
        self._counted += counted
        if self._stream.fences.in_block(text, start):
            self._rules.take_code(words)  # code is not judged, but its words make spans
            return
        sentence = text[start:end]
        key = normalise_sentence(sentence)
        fault = self._guard.verdict(sentence, key, len(words), self._here)
        if fault is None:
            fault = next((named for judge in self._guard.judges if (named := judge(sentence))), None)
        self._here.add(key)
        judged = Sentence(start, end, sentence, counted, fault, len(words))
        self._rules.take(judged, words)
        if self._tally is not None and len(self._rules.sentences) > self._told:
            self._told += 1
            self._tally(judged)


@lru_cache(maxsize=4096)
def _line_keys(line: str) -> tuple[frozenset[str], frozenset[str], frozenset[str]]:
    """The normalised sentences of one line: its headings, those of them of ``MIN_WORDS``
    words or more, and its other sentences of ``MIN_WORDS`` words or more. (Prompts and
    earlier sections come back again and again: the text so far, the plan.)

    >>> _line_keys("## Tea Roads. Tea is old. Yes.")
    (frozenset({'tea roads'}), frozenset(), frozenset({'tea is old'}))
    """
    headings, long_headings, others = set(), set(), set()
    for start, end in sentence_spans(line):
        sentence = line[start:end]
        key = normalise_sentence(sentence)
        long = len(guard_tokens(sentence)[0]) >= MIN_WORDS
        if is_heading(sentence) and key:  # a heading with no words echoes nothing
            headings.add(key)
            if long:
                long_headings.add(key)
        elif long:
            others.add(key)
    return frozenset(headings), frozenset(long_headings), frozenset(others)


def tidy(text: str) -> str:
    """Whitespace left by removed sentences: no trailing spaces, no empty paragraphs.

    >>> tidy("One.  \\n\\n  \\n\\nTwo. Three. ")
    'One.\\n\\nTwo. Three.'
    """
    lines = [line.rstrip() for line in text.split("\n")]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()


__all__ = ["GuardedText", "Loop", "LoopGuard", "Sentence", "SentenceJudge", "Tally", "tidy"]
