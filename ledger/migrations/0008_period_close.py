"""Period closes: the append-only record of closing (and reopening) the books, and the head's copy
of the latest close's cutoff, which every posting reads under the head's lock (``ledger.closes``).

Triggers refuse UPDATE and DELETE on ledger_periodclose (and TRUNCATE on PostgreSQL:
``common.triggers.append_only``). On both databases, the head's ``closed_before`` can change only
to the latest close's, so the books cannot be opened by editing the head. Any change to the table moves the
``period_close`` generation on, so each process drops the close it remembers within a second.
"""
import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

from common import triggers
from common.triggers import by_vendor

POSTGRES_HEAD_CREATE = [
    """
CREATE FUNCTION ledger_head_refuse_unrecorded_close() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.closed_before IS DISTINCT FROM
       (SELECT closed_before FROM ledger_periodclose ORDER BY sequence DESC LIMIT 1) THEN
        RAISE EXCEPTION 'ledger_ledgerhead.closed_before follows the latest period close; close or reopen the period instead'
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    RETURN NEW;
END
$$;
CREATE TRIGGER ledger_head_closed_before_recorded
    BEFORE UPDATE OF closed_before ON ledger_ledgerhead
    FOR EACH ROW WHEN (OLD.closed_before IS DISTINCT FROM NEW.closed_before)
    EXECUTE FUNCTION ledger_head_refuse_unrecorded_close();
"""
]
POSTGRES_HEAD_DROP = [
    """
DROP TRIGGER ledger_head_closed_before_recorded ON ledger_ledgerhead;
DROP FUNCTION ledger_head_refuse_unrecorded_close();
"""
]
SQLITE_HEAD_CREATE = [
    """CREATE TRIGGER ledger_head_closed_before_recorded BEFORE UPDATE OF closed_before ON ledger_ledgerhead
       FOR EACH ROW WHEN NEW.closed_before IS NOT OLD.closed_before
            AND NEW.closed_before IS NOT (SELECT closed_before FROM ledger_periodclose ORDER BY sequence DESC LIMIT 1)
       BEGIN SELECT RAISE(ABORT, 'ledger_ledgerhead.closed_before follows the latest period close; close or reopen the period instead'); END""",
]
SQLITE_HEAD_DROP = ["DROP TRIGGER ledger_head_closed_before_recorded"]


def create_counter(apps, schema_editor):
    apps.get_model("common", "Generation").objects.get_or_create(name="period_close")


class Migration(migrations.Migration):

    dependencies = [
        ('ledger', '0007_chain_check_permissions'),
        ('common', '0001_initial'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AddField(
            model_name='ledgerhead',
            name='closed_before',
            field=models.DateTimeField(blank=True, help_text="No movement may be dated before this (the latest period close's); kept here because every posting locks this row last, so it reads the value a close committed (see ``ledger.closes``).", null=True),
        ),
        migrations.CreateModel(
            name='PeriodClose',
            fields=[
                ('sequence', models.BigIntegerField(editable=False, help_text='Gap-free order of the closes, from 1.', primary_key=True, serialize=False)),
                ('action', models.CharField(choices=[('close', 'close'), ('reopen', 'reopen')], max_length=8)),
                ('through', models.DateField(help_text='The books are closed through this business date, inclusive, after this row.')),
                ('closed_before', models.DateTimeField(help_text="The start of the day after ``through``, in the books' time zone.")),
                ('head_position', models.BigIntegerField(help_text="The ledger's head when this was recorded.")),
                ('head_hash', models.CharField(help_text="The ledger's chain link at ``head_position``.", max_length=64)),
                ('recorded_at', models.DateTimeField()),
                ('reason', models.TextField()),
                ('hash', models.CharField(help_text="SHA-256 chain link over this row and the previous close's link.", max_length=64)),
                ('user', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='period_closes', to=settings.AUTH_USER_MODEL)),
            ],
            options={
                'ordering': ['sequence'],
                'permissions': [('close_period', 'Can close the books through a date'), ('reopen_period', "Can reopen a closed period (never one's own close)")],
                'constraints': [models.CheckConstraint(condition=models.Q(('action__in', ['close', 'reopen'])), name='periodclose_action_known'), models.CheckConstraint(condition=models.Q(('reason', ''), _negated=True), name='periodclose_reason_given')],
            },
        ),
        triggers.append_only("ledger_periodclose", instead="reopen with a new row instead"),
        by_vendor(
            create={"postgresql": POSTGRES_HEAD_CREATE, "sqlite": SQLITE_HEAD_CREATE},
            drop={"postgresql": POSTGRES_HEAD_DROP, "sqlite": SQLITE_HEAD_DROP},
        ),
        migrations.RunPython(create_counter, migrations.RunPython.noop),
        triggers.generation_triggers("period_close", {"ledger_periodclose": ()}),
    ]
