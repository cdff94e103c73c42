from datetime import date, datetime, time, timedelta, timezone

import pytest

from forecasts.services import cutoff_of

TODAY = date.today()
CUTOFF = cutoff_of(TODAY)


def at(day: date, hour: int = 9) -> str:
    return datetime.combine(day, time(hour), tzinfo=timezone.utc).isoformat()


@pytest.fixture
def daily_issues(post, bins):
    """``daily_issues(product, received, per_day, weeks)``: ``received`` on the Monday ``weeks``
    weeks before the cut-off, then ``per_day`` issued every day until the cut-off."""

    def _post(product, received: str, per_day: str, weeks: int, location=None):
        location = location or bins[0]
        start = CUTOFF - timedelta(weeks=weeks)
        items = [{"kind": "receipt", "product": product.pk, "location": location.pk, "quantity": received,
                  "occurred_at": at(start, 6)}]
        items += [{"kind": "issue", "product": product.pk, "location": location.pk, "quantity": per_day,
                   "occurred_at": at(start + timedelta(days=day))} for day in range(weeks * 7)]
        return post(items)

    return _post
