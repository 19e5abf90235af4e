"""Train the talk model (``agentwrite/writing/talk_model.py``) on the labelled sets' dev items.

    .venv/bin/python eval/labels/train_talk_model.py            # writes agentwrite/writing/talk_model.json
    .venv/bin/python eval/labels/train_talk_model.py --cv       # grouped cross-validation only

Training items: the ``dev`` half of ``brief_checks.jsonl`` and the first two fresh sets (their
held-out scoring is done; eval/labels/README.md). Never the ``held`` half, ``fresh3`` or later
sets: those are what the model is scored on. Every sentence (``sentence_spans``) of a non-talk
item is a negative; a talk item is a positive when it is one line or one sentence (a talk
paragraph does not say which of its sentences is talk, so it is left out). The labelled
text is all the bundled model's, so clean prose is added as negatives: the sentences of half
of the Python reference's topics (``pydoc_data.topics``, every Python has it; the half is
chosen by a hash of the topic's name). The other half measures how often the model calls
clean prose talk (``--cv`` prints it).

The settings (``C``, the threshold) were chosen by five-fold cross-validation over the
training items grouped by brief (``--cv`` prints it): the threshold is the lowest whose
cross-validated precision is at least 0.9. Needs scikit-learn (in the ``eval`` extra); the
written model does not.
"""

from __future__ import annotations

import argparse
import hashlib
import json
from pathlib import Path
from typing import Any

from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GroupKFold
from sklearn.pipeline import Pipeline, make_pipeline, make_union

from agentwrite.text_stats import sentence_spans

try:
    from pydoc_data.topics import topics as PYDOC_TOPICS
except ImportError:  # some distributions leave it out
    PYDOC_TOPICS = {}

LABELS = Path(__file__).resolve().parent
OUT = LABELS.parent.parent / "agentwrite" / "writing" / "talk_model.json"
TRAIN = (
    ("brief_checks.jsonl", "dev"),
    ("brief_checks_fresh.jsonl", "fresh"),
    ("brief_checks_fresh2.jsonl", "fresh2"),
)
C = 8.0
THRESHOLD = 0.5
CHAR, WORD = (2, 5), (1, 2)


def training_items() -> list[dict[str, Any]]:
    items = []
    for name, split in TRAIN:
        for line in (LABELS / name).read_text("utf-8").splitlines():
            row = json.loads(line)
            if row["split"] == split and row["talk"] is not None:
                items.append(row)
    return items


def sentences(text: str) -> list[str]:
    """``text``'s sentences and lines, as the writer's checks see them."""
    cut = [text[a:b].strip() for a, b in sentence_spans(text)]
    return [s for s in cut if s] or [text.strip()]


def examples(items: list[dict[str, Any]], clean: list[str]) -> tuple[list[str], list[bool]]:
    """Sentences and their labels: the labelled ``items``' (see the module's docstring), then
    the ``clean`` sentences as negatives."""
    texts: list[str] = list(clean)
    labels: list[bool] = [False] * len(clean)
    for item in items:
        parts = sentences(item["text"])
        if not item["talk"]:
            texts += parts
            labels += [False] * len(parts)
        elif item["unit"] == "line" or len(parts) == 1:
            texts.append(item["text"].strip())
            labels.append(True)
    return texts, labels


def clean_prose(half: int) -> list[str]:
    """Sentences of at least four words from the prose paragraphs of half of the Python
    reference's topics (``half`` 0 for training, 1 for measuring)."""
    out: list[str] = []
    for name, topic in sorted(PYDOC_TOPICS.items()):
        if hashlib.sha256(name.encode()).digest()[0] % 2 != half:
            continue
        for paragraph in topic.split("\n\n"):
            if paragraph.startswith("   ") or len(paragraph.split()) < 8:
                continue  # code, grammar rules, headings
            flat = " ".join(paragraph.split())
            out += [s for s in sentences(flat) if len(s.split()) >= 4]
    return sorted(set(out))


def pipeline(c: float = C) -> Pipeline:
    features = make_union(
        TfidfVectorizer(analyzer="char_wb", ngram_range=CHAR, min_df=2, sublinear_tf=True),
        TfidfVectorizer(analyzer="word", ngram_range=WORD, sublinear_tf=True),
    )
    return make_pipeline(features, LogisticRegression(C=c, max_iter=5000, class_weight="balanced"))


def item_talk(model: Pipeline, text: str, threshold: float) -> bool:
    """An item is caught when any of its sentences is."""
    return max(model.predict_proba(sentences(text))[:, 1]) >= threshold


def cross_validate(items: list[dict[str, Any]]) -> None:
    """Five folds grouped by brief: precision and recall over the held-out folds' items, and
    the share of the measuring half of the clean prose each fold's model calls talk."""
    groups = [item["brief"] for item in items]
    clean, unseen = clean_prose(0), clean_prose(1)
    thresholds = (0.4, 0.45, 0.5, 0.55, 0.6, 0.65, 0.7, 0.75, 0.8)
    for c in (1.0, 2.0, 4.0, 8.0):
        caught = {t: [False] * len(items) for t in thresholds}
        flagged = dict.fromkeys(thresholds, 0)
        for train, test in GroupKFold(5).split(items, groups=groups):
            model = pipeline(c).fit(*examples([items[k] for k in train], clean))
            for k in test:
                p = max(model.predict_proba(sentences(items[k]["text"]))[:, 1])
                for t in thresholds:
                    caught[t][k] = p >= t
            probabilities = model.predict_proba(unseen)[:, 1]
            for t in thresholds:
                flagged[t] += int((probabilities >= t).sum())
        for t in thresholds:
            pairs = list(zip(caught[t], (item["talk"] for item in items), strict=True))
            hits = sum(p and g for p, g in pairs)
            precision = hits / max(1, sum(p for p, _ in pairs))
            recall = hits / max(1, sum(g for _, g in pairs))
            print(
                f"C {c:g} threshold {t:.2f}: precision {precision:.3f} recall {recall:.3f}, "
                f"clean prose called talk {flagged[t] / (5 * len(unseen)):.4f}"
            )


def stored(model: Pipeline) -> dict[str, Any]:
    """The fitted pipeline as plain numbers: each block's kept n-grams with idf and weight."""
    union, regression = model.steps[0][1], model.steps[1][1]
    weights = regression.coef_[0]
    parts, offset = [], 0
    for (_, vectorizer), (low, high) in zip(union.transformer_list, (CHAR, WORD), strict=True):
        vocabulary = vectorizer.vocabulary_
        features = {
            gram: [round(float(vectorizer.idf_[i]), 6), round(float(weights[offset + i]), 6)]
            for gram, i in sorted(vocabulary.items())
        }
        parts.append(
            {"grams": "char" if vectorizer.analyzer == "char_wb" else "word", "low": low, "high": high,
             "features": features}
        )  # fmt: skip
        offset += len(vocabulary)
    return {
        "trained_on": [f"{name} ({split})" for name, split in TRAIN],
        "c": C,
        "threshold": THRESHOLD,
        "intercept": round(float(regression.intercept_[0]), 6),
        "parts": parts,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cv", action="store_true", help="print the cross-validation, write nothing")
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args()
    items = training_items()
    texts, labels = examples(items, clean_prose(0))
    print(f"{len(items)} items and clean prose: {len(texts)} sentences, {sum(labels)} of them talk")
    if args.cv:
        cross_validate(items)
        return 0
    model = pipeline().fit(texts, labels)
    args.out.write_text(json.dumps(stored(model), ensure_ascii=False, separators=(",", ":")) + "\n", "utf-8")
    print(f"wrote {args.out} ({args.out.stat().st_size:,} bytes)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
