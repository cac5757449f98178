"""Settings for every test process and the processes they start."""

from __future__ import annotations

import atexit
import os
import shutil
import tempfile

# Network safety: ccgen fetch refuses the real metadata address without an explicit
# --endpoint, so no test can reach it even by mistake (tests/test_providers.py checks).
os.environ["CCGEN_FORBID_DEFAULT_ENDPOINT"] = "1"

# Every fetch writes /run/metadata/ccgen unless told otherwise: a test that does not say
# where writes into this session's own temporary directory instead.
_RUN = tempfile.mkdtemp(prefix="ccgen-tests-run-")
atexit.register(shutil.rmtree, _RUN, True)
os.environ["CCGEN_METADATA_FILE"] = os.path.join(_RUN, "metadata", "ccgen")
