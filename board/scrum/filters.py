"""Query filters for the list endpoints (django-filter).

Id parameters (``?sprint=``, ``?assignee=``) take whole numbers in the range of a database id
(1 to 2**63 - 1), written in ASCII digits only: anything else (empty, signs, spaces, other digits
that ``int()`` would read) is answered with 400 naming the parameter, on every database, instead of
reaching the query (SQLite cannot even bind a larger integer). ``?search=`` refusals name the
parameter too.
"""

from __future__ import annotations

import re
from typing import Any

import django_filters
from django import forms
from rest_framework import filters
from rest_framework.exceptions import ValidationError
from rest_framework.request import Request

from board.scrum.models import Sprint, Status, Task

MAX_ID = 2**63 - 1
ID_ERROR = f"Not an id: ids are whole numbers from 1 to {MAX_ID}."
ASCII_DIGITS = re.compile(r"[0-9]+")


class IdField(forms.IntegerField):
    default_error_messages = {
        "invalid": ID_ERROR,
        "min_value": ID_ERROR,
        "max_value": ID_ERROR,
    }

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(min_value=1, max_value=MAX_ID, **kwargs)

    def to_python(self, value: Any) -> int | None:
        """None when the parameter is absent; present, it must be ASCII digits (even if empty)."""
        if value is None:
            return None
        if not ASCII_DIGITS.fullmatch(str(value)):
            raise forms.ValidationError(self.error_messages["invalid"], code="invalid")
        return int(value)


class IdFilter(django_filters.Filter):
    """Rows whose ``field_name`` is the id given; 400 for anything that is not an id."""

    field_class = IdField


class SprintFilter(django_filters.FilterSet):
    end_min = django_filters.DateFilter(field_name="end", lookup_expr="gte")
    end_max = django_filters.DateFilter(field_name="end", lookup_expr="lte")

    class Meta:
        model = Sprint
        fields = ["end_min", "end_max"]


class TaskFilter(django_filters.FilterSet):
    sprint = IdFilter(field_name="sprint")
    status = django_filters.ChoiceFilter(choices=Status.choices)
    assignee = IdFilter(field_name="assignee")
    backlog = django_filters.BooleanFilter(field_name="sprint", lookup_expr="isnull")

    class Meta:
        model = Task
        fields = ["sprint", "status", "assignee", "backlog"]


class SearchFilter(filters.SearchFilter):
    """DRF's ``?search=``, whose refusals (a null character) name the parameter."""

    def get_search_terms(self, request: Request) -> list[str]:
        try:
            terms: list[str] = super().get_search_terms(request)
        except ValidationError as exc:
            raise ValidationError({self.search_param: exc.detail}) from exc
        return terms
