"""Reading settings from the environment: typed getters and the secret rule.

The rule for secrets: a deployment (``DEBUG`` off) refuses to start without them; a development run
(``DEBUG`` on) falls back to a fixed, publicly known development value and says so loudly on stderr.
This module imports nothing from Django so settings can use it before Django is configured.
"""

from __future__ import annotations

import logging
import os

log = logging.getLogger("board.settings")

TRUE_WORDS = {"1", "true", "yes", "on"}
FALSE_WORDS = {"0", "false", "no", "off", ""}


class ConfigurationError(RuntimeError):
    """A required setting is missing or malformed; the process must not start."""


def env_bool(name: str, default: bool) -> bool:
    raw = os.environ.get(name)
    if raw is None:
        return default
    word = raw.strip().lower()
    if word in TRUE_WORDS:
        return True
    if word in FALSE_WORDS:
        return False
    raise ConfigurationError(f"{name}={raw!r} is not a boolean (use true or false)")


def env_list(name: str, default: list[str]) -> list[str]:
    raw = os.environ.get(name)
    if raw is None:
        return default
    return [item.strip() for item in raw.split(",") if item.strip()]


def env_int(name: str, default: int) -> int:
    raw = os.environ.get(name)
    if raw is None or not raw.strip():
        return default
    try:
        return int(raw)
    except ValueError as exc:
        raise ConfigurationError(f"{name}={raw!r} is not an integer") from exc


def env_float(name: str, default: float) -> float:
    raw = os.environ.get(name)
    if raw is None or not raw.strip():
        return default
    try:
        return float(raw)
    except ValueError as exc:
        raise ConfigurationError(f"{name}={raw!r} is not a number") from exc


def env_secret(name: str, *, debug: bool, development_value: str) -> str:
    """The secret in ``name``; in development a known fallback with a warning, else an error."""
    value = os.environ.get(name, "")
    if value:
        return value
    if not debug:
        raise ConfigurationError(
            f"{name} is not set. A deployment (DEBUG off) needs it in the environment; "
            f"for development set DEBUG=true to use a development value."
        )
    log.warning(
        "!!! %s is not set: using the PUBLIC development value. Never run like this in production.",
        name,
    )
    return development_value


RATE_PERIODS = {"second", "minute", "hour", "day"}
RATES_OFF = {"off", "none", "0"}


def env_rate(name: str, default: str | None) -> str | None:
    """A request rate ``N/period`` (period: second, minute, hour or day); ``off`` gives None."""
    raw = os.environ.get(name)
    if raw is None or not raw.strip():
        return default
    word = raw.strip().lower()
    if word in RATES_OFF:
        return None
    count, _, period = word.partition("/")
    if not count.isdigit() or int(count) < 1 or period not in RATE_PERIODS:
        raise ConfigurationError(
            f"{name}={raw!r} is not a rate: use N/second, N/minute, N/hour or N/day, or off"
        )
    return f"{int(count)}/{period}"


def env_choice(name: str, default: str, choices: set[str]) -> str:
    raw = os.environ.get(name)
    if raw is None or not raw.strip():
        return default
    word = raw.strip().lower()
    if word not in choices:
        raise ConfigurationError(f"{name}={raw!r} is not one of {', '.join(sorted(choices))}")
    return word
