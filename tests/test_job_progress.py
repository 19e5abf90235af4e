"""Progress of the long jobs as a user sees it: ``dataset build``, ``eval run`` and ``eval score``
run as real processes against the loopback OpenAI server, their standard error (and output) a
pseudo-terminal, where a rich bar is drawn and redrawn in place, or a pipe, where each item
gets the plain line it always had and nothing is drawn."""

from __future__ import annotations

import io
import json
import logging
import os
import re
import select
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from rich.console import Console

from agentwrite.cli.progress import JobProgress
from agentwrite.testing.openai_server import OpenAIServer
from tests.test_eval_cli import writer_and_judge
from tests.test_eval_run import SMOKE

ROOT = Path(__file__).resolve().parents[1]
DEADLINE = 90.0  # seconds a CLI run may take (each takes a few)
ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")
ERASE_LINE = "\x1b[2K"  # what rich sends before it draws the bar again over the old one
BUILD_LINE = re.compile(r"^\[\d/4\] \S+ (accepted|rejected)", re.MULTILINE)  # today's line per document
RUN_LINE = re.compile(r"^ {2}done \S+$", re.MULTILINE)  # today's line per prompt
INSTRUCTIONS = [
    {"id": "tea", "prompt": "Write a 300-word note on green tea."},
    {"id": "rice", "prompt": "Write a 300-word note on rice terraces."},
    {"id": "salt", "prompt": "Write a 300-word note on sea salt."},
]

pytestmark = pytest.mark.timeout(4 * DEADLINE)


def _env() -> dict[str, str]:
    """The shell's environment without settings or colour overrides, for an 80-column xterm."""
    dropped = ("AGENTWRITE_", "OPENAI_", "FORCE_COLOR", "NO_COLOR", "TTY_COMPATIBLE", "COLUMNS", "LINES")
    env = {k: v for k, v in os.environ.items() if not k.startswith(dropped)}
    return env | {"TERM": "xterm-256color", "COLUMNS": "150", "LINES": "40"}


def on_a_terminal(*args: str) -> str:
    """Run ``agentwrite ARGS`` with its standard output and error on a pseudo-terminal; what it
    wrote there (CR LF for each LF, as a terminal gets it)."""
    leader, follower = os.openpty()
    process = subprocess.Popen(
        [sys.executable, "-m", "agentwrite.cli", *args],
        stdin=subprocess.DEVNULL, stdout=follower, stderr=follower, cwd=ROOT, env=_env(),
    )  # fmt: skip
    os.close(follower)
    chunks = []
    deadline = time.monotonic() + DEADLINE
    try:
        while time.monotonic() < deadline:
            if select.select([leader], [], [], 0.2)[0]:
                try:
                    chunk = os.read(leader, 65536)
                except OSError:  # EIO: the process and its children closed the terminal
                    break
                if not chunk:
                    break
                chunks.append(chunk)
            elif process.poll() is not None:
                break
        else:
            raise AssertionError(f"agentwrite {args[:2]} ran past {DEADLINE} s: {b''.join(chunks)!r}")
        code = process.wait(timeout=10)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
        os.close(leader)
    text = b"".join(chunks).decode("utf-8", "replace")
    assert code == 0, text
    return text


def into_a_pipe(*args: str) -> str:
    """Run ``agentwrite ARGS`` with its standard error a pipe; what it wrote there."""
    result = subprocess.run(
        [sys.executable, "-m", "agentwrite.cli", *args],
        stdin=subprocess.DEVNULL, capture_output=True, text=True, cwd=ROOT, env=_env(), timeout=DEADLINE,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    return result.stderr


def _last_frame(text: str) -> str:
    """The bar as the terminal shows it at the end: the text after the last redraw, codes removed."""
    return ANSI.sub("", text.rsplit(ERASE_LINE, 1)[-1])


@pytest.fixture(scope="module")
def server() -> Iterator[OpenAIServer]:
    with OpenAIServer(writer_and_judge) as running:
        yield running


def _build_args(tmp_path: Path, server: OpenAIServer, *more: str) -> list[str]:
    source = tmp_path / "in.jsonl"
    source.write_text("".join(json.dumps(i) + "\n" for i in INSTRUCTIONS) + "not json\n", "utf-8")
    out = tmp_path / "build"
    return [
        "dataset",
        "build",
        str(source),
        "--out",
        str(out),
        "--min-words",
        "200",
        "--base-url",
        server.base_url,
        *more,
    ]


def test_dataset_build_draws_a_bar_of_done_total_tallies_and_speed_on_a_terminal(
    tmp_path: Path, server: OpenAIServer
) -> None:
    text = on_a_terminal(*_build_args(tmp_path, server, "--concurrency", "2"))
    assert ERASE_LINE in text  # drawn in place, again and again
    frame = _last_frame(text)
    assert "building" in frame and "4/4" in frame, frame
    assert "3 accepted, 1 rejected" in frame, frame
    assert re.search(r"\d tok/s", frame), frame  # the documents' completion tokens over the time
    assert re.search(r"\d:\d\d:\d\d \d:\d\d:\d\d left", frame), frame  # elapsed, then time left
    assert not BUILD_LINE.search(ANSI.sub("", text)), text  # no line per document under the bar
    assert "3 accepted, 1 rejected of 4 (75%)" in frame  # the summary still follows


def test_dataset_build_prints_todays_plain_line_per_document_into_a_pipe(
    tmp_path: Path, server: OpenAIServer
) -> None:
    text = into_a_pipe(*_build_args(tmp_path, server, "--concurrency", "2"))
    assert "\x1b[" not in text and "\r" not in text, text
    lines = text.splitlines()
    assert "[1/4] input-line-4 rejected (bad input line)" in lines, text  # the bad line is committed first
    assert {line.split()[1] for line in lines if line.endswith(" accepted")} == {"tea", "rice", "salt"}
    assert [line.split()[0] for line in lines if BUILD_LINE.match(line)] == [f"[{n}/4]" for n in range(1, 5)]
    assert lines[-1].startswith("3 accepted, 1 rejected of 4 (75%)"), text


def test_dataset_build_quiet_draws_nothing_on_a_terminal(tmp_path: Path, server: OpenAIServer) -> None:
    text = on_a_terminal(*_build_args(tmp_path, server, "--quiet"))
    assert ERASE_LINE not in text and "building" not in text and not BUILD_LINE.search(text), text
    assert "3 accepted, 1 rejected of 4 (75%)" in text


def _run_args(tmp_path: Path, server: OpenAIServer) -> list[str]:
    out = tmp_path / "run"
    # one request a prompt; a small window keeps the loopback model's answers short
    return ["eval", "run", str(SMOKE), "--out", str(out), "--target", "direct", "--max-context", "1024",
            "--base-url", server.base_url]  # fmt: skip


def test_eval_run_draws_a_bar_of_answered_and_failed_on_a_terminal(
    tmp_path: Path, server: OpenAIServer
) -> None:
    text = on_a_terminal(*_run_args(tmp_path, server))
    assert ERASE_LINE in text
    frame = _last_frame(text)
    assert "answering" in frame and "4/4" in frame and "4 answered, 0 failed" in frame, frame
    assert re.search(r"\d tok/s", frame), frame
    assert not RUN_LINE.search(ANSI.sub("", text).replace("\r", "")), text
    assert "4 answered, 0 failed, 0 already done of 4" in frame


def test_eval_run_prints_todays_plain_line_per_prompt_into_a_pipe(
    tmp_path: Path, server: OpenAIServer
) -> None:
    text = into_a_pipe(*_run_args(tmp_path, server))
    assert "\x1b[" not in text and "\r" not in text, text
    assert len(RUN_LINE.findall(text)) == 4, text
    assert text.splitlines()[-1].startswith("4 answered, 0 failed, 0 already done of 4"), text


def test_eval_score_draws_judging_then_scoring_on_a_terminal_and_nothing_per_item_into_a_pipe(
    tmp_path: Path, server: OpenAIServer
) -> None:
    into_a_pipe(*_run_args(tmp_path, server))
    run_dir = str(tmp_path / "run")
    score = ["eval", "score", run_dir, "--judge-base-url", server.base_url, "--no-embeddings"]
    text = on_a_terminal(*score)
    assert ERASE_LINE in text
    plain = ANSI.sub("", text)
    assert re.search(r"judging.*4/4.*4 judged, 0 failed", plain), plain  # drawn before scoring starts
    frame = _last_frame(text)
    assert "scoring" in frame and "4/4" in frame, frame
    assert "S_q 50.00 (4 judged)" in frame  # the result line follows on standard output
    assert into_a_pipe(*score) == ""  # off a terminal score prints what it always did: nothing


def test_plain_lines_are_written_verbatim_and_nothing_is_drawn_off_a_terminal() -> None:
    file = io.StringIO()
    with JobProgress("building", Console(file=file, force_terminal=False)) as bar:
        bar.item("[1/2] a [bold]x[/bold] accepted", done=1, total=2, tally={"accepted": 1})
        bar.item("[2/2] b rejected", done=2, total=2, tally={"accepted": 1, "rejected": 1})
    assert file.getvalue() == "[1/2] a [bold]x[/bold] accepted\n[2/2] b rejected\n"


def test_log_lines_print_above_the_bar_not_through_it() -> None:
    file = io.StringIO()
    handler = logging.StreamHandler(sys.stderr)  # as logging.basicConfig makes it
    handler.setFormatter(logging.Formatter("%(levelname)s %(message)s"))
    root = logging.getLogger()
    root.addHandler(handler)
    try:
        with JobProgress("building", Console(file=file, force_terminal=True, width=100)) as bar:
            logging.getLogger("agentwrite.test").warning("tea failed: the plan")
            bar.item("", done=1, total=2, tally={"accepted": 1})
    finally:
        root.removeHandler(handler)
    assert handler.stream is sys.stderr  # put back
    assert "WARNING tea failed: the plan" in ANSI.sub("", file.getvalue())  # printed by the bar's console
