"""A text that grows piece by piece (a streamed answer), read once as it grows: where its
sentences end and which of them lie in fenced code blocks.

Reading the whole text again after every piece costs the square of its length. A
:class:`StreamedText` reads each piece once: a sentence is *finished* when a sentence end
follows it that no later text can move (``text_stats.finished_sentence_spans``), and each
line's part in a code block is settled when the line ends (``markdown_lines.CodeFences``).
Only the unfinished rest (the last sentence, the last line) is looked at again, and that is
short.

The answers are those of the whole text so far: ``text_stats.sentence_spans`` for the
sentences, and ``markdown_lines.code_blocks`` for the code blocks (a block left open runs
to the text's end).
"""

from __future__ import annotations

from agentwrite.text_stats import finished_sentence_spans
from agentwrite.writing.markdown_lines import CodeFences


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
