"""One row per client, limit and time window: how many requests it made in that window."""

from __future__ import annotations

from django.db import models


class RequestCount(models.Model):
    """Requests of one client (``ident``) counted against one limit (``scope``) in one window.

    ``window`` is the window's number (seconds since the epoch divided by the window's length),
    ``expires`` the moment it ends: rows are deleted by that, oldest first, and by nothing else.
    """

    scope = models.CharField(max_length=32)
    ident = models.CharField(max_length=64)
    window = models.BigIntegerField()
    count = models.PositiveIntegerField(default=0)
    expires = models.DateTimeField(db_index=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["scope", "ident", "window"], name="one_request_count_per_window"
            )
        ]

    def __str__(self) -> str:
        return f"{self.scope} {self.ident} window {self.window}: {self.count}"
