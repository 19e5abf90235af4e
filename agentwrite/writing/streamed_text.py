"""A text that grows piece by piece (a streamed answer), read once as it grows: where its
sentences end and which of them lie in fenced code blocks.

Reading the whole text again after every piece costs the square of its length. A
:class:`StreamedText` reads each piece once: a sentence is *finished* when a sentence end
follows it that no later text can move (``text_stats.finished_sentence_spans``), and
each line's part in a code block is settled as soon as its first characters are known.
Only the unfinished rest (the last sentence, a fence still being written) is looked at
again, and that is short.

The answers are those of the whole text: ``text_stats.sentence_spans`` for the sentences,
and ``CODE_BLOCK.finditer`` for the code blocks (a block left open runs to the text's end).
"""

from __future__ import annotations

import re
from bisect import bisect_right
from functools import cache

from agentwrite.text_stats import finished_sentence_spans

CODE_BLOCK = re.compile(r"^ {0,3}(`{3,}|~{3,}).*?(?:^ {0,3}\1|\Z)", re.M | re.S)
"""A fenced code block of a whole text: from a fence at a line's start to the first line
that starts with the same fence, or to the end of the text."""
_OPENER = re.compile(r" {0,3}(`{3,}|~{3,})")
_MAY_OPEN = re.compile(r" {0,3}(?:`{0,2}|~{0,2})")
"""The start of a last line that more characters may still make an opening fence."""


@cache
def _closer(fence: str) -> re.Pattern[str]:
    return re.compile(r" {0,3}" + re.escape(fence))


@cache
def _may_close(fence: str) -> re.Pattern[str]:
    return re.compile(r" {0,3}" + re.escape(fence[0]) + f"{{0,{len(fence) - 1}}}")


class CodeFences:
    """The fenced code blocks of a growing text, line by line, as ``CODE_BLOCK`` finds them
    in the whole text.

    >>> text = "Prose.\\n```sh\\nls\\n````\\nMore.\\n~~~~\\nopen ~~~\\n~~~"
    >>> fences = CodeFences()
    >>> for end in range(len(text) + 1):  # a character at a time
    ...     fences.advance(text[:end])
    >>> fences.closed == [m.span() for m in CODE_BLOCK.finditer(text)][:1], fences.open_at
    (True, 27)
    >>> [p for p in range(len(text)) if fences.in_block(text, p)] == [
    ...     p for p in range(len(text)) if any(a <= p < b for a, b in
    ...     (m.span() for m in CODE_BLOCK.finditer(text)))]
    True
    """

    def __init__(self) -> None:
        self.closed: list[tuple[int, int]] = []
        """The blocks that have ended, in order: ``(start, end)``."""
        self.open_at: int | None = None
        """Where the block still open begins (None when none is)."""
        self._starts: list[int] = []
        self._fence = ""
        self._line = 0  # the start of the line being read
        self._settled = False  # whether that line's part in a block is known for good
        self._searched = 0  # how far the search for that line's end has gone

    def advance(self, text: str) -> None:
        """Read ``text`` (the text so far: the last one given, and maybe more) up to its end."""
        while True:
            if not self._settled:
                if not self._settle(text, self._line):
                    return
                self._settled = True
            end = text.find("\n", max(self._line, self._searched))
            if end < 0:
                self._searched = len(text)
                return
            self._line = self._searched = end + 1
            self._settled = False

    def _settle(self, text: str, at: int) -> bool:
        """Read the line starting at ``at``: whether it opens a block, closes one or does
        neither, and True once no later character can change that."""
        if self.open_at is None:
            opener = _OPENER.match(text, at)
            if opener is None:
                return not _MAY_OPEN.fullmatch(text, at)
            if opener.end() == len(text):
                return False  # the fence may grow: it takes a longer one to close it
            self.open_at, self._fence = at, opener.group(1)
            return True
        closer = _closer(self._fence).match(text, at)
        if closer is None:
            return not _may_close(self._fence).fullmatch(text, at)
        self.closed.append((self.open_at, closer.end()))
        self._starts.append(self.open_at)
        self.open_at = None
        return True

    def in_block(self, text: str, position: int) -> bool:
        """Whether ``position`` of ``text`` (as last advanced to) lies in a code block."""
        if self.open_at is not None:
            if position >= self.open_at:
                return True
        elif not self._settled and position >= self._line and _OPENER.match(text, self._line):
            return True  # a fence at the very end opens a block, for now
        i = bisect_right(self._starts, position) - 1
        return i >= 0 and position < self.closed[i][1]


class StreamedText:
    """A text as it streams in: ``add`` pieces, then ``advance`` for the sentences they
    finished (``(start, end)`` offsets, as ``sentence_spans`` gives them); ``rest`` is
    where the unfinished part begins, and ``fences`` knows the code blocks.

    >>> streamed = StreamedText("Tea is ")
    >>> streamed.add("old. It grew"), streamed.advance(), streamed.unfinished()
    (None, [(0, 11)], (12, 19))
    >>> streamed.add(" in Yunnan."), streamed.advance(), streamed.unfinished()
    (None, [], (12, 30))
    """

    def __init__(self, text: str = "") -> None:
        self.text = ""
        self.rest = 0
        self.fences = CodeFences()
        self._pieces = [text]

    def add(self, piece: str) -> None:
        """Take one more piece (read at the next ``advance``)."""
        self._pieces.append(piece)

    def advance(self) -> list[tuple[int, int]]:
        """Read the pieces added since the last call; the sentences they finished."""
        if self._pieces:
            text = self.text
            self.text = ""  # ``text`` is the string's one reference: appended to in place
            text += "".join(self._pieces)
            self.text = text
            self._pieces.clear()
        self.fences.advance(self.text)
        spans, self.rest = finished_sentence_spans(self.text, self.rest)
        return spans

    def unfinished(self) -> tuple[int, int] | None:
        """The span of the unfinished last sentence, without surrounding whitespace (None
        when only whitespace is left)."""
        start, end = self.rest, len(self.text)
        while start < end and self.text[start].isspace():
            start += 1
        while end > start and self.text[end - 1].isspace():
            end -= 1
        return (start, end) if start < end else None
