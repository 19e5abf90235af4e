"""Run folders: agentwrite writes into a folder only when it is new, empty or its own, and
removes only what it wrote (the folder too only when it made it)."""

import asyncio
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

from agentwrite.cli import app
from agentwrite.errors import InputError
from agentwrite.files.run_folder import MARKER, RUN_FILE, check_run_dir, claim_run_dir, clear_run_dir
from agentwrite.runner import awrite
from agentwrite.testing.openai_server import OpenAIServer
from tests.scripted import writer_model
from tests.test_resume import Crash, crashing_model

BRIEF = "Write a 1200-word essay on the tea horse road"  # two sections


@pytest.fixture(scope="module")
def server():
    with OpenAIServer() as srv:
        yield srv


def snapshot(folder: Path) -> dict[str, bytes | None]:
    """Every path under ``folder`` with its bytes (None for a folder)."""
    return {str(p.relative_to(folder)): None if p.is_dir() else p.read_bytes() for p in folder.rglob("*")}


def write(server: OpenAIServer, *args: str):
    args = ("write", "Write a 500-word note", "--base-url", server.base_url, "-q", *args)
    return CliRunner().invoke(app, list(args))


@pytest.mark.parametrize("resume", [False, True])
def test_a_users_folder_as_run_dir_is_refused_and_keeps_every_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, server: OpenAIServer, resume: bool
) -> None:
    notes = tmp_path / "notes"
    notes.mkdir()
    (notes / "keep.txt").write_text("x")
    (notes / "checkpoints.sqlite").write_text("mine")  # a name agentwrite uses: still the user's
    before, calls = snapshot(tmp_path), len(server.requests)
    monkeypatch.chdir(tmp_path)
    result = write(server, "-o", "doc.md", "--run-dir", "notes", *(["--resume"] if resume else []))
    assert result.exit_code == 2, result.output
    assert result.stderr.count("\n") == 1 and "did not write" in result.stderr
    assert "Traceback" not in result.output
    assert snapshot(tmp_path) == before and len(server.requests) == calls


def test_the_working_folder_as_run_dir_with_resume_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, server: OpenAIServer
) -> None:
    (tmp_path / "doc.md").write_text("an earlier document")
    (tmp_path / "thesis.tex").write_text("years of work")
    before = snapshot(tmp_path)
    monkeypatch.chdir(tmp_path)
    result = write(server, "-o", "doc.md", "--run-dir", ".", "--resume")
    assert result.exit_code == 2, result.output
    assert snapshot(tmp_path) == before


def test_an_empty_folder_of_the_users_is_used_and_kept(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, server: OpenAIServer
) -> None:
    (tmp_path / "work").mkdir()
    monkeypatch.chdir(tmp_path)
    result = write(server, "-o", "work/doc.md", "--run-dir", "work")
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in (tmp_path / "work").iterdir()) == ["doc.md", "doc.md.json"]


def test_a_run_folder_agentwrite_made_is_removed_after_success(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, server: OpenAIServer
) -> None:
    monkeypatch.chdir(tmp_path)
    result = write(server, "-o", "doc.md", "--run-dir", "deep/run")
    assert result.exit_code == 0, result.output
    assert not (tmp_path / "deep" / "run").exists() and (tmp_path / "doc.md").is_file()


def test_a_file_added_to_a_run_folder_stays_and_so_does_the_folder(tmp_path: Path) -> None:
    run = tmp_path / "run"
    asyncio.run(awrite(BRIEF, model=writer_model(), run_dir=run))
    assert (run / MARKER).is_file() and (run / RUN_FILE).is_file()
    (run / "notes.txt").write_text("mine")
    clear_run_dir(run)
    assert [p.name for p in run.iterdir()] == ["notes.txt"]


def test_an_unmarked_run_folder_of_an_older_version_resumes_and_is_removed(tmp_path: Path) -> None:
    run = tmp_path / "run"
    with pytest.raises(Crash):
        asyncio.run(awrite(BRIEF, model=crashing_model(2), run_dir=run))
    (run / MARKER).unlink()  # as agentwrite wrote run folders before markers
    check_run_dir(run)
    doc = asyncio.run(awrite(BRIEF, model=writer_model(), run_dir=run, resume=True))
    assert doc.words >= 1200 and len(doc.sections) == 2
    clear_run_dir(run)
    assert not run.exists()


def test_a_folder_that_is_not_a_run_folder_is_never_cleared(tmp_path: Path) -> None:
    (tmp_path / RUN_FILE).write_text('{"not": "a run"}')
    (tmp_path / "data.csv").write_text("1,2")
    before = snapshot(tmp_path)
    clear_run_dir(tmp_path)
    assert snapshot(tmp_path) == before
    with pytest.raises(InputError, match="did not write"):
        claim_run_dir(tmp_path)
    assert snapshot(tmp_path) == before


def test_a_file_or_a_path_under_a_file_is_no_run_folder(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("x")
    with pytest.raises(InputError, match="is not a folder"):
        check_run_dir(tmp_path / "file")
    with pytest.raises(InputError, match="cannot create run directory"):
        check_run_dir(tmp_path / "file" / "run")


class Holder:
    """Another process holding a run folder's lock, as a build's writer of a killed driver's
    job does until Ray ends it."""

    def __init__(self, folder: Path) -> None:
        code = (
            "import fcntl, os, sys, time; d = os.open(sys.argv[1], os.O_RDONLY | os.O_DIRECTORY); "
            "fcntl.flock(d, fcntl.LOCK_EX); print('held', flush=True); time.sleep(600)"
        )
        command = [sys.executable, "-c", code, str(folder)]
        self.process = subprocess.Popen(command, stdout=subprocess.PIPE, text=True)
        assert self.process.stdout is not None and self.process.stdout.readline() == "held\n"

    def end(self) -> None:
        self.process.kill()
        self.process.wait(timeout=30)


def test_a_run_folder_another_process_writes_is_refused_and_left_as_it_is(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, server: OpenAIServer
) -> None:
    run = tmp_path / "run"
    with pytest.raises(Crash):
        asyncio.run(awrite(BRIEF, model=crashing_model(2), run_dir=run))
    holder = Holder(run)
    try:
        before, calls = snapshot(tmp_path), len(server.requests)
        monkeypatch.chdir(tmp_path)
        result = write(server, "-o", "doc.md", "--run-dir", "run", "--resume")
        assert result.exit_code == 2, result.output
        assert result.stderr.count("\n") == 1 and "written by another agentwrite process" in result.stderr
        clear_run_dir(run)  # a build's clean-up of a folder still being written
        assert snapshot(tmp_path) == before and len(server.requests) == calls
    finally:
        holder.end()
    clear_run_dir(run)
    assert not run.exists()


def test_a_builds_writer_waits_for_the_other_process_then_resumes(tmp_path: Path) -> None:
    run = tmp_path / "run"
    with pytest.raises(Crash):
        asyncio.run(awrite(BRIEF, model=crashing_model(2), run_dir=run))
    holder = Holder(run)
    threading.Timer(1.5, holder.end).start()
    started = time.monotonic()
    model = writer_model()
    doc = asyncio.run(awrite(BRIEF, model=model, run_dir=run, resume=True, wait_for_run_dir=True))
    assert holder.process.returncode is not None and time.monotonic() - started >= 1.5
    assert doc.words >= 1200 and len(doc.sections) == 2
    assert len(model.calls) == 1  # resumed: the plan and the first section came from the checkpoint
