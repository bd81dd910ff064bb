"""The fast websocket transport: everything optimised about serving websockets is in this package.

It serves the common case, a plain ``GET /ws`` upgrade as a connection's first request, with a
websocket of its own (an asyncio protocol per socket, no task, no queue: a fraction of the memory
of aiohttp's ``WebSocketResponse``, and fewer calls per relayed message). Everything else goes to
aiohttp, whose ``/ws`` handler (``signaling.aiohttp_transport``) applies the same rules, so no
request is refused here that aiohttp would serve.

- ``frames``: the RFC 6455 frame parser (strict) and the frames the server writes; pure;
- ``connection``: one websocket as an asyncio protocol;
- ``listener``: the first-request sniffer and the ``AppRunner`` that installs it.

Its one reliance on aiohttp's internals, the compiled mask function, is pinned by a test.
"""
