"""Page views. They render server-side; the live board client (web/) takes over in the browser.

The board page embeds ``board-config`` (JSON) so the client can bootstrap: the sprint id, the API
root, a CSRF token and who the user is. It loads ``watercooler/board.js`` when that module exists.
"""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.contrib.staticfiles import finders
from django.http import HttpRequest, HttpResponse
from django.middleware.csrf import get_token
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone

from board.pages.forms import SprintForm
from board.scrum.models import Sprint, Status, Task, display_name

BOARD_MODULE = "watercooler/board.js"


@login_required
def sprint_list(request: HttpRequest) -> HttpResponse:
    """Current and coming sprints first, then past ones; POST adds a sprint."""
    form = SprintForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        sprint = form.create()
        return redirect("sprint-board", sprint.pk)
    today = timezone.localdate()
    context = {
        "form": form,
        "current": Sprint.objects.filter(end__gte=today).order_by("end", "id"),
        "past": Sprint.objects.filter(end__lt=today).order_by("-end", "-id"),
        "backlog_count": Task.objects.filter(sprint__isnull=True).count(),
    }
    return render(request, "pages/sprint_list.html", context)


@login_required
def sprint_board(request: HttpRequest, sprint_id: int) -> HttpResponse:
    """The sprint's four status columns and the backlog, each in position order."""
    sprint = get_object_or_404(Sprint, pk=sprint_id)
    tasks = Task.objects.select_related("assignee").order_by("position", "id")
    columns = [
        {"key": "backlog", "title": "Backlog", "tasks": tasks.filter(sprint__isnull=True)},
        *(
            {"key": value, "title": label, "tasks": tasks.filter(sprint=sprint, status=value)}
            for value, label in Status.choices
        ),
    ]
    config = {
        "sprintId": sprint.pk,
        "apiRoot": reverse("api-root"),
        "csrfToken": get_token(request),
        "user": {"id": request.user.pk, "name": display_name(request.user)},
    }
    context = {
        "sprint": sprint,
        "columns": columns,
        "config": config,
        "board_module": BOARD_MODULE if finders.find(BOARD_MODULE) else None,
    }
    return render(request, "pages/sprint_board.html", context)
