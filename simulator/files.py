"""Reading input files with one-line errors, and writing files so that a reader never sees half of one."""

from __future__ import annotations

import math
import os
import stat
import tempfile
from collections.abc import Hashable, Iterator
from contextlib import contextmanager
from pathlib import Path

import yaml

from simulator.errors import InputError

MAX_INPUT_MB_ENV = "RENT_OR_OWN_MAX_INPUT_MB"
DEFAULT_MAX_INPUT_MB = 10.0
MAX_YAML_DEPTH = 64


def max_input_mb() -> float:
    """Largest input file read, `RENT_OR_OWN_MAX_INPUT_MB` megabytes (default 10)."""
    raw = os.environ.get(MAX_INPUT_MB_ENV, "")
    try:
        mb = float(raw) if raw else DEFAULT_MAX_INPUT_MB
    except ValueError:
        raise InputError(MAX_INPUT_MB_ENV, "", f"{raw!r} is not a number of megabytes", "e.g. 50") from None
    if not 0 < mb < math.inf:
        raise InputError(MAX_INPUT_MB_ENV, "", f"{raw!r} is not a positive number of megabytes", "e.g. 50")
    return mb


def cache_dir() -> Path:
    """rent-or-own's folder in the user's cache: `$XDG_CACHE_HOME/rent-or-own`, else `~/.cache/rent-or-own`
    (a relative `XDG_CACHE_HOME` is ignored, as the XDG base directory specification asks)."""
    given = Path(os.environ.get("XDG_CACHE_HOME", ""))
    return (given if given.is_absolute() else Path.home() / ".cache") / "rent-or-own"


def read_text(path: Path) -> str:
    """A UTF-8 input file's text; a missing, unreadable, binary, oversized or non-regular file (a FIFO or
    a device, which would block or never end) is an `InputError`."""
    limit = int(max_input_mb() * 2**20)
    try:
        info = path.stat()
        if not stat.S_ISREG(info.st_mode):
            raise InputError(str(path), "", "not a regular file", "give a file, not a pipe, device or folder")
        with path.open("rb") as f:
            data = f.read(limit + 1)
    except OSError as e:
        raise InputError(str(path), "", f"cannot read the file: {e.strerror}", "check the path") from None
    check_size(len(data), str(path))
    return decode_text(data, str(path))


def check_size(size_bytes: int, source: str) -> None:
    """An input of more than `max_input_mb` megabytes is an `InputError`."""
    mb = max_input_mb()
    if size_bytes > int(mb * 2**20):
        raise InputError(
            source,
            "",
            f"larger than {mb:g} MB",
            f"a scenario is far smaller; set {MAX_INPUT_MB_ENV} to read a larger file",
        )


class _StrictLoader(yaml.SafeLoader):
    """Safe YAML that refuses a key given twice in one mapping and nesting deeper than MAX_YAML_DEPTH."""

    depth = 0

    def compose_node(self, parent: yaml.Node | None, index: object) -> yaml.Node | None:
        self.depth += 1
        try:
            if self.depth > MAX_YAML_DEPTH:
                mark = self.peek_event().start_mark
                raise yaml.composer.ComposerError(None, None, f"nested deeper than {MAX_YAML_DEPTH} levels", mark)
            return super().compose_node(parent, index)  # type: ignore[arg-type]
        finally:
            self.depth -= 1


def _mapping(loader: _StrictLoader, node: yaml.MappingNode) -> dict[object, object]:
    loader.flatten_mapping(node)
    seen: set[object] = set()
    for key_node, _ in node.value:
        key = loader.construct_object(key_node, deep=True)
        if isinstance(key, Hashable) and key in seen:
            raise yaml.constructor.ConstructorError(
                None, None, f"the key {key!r} is given twice (the first would be lost)", key_node.start_mark
            )
        seen.add(key)
    return loader.construct_mapping(node, deep=True)


_StrictLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _mapping)


def load_yaml(text: str, source: str) -> object:
    """YAML text as data, safely: no tags that build objects, no repeated keys, bounded nesting and
    numbers; anything else is one `InputError` naming the line."""
    try:
        return yaml.load(text, Loader=_StrictLoader)  # a SafeLoader: builds no objects from tags
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        line = f"line {mark.line + 1}" if mark else "(syntax)"
        problem = getattr(e, "problem", None) or str(e).splitlines()[0]
        raise InputError(source, line, f"YAML syntax error: {problem}", "fix the YAML at that line") from None
    except ValueError:  # Python refuses to read an integer of thousands of digits
        raise InputError(
            source, "(syntax)", "a number has thousands of digits", "write a number of ordinary size"
        ) from None


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
