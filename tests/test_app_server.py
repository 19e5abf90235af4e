"""``langgraph dev`` serves the workflow of ``langgraph.json``: a document written through
its HTTP API against a loopback model server, with the progress events on the stream."""

import asyncio
import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

pytest.importorskip("langgraph_api", reason="langgraph dev needs the 'server' extra: langgraph-cli[inmem]")
from langgraph_sdk import get_client

from agentwrite.testing.openai_server import OpenAIServer

ROOT = Path(__file__).resolve().parent.parent
START_TIMEOUT = 60.0
SERVER_KEY = "sk-the-servers-own"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def model_server() -> Iterator[OpenAIServer]:
    with OpenAIServer() as server:
        yield server


@pytest.fixture(scope="module")
def langgraph_dev(tmp_path_factory: pytest.TempPathFactory, model_server: OpenAIServer) -> Iterator[str]:
    """``langgraph dev`` on loopback with the repository's ``langgraph.json`` (its paths made
    absolute, so that the server's files stay in a temporary folder), its operator allowing
    runs to send their requests to ``model_server``; yields its URL."""
    tmp_path = tmp_path_factory.mktemp("langgraph-dev")
    config = json.loads((ROOT / "langgraph.json").read_text())
    config["dependencies"] = [str(ROOT)]
    config["graphs"] = {name: str(ROOT / spec.removeprefix("./")) for name, spec in config["graphs"].items()}
    (tmp_path / "langgraph.json").write_text(json.dumps(config))
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AGENTWRITE_", "OPENAI_", "LANGSMITH_"))}
    env |= {"LANGSMITH_TRACING": "false", "LANGGRAPH_CLI_NO_ANALYTICS": "1", "PYTHONPATH": str(ROOT)}
    env |= {"AGENTWRITE_ALLOWED_BASE_URLS": model_server.base_url, "AGENTWRITE_API_KEY": SERVER_KEY}
    command = [str(Path(sys.executable).with_name("langgraph")), "dev", "--no-browser", "--no-reload",
               "--host", "127.0.0.1", "--port", str(port), "--config", "langgraph.json"]  # fmt: skip
    log = (tmp_path / "server.log").open("wb")
    server = subprocess.Popen(command, cwd=tmp_path, env=env, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + START_TIMEOUT
        while True:
            try:
                if httpx.get(url + "/ok", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if server.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"langgraph dev did not start: {(tmp_path / 'server.log').read_text()[-2000:]}")
            time.sleep(0.2)
        yield url
    finally:
        server.terminate()
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
        log.close()


def test_langgraph_dev_writes_a_document_and_streams_its_progress(
    langgraph_dev: str, model_server: OpenAIServer
) -> None:
    before = len(model_server.completion_requests())

    async def go() -> tuple[list[Any], dict[str, Any]]:
        client = get_client(url=langgraph_dev)
        thread = await client.threads.create()
        chunks = [
            chunk
            async for chunk in client.runs.stream(
                thread["thread_id"],
                "agentwrite",
                input={"brief": {"instruction": "Write a 1500-word essay on tea", "target_words": 1500}},
                context={"settings": {"base_url": [model_server.base_url], "mode": "sequential"}},
                stream_mode=["custom", "values"],
            )
        ]
        state = await client.threads.get_state(thread["thread_id"])
        return chunks, state["values"]

    chunks, values = asyncio.run(asyncio.wait_for(go(), 60))
    errors = [c.data for c in chunks if c.event == "error"]
    assert not errors, errors
    custom = [c.data for c in chunks if c.event == "custom"]
    kinds = [e["event"] for e in custom]
    sections = values["sections"]
    assert kinds[0] == "plan_ready" and kinds.count("section_done") == len(sections) == len(
        values["plan"]["sections"]
    )
    assert "section_delta" in kinds  # the text as the model server streamed it
    assert values["markdown"].startswith(f"# {values['plan']['title']}")
    assert sum(s["words"] for s in sections) >= 1000
    assert len(model_server.completion_requests()) - before >= len(sections) + 1  # the plan, each section
    assert {r.headers.get("authorization") for r in model_server.requests} == {f"Bearer {SERVER_KEY}"}


def test_langgraph_dev_stops_for_the_plan_review_and_resumes_with_the_answer(
    langgraph_dev: str, model_server: OpenAIServer
) -> None:
    before = len(model_server.completion_requests())
    context = {"settings": {"base_url": [model_server.base_url], "mode": "parallel"}, "review": True}
    edited = {
        "title": "Tea, Briefly",
        "sections": [
            {"title": "Leaves", "main_point": "How tea is grown.", "target_words": 1},
            {"title": "Cups", "main_point": "How tea is drunk.", "target_words": 1},
        ],
    }

    async def go() -> tuple[dict[str, Any], dict[str, Any]]:
        client = get_client(url=langgraph_dev)
        thread = (await client.threads.create())["thread_id"]
        brief = {"instruction": "Write a 1200-word essay on tea", "target_words": 1200}
        await client.runs.wait(thread, "agentwrite", input={"brief": brief}, context=context)
        stopped = await client.threads.get_state(thread)
        await client.runs.wait(
            thread, "agentwrite", command={"resume": {"action": "edit", "plan": edited}}, context=context
        )
        return stopped, (await client.threads.get_state(thread))["values"]

    stopped, values = asyncio.run(asyncio.wait_for(go(), 60))
    requests = len(model_server.completion_requests()) - before
    [asked] = [i["value"] for task in stopped["tasks"] for i in task["interrupts"]]
    assert stopped["next"] == ["review"] and asked["kind"] == "plan_review" and asked["target_words"] == 1200
    assert values["plan"]["title"] == "Tea, Briefly" and values["plan_source"] == "user"
    assert [(s["title"], s["target_words"]) for s in values["sections"]] == [("Leaves", 600), ("Cups", 600)]
    assert requests == 3  # the plan, then the two edited sections


@pytest.mark.parametrize(
    ("settings", "said"),
    [
        ({"base_url": ["http://127.0.0.1:9/v1"]}, "may not send requests to http://127.0.0.1:9/v1"),
        ({"api_key": "sk-from-the-client"}, "may not carry an API key"),
    ],
)
def test_langgraph_dev_refuses_a_run_that_names_another_server_or_a_key(
    langgraph_dev: str, model_server: OpenAIServer, settings: dict[str, Any], said: str
) -> None:
    before = len(model_server.requests)

    async def go() -> list[Any]:
        client = get_client(url=langgraph_dev)
        thread = (await client.threads.create())["thread_id"]
        brief = {"instruction": "Write a 600-word note on tea", "target_words": 600}
        stream = client.runs.stream(
            thread, "agentwrite", input={"brief": brief}, context={"settings": settings}
        )
        return [chunk async for chunk in stream]

    chunks = asyncio.run(asyncio.wait_for(go(), 60))
    errors = [json.dumps(c.data) for c in chunks if c.event == "error"]
    assert len(errors) == 1 and said in errors[0], chunks
    assert "sk-" not in errors[0] and len(model_server.requests) == before
