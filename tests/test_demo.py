import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.contrib.auth.models import User
from django.core.management import CommandError, call_command

from demo.management.commands.seed_demo import REFUSED_IN_PRODUCTION
from ledger.models import Movement
from ledger.verification import ledger_verify

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parents[1]


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
    assert set(User.objects.filter(is_staff=True, is_superuser=False).values_list("username", flat=True)) == {"auditor", "manager"}
    assert Movement.objects.count() == 9
    assert ledger_verify().intact


def test_seed_demo_refuses_production_mode_and_writes_nothing(tmp_path):
    database = tmp_path / "production.sqlite3"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "WMS_"))}
    env.update(DATABASE_URL=f"sqlite:///{database}", CELERY_BROKER_URL="redis://127.0.0.1:6379/0",
               DJANGO_SECRET_KEY="s3cret", DJANGO_SETTINGS_MODULE="wms.settings")
    result = subprocess.run([sys.executable, "manage.py", "seed_demo"], cwd=ROOT, env=env,
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 1
    assert REFUSED_IN_PRODUCTION in result.stderr
    assert "demo-pass" not in result.stdout
    assert not database.exists()  # not even connected


def test_seed_demo_in_production_mode_leaves_the_database_alone(settings):
    settings.PRODUCTION = True
    with pytest.raises(CommandError, match="refuses to run in production mode"):
        call_command("seed_demo")
    assert not User.objects.exists()
