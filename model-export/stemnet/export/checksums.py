"""The sha256 of every file of a bundle or a delta, as their manifests list them (docs/bundle-format.md)."""
from __future__ import annotations

import hashlib
from pathlib import Path


def sha256_file(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def checksums(root: Path, manifest_file: str) -> dict[str, str]:
    """Every file under `root` but the manifest itself: relative path -> lower-case hex sha256."""
    files = sorted(p for p in root.rglob("*") if p.is_file() and p.name != manifest_file)
    return {p.relative_to(root).as_posix(): sha256_file(p) for p in files}


def mismatched(root: Path, manifest_file: str, listed: dict[str, str]) -> list[str]:
    """The files whose checksum is not the one `listed`, missing and unlisted files included, sorted."""
    actual = checksums(root, manifest_file)
    return sorted({name for name, _ in set(actual.items()) ^ set(listed.items())})
