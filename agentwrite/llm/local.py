"""An in-process model: transformers on the CPU, behind the same protocol as the HTTP client.

It is what runs when no server is configured. Requests that arrive while the model is idle, or
while it is busy with an earlier batch, are padded into one ``generate`` call (up to
``max_batch`` of them, when their sampling settings agree), so parallel sections share the work.
Generation runs in a worker thread; the event loop stays free.

Per-request limits inside a batch: a logits processor keeps each row's end-of-text token away
until its ``min_tokens`` and forces it at its ``max_tokens``, so every request gets its own
limits and its own finish reason (``"length"`` when it hit ``max_tokens``, else ``"stop"``).

Structured output is not enforced here: ``json_schema`` is ignored, and a reply that does not
parse is handled by the planner's retries and its line-format fallback.
"""

from __future__ import annotations

import asyncio
import json
import logging
import threading
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from agentwrite.domain import Usage
from agentwrite.errors import InputError, ModelError
from agentwrite.llm.base import Capabilities, Completion, GenerationParams, Message
from agentwrite.llm.bundled import BUNDLED_ALIASES, BUNDLED_MODEL_NAME

if TYPE_CHECKING:
    import torch

    from agentwrite.settings import Settings

log = logging.getLogger(__name__)

DEFAULT_MAX_BATCH = 8


@dataclass(eq=False)
class _Request:
    messages: list[Message]
    params: GenerationParams
    future: asyncio.Future[Completion]

    @property
    def batch_key(self) -> tuple[object, ...]:
        """Requests batch together when they sample alike (one ``generate`` call, one sampler)."""
        p = self.params
        return (p.temperature, p.top_p, p.min_p, p.repetition_penalty, p.seed)


class LocalModel:
    """A ``ChatModel`` that runs a Hugging Face model folder in this process.

    ``model_dir`` defaults to the bundled model (converted on first use); the weights load on
    the first request, in the worker thread. It samples with temperature, top_p, min_p and
    repetition_penalty (transformers has no frequency or presence penalty, and answers are
    not streamed: the section writer checks them for loops whole).
    """

    def __init__(
        self,
        model_dir: Path | None = None,
        *,
        name: str | None = None,
        max_batch: int = DEFAULT_MAX_BATCH,
    ) -> None:
        if max_batch < 1:
            raise InputError("max_batch must be at least 1")
        self._model_dir = model_dir
        self._name = name or (model_dir.name if model_dir is not None else BUNDLED_MODEL_NAME)
        self.max_batch = max_batch
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="agentwrite-local")
        self._load_lock = threading.Lock()
        self._model: Any = None
        self._tokenizer: Any = None
        self._counter: Any = None  # a tokenizer of its own for count_tokens, off the worker thread
        self._pending: list[_Request] = []
        self._drainer: asyncio.Task[None] | None = None
        self.batch_sizes: list[int] = []
        """Sizes of the batches run so far, oldest first (for tests and measurements)."""

    @classmethod
    def from_settings(cls, settings: Settings) -> LocalModel:
        """The bundled model, or the local folder named by ``settings.model``."""
        if settings.model in BUNDLED_ALIASES:
            return cls()
        folder = Path(settings.model).expanduser()  # type: ignore[arg-type]
        if not (folder / "config.json").is_file():
            raise InputError(
                f"model {settings.model!r} is not a local model folder; without a base URL only the "
                "bundled model or a local Hugging Face folder can run in process"
            )
        return cls(folder)

    capabilities = Capabilities(structured_output=False, streaming_watch=False, tokenize=True)
    """``json_schema`` is not enforced (see the module docstring), nor is ``watch`` called."""

    @property
    def name(self) -> str:
        return self._name

    async def context_window(self) -> int | None:
        """The model's context length in tokens, from its ``config.json`` (the bundled model is
        converted first if it has not been yet)."""
        from agentwrite.llm.bundled import bundled_model_dir

        folder = self._model_dir or bundled_model_dir()
        try:
            config = json.loads((folder / "config.json").read_text("utf-8"))
        except (OSError, ValueError):
            return None
        value = config.get("max_position_embeddings")
        return value if isinstance(value, int) else None

    async def count_tokens(self, messages: list[Message]) -> int | None:
        """The prompt's size through the model's own chat template (its tokenizer is loaded on
        the first call; counting takes milliseconds, so it runs in the caller's thread)."""
        if self._counter is None:
            from transformers import AutoTokenizer

            from agentwrite.llm.bundled import bundled_model_dir

            self._counter = AutoTokenizer.from_pretrained(self._model_dir or bundled_model_dir())
        return len(_prompt_ids(self._counter, messages))

    async def complete(self, messages: list[Message], params: GenerationParams) -> Completion:
        if params.max_tokens < 1:
            raise InputError("max_tokens must be at least 1")
        loop = asyncio.get_running_loop()
        request = _Request(list(messages), params, loop.create_future())
        self._pending.append(request)
        if self._drainer is None or self._drainer.done():
            self._drainer = loop.create_task(self._drain())
        return await request.future

    async def _drain(self) -> None:
        loop = asyncio.get_running_loop()
        while self._pending:
            key = self._pending[0].batch_key
            batch = [r for r in self._pending if r.batch_key == key][: self.max_batch]
            self._pending = [r for r in self._pending if r not in batch]
            batch = [r for r in batch if not r.future.done()]  # a caller may have given up
            if not batch:
                continue
            self.batch_sizes.append(len(batch))
            try:
                results = await loop.run_in_executor(
                    self._executor, self._generate, [r.messages for r in batch], [r.params for r in batch]
                )
            except Exception as exc:
                error = exc if isinstance(exc, ModelError) else ModelError(f"local generation failed: {exc}")
                for r in batch:
                    if not r.future.done():
                        r.future.set_exception(error)
                continue
            for r, result in zip(batch, results, strict=True):
                if r.future.done():
                    continue
                if isinstance(result, ModelError):
                    r.future.set_exception(result)
                else:
                    r.future.set_result(result)

    def _load(self) -> tuple[Any, Any]:
        with self._load_lock:
            if self._model is None:
                import torch
                from transformers import AutoModelForCausalLM, AutoTokenizer

                from agentwrite.llm.bundled import bundled_model_dir

                folder = self._model_dir or bundled_model_dir()
                log.info("loading %s in process", folder)
                self._tokenizer = AutoTokenizer.from_pretrained(folder)
                # fp32: CPUs without bf16 matrix instructions run it faster than bf16.
                model = AutoModelForCausalLM.from_pretrained(folder, dtype=torch.float32)
                self._model = model.eval()
            return self._model, self._tokenizer

    def _generate(
        self, conversations: Sequence[list[Message]], params: Sequence[GenerationParams]
    ) -> list[Completion | ModelError]:
        """Run one batch; a request that cannot fit the context gets its own error."""
        model, tokenizer = self._load()
        prompts = [_prompt_ids(tokenizer, m) for m in conversations]
        context = int(getattr(model.config, "max_position_embeddings", 0) or 0)
        results: list[Completion | ModelError | None] = [
            ModelError(
                f"the prompt ({len(ids)} tokens) plus max_tokens ({p.max_tokens}) exceeds the "
                f"model's context of {context} tokens"
            )
            if context and len(ids) + p.max_tokens > context
            else None
            for ids, p in zip(prompts, params, strict=True)
        ]
        rows = [i for i, r in enumerate(results) if r is None]
        if rows:
            done = self._run_batch(model, tokenizer, [prompts[i] for i in rows], [params[i] for i in rows])
            for i, completion in zip(rows, done, strict=True):
                results[i] = completion
        return [r for r in results if r is not None]

    def _run_batch(
        self, model: Any, tokenizer: Any, prompts: list[list[int]], params: list[GenerationParams]
    ) -> list[Completion]:
        import torch
        from transformers import LogitsProcessorList

        stop_ids = _stop_token_ids(model, tokenizer)
        pad_id = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else stop_ids[0]
        width = max(len(ids) for ids in prompts)
        input_ids = torch.tensor([[pad_id] * (width - len(ids)) + ids for ids in prompts])
        attention = torch.tensor([[0] * (width - len(ids)) + [1] * len(ids) for ids in prompts])
        first = params[0]
        sampling: dict[str, Any] = (
            {"do_sample": True, "temperature": first.temperature, "top_p": first.top_p}
            if first.temperature > 0
            else {"do_sample": False}
        )
        if first.temperature > 0 and first.min_p:
            sampling["min_p"] = first.min_p
        if first.repetition_penalty is not None:
            sampling["repetition_penalty"] = first.repetition_penalty
        if first.seed is not None:
            torch.manual_seed(first.seed)
        limits = RowLimits(
            prompt_width=width,
            min_tokens=[p.min_tokens or 0 for p in params],
            max_tokens=[p.max_tokens for p in params],
            stop_ids=stop_ids,
        )
        with torch.inference_mode():
            output = model.generate(
                input_ids=input_ids,
                attention_mask=attention,
                max_new_tokens=max(p.max_tokens for p in params),
                logits_processor=LogitsProcessorList([limits]),
                pad_token_id=pad_id,
                eos_token_id=stop_ids,
                **sampling,
            )
        results = []
        for row, (ids, p) in enumerate(zip(prompts, params, strict=True)):
            generated = output[row, width:].tolist()
            content, stopped = split_at_stop(generated, stop_ids, p.max_tokens)
            results.append(
                Completion(
                    text=tokenizer.decode(content, skip_special_tokens=True),
                    finish_reason="stop" if stopped else "length",
                    usage=Usage(
                        prompt_tokens=len(ids), completion_tokens=len(content) + int(stopped), requests=1
                    ),
                )
            )
        return results

    async def aclose(self) -> None:
        self._executor.shutdown(wait=True)
        self._model = self._tokenizer = None


def _prompt_ids(tokenizer: Any, messages: Sequence[Message]) -> list[int]:
    """A conversation's token ids as the model sees it: chat template, generation prompt."""
    text = tokenizer.apply_chat_template(list(messages), tokenize=False, add_generation_prompt=True)
    return list(tokenizer(text, add_special_tokens=False)["input_ids"])


def split_at_stop(generated: list[int], stop_ids: Sequence[int], max_tokens: int) -> tuple[list[int], bool]:
    """Cut a generated row at its first stop token; say whether the model stopped by itself.

    A stop token that falls after ``max_tokens`` tokens was forced (or padding): that row hit its limit.

    >>> split_at_stop([5, 6, 2, 2], [2], 8)
    ([5, 6], True)
    >>> split_at_stop([5, 6, 7, 2], [2], 3)
    ([5, 6, 7], False)
    >>> split_at_stop([5, 6, 7], [2], 3)
    ([5, 6, 7], False)
    """
    for i, token in enumerate(generated):
        if token in stop_ids:
            return generated[:i], i < max_tokens
    return generated[:max_tokens], False


class RowLimits:
    """A logits processor giving each row of a batch its own token limits: no stop token before
    its ``min_tokens``, only a stop token once it has ``max_tokens``. transformers applies it to
    the raw logits, before temperature and top-p.

    >>> import torch
    >>> limits = RowLimits(prompt_width=1, min_tokens=[2, 0], max_tokens=[9, 1], stop_ids=[0])
    >>> limits(torch.zeros(2, 2, dtype=torch.long), torch.zeros(2, 3)).tolist()
    [[-inf, 0.0, 0.0], [0.0, -inf, -inf]]
    """

    def __init__(
        self, *, prompt_width: int, min_tokens: list[int], max_tokens: list[int], stop_ids: Sequence[int]
    ) -> None:
        self.prompt_width = prompt_width
        self.min_tokens = min_tokens
        self.max_tokens = max_tokens
        self.stop_ids = list(stop_ids)

    def __call__(self, input_ids: torch.Tensor, scores: torch.Tensor) -> torch.Tensor:
        produced = input_ids.shape[1] - self.prompt_width
        for row in range(scores.shape[0]):
            if produced < self.min_tokens[row]:
                scores[row, self.stop_ids] = float("-inf")
            elif produced >= self.max_tokens[row]:
                scores[row, :] = float("-inf")
                scores[row, self.stop_ids[0]] = 0.0
        return scores


def _stop_token_ids(model: Any, tokenizer: Any) -> list[int]:
    """The tokens that end a reply: the generation config's EOS ids, then the tokenizer's."""
    configured = getattr(model.generation_config, "eos_token_id", None)
    ids = configured if isinstance(configured, list) else [configured]
    if tokenizer.eos_token_id is not None:
        ids.append(tokenizer.eos_token_id)
    unique = list(dict.fromkeys(i for i in ids if i is not None))
    if not unique:
        raise ModelError("the model names no end-of-text token")
    return unique
