"""Compiled fast paths for ccgen, with the pure-Python modules as the reference.

BACKEND says which one is live: "cython" when the extension was built and
loaded, "python" when it is missing or CCGEN_PURE_PYTHON=1 turns it off.
"""

from __future__ import annotations

import os

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable

    from ccgen.read import nodes

compose: Callable[[str], tuple[bool, nodes.Node | tuple[str, int, int] | None]] | None = None
BACKEND = "python"

if os.environ.get("CCGEN_PURE_PYTHON") != "1":
    try:
        from ._yaml import compose as compose
    except ImportError:
        pass
    else:
        BACKEND = "cython"
