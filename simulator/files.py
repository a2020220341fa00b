"""Reading input files with one-line errors, and writing files so that a reader never sees half of one."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from simulator.errors import InputError


def read_text(path: Path) -> str:
    """A UTF-8 input file's text; a missing, unreadable or binary file is an `InputError`."""
    try:
        data = path.read_bytes()
    except OSError as e:
        raise InputError(str(path), "", f"cannot read the file: {e.strerror}", "check the path") from None
    return decode_text(data, str(path))


def decode_text(data: bytes, source: str) -> str:
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as e:
        raise InputError(
            source, f"byte {e.start}", "not UTF-8 text", "give the text file itself, saved as UTF-8"
        ) from None


@contextmanager
def writing(path: Path) -> Iterator[None]:
    """An OS error while writing `path` (no such folder, no permission, disk full) is an `InputError` naming it."""
    try:
        yield
    except OSError as e:
        problem = f"cannot write the file: {e.strerror or e}"
        raise InputError(str(path), "", problem, "choose a folder you can write to") from None


def check_writable(path: Path) -> None:
    """Fail now, before a long measurement, if `path` could not be written later."""
    with writing(path):
        path.parent.mkdir(parents=True, exist_ok=True)
        tempfile.TemporaryFile(dir=path.parent).close()


def write_atomic(path: Path, content: str | bytes) -> None:
    """Write next to the target and rename over it: a reader sees the old file or the new one, never half."""
    with writing(path):
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
        try:
            with os.fdopen(fd, "wb" if isinstance(content, bytes) else "w") as f:
                f.write(content)
                f.flush()
                os.fsync(f.fileno())
            umask = os.umask(0)
            os.umask(umask)
            os.chmod(tmp, 0o666 & ~umask)  # mkstemp makes it private; a measured file is ordinary data
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
