"""The wheel: the pure-Python package, plus the compiled fast path once ext/ has one."""

import re
from pathlib import Path

from setuptools import setup

HERE = Path(__file__).parent
_FOUND = re.search(r'__version__ = "([^"]+)"', (HERE / "generator" / "__init__.py").read_text())
assert _FOUND is not None, "generator/__init__.py must define __version__"
VERSION = _FOUND.group(1)

setup(
    name="ccgen",
    version=VERSION,
    description="Compile cloud-config into systemd units at boot",
    long_description=(HERE / "README.md").read_text(encoding="utf-8"),
    long_description_content_type="text/markdown",
    license="Apache-2.0",
    python_requires=">=3.9",
    packages=["ccgen", "ccgen.apply", "ccgen.ext", "ccgen.providers"],
    package_dir={"ccgen": "generator", "ccgen.ext": "ext", "ccgen.providers": "providers"},
    package_data={"ccgen": ["py.typed"]},
    install_requires=["PyYAML>=5.4"],
    entry_points={
        "console_scripts": [
            "ccgen = ccgen.cli:main",
            "ccgen-generator = ccgen.boot:main",
        ]
    },
)
