"""The wheel: the ccgen package, with the libyaml fast path when it can be built.

The extension is built when Cython and libyaml's header are present; without
them, or with CCGEN_PURE_PYTHON=1, the package installs pure Python and says so.
"""

import os
import re
import sys
from pathlib import Path

from setuptools import Extension, setup
from setuptools.command.build_ext import build_ext


class BuildExt(build_ext):
    """Links without the rpath some interpreters (pyenv's) put into every extension's flags:
    a library search path baked into a system library is what packaging/elfcheck.py refuses."""

    def build_extensions(self) -> None:
        linker = self.compiler.linker_so
        self.compiler.linker_so = [
            arg for arg in linker if not arg.startswith(("-Wl,-rpath", "-Wl,-R", "-Wl,--enable-new-dtags"))
        ]
        super().build_extensions()


HERE = Path(__file__).parent
_FOUND = re.search(r'__version__ = "([^"]+)"', (HERE / "generator" / "__init__.py").read_text())
assert _FOUND is not None, "generator/__init__.py must define __version__"
VERSION = _FOUND.group(1)


def extensions() -> list[Extension]:
    def pure(reason: str) -> list[Extension]:
        sys.stderr.write(f"ccgen: building without the libyaml fast path: {reason}\n")
        return []

    if os.environ.get("CCGEN_PURE_PYTHON") == "1":
        return pure("CCGEN_PURE_PYTHON=1")
    if not Path("/usr/include/yaml.h").exists() and not os.environ.get("CCGEN_YAML_INCLUDE"):
        return pure("yaml.h not found (install libyaml-dev)")
    try:
        from Cython.Build import cythonize
    except ImportError:
        return pure("Cython is not installed")
    ext = Extension(
        "ccgen.ext._yaml",
        ["ext/_yaml.pyx"],
        libraries=["yaml"],
        include_dirs=[os.environ["CCGEN_YAML_INCLUDE"]] if os.environ.get("CCGEN_YAML_INCLUDE") else [],
        # Hardening a distribution would ask for; packaging/elfcheck.py checks for it.
        extra_link_args=["-Wl,-z,relro,-z,now", "-Wl,-z,noexecstack", "-Wl,--build-id"],
    )
    return list(cythonize([ext], language_level=3, quiet=True))  # type: ignore[no-untyped-call]


setup(
    name="ccgen",
    version=VERSION,
    description="Compile cloud-config into systemd units at boot",
    long_description=(HERE / "README.md").read_text(encoding="utf-8"),
    long_description_content_type="text/markdown",
    license="Apache-2.0",
    python_requires=">=3.9",
    packages=[
        "ccgen",
        "ccgen.bootpath",
        "ccgen.base",
        "ccgen.read",
        "ccgen.lang",
        "ccgen.units",
        "ccgen.apply",
        "ccgen.ext",
        "ccgen.providers",
        "ccgen.providers.netconf",
        "ccgen.providers.sources",
    ],
    package_dir={
        "ccgen": "generator",
        "ccgen.ext": "ext",
        "ccgen.providers": "providers",
        "ccgen.providers.netconf": "providers/netconf",
        "ccgen.providers.sources": "providers/sources",
    },
    package_data={"ccgen": ["py.typed"], "ccgen.ext": ["*.pyx", "*.pyi"]},
    ext_modules=extensions(),
    cmdclass={"build_ext": BuildExt},
    install_requires=["PyYAML>=5.4", "pyelftools>=0.29"],
    entry_points={
        "console_scripts": [
            "ccgen = ccgen.cli:main",
            "ccgen-generator = ccgen.boot:main",
        ]
    },
)
