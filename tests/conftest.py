"""Settings for every test process and the processes they start."""

from __future__ import annotations

import os

# Network safety: ccgen fetch refuses the real metadata address without an explicit
# --endpoint, so no test can reach it even by mistake (tests/test_providers.py checks).
os.environ["CCGEN_FORBID_DEFAULT_ENDPOINT"] = "1"
