"""The admin for sprints and tasks, writing through ``services`` like the API does.

Forms check the rules before saving, so a refusal is shown on the field; saving goes through the
service functions so positions stay consistent and the change is announced to signaling.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest

from board.scrum import services
from board.scrum.models import Sprint, Task


def _add_errors(form: forms.ModelForm, errors: dict[str, list[str]]) -> None:
    for field, messages in errors.items():
        for message in messages:
            form.add_error(field if field in form.fields else None, message)


class SprintAdminForm(forms.ModelForm):
    class Meta:
        model = Sprint
        fields = ["name", "description", "end"]

    def clean(self) -> dict[str, Any]:
        cleaned: dict[str, Any] = super().clean() or {}
        if "end" in cleaned and "end" in self.changed_data:
            old_end = self.instance.end if self.instance.pk else None
            _add_errors(
                self,
                services.check_sprint_end(
                    old_end=old_end, new_end=cleaned["end"], today=services.today()
                ),
            )
        return cleaned


class TaskAdminForm(forms.ModelForm):
    class Meta:
        model = Task
        fields = [
            "name",
            "description",
            "sprint",
            "status",
            "position",
            "assignee",
            "started",
            "due",
            "completed",
        ]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["position"].required = False
        self.fields["position"].help_text = "Place in its column, from 0; empty puts it last."

    def changes(self) -> dict[str, Any]:
        return {f: self.cleaned_data[f] for f in self.changed_data if f in self.cleaned_data}

    def clean(self) -> dict[str, Any]:
        cleaned: dict[str, Any] = super().clean() or {}
        current = self.instance if self.instance.pk else None
        changes = self.changes()
        if current is None and changes.get("position") is None:
            changes.pop("position", None)
        _add_errors(self, services.preview_task_errors(current, changes))
        return cleaned


@admin.register(Sprint)
class SprintAdmin(admin.ModelAdmin):
    form = SprintAdminForm
    list_display = ["__str__", "end"]
    search_fields = ["name", "description"]
    date_hierarchy = "end"

    def save_model(self, request: HttpRequest, obj: Sprint, form: Any, change: bool) -> None:
        fields = {f: form.cleaned_data[f] for f in SprintAdminForm.Meta.fields}
        if change:
            changed = {f: v for f, v in fields.items() if f in form.changed_data}
            services.update_sprint(obj.pk, changed)
        else:
            obj.pk = services.create_sprint(fields).pk

    def delete_model(self, request: HttpRequest, obj: Sprint) -> None:
        services.delete_sprint(obj.pk)

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[Sprint]) -> None:
        for sprint in queryset:
            services.delete_sprint(sprint.pk)


@admin.register(Task)
class TaskAdmin(admin.ModelAdmin):
    form = TaskAdminForm
    list_display = ["name", "sprint", "status", "position", "assignee", "due", "version"]
    list_filter = ["status", "sprint"]
    search_fields = ["name", "description"]
    readonly_fields = ["version"]

    def save_model(self, request: HttpRequest, obj: Task, form: Any, change: bool) -> None:
        if change:
            saved = services.update_task(obj.pk, form.changes())
        else:
            fields = {
                f: v for f, v in form.cleaned_data.items() if v is not None or f != "position"
            }
            saved = services.create_task(fields)
        obj.pk, obj.version, obj.position = saved.pk, saved.version, saved.position

    def delete_model(self, request: HttpRequest, obj: Task) -> None:
        services.delete_task(obj.pk)

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[Task]) -> None:
        for task in queryset:
            services.delete_task(task.pk)
