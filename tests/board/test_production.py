"""The board under production settings (``DEBUG`` off), served by gunicorn as deployed.

Security headers and cookies on real responses, HSTS only once asked for, ``check --deploy`` clean
with the production checklist's HTTPS settings, and throttle counts shared by board processes.
"""

from __future__ import annotations

import re
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.board.production import (
    PASSWORD,
    SIGNALING_URL,
    USERNAME,
    Http,
    manage,
    migrated_database,
    production_environment,
    start_board,
)
from tests.support.processes import ROOT, BoardProcess

# What docs/operations.md's checklist asks of a board served over HTTPS behind a proxy.
HTTPS_CHECKLIST = {
    "ALLOWED_HOSTS": "board.example.com",
    "CSRF_TRUSTED_ORIGINS": "https://board.example.com",
    "SECURE_SSL_REDIRECT": "true",
    "SECURE_PROXY_SSL_HEADER": "true",
    "SECURE_HSTS_SECONDS": "31536000",
    "SECURE_HSTS_INCLUDE_SUBDOMAINS": "true",
    "SECURE_HSTS_PRELOAD": "true",
}


@pytest.fixture(scope="module")
def database(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return migrated_database(tmp_path_factory.mktemp("production"))


@pytest.fixture
def board(database: Path) -> Iterator[Callable[..., BoardProcess]]:
    """``board(**env)``: gunicorn on the migrated database with production settings and ``env``."""
    started: list[BoardProcess] = []

    def start(**extra: str) -> BoardProcess:
        started.append(start_board(production_environment(database, **extra)))
        return started[-1]

    yield start
    for process in started:
        process.stop()


def csp_directives(header: str) -> dict[str, list[str]]:
    directives = {}
    for part in header.split(";"):
        name, *sources = part.split()
        directives[name] = sources
    return directives


def test_pages_carry_the_security_headers_and_secure_cookies(board) -> None:
    client = Http(board().port)
    page = client.request("GET", "/login/")
    assert page.status == 200
    assert page.headers["X-Content-Type-Options"] == "nosniff"
    assert page.headers["Referrer-Policy"] == "same-origin"
    assert page.headers["X-Frame-Options"] == "DENY"
    assert "Strict-Transport-Security" not in page.headers  # off until asked for

    policy = csp_directives(page.headers["Content-Security-Policy"])
    assert policy["default-src"] == ["'self'"]
    assert policy["script-src"] == ["'self'"]
    assert policy["style-src"] == ["'self'"]
    assert policy["connect-src"] == ["'self'", SIGNALING_URL]
    assert policy["object-src"] == ["'none'"]
    assert policy["frame-ancestors"] == ["'none'"]
    assert not any("unsafe" in source for sources in policy.values() for source in sources)

    assert re.search(r";\s*Secure", page.cookies["csrftoken"], re.IGNORECASE)
    token = re.search(rb'name="csrfmiddlewaretoken" value="([^"]+)"', page.body)
    assert token is not None
    form = {"username": USERNAME, "password": PASSWORD, "csrfmiddlewaretoken": token[1].decode()}
    login = client.request("POST", "/login/", form=form)
    assert login.status == 302, login.body[:500]
    session = login.cookies["sessionid"]
    assert re.search(r";\s*Secure", session, re.IGNORECASE)
    assert re.search(r";\s*HttpOnly", session, re.IGNORECASE)

    api = client.request("GET", "/api/sprints/")  # the session works, and JSON has them too
    assert api.status == 200
    assert api.headers["X-Content-Type-Options"] == "nosniff"
    assert "Content-Security-Policy" in api.headers


def test_hsts_is_sent_over_https_once_its_seconds_are_set(board) -> None:
    client = Http(board(SECURE_HSTS_SECONDS="3600", SECURE_PROXY_SSL_HEADER="true").port)
    over_https = client.request("GET", "/login/", headers={"X-Forwarded-Proto": "https"})
    assert over_https.status == 200
    assert over_https.headers["Strict-Transport-Security"] == "max-age=3600"
    plain = client.request("GET", "/login/")
    assert "Strict-Transport-Security" not in plain.headers  # never on plain HTTP


def test_check_deploy_is_clean_with_the_https_checklist(database: Path) -> None:
    env = production_environment(database, **HTTPS_CHECKLIST)
    output = manage(env, "check", "--deploy", "--fail-level", "WARNING")
    assert "System check identified no issues (0 silenced)." in output


def deploy_warnings(database: Path, **env: str) -> set[str]:
    """The ids of the warnings ``check --deploy`` gives with production settings and ``env``."""
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy"],
        cwd=ROOT,
        env=production_environment(database, **env),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    return set(re.findall(r"\(([a-z_]+\.[A-Z]\d+)\)", result.stdout + result.stderr))


BEHIND_A_PROXY = {k: v for k, v in HTTPS_CHECKLIST.items() if not k.startswith("SECURE_HSTS")}


def test_check_deploy_is_clean_where_the_proxy_sends_hsts(database: Path) -> None:
    assert deploy_warnings(database, **BEHIND_A_PROXY) == {"security.W004"}
    assert deploy_warnings(database, **BEHIND_A_PROXY, SECURE_HSTS_BY_PROXY="true") == set()


def test_the_short_hsts_trial_leaves_exactly_the_subdomain_and_preload_warnings(database) -> None:
    """The checklist's "try 3600 first" step: what is left is what the year's settings add."""
    trial = {**BEHIND_A_PROXY, "SECURE_HSTS_SECONDS": "3600"}
    assert deploy_warnings(database, **trial) == {"security.W005", "security.W021"}


def test_hsts_from_the_proxy_and_from_the_board_at_once_is_refused(database: Path) -> None:
    env = production_environment(database, SECURE_HSTS_BY_PROXY="true", SECURE_HSTS_SECONDS="3600")
    result = subprocess.run(
        [sys.executable, "manage.py", "check"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode != 0
    assert "SECURE_HSTS_BY_PROXY" in result.stderr


def test_check_deploy_warns_of_an_unencrypted_signaling_url(database: Path) -> None:
    plain = {**HTTPS_CHECKLIST, "WATERCOOLER_SIGNALING_URL": "ws://live.example.com/ws"}
    assert deploy_warnings(database, **plain) == {"watercooler.W001"}
    assert deploy_warnings(database, **HTTPS_CHECKLIST) == set()


def test_the_operations_checklist_names_these_settings() -> None:
    docs = (ROOT / "docs" / "operations.md").read_text()
    checklist = docs[docs.index("## Production checklist") :]
    checklist = checklist[: checklist.index("\n## ", 1)]
    for name, value in {**HTTPS_CHECKLIST, "SECURE_HSTS_BY_PROXY": "true"}.items():
        assert f"`{name}={value}`" in checklist, name
    for warning in ("security.W004", "security.W005", "security.W021", "watercooler.W001"):
        assert warning in checklist, warning


def test_throttle_counts_are_shared_by_every_board_process(board) -> None:
    """Requests counted by one gunicorn are counted for another on the same database: so for
    every worker of one, and every board host."""
    rate = {"THROTTLE_TOKEN_PER_ADDRESS": "3/minute"}
    first, second = Http(board(**rate).port), Http(board(**rate).port)
    wrong = {"username": USERNAME, "password": "wrong"}
    assert [first.request("POST", "/api/token/", body=wrong).status for _ in range(3)] == [400] * 3
    refused = second.request("POST", "/api/token/", body=wrong)
    assert refused.status == 429
    assert refused.json()["detail"].startswith("Too many login attempts; try again in ")
    assert refused.headers["Retry-After"] == str(refused.json()["retry_after"])
