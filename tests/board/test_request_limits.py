"""Requests the API refuses for their shape, before any view looks at them: JSON nested too deeply,
bodies over the size limit, and paths whose id is not plain digits.

Each is a 4xx answer in JSON that says what was wrong, never a 500.
"""

from __future__ import annotations

import logging
from urllib.parse import quote

import pytest
from django.conf import settings as django_settings
from django.test import Client
from rest_framework.test import APIClient

LIMIT = django_settings.DATA_UPLOAD_MAX_MEMORY_SIZE

DEEP = [b"[" * 100_000, b'{"a":' * 100_000, b"[" * 5_000 + b"]" * 5_000]


@pytest.mark.parametrize("body", DEEP, ids=["arrays", "objects", "closed"])
def test_deeply_nested_json_is_refused_anonymously(anon: APIClient, body: bytes) -> None:
    response = anon.post("/api/token/", body, content_type="application/json")
    assert response.status_code == 400, response.content[:300]
    assert response.json() == {"detail": "JSON nested too deeply."}


def test_deeply_nested_json_is_refused_everywhere(api: APIClient, sprint, make_task) -> None:
    task = make_task("t", sprint=sprint)
    for method, path in [
        ("POST", "/api/tasks/"),
        ("POST", "/api/sprints/"),
        ("PATCH", f"/api/sprints/{sprint.pk}/"),
        ("PUT", f"/api/tasks/{task.pk}/"),
        ("POST", f"/api/tasks/{task.pk}/move/"),
    ]:
        response = api.generic(method, path, DEEP[0], content_type="application/json")
        assert response.status_code == 400, (path, response.content[:300])
        assert response.json() == {"detail": "JSON nested too deeply."}


def test_json_nested_a_little_is_fine(api: APIClient) -> None:
    body = b'{"name": "deep", "description": "x", "extra": ' + b"[" * 50 + b"]" * 50 + b"}"
    response = api.post("/api/tasks/", body, content_type="application/json")
    assert response.status_code == 201, response.content


def over_the_limit(kind: str) -> tuple[bytes, str]:
    filler = b"a" * (LIMIT + 1)
    if kind == "json":
        return b'{"name": "big", "description": "' + filler + b'"}', "application/json"
    return b"name=big&description=" + filler, "application/x-www-form-urlencoded"


@pytest.mark.parametrize("kind", ["json", "form"])
def test_a_body_over_the_limit_is_a_json_400_naming_it(
    api: APIClient, kind: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    body, content_type = over_the_limit(kind)
    response = api.post("/api/tasks/", body, content_type=content_type)
    assert response.status_code == 400, response.content[:300]
    assert response.json() == {
        "detail": f"The request body is larger than the limit of {LIMIT} bytes.",
        "limit_bytes": LIMIT,
    }
    records = [r for r in caplog.records if r.levelno >= logging.WARNING]
    assert [(r.levelname, r.exc_info, r.getMessage()) for r in records] == [
        (
            "WARNING",
            None,
            f"request body of {len(body)} bytes refused: over the limit of {LIMIT} bytes",
        )
    ]


def test_a_page_refuses_a_body_over_the_limit_the_same_way(
    user, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    body, content_type = over_the_limit("form")
    response = Client().post("/login/", body, content_type=content_type)
    assert response.status_code == 400
    assert response["Content-Type"].startswith("text/plain")
    assert str(LIMIT) in response.content.decode()
    assert [r.levelname for r in caplog.records if r.levelno >= logging.WARNING] == ["WARNING"]


def test_a_body_at_the_limit_is_read(api: APIClient) -> None:
    body = b'{"name": "ok", "description": "x", "pad": "' + b" " * (LIMIT - 60) + b'"}'
    assert len(body) <= LIMIT
    response = api.post("/api/tasks/", body, content_type="application/json")
    assert response.status_code == 201, response.content[:300]


@pytest.mark.parametrize("suffix", ["%0A", "%20", "%0D", "%E2%80%8B", "x"])
def test_an_id_in_a_path_is_plain_digits(api: APIClient, make_task, suffix: str) -> None:
    task = make_task("t")
    assert api.get(f"/api/tasks/{task.pk}/").status_code == 200
    response = api.get(f"/api/tasks/{task.pk}{suffix}/")
    assert response.status_code == 404, response.status_code
    move = {"sprint": None, "status": "not_started", "position": 0, "version": 1}
    response = api.post(f"/api/tasks/{task.pk}{suffix}/move/", move)
    assert response.status_code == 404, response.status_code


@pytest.mark.parametrize("zero", [0xFF10, 0x0660, 0x06F0], ids=["fullwidth", "arabic", "persian"])
def test_an_id_of_non_ascii_digits_is_not_found(api: APIClient, sprint, make_task, zero) -> None:
    task = make_task("t", sprint=sprint)
    for path, pk in (("tasks", task.pk), ("sprints", sprint.pk)):
        digits = "".join(chr(zero + int(d)) for d in str(pk))
        response = api.get(f"/api/{path}/{quote(digits)}/")
        assert response.status_code == 404, (path, digits, response.status_code)
