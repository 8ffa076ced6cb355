"""The package's shape: imports go down the layers of STYLE.md, and every __all__ is complete."""

from __future__ import annotations

import ast
import importlib
import pathlib

import pytest

PACKAGE = pathlib.Path(__file__).resolve().parent.parent / "mailgun_mock"

# Lower numbers are lower layers; a module may import only from strictly lower layers
# (api blueprints may also use api.common). Every module must be listed here.
# Deviations from STYLE.md's picture, where a real dependency asks for them: the store holds
# event logs (events.py), payloads and routing build on mime/expressions, and the backend owns
# the delivery worker, so delivery sits just below it.
LAYERS = {
    "exceptions": 0, "logtext": 0, "openapi_schemas": 0.5, "openapi": 0.6,
    "models": 1, "config": 1,
    "stripping": 1.5,
    "headers": 1.8, "event_filters": 1.8, "syntax": 1.8, "route_actions": 1.9,
    "expressions": 2, "mime": 2, "compose": 2, "signing": 2, "clock": 2, "ids": 2, "events": 2,
    "store": 2.5, "payloads": 2.5, "routing": 2.5, "snapshot": 2.6,
    "suppressions": 1.5, "rules": 2.3, "sending": 2.5, "sendstate": 2.4,
    "actions": 2.9, "webhooks": 2.9, "outbound": 2.9, "sendops": 2.95,
    "delivery": 2.8,
    "backend": 3,
    "api": 4, "api.common": 4, "api.routes": 4.5, "api.mock": 4.5, "api.messages": 4.5, "api.events": 4.5, "api.webhooks": 4.5, "api.sending": 4.5,
    "app": 5,
    "smtp": 5.5, "server": 6, "replay": 6.5,
    "cli": 7, "pytest_plugin": 7, "__main__": 8,
}
WEB_PACKAGES = ("flask", "werkzeug", "pytest")


def modules() -> list[tuple[str, pathlib.Path]]:
    found = []
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = path.relative_to(PACKAGE).with_suffix("").parts
        if parts[-1] == "__init__":
            parts = parts[:-1]
        found.append((".".join(parts), path))
    return found


def imports_of(name: str, path: pathlib.Path) -> set[str]:
    """Names of our own modules and third-party top-level packages that a module imports."""
    package = name.split(".")[:-1] if path.name != "__init__.py" else name.split(".")
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.level:
            base = package[: len(package) - node.level + 1]
            prefix = [*base, *(node.module.split(".") if node.module else [])]
            for alias in node.names:
                candidate = ".".join([*prefix, alias.name])
                found.add(candidate if candidate in KNOWN else ".".join(prefix))
        elif isinstance(node, ast.ImportFrom) and node.module:
            found.add("ext:" + node.module.split(".")[0])
        elif isinstance(node, ast.Import):
            found.update("ext:" + alias.name.split(".")[0] for alias in node.names)
    return found


KNOWN = {name for name, _ in modules()}


@pytest.mark.parametrize(("name", "path"), [m for m in modules() if m[0]], ids=lambda v: str(v) if isinstance(v, str) else "")
def test_layers_imports_go_down_only(name: str, path: pathlib.Path) -> None:
    """A module imports only from lower layers, and nothing below api/ imports Flask, werkzeug or pytest."""
    assert name in LAYERS, f"mailgun_mock.{name} is not placed in a layer in tests/test_layers.py"
    for target in imports_of(name, path):
        if target.startswith("ext:"):
            if LAYERS[name] < 4:
                assert target[4:] not in WEB_PACKAGES, f"{name} (below api/) imports {target[4:]}"
            continue
        if target == "" or target == name:
            continue
        assert target in LAYERS, f"{name} imports unknown module {target}"
        assert LAYERS[target] < LAYERS[name] or target == "api.common" and name.startswith("api."), (
            f"{name} (layer {LAYERS[name]}) imports {target} (layer {LAYERS[target]})"
        )


@pytest.mark.parametrize(("name", "path"), [m for m in modules() if m[0] != "__main__"], ids=lambda v: str(v) if isinstance(v, str) else "")
def test_layers_all_is_complete(name: str, path: pathlib.Path) -> None:
    """Where a module has __all__, it lists every public class and function defined there, and only real names."""
    module = importlib.import_module("mailgun_mock" + ("." + name if name else ""))
    if not hasattr(module, "__all__"):
        return
    for exported in module.__all__:
        assert getattr(module, exported, None) is not None, f"{name}.__all__ names missing {exported}"
    tree = ast.parse(path.read_text())
    public = {n.name for n in tree.body if isinstance(n, (ast.FunctionDef, ast.ClassDef)) and not n.name.startswith("_")}
    assert public <= set(module.__all__), f"{name}.__all__ lacks {sorted(public - set(module.__all__))}"


def test_layers_plugin_imports_nothing_heavy() -> None:
    """Importing the pytest plugin (done in every pytest session of every user) loads neither Flask nor werkzeug."""
    import subprocess
    import sys

    code = "import sys, mailgun_mock.pytest_plugin; print(sorted(m for m in sys.modules if m.split('.')[0] in ('flask', 'werkzeug', 'requests', 'regex')))"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True)
    assert done.stdout.strip() == "[]"
