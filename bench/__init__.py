"""Benchmarks: our signaling server side by side with y-webrtc's and PeerJS's.

``python -m bench run`` starts each server on a loopback port and drives it with one asyncio load
generator (:mod:`bench.loadgen`, through the protocol adapters of :mod:`bench.adapters`);
``python -m bench report`` turns the results JSON into ``docs/benchmarks.md`` and its plots.
Nothing here runs as part of ``make test``; ``tests/bench`` checks the parts that are logic
(statistics, report sections, the websocket client, the generator at tiny scale).
"""
