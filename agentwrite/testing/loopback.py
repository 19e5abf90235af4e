"""What the loopback test servers share: an HTTP server on 127.0.0.1, serving from a
background thread while a ``with`` block lasts.

>>> from http.server import BaseHTTPRequestHandler
>>> with LoopbackServer(OwnedServer, BaseHTTPRequestHandler, name="example") as server:
...     server.base_url.startswith("http://127.0.0.1:") and server.base_url.endswith("/v1")
True
"""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Self

HOST = "127.0.0.1"


class OwnedServer(ThreadingHTTPServer):
    """A threading HTTP server that knows the ``LoopbackServer`` it serves for."""

    daemon_threads = True
    request_queue_size = 256  # the default backlog of 5 drops connections from a burst of requests
    owner: Any


class LoopbackServer:
    """``server_class`` serving ``handler_class`` on ``port`` (0: a free one). The server's
    ``owner`` is this object, for its handlers to reach. ``_closing`` is set as the block
    ends, to wake handlers that wait; ``_stop`` is where a subclass ends what the server's
    shutdown does not."""

    def __init__(
        self,
        server_class: type[OwnedServer],
        handler_class: type[BaseHTTPRequestHandler],
        *,
        name: str,
        port: int = 0,
    ) -> None:
        self._lock = threading.Lock()
        self._closing = threading.Event()
        self._httpd = server_class((HOST, port), handler_class)
        self._httpd.owner = self
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, args=(0.02,), name=name, daemon=True
        )

    @property
    def port(self) -> int:
        return int(self._httpd.server_address[1])

    @property
    def base_url(self) -> str:
        return f"http://{HOST}:{self.port}/v1"

    def __enter__(self) -> Self:
        self._thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._closing.set()
        self._stop()
        self._thread.join(timeout=5)

    def _stop(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()
