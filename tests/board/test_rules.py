"""The business rules as pure functions (no database)."""

from datetime import date, timedelta

import pytest

from board.scrum.rules import (
    DONE,
    IN_PROGRESS,
    NOT_STARTED,
    TESTING,
    TaskState,
    check_sprint_end,
    check_task,
    implied_dates,
)

TODAY = date(2030, 6, 15)
YESTERDAY = TODAY - timedelta(days=1)
LATER = TODAY + timedelta(days=7)


def state(sprint_id=1, end=LATER, status=NOT_STARTED, started=None, completed=None) -> TaskState:
    return TaskState(
        sprint_id=sprint_id,
        sprint_end=end if sprint_id else None,
        status=status,
        started=started,
        completed=completed,
    )


def test_sprint_end_in_the_past_is_refused_only_when_set() -> None:
    assert check_sprint_end(old_end=None, new_end=YESTERDAY, today=TODAY) == {
        "end": ["The end date can't be in the past (today is 2030-06-15)."]
    }
    assert check_sprint_end(old_end=None, new_end=TODAY, today=TODAY) == {}
    # An ended sprint keeps its end date when something else changes.
    assert check_sprint_end(old_end=YESTERDAY, new_end=YESTERDAY, today=TODAY) == {}
    assert "end" in check_sprint_end(old_end=LATER, new_end=YESTERDAY, today=TODAY)


def test_tasks_cannot_enter_a_past_sprint() -> None:
    past = state(sprint_id=2, end=YESTERDAY)
    assert "sprint" in check_task(before=None, after=past, today=TODAY)
    assert "sprint" in check_task(before=state(sprint_id=None), after=past, today=TODAY)
    # Work on a task already in an ended sprint goes on.
    moved_within = state(sprint_id=2, end=YESTERDAY, status=IN_PROGRESS, started=YESTERDAY)
    assert check_task(before=past, after=moved_within, today=TODAY) == {}


def test_a_done_task_cannot_change_sprint() -> None:
    done = state(status=DONE, started=TODAY, completed=TODAY)
    errors = check_task(before=done, after=state(sprint_id=3), today=TODAY)
    assert errors == {"sprint": ["A Done task can't change sprint."]}
    reopened = state(status=IN_PROGRESS, started=TODAY)
    assert check_task(before=done, after=reopened, today=TODAY) == {}


@pytest.mark.parametrize("status", [IN_PROGRESS, TESTING, DONE])
def test_a_backlog_task_is_not_started(status: str) -> None:
    after = state(
        sprint_id=None, status=status, started=TODAY, completed=TODAY if status == DONE else None
    )
    assert check_task(before=None, after=after, today=TODAY)["status"] == [
        "A backlog task (no sprint) must be Not Started."
    ]


def test_dates_must_match_the_status() -> None:
    errors = check_task(before=None, after=state(started=TODAY, completed=TODAY), today=TODAY)
    assert set(errors) == {"started", "completed"}
    errors = check_task(before=None, after=state(status=TESTING, completed=TODAY), today=TODAY)
    assert set(errors) == {"completed"}
    assert check_task(before=None, after=state(status=DONE, completed=TODAY), today=TODAY) == {}


@pytest.mark.parametrize(
    ("old", "new", "dates", "expected"),
    [
        (NOT_STARTED, IN_PROGRESS, (None, None), (TODAY, None)),
        (NOT_STARTED, TESTING, (None, None), (TODAY, None)),
        (IN_PROGRESS, TESTING, (YESTERDAY, None), (YESTERDAY, None)),
        (NOT_STARTED, DONE, (None, None), (TODAY, TODAY)),
        (TESTING, DONE, (YESTERDAY, None), (YESTERDAY, TODAY)),
        (DONE, TESTING, (YESTERDAY, YESTERDAY), (YESTERDAY, None)),
        (DONE, NOT_STARTED, (YESTERDAY, YESTERDAY), (None, None)),
        (IN_PROGRESS, NOT_STARTED, (YESTERDAY, None), (None, None)),
        (DONE, DONE, (YESTERDAY, YESTERDAY), (YESTERDAY, YESTERDAY)),
        (None, IN_PROGRESS, (None, None), (TODAY, None)),
    ],
)
def test_implied_dates(old, new, dates, expected) -> None:
    started, completed = dates
    assert (
        implied_dates(
            old_status=old, new_status=new, started=started, completed=completed, today=TODAY
        )
        == expected
    )
