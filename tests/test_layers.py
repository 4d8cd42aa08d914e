"""The import graph keeps the house's floors: api above services, services above the data-access
layer and the models, the protocol (jsonapi/) and the schemas beside them; nothing imports a
floor above its own."""

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "jsonapi_server"


def imported_modules(path: Path, module: str) -> set[str]:
    """Every module of ours that `path` (the module named `module`) imports, at any depth of
    the file (imports inside functions count: they are arrows all the same)."""
    package = module.rsplit(".", 1)[0] if path.name != "__init__.py" else module
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - node.level + 1]
                name = ".".join(base + ([node.module] if node.module else []))
            else:
                name = node.module or ""
            found.add(name)
            found.update(f"{name}.{alias.name}" for alias in node.names)
    return {name for name in found if name.split(".")[0] in ("jsonapi_server", "schemas")}


def sources() -> list[Path]:
    return sorted([*PACKAGE.rglob("*.py"), *(ROOT / "schemas").rglob("*.py")])


# What each floor may import of ours (besides itself and the ground floor, times).
MAY_IMPORT = {
    "times": set(),
    "extensions": set(),
    "config": set(),
    "models": {"extensions"},
    "jsonapi": set(),
    "schemas": {"jsonapi"},
    "db": {"extensions", "models", "config"},
    "services": {"extensions", "models", "db", "config"},
}


def module_name(path: Path) -> str:
    return ".".join(path.relative_to(ROOT).with_suffix("").parts)


def import_layers(path: Path, module: str) -> set[str]:
    layers = set()
    for name in imported_modules(path, module):
        parts = name.split(".")
        if parts[0] == "schemas":
            layers.add("schemas")
        elif len(parts) > 1:
            layers.add(parts[1])
    return layers


def own_layer(path: Path) -> str:
    relative = path.relative_to(ROOT).with_suffix("").parts
    if relative[0] == "schemas":
        return "schemas"
    return relative[1]


def upward_imports(path: Path, module: str) -> set[str]:
    """The floors above its own that a module imports (none for a top-floor module)."""
    layer = "schemas" if module.startswith("schemas") else module.split(".")[1]
    if layer not in MAY_IMPORT:
        return set()  # the top floors (api, cli, the factory, serving) import what is below
    return import_layers(path, module) - MAY_IMPORT[layer] - {layer, "times"}


@pytest.mark.parametrize("path", sources(), ids=lambda path: str(path.relative_to(ROOT)))
def test_no_module_imports_a_floor_above_its_own(path):
    assert not upward_imports(path, module_name(path))


def test_the_check_sees_an_upward_import(tmp_path):
    """The check itself: a protocol module importing a schema, or a data-access module a
    service (relatively), is found."""
    probe = tmp_path / "probe.py"
    probe.write_text("from schemas.base import ResourceSchema\n")
    assert upward_imports(probe, "jsonapi_server.jsonapi.probe") == {"schemas"}
    probe.write_text("def f():\n    from ..services import sync\n")
    assert upward_imports(probe, "jsonapi_server.db.probe") == {"services"}
    probe.write_text("from jsonapi_server.db import listing\n")
    assert upward_imports(probe, "jsonapi_server.services.probe") == set()


def data_access_imports(path: Path) -> list[str]:
    """What a module takes from the data-access layer other than the names its face offers."""
    import jsonapi_server.db as data_access

    offered = set(data_access.__all__)
    found = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module:
            if node.module.startswith("jsonapi_server.db."):
                found.append(node.module)
            elif node.module == "jsonapi_server.db":
                found += [alias.name for alias in node.names if alias.name not in offered]
        elif isinstance(node, ast.Import):
            found += [a.name for a in node.names if a.name.startswith("jsonapi_server.db")]
    return found


@pytest.mark.parametrize(
    "path",
    [p for p in sources() if own_layer(p) in ("services", "api")],
    ids=lambda path: str(path.relative_to(ROOT)),
)
def test_services_and_views_read_through_the_data_access_layers_face(path):
    assert not data_access_imports(path)


def test_the_face_check_sees_a_reach_inside(tmp_path):
    probe = tmp_path / "probe.py"
    probe.write_text("from jsonapi_server.db.cursor_reads import all_rows\n")
    assert data_access_imports(probe) == ["jsonapi_server.db.cursor_reads"]
    probe.write_text("from jsonapi_server.db import listing, read_one\n")
    assert data_access_imports(probe) == ["listing"]
