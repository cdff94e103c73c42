"""Exit 0 if the PostgreSQL server of the given URL answers, 1 otherwise (used by `make test`)."""
import sys

import dj_database_url
import psycopg2


def main(url: str) -> int:
    settings = dj_database_url.parse(url)
    try:
        psycopg2.connect(
            dbname="postgres",
            user=settings["USER"],
            password=settings["PASSWORD"],
            host=settings["HOST"],
            port=settings["PORT"] or 5432,
            connect_timeout=3,
        ).close()
    except psycopg2.OperationalError:
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
