"""Every file graphguard writes: beside its destination, owner-only, synced, renamed into place.

A reader never sees half a file: :func:`atomic_file` writes into a temporary file in
the destination's own folder (created ``0600``, so nobody else can read it even for a
moment), flushes and ``fsync``\\ s it, and renames it over the destination only when
the whole content is written.  An error or an interrupt (``SIGINT``) deletes the
temporary file and leaves the previous file as it was.  :func:`atomic_folder` does the
same for a set of files (``analyse --out DIR``): all are written into a temporary
folder beside ``DIR``, which then takes ``DIR``'s place in one step, so the folder holds
the previous complete set or the new one, never a mixture.

A full disk is one line naming the file and the device (:func:`write_error`).
:func:`check_destination` implements ``--force``: writing onto an existing file or
through a symbolic link needs it, and the resolved path is what the audit records.
"""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import errno
import os
import shutil
import signal
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any, overload

from graphguard.errors import BackendUnavailable, GraphguardError, RefusedError, UsageError

__all__ = [
    "atomic_file",
    "atomic_folder",
    "refuse_foreign",
    "write_bytes",
    "write_text",
    "new_private_file",
    "check_destination",
    "private_folder",
    "write_error",
    "device_of",
]

#: Modes of what graphguard creates: nobody but its owner can read an export.
FILE_MODE = 0o600
FOLDER_MODE = 0o700

_DISK_FULL = {errno.ENOSPC, errno.EDQUOT}
_REFUSED = {errno.EACCES, errno.EPERM, errno.EROFS}


def write_error(path: str | Path, error: OSError) -> GraphguardError:
    """The one-line error for a failed write of ``path``.

    A full disk or quota names the device (exit 4: the storage is unavailable), a
    permission or a read-only file system is refused (exit 3), anything else (a
    missing folder, a name that is a folder) is a usage error (exit 2).
    """
    reason = error.strerror or str(error)
    if error.errno in _DISK_FULL:
        return BackendUnavailable(
            f"{path}: {reason.lower()} on {device_of(Path(path))}: nothing was written "
            "and any previous file is unchanged; free some space and run again"
        )
    if error.errno in _REFUSED:
        return RefusedError(f"{path}: cannot write: {reason.lower()}")
    return UsageError(f"{path}: cannot write: {reason.lower()}")


def device_of(path: Path) -> str:
    """The device holding ``path`` and where it is mounted, e.g. ``tmpfs (mounted on /tmp)``.

    Read from ``/proc/self/mountinfo``; elsewhere, the device number.
    """
    probe = path
    while not probe.exists() and probe != probe.parent:
        probe = probe.parent
    try:
        device = os.stat(probe).st_dev
    except OSError:
        return "its device"
    wanted = f"{os.major(device)}:{os.minor(device)}"
    try:
        with open("/proc/self/mountinfo", encoding="utf-8") as handle:
            for line in handle:
                fields = line.split()
                if len(fields) > 4 and fields[2] == wanted and " - " in line:
                    source = line.split(" - ", 1)[1].split()
                    name = source[1] if len(source) > 1 else fields[2]
                    return f"{name} (mounted on {_unescape_mount(fields[4])})"
    except OSError:
        pass
    return f"device {wanted}"


def _unescape_mount(text: str) -> str:
    # mountinfo writes spaces, tabs, newlines and backslashes as octal escapes.
    return (
        text.replace("\\040", " ")
        .replace("\\011", "\t")
        .replace("\\012", "\n")
        .replace("\\134", "\\")
    )


@overload
def check_destination(path: None, *, force: bool, option: str = ...) -> None: ...
@overload
def check_destination(path: str | Path, *, force: bool, option: str = ...) -> Path: ...
def check_destination(
    path: str | Path | None, *, force: bool, option: str = "--out"
) -> Path | None:
    """The real path an output option names; refused onto an existing file or a link.

    Parameters
    ----------
    path : path
        What the user typed.
    force : bool
        ``--force`` was given: an existing file is replaced, a symbolic link is
        followed and its target replaced.
    option : str
        The option's name, for the message.

    Returns
    -------
    Path or None
        The absolute, resolved destination (what is written and audited); None when
        the option was not given.

    Raises
    ------
    UsageError
        When ``path`` exists or is a symbolic link and ``force`` is not set, or its
        folder is missing.
    """
    if path is None:
        return None
    typed = Path(path)
    if typed.is_symlink() and not force:
        target = os.readlink(typed)
        raise UsageError(
            f"{option} {typed} is a symbolic link to {target}: give --force to write there"
        )
    resolved = typed.resolve()
    if resolved.is_dir() and not force and any(resolved.iterdir()):
        raise UsageError(
            f"{option} {typed} is a folder that is not empty: give --force to replace "
            "graphguard's outputs in it"
        )
    if resolved.exists() and not resolved.is_dir() and not force:
        raise UsageError(f"{option} {typed} exists: give --force to replace it")
    return resolved


def private_folder(path: Path) -> Path:
    """Make ``path`` and any missing parents, each created owner-only (``0700``)."""
    missing: list[Path] = []
    probe = path
    while not probe.exists():
        missing.append(probe)
        if probe.parent == probe:
            break
        probe = probe.parent
    for folder in reversed(missing):
        try:
            os.mkdir(folder, FOLDER_MODE)
        except FileExistsError:
            continue
        except OSError as error:
            raise write_error(folder, error) from error
    return path


@contextlib.contextmanager
def atomic_file(
    path: str | Path,
    mode: str = "w",
    *,
    encoding: str | None = "utf-8",
    newline: str | None = None,
) -> Iterator[IO[Any]]:
    """Open a temporary file beside ``path`` for writing; rename it over ``path`` when done.

    Parameters
    ----------
    path : path
        The destination.  Its folder is created owner-only if missing.
    mode : {"w", "wb"}
        Text or bytes.
    encoding, newline
        As for :func:`open`, in text mode.

    Yields
    ------
    file object
        The temporary file, ``0600`` from creation.

    Raises
    ------
    GraphguardError
        From :func:`write_error` when the write fails (a full disk, a permission).
    """
    if mode not in ("w", "wb"):
        raise ValueError(f"atomic_file writes, mode 'w' or 'wb', not {mode!r}")
    destination = Path(path)
    private_folder(destination.parent)
    try:
        descriptor, temporary = tempfile.mkstemp(
            dir=destination.parent, prefix=f".{destination.name}.", suffix=".partial"
        )
    except OSError as error:
        raise write_error(destination, error) from error
    try:
        binary = mode == "wb"
        with os.fdopen(
            descriptor,
            mode,
            encoding=None if binary else encoding,
            newline=None if binary else newline,
        ) as handle:
            yield handle
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, destination)
        _sync_folder(destination.parent)
    except OSError as error:
        _remove(temporary)
        raise write_error(destination, error) from error
    except BaseException:
        _remove(temporary)  # an error or an interrupt: the previous file stays as it was
        raise


def new_private_file(
    path: str | Path, mode: str = "w", *, encoding: str | None = "utf-8", newline: str | None = None
) -> IO[Any]:
    """Create ``path`` (which must not exist) owner-only and open it for writing.

    For the files of an :func:`atomic_folder`, which are already private to this
    process until the folder is swapped into place.
    """
    if mode not in ("w", "wb"):
        raise ValueError(f"new_private_file writes, mode 'w' or 'wb', not {mode!r}")
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0)
    descriptor = os.open(path, flags, FILE_MODE)
    binary = mode == "wb"
    return os.fdopen(
        descriptor, mode, encoding=None if binary else encoding, newline=None if binary else newline
    )


def write_bytes(path: str | Path, data: bytes) -> Path:
    """Write ``data`` to ``path`` atomically (see :func:`atomic_file`); returns ``path``."""
    with atomic_file(path, "wb") as handle:
        handle.write(data)
    return Path(path)


def write_text(path: str | Path, text: str) -> Path:
    """Write UTF-8 ``text`` to ``path`` atomically (see :func:`atomic_file`); returns ``path``."""
    with atomic_file(path, "w", newline="") as handle:
        handle.write(text)
    return Path(path)


def refuse_foreign(path: str | Path, owned: tuple[str, ...]) -> None:
    """Refuse an output folder :func:`atomic_folder` would refuse, before the work begins.

    Raises
    ------
    UsageError
        When ``path`` exists and is not a folder, or holds files not in ``owned``.
    """
    destination = Path(path)
    if destination.exists():
        if not destination.is_dir():
            raise UsageError(f"{destination} exists and is not a folder")
        foreign = sorted(p.name for p in destination.iterdir() if p.name not in owned)
        if foreign:
            shown = ", ".join(foreign[:3]) + (" …" if len(foreign) > 3 else "")
            raise UsageError(
                f"{destination} holds files that are not graphguard's outputs ({shown}): "
                "choose a new or empty folder"
            )


@contextlib.contextmanager
def atomic_folder(path: str | Path, owned: tuple[str, ...]) -> Iterator[Path]:
    """A temporary folder beside ``path`` that takes ``path``'s place when the block ends.

    Write every file of a set into the yielded folder (plainly: it is private and
    nobody reads it until the swap).  On success each file is synced and the folder
    replaces ``path`` in one step (``renameat2(RENAME_EXCHANGE)`` where the kernel has
    it); the previous set is then deleted.  On an error or an interrupt the temporary
    folder is deleted and ``path`` keeps the previous complete set.

    Parameters
    ----------
    path : path
        The output folder; created if missing.
    owned : tuple of str
        The file names this output writes.  An existing ``path`` holding anything
        else is refused, so replacing it can never delete a user's own files.

    Raises
    ------
    UsageError
        When ``path`` holds files that are not in ``owned``, or is not a folder.
    GraphguardError
        From :func:`write_error` when a write fails.
    """
    destination = Path(path)
    refuse_foreign(destination, owned)
    private_folder(destination.parent)
    try:
        staging = Path(
            tempfile.mkdtemp(
                dir=destination.parent, prefix=f".{destination.name}.", suffix=".partial"
            )
        )
    except OSError as error:
        raise write_error(destination, error) from error
    try:
        yield staging
        # Deepest first, so every file and subfolder (a v2 dataset's source folders)
        # is on disk before the folder that names it is swapped in.
        for written in sorted(staging.rglob("*"), key=lambda p: len(p.parts), reverse=True):
            if written.is_dir():
                _sync_folder(written)
            else:
                _sync_file(written)
        _sync_folder(staging)
        with _signals_held():
            _swap_into_place(staging, destination)
        _sync_folder(destination.parent)
    except OSError as error:
        shutil.rmtree(staging, ignore_errors=True)
        raise write_error(_named_in(destination, staging, error.filename), error) from error
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    shutil.rmtree(staging, ignore_errors=True)  # after an exchange it holds the previous set


def _named_in(destination: Path, staging: Path, filename: object) -> Path:
    """The file a failed write was for, named where it was going, not where it was staged."""
    if isinstance(filename, str):
        failed = Path(filename)
        if failed.parent == staging:
            return destination / failed.name
    return destination


def _swap_into_place(staging: Path, destination: Path) -> None:
    """Put ``staging`` at ``destination``; after it, ``staging`` holds what was there."""
    if not destination.exists():
        os.rename(staging, destination)
        return
    if _exchange(staging, destination):
        return
    # No atomic exchange here (not Linux, or an old kernel or file system): two renames,
    # with signals held between them so an interrupt cannot land in the gap.
    previous = staging.with_name(staging.name + ".previous")
    os.rename(destination, previous)
    os.rename(staging, destination)
    os.rename(previous, staging)


_RENAME_EXCHANGE = 2
_AT_FDCWD = -100


def _exchange(first: Path, second: Path) -> bool:
    """Swap two paths atomically with Linux's ``renameat2``; False where unsupported."""
    name = ctypes.util.find_library("c")
    if name is None:
        return False
    try:
        libc = ctypes.CDLL(name, use_errno=True)
        renameat2 = libc.renameat2
    except (OSError, AttributeError):
        return False
    renameat2.argtypes = [
        ctypes.c_int,
        ctypes.c_char_p,
        ctypes.c_int,
        ctypes.c_char_p,
        ctypes.c_uint,
    ]
    result = renameat2(
        _AT_FDCWD, os.fsencode(first), _AT_FDCWD, os.fsencode(second), _RENAME_EXCHANGE
    )
    if result == 0:
        return True
    code = ctypes.get_errno()
    if code in (errno.ENOSYS, errno.EINVAL, errno.ENOTSUP):
        return False
    raise OSError(code, os.strerror(code), str(second))


@contextlib.contextmanager
def _signals_held() -> Iterator[None]:
    """Hold SIGINT and SIGTERM (delivered after the block) where the platform allows."""
    held = {signal.SIGINT, signal.SIGTERM}
    try:
        previous = signal.pthread_sigmask(signal.SIG_BLOCK, held)
    except (AttributeError, OSError, ValueError):
        yield
        return
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, previous)


def _sync_file(path: Path) -> None:
    descriptor = os.open(path, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


def _sync_folder(path: Path) -> None:
    """Make a rename in ``path`` durable (a no-op where folders cannot be opened)."""
    try:
        descriptor = os.open(path, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    except OSError:
        return
    try:
        os.fsync(descriptor)
    except OSError:
        pass  # some file systems refuse fsync on a folder; the rename itself stands
    finally:
        os.close(descriptor)


def _remove(path: str) -> None:
    with contextlib.suppress(FileNotFoundError):
        os.unlink(path)
