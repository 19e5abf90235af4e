"""Input is bounded: files are read up to a limit counted in bytes read, special files are
refused without being opened for reading (a FIFO would hang, /dev/zero never end), and a
server that drips bytes is cut off at a deadline. A pytest-timeout guard catches a hang;
nothing here asserts a time."""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import pytest
from typer.testing import CliRunner

from agentwrite.cli import app
from agentwrite.errors import InputError, ServerUnreachable
from agentwrite.files import read_bounded
from agentwrite.llm.base import GenerationParams
from agentwrite.llm.openai_compat import OpenAICompatModel
from agentwrite.testing.openai_server import OpenAIServer

pytestmark = pytest.mark.timeout(60)


@pytest.fixture(scope="module")
def server():
    with OpenAIServer() as srv:
        yield srv


def refused(result, fragment: str) -> None:
    assert result.exit_code == 2, result.output
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and fragment in lines[0], result.stderr
    assert "Traceback" not in result.output


@pytest.mark.parametrize(
    ("kind", "args", "fragment"),
    [
        ("zero", ["@/dev/zero"], "brief file /dev/zero is a device"),
        ("zero", ["Write a note", "--source", "/dev/zero"], "source file /dev/zero is a device"),
        ("zero", ["Write a note", "--plan", "/dev/zero"], "plan file /dev/zero is a device"),
        ("fifo", ["@{fifo}"], "is a FIFO"),
        ("fifo", ["Write a note", "--source", "{fifo}"], "is a FIFO"),
        ("loop", ["Write a note", "--source", "{loop}"], "is a symbolic link loop"),
        ("loop", ["@{loop}"], "is a symbolic link loop"),
    ],
)
def test_special_files_as_brief_source_or_plan_are_refused_unread(
    tmp_path: Path, server: OpenAIServer, kind: str, args: list[str], fragment: str
) -> None:
    fifo, loop = tmp_path / "fifo", tmp_path / "loop"
    os.mkfifo(fifo)  # nobody writes to it: opening it to read would wait for ever
    loop.symlink_to(loop)
    args = [a.format(fifo=fifo, loop=loop) for a in args]
    calls = len(server.requests)
    result = CliRunner().invoke(
        app, ["write", *args, "-o", str(tmp_path / "d.md"), "--base-url", server.base_url, "-q"]
    )
    refused(result, fragment)
    assert len(server.requests) == calls and sorted(p.name for p in tmp_path.iterdir()) == ["fifo", "loop"]


def test_the_bound_counts_bytes_read_not_the_size_stat_reports() -> None:
    assert os.stat("/proc/self/status").st_size == 0  # the kernel makes it up as it is read
    with pytest.raises(InputError, match="has more than 10 bytes; the limit is 10"):
        read_bounded(Path("/proc/self/status"), 10, "file")


def test_a_brief_on_standard_input_is_bounded(server: OpenAIServer, tmp_path: Path) -> None:
    result = CliRunner().invoke(
        app,
        ["write", "-", "-o", str(tmp_path / "d.md"), "--base-url", server.base_url],
        input="x" * 8_000_001,
    )
    refused(result, "longer than 8,000,000 characters")


@asynccontextmanager
async def dripping_server(keepalive: bytes) -> AsyncIterator[str]:
    """A server that answers every request with a body it never finishes: ``keepalive``
    every 20 ms, so that no idle timeout ever fires."""

    async def answer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readuntil(b"\r\n\r\n")
        event_stream = keepalive.startswith(b":")
        kind = b"text/event-stream" if event_stream else b"application/json"
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Type: " + kind + b"\r\nContent-Length: 100000000\r\n\r\n")
        try:
            while True:
                writer.write(keepalive)
                await writer.drain()
                await asyncio.sleep(0.02)
        except (ConnectionError, asyncio.CancelledError):
            writer.close()

    listener = await asyncio.start_server(answer, "127.0.0.1", 0)
    port = listener.sockets[0].getsockname()[1]
    try:
        yield f"http://127.0.0.1:{port}/v1"
    finally:
        listener.close()


async def test_a_dripping_tokenize_ends_at_its_deadline_and_the_prompt_is_estimated() -> None:
    async with dripping_server(b" ") as url:
        model = OpenAICompatModel(url, "m", timeout=5, info_deadline=0.3)
        try:
            assert await model.count_tokens([{"role": "user", "content": "Tea."}]) is None
        finally:
            await model.aclose()


async def test_a_dripping_model_list_ends_at_its_deadline() -> None:
    async with dripping_server(b" ") as url:
        model = OpenAICompatModel(url, timeout=5, info_deadline=0.3)
        model.retry = model.retry.__class__(max_retries=0)
        try:
            with pytest.raises(ServerUnreachable, match=r"no whole answer within 0\.3 s"):
                await model.server_info()
            assert await model.ping() is False
        finally:
            await model.aclose()


async def test_a_completion_that_never_finishes_ends_at_a_deadline_scaled_by_max_tokens() -> None:
    async with dripping_server(b": still thinking\n\n") as url:
        model = OpenAICompatModel(url, "m", timeout=0.2, seconds_per_token=0.01)
        model.retry = model.retry.__class__(max_retries=0)
        try:
            with pytest.raises(ServerUnreachable, match=r"within 0\.4 s \(the deadline for 20 tokens\)"):
                await model.complete([{"role": "user", "content": "Tea."}], GenerationParams(max_tokens=20))
        finally:
            await model.aclose()
