"""aiortc's side of ICE: what ``welcome.iceServers`` become, a browser's trickled candidate, and
which candidate pair a connection selected (docs/protocol.md 1.4 and 1.8; docs/webrtc.md).

aiortc's ``getStats`` reports only RTP streams, so the selected pair and the round trip are read
from the objects behind the data channel: the ICE connection (aioice) under the SCTP transport,
and SCTP's smoothed round-trip time. Those are private attributes of aiortc 1.16 and aioice 0.13
(pinned in requirements.txt); the readers answer None when they cannot find them, and
tests/peer_client/test_session_reports.py notices if the selected pair stops being found.
"""

from __future__ import annotations

from typing import Any

from aiortc import RTCIceServer, RTCPeerConnection
from aiortc.sdp import candidate_from_sdp


def ice_servers_from(welcome_servers: object) -> list[RTCIceServer]:
    """``welcome.iceServers`` (RTCIceServer dictionaries) as aiortc objects; bad entries skipped."""
    servers: list[RTCIceServer] = []
    if not isinstance(welcome_servers, list):
        return servers
    for entry in welcome_servers:
        if not isinstance(entry, dict):
            continue
        urls = entry.get("urls")
        if not (isinstance(urls, str) or (isinstance(urls, list) and urls)):
            continue
        username, credential = entry.get("username"), entry.get("credential")
        servers.append(
            RTCIceServer(
                urls=urls,
                username=username if isinstance(username, str) else None,
                credential=credential if isinstance(credential, str) else None,
            )
        )
    return servers


def candidate_from_browser(data: dict[str, Any]) -> Any:
    """A trickled ``{candidate, sdpMid, sdpMLineIndex}`` as an aiortc ``RTCIceCandidate``.

    Returns None for end-of-candidates (``null`` or an empty candidate string).
    """
    line = data.get("candidate")
    if not isinstance(line, str) or not line.strip():
        return None
    line = line.strip()
    if line.startswith("a="):
        line = line[2:]
    if line.startswith("candidate:"):
        line = line[len("candidate:") :]
    candidate = candidate_from_sdp(line)
    mid = data.get("sdpMid")
    index = data.get("sdpMLineIndex")
    candidate.sdpMid = mid if isinstance(mid, str) else None
    candidate.sdpMLineIndex = index if isinstance(index, int) and not isinstance(index, bool) else 0
    return candidate


def selected_path(pc: RTCPeerConnection) -> str | None:
    """The selected candidate pair's ``"local/remote"`` candidate types (``"host/host"``), or
    None while there is none."""
    try:
        sctp = pc.sctp
        if sctp is None:
            return None
        pair = sctp.transport.transport._connection._nominated.get(1)
        if pair is None:
            return None
        return f"{pair.local_candidate.type}/{pair.remote_candidate.type}"
    except AttributeError:
        return None


def round_trip_ms(pc: RTCPeerConnection) -> float | None:
    """The data channel's latest smoothed round trip in milliseconds (SCTP's estimate, from its
    acknowledgements), or None before the first one."""
    sctp = pc.sctp
    srtt = getattr(sctp, "_srtt", None) if sctp is not None else None
    return float(srtt) * 1000 if isinstance(srtt, int | float) else None
