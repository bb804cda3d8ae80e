"""hypothesis settings shared by the differential fuzz tests.

CI runs a fixed, derandomized set (SMRT_FUZZ_EXAMPLES examples per search, each file's own
default). A longer search:
``SMRT_FUZZ_EXAMPLES=5000 SMRT_FUZZ_RANDOM=1 pytest tests/client/test_api_fuzz.py``
(SMRT_FUZZ_RANDOM=1 draws new examples each run instead of the fixed ones).
"""

import os

from hypothesis import HealthCheck, settings

RANDOM = os.environ.get("SMRT_FUZZ_RANDOM") == "1"


def fuzz_settings(default_examples):
    return settings(
        max_examples=int(os.environ.get("SMRT_FUZZ_EXAMPLES", str(default_examples))),
        derandomize=not RANDOM,
        deadline=None,
        database=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )
