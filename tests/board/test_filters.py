"""Id filters of the task list answer 400 naming the parameter for anything that is not an id.

The board suite also runs on PostgreSQL (``make test-postgres``), so these hold on both databases:
SQLite cannot bind an integer of 2**63 or more, PostgreSQL's bigint ends there too.
"""

from __future__ import annotations

import pytest

from board.scrum.filters import MAX_ID

OUT_OF_RANGE = [str(MAX_ID + 1), str(2**64), str(-(2**63) - 1), "0", "-1", "1e30", "1.5", "x"]


@pytest.mark.parametrize("parameter", ["sprint", "assignee"])
@pytest.mark.parametrize("value", OUT_OF_RANGE)
def test_an_id_filter_out_of_range_answers_400_naming_it(api, parameter, value) -> None:
    response = api.get("/api/tasks/", {parameter: value})
    assert response.status_code == 400, response.content
    assert response.json() == {parameter: [f"Not an id: ids are whole numbers from 1 to {MAX_ID}."]}


@pytest.mark.parametrize("parameter", ["sprint", "assignee"])
def test_the_largest_id_is_a_valid_filter(api, parameter) -> None:
    response = api.get("/api/tasks/", {parameter: str(MAX_ID)})
    assert response.status_code == 200, response.content
    assert response.json()["count"] == 0


def test_id_filters_still_select(api, results, sprint, make_task, user) -> None:
    make_task("mine", sprint=sprint, assignee=user)
    make_task("elsewhere")
    assert [t["name"] for t in results(api.get("/api/tasks/", {"sprint": sprint.pk}))] == ["mine"]
    assert [t["name"] for t in results(api.get("/api/tasks/", {"assignee": user.pk}))] == ["mine"]


FULLWIDTH_12 = "\uff11\uff12"
ARABIC_INDIC_3 = "\u0663"
NOT_DIGITS = ["", " 1", "1 ", "+1", FULLWIDTH_12, ARABIC_INDIC_3, "1\n", "1_0"]


@pytest.mark.parametrize("parameter", ["sprint", "assignee"])
@pytest.mark.parametrize("value", NOT_DIGITS)
def test_an_id_filter_takes_ascii_digits_only(api, sprint, user, parameter, value) -> None:
    """Python's int() would read all of these; an empty one would be no filter at all."""
    response = api.get("/api/tasks/", {parameter: value})
    assert response.status_code == 400, response.content
    assert response.json() == {parameter: [f"Not an id: ids are whole numbers from 1 to {MAX_ID}."]}


@pytest.mark.parametrize("endpoint", ["tasks", "sprints", "users"])
@pytest.mark.parametrize("value", ["\x00", "a\x00b"])
def test_a_search_with_a_null_character_is_refused_naming_the_parameter(api, endpoint, value):
    response = api.get(f"/api/{endpoint}/", {"search": value})
    assert response.status_code == 400, response.content
    assert response.json() == {"search": ["Null characters are not allowed."]}
