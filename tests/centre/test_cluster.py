"""The fixture's PostgreSQL is a real server, reached over TCP with a password."""
from sqlalchemy import create_engine, text


def test_cluster_answers_over_tcp(postgres_url, postgres_cluster):
    engine = create_engine(postgres_url)
    with engine.connect() as connection:
        assert connection.execute(text("select current_database()")).scalar() == "centre"
        assert connection.execute(text("show server_version_num")).scalar().isdigit()
    engine.dispose()
    print(f"cluster started in {postgres_cluster.started_in:.2f} s")
