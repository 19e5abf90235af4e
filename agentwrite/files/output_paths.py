"""Output paths checked for what they are before any work.

An output file (``write -o`` and ``--json``, ``dataset export --out``, ``dataset
instructions --out``) is new, in a folder that exists, or an existing regular file that is
then replaced atomically. A symbolic link is written through: the file it points to is
replaced and the link stays a link. A folder, a device, a FIFO, a socket, a link loop or a
dangling link into a missing folder is refused. An output folder (a build's, an eval run's,
a merge's, a report's) is new, empty, or one that agentwrite wrote before (``owned``); a
folder of the user's is refused. Two outputs of one command never name one path.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Callable, Mapping
from pathlib import Path

from agentwrite.errors import InputError
from agentwrite.files.atomic import file_kind
from agentwrite.files.run_folder import MARKER, OWN_FILES, check_run_dir


def _target(path: Path, what: str) -> Path:
    """``path``, or the path its symbolic links lead to; InputError for a link loop."""
    if not path.is_symlink():
        return path
    try:
        return Path(os.path.realpath(path, strict=True))
    except FileNotFoundError:  # a dangling link: its target is written
        return Path(os.path.realpath(path))
    except (OSError, RuntimeError):
        raise InputError(f"{what} {path} is a symbolic link loop") from None


def output_file(path: Path, what: str = "output path") -> Path:
    """The file to write for the output ``path`` the user named (the file a link at it points
    to); InputError, writing nothing, when it cannot be written as a regular file.

    >>> import tempfile
    >>> home = Path(tempfile.mkdtemp())
    >>> output_file(home / "doc.md") == home / "doc.md"
    True
    >>> output_file(home)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    agentwrite.errors.InputError: output path ... is a folder, not a file
    """
    real = _target(Path(path), what)
    try:
        mode = os.stat(real).st_mode
    except FileNotFoundError:
        mode = None
    except OSError as exc:
        raise InputError(f"cannot use {what} {path}: {exc.strerror or exc}") from None
    if mode is not None and not stat.S_ISREG(mode):
        raise InputError(f"{what} {path} is {file_kind(mode)}, not a file")
    folder = real.parent
    if not folder.is_dir():
        raise InputError(f"output folder {folder} does not exist")
    if not os.access(folder, os.W_OK) or (mode is not None and not os.access(real, os.W_OK)):
        raise InputError(f"cannot write to {path}: permission denied")
    return real


def output_folder(path: Path, what: str, owned: Callable[[Path], bool] | None = None, also: str = "") -> Path:
    """The folder to write for the output ``path`` (a link at it followed): new, empty, or
    one ``owned`` says agentwrite wrote (``also`` says which, in the refusal); InputError
    otherwise, creating nothing.

    >>> import tempfile
    >>> home = Path(tempfile.mkdtemp()); _ = (home / "mine.txt").write_text("x")
    >>> output_folder(home / "new", "--out") == home / "new"
    True
    >>> output_folder(home, "--out")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    agentwrite.errors.InputError: --out ... exists and is not empty; give a new or empty folder
    """
    real = _target(Path(path), what)
    try:
        mode = os.stat(real).st_mode
    except FileNotFoundError:
        ancestor = real.parent
        while not ancestor.exists() and ancestor != ancestor.parent:
            ancestor = ancestor.parent
        if not ancestor.is_dir():
            raise InputError(f"cannot create {what} {path}: {ancestor} is not a folder") from None
        return real
    except OSError as exc:
        raise InputError(f"cannot use {what} {path}: {exc.strerror or exc}") from None
    if not stat.S_ISDIR(mode):
        raise InputError(f"{what} {path} is {file_kind(mode)}, not a folder")
    if any(real.iterdir()) and not (owned is not None and owned(real)):
        raise InputError(f"{what} {path} exists and is not empty; give a new or empty folder{also}")
    return real


def distinct(paths: Mapping[str, Path | None]) -> None:
    """InputError when two of the named paths (links followed) are one.

    >>> distinct({"-o": Path("a.md"), "--json": Path("./a.md")})
    Traceback (most recent call last):
    ...
    agentwrite.errors.InputError: -o and --json name one path (a.md); give each its own
    """
    seen: dict[str, str] = {}
    for name, path in paths.items():
        if path is None:
            continue
        real = os.path.realpath(path)
        if real in seen:
            raise InputError(f"{seen[real]} and {name} name one path ({path}); give each its own")
        seen[real] = name


def inside(path: Path, folder: Path) -> bool:
    """Whether ``path`` is ``folder`` or lies under it (links followed).

    >>> inside(Path("run/doc.md"), Path("run")), inside(Path("doc.md"), Path("run"))
    (True, False)
    """
    real, top = Path(os.path.realpath(path)), Path(os.path.realpath(folder))
    return real == top or top in real.parents


def document_outputs(out: Path, sidecar: Path, run_dir: Path) -> tuple[Path, Path]:
    """Check the paths of ``agentwrite write`` (the document, its sidecar, the run folder)
    together; return the files to write for the document and the sidecar."""
    distinct({"-o": out, "--json": sidecar, "--run-dir": run_dir})
    targets = output_file(out, "output path"), output_file(sidecar, "sidecar path")
    check_run_dir(run_dir)
    for flag, path in (("-o", out), ("--json", sidecar)):
        if inside(path, run_dir) and path.name in (*OWN_FILES, MARKER):
            raise InputError(f"{flag} {path} is a file the run writes in its folder; name another")
    return targets
