"""Settings from the environment: typed values and the secrets rule (refuse to start without them
when DEBUG is off)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from board.csp import connect_source, content_security_policy
from board.env import ConfigurationError, env_bool, env_list, env_secret

ROOT = Path(__file__).resolve().parents[2]
LOAD_SETTINGS = "import django; django.setup(); from django.conf import settings; print('ok')"


def load_settings(**env: str) -> subprocess.CompletedProcess[str]:
    base = {k: v for k, v in os.environ.items() if k not in {"SECRET_KEY", "WATERCOOLER_SECRET"}}
    return subprocess.run(
        [sys.executable, "-c", LOAD_SETTINGS],
        cwd=ROOT,
        env={**base, "DJANGO_SETTINGS_MODULE": "board.settings", **env},
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_production_refuses_to_start_without_secrets() -> None:
    result = load_settings(DEBUG="false", WATERCOOLER_SECRET="w" * 40)
    assert result.returncode != 0
    assert "SECRET_KEY is not set" in result.stderr
    result = load_settings(DEBUG="false", SECRET_KEY="k" * 50)
    assert result.returncode != 0
    assert "WATERCOOLER_SECRET is not set" in result.stderr


def test_production_starts_with_secrets() -> None:
    result = load_settings(DEBUG="false", SECRET_KEY="k" * 50, WATERCOOLER_SECRET="w" * 40)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "ok"


def test_development_warns_loudly_without_secrets() -> None:
    result = load_settings(DEBUG="true")
    assert result.returncode == 0, result.stderr
    assert "WATERCOOLER_SECRET is not set" in result.stderr
    assert "PUBLIC development value" in result.stderr


def test_env_helpers(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FLAG", "Yes")
    assert env_bool("FLAG", False) is True
    monkeypatch.setenv("FLAG", "maybe")
    with pytest.raises(ConfigurationError):
        env_bool("FLAG", False)
    monkeypatch.setenv("HOSTS", " a.example, b.example ,")
    assert env_list("HOSTS", []) == ["a.example", "b.example"]
    monkeypatch.delenv("NOPE", raising=False)
    assert env_secret("NOPE", debug=True, development_value="dev") == "dev"
    with pytest.raises(ConfigurationError):
        env_secret("NOPE", debug=False, development_value="dev")


BAD_SIGNALING_URLS = [
    "wss://live.example.com/ws;script-src *",
    "wss://live.example.com/ws, https://evil.example",
    "wss://live.example.com/ws script-src",
    "wss://live.example.com/ws\tx",
    "wss://live.example.com/ws\x01",
    "ftp://live.example.com/ws",
    "javascript:alert(1)",
    "wss:///ws",
    "wss://user:pw@live.example.com/ws",
    "wss://live.example.com:99999/ws",
    "wss://[::1/ws",
    "live.example.com/ws",
    "",
]


@pytest.mark.parametrize("debug", ["true", "false"])
@pytest.mark.parametrize("url", BAD_SIGNALING_URLS)
def test_a_malformed_signaling_url_stops_the_board_at_start(debug: str, url: str) -> None:
    """The URL goes into the Content-Security-Policy and to every browser: a ``;`` would add a
    directive of its own, so anything but a plain ws/wss/http/https URL with a host is refused."""
    secrets = {"SECRET_KEY": "k" * 50, "WATERCOOLER_SECRET": "w" * 40}
    result = load_settings(DEBUG=debug, WATERCOOLER_SIGNALING_URL=url, **secrets)
    assert result.returncode != 0, url
    assert "WATERCOOLER_SIGNALING_URL" in result.stderr


@pytest.mark.parametrize(
    "url", ["wss://live.example.com/ws", "ws://127.0.0.1:8080/ws", "https://[2001:db8::1]:443/ws"]
)
def test_a_signaling_url_is_a_connect_source(url: str) -> None:
    assert connect_source(url) == url
    policy = content_security_policy(signaling_url=url)
    assert f"connect-src 'self' {url};" in policy
