"""Try one hostile input (``agentwrite.testing.hostile_inputs``) in process and say what it
did wrong: an exit code other than 2, more or less than one line of error, a traceback, a
model request, a file written, changed or removed, or a secret (the key, the URL's
password) in any output or file written.

Commands run through typer's ``CliRunner``; the LangGraph app's cases through its graph
factory, as ``langgraph dev`` calls it for a run.
"""

from __future__ import annotations

import asyncio
import json
import os
import stat
import traceback
import urllib.parse
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from types import SimpleNamespace
from typing import Any

from agentwrite.testing.hostile_inputs import KEY, PASSWORD, HostileInput
from agentwrite.testing.openai_server import OpenAIServer


@dataclass(frozen=True)
class Outcome:
    """What a command did: its exit code and its two streams."""

    code: int
    stdout: str
    stderr: str


def secret_forms(secret: str) -> set[bytes]:
    """The bytes a secret may be found as: as it is, JSON- or Python-escaped, percent-encoded.

    >>> sorted(secret_forms('k"1'))
    [b'k"1', b'k%221', b'k\\\\"1']
    """
    forms = {secret, json.dumps(secret)[1:-1], repr(secret)[1:-1], urllib.parse.quote(secret, safe="")}
    return {form.encode("utf-8", "backslashreplace") for form in forms}


def secrets_found(
    folder: Path, streams: Iterable[str], secrets: Iterable[str], skip: Iterable[Path] = ()
) -> list[str]:
    """Where any of ``secrets`` is found: each regular file under ``folder`` (but ``skip``) by
    its path, and each of ``streams`` (standard output, standard error) by its number."""
    forms = {form for secret in secrets for form in secret_forms(secret)}
    skipped = set(skip)
    found = [
        str(path)
        for path in sorted(folder.rglob("*"))
        if path not in skipped and path.is_file() and any(form in path.read_bytes() for form in forms)
    ]
    found += [f"stream {i}" for i, text in enumerate(streams) if any(form in text.encode() for form in forms)]
    return found


def snapshot(folder: Path) -> dict[str, tuple[str, bytes | str]]:
    """Every path under ``folder`` (links not followed) with what it is: a file's bytes, a
    link's target, or its kind."""
    found: dict[str, tuple[str, bytes | str]] = {}
    for root, dirs, files in os.walk(folder):
        for name in [*dirs, *files]:
            path = Path(root) / name
            mode = path.lstat().st_mode
            key = str(path.relative_to(folder))
            if stat.S_ISLNK(mode):
                found[key] = ("link", os.readlink(path))
            elif stat.S_ISREG(mode):
                found[key] = ("file", path.read_bytes())
            else:
                found[key] = ("folder" if stat.S_ISDIR(mode) else "special", oct(stat.S_IFMT(mode)))
    return found


@contextmanager
def _inside(folder: Path, env: Mapping[str, str | None]) -> Iterator[None]:
    """Work in ``folder`` with ``env`` over the environment (None removes a variable)."""
    home, saved = Path.cwd(), dict(os.environ)
    os.chdir(folder)
    for name, value in env.items():
        if value is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = value
    try:
        yield
    finally:
        os.chdir(home)
        os.environ.clear()
        os.environ.update(saved)


def _command(command: tuple[str, ...], args: list[str]) -> Outcome:
    from typer.testing import CliRunner

    from agentwrite.cli import app

    result = CliRunner().invoke(app, [*command, *args])
    return Outcome(result.exit_code, result.stdout, result.stderr)


def _app(context: str) -> Outcome:
    """A run of the LangGraph app with this context, as far as its graph factory goes."""
    from agentwrite.errors import InputError
    from agentwrite.graph.app import graph

    runtime: Any = SimpleNamespace(execution_runtime=SimpleNamespace(context=json.loads(context)))

    async def start() -> None:
        async with graph(runtime):
            pass

    try:
        asyncio.run(start())
    except InputError as exc:
        return Outcome(exc.exit_code, "", f"agentwrite: error: {exc}\n")
    except Exception:
        return Outcome(1, "", traceback.format_exc())
    return Outcome(0, "", "")


def try_case(case: HostileInput, folder: Path, server: OpenAIServer) -> list[str]:
    """Lay ``case`` out in the empty ``folder``, run it against ``server`` and return what
    went wrong (nothing: it passed)."""
    case.lay_out(folder)
    before = snapshot(folder)
    url = server.base_url.replace("http://", f"http://drill:{PASSWORD}@")

    def filled(text: str) -> str:
        return text.replace("{url}", url).replace("{pw}", PASSWORD)

    shell = {n: None for n in os.environ if n.startswith(("AGENTWRITE_", "OPENAI_"))}
    env: dict[str, str | None] = {
        **shell,
        "AGENTWRITE_API_KEY": KEY,
        **{k: filled(v) for k, v in case.env.items()},
    }
    if case.command == ("app",):
        env.setdefault("AGENTWRITE_BASE_URL", url)  # the server's own; runs choose no other
    requests = len(server.requests)
    with _inside(folder, env):
        if case.command == ("app",):
            outcome = _app(filled(case.args[0]))
        else:
            outcome = _command(case.command, [filled(a) for a in case.args])
    problems = []
    if outcome.code != 2:
        problems.append(f"exit code {outcome.code}")
    lines = [line for line in outcome.stderr.splitlines() if line.strip()]
    if len(lines) != 1 or not lines[0].startswith("agentwrite: error:"):
        problems.append(f"not one line of error: {outcome.stderr[-300:]!r}")
    elif case.fragment not in lines[0]:
        problems.append(f"{lines[0]!r} does not say {case.fragment!r}")
    if "Traceback" in outcome.stdout + outcome.stderr:
        problems.append("a traceback")
    if len(server.requests) != requests:
        problems.append(f"{len(server.requests) - requests} model request(s)")
    after = snapshot(folder)
    if after != before:
        touched = sorted(k for k in before.keys() | after.keys() if before.get(k) != after.get(k))
        problems.append(f"files written, changed or removed: {touched}")
    laid_out = [folder / name for name in case.files]
    if leaks := secrets_found(folder, [outcome.stdout, outcome.stderr], [KEY, PASSWORD], laid_out):
        problems.append(f"a secret in {leaks}")
    return problems
