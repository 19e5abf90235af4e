"""What agentwrite writes on disk, and how it never destroys what it did not create.

``atomic`` writes every whole file through a temporary file renamed over the target (a crash
leaves the old file or the new one), appends JSON Lines a whole line at a time and reads
back what a crash tore, and reads the user's files bounded. ``output_paths`` checks an
output file or folder before any work: a folder of the user's, a device or a link loop is
refused, and no two outputs of one command share a path. ``run_folder`` marks the run
folders agentwrite makes or adopts and clears only the files it wrote there: a file the
user put in one, or a folder they named, is never removed.
"""

from agentwrite.files.atomic import (
    MAX_DATA_FILE_BYTES,
    MAX_TEXT_FILE_BYTES,
    append_jsonl,
    atomic_file,
    file_kind,
    read_bounded,
    read_jsonl,
    read_numbered_jsonl,
    read_text_file,
    write_json,
    write_text,
)

__all__ = [
    "MAX_DATA_FILE_BYTES",
    "MAX_TEXT_FILE_BYTES",
    "append_jsonl",
    "atomic_file",
    "file_kind",
    "read_bounded",
    "read_jsonl",
    "read_numbered_jsonl",
    "read_text_file",
    "write_json",
    "write_text",
]
