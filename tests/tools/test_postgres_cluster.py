"""``tools.postgres_cluster``: a private PostgreSQL that answers queries, then leaves nothing."""

import os

import psycopg
import pytest

from tools.postgres_cluster import PostgresCluster


def test_a_private_cluster_answers_on_loopback_and_is_removed_when_stopped() -> None:
    cluster = PostgresCluster()
    with cluster:
        assert cluster.directory is not None
        directory = cluster.directory
        if os.geteuid() == 0:  # initdb refuses root: the server runs as another account
            assert directory.stat().st_uid != 0
        with psycopg.connect(cluster.url) as connection:
            connection.execute("CREATE TABLE t (n integer)")
            connection.execute("INSERT INTO t VALUES (1), (2)")
            assert connection.execute("SELECT sum(n) FROM t").fetchone() == (3,)
            assert connection.execute("SHOW listen_addresses").fetchone() == ("127.0.0.1",)
    assert not directory.exists()
    with pytest.raises(psycopg.OperationalError):
        psycopg.connect(cluster.url, connect_timeout=2).close()
