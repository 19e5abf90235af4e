"""Shared fixtures. Unit tests can never reach a real model: httpx refuses any host but loopback."""

from __future__ import annotations

import os

# Threads of an OpenMP runtime that wait by spinning hold their core; on a machine with more
# runnable threads than cores (two pytest workers, an in-process model, a vLLM CPU server, on
# 2 cores) each parallel region then waits for threads that cannot run, and the in-process
# model took 10 to 20 s for 8 tokens where waiting passively it took 0.5 to 1.4 s (load 8).
# Set before anything imports torch; the processes the tests start inherit it.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING

import httpx
import pytest

from tests.shared_server import (  # the hooks list each xdist worker for the shared vLLM server
    ServerUnavailable,
    pytest_sessionfinish,  # noqa: F401
    pytest_sessionstart,  # noqa: F401
    run_folder,
    shared_server,
    start_early,
)

if TYPE_CHECKING:
    from agentwrite.llm.vllm_server import VLLMServer

LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})


class RealNetworkBlocked(AssertionError):
    """A test tried to reach a host other than loopback."""


def _refuse_remote(request: httpx.Request) -> None:
    if request.url.host not in LOOPBACK_HOSTS:
        raise RealNetworkBlocked(f"tests may only reach loopback hosts, not {request.url.host!r}")


SLOWEST_FIRST = (
    # no real model: both workers run these while the vLLM server boots (_vllm_boots_early)
    "test_dataset_ray.py",
    "test_reliability_kills.py",
    "test_dataset_pairs.py",
    # the real model, through the shared server
    "test_vllm_eval.py",
    "test_vllm_server.py",
    "test_dataset_export.py",
    "test_section_checks.py",
    # the rest of the slow ones
    "test_train_gain.py",
    "test_review.py",
    "test_dataset_build.py",
    "test_core_install.py",
    "test_degeneration_http.py",
    "test_endpoints.py",
    "test_cli_http.py",
)
"""The slowest test modules (``--durations`` of whole runs), slowest first, but the ones that
need the real model after those that do not. Under ``pytest -n`` with ``--dist loadscope
--no-loadscope-reorder`` a worker takes the next module in collection order when it is free,
and the run lasts until its last module ends: the slowest go first, so that the short ones fill
in at the end. The vLLM server boots in the background from the start of the session; the
modules that need it come once it has had a few minutes."""


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Collect ``SLOWEST_FIRST``'s modules first, in that order; the rest as they were."""
    rank = {name: i for i, name in enumerate(SLOWEST_FIRST)}
    items.sort(key=lambda item: rank.get(item.path.name, len(rank)))


@pytest.fixture(autouse=True)
def _loopback_only(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Patch httpx's real transports (sync and async) to refuse non-loopback hosts."""
    send_async = httpx.AsyncHTTPTransport.handle_async_request
    send_sync = httpx.HTTPTransport.handle_request

    async def guarded_async(self: httpx.AsyncHTTPTransport, request: httpx.Request) -> httpx.Response:
        _refuse_remote(request)
        return await send_async(self, request)

    def guarded_sync(self: httpx.HTTPTransport, request: httpx.Request) -> httpx.Response:
        _refuse_remote(request)
        return send_sync(self, request)

    monkeypatch.setattr(httpx.AsyncHTTPTransport, "handle_async_request", guarded_async)
    monkeypatch.setattr(httpx.HTTPTransport, "handle_request", guarded_sync)
    yield


@pytest.fixture(autouse=True)
def _no_settings_from_the_shell(monkeypatch: pytest.MonkeyPatch) -> None:
    """Settings read ``AGENTWRITE_*``, ``OPENAI_API_KEY`` and ``OPENAI_BASE_URL``: the shell's must
    not reach a test (``AGENTWRITE_TEST_*``, which point the tests at a server, stay)."""
    for name in list(os.environ):
        if name in ("OPENAI_API_KEY", "OPENAI_BASE_URL") or (
            name.startswith("AGENTWRITE_") and not name.startswith("AGENTWRITE_TEST_")
        ):
            monkeypatch.delenv(name)


# --- a real vLLM server for the tests marked `vllm` ------------------------------------------


@dataclass(frozen=True)
class ServedModel:
    """Where the tests' vLLM server answers."""

    base_url: str
    model_name: str


def _start_vllm() -> VLLMServer:
    """The bundled model's vLLM server (``ServerUnavailable`` when it cannot start)."""
    from agentwrite.errors import AgentwriteError
    from agentwrite.llm.vllm_server import start_server

    try:
        return start_server(startup_timeout=float(os.environ.get("AGENTWRITE_TEST_VLLM_TIMEOUT", "900")))
    except (AgentwriteError, OSError) as exc:
        raise ServerUnavailable(str(exc)) from exc


@pytest.fixture(scope="session", autouse=True)
def _vllm_boots_early(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> None:
    """Where this run holds a test that needs the real vLLM server (and none was given), start
    it now, in the background: it boots (1.5 to 3 minutes on 2 cores) while this worker runs
    tests that do not need it, instead of while ``vllm_server`` waits."""
    if os.environ.get("AGENTWRITE_TEST_VLLM_URL"):
        return
    if any(item.get_closest_marker("vllm") for item in request.session.items):
        start_early(run_folder(tmp_path_factory.getbasetemp()), _start_vllm)


@pytest.fixture(scope="session")
def vllm_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServedModel]:
    """One vLLM server for the bundled model, on a free loopback port, for the whole run:
    under ``pytest -n N`` the first worker that needs it (or reaches ``_vllm_boots_early``)
    starts it and the others use it (``tests/shared_server.py``).

    Start-up takes minutes on CPU. Under ``CI=true`` a server that cannot start fails the run;
    elsewhere the tests that need it skip. ``AGENTWRITE_TEST_VLLM_URL`` (with
    ``AGENTWRITE_TEST_VLLM_MODEL``) points the tests at a server that is already running instead.
    """
    from agentwrite.llm.bundled import BUNDLED_MODEL_NAME

    if os.environ.get("AGENTWRITE_TEST_VLLM_URL"):
        yield ServedModel(
            os.environ["AGENTWRITE_TEST_VLLM_URL"],
            os.environ.get("AGENTWRITE_TEST_VLLM_MODEL", BUNDLED_MODEL_NAME),
        )
        return

    try:
        with shared_server(run_folder(tmp_path_factory.getbasetemp()), _start_vllm) as (base_url, model_name):
            yield ServedModel(base_url, model_name)
    except ServerUnavailable as exc:
        if os.environ.get("CI") == "true":
            pytest.fail(f"the vLLM server for the tests did not start: {exc}", pytrace=False)
        pytest.skip(f"no vLLM server ({str(exc).splitlines()[0]})")
