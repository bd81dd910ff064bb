"""``make test-postgres``: the board suite again, on PostgreSQL.

Which database:
- ``DATABASE_URL`` when set (it must answer: an unreachable one fails loudly);
- else the local server at 127.0.0.1:5432 (user ``postgres``, trust auth) when it answers;
- else a note and success, except under CI (``CI=true``), where a missing PostgreSQL is a failure.

pytest-django creates (and drops) its own ``test_…`` database next to the one named in the URL.
Extra arguments are passed to pytest: ``python -m tools.postgres_suite -x -k move``.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import psycopg

ROOT = Path(__file__).resolve().parents[1]
LOCAL_URL = "postgres://postgres@127.0.0.1:5432/postgres"
CONNECT_TIMEOUT = 3


def running_in_ci() -> bool:
    return os.environ.get("CI", "").lower() in {"1", "true", "yes"}


def reachable(url: str) -> str | None:
    """None when PostgreSQL answers at ``url``, else why not."""
    try:
        with psycopg.connect(url, connect_timeout=CONNECT_TIMEOUT) as connection:
            connection.execute("SELECT 1")
    except psycopg.Error as exc:
        return str(exc).strip() or type(exc).__name__
    return None


def choose_database() -> tuple[str | None, int]:
    """The URL to test against, or None and the exit code to leave with."""
    url = os.environ.get("DATABASE_URL", "")
    if url:
        if not url.startswith(("postgres://", "postgresql://")):
            print(f"test-postgres: DATABASE_URL is not a PostgreSQL URL: {url!r}", file=sys.stderr)
            return None, 2
        problem = reachable(url)
        if problem:
            print(f"test-postgres: DATABASE_URL does not answer: {problem}", file=sys.stderr)
            return None, 2
        return url, 0
    problem = reachable(LOCAL_URL)
    if problem is None:
        return LOCAL_URL, 0
    message = (
        f"test-postgres: no PostgreSQL at {LOCAL_URL} ({problem}) and DATABASE_URL is not set."
    )
    if running_in_ci():
        print(
            f"{message}\nUnder CI this is a failure: start PostgreSQL (Debian: apt-get install "
            "postgresql && pg_ctlcluster 15 main start) or set DATABASE_URL.",
            file=sys.stderr,
        )
        return None, 1
    print(f"{message}\nSkipping the PostgreSQL run (set DATABASE_URL to run it).")
    return None, 0


def main(argv: list[str] | None = None) -> int:
    url, code = choose_database()
    if url is None:
        return code
    shown = url.split("@")[-1]
    print(f"test-postgres: running tests/board on postgres ({shown})", flush=True)
    command = [sys.executable, "-m", "pytest", "tests/board", "-m", "not webrtc", *(argv or [])]
    return subprocess.call(command, cwd=ROOT, env={**os.environ, "DATABASE_URL": url})


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
