"""The command line: the secret rule, limits, origins."""

from __future__ import annotations

import pytest

from signaling.config import (
    DEVELOPMENT_SECRET,
    ConfigurationError,
    build_parser,
    settings_from_args,
)


def test_without_secret_the_server_refuses_to_start() -> None:
    with pytest.raises(ConfigurationError, match="WATERCOOLER_SECRET is not set"):
        settings_from_args([], environ={})


def test_debug_uses_the_development_secret_and_warns() -> None:
    settings, warnings = settings_from_args(["--debug"], environ={})
    assert settings.secret == DEVELOPMENT_SECRET
    assert any("DEVELOPMENT secret" in w for w in warnings)
    assert any("ANY origin" in w for w in warnings)


def test_options_reach_the_settings() -> None:
    settings, warnings = settings_from_args(
        [
            "--host",
            "0.0.0.0",
            "--port",
            "9000",
            "--allowed-origin",
            "http://a",
            "--allowed-origin",
            "http://b",
            "--log-format",
            "json",
            "--max-frame-bytes",
            "1000",
            "--rate",
            "3",
        ],
        environ={"WATERCOOLER_SECRET": "s"},
    )
    assert warnings == []
    assert (settings.host, settings.port, settings.secret) == ("0.0.0.0", 9000, "s")
    assert settings.allowed_origins == ("http://a", "http://b")
    assert settings.origin_allowed("http://a")
    assert not settings.origin_allowed("http://c")
    assert settings.origin_allowed(None)
    assert (settings.log_format, settings.max_frame_bytes, settings.rate) == ("json", 1000, 3.0)


def test_turn_needs_its_secret() -> None:
    with pytest.raises(ConfigurationError, match="WATERCOOLER_TURN_SECRET"):
        settings_from_args(["--turn-url", "turn:x"], environ={"WATERCOOLER_SECRET": "s"})


def test_nonsense_limits_are_refused() -> None:
    with pytest.raises(ConfigurationError, match="--max-frame-bytes"):
        settings_from_args(["--max-frame-bytes", "0"], environ={"WATERCOOLER_SECRET": "s"})


def test_reuse_port_needs_a_shared_broker() -> None:
    with pytest.raises(ConfigurationError, match="--reuse-port needs --broker redis://"):
        settings_from_args(["--reuse-port"], environ={"WATERCOOLER_SECRET": "s"})
    settings, _ = settings_from_args(
        ["--reuse-port", "--broker", "redis://127.0.0.1:6379/0"],
        environ={"WATERCOOLER_SECRET": "s"},
    )
    assert settings.reuse_port
    assert not settings_from_args([], environ={"WATERCOOLER_SECRET": "s"})[0].reuse_port


def test_instance_port_is_a_port_of_its_own() -> None:
    env = {"WATERCOOLER_SECRET": "s"}
    assert settings_from_args(["--instance-port", "9001"], environ=env)[0].instance_port == 9001
    assert settings_from_args([], environ=env)[0].instance_port is None
    for bad in ("0", "8080"):
        with pytest.raises(ConfigurationError, match="--instance-port must be a port of its own"):
            settings_from_args(["--instance-port", bad], environ=env)


def test_help_shows_every_options_default() -> None:
    """``python -m signaling --help`` says what each option does and what it is by default."""
    text = build_parser().format_help()
    options = [action for action in build_parser()._actions if action.option_strings]
    for action in options:
        if action.dest == "help":
            continue
        assert action.help, f"{action.option_strings[0]} has no help"
        if action.default not in (None, False, []):
            assert f"(default: {action.default})" in " ".join(text.split()), action.dest
    assert "(default: 20)" in text  # --max-unjoined-per-address, for one
    for noise in ("(default: [])", "(default: None)", "(default: False)"):
        assert noise not in text, "only defaults that mean something"
    debug = " ".join(text.split("--debug ")[1].split("--log-format")[0].split())
    assert "development secret" in debug
    assert "never in production" in debug
    assert "--allowed- " not in " ".join(text.split()), "names are not broken at their hyphens"
