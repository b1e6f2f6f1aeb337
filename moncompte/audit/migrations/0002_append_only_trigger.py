"""On PostgreSQL, the database itself refuses UPDATE and DELETE on the journal."""

from django.db import migrations

CREATE = """
CREATE OR REPLACE FUNCTION audit_journal_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'audit_journalentry is append-only';
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER audit_journal_append_only
    BEFORE UPDATE OR DELETE ON audit_journalentry
    FOR EACH ROW EXECUTE FUNCTION audit_journal_append_only();
"""

DROP = """
DROP TRIGGER IF EXISTS audit_journal_append_only ON audit_journalentry;
DROP FUNCTION IF EXISTS audit_journal_append_only();
"""


def create(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(CREATE)


def drop(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP)


class Migration(migrations.Migration):
    dependencies = [("audit", "0001_initial")]
    operations = [migrations.RunPython(create, drop)]
