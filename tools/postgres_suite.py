"""``make test-postgres``: the board suite again, on PostgreSQL.

Which database:
- ``DATABASE_URL`` when set (it must answer: an unreachable one fails loudly);
- else the local server at 127.0.0.1:5432 (user ``postgres``, trust auth) when it answers;
- else a private cluster of our own (``tools.postgres_cluster``: a temporary directory and a free
  port, removed afterwards), like the cluster tests' own ``redis-server``. Without the server
  programs that is a note and success, except under CI (``CI=true``), where it is a failure.

pytest-django creates (and drops) its own ``test_…`` database next to the one named in the URL.
Extra arguments are passed to pytest: ``python -m tools.postgres_suite -x -k move``.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import psycopg

from tools import postgres_cluster

ROOT = Path(__file__).resolve().parents[1]
LOCAL_URL = "postgres://postgres@127.0.0.1:5432/postgres"
CONNECT_TIMEOUT = 3


class NoDatabase(Exception):
    """No PostgreSQL to test against; ``code`` is the exit code to leave with."""

    def __init__(self, message: str, code: int) -> None:
        super().__init__(message)
        self.code = code


def running_in_ci() -> bool:
    return os.environ.get("CI", "").lower() in {"1", "true", "yes"}


def reachable(url: str) -> str | None:
    """None when PostgreSQL answers at ``url``, else why not."""
    try:
        with psycopg.connect(url, connect_timeout=CONNECT_TIMEOUT) as connection:
            connection.execute("SELECT 1")
    except psycopg.Error as exc:
        return " ".join(str(exc).split()) or type(exc).__name__
    return None


@contextmanager
def chosen_database() -> Iterator[str]:
    """The URL to test against while the block runs; raises NoDatabase when there is none."""
    url = os.environ.get("DATABASE_URL", "")
    if url:
        if not url.startswith(("postgres://", "postgresql://")):
            raise NoDatabase(f"DATABASE_URL is not a PostgreSQL URL: {url!r}", 2)
        problem = reachable(url)
        if problem:
            raise NoDatabase(f"DATABASE_URL does not answer: {problem}", 2)
        yield url
        return
    problem = reachable(LOCAL_URL)
    if problem is None:
        yield LOCAL_URL
        return
    if postgres_cluster.find_bindir() is None:
        message = (
            f"no DATABASE_URL, nothing usable at {LOCAL_URL}, and the PostgreSQL server programs "
            f"are not installed to start a private one ({postgres_cluster.INSTALL_HINT})"
        )
        if running_in_ci():
            raise NoDatabase(f"{message}. Under CI this is a failure.", 1)
        raise NoDatabase(f"{message}. Skipping the PostgreSQL run.", 0)
    print(
        f"test-postgres: no DATABASE_URL and nothing usable at {LOCAL_URL} ({problem}); "
        "starting a private PostgreSQL cluster",
        flush=True,
    )
    with postgres_cluster.PostgresCluster() as cluster:
        yield cluster.url


def main(argv: list[str] | None = None) -> int:
    try:
        with chosen_database() as url:
            shown = url.split("@")[-1]
            print(f"test-postgres: running tests/board on postgres ({shown})", flush=True)
            command = [
                sys.executable,
                "-m",
                "pytest",
                "tests/board",
                "-m",
                "not webrtc",
                *(argv or []),
            ]
            return subprocess.call(command, cwd=ROOT, env={**os.environ, "DATABASE_URL": url})
    except NoDatabase as exc:
        print(f"test-postgres: {exc}", file=sys.stderr if exc.code else sys.stdout)
        return exc.code
    except RuntimeError as exc:  # the private cluster would not start
        print(f"test-postgres: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
