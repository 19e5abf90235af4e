"""The learned talk model: the same probabilities as the scikit-learn pipeline it was trained
as, clean writing left alone, and the patterns-only switch."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType

import pytest

from agentwrite.writing.checks import SectionChecks, remove_talk
from agentwrite.writing.talk import sentence_talk, talk_kind, talk_spans
from agentwrite.writing.talk_model import load_talk_model
from agentwrite.writing.topic import LexicalScorer

TRAINER = Path(__file__).resolve().parents[1] / "eval" / "labels" / "train_talk_model.py"

CLEAN = (
    # Written for this test before the packaged model saw them: sentences of the kinds the
    # briefs ask for (guides, reports, letters, stories), some with words the bundled model's
    # talk is full of ("section", "next", "original", "continue", "steps", "here").
    "Step 2: Clean the coop and lay fresh straw before the first frost.",
    "Chickens need unfrozen water every morning, so a heated base is worth the cost.",
    "The next section of the coast path climbs steeply towards the old tin mine.",
    "The original station building was restored by volunteers in 1998.",
    "Please continue to check the water level each morning until the thaw.",
    "Waiting times in the emergency department rose by a third over two winters.",
    "The board should fund two more triage nurses for the evening shift.",
    "Dear Lucy, I still remember the morning you learned to ride a bicycle.",
    "Here the river bends west, and the village appears between the pines.",
    "In this report we compare three ways of sharing staff between wards.",
    "The piano had not been tuned since the school closed in 1987.",
    "Solar panels turn sunlight into direct current, which an inverter changes to alternating current.",
    "老街的石板路在梅雨里发亮，屋檐下挂着一排排油纸伞。",
    "食堂每天剩下的米饭大约有二十公斤。",
    "出发前，请先和医生确认老人能否长时间坐车。",
    "邮递员每天清晨五点出门，翻过两座山才到村口。",
)


def trainer() -> ModuleType:
    spec = importlib.util.spec_from_file_location("train_talk_model", TRAINER)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_stored_model_gives_the_probabilities_of_the_pipeline_it_was_trained_as() -> None:
    pytest.importorskip("sklearn")
    train = trainer()
    texts = [
        "Here is the rewritten version of your text:",
        "I hope this helps with your essay!",
        "Section 4 of 10 (about 300 words)",
        "以下是文章的第二部分：",
        "The tide rises twice a day.",
        "Feed the starter rye flour every morning.",
        "潮水每天涨落两次。",
        "The lighthouse keeper climbed 120 steps.",
    ] * 2
    labels = [True] * 4 + [False] * 4
    pipeline = train.pipeline(1.0).fit(texts, labels * 2)
    mine = load_talk_model(train.stored(pipeline))
    probe = [*texts[:8], "Here is the tide table.", "Write about the keeper", "", "   "]
    expected = pipeline.predict_proba(probe)[:, 1]
    assert [round(mine.probability(t), 4) for t in probe] == [round(float(p), 4) for p in expected]


@pytest.mark.parametrize("sentence", CLEAN)
def test_the_patterns_call_no_clean_sentence_talk(sentence: str) -> None:
    assert sentence_talk(sentence) is None


def test_the_learned_model_calls_two_of_sixteen_clean_sentences_talk() -> None:
    """Why it is off by default: "The next section of the coast path..." (0.60) and "Dear Lucy,
    I still remember..." (0.69) are talk to the model as trained at its threshold of 0.5."""
    flagged = [s for s in CLEAN if sentence_talk(s, learned=True)]
    assert len(flagged) <= 2, flagged


def test_patterns_only_unless_the_learned_model_is_asked_for() -> None:
    text = (
        "The keeper lit the lamp at dusk.\nTo help you thrive, please send us more documents like this one.\n"
    )
    line = text.splitlines()[1]
    assert (
        talk_kind(line) is None
        and sentence_talk(line) is None
        and sentence_talk(line, learned=True) == "learned"
    )
    assert talk_spans(text) == [] and [t.kind for t in talk_spans(text, learned=True)] == ["learned"]
    assert remove_talk(text, learned=True)[0] == "The keeper lit the lamp at dusk."
    assert remove_talk(text)[1] == 0
    checks = SectionChecks("Write about a lighthouse keeper", "The lamp", LexicalScorer(), min_on_topic=0.5)
    assert checks.judge(line) is None
    checks.learned_talk = True
    assert checks.judge(line) is not None
