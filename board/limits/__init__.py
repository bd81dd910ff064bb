"""Request limits: counting requests per client and time window, for the throttles of the API and
of the login pages.

Counts are rows in the database (``RequestCount``), so every gunicorn worker and every board host
counts the same requests; each request is counted by one conditional update, so simultaneous
requests never overwrite each other's; a row is deleted once its window has passed, never earlier
to make room.
"""
