"""A private PostgreSQL cluster for tests: its own directory and port, removed when stopped.

``make test-postgres`` starts one when neither ``DATABASE_URL`` nor a local server on
127.0.0.1:5432 is there to use (Debian's own cluster asks for a password on 127.0.0.1). It is
``initdb`` into a fresh temporary directory with trust authentication for the superuser
``postgres``, then ``pg_ctl start`` listening on 127.0.0.1 only, on a free port, with its socket
in that directory too; ``stop()`` stops the server and removes the directory.

The server programs come from Debian's ``postgresql`` package (``/usr/lib/postgresql/<version>/
bin``, newest version first) or, elsewhere, from ``PATH``. ``initdb`` and ``postgres`` refuse to
run as root, so under root they run as the ``postgres`` user (or ``nobody``), which then owns the
directory.
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from pathlib import Path

BINDIR_PATTERN = "/usr/lib/postgresql/*/bin"
START_TIMEOUT = 60
INSTALL_HINT = "Debian: apt-get install postgresql; `make test` installs it when run as root"


def find_bindir() -> Path | None:
    """The directory holding ``initdb`` and ``pg_ctl``: Debian's newest version, else PATH's."""

    def version(path: str) -> tuple[int, ...]:
        name = Path(path).parent.name
        return tuple(int(part) for part in name.split(".") if part.isdigit())

    for candidate in sorted(glob.glob(BINDIR_PATTERN), key=version, reverse=True):
        if (Path(candidate) / "initdb").is_file() and (Path(candidate) / "pg_ctl").is_file():
            return Path(candidate)
    initdb = shutil.which("initdb")
    if initdb is not None and shutil.which("pg_ctl", path=str(Path(initdb).parent)):
        return Path(initdb).parent
    return None


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def server_account() -> pwd.struct_passwd | None:
    """The account the server runs as: None for ourselves, unless we are root."""
    if os.geteuid() != 0:
        return None
    for name in ("postgres", "nobody"):
        try:
            return pwd.getpwnam(name)
        except KeyError:
            continue
    raise RuntimeError("running as root, but there is neither a postgres nor a nobody user")


class PostgresCluster:
    """A throwaway PostgreSQL server on 127.0.0.1; ``with PostgresCluster() as cluster: ...``."""

    def __init__(self) -> None:
        bindir = find_bindir()
        if bindir is None:
            raise RuntimeError(f"the PostgreSQL server programs are not installed ({INSTALL_HINT})")
        self.bindir = bindir
        self.account = server_account()
        self.port = free_port()
        self.directory: Path | None = None
        self.running = False

    @property
    def url(self) -> str:
        return f"postgres://postgres@127.0.0.1:{self.port}/postgres"

    @property
    def data(self) -> Path:
        assert self.directory is not None
        return self.directory / "data"

    def start(self) -> PostgresCluster:
        self.directory = Path(tempfile.mkdtemp(prefix="watercooler-postgres-"))
        if self.account is not None:
            os.chown(self.directory, self.account.pw_uid, self.account.pw_gid)
        try:
            self._run(
                "initdb", f"--pgdata={self.data}", "--username=postgres", "--auth=trust",
                "--encoding=UTF8", "--locale=C", "--no-sync",
            )  # fmt: skip
            options = (
                f"-c listen_addresses=127.0.0.1 -p {self.port} "
                f"-c unix_socket_directories={self.directory} -c fsync=off"
            )
            self._run(
                "pg_ctl", "start", f"--pgdata={self.data}", "--wait", f"--timeout={START_TIMEOUT}",
                f"--log={self.directory / 'server.log'}", f"--options={options}",
            )  # fmt: skip
            self.running = True
        except BaseException:
            self.stop()
            raise
        return self

    def stop(self) -> None:
        """Stop the server (if started) and remove its directory; safe to call twice."""
        if self.directory is None:
            return
        try:
            if self.running:
                self._run("pg_ctl", "stop", f"--pgdata={self.data}", "--mode=fast", "--wait")
                self.running = False
        finally:
            shutil.rmtree(self.directory, ignore_errors=True)
            self.directory = None

    def _run(self, program: str, *args: str) -> None:
        """Run one server program as the server's account; a failure raises with its output."""
        account = self.account
        result = subprocess.run(
            [str(self.bindir / program), *args],
            cwd=self.directory,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            user=account.pw_uid if account else None,
            group=account.pw_gid if account else None,
            extra_groups=[] if account else None,
        )
        if result.returncode != 0:
            log = self.directory / "server.log" if self.directory else None
            if log is not None and log.exists():
                result.stdout += log.read_text(errors="replace")
            raise RuntimeError(f"{program} failed (exit {result.returncode}):\n{result.stdout}")

    def __enter__(self) -> PostgresCluster:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
