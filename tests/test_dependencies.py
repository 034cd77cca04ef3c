"""Dependencies are declared exactly as imported: every third-party module the code imports comes
from a distribution pyproject.toml declares, and every declared distribution is imported (or is
listed below with the reason it is needed without an import)."""
from __future__ import annotations

import ast
import re
import sys
import tomllib
from importlib.metadata import packages_distributions
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
FIRST_PARTY = set(PYPROJECT["tool"]["importlinter"]["root_packages"]) | {"app"}
RUNTIME_CODE = [ROOT / "app.py", *[ROOT / p for p in sorted(FIRST_PARTY - {"app"})]]

# Declared and needed at run time, though no module imports them by name.
NEEDED_WITHOUT_IMPORT = {
    "geopandas": "pyogrio.read_dataframe (data/grid_import.py) builds a GeoDataFrame: it imports geopandas",
    "gevent": "gunicorn loads its worker class by name (web/server.py: worker_class='gevent')",
}
# Test extras that are tools run by make or type stubs, not imported by tests.
TEST_TOOLS = {"ruff", "mypy", "import-linter", "types-psycopg2"}
LOCAL_TEST_MODULES = {"tests", *(p.stem for p in (ROOT / "tests").glob("*.py"))}  # tests import each other


def _canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _declared(requirements: list[str]) -> set[str]:
    return {_canonical(re.split(r"[<>=!~\[; ]", r, maxsplit=1)[0]) for r in requirements}


def _imports(paths: list[Path]) -> dict[str, set[str]]:
    """Top-level third-party module → the files importing it."""
    found: dict[str, set[str]] = {}
    files = [f for p in paths for f in ([p] if p.is_file() else sorted(p.rglob("*.py")))]
    for f in files:
        for node in ast.walk(ast.parse(f.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module]
            else:
                continue
            for name in names:
                top = name.split(".")[0]
                if top not in sys.stdlib_module_names and top not in FIRST_PARTY and top not in LOCAL_TEST_MODULES:
                    found.setdefault(top, set()).add(str(f.relative_to(ROOT)))
    return found


def _distributions(modules: dict[str, set[str]]) -> tuple[dict[str, set[str]], list[str]]:
    """distribution → modules; and the modules no installed distribution provides."""
    index = packages_distributions()
    by_dist: dict[str, set[str]] = {}
    unknown = []
    for module in modules:
        dists = index.get(module)
        if not dists:
            unknown.append(module)
            continue
        for d in dists:
            by_dist.setdefault(_canonical(d), set()).add(module)
    return by_dist, unknown


def test_runtime_imports_match_the_declared_dependencies():
    declared = _declared(PYPROJECT["project"]["dependencies"])
    modules = _imports(RUNTIME_CODE)
    used, unknown = _distributions(modules)
    assert not unknown, f"imported but installed by no distribution: {unknown}"
    undeclared = {d: sorted(set().union(*(modules[m] for m in mods))) for d, mods in used.items()
                  if d not in declared}
    assert not undeclared, f"imported but not in [project] dependencies: {undeclared}"
    unused = declared - set(used) - set(NEEDED_WITHOUT_IMPORT)
    assert not unused, f"declared but never imported (remove, or say why in NEEDED_WITHOUT_IMPORT): {sorted(unused)}"
    stale = set(NEEDED_WITHOUT_IMPORT) - declared
    assert not stale, f"NEEDED_WITHOUT_IMPORT names undeclared distributions: {sorted(stale)}"


def test_geopandas_is_really_needed_by_the_grid_import():
    """The reason given above holds: pyogrio's read_dataframe imports geopandas."""
    import inspect

    import pyogrio.geopandas

    assert "import geopandas" in inspect.getsource(pyogrio.geopandas) or "_try_import_geopandas" in \
        inspect.getsource(pyogrio.geopandas)
    assert "read_dataframe" in (ROOT / "data" / "grid_import.py").read_text(encoding="utf-8")


def test_test_imports_are_declared_in_the_test_extra():
    declared = _declared(PYPROJECT["project"]["dependencies"])
    test_extra = _declared(PYPROJECT["project"]["optional-dependencies"]["test"])
    modules = _imports([ROOT / "tests"])
    used, unknown = _distributions(modules)
    assert not unknown, f"tests import modules no distribution provides: {unknown}"
    undeclared = {d: sorted(set().union(*(modules[m] for m in mods))) for d, mods in used.items()
                  if d not in declared | test_extra}
    assert not undeclared, f"tests import undeclared distributions: {undeclared}"
    unused = test_extra - set(used) - TEST_TOOLS
    assert not unused, f"test extra declares what no test imports: {sorted(unused)}"
