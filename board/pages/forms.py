"""The "add sprint" form of the sprint list page; the rules are the service layer's."""

from __future__ import annotations

from typing import Any

from django import forms

from board.scrum import services
from board.scrum.models import Sprint


class SprintForm(forms.ModelForm):
    class Meta:
        model = Sprint
        fields = ["name", "end", "description"]
        widgets = {
            "end": forms.DateInput(attrs={"type": "date"}),
            "description": forms.Textarea(attrs={"rows": 2}),
        }

    def clean_end(self) -> Any:
        end = self.cleaned_data["end"]
        errors = services.check_sprint_end(old_end=None, new_end=end, today=services.today())
        if errors:
            raise forms.ValidationError(errors["end"])
        return end

    def create(self) -> Sprint:
        return services.create_sprint(
            {field: self.cleaned_data[field] for field in self._meta.fields or []}
        )
