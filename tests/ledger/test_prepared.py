"""A single posting's append is a statement each PostgreSQL session prepares once (ledger.store):
a session that is new, or whose round trip failed after preparing it, still posts."""
from datetime import timedelta

import pytest
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from ledger import store
from ledger.models import Movement

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True, serialized_rollback=True)]


def _prepared_appends() -> list[str]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT name FROM pg_prepared_statements WHERE name LIKE 'ledger_append_one%' ORDER BY name")
        return [name for (name,) in cursor.fetchall()]


def test_a_session_prepares_the_append_once_and_a_new_one_again(post, product, bins):
    first = post(kind="receipt", product=product.pk, location=bins[0].pk, quantity="5")
    post(kind="issue", product=product.pk, location=bins[0].pk, quantity="1")
    assert len(_prepared_appends()) == 1
    connection.close()  # as after the server closed it: the next request connects afresh
    third = post(kind="issue", product=product.pk, location=bins[0].pk, quantity="1")
    assert len(_prepared_appends()) == 1
    assert (third.position, third.balance_after) == (first.position + 2, 3)


def test_a_round_trip_failing_after_it_prepared_the_append_leaves_the_session_posting(post, product, bins):
    first = post(kind="receipt", product=product.pk, location=bins[0].pk, quantity="5", key="first")
    connection.close()
    # On the fresh session, an append whose key is taken: its round trip prepares the statement,
    # then fails on the key (a retry racing its original), and is rolled back.
    row = {f.attname: getattr(first, f.attname) for f in Movement._meta.concrete_fields}
    row["occurred_at"] = first.occurred_at + timedelta(seconds=1)
    with pytest.raises(IntegrityError), transaction.atomic():
        store.append_chained([row], {}, timezone.now())
    assert len(_prepared_appends()) == 1
    second = post(kind="issue", product=product.pk, location=bins[0].pk, quantity="2", key="second")
    assert (second.position, second.balance_after) == (first.position + 1, 3)
    assert len(_prepared_appends()) == 2  # prepared again under a name of its own
