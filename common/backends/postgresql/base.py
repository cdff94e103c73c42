"""Django's PostgreSQL backend, with a health check of persistent connections that costs no
round trip, and a note of the statements each connection has prepared.

Connections are kept between requests (``CONN_MAX_AGE``). After a server restart every kept
connection is dead, and the first query on it would fail: Django's health check (``CONN_HEALTH_CHECKS``)
avoids that by checking a connection before its first use in a request, but its check is a
``SELECT 1``, one more round trip on every posting. An idle connection has nothing to read unless
the server closed it (its farewell message, or the end of the stream), so asking the socket
whether it is readable tells the same without a word to the server.
"""
import select

from django.db.backends.postgresql import base


class DatabaseWrapper(base.DatabaseWrapper):
    def is_usable(self) -> bool:
        if self.connection is None or self.connection.closed:
            return False
        try:
            readable, _, _ = select.select([self.connection.fileno()], [], [], 0)
        except (OSError, ValueError):  # the socket is gone already
            return False
        return not readable

    # Server-side prepared statements (see ledger.store) belong to a session: a new connection has none.
    _statements_named = 0

    def get_new_connection(self, conn_params):
        self.prepared_statements: dict[str, str] = {}  # by statement: the name it is prepared under
        return super().get_new_connection(conn_params)

    def next_statement_name(self, statement: str) -> str:
        """A name for preparing ``statement`` that no session of this connection has used yet (the
        count goes on across reconnections)."""
        self._statements_named += 1
        return f"{statement}_{self._statements_named}"
