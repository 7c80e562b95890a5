-- src/guard/guard.sql — the guard's functions and event triggers (guard.c,
-- guard_cache.c, guard_attach.c, guard_validate.c, guard_drop.c,
-- guard_prepare.c, ddl.c).  Drops are decided by an object access hook
-- (guard_drop.c) and followed up at ddl_command_end: no sql_drop trigger.

-- ---------------------------------------------------------------------------
-- The guard (src/guard/)
-- ---------------------------------------------------------------------------
-- The CHECK constraint of governed tables.  The one internal function that
-- PUBLIC may execute: a CHECK constraint runs with the rights of whoever
-- writes the table.  Called directly, it refuses a caller that may not
-- write the table (guard.c, guard_row_check_caller).
CREATE FUNCTION _guard_row(oid, VARIADIC "any") RETURNS boolean
    AS 'MODULE_PATHNAME', 'governance_guard_row' LANGUAGE C STABLE;
COMMENT ON FUNCTION _guard_row(oid, "any") IS 'CHECK constraint of governed tables: never-store and localization';
-- a governed table whose tagged columns are all anchors or subjects: only the
-- storage region (tablespace, database) is checked
CREATE FUNCTION _guard_row(oid) RETURNS boolean
    AS 'MODULE_PATHNAME', 'governance_guard_row' LANGUAGE C STABLE;
COMMENT ON FUNCTION _guard_row(oid) IS 'CHECK constraint of governed tables without row-checked columns: storage region';
CREATE FUNCTION _guard_delete() RETURNS trigger
    AS 'MODULE_PATHNAME', 'governance_guard_delete' LANGUAGE C;
CREATE FUNCTION _guard_update() RETURNS trigger
    AS 'MODULE_PATHNAME', 'governance_guard_update' LANGUAGE C;
CREATE FUNCTION _guard_truncate() RETURNS trigger
    AS 'MODULE_PATHNAME', 'governance_guard_truncate' LANGUAGE C;
-- the row check on logical replication apply (guard.c, governance_guard_write)
CREATE FUNCTION _guard_write() RETURNS trigger
    AS 'MODULE_PATHNAME', 'governance_guard_write' LANGUAGE C;
CREATE FUNCTION _noop_trigger() RETURNS trigger
    AS 'MODULE_PATHNAME', 'governance_noop_trigger' LANGUAGE C;
COMMENT ON FUNCTION _noop_trigger() IS 'a C trigger that does nothing: the baseline of test/bench';

CREATE FUNCTION _on_ddl_command_start() RETURNS event_trigger
    AS 'MODULE_PATHNAME', 'governance_on_ddl_command_start' LANGUAGE C;
CREATE FUNCTION _on_ddl_command_end() RETURNS event_trigger
    AS 'MODULE_PATHNAME', 'governance_on_ddl_command_end' LANGUAGE C;

-- Trigger and event trigger functions are not checked for EXECUTE when they
-- fire; nobody needs to call them.
REVOKE ALL ON FUNCTION _guard_delete(), _guard_update(), _guard_truncate(), _guard_write(), _noop_trigger(),
    _on_ddl_command_start(), _on_ddl_command_end() FROM PUBLIC;

CREATE EVENT TRIGGER governance_ddl_command_start ON ddl_command_start
    EXECUTE FUNCTION _on_ddl_command_start();
CREATE EVENT TRIGGER governance_ddl_command_end ON ddl_command_end
    EXECUTE FUNCTION _on_ddl_command_end();
