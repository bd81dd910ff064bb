"""Benchmarks: our signaling server side by side with y-webrtc's and PeerJS's (``python -m bench``;
not part of ``make test``, where ``tests/bench`` checks the parts that are logic)."""
