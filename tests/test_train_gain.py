"""``eval/train_gain.py`` end to end at a tiny scale: loopback fake servers for the build and the
two baseline runs, a real (tiny) training in between. It checks the plumbing, not a gain: the
"after" server is a fake that is handed the trained model's folder, not the model itself."""

from __future__ import annotations

import contextlib
import importlib.util
import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from agentwrite.testing.openai_server import OpenAIServer
from tests.tiny_model import make_tiny_model

SCRIPT = Path(__file__).resolve().parent.parent / "eval" / "train_gain.py"
SUITE = [  # the fake answers a direct request with about 2,400 words
    {"prompt": "Write a 2000-word letter to a landlord about a leaking bathroom ceiling.", "type": "letter",
     "length": 2000},
    {"prompt": "写一篇2000字的短文，介绍如何在阳台上种植薄荷。", "type": "science", "length": 2000},
]  # fmt: skip
INSTRUCTIONS = [  # 600 words: the build's default filters keep no document under 500
    {"id": "near", "prompt": "Write a 600-word letter to a landlord about a leaking bathroom ceiling."},
    {"id": "en-1", "prompt": "Write a 600-word note on how to brew green tea at home."},
    {"id": "en-2", "prompt": "Write a 600-word note on the history of the bicycle."},
    {"id": "long", "prompt": "Write a 5000-word guide to the Faroe Islands."},
    {"id": "zh-1", "prompt": "写一篇600字的短文，介绍江南水乡的早晨。"},
]
RECIPE = (
    "max_steps: 1\nmax_length: 4096\nbatch_size: 1\ngradient_accumulation: 1\ngradient_checkpointing: false\n"
)


def load_script():  # type: ignore[no-untyped-def]
    spec = importlib.util.spec_from_file_location("train_gain", SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.slow
@pytest.mark.parametrize("method", ["sft", "dpo"])
def test_train_gain_builds_measures_trains_and_measures_again(method: str, tmp_path: Path) -> None:
    gain = load_script()
    for name, rows in (("suite.jsonl", SUITE), ("instructions.jsonl", INSTRUCTIONS)):
        (tmp_path / name).write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), "utf-8")
    (tmp_path / "recipe.yaml").write_text(RECIPE)
    base = make_tiny_model(tmp_path / "tiny")
    served: list[str] = []

    with (
        OpenAIServer(max_model_len=4096) as writer,
        OpenAIServer(max_model_len=4096, models=("trained",)) as after,
    ):

        @contextlib.contextmanager
        def serve(model: str) -> Iterator[tuple[str, str]]:
            served.append(model)
            yield after.base_url, "trained"

        figures = gain.measure_gain(
            out=tmp_path / "out", n=3, max_words=800, method=method, model=str(base),
            recipe_path=tmp_path / "recipe.yaml", serve_base=gain.given_server(writer.base_url, "test-model"),
            serve=serve, suite=tmp_path / "suite.jsonl", instructions=tmp_path / "instructions.jsonl",
        )  # fmt: skip
        assert len(after.completion_requests()) == len(
            SUITE
        )  # the after run asked the trained model's server

    assert figures["instructions"] == [
        "en-1",
        "zh-1",
        "en-2",
    ]  # no near copy of a suite prompt, none too long
    assert served == [str(tmp_path / "out" / "model")]
    assert (tmp_path / "out" / "model" / "config.json").is_file()
    # dpo: each kept document against the fake's one-request answer, too long for 600 words
    rows = figures["build"]["accepted"] if method == "sft" else figures["build"]["pairs"]
    assert figures["training"]["rows"] == rows > 0 and figures["training"]["steps"] == 1
    assert figures["build"]["pairs"] == (0 if method == "sft" else figures["build"]["accepted"])
    for side in ("before", "after"):
        assert (
            figures[side]["answers"] == 2 and figures[side]["language_match"] == 0.5
        )  # the fake writes English
        assert 80 < figures[side]["s_l"] < 100 and figures[side]["brief_similarity"] is None
    assert json.loads((tmp_path / "out" / "gain.json").read_text()) == figures
    table = gain.table(figures)
    assert table.splitlines()[2].startswith("| before | ") and table.splitlines()[3].startswith("| after | ")
    assert f"{method} on" in table and "1 steps" in table
