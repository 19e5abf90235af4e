"""run -> score -> report on the smoke suite, with scripted models, checked against hand-computed scores."""

from __future__ import annotations

import json
import struct
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pytest

from agentwrite.errors import InputError
from agentwrite.evaluation.judge import RATINGS_SCHEMA
from agentwrite.evaluation.longbench import DIMENSIONS
from agentwrite.evaluation.predict import arun_suite
from agentwrite.evaluation.report import DPI, FIGSIZE, write_report
from agentwrite.evaluation.score import ascore_run
from agentwrite.evaluation.score_files import LengthGroup, read_scores
from agentwrite.settings import Settings
from agentwrite.testing.scripted_model import ScriptedModel
from tests.scripted import writer_model
from tests.test_eval_run import SMOKE, half_length

RATINGS = dict.fromkeys(DIMENSIONS, 4) | {"accuracy": 5}
S_Q = (5 * 75.0 + 100.0) / 6  # five dimensions at (4 - 1) * 25, accuracy at (5 - 1) * 25


def letter_counts(texts: Sequence[str]) -> np.ndarray:
    """A stand-in embedder: how often each letter a-z occurs."""
    return np.array([[t.lower().count(chr(c)) + 0.01 for c in range(97, 123)] for t in texts])


def png_size(path: Path) -> tuple[int, int]:
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    return struct.unpack(">II", data[16:24])


def judge_model() -> ScriptedModel:
    return ScriptedModel(responder=lambda messages, params: "Verdict:\n" + json.dumps(RATINGS), name="judge")


async def test_direct_run_scores_and_reports(tmp_path: Path) -> None:
    direct, agent = tmp_path / "direct", tmp_path / "agent"
    await arun_suite(
        SMOKE, direct, "direct", Settings(max_context=8192), ScriptedModel(responder=half_length)
    )
    await arun_suite(
        SMOKE, agent, "agentwrite", Settings(min_section_words=100, max_section_words=300), writer_model()
    )

    judge = judge_model()
    scores = await ascore_run(direct, judge, embed=letter_counts)
    assert scores.s_l == 50.0  # every answer has half its required length: 100 * (1 - (2 - 1) / 2)
    assert scores.s_l_by_bucket == {
        "[0,500)": LengthGroup(n=3, s_l=50.0),
        "[500,2k)": LengthGroup(n=1, s_l=50.0),
    }
    assert scores.s_l_by_language["zh"].n == 1
    assert scores.judged == 4 and scores.judge_failures == []
    assert scores.s_q == round(S_Q, 2)
    assert scores.s_q_by_dimension is not None and scores.s_q_by_dimension["accuracy"] == 100.0
    assert scores.overall == round((50.0 + S_Q) / 2, 2)
    assert judge.calls[0].params.json_schema == RATINGS_SCHEMA
    assert 0 < scores.coherence["distinct_2"] <= 1 and "brief_similarity" in scores.coherence
    for name in ("document_repeated_sentence_rate", "cross_section_repeated_sentence_rate", "gibberish_rate"):
        assert 0 <= scores.coherence[name] <= 1  # direct answers (one section) have them too
    assert read_scores(direct) == scores  # scores.json holds what ascore_run returned

    # a second scoring asks the judge nothing new
    await ascore_run(direct, judge, embed=letter_counts)
    assert len(judge.calls) == 4

    agent_scores = await ascore_run(agent, judge_model(), embed=None)
    assert agent_scores.plan_adherence["heading_match"] == 1.0
    assert agent_scores.coherence["section_count"] >= 1
    items = [json.loads(line) for line in (agent / "item_scores.jsonl").read_text().splitlines()]
    assert all(item["coherence"]["section_count"] == len(item["coherence"]["sections"]) for item in items)

    report = write_report([direct, agent], tmp_path / "report")
    text = report.read_text("utf-8")
    assert "| | direct | agent |" in text and "| **S_l** | 50.00 |" in text
    assert "| agent mode | – | sequential |" in text
    rows = [line.split(" | ")[0].lstrip("| ") for line in text.splitlines() if line.startswith("| ")]
    assert rows[rows.index("**S_l**") + 1 : rows.index("**S_l**") + 6] == [
        "repeated sentences (document)",
        "repeated sentences (across sections)",
        "repeated 4-grams",
        "distinct-2",
        "gibberish",
    ]


def test_the_report_reads_scores_from_before_the_new_figures(tmp_path: Path) -> None:
    run = tmp_path / "old"
    run.mkdir()
    old = {"repeated_sentence_rate": 0.415, "repeated_4gram_rate": 0.857, "distinct_2": 0.167}
    scores = {
        "run": {"target": "agentwrite", "mode": "sequential"},
        "items": 1,
        "failed_items": 0,
        "s_l": 91.6,
        "s_l_failures_as_zero": 91.6,
        "s_l_by_bucket": {"[0,500)": {"n": 1, "s_l": 91.6}},
        "s_l_by_type": {"essay": {"n": 1, "s_l": 91.6}},
        "s_l_by_language": {"en": {"n": 1, "s_l": 91.6}},
        "coherence": old,
        "plan_adherence": {},
        "run_failures": [],
    }
    (run / "scores.json").write_text(json.dumps(scores))
    item = {
        "key": "k",
        "type": "essay",
        "length": 300,
        "response_length": 280,
        "s_l": 91.6,
        "bucket": "[0,500)",
    }
    (run / "item_scores.jsonl").write_text(json.dumps(item) + "\n")
    text = write_report([run], tmp_path / "report").read_text("utf-8")
    assert "| repeated sentences (document) | – |" in text  # not measured then
    assert "| repeated sentences (across sections) | 0.415 |" in text  # the old name, read as the new
    assert "| gibberish | – |" in text and "| distinct-2 | 0.167 |" in text
    assert "repeated_sentence_rate" not in text
    for name in ("length", "s_l_by_bucket", "s_l_by_type", "coherence_by_position"):
        png = tmp_path / "report" / f"{name}.png"
        assert png.stat().st_size > 1000
        assert png_size(png) == (FIGSIZE[0] * DPI, FIGSIZE[1] * DPI)
        assert f"({name}.png)" in text


async def test_judge_failures_are_recorded_not_invented(tmp_path: Path) -> None:
    await arun_suite(
        SMOKE, tmp_path, "direct", Settings(max_context=8192), ScriptedModel(responder=half_length)
    )
    bad_for_cat = ScriptedModel(
        responder=lambda messages, params: (
            '{"relevance": 7}' if "cat who learns" in messages[0]["content"] else json.dumps(RATINGS)
        )
    )
    scores = await ascore_run(tmp_path, bad_for_cat, attempts=2)
    assert scores.judged == 3
    [failure] = scores.judge_failures or []
    assert "relevance is 7" in failure.reason
    assert scores.s_q == round(S_Q, 2)


async def test_longbench_write_prediction_files_score_as_they_are(tmp_path: Path) -> None:
    rows = [
        {"prompt": "Write a 1000-word essay", "type": "Academic", "length": 1000, "response_length": 1300},
        {"prompt": "写一篇500字的文章", "type": "科普", "length": 500, "response_length": 250},
    ]
    path = tmp_path / "pred.jsonl"
    path.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in rows) + "\n", "utf-8")
    scores = await ascore_run(path)
    assert scores.s_l == (90.0 + 50.0) / 2  # 1 - 0.3/3 and 1 - (2 - 1)/2
    assert scores.s_l_by_type == {"Academic": LengthGroup(n=1, s_l=90.0), "科普": LengthGroup(n=1, s_l=50.0)}
    written = json.loads((tmp_path / "scores.json").read_text("utf-8"))
    assert "judge" not in written and "s_q" not in written  # no judge: no judge fields at all


async def test_report_needs_scores(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="eval score"):
        write_report([tmp_path], tmp_path / "report")
    (tmp_path / "scores.json").write_text('{"items": 1}')
    with pytest.raises(InputError, match="not a scores file: run: Field required"):
        write_report([tmp_path], tmp_path / "report")
