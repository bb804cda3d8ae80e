"""Expiry timestamps as botocore reads them, against dateutil and botocore themselves.

botocore parses expiry times two ways: ``dateutil.parser.parse`` (environment, credential
process, container, IMDS, the SSO token cache, refreshes) and ``botocore.utils.
parse_timestamp`` (timestamps in API responses: STS's ``Expiration``; epoch seconds first).
Ours parses the usual ISO 8601 forms itself and hands anything else to dateutil, imported
then; without dateutil it reads the other common forms and raises a ValueError subclass named
``ParserError`` with dateutil's messages. Hypothesis generates near-ISO strings (every field
mutated, odd zones, fractions, whitespace, unicode digits) and arbitrary text; the value
(instant, offset, naivety) or the exception (class, message) must be the same. The
property tests run 300 derandomized examples each; ``SMRT_FUZZ_EXAMPLES=20000`` runs more.
"""

import datetime
import importlib
import json
import os
import pkgutil
import subprocess
import sys
import textwrap

import botocore.utils
import dateutil.parser
import pytest
from conftest import ROOT
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import sagemaker_rt_c
from sagemaker_rt_c import credentials as creds_mod

# Hypothesis draws some strings and numbers from the constants of the local modules loaded
# at that moment (this package's): with all of them loaded first, the examples do not depend
# on which tests ran before, and CI runs the same ones every time.
for _module in pkgutil.iter_modules(sagemaker_rt_c.__path__):
    importlib.import_module(f"sagemaker_rt_c.{_module.name}")

pytestmark = [
    pytest.mark.differential,
    pytest.mark.filterwarnings("ignore::dateutil.parser.UnknownTimezoneWarning"),
]

SETTINGS = settings(
    max_examples=int(os.environ.get("SMRT_FUZZ_EXAMPLES", "300")),
    derandomize=True,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)


def outcome(fn, value):
    try:
        dt = fn(value)
    except Exception as e:
        return ("error", type(e), str(e))
    try:
        offset = dt.utcoffset()
    except ValueError as e:
        # dateutil accepts offsets of 24 hours and more; datetime then refuses them.
        offset = str(e)
    return ("ok", dt.replace(tzinfo=None), offset)


def two_digits(low, high):
    return st.integers(low, high).map(lambda n: f"{n:02d}")


@st.composite
def near_iso(draw):
    """YYYY-MM-DDTHH:MM:SS[.f][zone], each part sometimes out of range or malformed."""
    year = draw(
        st.one_of(
            st.integers(1000, 9999).map(str), st.sampled_from(["0000", "0999", "99", "20300"])
        )
    )
    parts = [
        year,
        draw(st.sampled_from(["-"] * 6 + ["/", ""])),
        draw(st.one_of(two_digits(1, 12), st.sampled_from(["00", "13", "1", "Jan"]))),
        draw(st.sampled_from(["-"] * 6 + ["/", ""])),
        draw(st.one_of(two_digits(1, 28), st.sampled_from(["29", "30", "31", "32", "00", "1"]))),
        draw(st.sampled_from(["T", "T", "T", " ", "t", "  ", "_"])),
        draw(st.one_of(two_digits(0, 23), st.sampled_from(["24", "25", "1"]))),
        ":",
        draw(st.one_of(two_digits(0, 59), st.sampled_from(["60", "5"]))),
        draw(st.sampled_from([":"] * 5 + [""])),
        draw(st.one_of(two_digits(0, 59), st.sampled_from(["60", "61", ""]))),
        draw(
            st.one_of(
                st.just(""),
                st.text("0123456789", min_size=1, max_size=9).map(lambda f: "." + f),
                st.just("."),
                st.just(",5"),
            )
        ),
        draw(
            st.one_of(
                st.sampled_from(["Z", "Z", "", "z", "UTC", " UTC", "GMT", "+00:00", "-00:00"]),
                st.tuples(
                    st.sampled_from("+-"),
                    two_digits(0, 30),
                    st.sampled_from([":", ""]),
                    two_digits(0, 70),
                ).map("".join),
                st.sampled_from(["+05", "+0530", "EST", "PST", "+5:30", "Z+01:00", "ZZ"]),
            )
        ),
    ]
    text = "".join(parts)
    if draw(st.integers(0, 9)) == 0:
        text = draw(st.sampled_from([" ", "\t", "\n", "\u00a0"])) + text
    if draw(st.integers(0, 9)) == 0:
        text += draw(st.sampled_from([" ", "\n", "x", "\u0663"]))
    if draw(st.integers(0, 14)) == 0:
        # A unicode digit somewhere (str.isdigit accepts it, int() too: we must not).
        i = draw(st.integers(0, len(text) - 1))
        text = text[:i] + "\u0663" + text[i + 1 :]
    return text


ODD_TEXT = st.one_of(
    st.text(max_size=30),
    st.text("0123456789-:TZ .+/,", max_size=30),
    st.sampled_from(
        [
            "",
            " ",
            "-",
            "T",
            "Z",
            "tomorrow",
            "2030",
            "1700000000",
            "Tue, 01 Jan 2030 00:00:00 GMT",
            "Tue, 01 Jan 2030 00:00:00 -0000",
            "2030-01-01T00:00:00UTC",
            "May 1 2030 10:00",
            "99999999999999999999",
            "nan",
            "inf",
            "1e20",
            "-1e10",
            "1_700_000_000",
        ]
    ),
)


@SETTINGS
@given(st.one_of(near_iso(), ODD_TEXT))
def test_expiry_parse_matches_dateutil(text):
    assert outcome(creds_mod._parse_timestamp, text) == outcome(dateutil.parser.parse, text)


@pytest.mark.parametrize(
    "value",
    [None, 1893456000, 1893456000.5, b"2030-01-01T00:00:00Z", ["x"], datetime.datetime(2030, 1, 1)],
)
def test_expiry_parse_of_other_types_matches_dateutil(value):
    assert outcome(creds_mod._parse_timestamp, value) == outcome(dateutil.parser.parse, value)


@pytest.mark.slow
@SETTINGS
@given(st.one_of(near_iso(), ODD_TEXT))
def test_api_timestamp_parse_matches_botocore(text):
    # STS's Expiration: botocore.utils.parse_timestamp (epoch seconds first, then dateutil,
    # its errors wrapped: ValueError('Invalid timestamp "..."'), RuntimeError out of range).
    ours = outcome(creds_mod._parse_api_timestamp, text)
    theirs = outcome(botocore.utils.parse_timestamp, text)
    if ours[0] == theirs[0] == "ok" and all(
        isinstance(o, datetime.timedelta) for o in (ours[2], theirs[2])
    ):
        # botocore gives epoch values in local time, we in UTC: the same instant.
        assert ours[1] - ours[2] == theirs[1] - theirs[2]
    else:
        assert ours == theirs


def test_the_usual_forms_parse_without_dateutil_and_agree_with_it():
    for text in (
        "2030-01-01T00:00:00Z",
        "2030-01-01T00:00:00.123Z",
        "2030-01-01 12:34:56+02:00",
        "2030-01-01T12:34:56.123456-05:30",
        "2030-01-01T00:00:00",
    ):
        assert creds_mod._fast_iso(text) is not None
        assert outcome(creds_mod._fast_iso, text) == outcome(dateutil.parser.parse, text)
    for text in ("2030-02-30T00:00:00Z", "2030-01-01T00:00:00+24:00", "0999-01-01T00:00:00Z"):
        assert creds_mod._fast_iso(text) is None


def test_unparseable_is_dateutils_parser_error():
    for text, message in (
        ("garbage", "Unknown string format: garbage"),
        ("", "String does not contain a date: "),
        ("2030-02-30T00:00:00Z", "day is out of range for month: 2030-02-30T00:00:00Z"),
    ):
        with pytest.raises(dateutil.parser.ParserError) as info:
            creds_mod._parse_timestamp(text)
        assert str(info.value) == message


def run_fresh(code, block_dateutil):
    prelude = ""
    if block_dateutil:
        prelude = """
            import sys
            class _Block:
                def find_spec(self, name, path=None, target=None):
                    if name.split(".")[0] == "dateutil":
                        raise ImportError("blocked")
            sys.meta_path.insert(0, _Block())
        """
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env["PYTHONPATH"] = ROOT
    proc = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(prelude) + textwrap.dedent(code)],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 0, proc.stderr
    return proc.stdout.strip().splitlines()


def test_dateutil_is_imported_only_for_an_unusual_timestamp():
    out = run_fresh(
        """
        import os, sys
        os.environ.update(AWS_ACCESS_KEY_ID="AKID", AWS_SECRET_ACCESS_KEY="s",
                          AWS_CREDENTIAL_EXPIRATION="2099-01-01T00:00:00Z")
        import sagemaker_rt_c
        creds = sagemaker_rt_c.Session().get_credentials()
        print(creds.method, creds._expiry_time.isoformat())
        print(sorted({m.split(".")[0] for m in sys.modules} & {"dateutil", "botocore"}))
        os.environ["AWS_CREDENTIAL_EXPIRATION"] = "soon"
        try:
            sagemaker_rt_c.Session().get_credentials()
        except ValueError as e:
            print(type(e).__module__, type(e).__name__, e)
        """,
        block_dateutil=False,
    )
    assert out == [
        "env 2099-01-01T00:00:00+00:00",
        "[]",
        "dateutil.parser._parser ParserError Unknown string format: soon",
    ]


FALLBACK_CASES = [
    "garbage",
    "",
    "   ",
    "-",
    "2030",
    "2030-02-30T00:00:00Z",
    "2030-13-01T00:00:00Z",
    "2030-00-01T00:00:00Z",
    "0000-01-01T00:00:00Z",
    "2030-01-01T24:00:00Z",
    "2030-01-01T23:60:00Z",
    "2030-01-01T23:59:60Z",
    "2030-01-01T00:00:00 UTC",
    "2030-01-01t00:00:00z",
    "2030-01-01T00:00:00GMT",
    "Tue, 01 Jan 2030 00:00:00 GMT",
    "2030-01-01T00:00:00.1234567Z",
]


def test_without_dateutil_a_parser_error_of_our_own_with_dateutils_messages():
    code = f"""
        import json
        from sagemaker_rt_c import credentials
        results = []
        for text in {FALLBACK_CASES!r}:
            try:
                dt = credentials._parse_timestamp(text)
                results.append(["ok", dt.replace(tzinfo=None).isoformat(),
                                str(dt.utcoffset())])
            except Exception as e:
                results.append([type(e).__module__ + "." + type(e).__name__,
                                isinstance(e, ValueError), str(e)])
        print(json.dumps(results))
    """
    ours = json.loads(run_fresh(code, block_dateutil=True)[0])
    for text, result in zip(FALLBACK_CASES, ours, strict=True):
        theirs = outcome(dateutil.parser.parse, text)
        if theirs[0] == "ok":
            expected = ["ok", theirs[1].isoformat(), str(theirs[2])]
        else:
            expected = ["sagemaker_rt_c.credentials.ParserError", True, theirs[2]]
        if text == "2030":
            # dateutil reads a lone year (today's month and day); the fallback does not.
            expected = [
                "sagemaker_rt_c.credentials.ParserError",
                True,
                "Unknown string format: 2030",
            ]
        assert result == expected, text


def test_own_parser_error_formats_like_dateutils():
    e = creds_mod.ParserError("Unknown string format: %s", "x")
    assert isinstance(e, ValueError) and str(e) == "Unknown string format: x"
    assert repr(e) == repr(dateutil.parser.ParserError("Unknown string format: %s", "x"))
