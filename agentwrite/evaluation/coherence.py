"""Judge-free coherence metrics of long texts from sentence embeddings: topical flow and drift.

The text-only figures (tokens, n-grams, sentences, repetition, gibberish) live in the core
module ``agentwrite.text_stats``, which the writer imports too.
"""

from __future__ import annotations

import numpy as np


def adjacent_similarity(vectors: np.ndarray) -> list[float]:
    """Cosine similarity of each section's embedding with the next one's (n - 1 values).

    >>> adjacent_similarity(np.array([[1.0, 0.0], [1.0, 1.0], [0.0, 2.0]]))
    [0.7071, 0.7071]
    """
    unit = unit_rows(vectors)
    return [round(float(unit[i] @ unit[i + 1]), 4) for i in range(len(unit) - 1)]


def brief_similarity(brief: np.ndarray, vectors: np.ndarray) -> list[float]:
    """Cosine similarity of each section's embedding with the brief's; drift is 1 minus it.

    >>> brief_similarity(np.array([1.0, 0.0]), np.array([[3.0, 0.0], [0.0, 1.0], [-1.0, 0.0]]))
    [1.0, 0.0, -1.0]
    """
    return [round(float(v), 4) for v in unit_rows(vectors) @ unit_rows(brief[np.newaxis, :])[0]]


def unit_rows(matrix: np.ndarray) -> np.ndarray:
    """Each row scaled to length 1 (zero rows stay zero).

    >>> unit_rows(np.array([[3.0, 4.0], [0.0, 0.0]])).tolist()
    [[0.6, 0.8], [0.0, 0.0]]
    """
    norms = np.linalg.norm(matrix, axis=1, keepdims=True)
    return matrix / np.where(norms == 0, 1.0, norms)
