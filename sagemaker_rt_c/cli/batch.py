"""``sagemaker-rt-c batch ENDPOINT INPUT -o OUTPUT``: every record of a file through an
endpoint (``client.invoke_endpoint_batch``), one output row per record in input order,
resumable after any interruption."""

import argparse
import collections
import json
import os
import sys
import time
from array import array

from . import _common, _output, _records

HELP = "invoke an endpoint on every record of a file (resumable); JSON Lines out"

_DESCRIPTION = """\
Send every record of INPUT to ENDPOINT, up to --max-concurrency calls at a time, and write
one JSON Lines row per record to OUTPUT, in input order. Interrupted in any way (Ctrl-C, a
crash, kill -9), the same command resumes where it stopped: the final OUTPUT is what an
uninterrupted run writes, no record lost or repeated."""

_EPILOG = (
    """\
input (the format from INPUT's extension, or --format; gzip-compressed files are read too):
  jsonl   .jsonl .ndjson .jsonlines: each line one JSON value, sent as it is (Content-Type
          application/json)
  csv     .csv: each row (Python's csv rules; a quoted field may span lines), sent as its
          text in the file (text/csv). Every row is a record unless --csv-header, which
          makes the first row a header: neither sent nor given a row
  lines   .txt .text: each line, without its line break (text/plain)
  Blank lines are not records. A record that cannot be parsed (a line that is not JSON, a
  CSV row that is not valid) is not sent: its row is an InvalidInput error naming the line.

output rows (JSON Lines, UTF-8, exactly one per record, in input order):
  {"index": 0, "Body": "...", "ContentType": "application/json", "latency_ms": 3.2}
  {"index": 1, "BodyBase64": "...", "ContentType": "...", "latency_ms": 2.9}
  {"index": 2, "Error": "ModelError", "Message": "...", "latency_ms": 4.1}
  {"index": 3, "Error": "InvalidInput", "Message": "line 4: not valid JSON: ...",
   "latency_ms": null}
  index: the record's number (from 0: blank lines and a CSV header are not records); Body:
  the response decoded as UTF-8, BodyBase64 when it is not valid UTF-8; Error: the service's
  error code (ModelError, ValidationError ...) or the client's (ReadTimeoutError ...), with
  its Message; latency_ms: the call's own time, from its first send to its response
  (retries and their backoffs included, queueing in the batch not); null for a record
  never sent.

resume:
  OUTPUT.meta.json names the job (endpoint, input size and fingerprint, format, request
  options; not the endpoint URL, region or profile, which may change between runs).
  Rerunning the same command checks that OUTPUT's rows are rows 0..k-1 of that job, cuts
  off an incomplete last line, skips k records and appends the rest; a finished job is
  left as it is. An OUTPUT of another job, or one changed by hand, is refused (exit 2)
  unless --overwrite. Errors that are not a record's (credentials, an endpoint that does
  not exist or cannot be reached) stop the job before writing that record's row
  (exit 3 or 4): fix the cause and rerun to resume.

examples:
  sagemaker-rt-c batch my-endpoint reviews.jsonl -o results.jsonl
  sagemaker-rt-c batch my-xgb rows.csv -o scores.jsonl --csv-header --max-concurrency auto
  sagemaker-rt-c batch sentiment texts.txt -o out.jsonl --endpoint-url http://127.0.0.1:8765

"""
    + _common.EXIT_CODES_HELP
)

_MAX_CONCURRENCY = 1024  # invoke_endpoint_batch's bounds
_AUTO_MAX = 256  # the most calls max_concurrency='auto' grows to
_SHOW_INVALID = 20  # invalid records told on stderr one by one; the rest only counted


def _concurrency(text):
    if text == "auto":
        return "auto"
    try:
        value = int(text)
    except ValueError:
        value = None
    if value is None or not 1 <= value <= _MAX_CONCURRENCY:
        raise argparse.ArgumentTypeError(
            f"{text!r}: expected a whole number from 1 to {_MAX_CONCURRENCY}, or auto"
        )
    return value


def _interval(text):
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if not value > 0:
        raise argparse.ArgumentTypeError(f"{text!r}: expected a number of seconds above 0")
    return value


def add_parser(commands):
    parser = commands.add_parser(
        "batch",
        help=HELP,
        description=_DESCRIPTION,
        epilog=_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("endpoint", metavar="ENDPOINT", help="the endpoint's name")
    parser.add_argument("input", metavar="INPUT", help="the records (JSON Lines, CSV or lines)")
    parser.add_argument(
        "-o", "--output", required=True, metavar="OUTPUT", help="the results (JSON Lines)"
    )
    parser.add_argument(
        "--format",
        choices=sorted(_records.FORMATS),
        help="INPUT's format (default: from its extension)",
    )
    parser.add_argument(
        "--csv-header", action="store_true", help="csv: the first row is a header, not a record"
    )
    parser.add_argument(
        "--content-type",
        metavar="TYPE",
        help="the records' Content-Type (default: application/json, text/csv or text/plain,"
        " by format)",
    )
    parser.add_argument("--accept", metavar="TYPE", help="the Accept header")
    parser.add_argument("--custom-attributes", metavar="VALUE", help="CustomAttributes")
    parser.add_argument("--target-model", metavar="VALUE", help="TargetModel (multi-model)")
    parser.add_argument("--target-variant", metavar="VALUE", help="TargetVariant")
    parser.add_argument("--inference-component", metavar="VALUE", help="InferenceComponentName")
    parser.add_argument(
        "--max-concurrency",
        type=_concurrency,
        default=32,
        metavar="N|auto",
        help="calls in flight at most (1-1024; default 32), or auto: start at 8, grow while"
        " latency stays flat, cut on throttling, up to 256",
    )
    progress = parser.add_mutually_exclusive_group()
    progress.add_argument(
        "--progress",
        action="store_true",
        help="show a progress bar on stderr even when it is not a terminal (tqdm, if installed)",
    )
    progress.add_argument(
        "--no-progress", action="store_true", help="no progress on stderr (the summary stays)"
    )
    parser.add_argument(
        "--progress-every",
        type=_interval,
        default=5.0,
        metavar="SECONDS",
        help="without a progress bar, a progress line every SECONDS (default 5)",
    )
    parser.add_argument(
        "--overwrite",
        "--restart",
        action="store_true",
        help="start over: replace OUTPUT (and its job file) instead of resuming",
    )
    _common.add_client_arguments(parser)
    return parser


_PARAMS = (
    ("accept", "Accept"),
    ("custom_attributes", "CustomAttributes"),
    ("target_model", "TargetModel"),
    ("target_variant", "TargetVariant"),
    ("inference_component", "InferenceComponentName"),
)


def run(args):
    fmt = args.format or _records.guess_format(args.input)
    if fmt is None:
        raise _common.UsageError(
            f"cannot tell the format of {args.input!r} from its name: give --format"
            f" ({', '.join(sorted(_records.FORMATS))})"
        )
    if args.csv_header and fmt != "csv":
        raise _common.UsageError("--csv-header is for --format csv")
    if args.output == "-":
        raise _common.UsageError("-o -: OUTPUT must be a file (a rerun reads it to resume)")
    _check_input(args.input, args.output)
    try:
        size, digest = _records.fingerprint(args.input)
    except OSError as e:
        raise _common.UsageError(f"cannot read input {args.input!r}: {e.strerror or e}") from None

    request = {"EndpointName": args.endpoint, "ContentType": args.content_type or
               _records.FORMATS[fmt]}  # fmt: skip
    for attr, name in _PARAMS:
        if getattr(args, attr) is not None:
            request[name] = getattr(args, attr)
    identity = {
        "endpoint": args.endpoint,
        "format": fmt,
        "csv_header": bool(args.csv_header),
        "request": {k: v for k, v in request.items() if k != "EndpointName"},
        "input_size": size,
        "input_fingerprint": digest,
    }

    pool = args.max_concurrency if isinstance(args.max_concurrency, int) else _AUTO_MAX
    session, client = _common.make_client(args, max_pool_connections=max(pool, 10))
    if session.get_credentials() is None:
        raise _common.config_error("NoCredentialsError", "Unable to locate credentials")

    out = _output.Output(args.output, identity, args.input).open(overwrite=args.overwrite)
    try:
        return _Job(args, client, fmt, request, out).run()
    finally:
        out.close()


def _check_input(path, output):
    if os.path.isdir(path):
        raise _common.UsageError(f"input {path!r} is a directory")
    if not os.path.exists(path):
        raise _common.UsageError(f"input {path!r}: no such file")
    if not os.access(path, os.R_OK):
        raise _common.UsageError(f"input {path!r}: permission denied")
    try:
        same = os.path.exists(output) and os.path.samefile(path, output)
    except OSError:
        same = False
    if same or os.path.abspath(path) == os.path.abspath(output):
        raise _common.UsageError("INPUT and OUTPUT are the same file")


class _Job:
    def __init__(self, args, client, fmt, request, out):
        self.args = args
        self.client = client
        self.fmt = fmt
        self.request = request
        self.out = out
        self.pending = collections.deque()  # (index, sent at, Record if invalid) in order
        self.input_error = None
        self.records_total = None
        self.latencies = array("d")
        self.invalid_told = 0
        self.results = None

    # --- the input --------------------------------------------------------------------------

    def _open_records(self, validate=True, skip=0):
        f = _records.open_input(self.args.input)
        recs = _records.records(
            f, self.fmt, csv_header=self.args.csv_header, validate=validate, skip=skip
        )
        return f, recs

    def _count(self):
        """How many records INPUT holds (for the progress bar), or None if that would take
        long (over 256 MiB) or fails (the run reports that)."""
        if os.path.getsize(self.args.input) > 256 << 20:
            return None
        try:
            f, recs = self._open_records(validate=False)
            with f:
                return sum(1 for _ in recs)
        except _records.READ_ERRORS:
            return None

    def _requests(self, skip):
        """The requests, in order, from record ``skip`` on (the ones before have their rows
        in OUTPUT); invalid records go to ``pending`` without a request."""
        now = time.perf_counter
        pending = self.pending
        base = self.request
        try:
            f, recs = self._open_records(skip=skip)
            with f:
                for rec in recs:
                    if rec.error is not None:
                        pending.append((rec.index, None, rec))
                        continue
                    pending.append((rec.index, now(), None))
                    yield dict(base, Body=rec.body)
        except _records.READ_ERRORS as e:  # an I/O error, a truncated gzip file
            self.input_error = e

    # --- the run ----------------------------------------------------------------------------

    @property
    def concurrency(self):
        """Calls in flight at most now (with --max-concurrency auto, the adapted window)."""
        return getattr(self.results, "concurrency", None)

    def run(self):
        args = self.args
        out = self.out
        skip = out.rows
        self.records_total = total = self._count()
        self.progress = progress = _Progress.make(args, total, skip, self)
        if out.dropped:
            progress.write(
                f"batch: cut off an incomplete last row ({out.dropped} bytes) left by an"
                " interruption"
            )
        if skip:
            left = f" of {total}" if total is not None else ""
            progress.write(f"batch: resuming {out.path}: {skip}{left} rows already there")
        started = time.perf_counter()
        stopped = None
        interrupted = False
        write_error = None
        pending = self.pending
        now = time.perf_counter
        describe = _common.describe
        try:
            self.results = results = self.client.invoke_endpoint_batch(
                self._requests(skip), max_concurrency=args.max_concurrency
            )
            with results:
                for result in results:
                    self._write_invalid()
                    index, sent, _ = pending.popleft()
                    took = results.last_latency  # the call's own: first send to response
                    ms = (now() - sent) * 1000.0 if took is None else took * 1000.0
                    if isinstance(result, BaseException):
                        kind, code, message = describe(result)
                        if kind != _common.RECORD:
                            stopped = (kind, code, message, index)
                            break
                        row = {"index": index, "Error": code, "Message": message}
                    else:
                        code = None
                        row = _success_row(index, result)
                    row["latency_ms"] = round(ms, 3)
                    self._write(row, code)
                    self.latencies.append(ms)
                else:
                    self._write_invalid()
        except KeyboardInterrupt:
            interrupted = True
        except _OutputError as e:
            write_error = e.args[0]
        finally:
            progress.close()
        elapsed = time.perf_counter() - started
        complete = (
            stopped is None and not interrupted and self.input_error is None and write_error is None
        )
        if complete:
            out.finish(out.rows)
        self._summary(elapsed, out.rows - skip, skip, complete)
        if interrupted:
            print(
                f"batch: interrupted; {out.rows} rows written: rerun the same command to resume",
                file=sys.stderr,
            )
            return _common.EXIT_INTERRUPTED
        if stopped is not None:
            kind, code, message, index = stopped
            print(f"Error: {_common.error_line(code, message)}", file=sys.stderr)
            print(
                f"batch: stopped at record {index} (not written): every call would fail the same"
                " way. Fix the cause and rerun the same command to resume",
                file=sys.stderr,
            )
            return _common.exit_code_for(kind)
        if write_error is not None:
            print(
                f"Error: cannot write output {out.path!r}:"
                f" {write_error.strerror or write_error}; rerun the same command to resume",
                file=sys.stderr,
            )
            return _common.EXIT_USAGE
        if self.input_error is not None:
            e = self.input_error
            detail = e.strerror if isinstance(e, OSError) and e.strerror else str(e)
            detail = detail or type(e).__name__
            print(
                f"Error: reading input {args.input!r} after {out.rows} records: {detail}",
                file=sys.stderr,
            )
            return _common.EXIT_USAGE
        return _common.EXIT_FAILED if out.errors else _common.EXIT_OK

    def _write_invalid(self):
        pending = self.pending
        while pending and pending[0][2] is not None:
            index, _, rec = pending.popleft()
            if self.invalid_told < _SHOW_INVALID:
                self.progress.write(f"batch: InvalidInput (record {index}): {rec.error}")
            elif self.invalid_told == _SHOW_INVALID:
                self.progress.write("batch: more invalid records: see their rows in the output")
            self.invalid_told += 1
            row = {"index": index, "Error": "InvalidInput", "Message": rec.error,
                   "latency_ms": None}  # fmt: skip
            self._write(row, "InvalidInput")

    def _write(self, row, code):
        try:
            self.out.write(_encode(row), code)
        except OSError as e:  # a full disk, a file system gone read-only ...
            raise _OutputError(e) from None
        self.progress.row()

    def _summary(self, elapsed, done_now, resumed, complete):
        out = self.out
        failed = sum(out.errors.values())
        total = self.records_total
        state = "complete" if complete else "incomplete"
        of = f" of {total}" if total is not None and not complete else ""
        by_count = sorted(out.errors.items(), key=lambda kv: (-kv[1], kv[0]))
        codes = ", ".join(f"{c}: {n}" for c, n in by_count)
        lines = [
            f"batch: {out.path}: {out.rows}{of} rows ({state}): {out.succeeded} succeeded,"
            f" {failed} failed" + (f" ({codes})" if failed else "")
        ]
        rate = done_now / elapsed if elapsed > 0 else 0.0
        run = f"batch: this run: {done_now} records in {elapsed:.2f} s ({rate:,.0f} records/s)"
        if resumed:
            run += f", resumed after {resumed}"
        lines.append(run)
        if self.latencies:
            p50, p90, p99 = _percentiles(self.latencies, (50, 90, 99))
            lines.append(
                f"batch: latency ms (first send to response): p50 {p50:.2f},"
                f" p90 {p90:.2f}, p99 {p99:.2f}"
            )
        print("\n".join(lines), file=sys.stderr, flush=True)


class _OutputError(Exception):
    """Writing a row failed (the OSError in args[0])."""


def _success_row(index, result):
    body = result.get("Body")
    if body is None:
        body = b""
    elif not isinstance(body, (bytes, bytearray, memoryview)):
        body = body.read()  # a StreamingBody, should the engine hand one over
    row = {"index": index}
    try:
        row["Body"] = bytes(body).decode("utf-8")
    except UnicodeDecodeError:
        import base64

        row["BodyBase64"] = base64.b64encode(body).decode("ascii")
    row["ContentType"] = result.get("ContentType")
    return row


# Line separators that JSON leaves unescaped but str.splitlines() splits on.
_SEPARATORS = str.maketrans({"\x85": "\\u0085", "\u2028": "\\u2028", "\u2029": "\\u2029"})


def _encode(row):
    """One row: compact JSON, UTF-8, one line."""
    text = json.dumps(row, ensure_ascii=False, separators=(",", ":"))
    if not text.isascii():
        text = text.translate(_SEPARATORS)
    try:
        return (text + "\n").encode("utf-8")
    except UnicodeEncodeError:  # a lone surrogate in a message: escape everything
        return (json.dumps(row, separators=(",", ":")) + "\n").encode("ascii")


def _percentiles(values, ps):
    """Nearest-rank percentiles."""
    ordered = sorted(values)
    n = len(ordered)
    return [ordered[max(0, min(n - 1, -(-p * n // 100) - 1))] for p in ps]


class _Progress:
    """A tqdm bar, periodic plain lines, or nothing, on stderr."""

    def __init__(self, mode, total, initial, every, job):
        self.mode = mode
        self.total = total
        self.initial = initial
        self.every = every
        self.job = job
        self.started = time.monotonic()
        self.next_at = self.started + (every if mode == "lines" else 0.5)
        self.bar = None
        if mode == "bar":
            from tqdm import tqdm

            try:  # a terminal that says it has no size (some containers): 80x24
                size = os.get_terminal_size(sys.stderr.fileno())
                width, height = size.columns, size.lines
            except (OSError, ValueError):
                width = height = 0
            self.bar = tqdm(
                total=total,
                initial=initial,
                unit="rec",
                desc="batch",
                file=sys.stderr,
                ncols=None if width else 80,
                nrows=None if height else 24,
                dynamic_ncols=bool(width),
                smoothing=0.1,
                mininterval=0.2,
            )

    @classmethod
    def make(cls, args, total, initial, job):
        if args.no_progress:
            return cls(None, total, initial, 0, job)
        mode = "lines"
        if args.progress or sys.stderr.isatty():
            try:
                import tqdm  # noqa: F401  (optional: not a dependency of the package)

                mode = "bar"
            except ImportError:
                pass
        return cls(mode, total, initial, args.progress_every, job)

    def _errors(self):
        return sum(self.job.out.errors.values())

    def row(self):
        if self.mode is None:
            return
        if self.bar is not None:
            self.bar.update(1)
        t = time.monotonic()
        if t < self.next_at:
            return
        if self.bar is not None:
            self.next_at = t + 0.5
            postfix = f"errors={self._errors()}"
            if self.job.concurrency is not None:
                postfix += f", concurrency={self.job.concurrency}"
            self.bar.set_postfix_str(postfix, refresh=False)
            return
        self.next_at = t + self.every
        self._line(t)

    def _line(self, t):
        rows = self.job.out.rows
        done = rows - self.initial
        rate = done / (t - self.started) if t > self.started else 0.0
        of = ""
        if self.total:
            of = f"/{self.total} ({100.0 * rows / self.total:.0f}%)"
        text = f"batch: {rows}{of} rows, {self._errors()} errors, {rate:,.0f} records/s"
        if self.job.concurrency is not None:
            text += f", concurrency {self.job.concurrency}"
        print(text, file=sys.stderr, flush=True)

    def write(self, message):
        if self.bar is not None:
            self.bar.write(message, file=sys.stderr)
        else:
            print(message, file=sys.stderr, flush=True)

    def close(self):
        if self.bar is not None:
            self.bar.close()
            self.bar = None
