"""Watercooler's signaling server.

Introduces the peers viewing a sprint to each other, relays their WebRTC negotiation, and pushes
board events posted by the board's hook. It never imports Django and never touches the database.

Layout: ``protocol`` (messages, no I/O), ``tickets`` (JWT checks, no I/O), ``rooms`` (room
bookkeeping, no I/O), ``ratelimit`` (token buckets, no I/O), ``connection`` (a client's bounded send
queue), ``app`` (the aiohttp application), ``__main__`` (the command line).
"""
