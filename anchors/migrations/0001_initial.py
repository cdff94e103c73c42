"""Anchors, append-only: on PostgreSQL a trigger refuses UPDATE, DELETE and TRUNCATE on
anchors_anchor, whoever asks; on SQLite triggers refuse UPDATE and DELETE (it has no TRUNCATE)."""
from django.conf import settings
from django.db import migrations, models

from common.triggers import append_only


class Migration(migrations.Migration):
    initial = True

    dependencies = [
        ("ledger", "0004_backdating_and_recorded_time"),  # the head's recorded time
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name="Anchor",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("position", models.BigIntegerField(help_text="The head's position: the last event it attests.")),
                ("hash", models.CharField(help_text="The chain link of the event at ``position``.", max_length=64)),
                ("recorded_at", models.DateTimeField(help_text="When the event at ``position`` was recorded.")),
                ("anchored_at", models.DateTimeField(help_text="When the head was read and attested.")),
                ("source", models.CharField(choices=[("schedule", "the end-of-day schedule"), ("command", "manage.py anchor_ledger"), ("api", "a request in the API")], max_length=16)),
                ("signature", models.CharField(blank=True, help_text="Ed25519 signature of the signed message, base64; empty: unsigned.", max_length=88)),
                ("public_key", models.CharField(blank=True, help_text="The signing key's public half (32 bytes, base64); empty: unsigned.", max_length=44)),
                ("requested_by", models.ForeignKey(blank=True, help_text="The user who asked, for an anchor requested in the API.", null=True, on_delete=models.deletion.PROTECT, related_name="+", to=settings.AUTH_USER_MODEL)),
            ],
            options={
                "get_latest_by": "position",
                "constraints": [models.UniqueConstraint(fields=("position",), name="anchor_position_once")],
            },
        ),
        append_only("anchors_anchor", instead="an attested head is never changed"),
    ]
