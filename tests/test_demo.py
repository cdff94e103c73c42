import pytest
from django.contrib.auth.models import User
from django.core.management import call_command

from ledger.models import Movement
from ledger.verification import ledger_verify

pytestmark = pytest.mark.django_db


def test_seed_demo_creates_one_user_per_role_and_a_first_day_and_can_run_again(capsys):
    call_command("seed_demo")
    call_command("seed_demo")
    out = capsys.readouterr().out
    for role in ("clerk", "auditor", "finance", "manager"):
        user = User.objects.get(username=role)
        assert list(user.groups.values_list("name", flat=True)) == [role]
        assert user.check_password(f"{role}-demo-pass")
        assert f"{role}-demo-pass" in out
    assert User.objects.get(username="admin").is_superuser
    assert Movement.objects.count() == 9
    assert ledger_verify().intact
