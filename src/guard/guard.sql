-- src/guard/guard.sql — the guard's functions and event triggers (guard.c,
-- guard_cache.c, guard_attach.c, guard_prepare.c, ddl.c).

-- ---------------------------------------------------------------------------
-- The guard (src/guard.c, src/guard_attach.c, src/ddl.c)
-- ---------------------------------------------------------------------------
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
CREATE FUNCTION _noop_trigger() RETURNS trigger
    AS 'MODULE_PATHNAME', 'governance_noop_trigger' LANGUAGE C;
COMMENT ON FUNCTION _noop_trigger() IS 'a C trigger that does nothing: the baseline of test/bench';

CREATE FUNCTION _on_ddl_command_start() RETURNS event_trigger
    AS 'MODULE_PATHNAME', 'governance_on_ddl_command_start' LANGUAGE C;

CREATE FUNCTION _on_ddl_command_end() RETURNS event_trigger
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $fn$
DECLARE
    r record;
BEGIN
    FOR r IN SELECT c.objid, min(c.command_tag) AS command_tag FROM pg_event_trigger_ddl_commands() c
             WHERE c.classid = 'pg_catalog.pg_class'::regclass
               AND c.object_type IN ('table', 'table column')
             GROUP BY c.objid
    LOOP
        PERFORM @extschema@._sync_guards(r.objid, r.command_tag);
    END LOOP;
END
$fn$;

CREATE FUNCTION _on_sql_drop() RETURNS event_trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $fn$
DECLARE
    d record;
BEGIN
    FOR d IN SELECT * FROM pg_event_trigger_dropped_objects() LOOP
        IF d.object_type = 'trigger' AND d.original AND d.object_identity LIKE 'governance\_guard\_%'
           AND NOT @extschema@._is_admin() THEN
            RAISE EXCEPTION 'cannot drop guard trigger %', d.object_identity
                USING ERRCODE = 'insufficient_privilege',
                      DETAIL = 'pg_governance attaches its guard itself; only governance_admin may remove it.',
                      HINT = 'Untag the columns with governance.untag() to remove the guard.';
        END IF;
        IF d.object_type = 'table' AND d.objsubid = 0 THEN
            DELETE FROM @extschema@.hold h WHERE h.relation::oid = d.objid;
        END IF;
    END LOOP;
END
$fn$;

CREATE EVENT TRIGGER governance_ddl_command_start ON ddl_command_start
    EXECUTE FUNCTION _on_ddl_command_start();
CREATE EVENT TRIGGER governance_ddl_command_end ON ddl_command_end
    EXECUTE FUNCTION _on_ddl_command_end();
CREATE EVENT TRIGGER governance_sql_drop ON sql_drop
    EXECUTE FUNCTION _on_sql_drop();
