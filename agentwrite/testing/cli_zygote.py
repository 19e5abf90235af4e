"""Fork CLI runs from a parent that has already imported the package.

Kill drills start the command line dozens of times; importing LangGraph and friends costs
about two seconds of CPU a start, so a fresh interpreter each time would make the drills
slow. This parent imports ``agentwrite.cli`` (and the modules its commands load: the OpenAI
client, datasketch for a build's near-duplicate index, matplotlib for its length plot, the
word lists that tell Latin languages
apart; together 3 to 4 s of CPU a child when each child loaded them) once, runs nothing
else, and forks one child per run. Each child is a separate process that runs the
CLI's ``main()`` exactly as ``agentwrite ...`` would, with its own working folder,
environment and output files; it can be killed with SIGKILL like any other.

Protocol, one JSON object a line on stdin, one answer a line on stdout:
``{"argv": [...], "cwd": str, "env": {...}, "log": str}`` starts a run and answers
``{"pid": n}``; ``{"wait": n}`` reaps that child and answers ``{"code": c}`` (a negative
signal number when it was killed); ``{"poll": n}`` answers the same without waiting
(``{"code": null}`` while it runs).
"""

from __future__ import annotations

import json
import os
import sys


def _child(argv: list[str], cwd: str, env: dict[str, str], log: str) -> None:
    from agentwrite.cli import main

    os.chdir(cwd)
    os.environ.update(env)
    fd = os.open(log, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    os.dup2(fd, 1)
    os.dup2(fd, 2)
    sys.argv = ["agentwrite", *argv]
    code = 0
    try:
        main()
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
    os._exit(code)


def serve() -> None:
    """Answer run and wait requests until stdin closes."""
    import datasketch  # noqa: F401
    import matplotlib

    import agentwrite.cli
    import agentwrite.dataset.build
    import agentwrite.llm.openai_compat
    import agentwrite.runner  # noqa: F401  (imported here so that children start warm)
    from agentwrite.writing.language import load_common_words

    matplotlib.use("Agg")
    import matplotlib.pyplot

    load_common_words()

    for line in sys.stdin:
        request = json.loads(line)
        if "wait" in request or "poll" in request:
            pid = request.get("wait") or request["poll"]
            done, status = os.waitpid(pid, 0 if "wait" in request else os.WNOHANG)
            if done == 0:
                answer: dict[str, int | None] = {"code": None}
            else:
                answer = {"code": -os.WTERMSIG(status) if os.WIFSIGNALED(status) else os.WEXITSTATUS(status)}
        else:
            pid = os.fork()
            if pid == 0:
                _child(request["argv"], request["cwd"], request.get("env", {}), request["log"])
            answer = {"pid": pid}
        sys.stdout.write(json.dumps(answer) + "\n")
        sys.stdout.flush()


if __name__ == "__main__":
    serve()
