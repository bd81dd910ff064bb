"""``manage.py seed_demo``: the demo data for ``make run``, created once (running it again is a
no-op).

Users ``demo``/``demo`` and ``sam``/``demo`` for two browser tabs, and ``robo``/``demo`` for the
bot (``python -m peer_client``), so that it joins with a name and avatar of its own; the sprint
"Demo sprint" ending two weeks after the first run, with ten tasks spread over the backlog and the
four status columns. A missing user is created with the password ``demo`` (so a demo seeded before
``robo`` existed gains it); existing ones are left as they are. ``--json`` prints
``{"sprint": id, "users": [...]}`` for scripts.
"""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand
from django.db import transaction

from board.scrum import services
from board.scrum.models import Sprint
from board.scrum.rules import DONE, IN_PROGRESS, NOT_STARTED, TESTING

DEMO_PASSWORD = "demo"
DEMO_SPRINT = "Demo sprint"
USERS = [("demo", "Dana", "Demo"), ("sam", "Sam", "Second"), ("robo", "Robo", "Bot")]
SPRINT_DESCRIPTION = (
    "Goal: everyone watching the board sees cards move as they are dragged, and each sprint "
    "gets a burndown chart. The sign-up page and the password reset e-mail are next in line."
)
TASKS: list[tuple[str, str, str | None, str]] = [
    # name, status, assignee, description
    ("Write the release notes", NOT_STARTED, None, "Backlog: not planned yet."),
    ("Dark mode", NOT_STARTED, None, "Backlog: someone asked for it twice."),
    ("Sign-up page copy", NOT_STARTED, "sam", ""),
    ("Password reset e-mail", NOT_STARTED, "demo", ""),
    ("Task search", NOT_STARTED, None, ""),
    ("Drag and drop on the board", IN_PROGRESS, "demo", "Cards follow the pointer."),
    ("Sprint burndown chart", IN_PROGRESS, "sam", ""),
    ("CSV export", TESTING, "sam", ""),
    ("Login page", DONE, "demo", ""),
    ("Project skeleton", DONE, "sam", ""),
]
BACKLOG = {"Write the release notes", "Dark mode"}


class Command(BaseCommand):
    help = "Create the demo users, sprint and tasks unless they exist already."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--json", action="store_true", help="print the result as JSON")

    @transaction.atomic
    def handle(self, *args: Any, **options: Any) -> None:
        users = {username: self._user(username, first, last) for username, first, last in USERS}
        sprint = Sprint.objects.filter(name=DEMO_SPRINT).order_by("id").first()
        if sprint is None:
            end = services.today() + timedelta(days=14)
            sprint = services.create_sprint(
                {"name": DEMO_SPRINT, "end": end, "description": SPRINT_DESCRIPTION}
            )
            for name, status, assignee, description in TASKS:
                services.create_task(
                    {
                        "name": name,
                        "description": description,
                        "status": status,
                        "sprint": None if name in BACKLOG else sprint,
                        "assignee": users[assignee] if assignee else None,
                        "due": end,
                    }
                )
            created = True
        else:
            created = False
        if options["json"]:
            self.stdout.write(json.dumps({"sprint": sprint.pk, "users": list(users)}))
        else:
            verb = "Created" if created else "Found"
            self.stdout.write(f"{verb} {DEMO_SPRINT!r} (id {sprint.pk}), ending {sprint.end}.")
            self.stdout.write(f"Users: {', '.join(users)} (password {DEMO_PASSWORD!r}).")

    def _user(self, username: str, first: str, last: str) -> Any:
        user, created = get_user_model().objects.get_or_create(
            username=username, defaults={"first_name": first, "last_name": last}
        )
        if created:
            user.set_password(DEMO_PASSWORD)
            user.save()
        return user
