"""The package's shape stays true: no import circle, and no import against the stage order.

Reads every module's imports from its source (module level and inside functions; what sits
under `if TYPE_CHECKING:` never runs and is left out, so annotations may name a later stage).
The stages, in the order a full compile runs them, and what each may import, are
docs/design.md's table; each package's __init__.py says the same in its own words.
"""

from __future__ import annotations

import ast
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
FOLDERS = {"generator": "ccgen", "providers": "ccgen.providers", "ext": "ccgen.ext"}

# Rank of each stage: a module may import modules of its own stage or of a lower rank.
# The top-level modules are entry points, each ranked on its own: compile.py runs the
# pipeline, apply/ recompiles with it, imagecheck.py reads through apply's safe file access,
# and the commands sit above everything.
RANKS = {
    "ccgen": 0,  # the package itself: __version__ only
    "ccgen.bootpath": 1,
    "ccgen.base": 2,
    "ccgen.read": 3,
    "ccgen.ext": 3,  # compose.py's compiled fast path
    "ccgen.lang": 4,
    "ccgen.providers": 5,
    "ccgen.units": 6,
    "ccgen.compile": 7,
    "ccgen.apply": 8,
    "ccgen.imagecheck": 9,
    "ccgen.status": 9,
    "ccgen.boot": 10,
    "ccgen.cli": 11,
    "ccgen.__main__": 12,
}
# Rendering chooses the fetch units from the providers' descriptors, which import nothing
# of the fetch itself; the rest of providers/ (the fetch, #include, /run/metadata) is above
# the language. These two are the only modules of providers/ that rendering may import.
DESCRIPTORS = {"ccgen.providers.base", "ccgen.providers.registry"}
# The replay path may import nothing of ccgen's beyond its own package (and only modules
# built into the interpreter: tests/test_imports.py checks those at run time).
BOOTPATH = "ccgen.bootpath"


def module_name(path: Path) -> str:
    rel = path.relative_to(REPO)
    parts = [FOLDERS[rel.parts[0]], *rel.with_suffix("").parts[1:]]
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def modules() -> dict[str, Path]:
    return {module_name(p): p for folder in FOLDERS for p in sorted((REPO / folder).rglob("*.py"))}


def _type_checking_block(node: ast.AST) -> bool:
    return isinstance(node, ast.If) and isinstance(node.test, ast.Name) and node.test.id == "TYPE_CHECKING"


def imports(name: str, path: Path, known: set[str]) -> set[str]:
    """The ccgen modules `name` imports when it runs."""
    tree = ast.parse(path.read_text(), str(path))
    package = name if path.name == "__init__.py" else name.rsplit(".", 1)[0]
    found: set[str] = set()

    def visit(node: ast.AST) -> None:
        for child in ast.iter_child_nodes(node):
            if _type_checking_block(child):
                assert isinstance(child, ast.If)
                for other in child.orelse:
                    visit(other)
                continue
            if isinstance(child, ast.ImportFrom):
                if child.level:
                    parts = package.split(".")
                    base = ".".join(parts[: len(parts) - child.level + 1])
                    target = f"{base}.{child.module}" if child.module else base
                else:
                    target = child.module or ""
                for alias in child.names:
                    sub = f"{target}.{alias.name}"
                    found.add(sub if sub in known else target)
            elif isinstance(child, ast.Import):
                found.update(a.name for a in child.names)
            visit(child)

    visit(tree)
    return {m for m in found if m in known and m != name}


def graph() -> dict[str, set[str]]:
    mods = modules()
    known = set(mods)
    return {name: imports(name, path, known) for name, path in mods.items()}


def stage(name: str) -> str:
    best = "ccgen"
    for prefix in RANKS:
        if (name == prefix or name.startswith(prefix + ".")) and len(prefix) > len(best):
            best = prefix
    return best


def test_every_module_has_a_stage() -> None:
    unplaced = [m for m in modules() if stage(m) == "ccgen" and m != "ccgen"]
    assert not unplaced, f"give these a stage in RANKS (and docs/design.md): {unplaced}"


def against_the_order(g: dict[str, set[str]]) -> list[str]:
    wrong = []
    for name, deps in g.items():
        mine = stage(name)
        for dep in deps:
            theirs = stage(dep)
            if mine == BOOTPATH and theirs not in (BOOTPATH, "ccgen"):
                wrong.append(f"{name} -> {dep} (the replay path imports only its own package)")
            elif mine == "ccgen.units" and theirs == "ccgen.providers":
                if dep not in DESCRIPTORS:
                    wrong.append(f"{name} -> {dep} (rendering reads only the providers' descriptors)")
            elif RANKS[theirs] > RANKS[mine]:
                wrong.append(f"{name} ({mine}) -> {dep} ({theirs})")
    return sorted(wrong)


def circles(g: dict[str, set[str]]) -> list[list[str]]:
    found: list[list[str]] = []
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    path: list[str] = []

    def walk(node: str) -> None:
        state[node] = 1
        path.append(node)
        for dep in sorted(g.get(node, ())):
            if state.get(dep) == 1:
                found.append([*path[path.index(dep) :], dep])
            elif dep not in state:
                walk(dep)
        path.pop()
        state[node] = 2

    for node in sorted(g):
        if node not in state:
            walk(node)
    return found


def test_no_import_runs_against_the_stage_order() -> None:
    wrong = against_the_order(graph())
    assert not wrong, "\n".join(wrong)


def test_no_import_circle() -> None:
    found = circles(graph())
    assert not found, "\n".join(" -> ".join(c) for c in found)


def test_the_checks_find_what_they_look_for() -> None:
    """Neither check is vacuous: the real graph is read, and a wrong import is caught."""
    g = graph()
    assert "ccgen.bootpath.planfile" in g["ccgen.bootpath.replay"]
    assert "ccgen.lang.schema" in g["ccgen.units.render"]
    assert "ccgen.base.diag" in g["ccgen.read.inputs"]
    bad = {k: set(v) for k, v in g.items()}
    bad["ccgen.lang.model"].add("ccgen.units.render")  # language importing rendering
    bad["ccgen.bootpath.replay"].add("ccgen.base.diag")  # the replay path leaving its package
    bad["ccgen.units.internal"].add("ccgen.providers.fetch")  # rendering importing the fetch
    assert against_the_order(bad) == [
        "ccgen.bootpath.replay -> ccgen.base.diag (the replay path imports only its own package)",
        "ccgen.lang.model (ccgen.lang) -> ccgen.units.render (ccgen.units)",
        "ccgen.units.internal -> ccgen.providers.fetch (rendering reads only the providers' descriptors)",
    ]
    bad["ccgen.base.cache"].add("ccgen.read.inputs")  # inputs imports the cache: a circle
    assert ["ccgen.base.cache", "ccgen.read.inputs", "ccgen.base.cache"] in circles(bad)
