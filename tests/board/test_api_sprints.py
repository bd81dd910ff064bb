"""/api/sprints/: CRUD, the end-date rule, filters, search, ordering, pagination, tickets."""

from collections.abc import Callable
from datetime import date, timedelta
from typing import Any

import jwt
from rest_framework.test import APIClient

from board.scrum.models import Sprint
from tests.board.conftest import SECRET


def sprint_json(sprint: Sprint) -> dict[str, Any]:
    return {
        "id": sprint.pk,
        "name": sprint.name,
        "description": sprint.description,
        "end": sprint.end.isoformat(),
        "links": {
            "self": f"/api/sprints/{sprint.pk}/",
            "tasks": f"/api/tasks/?sprint={sprint.pk}",
            "ticket": f"/api/sprints/{sprint.pk}/ticket/",
            "board": f"/sprints/{sprint.pk}/",
        },
    }


def test_create_sprint(api: APIClient, today: date) -> None:
    end = (today + timedelta(days=10)).isoformat()
    response = api.post("/api/sprints/", {"name": "S1", "description": "d", "end": end})
    assert response.status_code == 201, response.json()
    sprint = Sprint.objects.get()
    assert response.json() == sprint_json(sprint)
    assert (sprint.name, sprint.description, sprint.end.isoformat()) == ("S1", "d", end)


def test_create_sprint_ending_today_is_allowed(api: APIClient, today: date) -> None:
    assert api.post("/api/sprints/", {"end": today.isoformat()}).status_code == 201


def test_create_sprint_in_the_past_is_refused(api: APIClient, today: date) -> None:
    yesterday = (today - timedelta(days=1)).isoformat()
    response = api.post("/api/sprints/", {"name": "late", "end": yesterday})
    assert response.status_code == 400
    assert list(response.json()) == ["end"]
    assert "past" in response.json()["end"][0]
    assert not Sprint.objects.exists()


def test_update_sprint_end_into_the_past_is_refused(
    api: APIClient, sprint: Sprint, today: date
) -> None:
    yesterday = (today - timedelta(days=1)).isoformat()
    response = api.patch(f"/api/sprints/{sprint.pk}/", {"end": yesterday})
    assert response.status_code == 400
    assert "end" in response.json()
    sprint.refresh_from_db()
    assert sprint.end > today


def test_an_ended_sprint_can_still_be_renamed(
    api: APIClient, make_sprint: Callable[..., Sprint]
) -> None:
    ended = make_sprint(days=-3, name="old")
    response = api.put(
        f"/api/sprints/{ended.pk}/", {"name": "renamed", "end": ended.end.isoformat()}
    )
    assert response.status_code == 200, response.json()
    assert response.json()["name"] == "renamed"


def test_delete_empty_sprint(api: APIClient, sprint: Sprint) -> None:
    assert api.delete(f"/api/sprints/{sprint.pk}/").status_code == 204
    assert not Sprint.objects.exists()


def test_delete_sprint_with_tasks_is_refused(api: APIClient, sprint: Sprint, make_task) -> None:
    make_task(sprint=sprint)
    response = api.delete(f"/api/sprints/{sprint.pk}/")
    assert response.status_code == 409
    assert "1 task" in response.json()["detail"]
    assert Sprint.objects.filter(pk=sprint.pk).exists()


def test_missing_sprint_is_404(api: APIClient, db: None) -> None:
    assert api.get("/api/sprints/999/").status_code == 404
    assert api.get("/api/sprints/999/ticket/").status_code == 404


def test_list_filters_by_end_range(api: APIClient, make_sprint, results) -> None:
    s5, s10, s20 = make_sprint(5, "a"), make_sprint(10, "b"), make_sprint(20, "c")
    names = lambda query: [s["name"] for s in results(api.get(f"/api/sprints/?{query}"))]  # noqa: E731
    assert names("") == ["a", "b", "c"]
    assert names(f"end_min={s10.end}") == ["b", "c"]
    assert names(f"end_max={s10.end}") == ["a", "b"]
    assert names(f"end_min={s10.end}&end_max={s10.end}") == ["b"]
    assert names(f"end_min={s20.end + timedelta(days=1)}") == []
    assert api.get("/api/sprints/?end_min=tomorrow").status_code == 400
    del s5


def test_list_search_and_ordering(api: APIClient, make_sprint, results) -> None:
    make_sprint(5, "Alpha", description="login work")
    make_sprint(10, "Beta", description="payments")
    make_sprint(20, "Gamma login")
    names = lambda query: [s["name"] for s in results(api.get(f"/api/sprints/?{query}"))]  # noqa: E731
    assert names("search=login") == ["Alpha", "Gamma login"]
    assert names("search=PAY") == ["Beta"]
    assert names("ordering=-end") == ["Gamma login", "Beta", "Alpha"]
    assert names("ordering=-name") == ["Gamma login", "Beta", "Alpha"]


def test_list_pagination(api: APIClient, make_sprint) -> None:
    for day in range(1, 8):
        make_sprint(day, f"s{day}")
    page = api.get("/api/sprints/?page_size=3").json()
    assert page["count"] == 7
    assert page["previous"] is None
    assert [s["name"] for s in page["results"]] == ["s1", "s2", "s3"]
    assert page["next"].endswith("/api/sprints/?page=2&page_size=3")
    last = api.get("/api/sprints/?page_size=3&page=3").json()
    assert [s["name"] for s in last["results"]] == ["s7"]
    assert last["next"] is None
    assert api.get("/api/sprints/?page=9").status_code == 404


def test_sprint_detail_carries_a_signaling_ticket(
    api: APIClient, sprint: Sprint, user, settings
) -> None:
    settings.WATERCOOLER_SIGNALING_URL = "wss://live.example/ws"
    body = api.get(f"/api/sprints/{sprint.pk}/").json()
    signaling = body["links"].pop("signaling")
    assert body == sprint_json(sprint)
    assert signaling["url"] == "wss://live.example/ws"
    claims = jwt.decode(
        signaling["ticket"], SECRET, algorithms=["HS256"], audience="watercooler/signaling"
    )
    assert claims["sprint"] == str(sprint.pk)
    assert claims["sub"] == str(user.pk)
    assert claims["name"] == "Ada L"
    assert claims["exp"] - claims["iat"] == 300
    assert signaling["expires"].endswith("Z")


def test_sprint_list_never_carries_tickets(api: APIClient, sprint: Sprint, results) -> None:
    assert "signaling" not in results(api.get("/api/sprints/"))[0]["links"]


def test_fresh_ticket_endpoint(api: APIClient, sprint: Sprint, settings) -> None:
    settings.WATERCOOLER_TICKET_TTL = 60
    response = api.get(f"/api/sprints/{sprint.pk}/ticket/")
    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"url", "ticket", "expires"}
    assert body["url"] == "ws://127.0.0.1:8080/ws"
    claims = jwt.decode(
        body["ticket"], SECRET, algorithms=["HS256"], audience="watercooler/signaling"
    )
    assert claims["exp"] - claims["iat"] == 60
