"""Artifacts: a model or index saved as a directory.

Layout::

    DIR/simlab.json          manifest: format, format_version, kind, config, files (sha256, bytes), metrics
    DIR/*.safetensors        arrays and weights
    DIR/*.json, DIR/*.txt    vocabularies, keys, settings

Nothing a user owns is lost:

* :class:`ArtifactWriter` only ever creates a new artifact or replaces an existing *simlab artifact*; an
  existing file, or a directory that is not empty and not an artifact, is refused with one line.
* Writing goes to a temporary sibling directory (``.NAME.tmp-PID-*``, created with the user's umask). The
  finished directory replaces the old artifact with one atomic ``renameat2(RENAME_EXCHANGE)`` where the OS
  has it, so a reader finds either the complete old or the complete new artifact at every instant. Elsewhere
  two renames are used; a crash between them leaves a backup (``.NAME.old-PID-*``) that the next open or save
  restores.
* Writers of one path are serialised by a lock file (``.NAME.lock``); the loser fails with one line.
* Temp and backup leftovers of dead processes are removed by the next save of that path.

Loading validates the manifest against its schema before anything else is read, confines every listed
file to the artifact (plain relative names, no ``..``, no symlinks, hard links or device files), verifies
every checksum and never unpickles; the manifest's ``kind`` is resolved through the ``KINDS`` registry,
never as an import path. Error messages name the artifact and the listed file, never a path outside it.

CLI commands that write an artifact call :func:`check_out` first (``--out`` / ``--force``).
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import json
import os
import re
import shutil
import stat
import tempfile
import time
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import numpy as np

from simlab.errors import ArtifactError

FORMAT = "simlab"
FORMAT_VERSION = 1
MANIFEST = "simlab.json"
MAX_MANIFEST_BYTES = 64 << 20
_LEFTOVER = re.compile(r"\.(tmp|old)-(\d+)-")
_HEX64 = re.compile(r"[0-9a-f]{64}")
_KIND = re.compile(r"[A-Za-z0-9_.:-]{1,64}")


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


def _os_error(exc: OSError, what: str) -> ArtifactError:
    """One line for an OS failure while saving (disk full, file too large, permission ...)."""
    reason = {
        errno.ENOSPC: "no space left on device",
        errno.EFBIG: "file too large for the file system",
        errno.EDQUOT: "disk quota exceeded",
        errno.EACCES: "permission denied",
        errno.EROFS: "read-only file system",
    }.get(exc.errno or 0, exc.strerror or type(exc).__name__)
    return ArtifactError(f"{what}: cannot write ({reason}); any existing artifact there is unchanged")


# -- file-system primitives ----------------------------------------------------------------------------------
def _umask() -> int:
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("Umask:"):
                return int(line.split()[1], 8)
    except (OSError, ValueError, IndexError):
        pass
    old = os.umask(0o022)
    os.umask(old)
    return old


def _exchange(a: Path, b: Path) -> bool:
    """Atomically swap two directory entries (Linux ``renameat2(RENAME_EXCHANGE)``); False if unsupported."""
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        fn = libc.renameat2
    except (OSError, AttributeError):
        return False
    fn.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p, ctypes.c_uint]
    at_fdcwd, rename_exchange = -100, 2
    if fn(at_fdcwd, os.fsencode(a), at_fdcwd, os.fsencode(b), rename_exchange) == 0:
        return True
    err = ctypes.get_errno()
    if err in (errno.EINVAL, errno.ENOSYS, errno.ENOTSUP, errno.EPERM):
        return False
    raise OSError(err, os.strerror(err), str(b))


def _fsync_dir(path: Path) -> None:
    with contextlib.suppress(OSError):
        fd = os.open(path, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def _pid_alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


# lock path + thread -> (fd, thread id, inode) of the locks this process holds: a save interrupted (Ctrl-C) at
# any line may leave its descriptor open; the next save of that path from the same thread closes it
_HELD: dict[str, tuple[int, int, int]] = {}


class _Lock:
    """An exclusive, non-blocking lock on ``.NAME.lock`` next to an artifact (removed on release)."""

    def __init__(self, path: Path) -> None:
        self.path = path.with_name(f".{path.name}.lock")
        self.fd: int | None = None

    @property
    def key(self) -> str:
        import threading

        return f"{self.path}\0{threading.get_ident()}"

    def _drop_stale(self) -> None:
        held = _HELD.get(self.key)
        if held is None:
            return
        with contextlib.suppress(OSError):
            if os.fstat(held[0]).st_ino == held[2]:
                os.close(held[0])
        _HELD.pop(self.key, None)

    def acquire(self, what: str) -> None:
        try:
            import fcntl
        except ImportError:  # no flock (Windows): no serialisation
            return
        import threading

        self._drop_stale()
        for _ in range(20):  # one line, so that no interrupt falls between the open and its record
            _HELD[self.key] = (
                fd := os.open(self.path, os.O_RDWR | os.O_CREAT, 0o666),
                threading.get_ident(),
                os.fstat(fd).st_ino,
            )
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError:
                self._drop_stale()
                raise ArtifactError(
                    f"{what}: another simlab process is writing this artifact; try again when it has finished"
                ) from None
            try:  # the file may have been removed by the previous holder: lock the current one
                if os.fstat(fd).st_ino == os.stat(self.path).st_ino:
                    self.fd = fd
                    return
            except FileNotFoundError:
                pass
            self._drop_stale()
        raise ArtifactError(f"{what}: could not lock the artifact for writing")

    def release(self) -> None:
        if self.fd is not None:
            with contextlib.suppress(OSError):
                os.unlink(self.path)
            self._drop_stale()
            self.fd = None


def _leftovers(path: Path) -> list[tuple[str, int, Path]]:
    """``(tmp|old, pid, path)`` of the temp and backup directories of `path` in its parent folder."""
    out = []
    prefix = f".{path.name}."
    try:
        entries = list(path.parent.iterdir())
    except OSError:
        return []
    for p in entries:
        if not p.name.startswith(prefix):
            continue
        m = _LEFTOVER.match(p.name[len(prefix) - 1 :])
        if m and not p.is_symlink() and p.is_dir():
            out.append((m.group(1), int(m.group(2)), p))
    return out


def _restore_backup(path: Path) -> bool:
    """If `path` is missing and a backup of a dead writer is complete, move it back; True if restored."""
    if os.path.lexists(path):
        return False
    backups = [
        p
        for tag, pid, p in _leftovers(path)
        if tag == "old" and not _pid_alive(pid) and (p / MANIFEST).is_file()
    ]
    for b in sorted(backups, key=lambda p: p.stat().st_mtime, reverse=True):
        with contextlib.suppress(OSError):
            os.rename(b, path)
            return True
    return False


def _clean_leftovers(path: Path) -> None:
    """Remove temp and backup directories that dead processes (or an interrupted save of this one) left next
    to `path`; called with the path's lock held, so no live writer owns them."""
    for _tag, pid, p in _leftovers(path):
        if pid == os.getpid() or not _pid_alive(pid):
            shutil.rmtree(p, ignore_errors=True)


# -- what may be written where -------------------------------------------------------------------------------
def canonical_kind(kind: str) -> str:
    """The registered name of an artifact kind (kinds renamed since keep loading under their old names)."""
    from simlab.registry import KINDS

    return KINDS.canonical(kind) if kind in KINDS else kind


def artifact_kind(path: str | Path) -> str | None:
    """The kind of the simlab artifact at `path`, or None when it is not one (nothing is verified)."""
    p = Path(path)
    m = p / MANIFEST
    try:
        if not p.is_dir() or not m.is_file() or m.stat().st_size > MAX_MANIFEST_BYTES:
            return None
        man = json.loads(m.read_text("utf-8"))
    except (OSError, ValueError, RecursionError):
        return None
    if isinstance(man, dict) and man.get("format") == FORMAT and isinstance(man.get("kind"), str):
        return canonical_kind(man["kind"])
    return None


def _check_replaceable(path: Path, shown: str) -> None:
    """Refuse a destination that is not new, an empty directory or a simlab artifact."""
    if path.parent.exists() and not path.parent.is_dir():
        raise ArtifactError(f"{shown}: cannot write here, {path.parent.name!r} is a file, not a directory")
    if not os.path.lexists(path):
        return
    if path.is_symlink() and not path.is_dir():
        raise ArtifactError(f"{shown}: exists and is a link, not a simlab artifact; refusing to replace it")
    if not path.is_dir():
        raise ArtifactError(f"{shown}: exists and is a file, not a simlab artifact; refusing to replace it")
    if artifact_kind(path) is None:
        try:
            empty = next(path.iterdir(), None) is None
        except OSError:
            empty = False
        if not empty:
            raise ArtifactError(
                f"{shown}: exists and is not a simlab artifact (a folder with other files); "
                "refusing to replace it; choose a new --out"
            )


def _same_or_inside(a: Path, b: Path) -> bool:
    try:
        ra, rb = a.resolve(), b.resolve()
    except (OSError, RuntimeError):
        return False
    return ra == rb or rb in ra.parents or ra in rb.parents


def check_out(
    path: str | Path,
    kind: str | Iterable[str] | None = None,
    force: bool = False,
    inputs: Iterable[str | Path | None] = (),
) -> Path:
    """Check an output path before a command does any work: the one guard of every ``--out``.

    A new path, an empty directory or a simlab artifact of a compatible `kind` is accepted. Refused with
    one line: an existing file, a directory that is not a simlab artifact, a path under a file, and, unless
    `force`, an artifact of another kind or one of the command's `inputs` (or a folder holding one). Even with
    `force` only a simlab artifact is ever replaced.

    Args:
        path: the ``--out`` path.
        kind: the kind(s) the command writes (``"vectors"``, ``"word2vec"``, ...); None skips the kind check.
        force: allow replacing an artifact of another kind or an input artifact.
        inputs: the paths the command reads (the input itself may only be replaced with `force`).

    Returns:
        The path.

    Raises:
        ArtifactError: naming the path and why.
    """
    p = Path(path)
    shown = str(path)
    if p.name in ("", ".", "..") or str(path).rstrip("/") in ("", ".", ".."):
        p = Path(os.path.abspath(p))
    _check_replaceable(p, shown)
    for inp in inputs:
        if (
            inp is not None
            and str(inp)
            and os.path.lexists(p)
            and os.path.exists(inp)
            and _same_or_inside(p, Path(inp))
            and (not force or artifact_kind(p) is None)
        ):
            raise ArtifactError(
                f"{shown}: is an input of this command; refusing to overwrite it "
                "(choose another --out, or --force to replace an input artifact)"
            )
    have = artifact_kind(p) if os.path.lexists(p) else None
    if have is not None and kind is not None:
        kinds = tuple(canonical_kind(k) for k in ((kind,) if isinstance(kind, str) else kind))
        if have not in kinds and not force:
            raise ArtifactError(
                f"{shown}: holds a {have!r} artifact, this command writes "
                f"{' or '.join(repr(k) for k in kinds)}; refusing to replace it "
                "(choose another --out, or --force)"
            )
    return p


class ArtifactWriter:
    """Write an artifact atomically.

    Use as a context manager; files go to :attr:`dir` (a temporary directory) and replace the destination
    in one atomic step on a clean exit. On an exception the temporary directory is removed and any existing
    artifact is untouched. Only a new path, an empty directory or an existing simlab artifact is accepted
    as destination.

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
        self._abs = Path(os.path.abspath(self.path))
        self._lock = _Lock(self._abs)

    def __enter__(self) -> ArtifactWriter:
        shown = str(self.path)
        _check_replaceable(self._abs, shown)
        try:
            self._abs.parent.mkdir(parents=True, exist_ok=True)
        except (FileExistsError, NotADirectoryError):
            raise ArtifactError(f"{shown}: cannot write here, a parent is a file, not a directory") from None
        except OSError as exc:
            raise _os_error(exc, shown) from None
        self._lock.acquire(shown)
        try:
            _restore_backup(self._abs)
            _clean_leftovers(self._abs)
            _check_replaceable(self._abs, shown)
            self.dir = Path(
                tempfile.mkdtemp(prefix=f".{self._abs.name}.tmp-{os.getpid()}-", dir=self._abs.parent)
            )
            os.chmod(self.dir, 0o777 & ~_umask())
        except OSError as exc:
            self._lock.release()
            raise _os_error(exc, shown) from None
        except BaseException:
            self._lock.release()
            raise
        return self

    def _out(self, name: str) -> Path:
        p = self.dir / name
        p.parent.mkdir(parents=True, exist_ok=True)
        return p

    def save_arrays(self, name: str, arrays: Mapping[str, Any]) -> None:
        """Save named arrays (numpy or torch) to ``name`` (a ``.safetensors`` file)."""
        from safetensors.numpy import save_file

        out = {}
        for k, v in arrays.items():
            if hasattr(v, "detach"):  # torch tensor, without importing torch
                v = v.detach().cpu().numpy()
            out[k] = np.ascontiguousarray(v)
        save_file(out, str(self._out(name)))

    def save_json(self, name: str, obj: Any) -> None:
        """Save a JSON document."""
        self._out(name).write_text(json.dumps(obj, default=_json_default, ensure_ascii=False), "utf-8")

    def save_text(self, name: str, text: str) -> None:
        """Save a UTF-8 text file."""
        self._out(name).write_text(text, "utf-8")

    def save_bytes(self, name: str, data: bytes) -> None:
        """Save an opaque binary file in a documented, non-executable format (e.g. a FAISS index)."""
        self._out(name).write_bytes(data)

    def _manifest(self) -> dict[str, Any]:
        files = {}
        for p in sorted(self.dir.rglob("*")):
            if p.is_file():
                rel = p.relative_to(self.dir).as_posix()
                files[rel] = {"sha256": _sha256(p), "bytes": p.stat().st_size}
        return {
            "format": FORMAT,
            "format_version": FORMAT_VERSION,
            "kind": self.kind,
            "config": self.config,
            "files": files,
            "metrics": self.metrics,
            **({"extra": self.extra} if self.extra else {}),
        }

    def _swap_in(self) -> None:
        """Put :attr:`dir` at the destination in one atomic step; remove the old artifact afterwards."""
        dest = self._abs
        if os.path.lexists(dest) and _exchange(self.dir, dest):
            old = self.dir  # now holds the previous artifact
        elif os.path.lexists(dest):  # no RENAME_EXCHANGE: two renames; a crash between them is recovered
            old = dest.with_name(f".{dest.name}.old-{os.getpid()}-{os.urandom(4).hex()}")
            os.rename(dest, old)
            os.rename(self.dir, dest)
        else:
            os.rename(self.dir, dest)
            old = None
        _fsync_dir(dest.parent)
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)

    def __exit__(self, exc_type: Any, exc: Any, tb: Any) -> None:
        try:
            if exc_type is not None:
                shutil.rmtree(self.dir, ignore_errors=True)
                if (
                    isinstance(exc, OSError)
                    and not isinstance(exc, ArtifactError)
                    and exc.errno in (errno.ENOSPC, errno.EFBIG, errno.EDQUOT)
                ):
                    raise _os_error(exc, str(self.path)) from None
                return
            try:
                manifest = self._manifest()
                (self.dir / MANIFEST).write_text(
                    json.dumps(manifest, indent=2, default=_json_default, ensure_ascii=False), "utf-8"
                )
                mode = _umask()
                for p in self.dir.rglob("*"):  # the user's umask, whatever a backend's writer used
                    os.chmod(p, (0o777 if p.is_dir() else 0o666) & ~mode)
                    if p.is_file():
                        with p.open("rb") as f:
                            os.fsync(f.fileno())
                _fsync_dir(self.dir)
                self._swap_in()
            except OSError as exc:
                shutil.rmtree(self.dir, ignore_errors=True)
                raise _os_error(exc, str(self.path)) from None
            except BaseException:
                shutil.rmtree(self.dir, ignore_errors=True)
                raise
        finally:
            self._lock.release()


# -- reading -------------------------------------------------------------------------------------------------
def _validate_manifest(man: Any, where: str) -> dict[str, Any]:
    """Check the manifest's schema (types, ranges, version) before anything else is read."""

    def bad(msg: str) -> ArtifactError:
        return ArtifactError(f"{where}: invalid manifest: {msg}")

    if not isinstance(man, dict) or man.get("format") != FORMAT:
        raise ArtifactError(f"{where}: not a simlab manifest")
    version = man.get("format_version")
    if type(version) is not int or version < 1:
        raise bad(f"format_version must be an integer >= 1, got {str(version)[:20]!r}")
    if version > FORMAT_VERSION:
        raise ArtifactError(
            f"{where}: format_version {version} is newer than this simlab reads "
            f"({FORMAT_VERSION}); upgrade simlab"
        )
    kind = man.get("kind")
    if not isinstance(kind, str) or not _KIND.fullmatch(kind):
        raise bad("'kind' must be a short name")
    for key in ("config", "metrics", "extra"):
        if man.get(key) is not None and not isinstance(man[key], dict):
            raise bad(f"{key!r} must be an object")
    files = man.get("files")
    if files is None:
        files = {}
    if not isinstance(files, dict):
        raise bad("'files' must be an object")
    for name, info in files.items():
        if not isinstance(info, dict) or set(info) - {"sha256", "bytes"}:
            raise bad("each file entry must be an object with sha256 and bytes")
        size, digest = info.get("bytes"), info.get("sha256")
        if type(size) is not int or size < 0 or not isinstance(digest, str) or not _HEX64.fullmatch(digest):
            raise bad("each file entry needs 'bytes' (integer >= 0) and 'sha256' (64 hex digits)")
        if not _plain_name(name):
            raise bad("a listed file name is not a plain relative name inside the artifact")
    return man


def _plain_name(name: Any) -> bool:
    if not isinstance(name, str) or not name or len(name) > 255 or name == MANIFEST:
        return False
    if name.startswith("/") or "\\" in name or "\x00" in name or ":" in name.split("/")[0][1:2]:
        return False
    parts = name.split("/")
    return all(p not in ("", ".", "..") for p in parts)


class Artifact:
    """A verified, loaded artifact directory.

    Args:
        path: the artifact directory.
        kind: if given, the kind(s) the caller expects; another kind raises :class:`ArtifactError`.
        verify: check every file's sha256 against the manifest (default True).
    """

    def __init__(
        self, path: str | Path, kind: str | tuple[str, ...] | None = None, verify: bool = True
    ) -> None:
        self.path = Path(path)
        if not os.path.lexists(self.path):
            _recover(Path(os.path.abspath(self.path)))
        mpath = self.path / MANIFEST
        if not self.path.is_dir():
            raise ArtifactError(f"{self.path}: not a simlab artifact directory (missing or not a directory)")
        if not mpath.is_file() or mpath.is_symlink():
            raise ArtifactError(f"{self.path}: manifest missing ({MANIFEST}); not a simlab artifact")
        try:
            if mpath.stat().st_size > MAX_MANIFEST_BYTES:
                raise ArtifactError(f"{self.path}: manifest {MANIFEST} is too large")
            raw = json.loads(mpath.read_text("utf-8"))
        except (ValueError, UnicodeDecodeError) as exc:
            raise ArtifactError(f"{self.path}: corrupt manifest {MANIFEST} ({exc})") from None
        except RecursionError:
            raise ArtifactError(f"{self.path}: corrupt manifest {MANIFEST} (nested too deeply)") from None
        except OSError as exc:
            raise ArtifactError(f"{self.path}: cannot read {MANIFEST} ({exc.strerror})") from None
        self.manifest: dict[str, Any] = _validate_manifest(raw, f"{self.path}/{MANIFEST}")
        self.kind: str = canonical_kind(self.manifest["kind"])
        if kind is not None:
            kinds = tuple(canonical_kind(k) for k in ((kind,) if isinstance(kind, str) else kind))
            if self.kind not in kinds:
                raise ArtifactError(
                    f"{self.path}: artifact kind is {self.kind!r}, expected {' or '.join(kinds)}"
                )
        self.config: dict[str, Any] = self.manifest.get("config") or {}
        self.metrics: dict[str, Any] = self.manifest.get("metrics") or {}
        self.files: dict[str, dict[str, Any]] = self.manifest.get("files") or {}
        self._root = self.path.resolve()
        for name in self.files:
            self._confined(name)
        if verify:
            self.verify()

    def _confined(self, name: str) -> Path:
        """The listed file `name`: a regular file inside the artifact, reached without links."""
        where = f"{self.path}/{name}"
        p = self._root
        for part in name.split("/"):
            p = p / part
            try:
                st = os.lstat(p)
            except FileNotFoundError:
                raise ArtifactError(f"{where}: file listed in the manifest is missing") from None
            except OSError as exc:
                raise ArtifactError(f"{where}: unreadable ({exc.strerror})") from None
            if stat.S_ISLNK(st.st_mode):
                raise ArtifactError(f"{where}: is a symbolic link; artifacts hold plain files only")
        if not stat.S_ISREG(st.st_mode):
            raise ArtifactError(f"{where}: is not a regular file")
        if st.st_nlink > 1:
            raise ArtifactError(
                f"{where}: is a hard link shared with another file; artifacts hold plain files only"
            )
        return p

    def nested(self, name: str) -> Path:
        """The directory of an artifact nested in this one (a model saved inside a model, e.g. ``model/``).

        A plain relative name of a real directory directly inside the artifact (no link); its own
        ``simlab.json`` lists and verifies its files when it is loaded.
        """
        where = f"{self.path}/{name}"
        if not _plain_name(name) or "/" in name:
            raise ArtifactError(f"{where}: not a plain name of a nested artifact")
        try:
            st = os.lstat(self._root / name)
        except FileNotFoundError:
            raise ArtifactError(f"{where}: nested artifact missing") from None
        if not stat.S_ISDIR(st.st_mode):
            raise ArtifactError(f"{where}: a nested artifact must be a plain directory (not a link)")
        return self._root / name

    def verify(self) -> None:
        """Check every listed file exists with the recorded size and sha256."""
        for name, info in self.files.items():
            p = self._confined(name)
            size = p.stat().st_size
            if size != info["bytes"]:
                raise ArtifactError(
                    f"{self.path}/{name}: size {size} != {info['bytes']} recorded (truncated?)"
                )
            if _sha256(p) != info["sha256"]:
                raise ArtifactError(f"{self.path}/{name}: checksum mismatch (corrupt file)")

    def file(self, name: str) -> Path:
        """Path of a file of the artifact; it must be listed in the manifest."""
        if name not in self.files:
            raise ArtifactError(f"{self.path}: no file {name!r} in this artifact")
        return self._confined(name)

    def arrays(self, name: str, required: Iterable[str] = ()) -> dict[str, np.ndarray]:
        """Load a safetensors file as numpy arrays; a missing tensor raises :class:`ArtifactError`.

        Args:
            name: the listed ``.safetensors`` file.
            required: tensor names that must be present.
        """
        from safetensors.numpy import load_file

        p = self.file(name)
        try:
            out = load_file(str(p))
        except Exception as exc:  # safetensors raises its own error types
            raise ArtifactError(f"{self.path}/{name}: unreadable safetensors file ({exc})") from None
        missing = [t for t in required if t not in out]
        if missing:
            raise ArtifactError(f"{self.path}/{name}: missing tensor(s) {', '.join(missing)}")
        return _Tensors(out, f"{self.path}/{name}")

    def json(self, name: str) -> Any:
        """Load a JSON file."""
        p = self.file(name)
        try:
            return json.loads(p.read_text("utf-8"))
        except (ValueError, UnicodeDecodeError) as exc:
            raise ArtifactError(f"{self.path}/{name}: corrupt JSON ({exc})") from None
        except RecursionError:
            raise ArtifactError(f"{self.path}/{name}: corrupt JSON (nested too deeply)") from None

    def text(self, name: str) -> str:
        """Load a UTF-8 text file."""
        p = self.file(name)
        try:
            return p.read_text("utf-8")
        except UnicodeDecodeError as exc:
            raise ArtifactError(f"{self.path}/{name}: not UTF-8 ({exc})") from None

    def bytes(self, name: str) -> bytes:
        """Load a binary file."""
        return self.file(name).read_bytes()


class _Tensors(dict):  # type: ignore[type-arg]
    """The tensors of a safetensors file; a missing name raises :class:`ArtifactError`, not KeyError."""

    def __init__(self, data: Mapping[str, np.ndarray], where: str) -> None:
        super().__init__(data)
        self.where = where

    def __missing__(self, key: str) -> np.ndarray:
        raise ArtifactError(f"{self.where}: missing tensor {key!r}")


def _recover(path: Path) -> None:
    """`path` is missing: restore a dead writer's backup, or wait briefly for a live writer's rename."""
    if not any(tag == "old" for tag, _pid, _p in _leftovers(path)):
        return
    lock = _Lock(path)
    for _ in range(50):
        try:
            lock.acquire(str(path))
        except OSError as exc:  # read-only folder: nothing can be restored here
            if not isinstance(exc, ArtifactError):
                return
            # a writer is between its two renames: it will put the artifact in place
            time.sleep(0.05)
            if os.path.lexists(path):
                return
            continue
        try:
            _restore_backup(path)
        except OSError:
            pass
        finally:
            lock.release()
        return


def load(path: str | Path, kind: str | tuple[str, ...] | None = None) -> Any:
    """Load any simlab artifact, resolving its kind through the registry.

    Args:
        path: an artifact directory written by a `save` method.
        kind: if given, the kind(s) expected (another kind raises :class:`ArtifactError`).

    Returns:
        The object (e.g. :class:`simlab.Vectors`, an index, a trained model).
    """
    from simlab.errors import SimlabError
    from simlab.registry import KINDS

    art = Artifact(path, kind=kind)
    cls = KINDS.get(art.kind)
    try:
        return cls.from_artifact(art)
    except SimlabError:
        raise
    except (KeyError, IndexError, TypeError, ValueError, AttributeError, RuntimeError) as exc:
        # verified checksums but contents that do not fit the kind (a hand-edited or foreign artifact)
        raise ArtifactError(
            f"{art.path}: a {art.kind!r} artifact whose contents do not fit its kind "
            f"({type(exc).__name__}: {' '.join(str(exc).split())[:160]})"
        ) from None


def info(path: str | Path) -> dict[str, Any]:
    """The manifest of an artifact (checksums verified)."""
    art = Artifact(path)
    return {"path": str(art.path), **art.manifest}
