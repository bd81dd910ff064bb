"""The board's side of the live layer: sprint tickets for signaling and the hooks that push board
events to it. Plain modules, not a Django app: they read settings and hold no models.

The wire formats are fixed by docs/protocol.md section 1 (1.2 ticket, 1.5 hook).
"""
