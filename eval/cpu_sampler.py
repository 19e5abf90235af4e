"""Where a process spends its CPU, by part of the program, without changing the program: a
thread wakes every millisecond, reads each other thread's CPU clock
(``time.pthread_getcpuclockid``: Linux) and its stack (``sys._current_frames``), and files
the CPU the thread used since the last look under the part of its innermost frame that
belongs to one (the loop guard, the section checks, stream parsing, checkpointing, or
"other": the rest of the package, the workflow, prompts and events; a library's frames
count for their caller, so that the text a stream's callback passes on to LangGraph is not
stream parsing). The figures are CPU seconds, not wall time, so a thread that waits (in a
selector, a lock, a queue) adds nothing, and other processes on the same cores do not
inflate them; CPU used between a thread's last look and its end is not seen (``unseen_s``:
the process's CPU less what was filed and the sampler's own).

While it samples, the interpreter's switch interval is cut to ``switch`` seconds (0.1 ms;
5 ms by default): the sampler needs the GIL to look, and with 5 ms a thread that computes
in bursts shorter than that (the guard and the checks judge a sentence in well under a
millisecond) gave it up only at its next wait, in a selector or a socket, so their CPU was
filed there. Measured on a 10,000-word parallel document against
``eval/bench_overhead.py``'s engine, with the guard's methods also timed directly (thread
CPU): the sampler filed 6 to 24 ms under the guard at 5 ms against 94 to 115 ms timed, and
41 to 90 ms at 0.1 ms against 93 to 128 ms timed (load 27 to 40). Short parts still read
low: take them as a floor.

Used by ``eval/bench_overhead.py``; parts are known by file paths, so that a guard or a check
that moves into ``agentwrite/writing/`` is still counted.
"""

from __future__ import annotations

import sys
import threading
import time
from collections import Counter
from types import FrameType
from typing import Any, Self

CATEGORIES = ("guard", "checks", "stream parsing", "checkpointing", "other")
_PARTS: tuple[tuple[str, tuple[str, ...]], ...] = (
    (
        "guard",
        (
            "/agentwrite/writing/loop_guard.py",
            "/agentwrite/writing/loop_rules.py",
            "/agentwrite/writing/streamed_text.py",
        ),
    ),
    ("other", ("/agentwrite/writing/markdown.py", "/agentwrite/writing/prior_text.py")),
    ("checks", ("/agentwrite/writing/",)),
    ("stream parsing", ("/openai/", "/httpx/", "/httpcore/", "/h11/", "/agentwrite/llm/openai_")),
    ("checkpointing", ("/langgraph/checkpoint/", "/aiosqlite/", "/sqlite3/")),
)
_SHARED = ("/agentwrite/text_stats.py", "/agentwrite/length.py")
"""The package's own helpers that every part calls (word counts, sentences): like libraries,
their time goes to the caller's part."""


def part_of(filename: str) -> str | None:
    """The part a source file belongs to: one of the parts, "other" for the rest of the
    package, None for the libraries it calls (pydantic, LangGraph's loop, asyncio...), whose
    time goes to the caller's part.

    >>> part_of("/x/agentwrite/writing/loop_guard.py"), part_of("/x/agentwrite/writing/talk.py")
    ('guard', 'checks')
    >>> part_of("/x/agentwrite/writing/loop_rules.py"), part_of("/x/agentwrite/writing/streamed_text.py")
    ('guard', 'guard')
    >>> part_of("/x/agentwrite/writing/markdown.py"), part_of("/x/agentwrite/writing/prior_text.py")
    ('other', 'other')
    >>> part_of("/venv/site-packages/httpx/_models.py"), part_of("/x/agentwrite/graph/nodes/write.py")
    ('stream parsing', 'other')
    >>> part_of("/venv/pydantic/main.py") is None, part_of("/x/agentwrite/text_stats.py") is None
    (True, True)
    """
    for part, paths in _PARTS:
        if any(path in filename for path in paths):
            return part
    return "other" if "/agentwrite/" in filename and not filename.endswith(_SHARED) else None


def classify(frame: FrameType | None) -> tuple[str, str]:
    """A thread's part, that of the innermost frame of its stack that has one, else "other"
    (a thread in no code of the package: the event loop's own), and where: that frame's
    file and function."""
    while frame is not None:
        code = frame.f_code
        part = part_of(code.co_filename)
        if part is not None:
            return part, f"{code.co_filename.rsplit('/', 1)[-1]}:{code.co_name}"
        frame = frame.f_back
    return "other", "(event loop)"


class CpuSampler:
    """While the ``with`` block lasts, looks at every other thread each ``interval`` seconds;
    ``report()`` afterwards."""

    def __init__(self, interval: float = 0.001, switch: float = 0.0001) -> None:
        self.interval, self.switch = interval, switch
        self._switch_before = sys.getswitchinterval()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="cpu-sampler", daemon=True)
        self.cpu: Counter[str] = Counter()  # CPU seconds filed, by part
        self.where: Counter[tuple[str, str]] = Counter()  # and by (part, file:function)
        self.samples = 0
        self.own_cpu = 0.0
        self._process_cpu = 0.0

    def __enter__(self) -> Self:
        self._process_cpu = time.process_time()
        self._switch_before = sys.getswitchinterval()
        sys.setswitchinterval(self.switch)
        self._thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._stop.set()
        self._thread.join()
        sys.setswitchinterval(self._switch_before)
        self._process_cpu = time.process_time() - self._process_cpu

    def _run(self) -> None:
        me = threading.get_ident()
        clocks: dict[int, float] = {}  # each thread's CPU clock at the last look
        while not self._stop.wait(self.interval):
            for ident, frame in sys._current_frames().items():
                if ident == me:
                    continue
                try:
                    used = time.clock_gettime(time.pthread_getcpuclockid(ident))
                except OSError:  # the thread ended meanwhile
                    continue
                if ident in clocks:
                    part, where = classify(frame)
                    self.cpu[part] += used - clocks[ident]
                    self.where[part, where] += used - clocks[ident]
                clocks[ident] = used
            self.samples += 1
        self.own_cpu = time.thread_time()

    def report(self, top: int = 12) -> dict[str, Any]:
        """CPU seconds by part and the ``top`` places they went, the process's CPU, the
        sampler's own, and what was not seen."""
        filed = sum(self.cpu.values())
        return {
            "cpu_s": {part: self.cpu[part] for part in CATEGORIES},
            "top": [[part, where, round(s, 4)] for (part, where), s in self.where.most_common(top)],
            "process_cpu_s": self._process_cpu,
            "sampler_cpu_s": self.own_cpu,
            "unseen_s": self._process_cpu - self.own_cpu - filed,
            "samples": self.samples,
        }
