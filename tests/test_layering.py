"""Enforces the dependency rules of docs/architecture.md by walking every module's imports.

- shared/ is the pure format: no app, UI, hardware or network import;
- signer/ never imports watcher code or anything network-related;
- channel/ (QR and camera adapters) imports only shared and offline libraries;
- watcher/ never imports signer code;
- the [signer] extra names no network package, and importing the signer loads none.
"""

from __future__ import annotations

import ast
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

NETWORK = {"web3", "httpx", "requests", "aiohttp", "urllib3", "websockets", "websocket", "socket"}
NETWORK_STDLIB = {
    "urllib.request",
    "http.client",
    "http.server",
    "socketserver",
    "ftplib",
    "smtplib",
}
FORBIDDEN: dict[str, set[str]] = {
    "shared": {"signer", "watcher", "textual", "cv2", "pyzbar", "qrcode"}
    | NETWORK
    | NETWORK_STDLIB,
    # channel/ holds the QR and camera adapters both programs use; it is as offline as the signer.
    "channel": {"signer", "watcher", "textual"} | NETWORK | NETWORK_STDLIB,
    "signer": {"watcher"} | NETWORK | NETWORK_STDLIB,
    "watcher": {"signer"},
}


def _imports(path: Path) -> list[tuple[int, str]]:
    tree = ast.parse(path.read_text(), filename=str(path))
    found: list[tuple[int, str]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.extend((node.lineno, alias.name) for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.append((node.lineno, node.module))
    return found


def _violations(package: str) -> list[str]:
    bad: list[str] = []
    for path in sorted((ROOT / package).rglob("*.py")):
        for lineno, module in _imports(path):
            for forbidden in FORBIDDEN[package]:
                if module == forbidden or module.startswith(forbidden + "."):
                    bad.append(f"{path.relative_to(ROOT)}:{lineno} imports {module}")
    return bad


@pytest.mark.parametrize("package", sorted(FORBIDDEN))
def test_package_imports_follow_the_layering(package: str) -> None:
    assert _violations(package) == []


def test_the_walker_sees_a_forbidden_import(tmp_path: Path) -> None:
    # The rule is only worth something if the walker really finds imports.
    sample = tmp_path / "sample.py"
    sample.write_text("import os\nfrom watcher.cli import main\nimport httpx as h\n")
    assert [m for _, m in _imports(sample)] == ["os", "watcher.cli", "httpx"]


def test_signer_extra_names_no_network_package() -> None:
    extras = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"][
        "optional-dependencies"
    ]
    names = {
        req.split(">")[0].split("=")[0].split("[")[0].strip().lower() for req in extras["signer"]
    }
    assert names.isdisjoint(NETWORK), names & NETWORK


def test_importing_the_signer_loads_no_network_library() -> None:
    modules = [
        p.relative_to(ROOT).with_suffix("").as_posix().replace("/", ".")
        for p in sorted((ROOT / "signer").rglob("*.py"))
    ]
    modules = [m.removesuffix(".__init__") for m in modules]
    code = (
        "import importlib, sys\n"
        f"for m in {modules!r}: importlib.import_module(m)\n"
        "print('\\n'.join(sorted(sys.modules)))\n"
    )
    loaded = set(
        subprocess.run(
            [sys.executable, "-c", code], check=True, capture_output=True, text=True, cwd=ROOT
        ).stdout.split()
    )
    # socket itself is loaded by asyncio (Textual), so only real network clients are checked here.
    clients = {"web3", "httpx", "requests", "aiohttp", "urllib3", "websockets"}
    assert {m.split(".")[0] for m in loaded} & clients == set()
