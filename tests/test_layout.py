"""The code's shape: the pipeline's import direction, one public surface for the shells, small modules.

records <- ingest <- store <- rank <- retrieve <- answer <- shells (cli, web, eval, bench); config, errors,
text, timing and version sit below everything. A module imports only from layers below its own
(or from its own subpackage), the shells only what `rag` exports plus the foundation, and no
module reaches into another module's private (_underscored) names.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
from conftest import REPO

PACKAGE = REPO / "rag"
FOUNDATION = {"rag.config", "rag.errors", "rag.text", "rag.timing", "rag.version", "rag.records"}
# module (or subpackage prefix) -> layer; a module may import only lower layers and its own subpackage
LAYERS = {
    "rag.model": 1, "rag.ingest": 1, "rag.chunk": 1, "rag.lexical": 1, "rag.dense": 1, "rag.cite": 1,
    "rag.question": 1, "rag.export": 1, "rag.fetch": 1,
    "rag.store": 2,
    "rag.rank": 3,
    "rag.build": 4, "rag.retrieve": 4,
    "rag.answer": 5,
    "rag": 6,  # the package itself: re-exports the public surface
}
SHELLS = ("rag.cli", "rag.fetch_cli", "rag.web", "rag.evaluate", "rag.parse_eval", "rag.bench")
# Modules allowed past ~400 lines, and why.
LONG_MODULES = {
    "rag.model.weights": "one binary format, read and checked field by field; splitting it would scatter the checks",
    "rag.bench": "one harness: the child processes and the report share their field names",
}


def modules() -> dict[str, Path]:
    out = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = path.relative_to(REPO).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        out[name] = path
    return out


def imports(path: Path) -> list[tuple[str, list[str]]]:
    """(module, names) for every `import rag...` / `from rag... import ...` anywhere in the file."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.split(".")[0] == "rag":
            found.append((node.module, [a.name for a in node.names]))
        elif isinstance(node, ast.Import):
            found += [(a.name, []) for a in node.names if a.name.split(".")[0] == "rag"]
    return found


def layer(module: str) -> int:
    if module in FOUNDATION:
        return 0
    for prefix, n in sorted(LAYERS.items(), key=lambda kv: -len(kv[0])):
        if module == prefix or module.startswith(prefix + "."):
            return n
    raise AssertionError(f"{module} has no layer in tests/test_layout.py")


def _is_shell(module: str) -> bool:
    return any(module == s or module.startswith(s + ".") for s in SHELLS)


def _target(module: str, names: list[str]) -> list[str]:
    """`from rag.model import weights` imports the module rag.model.weights; `from rag import ask` the package."""
    known = modules()
    return [f"{module}.{n}" if f"{module}.{n}" in known else module for n in names] or [module]


@pytest.mark.parametrize("module", sorted(m for m in modules() if not _is_shell(m)))
def test_the_core_imports_only_downwards(module: str) -> None:
    own = layer(module)
    package = module.rsplit(".", 1)[0] if module.count(".") >= 2 else module
    for imported, names in imports(modules()[module]):
        for target in _target(imported, names):
            if target == module or (module != "rag" and target.startswith(package + ".")):
                continue  # its own subpackage
            if own == 0 and layer(target) == 0:
                continue  # the foundation modules use each other (errors <- config, text <- records)
            assert layer(target) < own or module == "rag", f"{module} (layer {own}) imports {target}"


@pytest.mark.parametrize("module", sorted(m for m in modules() if _is_shell(m)))
def test_shells_use_only_the_public_surface(module: str) -> None:
    import rag

    allowed = FOUNDATION | {"rag", "rag.web", "rag.bench", "rag.evaluate", "rag.parse_eval", "rag.cli",
                            "rag.fetch_cli"}
    for imported, names in imports(modules()[module]):
        for target in _target(imported, names):
            assert target in allowed or target.startswith("rag.web."), f"{module} imports {target}"
            if target == "rag":
                missing = [n for n in names if n not in rag.__all__]
                assert not missing, f"{module} imports {missing} that rag does not export"


@pytest.mark.parametrize("module", sorted(modules()))
def test_no_module_imports_another_modules_private_names(module: str) -> None:
    for imported, names in imports(modules()[module]):
        private = [n for n in names if n.startswith("_") and n != "__version__"]
        assert not private, f"{module} imports private names {private} from {imported}"


def test_modules_stay_small() -> None:
    long = {m: len(p.read_text(encoding="utf-8").splitlines()) for m, p in modules().items()}
    too_long = {m: n for m, n in long.items() if n > 430 and m not in LONG_MODULES}  # ~400, give or take
    assert not too_long, f"modules over ~400 lines (split them, or say why in LONG_MODULES): {too_long}"


def test_every_subpackage_says_what_lives_there() -> None:
    for init in PACKAGE.rglob("__init__.py"):
        doc = ast.get_docstring(ast.parse(init.read_text(encoding="utf-8")))
        assert doc and "import" in doc, f"{init} should say what lives there and what it may import"


def test_environment_variables_are_read_only_in_config() -> None:
    for module, path in modules().items():
        if module == "rag.config":
            continue
        source = path.read_text(encoding="utf-8")
        for needle in ("os.environ.get(", "os.getenv(", "environ[\"RAG_"):
            assert needle not in source, f"{module} reads the environment ({needle}); use rag.config"
