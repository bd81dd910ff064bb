"""The REST API's viewsets: sprints, tasks (with the ``move`` action), users (read-only).

Every endpoint needs a logged-in user (token or session; see settings), except the token endpoint,
which is throttled per address and per username instead (as the login pages are); writes are
throttled per user (``throttles``). Writes are delegated to ``services`` through the serializers;
refusals become HTTP answers in ``api_errors``.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from rest_framework import viewsets
from rest_framework.authtoken.views import ObtainAuthToken
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.settings import api_settings

from board.limits import logins
from board.live.tickets import mint_ticket
from board.scrum import services
from board.scrum.filters import SprintFilter, TaskFilter
from board.scrum.models import Sprint, Task
from board.scrum.serializers import (
    MoveSerializer,
    SprintDetailSerializer,
    SprintSerializer,
    TaskSerializer,
    UserSerializer,
)
from board.scrum.throttles import LoginThrottle

User = get_user_model()

WRITES_THROTTLED = "Too many changes in a short time"
# Ids in paths are ASCII digits only: with DRF's default (anything but / and .) "1\n", "1 " and
# other scripts' digits (which int() reads) named tasks too.
ID_IN_PATH = "[0-9]+"


class ObtainTokenView(ObtainAuthToken):
    """``POST /api/token/`` ``{"username", "password"}`` -> ``{"token"}``, throttled."""

    parser_classes = api_settings.DEFAULT_PARSER_CLASSES  # DRF's view names its own, unguarded
    throttle_classes = (LoginThrottle,)
    throttled_detail = logins.REFUSED


class SprintViewSet(viewsets.ModelViewSet):
    """Sprints; the detail carries a signaling ticket, ``ticket/`` gives a fresh one."""

    lookup_value_regex = ID_IN_PATH

    throttled_detail = WRITES_THROTTLED

    queryset = Sprint.objects.all()
    filterset_class = SprintFilter
    search_fields = ["name", "description"]
    ordering_fields = ["end", "name", "id"]
    ordering = ["end", "id"]

    def get_serializer_class(self) -> type[SprintSerializer]:
        if self.action == "retrieve":
            return SprintDetailSerializer
        return SprintSerializer

    def perform_destroy(self, instance: Sprint) -> None:
        services.delete_sprint(instance.pk)

    @action(detail=True, methods=["get"])
    def ticket(self, request: Request, pk: Any = None) -> Response:
        """A fresh ``{"url", "ticket", "expires"}`` for when the one from the detail expires."""
        return Response(mint_ticket(request.user, self.get_object()).as_json())


class TaskViewSet(viewsets.ModelViewSet):
    """Tasks; PATCH/PUT take an optional ``version``, ``move/`` is the board's drag and drop."""

    lookup_value_regex = ID_IN_PATH

    throttled_detail = WRITES_THROTTLED

    queryset = Task.objects.select_related("assignee")
    serializer_class = TaskSerializer
    filterset_class = TaskFilter
    search_fields = ["name", "description"]
    ordering_fields = [
        "id",
        "name",
        "sprint",
        "status",
        "position",
        "assignee",
        "started",
        "due",
        "completed",
    ]
    ordering = ["sprint", "status", "position", "id"]

    def perform_destroy(self, instance: Task) -> None:
        services.delete_task(instance.pk)

    @action(detail=True, methods=["post"], serializer_class=MoveSerializer)
    def move(self, request: Request, pk: Any = None) -> Response:
        """Move to ``{"sprint", "status", "position"}`` if ``version`` is current (else 409)."""
        task = self.get_object()
        body = MoveSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        moved = services.move_task(
            task.pk,
            sprint=body.validated_data["sprint"],
            status=body.validated_data["status"],
            position=body.validated_data["position"],
            expected_version=body.validated_data["version"],
        )
        return Response(TaskSerializer(moved, context=self.get_serializer_context()).data)


class UserViewSet(viewsets.ReadOnlyModelViewSet):
    """The people tasks can be assigned to."""

    lookup_value_regex = ID_IN_PATH

    queryset = User.objects.filter(is_active=True)
    serializer_class = UserSerializer
    search_fields = ["username", "first_name", "last_name"]
    ordering_fields = ["id", "username"]
    ordering = ["username"]
