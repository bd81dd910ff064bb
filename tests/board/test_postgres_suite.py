"""``tools.postgres_suite``: which database it picks, and that a bad DATABASE_URL fails loudly."""

import pytest

from tools import postgres_suite


def test_a_non_postgres_database_url_fails(monkeypatch, capsys) -> None:
    monkeypatch.setenv("DATABASE_URL", "sqlite:///x.db")
    assert postgres_suite.main([]) == 2
    assert "not a PostgreSQL URL" in capsys.readouterr().err


def test_an_unreachable_database_url_fails(monkeypatch, capsys) -> None:
    monkeypatch.setenv("DATABASE_URL", "postgres://postgres@127.0.0.1:1/none")
    assert postgres_suite.main([]) == 2
    assert "does not answer" in capsys.readouterr().err


@pytest.mark.parametrize("ci", ["true", ""])
def test_without_database_url_the_local_server_is_tried(monkeypatch, ci: str) -> None:
    monkeypatch.delenv("DATABASE_URL", raising=False)
    monkeypatch.setenv("CI", ci)
    monkeypatch.setattr(postgres_suite, "LOCAL_URL", "postgres://postgres@127.0.0.1:1/none")
    url, code = postgres_suite.choose_database()
    assert url is None
    assert code == (1 if ci else 0)
