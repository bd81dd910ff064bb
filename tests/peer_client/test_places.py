"""Where a card is (peer_client.places): places and the board's API, columns people type."""

from __future__ import annotations

import pytest

from peer_client.places import Place, column_named, move_request, place_of_task


def test_places_map_to_the_move_api() -> None:
    assert move_request(Place("backlog", 2), 7) == {
        "sprint": None,
        "status": "not_started",
        "position": 2,
    }
    assert move_request(Place("testing", 0), 7) == {
        "sprint": 7,
        "status": "testing",
        "position": 0,
    }
    assert place_of_task({"sprint": None, "status": "not_started", "position": 1}, 7) == (
        Place("backlog", 1)
    )
    assert place_of_task({"sprint": 7, "status": "done", "position": 0}, 7) == Place("done", 0)
    assert place_of_task({"sprint": 8, "status": "done", "position": 0}, 7) is None


@pytest.mark.parametrize(
    ("text", "column"),
    [("In progress", "in_progress"), ("not-started", "not_started"), ("DONE", "done"), ("x", None)],
)
def test_column_names_people_type(text: str, column: str | None) -> None:
    assert column_named(text) == column
