"""The Watercooler board: a Django project holding sprints and tasks, the REST API, the pages,
sprint tickets for signaling and the hooks that tell signaling about changes.

It must never hold a websocket: live traffic belongs to ``signaling/`` and the browsers.
"""
