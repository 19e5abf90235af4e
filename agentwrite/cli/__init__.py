"""The command line, thin over the library: one file per command or group (``write`` and
``plan``, ``serve``, ``dataset``, ``eval``, ``train``), wired together in ``root``; the flags
every command shares, generated from ``Settings`` (``options``); one-line errors, exit codes and
a server started for one command (``support``); the plan review at a terminal (``review``); and
the progress bars (``progress``), the only place the package draws on a terminal.

>>> from agentwrite.cli import app, main
>>> [command.callback.__name__ for command in app.registered_commands]
['write', 'plan', 'serve']
"""

from agentwrite.cli.root import app, main

__all__ = ["app", "main"]
