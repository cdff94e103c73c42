"""The ledger head's one row, and database triggers that make the movement table append-only.

On PostgreSQL a trigger refuses UPDATE, DELETE and TRUNCATE on ledger_movement, whoever asks;
on SQLite triggers refuse UPDATE and DELETE (it has no TRUNCATE).
"""
from django.db import migrations

GENESIS = "0" * 64

POSTGRES_CREATE = """
CREATE FUNCTION ledger_movement_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'ledger_movement is append-only: % refused; post a reversal instead', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END
$$;
CREATE TRIGGER ledger_movement_no_update_or_delete
    BEFORE UPDATE OR DELETE ON ledger_movement
    FOR EACH ROW EXECUTE FUNCTION ledger_movement_refuse_change();
CREATE TRIGGER ledger_movement_no_truncate
    BEFORE TRUNCATE ON ledger_movement
    FOR EACH STATEMENT EXECUTE FUNCTION ledger_movement_refuse_change();
"""
POSTGRES_DROP = """
DROP TRIGGER ledger_movement_no_truncate ON ledger_movement;
DROP TRIGGER ledger_movement_no_update_or_delete ON ledger_movement;
DROP FUNCTION ledger_movement_refuse_change();
"""
SQLITE_CREATE = [
    """CREATE TRIGGER ledger_movement_no_update BEFORE UPDATE ON ledger_movement
       BEGIN SELECT RAISE(ABORT, 'ledger_movement is append-only: UPDATE refused; post a reversal instead'); END""",
    """CREATE TRIGGER ledger_movement_no_delete BEFORE DELETE ON ledger_movement
       BEGIN SELECT RAISE(ABORT, 'ledger_movement is append-only: DELETE refused; post a reversal instead'); END""",
]
SQLITE_DROP = ["DROP TRIGGER ledger_movement_no_update", "DROP TRIGGER ledger_movement_no_delete"]


def create_triggers(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(POSTGRES_CREATE, params=None)
    elif schema_editor.connection.vendor == "sqlite":
        for statement in SQLITE_CREATE:
            schema_editor.execute(statement)


def drop_triggers(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(POSTGRES_DROP, params=None)
    elif schema_editor.connection.vendor == "sqlite":
        for statement in SQLITE_DROP:
            schema_editor.execute(statement)


def create_head(apps, schema_editor):
    apps.get_model("ledger", "LedgerHead").objects.create(id=1, position=0, hash=GENESIS)


def delete_head(apps, schema_editor):
    apps.get_model("ledger", "LedgerHead").objects.all().delete()


class Migration(migrations.Migration):
    dependencies = [("ledger", "0001_initial")]
    operations = [
        migrations.RunPython(create_head, delete_head),
        migrations.RunPython(create_triggers, drop_triggers),
    ]
