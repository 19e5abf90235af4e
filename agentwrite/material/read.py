"""The user's own material (notes, a report, a transcript) as chunks that a plan can give to
its sections.

Text and Markdown files are read as UTF-8; PDF files with pypdf (the ``sources`` extra). A
file's text is split at its Markdown headings and blank lines into chunks of at most
``CHUNK_WORDS`` words (a longer paragraph at its sentence ends), each with a stable id: the
file's name and the chunk's number, ``notes.md#3``. Every problem with a file is an
``InputError`` of one line, raised before any model call.
"""

from __future__ import annotations

import hashlib
import io
import logging
import os
import re
import warnings
from collections.abc import Iterable, Sequence
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field

from agentwrite.errors import InputError
from agentwrite.files import read_bounded
from agentwrite.length import count_words
from agentwrite.text_stats import sentence_spans
from agentwrite.writing.markdown_lines import Fences, atx_heading, is_heading

CHUNK_WORDS = 300
"""The most words a chunk holds (a heading over it does not count)."""
MAX_CHUNKS = 500
"""The most chunks all sources of a run may make (about 150,000 words)."""
MAX_SOURCE_BYTES = 50_000_000

_BLANK_LINES = re.compile(r"\n[ \t]*\n")
_TOKEN = re.compile(r"[\u4e00-\u9fff]|\S+")


class Chunk(BaseModel):
    """A piece of the user's material: its id (``notes.md#3``), its file's name, the
    heading above it (empty if none) and its text."""

    model_config = ConfigDict(frozen=True)

    id: str = Field(min_length=1, description="The file's name and the chunk's number: notes.md#3.")
    source: str = Field(min_length=1, description="The name of the file it comes from.")
    heading: str = Field("", description="The nearest Markdown heading above or at its start.")
    text: str = Field(min_length=1)


def size(text: str) -> int:
    """Words as chunks are bounded: counted words (``count_words``) or whitespace-separated
    pieces (numbers and symbols too), whichever is more.

    >>> size("Tea costs 3.5 yuan"), size("茶很古老")
    (4, 4)
    """
    return max(count_words(text), len(text.split()))


def split_text(text: str, source: str, max_words: int = CHUNK_WORDS) -> list[Chunk]:
    """Split a text into chunks of at most ``max_words`` words: a Markdown heading starts a
    new chunk (and stays with what follows it), paragraphs are put together until the next
    would not fit, and a paragraph longer than the bound is cut at its sentence ends (a
    sentence longer than that at its words).

    >>> notes = "# Soil\\nClay drains badly.\\n\\nAdd compost.\\n\\n## Seeds\\nSow tomatoes in March."
    >>> [(c.id, c.heading, c.text) for c in split_text(notes, "notes.md")]  # doctest: +NORMALIZE_WHITESPACE
    [('notes.md#1', 'Soil', '# Soil\\n\\nClay drains badly.\\n\\nAdd compost.'),
     ('notes.md#2', 'Seeds', '## Seeds\\n\\nSow tomatoes in March.')]
    >>> [c.text for c in split_text("One two.\\n\\nThree four.\\n\\nFive six. Seven eight nine.", "t", 4)]
    ['One two.\\n\\nThree four.', 'Five six.', 'Seven eight nine.']
    """
    chunks: list[Chunk] = []
    blocks: list[str] = []
    words = 0
    above = current = ""  # the last heading, and the one above the chunk being made

    def flush() -> None:
        nonlocal blocks, words
        if any(not is_heading(b) for b in blocks):
            body = "\n\n".join(blocks)
            chunks.append(Chunk(id=f"{source}#{len(chunks) + 1}", source=source, heading=current, text=body))
            blocks, words = [], 0

    for block in _blocks(text):
        if found := atx_heading(block):
            flush()
            above = current = found.text
            blocks.append(block)
            continue
        for piece in _pieces(block, max_words):
            if blocks and words + size(piece) > max_words and words > 0:
                flush()
            if not blocks:
                current = above
            blocks.append(piece)
            words += size(piece)
    flush()
    return chunks


def _blocks(text: str) -> list[str]:
    """Paragraphs (between blank lines), with each Markdown heading line a block of its own;
    a fenced code block stays whole, and a ``#`` line in it is no heading.

    >>> _blocks("# A\\ntext\\nmore\\n\\n\\npara\\n```sh\\n# a comment\\n\\nls\\n```")
    ['# A', 'text\\nmore', 'para\\n```sh\\n# a comment\\n\\nls\\n```']
    """
    out: list[str] = []
    lines: list[str] = []
    fences = Fences()

    def close() -> None:
        if any(line.strip() for line in lines):
            out.append("\n".join(lines).strip("\n"))
        lines.clear()

    for line in text.splitlines():
        code = fences.read(line)
        if not code and not line.strip():
            close()
        elif not code and is_heading(line):
            close()
            out.append(line.strip())
        else:
            lines.append(line.rstrip())
    close()
    return out


def _pieces(block: str, max_words: int) -> list[str]:
    """A block cut into pieces of at most ``max_words`` words: at sentence ends where it can,
    else at words (a CJK run at its characters).

    >>> _pieces("Short.", 5), _pieces("One two. Three four five six seven.", 3)
    (['Short.'], ['One two.', 'Three four five', 'six seven.'])
    """
    if size(block) <= max_words:
        return [block]
    pieces: list[str] = []
    start = end = None
    for a, b in sentence_spans(block):
        if start is not None and end is not None and size(block[start:b]) > max_words:
            pieces.append(block[start:end])
            start = None
        if size(block[a:b]) > max_words:
            pieces += _cut_words(block[a:b], max_words)
            start = end = None
            continue
        start = a if start is None else start
        end = b
    if start is not None and end is not None:
        pieces.append(block[start:end])
    return pieces


def _cut_words(text: str, max_words: int) -> list[str]:
    """A text without sentence ends in pieces of ``max_words`` tokens (words, CJK characters).

    >>> _cut_words("a b c d e", 2), _cut_words("云南的茶", 3)
    (['a b', 'c d', 'e'], ['云南的', '茶'])
    """
    tokens = list(_TOKEN.finditer(text))
    pieces = []
    for i in range(0, len(tokens), max_words):
        group = tokens[i : i + max_words]
        pieces.append(text[group[0].start() : group[-1].end()])
    return pieces


def excerpt(text: str, words: int) -> str:
    """The start of a text on one line, ``words`` tokens at most (``…`` when cut).

    >>> excerpt("Clay drains\\nbadly, so add compost.", 3), excerpt("Tea.", 3), excerpt("云南的茶", 2)
    ('Clay drains badly,…', 'Tea.', '云南…')
    """
    tokens = list(_TOKEN.finditer(text))
    if len(tokens) <= words:
        return " ".join(text.split())
    cut = text[: tokens[words - 1].end()] if words > 0 else ""
    return " ".join(cut.split()) + "…"


# --- reading files ---------------------------------------------------------------------------


def read_source(path: Path, name: str | None = None, max_words: int = CHUNK_WORDS) -> list[Chunk]:
    """The chunks of one file (named ``name``, by default the file's name); InputError of
    one line when the file is missing, unreadable, not UTF-8 text, or holds no text."""
    name = name or path.name
    if path.is_dir():
        raise InputError(f"source {path} is a folder; give the files in it")
    data = read_bounded(path, MAX_SOURCE_BYTES, "source file")  # no FIFO, device or endless read
    if data.startswith(b"%PDF-") or path.suffix.lower() == ".pdf":
        text = _pdf_text(data, path)
    else:
        text = _utf8_text(data, path)
    chunks = split_text(text, name, max_words)
    if not chunks:
        raise InputError(f"source file {path} is empty")
    return chunks


def _utf8_text(data: bytes, path: Path) -> str:
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InputError(
            f"source file {path} is not UTF-8 text (byte 0x{data[exc.start]:02x} at offset {exc.start}); "
            "save it as UTF-8"
        ) from None
    if "\x00" in text:
        raise InputError(f"source file {path} is not text (it holds NUL bytes)")
    return text.replace("\r\n", "\n").replace("\r", "\n")


def _pdf_text(data: bytes, path: Path) -> str:
    """The text of a PDF's pages, lines within a paragraph joined (hyphenated words too)."""
    try:
        from pypdf import PdfReader
    except ImportError:
        raise InputError(
            f"source file {path} is a PDF; reading PDFs needs the 'sources' extra: "
            "pip install 'agentwrite[sources]'"
        ) from None
    quiet = logging.getLogger("pypdf")
    level = quiet.level
    quiet.setLevel(logging.ERROR)  # what is wrong with a damaged file is said in one line, below
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            reader = PdfReader(io.BytesIO(data))
            if reader.is_encrypted and not reader.decrypt(""):
                raise InputError(f"source file {path} is an encrypted PDF; give a copy without a password")
            pages = [page.extract_text() or "" for page in reader.pages]
    except InputError:
        raise
    except Exception as exc:  # pypdf raises many kinds on a damaged file
        reason = " ".join(str(exc).split()) or type(exc).__name__
        raise InputError(f"cannot read PDF {path}: {reason}") from None
    finally:
        quiet.setLevel(level)
    text = "\n\n".join(_reflow(page) for page in pages)
    if not text.strip():
        raise InputError(f"source file {path} holds no text (a scanned PDF needs OCR first)")
    return text


def _reflow(page: str) -> str:
    """A PDF page's text with its hard line breaks joined: a hyphen at a line's end joins
    the word, any other break within a paragraph becomes a space.

    >>> _reflow("Tea grows in Yun-\\nnan, on high\\nslopes.\\n\\nNext.")
    'Tea grows in Yunnan, on high slopes.\\n\\nNext.'
    """
    paragraphs = _BLANK_LINES.split(page.replace("\r\n", "\n"))
    joined = [re.sub(r"(?<=\w)-\n(?=\w)", "", p) for p in paragraphs]
    return "\n\n".join(" ".join(p.split()) for p in joined if p.strip())


def load_material(items: Iterable[Path | str | Chunk], max_words: int = CHUNK_WORDS) -> list[Chunk]:
    """The chunks of every source, in the order given: files (paths) are read and split,
    chunks are taken as they are. Two files with the same name are told apart by the path
    as given; a file given twice, a repeated chunk id or more than ``MAX_CHUNKS`` chunks is
    an InputError.

    >>> [c.id for c in load_material([Chunk(id="a#1", source="a", text="Tea.")])]
    ['a#1']
    """
    chunks: list[Chunk] = []
    names: set[str] = set()
    seen: set[Path] = set()
    for item in items:
        if isinstance(item, Chunk):
            chunks.append(item)
            continue
        path = Path(item)
        real = Path(os.path.realpath(path))  # a link loop is said when the file is read
        if real in seen:
            raise InputError(f"source file {path} is given twice")
        seen.add(real)
        name = path.name if path.name not in names else str(path)
        names.add(name)
        chunks += read_source(path, name, max_words)
    ids = [c.id for c in chunks]
    if repeated := sorted({i for i in ids if ids.count(i) > 1}):
        raise InputError(f"source chunk id {repeated[0]} is used twice")
    if len(chunks) > MAX_CHUNKS:
        raise InputError(f"the sources make {len(chunks)} chunks; the limit is {MAX_CHUNKS}")
    return chunks


def source_ids(chunks: Sequence[Chunk]) -> dict[str, list[str]]:
    """Each source's chunk ids, in order.

    >>> source_ids([Chunk(id="a#1", source="a", text="x"), Chunk(id="a#2", source="a", text="y")])
    {'a': ['a#1', 'a#2']}
    """
    out: dict[str, list[str]] = {}
    for chunk in chunks:
        out.setdefault(chunk.source, []).append(chunk.id)
    return out


def fingerprint(chunks: Sequence[Chunk]) -> str:
    """A short digest of the chunks' ids and texts (a resumed run checks it is given the same).

    >>> fingerprint([Chunk(id="a#1", source="a", text="x")])
    'b6598b22540e6e5f'
    """
    digest = hashlib.sha256()
    for chunk in chunks:
        digest.update(f"{chunk.id}\x00{chunk.text}\x00".encode())
    return digest.hexdigest()[:16]
