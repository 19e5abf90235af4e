"""Hostile inputs to every command and to the LangGraph app: each must exit 2 with one line
and no traceback, make no model call, write nothing, leave every file that was there as it
was, and show no secret. ``agentwrite.testing.hostile_drill`` tries a case;
``tests/test_reliability_inputs.py`` asserts every case and ``eval/reliability.py`` counts
the cases that pass.

Each case runs in an empty folder laid out with its ``files``, with the API key ``KEY`` in
the environment, and ``{url}`` in its arguments and environment standing for a loopback
server's base URL that carries the password ``PASSWORD``.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path

KEY = "sk-hostile-Dr1ll-key"
PASSWORD = "hostile-Pa55word"
SECTION = {"title": "Part", "main_point": "What it covers.", "target_words": 500}
LINE = json.dumps({"prompt": "Write a 500-word note on tea.", "type": "note", "length": 500}) + "\n"
PREDICTION = (
    json.dumps({"prompt": "Write.", "type": "x", "length": 500, "response": "Tea.", "key": "a"}) + "\n"
)
EXAMPLE = {"messages": [{"role": "user", "content": "Q"}, {"role": "assistant", "content": "A"}]}
# a build folder's files, as far as export and merge look at them before refusing
BUILD: dict[str, bytes | str] = {
    "b/train.jsonl": json.dumps(EXAMPLE).encode() + b"\n",
    "b/meta.jsonl": b'{"id": "a", "status": "accepted"}\n',
    "b/build.json": b'{"sessions": []}\n',
    "b/stats.json": b"{}\n",
    "b/lengths.png": b"",
}


def plan_json(sections: int) -> str:
    return json.dumps({"title": "T", "sections": [SECTION] * sections})


@dataclass(frozen=True)
class HostileInput:
    """One case: the command (``("app",)`` for the LangGraph app, given a run's context as
    JSON in ``args``), the files laid out first (bytes; ``"fifo"``, ``"folder"``, or
    ``"->TARGET"`` for a symbolic link), the arguments after the command, a fragment of the
    one line it must print, and environment variables besides the key."""

    what: str
    command: tuple[str, ...]
    args: list[str]
    fragment: str
    files: dict[str, bytes | str] = field(default_factory=dict)
    env: dict[str, str] = field(default_factory=dict)

    def lay_out(self, folder: Path) -> None:
        for name, data in self.files.items():
            path = folder / name
            path.parent.mkdir(parents=True, exist_ok=True)
            if data == "fifo":
                os.mkfifo(path)
            elif data == "folder":
                path.mkdir()
            elif isinstance(data, str):
                path.symlink_to(data.removeprefix("->"))
            else:
                path.write_bytes(data)


def write(what: str, args: list[str], fragment: str, files: dict[str, bytes | str] | None = None,
          env: dict[str, str] | None = None) -> HostileInput:  # fmt: skip
    return HostileInput(
        what, ("write",), [*args, "--base-url", "{url}", "-q"], fragment, files or {}, env or {}
    )


def case(command: str, what: str, args: list[str], fragment: str, files: dict[str, bytes | str] | None = None,
         env: dict[str, str] | None = None) -> HostileInput:  # fmt: skip
    return HostileInput(what, tuple(command.split()), args, fragment, files or {}, env or {})


PLAN = ["Essay", "--plan", "p.json"]
SUITE: dict[str, bytes | str] = {"suite.jsonl": LINE.encode()}
URL = ["--base-url", "{url}"]
WRITE_CASES = [
    write("1 MB brief", ["@brief.txt"], "the limit is 20000", {"brief.txt": b"Write about tea. " * 61_681}),
    write("NUL in brief file", ["@brief.txt"], "NUL", {"brief.txt": b"Write about\x00 tea."}),
    write("invalid UTF-8 brief file", ["@brief.txt"], "not valid UTF-8",
          {"brief.txt": b"Write \xff\xfe tea."}),
    write("empty brief", ["   "], "the brief is empty"),
    write("/dev/zero as brief", ["@/dev/zero"], "is a device"),
    write("FIFO as brief", ["@brief"], "is a FIFO", {"brief": "fifo"}),
    write("link loop as brief", ["@loop"], "symbolic link loop", {"loop": "->loop"}),
    write("NUL in plan file", PLAN, "not valid JSON",
          {"p.json": plan_json(2).replace("Part", "Pa\x00rt").encode()}),
    write("invalid UTF-8 plan file", PLAN, "not valid UTF-8",
          {"p.json": plan_json(2).encode().replace(b"Part", b"P\xffrt")}),
    write("plan not JSON", PLAN, "not valid JSON",
          {"p.json": b"Title: Tea\nParagraph 1 - Main Point: x - Word Count: 5 words"}),
    write("plan with 0 sections", PLAN, "sections", {"p.json": plan_json(0).encode()}),
    write("plan with 10,000 sections", PLAN, "at most 200", {"p.json": plan_json(10_000).encode()}),
    write("plan budgets not adding up", [*PLAN, "--words", "5000"],
          "add up to 2000 words, but the target is 5000",
          {"p.json": plan_json(4).encode()}),
    write("FIFO as plan", PLAN, "is a FIFO", {"p.json": "fifo"}),
    write("word target 0", ["Essay", "--words", "0"], "at least 1"),
    write("negative word target", ["Essay", "--words", "-5"], "at least 1"),
    write("target above the ceiling", ["Write a 500000-word essay"], "above the ceiling"),
    write("output inside a missing folder", ["Essay", "-o", "missing/doc.md"], "does not exist"),
    write("sidecar inside a missing folder", ["Essay", "--json", "missing/doc.json"], "does not exist"),
    write("output path is a folder", ["Essay", "-o", "doc.md"], "is a folder", {"doc.md/keep": b""}),
    write("FIFO as output", ["Essay", "-o", "doc.md"], "is a FIFO, not a file", {"doc.md": "fifo"}),
    write("/dev/null as output", ["Essay", "-o", "/dev/null"], "is a device, not a file"),
    write("link loop as output", ["Essay", "-o", "a.md"], "symbolic link loop",
          {"a.md": "->b.md", "b.md": "->a.md"}),
    write("output and sidecar one file", ["Essay", "-o", "doc.md", "--json", "doc.md"], "name one path"),
    write("output and run folder one path", ["Essay", "-o", "doc.md", "--run-dir", "doc.md"],
          "name one path"),
    write("run folder under a file", ["Essay", "--run-dir", "file/run"], "cannot create run", {"file": b""}),
    write("a user's folder as run folder", ["Essay", "--run-dir", "notes"], "did not write",
          {"notes/keep.txt": b"mine"}),
    write("the working folder as run folder, resumed",
          ["Essay", "-o", "doc.md", "--run-dir", ".", "--resume"],
          "did not write", {"doc.md": b"an earlier document", "thesis.tex": b"years of work"}),
    write("/dev/zero as source", ["Essay", "--source", "/dev/zero"], "is a device"),
    write("FIFO as source", ["Essay", "--source", "notes.md"], "is a FIFO", {"notes.md": "fifo"}),
    write("link loop as source", ["Essay", "--source", "loop"], "symbolic link loop", {"loop": "->loop"}),
    write("folder as source", ["Essay", "--source", "notes"], "is a folder", {"notes/a.md": b"Tea."}),
    write("empty source", ["Essay", "--source", "e.md"], "is empty", {"e.md": b"  \n"}),
    write("Latin-1 source", ["Essay", "--source", "l.txt"], "not UTF-8", {"l.txt": "Café".encode("latin-1")}),
    write("one source twice", ["Essay", "--source", "n.md", "--source", "./n.md"], "given twice",
          {"n.md": b"Tea."}),
    write("key with a CR", ["Essay"], "cannot be sent as an HTTP header",
          env={"AGENTWRITE_API_KEY": KEY + "\r"}),
    write("key with a LF from OPENAI_API_KEY", ["Essay"], "cannot be sent as an HTTP header",
          env={"AGENTWRITE_API_KEY": "", "OPENAI_API_KEY": KEY + "\n"}),
    write("non-ASCII key", ["Essay"], "non-ASCII", env={"AGENTWRITE_API_KEY": KEY + "é"}),
    write("key with a CR in a config file", ["Essay", "--config", "c.yaml"],
          "cannot be sent as an HTTP header",
          {"c.yaml": f"api_key: {json.dumps(KEY + chr(13))}\n".encode()}, {"AGENTWRITE_API_KEY": ""}),
    write("port out of range", ["Essay", "--base-url", "http://u:{pw}@127.0.0.1:99999/v1"],
          "port out of range"),
    case("write", "empty server list", ["Essay", "-q"], "lists no server URL",
         env={"AGENTWRITE_BASE_URL": ",,,"}),
    write("malformed AGENTWRITE_DECODING", ["Essay"], "not valid JSON", env={"AGENTWRITE_DECODING": "{bad"}),
    write("malformed --decoding", ["Essay", "--decoding", "garbage"], "expected ROLE.FIELD=VALUE"),
    write("unknown mode", ["Essay", "--mode", "zigzag"], "Invalid value for '--mode'"),
    write("config file /dev/zero", ["Essay", "--config", "/dev/zero"], "is a device"),
    write("config file missing", ["Essay", "--config", "none.yaml"], "does not exist"),
    write("config file not a mapping", ["Essay", "--config", "c.yaml"], "must hold a mapping",
          {"c.yaml": b"- a\n"}),
    write("review with the brief on standard input", ["-", "--review"], "reads answers from standard input"),
]  # fmt: skip
OTHER_CASES = [
    case("plan", "plan: /dev/zero as brief", ["@/dev/zero", *URL], "is a device"),
    case("plan", "plan: FIFO as source", ["Essay", "--source", "s.md", *URL], "is a FIFO", {"s.md": "fifo"}),
    case("plan", "plan: word target 0", ["Essay", "--words", "0", *URL], "at least 1"),
    case("dataset build", "build: negative limit", ["in.jsonl", "--out", "o", "--limit", "-1", *URL],
         "positive number", {"in.jsonl": LINE.encode()}),
    case("dataset build", "build: limit 0", ["in.jsonl", "--out", "o", "--limit", "0", *URL],
         "positive number",
         {"in.jsonl": LINE.encode()}),
    case("dataset build", "build: --out an existing file", ["in.jsonl", "--out", "in.jsonl", *URL],
         "not a folder",
         {"in.jsonl": LINE.encode()}),
    case("dataset build", "build: --out a user's folder", ["in.jsonl", "--out", "o", *URL], "is not empty",
         {"in.jsonl": LINE.encode(), "o/mine.txt": b"mine"}),
    case("dataset build", "build: FIFO as instructions", ["in.jsonl", "--out", "o", *URL], "is a FIFO",
         {"in.jsonl": "fifo"}),
    case("dataset build", "build: /dev/zero as instructions", ["/dev/zero", "--out", "o", *URL],
         "is a device"),
    case("dataset build", "build: missing instructions", ["none.jsonl", "--out", "o", *URL],
         "does not exist"),
    case("dataset build", "build: recipe not YAML", ["in.jsonl", "--out", "o", "--recipe", "r.yaml", *URL],
         "not valid YAML", {"in.jsonl": LINE.encode(), "r.yaml": b"settings: [unclosed\n"}),
    case("dataset build", "build: recipe with an unknown field",
         ["in.jsonl", "--out", "o", "--recipe", "r.yaml", *URL],
         "Extra inputs", {"in.jsonl": LINE.encode(), "r.yaml": b"flavour: tea\n"}),
    case("dataset build", "build: recipe key with a LF",
         ["in.jsonl", "--out", "o", "--recipe", "r.yaml", *URL],
         "cannot be sent as an HTTP header",
         {"in.jsonl": LINE.encode(),
                                  "r.yaml": f"settings: {{api_key: {json.dumps(KEY + chr(10))}}}\n".encode()},
         {"AGENTWRITE_API_KEY": ""}),
    case("dataset build", "build: concurrency 0", ["in.jsonl", "--out", "o", "--concurrency", "0", *URL],
         "greater than or equal to 1", {"in.jsonl": LINE.encode()}),
    case("dataset build", "build: shard out of range", ["in.jsonl", "--out", "o", "--shard", "5/4", *URL],
         "--shard must be I/N", {"in.jsonl": LINE.encode()}),
    case("dataset build", "build: --actors without --ray", ["in.jsonl", "--out", "o", "--actors", "2", *URL],
         "--actors needs --ray", {"in.jsonl": LINE.encode()}),
    case("dataset build", "build: empty server list", ["in.jsonl", "--out", "o"], "lists no server URL",
         {"in.jsonl": LINE.encode()}, {"AGENTWRITE_BASE_URL": " , "}),
    case("dataset merge", "merge: --out a folder of the user's", ["b", "--out", "m"], "is not empty",
         {**BUILD, "m/mine.txt": b"mine"}),
    case("dataset merge", "merge: --out a file", ["b", "--out", "m"], "not a folder",
         {**BUILD, "m": b"mine"}),
    case("dataset merge", "merge: not a build folder", ["notes", "--out", "m"], "not a dataset build folder",
         {"notes/a.txt": b"x"}),
    case("dataset merge", "merge: one folder twice", ["b", "./b", "--out", "m"], "given twice", BUILD),
    case("dataset export", "export: unknown format", ["b", "--format", "xml"], "unknown export format",
         BUILD),
    case("dataset export", "export: not a build folder", ["notes"], "holds no train.jsonl",
         {"notes/a.txt": b"x"}),
    case("dataset export", "export: --out a FIFO", ["b", "--out", "out.jsonl"], "is a FIFO",
         {**BUILD, "out.jsonl": "fifo"}),
    case("dataset export", "export: --out a folder", ["b", "--out", "out"], "is a folder",
         {**BUILD, "out/x": b""}),
    case("dataset export", "export: hf into a folder of the user's", ["b", "--format", "hf", "--out", "hf"],
         "is not empty", {**BUILD, "hf/mine.txt": b"mine"}),
    case("dataset export", "export: --test-size with a file format", ["b", "--test-size", "0.2"],
         "--test-size goes with", BUILD),
    case("eval run", "eval run: negative limit", ["suite.jsonl", "--out", "o", "--limit", "-2", *URL],
         "positive number", SUITE),
    case("eval run", "eval run: --out a folder of the user's", ["suite.jsonl", "--out", "o", *URL],
         "is not empty",
         {**SUITE, "o/mine.txt": b"mine"}),
    case("eval run", "eval run: missing suite", ["none.jsonl", "--out", "o", *URL], "does not exist"),
    case("eval run", "eval run: FIFO as suite", ["suite.jsonl", "--out", "o", *URL], "is a FIFO",
         {"suite.jsonl": "fifo"}),
    case("eval run", "eval run: suite line not JSON", ["suite.jsonl", "--out", "o", *URL], "not valid JSON",
         {"suite.jsonl": b'{"prompt": "Wri\n'}),
    case("eval run", "eval run: unknown target", ["suite.jsonl", "--out", "o", "--target", "both", *URL],
         "--target must be", SUITE),
    case("eval run", "eval run: concurrency 0", ["suite.jsonl", "--out", "o", "--concurrency", "0", *URL],
         "at least 1", SUITE),
    case("eval score", "eval score: no run folder", ["none", "--no-embeddings"], "does not exist"),
    case("eval score", "eval score: /dev/zero as predictions", ["/dev/zero", "--no-embeddings"],
         "not a file"),
    case("eval score", "eval score: concurrency 0", ["r", "--concurrency", "0"], "at least 1",
         {"r/predictions.jsonl": PREDICTION.encode()}),
    case("eval score", "eval score: prediction line not JSON", ["r", "--no-embeddings"], "not valid JSON",
         {"r/predictions.jsonl": b"{not json\n"}),
    case("eval score", "eval score: judge port out of range",
         ["r", "--no-embeddings", "--judge-base-url", "http://j:{pw}@127.0.0.1:70000/v1"],
         "port out of range",
         {"r/predictions.jsonl": PREDICTION.encode()}),
    case("eval report", "eval report: run not scored", ["r"], "has no scores.json",
         {"r/predictions.jsonl": PREDICTION.encode()}),
    case("eval report", "eval report: --out a folder of the user's", ["r", "--out", "mine"],
         "which no earlier report wrote", {"r/scores.json": b"", "mine/report.md": b"mine", "mine/n": b"x"}),
    case("eval report", "eval report: --out a file", ["r", "--out", "mine"], "not a folder",
         {"r/scores.json": b"{}", "mine": b"mine"}),
    case("serve", "serve: missing model folder", ["/nonexistent/model"],
         "not a local Hugging Face model folder"),
    case("serve", "serve: a file as model folder", ["model"], "not a local Hugging Face model folder",
         {"model": b"weights?"}),
    case("serve", "serve: port out of range", ["--port", "70000"], "Invalid value for '--port'"),
    case("app", "app: a key in the run's context", ['{"settings": {"api_key": "sk-from-a-client"}}'],
         "may not carry an API key"),
    case("app", "app: OPENAI_API_KEY in the run's context", ['{"settings": {"OPENAI_API_KEY": "sk-c"}}'],
         "may not carry an API key"),
    case("app", "app: another server", ['{"settings": {"base_url": ["http://127.0.0.1:9/v1"]}}'],
         "may not send requests to http://127.0.0.1:9/v1"),
    case("app", "app: another server by its alias",
         ['{"settings": {"OPENAI_BASE_URL": "http://127.0.0.1:9/v1"}}'],
         "may not send requests to"),
    case("app", "app: widening the allow-list",
         ['{"settings": {"allowed_base_urls": ["http://127.0.0.1:9/v1"]}}'],
         "may not change allowed_base_urls"),
    case("app", "app: a bad setting", ['{"settings": {"mode": "zigzag"}}'], "invalid setting mode"),
    case("app", "app: a port out of range", ['{"settings": {"base_url": "http://u:{pw}@127.0.0.1:0/v1"}}'],
         "port out of range"),
]  # fmt: skip
CASES = WRITE_CASES + OTHER_CASES
