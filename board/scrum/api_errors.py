"""Turns the service layer's refusals into HTTP answers, for every API view.

| exception | answer |
| --- | --- |
| ``VersionConflict`` | 409 ``{"detail": ..., "task": <current task>}`` |
| ``SprintNotEmpty`` | 409 ``{"detail": ...}`` |
| ``RuleViolation`` | 400 with field errors |
| ``DoesNotExist`` | 404 |
| ``Throttled`` | 429 ``{"detail", "retry_after"}`` (seconds; also in ``Retry-After``) |
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ObjectDoesNotExist
from rest_framework import status
from rest_framework.exceptions import Throttled
from rest_framework.response import Response
from rest_framework.views import exception_handler

from board.scrum.rules import RuleViolation
from board.scrum.services import SprintNotEmpty, VersionConflict

THROTTLED_DETAIL = "Too many requests in a short time"


def handle_exception(exc: Exception, context: dict[str, Any]) -> Response | None:
    if isinstance(exc, VersionConflict):
        from board.scrum.serializers import task_json

        detail = (
            f"The task changed since you saw it (you sent version {exc.expected}, it is now at "
            f"version {exc.task.version}); here is the current task."
        )
        return Response({"detail": detail, "task": task_json(exc.task)}, status.HTTP_409_CONFLICT)
    if isinstance(exc, SprintNotEmpty):
        return Response({"detail": str(exc)}, status.HTTP_409_CONFLICT)
    if isinstance(exc, RuleViolation):
        return Response(exc.errors, status.HTTP_400_BAD_REQUEST)
    if isinstance(exc, ObjectDoesNotExist):
        return Response({"detail": "Not found."}, status.HTTP_404_NOT_FOUND)
    if isinstance(exc, Throttled):
        return throttled(exc, context)
    return exception_handler(exc, context)


def throttled(exc: Throttled, context: dict[str, Any]) -> Response | None:
    """429 saying which limit was hit and when to try again (DRF sets ``Retry-After``)."""
    response = exception_handler(exc, context)
    if response is None:
        return None
    what = getattr(context.get("view"), "throttled_detail", THROTTLED_DETAIL)
    if exc.wait is None:
        response.data = {"detail": f"{what}; try again later.", "retry_after": None}
    else:
        unit = "second" if exc.wait == 1 else "seconds"
        response.data = {
            "detail": f"{what}; try again in {exc.wait} {unit}.",
            "retry_after": exc.wait,
        }
    return response
