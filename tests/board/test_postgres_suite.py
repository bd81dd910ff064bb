"""``tools.postgres_suite``: which database it picks, and that a bad DATABASE_URL fails loudly."""

import psycopg
import pytest

from tools import postgres_cluster, postgres_suite

UNREACHABLE = "postgres://postgres@127.0.0.1:1/none"


def test_a_non_postgres_database_url_fails(monkeypatch, capsys) -> None:
    monkeypatch.setenv("DATABASE_URL", "sqlite:///x.db")
    assert postgres_suite.main([]) == 2
    assert "not a PostgreSQL URL" in capsys.readouterr().err


def test_an_unreachable_database_url_fails(monkeypatch, capsys) -> None:
    monkeypatch.setenv("DATABASE_URL", UNREACHABLE)
    assert postgres_suite.main([]) == 2
    assert "does not answer" in capsys.readouterr().err


def test_without_database_url_or_local_server_a_private_cluster_is_used(monkeypatch) -> None:
    monkeypatch.delenv("DATABASE_URL", raising=False)
    monkeypatch.setattr(postgres_suite, "LOCAL_URL", UNREACHABLE)
    with postgres_suite.chosen_database() as url:
        assert url != UNREACHABLE
        with psycopg.connect(url) as connection:
            assert connection.execute("SELECT 6 * 7").fetchone() == (42,)
    assert postgres_suite.reachable(url) is not None, "the private cluster is stopped afterwards"


@pytest.mark.parametrize("ci", ["true", ""])
def test_without_the_server_programs_ci_fails_and_a_developer_is_told(
    monkeypatch, capsys, tmp_path, ci: str
) -> None:
    monkeypatch.delenv("DATABASE_URL", raising=False)
    monkeypatch.setenv("CI", ci)
    monkeypatch.setenv("PATH", str(tmp_path))
    monkeypatch.setattr(postgres_suite, "LOCAL_URL", UNREACHABLE)
    monkeypatch.setattr(postgres_cluster, "BINDIR_PATTERN", str(tmp_path / "*" / "bin"))
    assert postgres_suite.main([]) == (1 if ci else 0)
    output = capsys.readouterr()
    assert "apt-get install postgresql" in (output.err if ci else output.out)
