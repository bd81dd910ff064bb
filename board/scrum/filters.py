"""Query filters for the list endpoints (django-filter)."""

from __future__ import annotations

import django_filters

from board.scrum.models import Sprint, Status, Task


class SprintFilter(django_filters.FilterSet):
    end_min = django_filters.DateFilter(field_name="end", lookup_expr="gte")
    end_max = django_filters.DateFilter(field_name="end", lookup_expr="lte")

    class Meta:
        model = Sprint
        fields = ["end_min", "end_max"]


class TaskFilter(django_filters.FilterSet):
    sprint = django_filters.NumberFilter(field_name="sprint")
    status = django_filters.ChoiceFilter(choices=Status.choices)
    assignee = django_filters.NumberFilter(field_name="assignee")
    backlog = django_filters.BooleanFilter(field_name="sprint", lookup_expr="isnull")

    class Meta:
        model = Task
        fields = ["sprint", "status", "assignee", "backlog"]
