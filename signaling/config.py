"""Settings of the signaling server and the command line that fills them.

``Settings`` is a frozen dataclass with safe defaults, so tests build one directly; the command line
(``python -m signaling --help``) and the environment (``WATERCOOLER_SECRET``,
``WATERCOOLER_TURN_SECRET``) fill it for real runs.
"""

from __future__ import annotations

import argparse
import os
import textwrap
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Final

DEVELOPMENT_SECRET: Final = "watercooler-development-secret-do-not-use-in-production"


class ConfigurationError(Exception):
    """The server cannot start with this configuration; the message says what to change."""


@dataclass(frozen=True)
class Settings:
    """Everything the server's behaviour depends on. Defaults suit one instance on one machine."""

    secret: str
    host: str = "127.0.0.1"
    port: int = 8080
    allowed_origins: tuple[str, ...] = ()
    trusted_proxies: tuple[str, ...] = ()
    debug: bool = False
    log_format: str = "human"
    event_loop: str = "uvloop"
    transport: str = "fast"
    # limits
    max_frame_bytes: int = 64 * 1024
    rate: float = 50.0
    burst: int = 200
    relay_rate: float = 20.0
    relay_burst: int = 60
    report_rate: float = 5.0  # link reports per second and connection
    join_rate: float = 0.5  # joins per second of one user in one sprint, after a burst of
    join_burst: int = 20
    report_burst: int = 40
    invalid_burst: int = 20
    invalid_rate: float = 0.5
    max_peers_per_sprint: int = 50
    max_peers_per_user: int = 10
    max_rooms: int = 10_000
    max_connections: int = 25_000
    max_unjoined_per_address: int = 20
    send_buffer_bytes: int = 1024 * 1024
    hook_max_bytes: int = 256 * 1024
    # timing
    join_timeout: float = 5.0
    heartbeat: float = 20.0
    http_timeout: float = 10.0
    close_timeout: float = 2.0  # a close we start waits this long for the client's answer
    shutdown_timeout: float = 5.0
    # several instances
    broker: str = "memory"
    presence_ttl: float = 5.0
    reuse_port: bool = False
    instance_port: int | None = None
    # ICE
    ice_servers: tuple[str, ...] = ()
    turn_urls: tuple[str, ...] = ()
    turn_secret: str | None = field(default=None, repr=False)
    turn_ttl: int = 3600

    def origin_allowed(self, origin: str | None) -> bool:
        """Browsers send Origin and it must be listed; other clients send none: tickets decide."""
        if origin is None:
            return True
        if not self.allowed_origins:
            return self.debug
        return origin in self.allowed_origins


class MeaningfulDefaultsFormatter(argparse.HelpFormatter):
    """Ends an option's help with "(default: X)" only when X says something: not for a switch
    (off unless given), a repeatable option (none unless given) or an option that is unset."""

    def _get_help_string(self, action: argparse.Action) -> str | None:
        text = action.help or ""
        if action.default in (None, False, [], ()) or action.default is argparse.SUPPRESS:
            return text
        if not action.option_strings or "%(default)" in text:
            return text
        return f"{text} (default: %(default)s)"

    def _split_lines(self, text: str, width: int) -> list[str]:
        """Wrapped without breaking an option's name at its hyphens."""
        return textwrap.wrap(" ".join(text.split()), width, break_on_hyphens=False)


def build_parser() -> argparse.ArgumentParser:
    defaults = Settings(secret="")
    parser = argparse.ArgumentParser(
        prog="python -m signaling",
        description="Watercooler signaling server: introduces the peers viewing a sprint.",
        epilog="The shared secret comes from WATERCOOLER_SECRET (required unless --debug); "
        "a TURN REST secret from WATERCOOLER_TURN_SECRET.",
        formatter_class=MeaningfulDefaultsFormatter,
    )
    parser.add_argument("--host", default=defaults.host, help="address to listen on")
    parser.add_argument("--port", type=int, default=defaults.port, help="port to listen on")
    parser.add_argument(
        "--allowed-origin",
        action="append",
        default=[],
        metavar="ORIGIN",
        help="browser origin allowed to connect, e.g. http://127.0.0.1:8000 (repeatable; "
        "none: only clients that send no Origin, such as the bot)",
    )
    parser.add_argument(
        "--trusted-proxy",
        action="append",
        default=[],
        metavar="ADDRESS",
        help="address of a reverse proxy whose X-Forwarded-For names the client (repeatable); "
        "per-address limits and logs then use the client's address",
    )
    parser.add_argument(
        "--debug",
        action="store_true",
        help="development mode: debug logs; without WATERCOOLER_SECRET, a fixed development "
        "secret that anyone can read in the source (so anyone could mint tickets: never in "
        "production); without --allowed-origin, browsers from any origin may connect",
    )
    parser.add_argument(
        "--log-format",
        choices=("human", "json"),
        default=defaults.log_format,
        help="one readable line per event, or one JSON object per line",
    )
    parser.add_argument(
        "--event-loop",
        choices=("uvloop", "asyncio"),
        default=defaults.event_loop,
        help="event loop implementation",
    )
    parser.add_argument(
        "--transport",
        choices=("fast", "aiohttp"),
        default=defaults.transport,
        help="websocket transport: fast (our own, hands what it does not handle to aiohttp) "
        "or aiohttp (aiohttp's WebSocketResponse for every socket)",
    )
    limits = parser.add_argument_group("limits")
    limits.add_argument(
        "--max-frame-bytes",
        type=int,
        default=defaults.max_frame_bytes,
        help="largest client message accepted; larger ones close the socket with 1009",
    )
    limits.add_argument(
        "--rate", type=float, default=defaults.rate, help="messages/s per connection"
    )
    limits.add_argument(
        "--burst", type=int, default=defaults.burst, help="messages at once per connection"
    )
    limits.add_argument(
        "--relay-rate",
        type=float,
        default=defaults.relay_rate,
        help="relayed data-channel messages/s per connection",
    )
    limits.add_argument(
        "--max-peers-per-sprint",
        type=int,
        default=defaults.max_peers_per_sprint,
        help="peers in one sprint, on all instances",
    )
    limits.add_argument(
        "--max-peers-per-user",
        type=int,
        default=defaults.max_peers_per_user,
        help="peers of one user in one sprint (tabs and bots)",
    )
    limits.add_argument(
        "--max-rooms", type=int, default=defaults.max_rooms, help="sprint rooms on this instance"
    )
    limits.add_argument(
        "--max-connections",
        type=int,
        default=defaults.max_connections,
        help="websocket connections on this instance",
    )
    limits.add_argument(
        "--max-unjoined-per-address",
        type=int,
        default=defaults.max_unjoined_per_address,
        help="websocket connections from one address that have not joined yet",
    )
    limits.add_argument(
        "--send-buffer-kib",
        type=int,
        default=defaults.send_buffer_bytes // 1024,
        help="KiB waiting to be sent to one client before it counts as stuck and is disconnected",
    )
    timing = parser.add_argument_group("timing")
    timing.add_argument(
        "--join-timeout",
        type=float,
        default=defaults.join_timeout,
        help="seconds a new websocket has to send its join",
    )
    timing.add_argument(
        "--heartbeat",
        type=float,
        default=defaults.heartbeat,
        help="seconds of silence before a websocket ping; a peer that misses the pong is "
        "dropped (0: no heartbeats)",
    )
    timing.add_argument(
        "--http-timeout",
        type=float,
        default=defaults.http_timeout,
        help="seconds an HTTP request has to send its head (and a hook its body); also how "
        "long an idle keep-alive connection is kept",
    )
    cluster = parser.add_argument_group("several instances")
    cluster.add_argument(
        "--broker",
        default=defaults.broker,
        metavar="URL",
        help="memory (one instance) or redis://HOST:PORT/DB to run several instances",
    )
    cluster.add_argument(
        "--presence-ttl",
        type=float,
        default=defaults.presence_ttl,
        help="seconds after which a dead instance's peers are dropped (Redis broker)",
    )
    cluster.add_argument(
        "--reuse-port",
        action="store_true",
        help="let several instances on this host listen on the same --port (SO_REUSEPORT; the "
        "kernel spreads new connections among them); needs a shared redis:// --broker",
    )
    cluster.add_argument(
        "--instance-port",
        type=int,
        default=None,
        metavar="PORT",
        help="also listen on this port, this instance's own (not shared): to scrape one "
        "instance's /metrics and /healthz when several share --port",
    )
    ice = parser.add_argument_group("ICE servers handed to clients")
    ice.add_argument(
        "--ice-server", action="append", default=[], metavar="URL", help="stun: URL (repeatable)"
    )
    ice.add_argument(
        "--turn-url",
        action="append",
        default=[],
        metavar="URL",
        help="turn: URL (repeatable); needs WATERCOOLER_TURN_SECRET (coturn static-auth-secret)",
    )
    ice.add_argument(
        "--turn-ttl",
        type=int,
        default=defaults.turn_ttl,
        help="seconds the TURN credentials in a welcome stay valid",
    )
    return parser


def settings_from_args(
    argv: Sequence[str] | None = None, environ: Mapping[str, str] | None = None
) -> tuple[Settings, list[str]]:
    """Parse the command line and environment; return settings and warnings to log at start."""
    env = os.environ if environ is None else environ
    args = build_parser().parse_args(argv)
    warnings: list[str] = []
    secret = env.get("WATERCOOLER_SECRET", "")
    if not secret:
        if not args.debug:
            raise ConfigurationError(
                "WATERCOOLER_SECRET is not set: set it to the secret the board uses "
                "(or pass --debug to run with an insecure development secret)"
            )
        secret = DEVELOPMENT_SECRET
        warnings.append(
            "WATERCOOLER_SECRET is not set: using the DEVELOPMENT secret (--debug). "
            "Never run like this in production."
        )
    turn_secret = env.get("WATERCOOLER_TURN_SECRET") or None
    if args.turn_url and not turn_secret:
        raise ConfigurationError("--turn-url needs WATERCOOLER_TURN_SECRET (coturn's auth secret)")
    if args.debug and not args.allowed_origin:
        warnings.append(
            "no --allowed-origin given: --debug allows websocket upgrades from ANY origin"
        )
    for name in (
        "max_frame_bytes",
        "burst",
        "max_peers_per_sprint",
        "max_peers_per_user",
        "max_connections",
        "max_unjoined_per_address",
        "send_buffer_kib",
    ):
        if getattr(args, name) < 1:
            raise ConfigurationError(f"--{name.replace('_', '-')} must be at least 1")
    if args.broker != "memory" and not args.broker.startswith(("redis://", "rediss://", "unix://")):
        raise ConfigurationError(
            f"--broker must be 'memory' or a redis:// URL, got {args.broker!r}"
        )
    if args.reuse_port and args.broker == "memory":
        raise ConfigurationError(
            "--reuse-port needs --broker redis://...: the instances sharing the port each get "
            "some of a sprint's peers, and only a shared broker lets those peers see each other"
        )
    if args.http_timeout <= 0:
        raise ConfigurationError("--http-timeout must be more than 0 seconds")
    if args.instance_port is not None and args.instance_port in (0, args.port):
        raise ConfigurationError("--instance-port must be a port of its own, not 0 or --port")
    settings = Settings(
        secret=secret,
        broker=args.broker,
        presence_ttl=args.presence_ttl,
        reuse_port=args.reuse_port,
        instance_port=args.instance_port,
        host=args.host,
        port=args.port,
        allowed_origins=tuple(args.allowed_origin),
        trusted_proxies=tuple(args.trusted_proxy),
        debug=args.debug,
        log_format=args.log_format,
        event_loop=args.event_loop,
        max_frame_bytes=args.max_frame_bytes,
        rate=args.rate,
        burst=args.burst,
        relay_rate=args.relay_rate,
        max_peers_per_sprint=args.max_peers_per_sprint,
        max_peers_per_user=args.max_peers_per_user,
        max_rooms=args.max_rooms,
        max_connections=args.max_connections,
        max_unjoined_per_address=args.max_unjoined_per_address,
        send_buffer_bytes=args.send_buffer_kib * 1024,
        join_timeout=args.join_timeout,
        heartbeat=args.heartbeat,
        http_timeout=args.http_timeout,
        transport=args.transport,
        ice_servers=tuple(args.ice_server),
        turn_urls=tuple(args.turn_url),
        turn_secret=turn_secret,
        turn_ttl=args.turn_ttl,
    )
    return settings, warnings
