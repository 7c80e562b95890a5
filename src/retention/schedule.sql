-- src/retention/schedule.sql — scheduling retention runs with pg_cron (spec section 7).
--
-- governance.schedule_retention(cron) schedules the constant command
-- CALL governance.run_retention() as the pg_cron job named
-- 'pg_governance_retention'; governance.unschedule_retention() removes it.
--
-- pg_cron is optional: nothing here names its objects at CREATE FUNCTION time
-- (every call into schema cron goes through EXECUTE), so the extension
-- installs, and these functions exist, whether or not pg_cron does.  Called in
-- a database without pg_cron they fail with SQLSTATE 55000
-- (object_not_in_prerequisite_state: the feature is supported, a prerequisite
-- is missing) and a hint saying how to install it.
--
-- SECURITY INVOKER, on purpose: pg_cron runs a job as the role that scheduled
-- it (cron.job.username = current_user at cron.schedule time), and
-- run_retention is a procedure that commits between batches, so it cannot be
-- SECURITY DEFINER itself.  Scheduled by the calling governance_admin member,
-- the job runs as that member, who may run retention; a SECURITY DEFINER
-- wrapper would instead schedule the job as this function's owner (the
-- superuser who created the extension).  The caller needs USAGE on schema
-- cron (pg_cron does not grant it to PUBLIC; a superuser grants it) and, when
-- pg_cron connects over libpq (the default), a way to log in as that role.
--
-- pg_cron keys named jobs by (job name, user): scheduling again replaces the
-- schedule of the caller's job and keeps its id; unschedule_retention removes
-- the caller's job only.

CREATE FUNCTION schedule_retention(cron text) RETURNS bigint
LANGUAGE plpgsql VOLATILE SECURITY INVOKER SET search_path = pg_catalog, pg_temp AS $fn$
DECLARE
    -- constants: never built from the argument, which pg_cron receives as a parameter
    job_name constant text := 'pg_governance_retention';
    job_command constant text := 'CALL @extschema@.run_retention()';
    job_id bigint;
    cron_db text;
    server_says text;
BEGIN
    IF cron IS NULL THEN
        RAISE EXCEPTION 'a cron schedule is required'
            USING ERRCODE = 'null_value_not_allowed', DETAIL = 'Nothing was scheduled.',
                  HINT = 'Give a cron expression such as ''0 3 * * *'' (every day at 03:00; pg_cron reads it in GMT).';
    END IF;
    IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_extension e WHERE e.extname OPERATOR(pg_catalog.=) 'pg_cron') THEN
        -- what the server says of pg_cron: cron.database_name exists once pg_cron is
        -- preloaded, and only superusers (and pg_read_all_settings) may read it
        BEGIN
            cron_db := pg_catalog.current_setting('cron.database_name', true);
            server_says := CASE WHEN cron_db IS NULL
                THEN ', and the server has not loaded pg_cron (shared_preload_libraries).'
                ELSE pg_catalog.format(' (the server runs pg_cron jobs from database "%s", its cron.database_name).', cron_db) END;
        EXCEPTION WHEN insufficient_privilege THEN
            server_says := '.';
        END;
        RAISE EXCEPTION 'pg_cron is not installed in database "%"', pg_catalog.current_database()
            USING ERRCODE = 'object_not_in_prerequisite_state',
                  DETAIL = 'governance.schedule_retention() schedules CALL governance.run_retention() as a pg_cron job; '
                           'no extension pg_cron exists in this database' OPERATOR(pg_catalog.||) server_says,
                  HINT = pg_catalog.format(
                      'Install the package postgresql-15-cron, add pg_cron to shared_preload_libraries '
                      'and set cron.database_name = ''%s'' in postgresql.conf, restart the server, then run '
                      'CREATE EXTENSION pg_cron in this database. Without pg_cron, have another scheduler '
                      'run CALL governance.run_retention().', pg_catalog.current_database());
    END IF;
    IF NOT pg_catalog.has_schema_privilege('cron', 'USAGE') THEN
        RAISE EXCEPTION 'permission denied for schema cron'
            USING ERRCODE = 'insufficient_privilege',
                  DETAIL = 'pg_cron runs a job as the role that schedules it, which needs USAGE on schema cron.',
                  HINT = pg_catalog.format('A superuser can grant it: GRANT USAGE ON SCHEMA cron TO %I;', current_user);
    END IF;
    -- pg_cron's own errors (an invalid schedule: 22023) pass through unchanged
    EXECUTE 'SELECT cron.schedule($1, $2, $3)' INTO job_id USING job_name, cron, job_command;
    RETURN job_id;
END
$fn$;
COMMENT ON FUNCTION schedule_retention(text) IS 'schedule CALL governance.run_retention() with pg_cron (job pg_governance_retention, run as the calling role); returns the pg_cron job id';

CREATE FUNCTION unschedule_retention() RETURNS boolean
LANGUAGE plpgsql VOLATILE SECURITY INVOKER SET search_path = pg_catalog, pg_temp AS $fn$
DECLARE
    job_name constant text := 'pg_governance_retention';
    removed boolean;
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_extension e WHERE e.extname OPERATOR(pg_catalog.=) 'pg_cron') THEN
        RAISE EXCEPTION 'pg_cron is not installed in database "%"', pg_catalog.current_database()
            USING ERRCODE = 'object_not_in_prerequisite_state',
                  DETAIL = 'Retention runs are scheduled with pg_cron; without it there is no job to remove.',
                  HINT = pg_catalog.format(
                      'Install the package postgresql-15-cron, add pg_cron to shared_preload_libraries '
                      'and set cron.database_name = ''%s'' in postgresql.conf, restart the server, then run '
                      'CREATE EXTENSION pg_cron in this database.', pg_catalog.current_database());
    END IF;
    IF NOT pg_catalog.has_schema_privilege('cron', 'USAGE') THEN
        RAISE EXCEPTION 'permission denied for schema cron'
            USING ERRCODE = 'insufficient_privilege',
                  DETAIL = 'pg_cron runs a job as the role that schedules it, which needs USAGE on schema cron.',
                  HINT = pg_catalog.format('A superuser can grant it: GRANT USAGE ON SCHEMA cron TO %I;', current_user);
    END IF;
    -- the caller's job only (a superuser sees every role's jobs in cron.job);
    -- false when the caller has none
    EXECUTE 'SELECT cron.unschedule(j.jobid) FROM cron.job j
             WHERE j.jobname OPERATOR(pg_catalog.=) $1 AND j.username OPERATOR(pg_catalog.=) CURRENT_USER'
        INTO removed USING job_name;
    RETURN coalesce(removed, false);
END
$fn$;
COMMENT ON FUNCTION unschedule_retention() IS 'remove the pg_cron job scheduled by governance.schedule_retention() for the calling role; false if there was none';

REVOKE ALL ON FUNCTION schedule_retention(text), unschedule_retention() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION schedule_retention(text), unschedule_retention() TO governance_admin;
