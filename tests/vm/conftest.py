"""The boot tests' shared fixtures: one ccgen package and one installed tree per session.

A full VM run (every module under tests/vm) builds the Debian package once and copies
the cached root filesystem once; each test then makes its own disk from that tree.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from . import machine


@pytest.fixture(scope="session")
def ccgen_deb(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The ccgen Debian package, built from the committed files (packaging/build-deb.sh)."""
    for tool in ("qemu-system-x86_64", "debootstrap", "mkfs.ext4", "debugfs", "chroot"):
        if shutil.which(tool) is None:
            pytest.fail(f"{tool} is missing; ./dev test installs it")
    return machine.build_deb(tmp_path_factory.mktemp("debs"))


@pytest.fixture(scope="session")
def session_tree(tmp_path_factory: pytest.TempPathFactory, ccgen_deb: Path) -> Iterator[Path]:
    """The cached Debian tree with ccgen installed; tests never change it (make_disk copies)."""
    tree = machine.installed_tree(machine.base_tree(), tmp_path_factory.mktemp("session") / "tree", ccgen_deb)
    yield tree
    shutil.rmtree(tree, ignore_errors=True)
