"""``agentwrite train sft|dpo``: a few real TRL steps on a tiny random model with the bundled
tokenizer, the model folder it writes (loaded and run by transformers), the completion-only
labels, resuming from a checkpoint, and bad input."""

from __future__ import annotations

import importlib.util
import json
import math
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from agentwrite.cli import app
from agentwrite.errors import InputError
from agentwrite.files import read_jsonl
from agentwrite.llm.vllm_server import resolve_model
from agentwrite.train.data import build_rows
from agentwrite.train.recipe import TrainRecipe
from agentwrite.train.trainer import CHECKPOINTS, LOG_FILE, RECIPE_FILE, TrainStep, make_trainer, train
from tests.tiny_model import make_tiny_model

LONG_ID = "doc-long"
FAST = ["--batch-size", "2", "--gradient-accumulation", "1", "--no-gradient-checkpointing", "--quiet"]


@pytest.fixture(scope="module")
def tiny_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A 2-layer Llama with random weights and the bundled model's tokenizer and chat template."""
    return make_tiny_model(tmp_path_factory.mktemp("models") / "tiny")


def write_build(folder: Path, *, pairs: bool = True, kept: int = 5) -> Path:
    """A build folder as ``dataset build --pairs`` leaves it: ``kept`` short examples and one long
    one in train.jsonl, a rejected instruction, and a section pair per kept instruction (the long
    one's long too)."""
    folder.mkdir(parents=True)
    ids = [f"doc-{i}" for i in range(kept)] + [LONG_ID]
    meta = [{"id": i, "status": "accepted", "model": "m"} for i in ids]
    meta.append({"id": "doc-rejected", "status": "rejected", "reason": "too short", "model": "m"})
    train_rows = [
        {"messages": [
            {"role": "user", "content": f"Write a short note on tea, number {i}."},
            {"role": "assistant", "content": "Tea grows on misty hills. " * (300 if i == LONG_ID else 4)},
        ]}
        for i in ids
    ]  # fmt: skip
    lines = {"meta.jsonl": meta, "train.jsonl": train_rows}
    if pairs:
        lines["pairs.jsonl"] = [
            {"id": f"{i}#s1", "instruction_id": i, "kind": "section",
             "prompt": [{"role": "system", "content": "You write long documents."},
                        {"role": "user", "content": f"Write section 1 of a note on tea, number {i}."}],
             "chosen": "Tea grows on misty hills and is picked by hand. " * (60 if i == LONG_ID else 1),
             "rejected": "Here is the rewritten version of the text you asked for.",
             "chosen_scores": {"combined": 0.9, "talk": 0}, "rejected_scores": {"combined": 0.3, "talk": 2},
             "margin": 0.6, "separated_by": ["talk"]}
            for i in ids
        ]  # fmt: skip
    for name, records in lines.items():
        (folder / name).write_text("".join(json.dumps(r) + "\n" for r in records), "utf-8")
    return folder


def invoke(*args: str) -> Any:
    return CliRunner().invoke(app, ["train", *args])


def one_line(result: Any) -> str:
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("agentwrite: error:"), result.stderr
    return lines[0]


def steps_of(out: Path) -> list[dict[str, Any]]:
    return [r for r in read_jsonl(out / LOG_FILE) if r["event"] == "step"]


def check_model_folder(out: Path, base: Path) -> None:
    """transformers loads the folder and generates from a chat prompt; the weights moved; the
    tokenizer and chat template are the base's; vLLM's launcher accepts the folder."""
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    model = AutoModelForCausalLM.from_pretrained(str(out))
    tokenizer = AutoTokenizer.from_pretrained(str(out))
    assert tokenizer.chat_template == AutoTokenizer.from_pretrained(str(base)).chat_template
    prompt = tokenizer.apply_chat_template(
        [{"role": "user", "content": "Tea?"}],
        add_generation_prompt=True,
        return_tensors="pt",
        return_dict=True,
    )
    generated = model.generate(**prompt, max_new_tokens=4, do_sample=False)
    assert generated.shape[1] == prompt["input_ids"].shape[1] + 4
    before = AutoModelForCausalLM.from_pretrained(str(base)).state_dict()
    after = model.state_dict()
    assert set(after) == set(before)  # LoRA merged in: no adapter weights left
    assert any(not torch.equal(after[k], before[k]) for k in before)
    assert resolve_model(str(out)) == (out.resolve(), out.name)
    assert not (out / CHECKPOINTS).exists() and not [p for p in out.iterdir() if p.name.startswith(".")]


@pytest.mark.slow
@pytest.mark.parametrize("method", ["sft", "dpo"])
def test_training_runs_a_few_steps_and_writes_a_model_folder(
    tiny_model: Path, tmp_path: Path, method: str
) -> None:
    build, out = write_build(tmp_path / "build"), tmp_path / method
    result = invoke(method, str(build), "--model", str(tiny_model), "--out", str(out), "--max-steps", "2",
                    "--max-length", "128", "--learning-rate", "1e-3", *FAST)  # fmt: skip
    assert result.exit_code == 0, result.output
    steps = steps_of(out)
    assert [s["step"] for s in steps] == [1, 2]
    assert all(math.isfinite(s["loss"]) and s["learning_rate"] > 0 for s in steps)
    assert 0 < steps[0]["tokens"] < steps[1]["tokens"]
    if method == "dpo":
        assert all("rewards/margins" in s for s in steps)
        assert steps[0]["loss"] == pytest.approx(math.log(2), abs=1e-3)  # policy == reference at first
        assert "beta: 0.1" in (out / RECIPE_FILE).read_text()
    data = read_jsonl(out / LOG_FILE)[0]
    long_row = LONG_ID if method == "sft" else f"{LONG_ID}#s1"
    assert (data["method"], data["rows"], data["kept"], data["skipped_ids"]) == (method, 6, 5, [long_row])
    assert f"1 skipped as longer than max_length 128 tokens: {long_row}." in (out / "README.md").read_text()
    assert "1 skipped as too long" in result.stderr
    check_model_folder(out, tiny_model)


def test_the_completion_only_labels_are_exactly_the_answer_tokens(tiny_model: Path, tmp_path: Path) -> None:
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(str(tiny_model))
    rows = build_rows("sft", write_build(tmp_path / "build", pairs=False, kept=2))[:2]
    for only in (True, False):
        recipe = TrainRecipe(completion_only_loss=only, gradient_checkpointing=False).resolved("sft")
        trainer = make_trainer("sft", tiny_model, rows, tokenizer, recipe, "cpu", tmp_path / f"c{only}")
        batch = trainer.data_collator([trainer.train_dataset[i] for i in range(2)])
        for row, ids, labels in zip(rows, batch["input_ids"].tolist(), batch["labels"].tolist(), strict=True):
            whole = tokenizer.apply_chat_template(row["prompt"] + row["completion"], return_dict=True)[
                "input_ids"
            ]
            prompt = tokenizer.apply_chat_template(
                row["prompt"], add_generation_prompt=True, return_dict=True
            )
            start = len(prompt["input_ids"]) if only else 0
            assert ids[: len(whole)] == whole
            assert labels[: len(whole)] == [-100] * start + whole[start:]
            assert set(labels[len(whole) :]) <= {-100}  # padding
            if only:
                answer = [t for t in labels if t != -100]
                assert tokenizer.decode(answer) == row["completion"][0]["content"] + "<|im_end|>\n"


@pytest.mark.slow
def test_an_interrupted_run_resumes_from_its_last_checkpoint(tiny_model: Path, tmp_path: Path) -> None:
    build, out = write_build(tmp_path / "build", pairs=False), tmp_path / "out"
    recipe = TrainRecipe(max_steps=4, save_steps=2, batch_size=2, gradient_accumulation=1,
                         gradient_checkpointing=False, max_length=128)  # fmt: skip

    def stop_at_three(step: TrainStep) -> None:
        if step.step == 3:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        train("sft", build, str(tiny_model), out, recipe, on_step=stop_at_three)
    assert (out / CHECKPOINTS / "checkpoint-2").is_dir() and [s["step"] for s in steps_of(out)] == [1, 2, 3]
    assert not (out / "config.json").exists()
    with pytest.raises(InputError, match="not empty: --resume"):
        train("sft", build, str(tiny_model), out, recipe)
    with pytest.raises(InputError, match=r"another recipe\.seed"):
        train("sft", build, str(tiny_model), out, recipe.model_copy(update={"seed": 1}), resume=True)
    seen: list[int] = []
    result = train(
        "sft", build, str(tiny_model), out, recipe, resume=True, on_step=lambda s: seen.append(s.step)
    )
    assert seen == [3, 4] and result.steps == 4
    log = read_jsonl(out / LOG_FILE)
    assert [r["event"] for r in log] == ["data", "step", "step", "resume", "step", "step", "done"]
    assert log[3] == {"event": "resume", "from_step": 2}
    assert (out / "config.json").is_file() and not (out / CHECKPOINTS).exists()


def test_bad_input_is_one_line_exit_2_and_writes_nothing(
    tiny_model: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import torch

    build = write_build(tmp_path / "build")
    nothing_kept = write_build(tmp_path / "none", pairs=False, kept=0)
    (nothing_kept / "meta.jsonl").write_text('{"id": "x", "status": "rejected", "reason": "too short"}\n')
    (nothing_kept / "train.jsonl").write_text("")
    taken = tmp_path / "taken"
    taken.mkdir()
    (taken / "notes.txt").write_text("mine")
    (tmp_path / "recipe.yaml").write_text("lora_rnak: 4\n")
    out = str(tmp_path / "out")
    model = ["--model", str(tiny_model)]
    cases: dict[tuple[str, ...], str] = {
        ("sft", str(tmp_path / "nowhere"), "--out", out, *model): "holds no meta.jsonl",
        ("sft", str(nothing_kept), "--out", out, *model): "kept no examples: nothing to train on",
        ("dpo", str(nothing_kept), "--out", out, *model): "has no preference pairs",
        ("sft", str(build), "--out", out, *model, "--max-length", "16"): "no row of",
        ("sft", str(build), "--out", out, *model, "--max-length", "128", "--too-long", "fail"): "doc-long",
        ("sft", str(build), "--out", out, *model, "--lora-rank", "0"): "lora_rank",
        ("sft", str(build), "--out", out, *model, "--recipe", str(tmp_path / "recipe.yaml")): "lora_rnak",
        ("sft", str(build), "--out", str(taken), *model): "not empty",
        ("sft", str(build), "--out", out, "--model", str(tmp_path)): "not a local Hugging Face model folder",
    }
    if not torch.cuda.is_available():
        cases[("sft", str(build), "--out", out, *model, "--device", "cuda")] = "sees no CUDA GPU"
    for args, message in cases.items():
        result = invoke(*args)
        assert result.exit_code == 2 and message in one_line(result), (args, result.output)
    real = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util, "find_spec", lambda name, package=None: None if name == "trl" else real(name, package)
    )
    result = invoke("sft", str(build), "--out", out, *model)
    assert result.exit_code == 2 and "pip install 'agentwrite[train]'" in one_line(result)
    assert "trl not installed" in result.stderr
    assert not Path(out).exists() and [p.name for p in taken.iterdir()] == ["notes.txt"]


def test_an_interrupt_says_how_to_resume(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import agentwrite.train.trainer

    out = tmp_path / "out"

    def interrupted(*args: Any, **kwargs: Any) -> None:
        out.mkdir()
        (out / RECIPE_FILE).write_text("method: sft\n")
        raise KeyboardInterrupt

    monkeypatch.setattr(agentwrite.train.trainer, "train", interrupted)
    result = invoke("sft", str(tmp_path), "--out", str(out), "--quiet")
    assert result.exit_code == 130
    said = result.stderr.strip()
    assert said == f"agentwrite: interrupted; the same command with --resume continues in {out}"
