"""Artifacts: a model or index saved as a directory.

Layout::

    DIR/simlab.json          manifest: format, format_version, kind, config, files (sha256, bytes), metrics
    DIR/*.safetensors        arrays and weights
    DIR/*.json, DIR/*.txt    vocabularies, keys, settings

Saving is atomic: everything is written to a temporary sibling directory that is renamed into place, so a
crash never leaves a half-written artifact and an existing artifact is only replaced once the new one is whole.
Loading verifies every checksum and never unpickles; the manifest's `kind` is resolved through the `KINDS`
registry, never as an import path.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from simlab.errors import ArtifactError

FORMAT = "simlab"
FORMAT_VERSION = 1
MANIFEST = "simlab.json"


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def _json_default(o: Any) -> Any:
    if isinstance(o, np.generic):
        return o.item()
    if isinstance(o, np.ndarray):
        return o.tolist()
    if isinstance(o, Path):
        return str(o)
    raise TypeError(f"not JSON serialisable: {type(o).__name__}")


class ArtifactWriter:
    """Write an artifact atomically.

    Use as a context manager; files go to :attr:`dir` (a temporary directory) and are moved into place on a
    clean exit. On an exception the temporary directory is removed and any existing artifact is untouched.

    Args:
        path: the artifact directory to create or replace.
        kind: the registered artifact kind (e.g. ``"vectors"``, ``"word2vec"``).
        config: JSON-ready configuration stored in the manifest.
    """

    def __init__(self, path: str | Path, kind: str, config: Mapping[str, Any] | None = None) -> None:
        self.path = Path(path)
        self.kind = kind
        self.config = dict(config or {})
        self.metrics: dict[str, Any] = {}
        self.extra: dict[str, Any] = {}
        self.dir: Path = Path()

    def __enter__(self) -> ArtifactWriter:
        parent = self.path.parent
        parent.mkdir(parents=True, exist_ok=True)
        if self.path.exists() and not self.path.is_dir():
            raise ArtifactError(f"{self.path}: exists and is not a directory")
        self.dir = Path(tempfile.mkdtemp(prefix=f".{self.path.name}.tmp-", dir=parent))
        return self

    def save_arrays(self, name: str, arrays: Mapping[str, Any]) -> None:
        """Save named arrays (numpy or torch) to ``name`` (a ``.safetensors`` file)."""
        from safetensors.numpy import save_file

        out = {}
        for k, v in arrays.items():
            if hasattr(v, "detach"):  # torch tensor, without importing torch
                v = v.detach().cpu().numpy()
            out[k] = np.ascontiguousarray(v)
        save_file(out, str(self.dir / name))

    def save_json(self, name: str, obj: Any) -> None:
        """Save a JSON document."""
        (self.dir / name).write_text(json.dumps(obj, default=_json_default, ensure_ascii=False), "utf-8")

    def save_text(self, name: str, text: str) -> None:
        """Save a UTF-8 text file."""
        (self.dir / name).write_text(text, "utf-8")

    def save_bytes(self, name: str, data: bytes) -> None:
        """Save an opaque binary file in a documented, non-executable format (e.g. a FAISS index)."""
        (self.dir / name).write_bytes(data)

    def __exit__(self, exc_type: Any, exc: Any, tb: Any) -> None:
        if exc_type is not None:
            shutil.rmtree(self.dir, ignore_errors=True)
            return
        try:
            files = {}
            for p in sorted(self.dir.rglob("*")):
                if p.is_file():
                    rel = p.relative_to(self.dir).as_posix()
                    files[rel] = {"sha256": _sha256(p), "bytes": p.stat().st_size}
            manifest = {
                "format": FORMAT,
                "format_version": FORMAT_VERSION,
                "kind": self.kind,
                "config": self.config,
                "files": files,
                "metrics": self.metrics,
                **({"extra": self.extra} if self.extra else {}),
            }
            (self.dir / MANIFEST).write_text(
                json.dumps(manifest, indent=2, default=_json_default, ensure_ascii=False), "utf-8"
            )
            for p in self.dir.rglob("*"):
                if p.is_file():
                    with p.open("rb") as f:
                        os.fsync(f.fileno())
            backup = None
            if self.path.exists():
                backup = self.path.with_name(f".{self.path.name}.old-{os.getpid()}")
                os.replace(self.path, backup)
            os.replace(self.dir, self.path)
            if backup is not None:
                shutil.rmtree(backup, ignore_errors=True)
        except BaseException:
            shutil.rmtree(self.dir, ignore_errors=True)
            raise


class Artifact:
    """A verified, loaded artifact directory.

    Args:
        path: the artifact directory.
        kind: if given, the kind(s) the caller expects; another kind raises :class:`ArtifactError`.
        verify: check every file's sha256 against the manifest (default True).
    """

    def __init__(self, path: str | Path, kind: str | tuple[str, ...] | None = None, verify: bool = True) -> None:
        self.path = Path(path)
        mpath = self.path / MANIFEST
        if not self.path.is_dir():
            raise ArtifactError(f"{self.path}: not a simlab artifact directory (missing or not a directory)")
        if not mpath.is_file():
            raise ArtifactError(f"{mpath}: manifest missing; not a simlab artifact")
        try:
            self.manifest: dict[str, Any] = json.loads(mpath.read_text("utf-8"))
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise ArtifactError(f"{mpath}: corrupt manifest ({exc})") from None
        if not isinstance(self.manifest, dict) or self.manifest.get("format") != FORMAT:
            raise ArtifactError(f"{mpath}: not a simlab manifest")
        version = self.manifest.get("format_version")
        if not isinstance(version, int) or version > FORMAT_VERSION:
            raise ArtifactError(f"{mpath}: format_version {version!r} is newer than this simlab reads")
        self.kind: str = str(self.manifest.get("kind"))
        if kind is not None:
            kinds = (kind,) if isinstance(kind, str) else kind
            if self.kind not in kinds:
                raise ArtifactError(f"{self.path}: artifact kind is {self.kind!r}, expected {' or '.join(kinds)}")
        self.config: dict[str, Any] = self.manifest.get("config") or {}
        self.metrics: dict[str, Any] = self.manifest.get("metrics") or {}
        self.files: dict[str, dict[str, Any]] = self.manifest.get("files") or {}
        if verify:
            self.verify()

    def verify(self) -> None:
        """Check every listed file exists with the recorded size and sha256."""
        for name, info in self.files.items():
            p = self.path / name
            if not p.is_file():
                raise ArtifactError(f"{p}: file listed in the manifest is missing")
            if p.stat().st_size != info.get("bytes"):
                raise ArtifactError(f"{p}: size {p.stat().st_size} != {info.get('bytes')} recorded (truncated?)")
            if _sha256(p) != info.get("sha256"):
                raise ArtifactError(f"{p}: checksum mismatch (corrupt file)")

    def file(self, name: str) -> Path:
        """Path of a file of the artifact; it must be listed in the manifest."""
        if name not in self.files:
            raise ArtifactError(f"{self.path}: no file {name!r} in this artifact")
        return self.path / name

    def arrays(self, name: str) -> dict[str, np.ndarray]:
        """Load a safetensors file as numpy arrays."""
        from safetensors.numpy import load_file

        p = self.file(name)
        try:
            return load_file(str(p))
        except Exception as exc:  # safetensors raises its own error types
            raise ArtifactError(f"{p}: unreadable safetensors file ({exc})") from None

    def json(self, name: str) -> Any:
        """Load a JSON file."""
        p = self.file(name)
        try:
            return json.loads(p.read_text("utf-8"))
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise ArtifactError(f"{p}: corrupt JSON ({exc})") from None

    def text(self, name: str) -> str:
        """Load a UTF-8 text file."""
        p = self.file(name)
        try:
            return p.read_text("utf-8")
        except UnicodeDecodeError as exc:
            raise ArtifactError(f"{p}: not UTF-8 ({exc})") from None

    def bytes(self, name: str) -> bytes:
        """Load a binary file."""
        return self.file(name).read_bytes()


def load(path: str | Path) -> Any:
    """Load any simlab artifact, resolving its kind through the registry.

    Args:
        path: an artifact directory written by a `save` method.

    Returns:
        The object (e.g. :class:`simlab.Vectors`, an index, a trained model).
    """
    from simlab.registry import KINDS

    art = Artifact(path)
    cls = KINDS.get(art.kind)
    return cls._from_artifact(art)


def info(path: str | Path) -> dict[str, Any]:
    """The manifest of an artifact (checksums verified)."""
    art = Artifact(path)
    return {"path": str(art.path), **art.manifest}
