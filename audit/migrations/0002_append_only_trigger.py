"""PostgreSQL refuses any change to audit events but their one-time sealing.

UPDATE is allowed only on an unsealed row and only to set seq, prev_hash and hash. DELETE and
TRUNCATE are refused unless the session set ``warden.audit_maintenance = 'on'``: the retention
purge does so inside its own transaction (and the test suite for its flushes). On SQLite the
model refuses updates and deletes instead.
"""

from django.db import migrations

TABLE = "audit_auditevent"

INSTALL = f"""
CREATE OR REPLACE FUNCTION warden_audit_guard() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'UPDATE' THEN
        IF OLD.hash = '' AND NEW.hash <> ''
           AND (to_jsonb(NEW) - 'seq' - 'prev_hash' - 'hash') = (to_jsonb(OLD) - 'seq' - 'prev_hash' - 'hash') THEN
            RETURN NEW;
        END IF;
        RAISE EXCEPTION 'audit events are append-only: UPDATE refused' USING ERRCODE = 'insufficient_privilege';
    END IF;
    IF coalesce(current_setting('warden.audit_maintenance', true), '') = 'on' THEN
        RETURN CASE WHEN TG_OP = 'DELETE' THEN OLD ELSE NULL END;
    END IF;
    RAISE EXCEPTION 'audit events are append-only: % refused', TG_OP USING ERRCODE = 'insufficient_privilege';
END;
$$;
CREATE TRIGGER warden_audit_no_update_delete BEFORE UPDATE OR DELETE ON {TABLE}
    FOR EACH ROW EXECUTE FUNCTION warden_audit_guard();
CREATE TRIGGER warden_audit_no_truncate BEFORE TRUNCATE ON {TABLE}
    FOR EACH STATEMENT EXECUTE FUNCTION warden_audit_guard();
"""

REMOVE = f"""
DROP TRIGGER IF EXISTS warden_audit_no_truncate ON {TABLE};
DROP TRIGGER IF EXISTS warden_audit_no_update_delete ON {TABLE};
DROP FUNCTION IF EXISTS warden_audit_guard();
"""


def install(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        with schema_editor.connection.cursor() as cursor:  # no parameters: the SQL keeps its own '%'
            cursor.execute(INSTALL)


def remove(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        with schema_editor.connection.cursor() as cursor:
            cursor.execute(REMOVE)


class Migration(migrations.Migration):
    dependencies = [("audit", "0001_initial")]
    operations = [migrations.RunPython(install, remove)]
