"""Finding input files, choosing their reader, and reading their bytes safely.

Folders are walked recursively in a stable order; ``.gz`` is opened transparently; sizes are capped before
anything large is read, and binary content is recognised before it reaches a text reader.
"""

from __future__ import annotations

import gzip
import hashlib
import os
import re
import zlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

import charset_normalizer

from newstrace.model import Problem

# Extension (after an optional .gz) to reader format.
FORMATS = {
    ".txt": "txt",
    ".text": "txt",
    ".md": "txt",
    ".html": "html",
    ".htm": "html",
    ".xhtml": "html",
    ".jsonl": "jsonl",
    ".ndjson": "jsonl",
    ".json": "json",
    ".csv": "csv",
    ".tsv": "csv",
    ".warc": "warc",
}
SIDECAR_OWNERS = (".txt", ".text", ".md", ".html", ".htm")
DEFAULT_MAX_BYTES = 20_000_000

_MAGIC = (
    (b"%PDF-", "PDF document"),
    (b"\x89PNG\r\n\x1a\n", "PNG image"),
    (b"\xff\xd8\xff", "JPEG image"),
    (b"GIF8", "GIF image"),
    (b"PK\x03\x04", "ZIP archive (also .docx/.xlsx)"),
    (b"\x1f\x8b", "gzip data without a .gz name"),
    (b"\x7fELF", "executable"),
    (b"SQLite format 3", "SQLite database"),
)


class InputError(Exception):
    """A whole input file cannot be read. ``error`` is the one-line reason shown to the user."""

    def __init__(self, error: str, detail: str = "") -> None:
        super().__init__(error)
        self.error = error
        self.detail = detail


@dataclass(frozen=True, slots=True)
class InputFile:
    path: Path
    format: str
    compressed: bool

    @property
    def name(self) -> str:
        return str(self.path)

    def fingerprint(self, options: str = "") -> str:
        """Identifies this file's current content and the reader options, to skip unchanged files on re-runs."""
        try:
            stat = self.path.stat()
            state = f"{stat.st_size}:{stat.st_mtime_ns}"
        except OSError:
            state = "unreadable"
        return hashlib.blake2b(f"{state}|{self.format}|{options}".encode(), digest_size=8).hexdigest()


def detect_format(path: Path, forced: str | None = None) -> tuple[str | None, bool]:
    """The reader format of ``path`` and whether it is gzip-compressed; None when the extension is unknown."""
    suffixes = [s.lower() for s in path.suffixes]
    compressed = bool(suffixes) and suffixes[-1] == ".gz"
    if compressed:
        suffixes = suffixes[:-1]
    if forced:
        return forced, compressed
    if path.name.lower().endswith((".warc.gz", ".warc")):
        return "warc", compressed
    return (FORMATS.get(suffixes[-1]) if suffixes else None), compressed


def _is_sidecar(path: Path) -> bool:
    if path.suffix.lower() != ".json":
        return False
    stem = path.with_suffix("")
    if stem.suffix.lower() in SIDECAR_OWNERS and stem.exists():
        return True  # article.txt.json
    return any(path.with_suffix(ext).exists() for ext in SIDECAR_OWNERS)


def find_inputs(
    paths: Iterable[str | os.PathLike[str]], forced_format: str | None = None
) -> Iterator[InputFile | Problem]:
    """Every input file under ``paths`` (folders recursively, hidden files skipped), in a stable order.

    A path that does not exist, or a file of unknown type given by name, yields a :class:`Problem`; files of
    unknown type met while walking a folder are skipped silently.
    """
    for given in paths:
        root = Path(given)
        if root.is_dir():
            for dirpath, dirnames, filenames in os.walk(root, followlinks=False):
                dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
                for filename in sorted(filenames):
                    if filename.startswith("."):
                        continue
                    path = Path(dirpath) / filename
                    fmt, compressed = detect_format(path, forced_format)
                    if fmt is None or (fmt == "json" and not forced_format and _is_sidecar(path)):
                        continue
                    yield InputFile(path, fmt, compressed)
        elif root.exists() or root.is_symlink():
            fmt, compressed = detect_format(root, forced_format)
            if fmt is None:
                kind = "".join(root.suffixes) or "(no extension)"
                yield Problem(
                    str(root),
                    "find",
                    f"unknown file type {kind}",
                    "use --format txt|html|jsonl|json|csv|warc",
                )
            else:
                yield InputFile(root, fmt, compressed)
        else:
            yield Problem(str(root), "find", "no such file or folder")


def open_binary(item: InputFile):  # -> BinaryIO
    """A binary stream of the file's content, decompressed when it is gzip."""
    try:
        handle = item.path.open("rb")
    except PermissionError as exc:
        raise InputError("permission denied: cannot open the file for reading", str(exc)) from exc
    except IsADirectoryError as exc:
        raise InputError("is a folder, not a file", str(exc)) from exc
    except OSError as exc:
        raise InputError(f"cannot open: {exc.strerror or exc}", str(exc)) from exc
    return gzip.GzipFile(fileobj=handle, mode="rb") if item.compressed else handle


def read_bytes(item: InputFile, max_bytes: int = DEFAULT_MAX_BYTES) -> bytes:
    """The whole (decompressed) content of a single-article file, refusing files over ``max_bytes``."""
    if not item.compressed:
        try:
            size = item.path.stat().st_size
        except OSError as exc:
            raise InputError(f"cannot read: {exc.strerror or exc}") from exc
        if size > max_bytes:
            raise InputError(
                f"file is {size / 1e6:.1f} MB, over the {max_bytes / 1e6:.0f} MB limit for one article",
                "raise it with --max-bytes if this really is one article",
            )
    with open_binary(item) as stream:
        try:
            data = stream.read(max_bytes + 1)
        except (EOFError, gzip.BadGzipFile, zlib.error) as exc:
            raise InputError("truncated or corrupt gzip file", str(exc)) from exc
    if len(data) > max_bytes:
        raise InputError(
            f"content is over the {max_bytes / 1e6:.0f} MB limit for one article",
            "raise it with --max-bytes if this really is one article",
        )
    return data


def sniff_binary(data: bytes) -> str | None:
    """A name for binary content (e.g. "PNG image"), or None when the bytes look like text."""
    head = data[:8192]
    for magic, name in _MAGIC:
        if head.startswith(magic):
            return name
    if b"\x00" in head:
        return "binary data (NUL bytes)"
    return None


@dataclass(frozen=True, slots=True)
class Decoded:
    text: str
    encoding: str
    fallback_reason: str | None = None  # set when the bytes were not valid UTF-8


def decode(data: bytes) -> Decoded:
    """Text from bytes: UTF-8 when valid (a BOM is kept, so offsets match the file), else a detected encoding."""
    try:
        return Decoded(data.decode("utf-8"), "utf-8")
    except UnicodeDecodeError as exc:
        reason = f"not valid UTF-8 at byte {exc.start}"
    best = charset_normalizer.from_bytes(data).best()
    if best is not None and best.encoding:
        return Decoded(str(best), best.encoding, f"{reason}; decoded as {best.encoding} (detected)")
    return Decoded(data.decode("utf-8", errors="replace"), "utf-8", f"{reason}; undecodable bytes replaced")


@dataclass(frozen=True, slots=True)
class ReadOptions:
    """How readers interpret their input. ``mapping`` maps document fields to input columns or keys."""

    mapping: tuple[tuple[str, str], ...] = ()
    max_bytes: int = DEFAULT_MAX_BYTES
    delimiter: str | None = None

    @property
    def fields(self) -> dict[str, str]:
        return dict(self.mapping)

    def describe(self) -> str:
        return f"map={sorted(self.mapping)};max={self.max_bytes};sep={self.delimiter}"


_ESCAPED_BYTE = re.compile("[\udc80-\udcff]")


def unescape_bytes(text: str) -> tuple[str, bool]:
    """Replace bytes that a ``surrogateescape`` decode could not read with U+FFFD; say whether there were any.

    Streaming readers decode with ``errors="surrogateescape"`` so that a bad byte is noticed (and reported)
    instead of silently turned into a replacement character, which valid UTF-8 files may also contain.
    """
    if not _ESCAPED_BYTE.search(text):
        return text, False
    return _ESCAPED_BYTE.sub("\ufffd", text), True


def read_text_file(item: InputFile, max_bytes: int, kind: str = "text") -> Decoded:
    """A single-article file as text: size-capped, refused when binary or empty, decoded with fallback."""
    data = read_bytes(item, max_bytes)
    binary = sniff_binary(data)
    if binary:
        raise InputError(f"binary content ({binary}), not {kind}")
    decoded = decode(data)
    if not decoded.text.strip():
        raise InputError("empty file" if not data else "file holds only whitespace")
    return decoded
