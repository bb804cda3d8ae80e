"""client.invoke_endpoint_batch: argument checks and progress reporting around the C runner
(_core.Batch, csrc/batch.c). Imported at the first batch, never by ``import sagemaker_rt_c``."""

from __future__ import annotations

import time
from typing import Any, Iterator, NamedTuple

from . import _core

# max_concurrency='auto': the window starts at 8 and may grow to this.
AUTO_MAX = 256
MAX_CONCURRENCY = 1024


class BatchProgress(NamedTuple):
    """What a ``progress`` callable receives after each result."""

    done: int  # results yielded so far
    errors: int  # of which exceptions
    throttled: int  # throttling responses received (retried or not)
    concurrency: int  # calls sent at a time now (adaptive: the current window)
    in_flight: int  # requests taken from the input and not yet yielded
    elapsed: float  # seconds since the batch started
    total: int | None  # len(requests) when it has one


def _check(max_concurrency, progress):
    if max_concurrency == "auto":
        return AUTO_MAX, True
    if isinstance(max_concurrency, bool) or not isinstance(max_concurrency, int):
        raise TypeError(
            "invoke_endpoint_batch: max_concurrency must be an int from 1 to "
            f"{MAX_CONCURRENCY} or 'auto', not {max_concurrency!r}"
        )
    if not 1 <= max_concurrency <= MAX_CONCURRENCY:
        raise ValueError(
            "invoke_endpoint_batch: max_concurrency must be from 1 to "
            f"{MAX_CONCURRENCY}, not {max_concurrency}"
        )
    if not (progress is None or isinstance(progress, bool) or callable(progress)):
        raise TypeError(
            "invoke_endpoint_batch: progress must be True, False or a callable, "
            f"not {type(progress).__name__}"
        )
    return max_concurrency, False


def start(client, requests, max_concurrency, progress):
    n, adaptive = _check(max_concurrency, progress)
    total = None
    if progress:
        try:
            total = len(requests)
        except TypeError:
            total = None
    batch = _core.Batch(client, requests, n, adaptive)
    if not progress:
        return batch
    return BatchResults(batch, progress, total)


_COUNTERS = ("done", "errors", "throttled", "concurrency", "in_flight", "elapsed", "last_latency")


class BatchResults:
    """The results of ``invoke_endpoint_batch(..., progress=...)``: the batch's iterator with
    a tqdm bar (``progress=True``) or a callable told of each result."""

    __slots__ = ("_batch", "_callback", "_bar", "_total", "_shown")

    def __init__(self, batch, progress, total):
        self._batch = batch
        self._total = total
        self._shown = 0.0
        self._bar = None
        self._callback = None
        if progress is True:
            try:
                from tqdm.auto import tqdm
            except ImportError:
                batch.close()
                raise ImportError(
                    "invoke_endpoint_batch(progress=True) shows a tqdm bar: pip install tqdm "
                    "(or pass a callable to receive progress events)"
                ) from None
            self._bar = tqdm(total=total, unit="req", desc="invoke_endpoint_batch", smoothing=0.1)
        else:
            self._callback = progress

    def __iter__(self) -> Iterator[Any]:
        return self

    def __next__(self):
        batch = self._batch
        try:
            item = next(batch)
        except BaseException:
            self._close_bar()
            raise
        if self._bar is not None:
            self._bar.update(1)
            now = time.monotonic()
            if now - self._shown >= 0.2 or not isinstance(item, dict):
                self._shown = now
                self._bar.set_postfix(
                    errors=batch.errors, concurrency=batch.concurrency, refresh=False
                )
        else:
            self._callback(self.progress())
        return item

    def progress(self) -> BatchProgress:
        b = self._batch
        return BatchProgress(
            b.done, b.errors, b.throttled, b.concurrency, b.in_flight, b.elapsed, self._total
        )

    def _close_bar(self):
        bar, self._bar = self._bar, None
        if bar is not None:
            b = self._batch
            bar.set_postfix(errors=b.errors, concurrency=b.concurrency, refresh=False)
            bar.close()

    def close(self) -> None:
        """Stop: calls in flight are cancelled, nothing more is read from the requests."""
        self._batch.close()
        self._close_bar()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
        return False

    def __getattr__(self, name):
        if name in _COUNTERS:
            return getattr(self._batch, name)
        raise AttributeError(name)
