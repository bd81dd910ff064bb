"""Turns the service layer's refusals into HTTP answers, for every API view.

| exception | answer |
| --- | --- |
| ``VersionConflict`` | 409 ``{"detail": ..., "task": <current task>}`` |
| ``SprintNotEmpty`` | 409 ``{"detail": ...}`` |
| ``RuleViolation`` | 400 with field errors |
| ``DoesNotExist`` | 404 |
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ObjectDoesNotExist
from rest_framework import status
from rest_framework.response import Response
from rest_framework.views import exception_handler

from board.scrum.rules import RuleViolation
from board.scrum.services import SprintNotEmpty, VersionConflict


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
    return exception_handler(exc, context)
