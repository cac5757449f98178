"""fingerprint.py's own spellings of os.path functions (it may not import os: the replay
path's start-up is the boot's) answer as the standard library does."""

from __future__ import annotations

import os
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ccgen.bootpath import fingerprint

NAMES = ["a", "b", "c", "lib", "usr"]
components = st.lists(st.sampled_from([*NAMES, ".", ".."]), min_size=0, max_size=5)
# Symlinks between the tree's names: relative, absolute (inside the tree), loops, dangling.
links = st.lists(
    st.tuples(st.sampled_from(NAMES), st.sampled_from(NAMES), components, st.booleans()), max_size=6
)


@settings(max_examples=200, deadline=None, suppress_health_check=list(HealthCheck))
@given(links, st.lists(components, min_size=1, max_size=6))
def test_realpath_and_dirname_match_the_standard_library(
    made: list[tuple[str, str, list[str], bool]], asked: list[list[str]]
) -> None:
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        base = Path(os.path.realpath(tmp))
        for name in NAMES:
            (base / "d" / name).mkdir(parents=True, exist_ok=True)
        (base / "d" / "a" / "file").write_text("")
        for where, name, target, absolute in made:
            link = base / "d" / where / name
            if link.exists() or link.is_symlink():
                continue
            text = "/".join(target) or "."
            link.symlink_to(str(base / "d" / text) if absolute else text)
        for parts in asked:
            path = str(base / "d" / "/".join(parts)) if parts else str(base / "d")
            assert fingerprint.dirname(path) == os.path.dirname(path)
            try:
                expected = os.path.realpath(path, strict=True)
            except OSError:
                continue  # a loop or a missing component: ours returns the path unresolved
            assert fingerprint.realpath(path) == expected, path


def test_join_and_host_path() -> None:
    for a, b in (("/", "x"), ("/r", "x"), ("/r/", "x/y"), ("rel", "x")):
        assert fingerprint.join(a, b) == os.path.join(a, b)
    assert fingerprint.host_path("/root", "/etc/x") == "/root/etc/x"
    assert fingerprint.host_path("/", "/etc/x") == "/etc/x"


def test_realpath_inside_a_root(tmp_path: Path) -> None:
    """An image's links are followed inside the image: /lib -> /usr/lib means the image's."""
    root = tmp_path / "image"
    (root / "usr/lib/x").mkdir(parents=True)
    (root / "usr/lib/x/gen").write_text("")
    (root / "lib").symlink_to("/usr/lib")
    (root / "usr/lib/x/rel").symlink_to("gen")
    assert fingerprint.realpath("/lib/x/gen", str(root)) == "/usr/lib/x/gen"
    assert fingerprint.realpath("/lib/x/rel", str(root)) == "/usr/lib/x/gen"
    assert fingerprint.realpath("/lib/x/missing", str(root)) == "/lib/x/missing"
