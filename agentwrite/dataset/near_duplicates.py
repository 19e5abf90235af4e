"""Near-duplicate documents: word 5-gram shingles, their exact Jaccard similarity for short
texts, and ``NearDuplicateIndex``, a MinHash LSH index over the documents a build accepted."""

from __future__ import annotations

from typing import TYPE_CHECKING

from agentwrite.errors import InputError
from agentwrite.text_stats import word_tokens

if TYPE_CHECKING:
    from datasketch import MinHash

SHINGLE_WORDS = 5


def shingles(text: str, n: int = SHINGLE_WORDS) -> set[str]:
    """The set of word n-grams of ``text`` (words as LongBench-Write counts them); a text
    shorter than ``n`` words gives its whole word sequence as one shingle.

    >>> sorted(shingles("a b c a b", n=3))
    ['a b c', 'b c a', 'c a b']
    >>> shingles("two words", n=5)
    {'two words'}
    """
    tokens = word_tokens(text)
    if len(tokens) < n:
        return {" ".join(tokens)} if tokens else set()
    return {" ".join(tokens[i : i + n]) for i in range(len(tokens) - n + 1)}


def jaccard(a: set[str], b: set[str]) -> float:
    """Exact Jaccard similarity of two sets (1.0 for two empty sets), for short texts where
    an estimate is not needed (generated instructions).

    >>> jaccard({"x", "y"}, {"y", "z"})
    0.3333333333333333
    """
    return len(a & b) / len(a | b) if a or b else 1.0


class NearDuplicateIndex:
    """Finds documents whose word 5-gram sets are near-duplicates of ones already added.

    Each document's shingles go into a ``datasketch.MinHash`` (seeded, so the figures are
    the same on every run); ``datasketch.MinHashLSH`` over ``bands`` bands proposes
    candidates, and a candidate is a duplicate when its estimated Jaccard similarity reaches
    ``threshold``. The bands are fixed rather than fitted to the threshold so that less
    similar candidates come back too: the build records the highest similarity found.

    >>> index = NearDuplicateIndex(threshold=0.8)
    >>> text = " ".join(f"word{i % 7} and item {chr(97 + i % 26)}" for i in range(300))
    >>> index.add("a", text), index.find(text + " one more"), index.find("something else entirely")
    ((None, 0.0), 'a', None)
    """

    def __init__(self, threshold: float = 0.8, num_perm: int = 128, bands: int = 32, seed: int = 1) -> None:
        if num_perm % bands:
            raise ValueError("num_perm must be a multiple of bands")
        try:
            from datasketch import MinHash, MinHashLSH
        except ModuleNotFoundError as exc:
            raise InputError(
                "the near-duplicate filter needs the 'dataset' extra (datasketch not installed): "
                "pip install 'agentwrite[dataset]'"
            ) from exc
        self.threshold = threshold
        self._template = MinHash(num_perm, seed=seed)
        self._lsh = MinHashLSH(threshold, num_perm, params=(bands, num_perm // bands))
        self._minhashes: dict[str, MinHash] = {}

    def __len__(self) -> int:
        return len(self._minhashes)

    def _minhash(self, text: str) -> MinHash:
        minhash = self._template.copy()
        minhash.update_batch([s.encode("utf-8") for s in shingles(text)])
        return minhash

    def _best(self, minhash: MinHash) -> tuple[str | None, float]:
        best: tuple[str | None, float] = (None, 0.0)
        for doc in sorted(self._lsh.query(minhash)):
            similarity = minhash.jaccard(self._minhashes[doc])
            if similarity > best[1]:
                best = (doc, similarity)
        return best

    def check(self, text: str) -> tuple[str | None, float]:
        """The most similar document added so far (by estimate) and its similarity."""
        return self._best(self._minhash(text))

    def find(self, text: str) -> str | None:
        """The id of a near-duplicate already in the index, or None."""
        doc, similarity = self.check(text)
        return doc if similarity >= self.threshold else None

    def add(self, doc_id: str, text: str) -> tuple[str | None, float]:
        """Add a document unless it is a near-duplicate. Returns the most similar earlier
        document and the similarity; the document was added when that is below threshold."""
        minhash = self._minhash(text)
        doc, similarity = self._best(minhash)
        if similarity < self.threshold:
            if doc_id in self._minhashes:  # an id added again: its new text replaces the old
                self._lsh.remove(doc_id)
            self._lsh.insert(doc_id, minhash)
            self._minhashes[doc_id] = minhash
        return doc, similarity
