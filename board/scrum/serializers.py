"""API representations of sprints, tasks and users, with explicit fields.

The task and sprint shapes are shared: the API returns them, hook events carry them and the browser
and aiortc peers exchange them, so ``links`` are site-relative paths that need no request to build.
Writes go through ``services`` (rules, positions, versions); these classes only parse and render.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.urls import reverse
from rest_framework import serializers

from board.live.tickets import mint_ticket
from board.scrum import services
from board.scrum.models import Sprint, Status, Task, display_name
from board.scrum.rules import RuleViolation

User = get_user_model()


class SprintSerializer(serializers.ModelSerializer):
    links = serializers.SerializerMethodField()

    class Meta:
        model = Sprint
        fields = ["id", "name", "description", "end", "links"]

    def get_links(self, sprint: Sprint) -> dict[str, Any]:
        return {
            "self": reverse("sprint-detail", args=[sprint.pk]),
            "tasks": reverse("task-list") + f"?sprint={sprint.pk}",
            "ticket": reverse("sprint-ticket", args=[sprint.pk]),
            "board": reverse("sprint-board", args=[sprint.pk]),
        }

    def create(self, validated_data: dict[str, Any]) -> Sprint:
        try:
            return services.create_sprint(validated_data)
        except RuleViolation as exc:
            raise serializers.ValidationError(exc.errors) from exc

    def update(self, instance: Sprint, validated_data: dict[str, Any]) -> Sprint:
        try:
            return services.update_sprint(instance.pk, validated_data)
        except RuleViolation as exc:
            raise serializers.ValidationError(exc.errors) from exc


class SprintDetailSerializer(SprintSerializer):
    """A sprint as its board page needs it: with ``links.signaling``, a ticket for the caller."""

    def get_links(self, sprint: Sprint) -> dict[str, Any]:
        links = super().get_links(sprint)
        request = self.context.get("request")
        if request is not None and request.user.is_authenticated:
            links["signaling"] = mint_ticket(request.user, sprint).as_json()
        return links


class TaskSerializer(serializers.ModelSerializer):
    sprint = serializers.PrimaryKeyRelatedField(
        queryset=Sprint.objects.all(), allow_null=True, required=False
    )
    status = serializers.ChoiceField(choices=Status.choices, required=False)
    status_display = serializers.CharField(source="get_status_display", read_only=True)
    position = serializers.IntegerField(min_value=0, required=False)
    assignee = serializers.PrimaryKeyRelatedField(
        queryset=User.objects.all(), allow_null=True, required=False
    )
    assignee_name = serializers.SerializerMethodField()
    version = serializers.IntegerField(
        min_value=1,
        required=False,
        help_text="On PATCH/PUT, the version you saw: a stale one is refused with 409.",
    )
    links = serializers.SerializerMethodField()

    class Meta:
        model = Task
        fields = [
            "id",
            "name",
            "description",
            "sprint",
            "status",
            "status_display",
            "position",
            "assignee",
            "assignee_name",
            "started",
            "due",
            "completed",
            "version",
            "links",
        ]

    def get_assignee_name(self, task: Task) -> str | None:
        return display_name(task.assignee) if task.assignee is not None else None

    def get_links(self, task: Task) -> dict[str, Any]:
        return {
            "self": reverse("task-detail", args=[task.pk]),
            "move": reverse("task-move", args=[task.pk]),
            "sprint": reverse("sprint-detail", args=[task.sprint_id]) if task.sprint_id else None,
            "assignee": reverse("user-detail", args=[task.assignee_id])
            if task.assignee_id
            else None,
        }

    def create(self, validated_data: dict[str, Any]) -> Task:
        validated_data.pop("version", None)
        try:
            return services.create_task(validated_data)
        except RuleViolation as exc:
            raise serializers.ValidationError(exc.errors) from exc

    def update(self, instance: Task, validated_data: dict[str, Any]) -> Task:
        expected = validated_data.pop("version", None)
        try:
            return services.update_task(instance.pk, validated_data, expected_version=expected)
        except RuleViolation as exc:
            raise serializers.ValidationError(exc.errors) from exc


class MoveSerializer(serializers.Serializer):
    """The body of ``POST /api/tasks/{id}/move/``: where the task goes and the version seen."""

    sprint = serializers.PrimaryKeyRelatedField(queryset=Sprint.objects.all(), allow_null=True)
    status = serializers.ChoiceField(choices=Status.choices)
    position = serializers.IntegerField(min_value=0)
    version = serializers.IntegerField(min_value=1)


class UserSerializer(serializers.ModelSerializer):
    full_name = serializers.SerializerMethodField()

    class Meta:
        model = User
        fields = ["id", "username", "full_name"]

    def get_full_name(self, user: Any) -> str:
        return str(user.get_full_name()).strip()


def task_json(task: Task) -> dict[str, Any]:
    """The task as the API shows it, as plain JSON types (for hook events and 409 answers)."""
    return dict(TaskSerializer(task).data)


def sprint_json(sprint: Sprint) -> dict[str, Any]:
    """The sprint as the API's list shows it (never with a ticket)."""
    return dict(SprintSerializer(sprint).data)
