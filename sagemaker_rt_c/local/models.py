"""Small built-in models for the local endpoint (and ``make demo``): real computations.

- ``sentiment``: a bag-of-words logistic-regression sentiment classifier (its weights are
  below), with negation ("not good") and intensifiers ("very good"). Input: JSON
  ``{"text": ...}`` / ``{"inputs": ...}`` / ``{"instances": [...]}`` / a JSON string / a JSON
  list of strings, ``text/csv`` (one text per line) or plain text. Output (JSON):
  ``{"label": "POSITIVE" | "NEGATIVE", "score": P(label), "positive": P(positive),
  "tokens": n}``, or a list of them for a batch.
- ``sentiment_stream``: the same model as a generator: one JSON line per token with its
  contribution and the running probability, then the verdict. Served as PayloadPart
  events by ``invoke_endpoint_with_response_stream``.
- ``stats``: descriptive statistics of numbers (a JSON list, ``{"data": [...]}``, or CSV):
  count, mean, std (sample), min, max and the 10/50/90/99th percentiles.

All three are ``inline`` handlers (cheap, non-blocking: called on the server's event loop).
"""

import json
import math
import re

from ._api import Response, inline

__all__ = ["sentiment", "sentiment_stream", "stats", "BUILT_IN"]

# Log-odds weights of a logistic regression over word counts (hand-tuned on short reviews).
BIAS = 0.15
WEIGHTS = {
    # positive
    "good": 1.6, "great": 2.2, "excellent": 2.8, "amazing": 2.6, "awesome": 2.5,
    "love": 2.4, "loved": 2.3, "loves": 2.2, "like": 0.9, "liked": 1.0, "nice": 1.4,
    "best": 2.0, "better": 0.9, "fast": 1.2, "quick": 1.0, "easy": 1.3, "happy": 1.8,
    "perfect": 2.7, "wonderful": 2.5, "fantastic": 2.6, "fun": 1.4, "enjoy": 1.6,
    "enjoyed": 1.7, "recommend": 1.9, "recommended": 1.8, "reliable": 1.6, "smooth": 1.2,
    "clean": 0.8, "helpful": 1.5, "friendly": 1.3, "beautiful": 1.9, "brilliant": 2.4,
    "solid": 1.1, "works": 0.8, "worth": 1.0, "pleased": 1.6, "superb": 2.6, "delight": 2.0,
    "delightful": 2.2, "impressive": 2.0, "impressed": 1.9, "glad": 1.4, "thanks": 0.9,
    "cheap": 0.4, "comfortable": 1.3, "stable": 1.1, "fixed": 0.6, "favorite": 1.9,
    "well": 0.7, "positive": 1.2, "satisfied": 1.7,
    # negative
    "bad": -1.9, "terrible": -2.8, "awful": -2.7, "horrible": -2.8, "worst": -3.0,
    "hate": -2.6, "hated": -2.5, "poor": -1.8, "slow": -1.3, "broken": -2.1, "broke": -1.8,
    "bug": -1.2, "bugs": -1.3, "buggy": -1.8, "crash": -1.9, "crashes": -2.0,
    "crashed": -2.0, "fail": -1.8, "fails": -1.9, "failed": -1.8, "failure": -1.9,
    "useless": -2.5, "waste": -2.3, "wasted": -2.2, "disappointing": -2.2,
    "disappointed": -2.1, "annoying": -1.7, "angry": -1.8, "sad": -1.4, "expensive": -0.9,
    "boring": -1.6, "ugly": -1.5, "difficult": -1.0, "hard": -0.6, "confusing": -1.4,
    "problem": -1.1, "problems": -1.2, "issue": -0.8, "issues": -0.9, "error": -1.0,
    "errors": -1.1, "wrong": -1.4, "refund": -1.3, "return": -0.5, "never": -0.8,
    "unusable": -2.6, "unreliable": -1.9, "mess": -1.6, "meh": -1.0, "lag": -1.1,
    "laggy": -1.4, "noisy": -0.9, "negative": -1.2, "unhappy": -1.9, "avoid": -1.9,
}  # fmt: skip
NEGATORS = frozenset(["not", "no", "never", "isn't", "wasn't", "don't", "doesn't", "didn't",
                      "can't", "won't", "hardly", "nothing"])  # fmt: skip
INTENSIFIERS = {"very": 1.5, "really": 1.4, "so": 1.3, "extremely": 1.8, "super": 1.5,
                "totally": 1.4, "quite": 1.15, "slightly": 0.6, "somewhat": 0.7}  # fmt: skip

_TOKEN = re.compile(r"[a-z0-9']+")


def _sigmoid(x):
    if x >= 0:
        return 1.0 / (1.0 + math.exp(-x))
    e = math.exp(x)
    return e / (1.0 + e)


def _contributions(text):
    """[(token, weight applied)] and the logit."""
    out = []
    logit = BIAS
    negate = 0  # tokens left under a negation
    boost = 1.0
    for tok in _TOKEN.findall(text.lower()):
        if tok in NEGATORS:
            negate = 3
            out.append((tok, 0.0))
            continue
        if tok in INTENSIFIERS:
            boost *= INTENSIFIERS[tok]
            out.append((tok, 0.0))
            continue
        w = WEIGHTS.get(tok, 0.0)
        if w:
            w *= boost
            if negate:
                w = -0.8 * w
            boost = 1.0
            negate = 0
        elif negate:
            negate -= 1
        logit += w
        out.append((tok, w))
    return out, logit


def _verdict(logit, ntokens):
    p = _sigmoid(logit)
    label = "POSITIVE" if p >= 0.5 else "NEGATIVE"
    return {
        "label": label,
        "score": round(p if p >= 0.5 else 1.0 - p, 6),
        "positive": round(p, 6),
        "tokens": ntokens,
    }


def classify(text):
    """The model on one text: {"label", "score", "positive", "tokens"}."""
    contributions, logit = _contributions(text)
    return _verdict(logit, len(contributions))


class _BadInput(ValueError):
    """A client error of the model: the endpoint answers ModelError, OriginalStatusCode 400."""


def _texts(body, content_type):
    """(texts, batch?) from a request body."""
    ct = (content_type or "").split(";")[0].strip().lower()
    raw = body.decode("utf-8", "replace") if isinstance(body, (bytes, bytearray)) else body
    if ct == "text/csv":
        return [line for line in raw.splitlines() if line.strip()], True
    if ct in ("text/plain",):
        return [raw], False
    try:
        data = json.loads(raw)
    except ValueError:
        if ct in ("application/json", "application/jsonlines"):
            raise _BadInput("the body is not valid JSON") from None
        return [raw], False
    if isinstance(data, dict):
        for key in ("text", "inputs", "instances", "texts"):
            if key in data:
                data = data[key]
                break
        else:
            raise _BadInput('expected {"text": ...}, {"inputs": ...} or {"instances": [...]}')
    if isinstance(data, str):
        return [data], False
    if isinstance(data, list) and all(isinstance(t, str) for t in data):
        return data, True
    if isinstance(data, list) and all(isinstance(t, dict) and "text" in t for t in data):
        return [t["text"] for t in data], True
    raise _BadInput("expected a text or a list of texts")


def _bad_input(fn):
    def wrapper(body, request=None):
        try:
            return fn(body, request)
        except _BadInput as e:
            return Response(json.dumps({"error": str(e)}), "application/json", status=400)

    wrapper.__name__ = fn.__name__
    wrapper.__qualname__ = fn.__qualname__
    wrapper.__doc__ = fn.__doc__
    wrapper.__wrapped__ = fn
    return inline(wrapper)


@_bad_input
def sentiment(body, request):
    """Sentiment of a text or a batch of texts (JSON out)."""
    texts, batch = _texts(body, request.content_type if request else None)
    results = [classify(t) for t in texts]
    return results if batch else results[0]


def _sentiment_stream(body, request):
    texts, _ = _texts(body, request.content_type if request else None)
    for i, text in enumerate(texts):
        contributions, _ = _contributions(text)
        logit = BIAS
        for tok, w in contributions:
            logit += w
            yield {"text": i, "token": tok, "weight": round(w, 3),
                   "positive": round(_sigmoid(logit), 6)}  # fmt: skip
        yield {"text": i, **_verdict(logit, len(contributions))}


@_bad_input
def sentiment_stream(body, request):
    """The sentiment model, token by token (a generator: JSON lines)."""
    # Validate before streaming: a bad input is a plain ModelError, not a broken stream.
    _texts(body, request.content_type if request else None)
    return _sentiment_stream(body, request)


def _numbers(body, content_type):
    ct = (content_type or "").split(";")[0].strip().lower()
    raw = body.decode("utf-8", "replace") if isinstance(body, (bytes, bytearray)) else body
    if ct == "text/csv" or (ct != "application/json" and raw.lstrip()[:1] not in ("[", "{")):
        values = [v for line in raw.splitlines() for v in line.split(",") if v.strip()]
    else:
        try:
            values = json.loads(raw)
        except ValueError:
            raise _BadInput("the body is not valid JSON") from None
        if isinstance(values, dict):
            values = values.get("data", values.get("inputs", values.get("instances")))
    if not isinstance(values, list) or not values:
        raise _BadInput("expected a non-empty list of numbers")
    try:
        out = [float(v) for v in values]
    except (TypeError, ValueError):
        raise _BadInput("expected a non-empty list of numbers") from None
    if not all(math.isfinite(v) for v in out):
        raise _BadInput("the numbers must be finite")
    return out


def _quantile(sorted_values, q):
    """Linear interpolation between closest ranks (NumPy's default)."""
    n = len(sorted_values)
    pos = (n - 1) * q
    lo = math.floor(pos)
    hi = min(lo + 1, n - 1)
    return sorted_values[lo] + (sorted_values[hi] - sorted_values[lo]) * (pos - lo)


@_bad_input
def stats(body, request):
    """Descriptive statistics of a list of numbers (JSON out)."""
    values = _numbers(body, request.content_type if request else None)
    n = len(values)
    mean = math.fsum(values) / n
    var = math.fsum((v - mean) ** 2 for v in values) / (n - 1) if n > 1 else 0.0
    s = sorted(values)
    return {
        "count": n,
        "mean": mean,
        "std": math.sqrt(var),
        "min": s[0],
        "max": s[-1],
        "p10": _quantile(s, 0.10),
        "p50": _quantile(s, 0.50),
        "p90": _quantile(s, 0.90),
        "p99": _quantile(s, 0.99),
    }


# The endpoints `sagemaker-rt-c serve` offers when none is named.
BUILT_IN = {
    "sentiment": sentiment,
    "sentiment-stream": sentiment_stream,
    "stats": stats,
}
