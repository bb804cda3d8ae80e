"""The records of a batch input file: JSON Lines, CSV or plain lines (gzip-compressed or not).

A record is one request's body. ``records(f, fmt)`` yields ``Record``s in order, numbered from
0; blank lines are not records (nor, with ``csv_header``, a CSV file's first row). A record
that cannot be parsed is yielded with ``error`` set (naming its line) and no body, so that
it gets its own output row without being sent.

- ``jsonl``: each non-blank line, which must be one JSON value; the body is the line as it
  is, without surrounding whitespace and line break.
- ``csv``: each row, as Python's csv module reads it (strict: a quote where none may be
  is an error; a quoted field may span lines); the body is the row's text as in the file,
  without its line break. A quoted field still open at the end of the file makes its first
  line an invalid record and parsing starts again on the next line.
- ``lines``: each non-blank line, without its line break (``\\n`` or ``\\r\\n``).
"""

import csv
import gzip
import hashlib
import json
import os
import zlib

FORMATS = {"jsonl": "application/json", "csv": "text/csv", "lines": "text/plain"}
_EXTENSIONS = {
    ".jsonl": "jsonl",
    ".ndjson": "jsonl",
    ".jsonlines": "jsonl",
    ".csv": "csv",
    ".txt": "lines",
    ".text": "lines",
}
# What reading an input may raise: I/O errors, a truncated or corrupt gzip stream.
READ_ERRORS = (OSError, EOFError, zlib.error)
_BOM = b"\xef\xbb\xbf"
_GZIP_MAGIC = b"\x1f\x8b"


class Record:
    __slots__ = ("index", "line", "last_line", "body", "error")

    def __init__(self, index, line, last_line, body, error=None):
        self.index = index
        self.line = line  # 1-based, where the record starts
        self.last_line = last_line
        self.body = body  # bytes, or None when error
        self.error = error

    def where(self):
        if self.last_line > self.line:
            return f"lines {self.line}-{self.last_line}"
        return f"line {self.line}"


def guess_format(path):
    """The format an input's name suggests (``.gz`` looked through), or None."""
    name = path.lower()
    if name.endswith(".gz"):
        name = name[:-3]
    return _EXTENSIONS.get(os.path.splitext(name)[1])


def open_input(path):
    """The input as a binary file: gzip is recognised by its magic bytes."""
    f = open(path, "rb")
    try:
        magic = f.read(2)
        f.seek(0)
        if magic == _GZIP_MAGIC:
            return gzip.GzipFile(fileobj=f, mode="rb")
    except BaseException:
        f.close()
        raise
    return f


def fingerprint(path, chunk=1 << 20):
    """(size, hex digest of the first and last MiB): what tells one input file from another
    without reading all of it."""
    size = os.path.getsize(path)
    h = hashlib.sha256()
    with open(path, "rb") as f:
        h.update(f.read(chunk))
        if size > chunk:
            f.seek(max(chunk, size - chunk))
            h.update(f.read(chunk))
    return size, h.hexdigest()


def records(f, fmt, *, csv_header=False, validate=True, skip=0):
    """The records of binary file ``f`` from number ``skip`` on. The first ``skip`` are only
    found (not checked), as are all with ``validate=False`` (for counting)."""
    if fmt == "jsonl":
        gen = _jsonl(f, validate, skip)
    elif fmt == "lines":
        gen = _lines(f)
    elif fmt == "csv":
        gen = _csv(f, csv_header)
    else:
        raise ValueError(f"unknown format {fmt!r}")
    if skip:
        return (r for r in gen if r.index >= skip)
    return gen


def _numbered(f):
    for lineno, raw in enumerate(f, 1):
        if lineno == 1 and raw.startswith(_BOM):
            raw = raw[3:]
        yield lineno, raw


def _jsonl(f, validate, skip):
    index = 0
    loads = json.loads
    for lineno, raw in _numbered(f):
        line = raw.strip()
        if not line:
            continue
        error = None
        if validate and index >= skip:
            try:
                loads(line)
            except UnicodeDecodeError as e:
                error = f"line {lineno}: not valid UTF-8 ({e.reason} at byte {e.start})"
            except json.JSONDecodeError as e:
                error = f"line {lineno}: not valid JSON: {e.msg} (column {e.colno})"
            except ValueError as e:
                error = f"line {lineno}: not valid JSON: {e}"
        if error is None:
            yield Record(index, lineno, lineno, line)
        else:
            yield Record(index, lineno, lineno, None, error)
        index += 1


def _lines(f):
    index = 0
    for lineno, raw in _numbered(f):
        line = raw.rstrip(b"\r\n")
        if not line.strip():
            continue
        yield Record(index, lineno, lineno, line)
        index += 1


class _LineSource:
    """The file's lines as text for csv.reader, numbered, with the ones taken since the last
    ``taken = []`` kept, and a way to put lines back."""

    def __init__(self, f):
        self._lines = _numbered(f)
        self._back = []
        self.taken = []

    def __iter__(self):
        return self

    def __next__(self):
        if self._back:
            item = self._back.pop()
        else:
            lineno, raw = next(self._lines)
            # surrogateescape: csv parses the text; a record that is not UTF-8 is found after.
            item = (lineno, raw.decode("utf-8", "surrogateescape"))
        self.taken.append(item)
        return item[1]

    def push_back(self, items):
        self._back.extend(reversed(items))


_FIELD_LIMIT = 64 << 20  # csv's default (128 KiB) is less than a request may hold (6 MiB)


def _csv(f, header):
    if csv.field_size_limit() < _FIELD_LIMIT:
        csv.field_size_limit(_FIELD_LIMIT)
    source = _LineSource(f)
    reader = csv.reader(source, strict=True)
    index = 0
    header_seen = not header
    while True:
        source.taken = []
        error = None
        try:
            next(reader)
        except StopIteration:
            break
        except csv.Error as e:
            error = str(e)
        taken = source.taken
        if not taken:
            break
        if error is not None and len(taken) > 1 and "end of data" in error:
            # A quote opened and never closed: the record is its first line; read again from
            # the next one with a fresh reader (the old one is at the end of the file).
            source.push_back(taken[1:])
            taken = taken[:1]
            error = "unterminated quoted field (a quote opened on this line is never closed)"
            reader = csv.reader(source, strict=True)
        text = "".join(t for _, t in taken)
        if not text.strip():
            continue
        if not header_seen:
            header_seen = True
            continue
        first, last = taken[0][0], taken[-1][0]
        where = f"lines {first}-{last}" if last > first else f"line {first}"
        body = None
        if error is not None:
            error = f"{where}: not a valid CSV row: {error}"
        else:
            if text.endswith("\r\n"):
                text = text[:-2]
            elif text.endswith(("\n", "\r")):
                text = text[:-1]
            try:
                body = text.encode("utf-8")
            except UnicodeEncodeError:
                error = f"{where}: not valid UTF-8"
        yield Record(index, first, last, body, error)
        index += 1
