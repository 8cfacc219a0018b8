"""The workspace database: what graphguard itself creates and must never lose.

Alerts and their states and disruption actions (the monthly meeting's records), and
retention decisions and the deletion log (:mod:`graphguard.retention`), live here, in
one SQLite database (Python's standard ``sqlite3``):

- **Where**: ``workspace/workspace.sqlite3`` in the state home, or the file named by
  ``GRAPHGUARD_WORKSPACE_URL`` (a SQLAlchemy-style URL, so a shared server can take
  its place later; only ``sqlite:////absolute/path`` is supported for now).
- **Owner-only**: the folder ``0700``, the file ``0600`` from creation (SQLite gives its
  ``-wal`` and ``-shm`` files the database's mode).  Every connection first checks that
  the file is still a private regular file of this user, not a symbolic link, and
  refuses it otherwise.
- **Complete or absent**: a new database is built beside its destination and linked
  into place in one step, so the file at the path is always a graphguard workspace;
  anything else there (an empty file, a damaged one, another program's database) is
  refused with one line and left as it is.
- **Transactional, several writers at once**: WAL mode (readers never wait for the
  writer), every write one ``BEGIN IMMEDIATE`` transaction, and a busy timeout, so two
  processes writing at once (the CLI and the dashboard) both succeed.
- **Versioned**: the schema's version is the database's ``user_version``; an older
  database is migrated in one transaction, a newer one refused.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
import stat
import tempfile
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import unquote, urlsplit

from graphguard.errors import (
    BackendUnavailable,
    DataError,
    GraphguardError,
    RefusedError,
    UsageError,
)
from graphguard.settings import Settings, get_settings, private_file, state_home

__all__ = [
    "APPLICATION_ID",
    "BUSY_TIMEOUT",
    "DATABASE_FILE",
    "SCHEMA_VERSION",
    "URL_VARIABLE",
    "WORKSPACE_FOLDER",
    "Workspace",
    "database_path",
]

#: The folder of the state home holding the database.
WORKSPACE_FOLDER = "workspace"
#: The database's file name in that folder.
DATABASE_FILE = "workspace.sqlite3"
#: The setting naming another database.
URL_VARIABLE = "GRAPHGUARD_WORKSPACE_URL"
#: SQLite's ``application_id`` of a graphguard workspace ("GGWS"), so another
#: program's database is never taken for one.
APPLICATION_ID = 0x47475753
#: Seconds a connection waits for another process's write to finish before giving up.
BUSY_TIMEOUT = 30.0

# Each entry brings the schema from version i to i + 1; the schema's version is
# their count.  A released entry is never edited: later changes are new entries.
_MIGRATIONS: tuple[tuple[str, ...], ...] = (
    (
        # One row per meeting record: the dataset it belongs to (``<folder name>-<digest
        # of its resolved path>``), its kind (alert, action), its key, the record as
        # JSON text, and when it was last written (UTC, ISO 8601).
        "CREATE TABLE meeting_record ("
        " dataset TEXT NOT NULL, kind TEXT NOT NULL, key TEXT NOT NULL,"
        " record TEXT NOT NULL, updated TEXT NOT NULL,"
        " PRIMARY KEY (dataset, kind, key)) WITHOUT ROWID",
        # The JSON meeting files of earlier versions already imported, so each is
        # imported once and then left alone.
        "CREATE TABLE meeting_import ("
        " source TEXT PRIMARY KEY, dataset TEXT NOT NULL, imported TEXT NOT NULL,"
        " records INTEGER NOT NULL)",
    ),
    (
        # Retention (graphguard.retention): analysts' decisions to keep a record past
        # its review date, or to let a deleted one back in ("keep" / "restore"), and
        # the deletion log.  A record is its id as the review lists it (a young
        # person's by pseudonym); no row holds a record's content.  Both tables are
        # append-only: a later decision supersedes an earlier one, nothing is edited.
        "CREATE TABLE retention_decision ("
        " seq INTEGER PRIMARY KEY AUTOINCREMENT, record TEXT NOT NULL,"
        " decision TEXT NOT NULL, until TEXT, reason TEXT NOT NULL,"
        " decided_by TEXT NOT NULL, role TEXT NOT NULL, decided_at TEXT NOT NULL)",
        "CREATE INDEX retention_decision_record ON retention_decision (record)",
        "CREATE TABLE deletion ("
        " seq INTEGER PRIMARY KEY AUTOINCREMENT, record TEXT NOT NULL, kind TEXT NOT NULL,"
        " rule TEXT NOT NULL, review_on TEXT NOT NULL, deleted_by TEXT NOT NULL,"
        " role TEXT NOT NULL, deleted_at TEXT NOT NULL, run TEXT NOT NULL)",
        "CREATE INDEX deletion_record ON deletion (record)",
        *(
            f"CREATE TRIGGER {table}_append_only_{verb.lower()} BEFORE {verb} ON {table} "
            f"BEGIN SELECT RAISE(ABORT, 'the {table} table is append-only'); END"
            for table in ("retention_decision", "deletion")
            for verb in ("UPDATE", "DELETE")
        ),
    ),
)
#: The version of the schema this graphguard writes.
SCHEMA_VERSION = len(_MIGRATIONS)

# SQLite's primary result codes (https://www.sqlite.org/rescode.html) that are not a
# damaged file: the others say the file is not a database graphguard can read.
_BUSY = {5, 6}  # SQLITE_BUSY, SQLITE_LOCKED
_REFUSED = {3, 8, 14, 23}  # SQLITE_PERM, SQLITE_READONLY, SQLITE_CANTOPEN, SQLITE_AUTH
_UNAVAILABLE = {10, 13}  # SQLITE_IOERR, SQLITE_FULL
_DAMAGED = {11, 26}  # SQLITE_CORRUPT, SQLITE_NOTADB


def database_path(settings: Settings | None = None) -> Path:
    """The workspace database's file: ``GRAPHGUARD_WORKSPACE_URL``, else the state home's.

    Raises
    ------
    UsageError
        When the URL is not ``sqlite:////absolute/path`` (other databases, relative
        paths, in-memory databases and URL options are not supported).

    Examples
    --------
    >>> database_path(Settings(home="/h")).as_posix()
    '/h/workspace/workspace.sqlite3'
    >>> database_path(Settings(home="/h", workspace_url="sqlite:////srv/gg/ws.sqlite3"))
    PosixPath('/srv/gg/ws.sqlite3')
    """
    settings = settings or get_settings()
    url = settings.workspace_url
    if not url:
        return settings.home / WORKSPACE_FOLDER / DATABASE_FILE
    parts = urlsplit(url)
    # The messages name the scheme and path, never the URL itself: a server's URL can
    # hold a password.
    if parts.scheme != "sqlite":
        raise UsageError(
            f"{URL_VARIABLE} names a {parts.scheme or 'scheme-less'!r} database: only "
            "sqlite:////absolute/path is supported for now"
        )
    if parts.netloc or parts.query or parts.fragment:
        raise UsageError(f"{URL_VARIABLE}: write sqlite:////absolute/path, with no host or options")
    # SQLAlchemy's form: the path follows "sqlite:///", so an absolute one has four slashes.
    path = unquote(parts.path[1:]) if parts.path.startswith("/") else ""
    if not path.startswith("/") or path.endswith("/"):
        raise UsageError(
            f"{URL_VARIABLE}: {path!r} is not the absolute path of a file "
            "(sqlite:////absolute/path; the working directory is never used)"
        )
    return Path(path)


class Workspace:
    """The workspace database at ``path``: checked, connected and versioned on each use.

    Every :meth:`reading` or :meth:`writing` opens its own connection, so processes
    (and forked children) never share one, and a file changed between two uses (made
    readable by others, replaced by a link) is refused at the next.

    Examples
    --------
    >>> import tempfile
    >>> workspace = Workspace.open(Settings(home=Path(tempfile.mkdtemp())))
    >>> with workspace.writing() as connection:
    ...     _ = connection.execute(
    ...         "INSERT INTO meeting_record VALUES ('demo', 'action', 'A1', '{}', '')")
    >>> with workspace.reading() as connection:
    ...     connection.execute("SELECT count(*) FROM meeting_record").fetchone()[0]
    1
    """

    def __init__(self, path: Path, *, settings: Settings | None = None) -> None:
        #: The database file.
        self.path = path
        self._settings = settings

    @classmethod
    def open(cls, settings: Settings | None = None) -> Workspace:
        """The workspace database the settings name (see :func:`database_path`)."""
        return cls(database_path(settings), settings=settings)

    @contextlib.contextmanager
    def reading(self) -> Iterator[sqlite3.Connection]:
        """A connection in a read transaction: one consistent picture, never waiting."""
        with self._connected() as connection:
            connection.execute("BEGIN")
            try:
                yield connection
            finally:
                connection.execute("COMMIT")

    @contextlib.contextmanager
    def writing(self) -> Iterator[sqlite3.Connection]:
        """A connection in a write transaction, committed when the block succeeds.

        ``BEGIN IMMEDIATE`` takes the write lock first (waiting up to
        :data:`BUSY_TIMEOUT` for another writer), so a read-then-write inside the
        block is atomic and never fails half-way for another writer; an error or an
        interrupt rolls everything back.
        """
        with self._connected() as connection:
            connection.execute("BEGIN IMMEDIATE")
            try:
                yield connection
            except BaseException:
                connection.execute("ROLLBACK")
                raise
            connection.execute("COMMIT")

    @contextlib.contextmanager
    def _connected(self) -> Iterator[sqlite3.Connection]:
        try:
            self._prepare()
            connection = sqlite3.connect(self.path, timeout=BUSY_TIMEOUT, isolation_level=None)
        except sqlite3.Error as error:
            raise self._failure(error) from None
        try:
            # WAL's usual NORMAL could lose the last commits to a power cut; these are
            # records graphguard must never lose, so every commit is synced.
            connection.execute("PRAGMA synchronous=FULL")
            # What a purge deletes or rewrites (an alert's explanation) is overwritten on
            # disk, not left in free pages for a file reader to find.
            connection.execute("PRAGMA secure_delete=ON")
            self._check_schema(connection)
            yield connection
        except sqlite3.Error as error:
            raise self._failure(error) from None
        finally:
            connection.close()

    def _prepare(self) -> None:
        """Create the database if missing; refuse a folder, file or sidecar not ours alone."""
        from graphguard.files import private_folder

        if self.path.parent == (self._settings or get_settings()).home / WORKSPACE_FOLDER:
            state_home(self._settings)  # refuses a state home that is not the user's own
        private_folder(self.path.parent)
        _check_folder(self.path.parent)
        if not os.path.lexists(self.path):
            self._create()
        private_file(self.path, "the workspace database").close()
        for suffix in ("-wal", "-shm"):
            _check_sidecar(Path(f"{self.path}{suffix}"))

    def _create(self) -> None:
        """Build a new database beside the path, then link it into place unless one is there."""
        from graphguard.files import write_error

        folder = self.path.parent
        try:
            descriptor, name = tempfile.mkstemp(
                dir=folder, prefix=f".{self.path.name}.", suffix=".partial"
            )
        except OSError as error:
            raise write_error(self.path, error) from error
        os.close(descriptor)
        try:
            connection = sqlite3.connect(name, isolation_level=None)
            try:
                # Persistent: recorded in the file, so every later connection is in WAL mode.
                connection.execute("PRAGMA journal_mode=WAL")
                connection.execute(f"PRAGMA application_id={APPLICATION_ID}")
                _migrate(connection, 0)
            finally:
                connection.close()
            try:
                # A hard link fails if the path exists: two processes creating the
                # database at once keep the first one's, and nothing is overwritten.
                os.link(name, self.path)
            except FileExistsError:
                pass
            except OSError as error:
                raise write_error(self.path, error) from error
            _sync_folder(folder)
        finally:
            for leftover in (name, f"{name}-wal", f"{name}-shm"):
                with contextlib.suppress(FileNotFoundError):
                    os.unlink(leftover)

    def _check_schema(self, connection: sqlite3.Connection) -> None:
        application = connection.execute("PRAGMA application_id").fetchone()[0]
        if application != APPLICATION_ID:
            raise DataError(
                f"{self.path}: not a graphguard workspace database (another program's "
                "SQLite file); nothing was changed"
            )
        version = connection.execute("PRAGMA user_version").fetchone()[0]
        if version > SCHEMA_VERSION:
            raise DataError(
                f"{self.path}: workspace database schema version {version} is newer than "
                f"{SCHEMA_VERSION}: use the graphguard that wrote it"
            )
        if version < SCHEMA_VERSION:
            connection.execute("BEGIN IMMEDIATE")
            try:
                # Another process may have migrated it while this one waited.
                _migrate(connection, connection.execute("PRAGMA user_version").fetchone()[0])
            except BaseException:
                connection.execute("ROLLBACK")
                raise
            connection.execute("COMMIT")

    def _failure(self, error: sqlite3.Error) -> GraphguardError:
        """One line for a failed SQLite call, with the exit code its cause deserves."""
        code = getattr(error, "sqlite_errorcode", 0) & 0xFF
        reason = str(error)
        if code in _BUSY:
            return BackendUnavailable(
                f"the workspace database {self.path} stayed busy for {BUSY_TIMEOUT:.0f} s "
                f"(another graphguard is writing): {reason}; nothing was changed, try again"
            )
        if code in _REFUSED:
            return RefusedError(f"the workspace database {self.path} cannot be used: {reason}")
        if code in _UNAVAILABLE:
            return BackendUnavailable(
                f"the workspace database {self.path} cannot be written: {reason}; "
                "nothing was changed"
            )
        if code in _DAMAGED or isinstance(error, sqlite3.DatabaseError):
            return DataError(
                f"{self.path}: not a valid workspace database ({reason}); nothing was changed"
            )
        return GraphguardError(f"the workspace database {self.path}: {reason}")


def _migrate(connection: sqlite3.Connection, version: int) -> None:
    """Apply the migrations after ``version`` (inside the caller's transaction, if any)."""
    for statements in _MIGRATIONS[version:]:
        for statement in statements:
            connection.execute(statement)
    connection.execute(f"PRAGMA user_version={SCHEMA_VERSION}")


def _check_folder(folder: Path) -> None:
    found = os.stat(folder)
    if found.st_uid != os.geteuid() or found.st_mode & 0o022:
        raise RefusedError(
            f"the workspace database's folder {folder} is not yours alone (another user "
            f"owns it or can write to it): chmod 700 {folder} or choose another"
        )


def _check_sidecar(path: Path) -> None:
    """SQLite's ``-wal`` and ``-shm`` files hold records too: private regular files only."""
    try:
        found = os.lstat(path)
    except FileNotFoundError:
        return
    if stat.S_ISLNK(found.st_mode):
        raise RefusedError(f"the workspace database's {path} is a symbolic link: refused")
    if not stat.S_ISREG(found.st_mode) or found.st_uid != os.geteuid():
        raise RefusedError(f"the workspace database's {path} is not a file of yours: refused")
    if found.st_mode & 0o077:
        raise RefusedError(
            f"the workspace database's {path} can be read or written by other users "
            f"(chmod 600 {path}): refused"
        )


def _sync_folder(folder: Path) -> None:
    """Make the new name durable (a crash right after must not lose the database)."""
    descriptor = os.open(folder, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)
