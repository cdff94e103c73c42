"""A revoked token, a removed role or a deactivated user is refused by every gunicorn worker within
2 s, however it was revoked, in both ways to run on PostgreSQL.

Each test first has a clerk post through every one of the three workers (a new connection per
request; the access log tells which worker served it), so that each worker has authenticated the
token and may have remembered it. Then the clerk is revoked outside the web processes: by SQL, as
a DBA or another service would, or from ``manage.py shell``. From then on the clerk keeps posting;
after 2 s, every request (at least 30, on new connections, reaching every worker) must be refused.
"""
import time
from collections import Counter

import pytest

from .processes import MODES, PRODUCTION, Gunicorn

pytestmark = [pytest.mark.postgres, pytest.mark.reliability]

WITHIN = 2.0  # seconds
CHECKS = 30  # requests after WITHIN, all refused


def _remove_role_by_sql(stack, user, mode):
    stack.postgres.execute("DELETE FROM auth_user_groups WHERE user_id = %s", [user.id])


def _deactivate_by_queryset_update(stack, user, mode):
    stack.shell("from django.contrib.auth.models import User; "
                f"User.objects.filter(username={user.username!r}).update(is_active=False)", mode=mode)


def _delete_token_by_sql(stack, user, mode):
    stack.postgres.execute("DELETE FROM authtoken_token WHERE user_id = %s", [user.id])


def _remove_role_through_the_orm(stack, user, mode):
    """The way admin does it: ``user.groups.remove`` (Django's signals fire)."""
    stack.shell("from django.contrib.auth.models import Group, User; "
                f"User.objects.get(username={user.username!r}).groups.remove(Group.objects.get(name='clerk'))",
                mode=mode)


# way: (revoke, the status a refusal answers)
WAYS = {
    "role_removed_by_sql": (_remove_role_by_sql, 403),
    "deactivated_by_queryset_update": (_deactivate_by_queryset_update, 401),
    "token_deleted_by_sql": (_delete_token_by_sql, 401),
    "role_removed_through_the_orm": (_remove_role_through_the_orm, 403),
}


@pytest.mark.parametrize("way", list(WAYS))
@pytest.mark.parametrize("mode", MODES)
def test_revocation_reaches_every_worker_within_two_seconds(web, stack, record, mode, way):
    server = web(mode)
    catalog = server.new_catalog()
    clerk = stack.new_user("clerk")
    post = _poster(server, catalog, clerk)
    _post_through_every_worker(server, post, f"warm-{clerk.username}")

    revoke, refusal = WAYS[way]
    revoke(stack, clerk, mode)
    _assert_refused_everywhere(server, post, clerk, refusal, record, f"{way} ({mode})")


def test_revocation_reaches_every_worker_within_two_seconds_after_redis_is_flushed(web, stack, record):
    """Production mode: Redis loses everything (a flush, or a restart without persistence) while
    traffic goes on; a revocation after that still reaches every worker within 2 s.

    Both revocations go through the ORM (Django's signals fire), so that the first one reaches
    every worker however the processes share the news of a change. The second clerk posts through
    every worker after that, so that each remembers it as it stands before the flush."""
    server = web(PRODUCTION)
    catalog = server.new_catalog()
    first, second = stack.new_user("clerk"), stack.new_user("clerk")
    post_first, post_second = _poster(server, catalog, first), _poster(server, catalog, second)
    _post_through_every_worker(server, post_first, f"warm-{first.username}")
    _remove_role_through_the_orm(stack, first, PRODUCTION)
    _assert_refused_everywhere(server, post_first, first, 403, record, "first clerk, before the flush")
    _post_through_every_worker(server, post_second, f"warm-{second.username}")

    stack.redis.flushall()
    time.sleep(1.1)
    traffic = post_second("after-flush")  # traffic goes on: one posting, which one worker serves
    assert traffic.status == 201, f"the second clerk, not yet revoked, answered {traffic}"

    _remove_role_through_the_orm(stack, second, PRODUCTION)
    _assert_refused_everywhere(server, post_second, second, 403, record, "second clerk, after the flush")


def _poster(server, catalog, clerk):
    """One posting as ``clerk`` on a new connection, tagged for the access log."""
    def post(marker: str):
        return server.api.receipt(product=catalog["product"], location=catalog["locations"][0], quantity=1,
                                  token=clerk.token, marker=marker)
    return post


def _post_through_every_worker(server, post, marker: str) -> None:
    replies = server.warm(marker, lambda m: post(f"{m}-{len(server.api.sent)}"))
    refused = [str(reply) for reply in replies if reply.status != 201]
    assert not refused, f"the clerk could not post before any revocation: {refused}"


def _assert_refused_everywhere(server, post, clerk, refusal: int, record, what: str) -> None:
    """Keep posting as ``clerk`` (every 0.1 s) until ``WITHIN`` s after the revocation, then at least
    ``CHECKS`` more times, until every worker has answered: all of those must be refused."""
    revoked = time.monotonic()
    last_accepted = None
    while (elapsed := time.monotonic() - revoked) < WITHIN:
        if post(f"settle-{clerk.username}-{len(server.api.sent)}").status == 201:
            last_accepted = elapsed
        time.sleep(0.1)

    marker = f"check-{clerk.username}"
    replies = []
    while len(replies) < CHECKS or len(server.gunicorn.workers(marker)) < Gunicorn.WORKERS:
        if len(replies) >= 3 * CHECKS:
            break
        replies.append(post(f"{marker}-{len(replies)}"))
    time.sleep(0.1)  # the last access-log lines
    by_worker = Counter()
    for pid, _path, status in server.gunicorn.served(marker):
        by_worker[(pid, status)] += 1
    accepted = [reply for reply in replies if reply.ok]
    # A refused token (not a refused permission) counts against the client's address, and past
    # the throttle's rate is answered 429: refused by authentication all the same.
    refusals = {refusal, 429} if refusal == 401 else {refusal}
    odd = [reply for reply in replies if not reply.ok and reply.status not in refusals]
    record(
        f"{what}: last accepted {'never' if last_accepted is None else f'{last_accepted:.2f} s'} after the "
        f"revocation; after {WITHIN:.0f} s, {len(accepted)} of {len(replies)} accepted; "
        f"(worker, status): {dict(sorted(by_worker.items()))}"
    )
    assert len(server.gunicorn.workers(marker)) == Gunicorn.WORKERS, "the checks did not reach every worker"
    assert not accepted, (
        f"{what}: {len(accepted)} of {len(replies)} requests {WITHIN:.0f} s after the revocation were accepted; "
        f"first: {accepted[0]}; (worker, status): {dict(sorted(by_worker.items()))}"
    )
    assert not odd, f"{what}: refused otherwise than with {sorted(refusals)}: {[str(reply) for reply in odd]}"
