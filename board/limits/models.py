"""One row per client and limit: how many requests it made in its current window."""

from __future__ import annotations

from django.db import models


class RequestCount(models.Model):
    """Requests of one client (``ident``) counted against one limit (``scope``).

    The window opens with the client's first request and ``expires`` one period later; the next
    request after that opens a new window in the same row. A row whose window has expired counts
    nothing, so rows are deleted by ``expires``, oldest first, and by nothing else.
    """

    scope = models.CharField(max_length=32)
    ident = models.CharField(max_length=64)
    count = models.PositiveIntegerField(default=0)
    expires = models.DateTimeField(db_index=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["scope", "ident"], name="one_request_count_per_client")
        ]

    def __str__(self) -> str:
        return f"{self.scope} {self.ident}: {self.count} until {self.expires}"
