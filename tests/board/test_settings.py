"""Settings from the environment: typed values and the secrets rule (refuse to start without them
when DEBUG is off)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

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
