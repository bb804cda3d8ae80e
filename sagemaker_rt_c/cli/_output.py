"""A batch job's output: JSON Lines, one row per input record in input order, appended one
row per write() so that what a crash, Ctrl-C or ``kill -9`` leaves is a prefix of the rows
(and at most one incomplete last line). Next to it, ``OUTPUT.meta.json`` names the job
(endpoint, input file, format, request parameters) so that a rerun resumes only the same job.

Resuming: the rows already there must be rows 0..k-1 of this job (each a complete line,
a JSON object whose ``"index"`` is its position); an incomplete last line is cut off;
anything else is refused. Then input records 0..k-1 are skipped and the rest appended.
"""

import collections
import json
import os
import time

from ._common import UsageError

META_SUFFIX = ".meta.json"
_META_VERSION = 1
# What must match for a rerun to resume (else it is another job's output).
_IDENTITY = ("endpoint", "format", "csv_header", "request", "input_size", "input_fingerprint")


class Output:
    def __init__(self, path, identity, input_path):
        self.path = path
        self.meta_path = path + META_SUFFIX
        self.identity = identity
        self.input_path = input_path
        self.fd = None
        self.rows = 0  # rows in the file
        self.resumed = 0  # of which were there when the job started
        self.succeeded = 0
        self.errors = collections.Counter()
        self.dropped = 0  # bytes of an incomplete last line cut off when resuming

    # --- opening ----------------------------------------------------------------------------

    def open(self, overwrite=False):
        """Open for appending, after checking (or resetting, with ``overwrite``) what is
        there. Refusals raise UsageError."""
        path = self.path
        if os.path.isdir(path):
            raise UsageError(f"output {path!r} is a directory")
        try:
            size = os.path.getsize(path)
        except FileNotFoundError:
            size = 0
        except OSError as e:
            raise UsageError(f"cannot read output {path!r}: {e.strerror or e}") from None
        if overwrite or size == 0:
            # The rows go first, then the job's name: a crash in between leaves an empty
            # output, which is always a fresh start.
            self._open(truncate=True)
            self._write_meta(complete=False)
            return self
        meta = self._read_meta()
        self._check_identity(meta)
        self._scan()
        self._open(truncate=False)
        return self

    def _open(self, truncate):
        flags = os.O_WRONLY | os.O_CREAT | os.O_APPEND | getattr(os, "O_CLOEXEC", 0)
        if truncate:
            flags |= os.O_TRUNC
        try:
            self.fd = os.open(self.path, flags, 0o644)
        except OSError as e:
            raise UsageError(f"cannot write output {self.path!r}: {e.strerror or e}") from None

    def _read_meta(self):
        try:
            with open(self.meta_path, encoding="utf-8") as f:
                meta = json.load(f)
        except FileNotFoundError:
            raise UsageError(
                f"output {self.path!r} exists and has no {os.path.basename(self.meta_path)}:"
                " it was not written by sagemaker-rt-c batch, or its job file was removed."
                " Use --overwrite to replace it, or choose another output"
            ) from None
        except (OSError, ValueError) as e:
            raise UsageError(f"cannot read {self.meta_path!r}: {e}") from None
        if not isinstance(meta, dict) or meta.get("sagemaker_rt_c_batch") != _META_VERSION:
            raise UsageError(
                f"{self.meta_path!r} is not a job file of this version of sagemaker-rt-c batch;"
                " use --overwrite to start over"
            )
        return meta

    def _check_identity(self, meta):
        theirs = meta.get("job") or {}
        diffs = []
        for key in _IDENTITY:
            if theirs.get(key) != self.identity.get(key):
                diffs.append(f"{key} {theirs.get(key)!r} there, {self.identity.get(key)!r} now")
        if diffs:
            what = "; ".join(diffs)
            if any(k.startswith("input_") for k in _IDENTITY if theirs.get(k) != self.identity[k]):
                what += f" (it was made from {meta.get('input_path')!r})"
            raise UsageError(
                f"output {self.path!r} belongs to another job: {what}. Use --overwrite to"
                " start over, or choose another output"
            )

    def _scan(self):
        """Count the complete rows 0..k-1; cut off an incomplete last line."""
        good = 0  # bytes of the good prefix
        rows = 0
        bad_line = None
        try:
            with open(self.path, "rb") as f:
                for line in f:
                    if not line.endswith(b"\n"):
                        break  # an incomplete last line: cut below
                    code = _row_status(line, rows)
                    if code is None:
                        bad_line = rows + 1
                        break
                    if code is True:
                        self.succeeded += 1
                    else:
                        self.errors[code] += 1
                    rows += 1
                    good += len(line)
                size = f.seek(0, os.SEEK_END)
        except OSError as e:
            raise UsageError(f"cannot read output {self.path!r}: {e.strerror or e}") from None
        if bad_line is not None:
            raise UsageError(
                f"output {self.path!r} line {bad_line} is not row {rows} of this job (a JSON"
                ' object with "index": ' + str(rows) + "): the file was changed after this"
                " command wrote it. Use --overwrite to start over"
            )
        if size > good:
            try:
                os.truncate(self.path, good)
            except OSError as e:
                raise UsageError(f"cannot truncate output {self.path!r}: {e}") from None
            self.dropped = size - good
        self.rows = self.resumed = rows

    # --- writing ----------------------------------------------------------------------------

    def write(self, data, error_code=None):
        """Append one row (bytes ending with a newline) in one write()."""
        view = memoryview(data)
        while view:
            n = os.write(self.fd, view)
            view = view[n:]
        self.rows += 1
        if error_code is None:
            self.succeeded += 1
        else:
            self.errors[error_code] += 1

    def finish(self, records):
        """All rows written: flush them to disk and mark the job complete."""
        os.fsync(self.fd)
        self._write_meta(complete=True, records=records)

    def close(self):
        if self.fd is not None:
            os.close(self.fd)
            self.fd = None

    def _write_meta(self, complete, records=None):
        meta = {
            "sagemaker_rt_c_batch": _META_VERSION,
            "job": self.identity,
            "input_path": os.path.abspath(self.input_path),
            "updated": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            "complete": complete,
        }
        if complete:
            meta["records"] = records
            meta["succeeded"] = self.succeeded
            meta["errors"] = dict(sorted(self.errors.items()))
        tmp = f"{self.meta_path}.tmp{os.getpid()}"
        try:
            with open(tmp, "w", encoding="utf-8") as f:
                json.dump(meta, f, indent=2)
                f.write("\n")
                f.flush()
                os.fsync(f.fileno())
            os.replace(tmp, self.meta_path)
        except OSError as e:
            try:
                os.unlink(tmp)
            except OSError:
                pass
            raise UsageError(f"cannot write {self.meta_path!r}: {e.strerror or e}") from None


def _row_status(line, index):
    """True (a success), the error code, or None when the line is not row ``index``."""
    try:
        row = json.loads(line)
    except ValueError:
        return None
    if not isinstance(row, dict) or type(row.get("index")) is not int or row["index"] != index:
        return None
    if "Error" in row:
        return str(row["Error"])
    if "Body" in row or "BodyBase64" in row:
        return True
    return None
