"""A tiny causal language model for training tests: 2 layers, random weights, and the bundled
model's tokenizer and chat template (so that rows tokenize as the real model's do); no hub."""

from __future__ import annotations

from pathlib import Path


def make_tiny_model(folder: Path) -> Path:
    """Write the tiny model into ``folder`` (a Hugging Face folder) and return it."""
    import torch
    from transformers import AutoTokenizer, LlamaConfig, LlamaForCausalLM

    from agentwrite.llm.bundled import bundled_model_dir

    tokenizer = AutoTokenizer.from_pretrained(str(bundled_model_dir()))
    config = LlamaConfig(
        vocab_size=len(tokenizer), hidden_size=64, intermediate_size=128, num_hidden_layers=2,
        num_attention_heads=4, num_key_value_heads=2, max_position_embeddings=4096,
        tie_word_embeddings=True, bos_token_id=1, eos_token_id=2, pad_token_id=2,
    )  # fmt: skip
    torch.manual_seed(0)
    LlamaForCausalLM(config).save_pretrained(str(folder))
    tokenizer.save_pretrained(str(folder))
    return folder
