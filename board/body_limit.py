"""Refusing request bodies over ``DATA_UPLOAD_MAX_MEMORY_SIZE`` before anything reads them.

Django refuses such a body only when something reads it, with a bare HTML 400 and an ERROR line
carrying a whole traceback (a client's mistake looking like the board's). This middleware answers
by the declared ``Content-Length`` first: the API with JSON naming the limit, the pages with a line
of text; one WARNING line, no traceback. A body longer than its ``Content-Length`` is never read
past it, so the declared length is the one that counts.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest, JsonResponse

log = logging.getLogger("board.requests")

API_PREFIX = "/api/"


def too_large(limit: int) -> str:
    return f"The request body is larger than the limit of {limit} bytes."


class BodyLimitMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        limit: int | None = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = 0  # as Django reads it: no body
        if limit is None or length <= limit:
            return self.get_response(request)
        log.warning("request body of %d bytes refused: over the limit of %d bytes", length, limit)
        if request.path_info.startswith(API_PREFIX):
            return JsonResponse({"detail": too_large(limit), "limit_bytes": limit}, status=400)
        return HttpResponseBadRequest(too_large(limit), content_type="text/plain; charset=utf-8")
