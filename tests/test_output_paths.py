"""Output paths are checked for what they are before any work: a device, a FIFO, a folder
where a file goes, two outputs naming one path, or a folder of the user's are refused with
exit 2 and stay what they were; a symbolic link is written through and stays a link."""

import json
import os
import stat
from pathlib import Path

import pytest
from typer.testing import CliRunner

from agentwrite.cli import app
from agentwrite.testing.openai_server import OpenAIServer


@pytest.fixture(scope="module")
def server():
    with OpenAIServer() as srv:
        yield srv


def invoke(server: OpenAIServer, *args: str):
    return CliRunner().invoke(app, [*args, "--base-url", server.base_url, "-q"])


def refused(result, fragment: str) -> None:
    assert result.exit_code == 2, result.output
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and fragment in lines[0], result.stderr
    assert "Traceback" not in result.output


def write(server: OpenAIServer, *args: str):
    return invoke(server, "write", "Write a 500-word note", *args)


def test_a_fifo_at_the_output_stays_a_fifo(tmp_path: Path, server: OpenAIServer) -> None:
    fifo = tmp_path / "doc.md"
    os.mkfifo(fifo)
    calls = len(server.requests)
    refused(write(server, "-o", str(fifo)), "is a FIFO, not a file")
    assert stat.S_ISFIFO(fifo.lstat().st_mode) and len(server.requests) == calls
    assert [p.name for p in tmp_path.iterdir()] == ["doc.md"]


def test_a_device_at_the_output_stays_a_device(tmp_path: Path, server: OpenAIServer) -> None:
    device = tmp_path / "null"
    try:
        os.mknod(device, 0o666 | stat.S_IFCHR, os.makedev(1, 3))
    except PermissionError:
        pytest.skip("making a device node needs CAP_MKNOD")
    refused(write(server, "-o", str(device)), "is a device, not a file")
    assert stat.S_ISCHR(device.lstat().st_mode) and [p.name for p in tmp_path.iterdir()] == ["null"]


def test_dev_null_as_output_is_refused_and_no_sidecar_is_written_beside_it(server: OpenAIServer) -> None:
    refused(write(server, "-o", "/dev/null"), "is a device")
    assert stat.S_ISCHR(os.stat("/dev/null").st_mode) and not Path("/dev/null.json").exists()


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (["-o", "doc.md", "--json", "doc.md"], "-o and --json name one path"),
        (["-o", "doc.md", "--json", "./doc.md"], "-o and --json name one path"),
        (["-o", "doc.md", "--run-dir", "doc.md"], "-o and --run-dir name one path"),
        (["-o", "run/run.json", "--run-dir", "run"], "a file the run writes"),
    ],
)
def test_two_outputs_naming_one_path_are_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, server: OpenAIServer, args: list[str], fragment: str
) -> None:
    (tmp_path / "run").mkdir()
    monkeypatch.chdir(tmp_path)
    refused(write(server, *args), fragment)
    assert [p.name for p in tmp_path.iterdir()] == ["run"] and not any((tmp_path / "run").iterdir())


def test_a_link_at_the_output_is_written_through_and_stays_a_link(
    tmp_path: Path, server: OpenAIServer
) -> None:
    (tmp_path / "docs").mkdir()
    real = tmp_path / "docs" / "note.md"
    real.write_text("an older version")
    link = tmp_path / "note.md"
    link.symlink_to(real)
    result = write(server, "-o", str(link))
    assert result.exit_code == 0, result.output
    assert link.is_symlink() and os.readlink(link) == str(real)
    assert real.read_text().startswith("# ") and (tmp_path / "note.md.json").is_file()


def test_a_link_loop_at_the_output_is_refused(tmp_path: Path, server: OpenAIServer) -> None:
    (tmp_path / "a.md").symlink_to(tmp_path / "b.md")
    (tmp_path / "b.md").symlink_to(tmp_path / "a.md")
    refused(write(server, "-o", str(tmp_path / "a.md")), "symbolic link loop")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.md", "b.md"]


INSTRUCTION = json.dumps({"prompt": "Write a 500-word note on tea.", "length": 500}) + "\n"


@pytest.mark.parametrize("kind", ["file", "folder of the user's"])
def test_dataset_build_out_must_be_new_empty_or_a_build(
    tmp_path: Path, server: OpenAIServer, kind: str
) -> None:
    (tmp_path / "in.jsonl").write_text(INSTRUCTION)
    out = tmp_path / "out"
    if kind == "file":
        out.write_text("mine")
    else:
        out.mkdir()
        (out / "mine.txt").write_text("mine")
    before = {p: p.read_bytes() for p in tmp_path.rglob("*") if p.is_file()}
    result = invoke(server, "dataset", "build", str(tmp_path / "in.jsonl"), "--out", str(out))
    refused(result, "not a folder" if kind == "file" else "exists and is not empty")
    assert {p: p.read_bytes() for p in tmp_path.rglob("*") if p.is_file()} == before


def test_eval_run_and_report_refuse_a_folder_of_the_users(tmp_path: Path, server: OpenAIServer) -> None:
    (tmp_path / "suite.jsonl").write_text(json.dumps({"prompt": "Write.", "type": "x", "length": 500}) + "\n")
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "report.md").write_text("my own report")
    (tmp_path / "mine" / "notes.txt").write_text("mine")
    refused(
        invoke(server, "eval", "run", str(tmp_path / "suite.jsonl"), "--out", str(tmp_path / "mine")),
        "not empty",
    )
    result = CliRunner().invoke(
        app, ["eval", "report", str(tmp_path / "mine"), "--out", str(tmp_path / "mine")]
    )
    refused(result, "holds report.md, which no earlier report wrote")
    assert (tmp_path / "mine" / "report.md").read_text() == "my own report"
    assert sorted(p.name for p in (tmp_path / "mine").iterdir()) == ["notes.txt", "report.md"]


def test_a_report_goes_beside_other_files_and_replaces_only_an_earlier_report(tmp_path: Path) -> None:
    from agentwrite.errors import InputError
    from agentwrite.evaluation.report import PLOTS, REPORT, TITLE, report_files

    results = tmp_path / "results"
    (results / "direct").mkdir(parents=True)  # run folders beside the report, as eval/results/ holds
    assert report_files(results) == [results / name for name in (REPORT, *PLOTS)]
    (results / REPORT).write_text(TITLE + "\n\nan earlier one")
    (results / PLOTS[0]).write_bytes(b"png")
    assert report_files(results)[0] == results / REPORT
    (results / REPORT).write_text("# My notes")
    with pytest.raises(InputError, match=r"holds report\.md, which no earlier report wrote"):
        report_files(results)
