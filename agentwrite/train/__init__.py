"""``agentwrite train``: fine-tune a model on what a build made, with TRL.

- ``recipe``: the training settings (typed, defaults in one place), from a YAML file and flags
- ``data``: a build's rows for SFT (``train.jsonl``) or DPO (``pairs.jsonl``), fitted to the length
- ``trainer``: the training itself (TRL's ``SFTTrainer`` or ``DPOTrainer``, LoRA merged back), its
  log, checkpoints and resume, and the model folder it writes
- ``card``: the model folder's ``README.md``
- the command group is ``agentwrite.cli.train``

Only ``trainer`` imports torch, transformers, TRL and PEFT (the ``train`` extra), and only when called.
"""
