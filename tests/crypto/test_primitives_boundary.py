"""One small crypto API: no module outside clearance/crypto/ touches cryptographic primitives.

Walks every Python file of the project (not .venv) with ast and fails on an
import of `cryptography` (any submodule, hazmat included) or of `hmac`
outside clearance/crypto/. Keyed hashes, key derivation, constant-time
comparison and sealing under a caller's key go through clearance.crypto
(keyed.py). Plain SHA-256 of non-secret values (hashlib) stays allowed.
Libraries that use primitives internally (argon2-cffi, pyotp) are not the
project's own code and are not imported as primitives.
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
FORBIDDEN = ("cryptography", "hmac")
SKIP_DIRS = {".venv", "venv", ".git", "__pycache__", "node_modules", "instance", ".ruff_cache", ".pytest_cache"}

#: The only places outside clearance/crypto/ allowed to import primitives, each for a reason of its own.
ALLOWED = {
    # Decodes the frozen format vectors with raw AES-GCM: an independent check of clearance.crypto
    # must not go through clearance.crypto.
    "tests/crypto/test_crypto_vectors.py": "independent decoding of the format vectors",
    # Measures clearance.crypto against raw AES-GCM (the floor) in the same run.
    "bench/crypto_bench.py": "raw AES-GCM baseline for the benchmark",
}


def _python_files() -> list[Path]:
    out = []
    for path in ROOT.rglob("*.py"):
        rel = path.relative_to(ROOT)
        if SKIP_DIRS & set(rel.parts[:-1]) or any(p.startswith(".") for p in rel.parts[:-1]):
            continue
        out.append(path)
    return out


def _imports(tree: ast.AST) -> list[tuple[int, str]]:
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.append((node.lineno, node.module))
    return found


def _offending(rel: str, tree: ast.AST) -> list[str]:
    return [f"{rel}:{line} imports {name}" for line, name in _imports(tree)
            if name.split(".")[0] in FORBIDDEN]


def test_no_module_outside_clearance_crypto_imports_primitives() -> None:
    files = _python_files()
    assert len(files) > 100, "the walk found too few files to prove anything"
    offending = []
    for path in files:
        rel = path.relative_to(ROOT).as_posix()
        if rel.startswith("clearance/crypto/") or rel in ALLOWED:
            continue
        offending += _offending(rel, ast.parse(path.read_text(encoding="utf-8"), filename=rel))
    assert not offending, (
        "use clearance.crypto (keyed_hash, same, derive_key, seal_with_key, open_with_key, seal/open_) instead:\n"
        + "\n".join(offending))


def test_the_allow_list_is_still_needed() -> None:
    """An entry whose file no longer imports primitives (or is gone) must leave the list."""
    for rel in ALLOWED:
        path = ROOT / rel
        assert path.exists(), f"{rel} is allow-listed but does not exist"
        assert _offending(rel, ast.parse(path.read_text(encoding="utf-8"))), f"{rel} no longer needs its exemption"


def test_the_check_catches_an_import() -> None:
    """The walk would see a hazmat import, `from hmac import …` and a bare `import cryptography`."""
    source = ("from cryptography.hazmat.primitives.ciphers.aead import AESGCM\nimport hmac as h\n"
              "def f():\n    import cryptography.exceptions\n")
    assert len(_offending("x.py", ast.parse(source))) == 3
    assert _offending("x.py", ast.parse("import hashlib\nfrom clearance import crypto\n")) == []
