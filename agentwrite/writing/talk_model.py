"""A small learned model of talk about the writing, beside the patterns of ``talk``.

The patterns find about 0.55 of the talk a person marks in text no pattern was written
against (eval/labels/README.md). This model is a logistic regression over TF-IDF character
n-grams (within words, 2 to 5) and word n-grams (1 and 2), trained by
``eval/labels/train_talk_model.py`` on the labelled sets' ``dev`` items and stored as plain
numbers in ``talk_model.json``: it runs in the core install, with no scikit-learn, and gives
the same probability as scikit-learn's pipeline that it was trained as (tested). Every
sentence of a non-talk item is a negative, every talk line a positive.

>>> model = talk_model()
>>> model.probability("Here is the rewritten version of your essay:") > model.threshold
True
>>> model.probability("The tide rises twice a day along this coast.") > model.threshold
False
"""

from __future__ import annotations

import json
import math
import re
from collections import Counter
from dataclasses import dataclass
from functools import cache
from importlib import resources

_SPACES = re.compile(r"\s\s+")
_WORD = re.compile(r"(?u)\b\w\w+\b")


def char_ngrams(text: str, low: int, high: int) -> list[str]:
    """Character n-grams inside each word padded by one space (scikit-learn's ``char_wb``).

    >>> char_ngrams("Tea is", 2, 3)
    [' t', 'te', 'ea', 'a ', ' te', 'tea', 'ea ', ' i', 'is', 's ', ' is', 'is ']
    """
    grams: list[str] = []
    for word in _SPACES.sub(" ", text.lower()).split():
        padded = f" {word} "
        for n in range(low, high + 1):
            if len(padded) < n:
                break
            grams += [padded[i : i + n] for i in range(len(padded) - n + 1)]
    return grams


def word_ngrams(text: str, low: int, high: int) -> list[str]:
    """Lower-cased words of two or more word characters, and their runs of ``low`` to ``high``.

    >>> word_ngrams("Here is a text", 1, 2)
    ['here', 'is', 'text', 'here is', 'is text']
    """
    words = _WORD.findall(text.lower())
    return [" ".join(words[i : i + n]) for n in range(low, high + 1) for i in range(len(words) - n + 1)]


@dataclass(frozen=True)
class _Part:
    """One TF-IDF block: its n-gram function, range, and each kept n-gram's idf and weight."""

    grams: str
    low: int
    high: int
    features: dict[str, tuple[float, float]]

    def score(self, text: str) -> float:
        """The block's share of the decision: sublinear TF x IDF, L2-normalised, dotted with
        the weights."""
        cut = char_ngrams if self.grams == "char" else word_ngrams
        counts = Counter(g for g in cut(text, self.low, self.high) if g in self.features)
        values = {g: (1 + math.log(c)) * self.features[g][0] for g, c in counts.items()}
        norm = math.sqrt(sum(v * v for v in values.values()))
        if not norm:
            return 0.0
        return sum(v * self.features[g][1] for g, v in values.items()) / norm


@dataclass(frozen=True)
class TalkModel:
    """The stored model: ``probability`` of talk for one sentence or line; at or above
    ``threshold`` it counts as talk."""

    parts: tuple[_Part, ...]
    intercept: float
    threshold: float

    def probability(self, sentence: str) -> float:
        z = self.intercept + sum(part.score(sentence) for part in self.parts)
        return 1 / (1 + math.exp(-z))

    def is_talk(self, sentence: str) -> bool:
        return self.probability(sentence) >= self.threshold


def load_talk_model(data: dict) -> TalkModel:
    """A model from the JSON ``eval/labels/train_talk_model.py`` writes."""
    parts = tuple(
        _Part(p["grams"], p["low"], p["high"], {g: (idf, w) for g, (idf, w) in p["features"].items()})
        for p in data["parts"]
    )
    return TalkModel(parts, data["intercept"], data["threshold"])


@cache
def talk_model() -> TalkModel:
    """The packaged model (``agentwrite/writing/talk_model.json``), loaded once."""
    text = resources.files(__package__).joinpath("talk_model.json").read_text("utf-8")
    return load_talk_model(json.loads(text))


__all__ = ["TalkModel", "char_ngrams", "load_talk_model", "talk_model", "word_ngrams"]
