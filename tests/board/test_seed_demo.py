"""``manage.py seed_demo``: the demo data, created once."""

import json
from io import StringIO

from django.contrib.auth import authenticate, get_user_model
from django.core.management import call_command

from board.scrum.models import Sprint, Task
from tests.board.conftest import positions_consistent


def seed() -> dict:
    out = StringIO()
    call_command("seed_demo", "--json", stdout=out)
    return json.loads(out.getvalue())


def test_seed_demo_creates_the_demo_once(db, today) -> None:
    first = seed()
    sprint = Sprint.objects.get(pk=first["sprint"])
    assert (sprint.end - today).days == 14
    assert authenticate(username="demo", password="demo") is not None
    assert first["users"] == ["demo", "sam", "robo"]
    bot = authenticate(username="robo", password="demo")
    assert bot is not None
    assert bot.get_full_name() == "Robo Bot"
    assert "seed_demo" not in sprint.description
    assert sprint.description.startswith("Goal: ")
    tasks = Task.objects.all()
    assert 8 <= tasks.count() <= 12
    columns = {(t.sprint_id, t.status) for t in tasks}
    assert (None, "not_started") in columns
    for status in ("not_started", "in_progress", "testing", "done"):
        assert (sprint.pk, status) in columns
    assert positions_consistent()
    assert seed() == first
    assert Task.objects.count() == tasks.count()
    assert Sprint.objects.count() == 1


def test_seed_demo_prints_the_login(db) -> None:
    out = StringIO()
    call_command("seed_demo", stdout=out)
    assert "demo" in out.getvalue()
    assert "password 'demo'" in out.getvalue()


def test_seed_demo_adds_the_bot_user_to_a_demo_seeded_without_it(db) -> None:
    first = seed()
    User = get_user_model()
    User.objects.filter(username="robo").delete()
    sam = User.objects.get(username="sam")
    sam.set_password("changed")
    sam.save()
    assert seed() == first
    assert authenticate(username="robo", password="demo") is not None
    assert authenticate(username="sam", password="changed") is not None, "kept as it was"
    assert Sprint.objects.count() == 1
