/* pg_governance--0.1--0.2.sql: upgrade of pg_governance from 0.1 to 0.2.
 * Written by hand, one section per concern as in src/; test/t/upgrade.sh
 * checks that the result has exactly the objects of a fresh 0.2 install. */

\echo Use "ALTER EXTENSION pg_governance UPDATE TO '0.2'" to load this file. \quit

-- ---------------------------------------------------------------------------
-- types (src/types/types.sql): equal values are byte-identical, so B-tree
-- deduplication can be on for indexes over categories and regions
-- ---------------------------------------------------------------------------
ALTER OPERATOR FAMILY @extschema@.category_ops USING btree
    ADD FUNCTION 4 (@extschema@.category, @extschema@.category) pg_catalog.btequalimage(oid);
ALTER OPERATOR FAMILY @extschema@.region_ops USING btree
    ADD FUNCTION 4 (@extschema@.region, @extschema@.region) pg_catalog.btequalimage(oid);

-- ---------------------------------------------------------------------------
-- policies (src/policy/policies.sql): a missing policy, parameter or
-- jurisdiction is 42704 as in PostgreSQL; GV010 is for invalid documents
-- ---------------------------------------------------------------------------
ALTER FUNCTION @extschema@.bundled_policies() PARALLEL SAFE;

CREATE OR REPLACE FUNCTION set_parameter(policy text, name text, value text) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $fn$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM @extschema@.parameter_def d
                   WHERE d.policy = set_parameter.policy AND d.name = set_parameter.name) THEN
        RAISE EXCEPTION 'parameter "%" of policy "%" does not exist', name, policy
            USING ERRCODE = 'undefined_object',
                  DETAIL = 'Parameters are declared by the policy file.',
                  HINT = 'SELECT policy, name FROM governance.parameters lists them.';
    END IF;
    IF value IS NOT NULL AND NOT @extschema@.is_iso8601_duration(value) THEN
        RAISE EXCEPTION 'invalid ISO 8601 duration "%" for parameter "%" of policy "%"', value, name, policy
            USING ERRCODE = 'invalid_datetime_format',
                  DETAIL = 'Parameter values are ISO 8601 durations.',
                  HINT = 'Write durations such as P6M, P3Y, P30D or PT72H; NULL goes back to the default.';
    END IF;
    IF value IS NULL THEN
        DELETE FROM @extschema@.parameter_setting s
        WHERE s.policy = set_parameter.policy AND s.name = set_parameter.name;
    ELSE
        INSERT INTO @extschema@.parameter_setting AS s (policy, name, value)
        VALUES (policy, name, value)
        ON CONFLICT ON CONSTRAINT parameter_setting_pkey
        DO UPDATE SET value = EXCLUDED.value, set_at = now(), set_by = session_user;
    END IF;
    PERFORM @extschema@._invalidate_all();
END
$fn$;

CREATE OR REPLACE FUNCTION in_jurisdiction(r region, jurisdiction text, policy text) RETURNS boolean
LANGUAGE plpgsql STABLE PARALLEL SAFE SET search_path = pg_catalog, pg_temp AS $fn$
DECLARE
    j @extschema@.jurisdiction;
BEGIN
    SELECT * INTO j FROM @extschema@.jurisdiction x
    WHERE x.policy = in_jurisdiction.policy AND x.name = in_jurisdiction.jurisdiction;
    IF NOT FOUND THEN
        IF jurisdiction ~ '^[A-Z]{2}(-[A-Z0-9]{1,3})?$' THEN
            RETURN jurisdiction::@extschema@.region OPERATOR(@extschema@.@>) r;
        END IF;
        RAISE EXCEPTION 'jurisdiction "%" of policy "%" does not exist', jurisdiction, policy
            USING ERRCODE = 'undefined_object',
                  DETAIL = 'Jurisdictions are declared by the policy file.',
                  HINT = 'SELECT * FROM governance.jurisdiction lists them; a region code such as CN also works.';
    END IF;
    RETURN EXISTS (SELECT 1 FROM unnest(j.include) i WHERE i OPERATOR(@extschema@.@>) r)
       AND NOT EXISTS (SELECT 1 FROM unnest(j.exclude) e WHERE e OPERATOR(@extschema@.@>) r);
END
$fn$;

-- ---------------------------------------------------------------------------
-- labels (src/label/labels.sql): a missing column is 42703, a missing hold
-- 42704; read-only functions are parallel safe
-- ---------------------------------------------------------------------------
ALTER FUNCTION @extschema@._replace_item(text, text, text) PARALLEL SAFE;
ALTER FUNCTION @extschema@._is_admin() PARALLEL SAFE;
ALTER FUNCTION @extschema@.bound_policy(regclass) PARALLEL SAFE;
CREATE OR REPLACE FUNCTION tag(rel regclass, col name, label text) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $fn$
BEGIN
    PERFORM @extschema@._load();
    IF NOT EXISTS (SELECT 1 FROM pg_attribute a WHERE a.attrelid = rel AND a.attname = col
                   AND a.attnum > 0 AND NOT a.attisdropped) THEN
        RAISE EXCEPTION 'column "%" of relation % does not exist', col, rel
            USING ERRCODE = 'undefined_column',
                  DETAIL = 'Nothing was tagged.',
                  HINT = 'Check the column name; it is matched exactly (case-sensitive).';
    END IF;
    EXECUTE format('SECURITY LABEL FOR governance ON COLUMN %s.%I IS %L', rel, col, label);
END
$fn$;

CREATE OR REPLACE FUNCTION untag(rel regclass, col name) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $fn$
BEGIN
    PERFORM @extschema@._load();
    IF NOT EXISTS (SELECT 1 FROM pg_attribute a WHERE a.attrelid = rel AND a.attname = col
                   AND a.attnum > 0 AND NOT a.attisdropped) THEN
        RAISE EXCEPTION 'column "%" of relation % does not exist', col, rel
            USING ERRCODE = 'undefined_column', DETAIL = 'Nothing was untagged.',
                  HINT = 'Check the column name; it is matched exactly (case-sensitive).';
    END IF;
    EXECUTE format('SECURITY LABEL FOR governance ON COLUMN %s.%I IS NULL', rel, col);
END
$fn$;

CREATE FUNCTION _canonical_subject(rel regclass, subject text) RETURNS text
    AS 'MODULE_PATHNAME', 'governance_canonical_subject' LANGUAGE C STRICT STABLE;
REVOKE ALL ON FUNCTION _canonical_subject(regclass, text) FROM PUBLIC;
CREATE OR REPLACE FUNCTION place_hold(rel regclass, subject text, reason text) RETURNS bigint
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $fn$
DECLARE
    id bigint;
BEGIN
    IF (SELECT c.relkind NOT IN ('r', 'p') OR c.relnamespace = 'pg_catalog'::regnamespace
        FROM pg_class c WHERE c.oid = rel) THEN
        RAISE EXCEPTION 'cannot place a legal hold on %', rel
            USING ERRCODE = 'wrong_object_type', DETAIL = 'Holds keep rows of tables and partitioned tables.',
                  HINT = 'Name the table that holds the subject''s rows.';
    END IF;
    IF @extschema@.bound_policy(rel) IS NULL THEN
        RAISE EXCEPTION 'cannot place a legal hold on %: no policy governs it', rel
            USING ERRCODE = 'object_not_in_prerequisite_state',
                  DETAIL = 'A hold is enforced by the guard of a governed table.',
                  HINT = 'Bind the table to a policy and tag its subject column first.';
    END IF;
    IF subject IS NULL OR reason IS NULL OR btrim(reason) = '' THEN
        RAISE EXCEPTION 'a legal hold needs a subject and a reason'
            USING ERRCODE = 'invalid_parameter_value', DETAIL = 'No hold was placed.',
                  HINT = 'Say whose rows are held and why (case number, authority).';
    END IF;
    -- the subject as the guard reads it (this session's DateStyle, stored in ISO)
    subject := @extschema@._canonical_subject(rel, subject);
    -- SHARE conflicts with the ROW EXCLUSIVE lock of DELETE, UPDATE and
    -- TRUNCATE: deletes in flight finish first, later ones wait for this
    -- transaction and then see the hold (other holds do not wait).
    EXECUTE format('LOCK TABLE %s IN SHARE MODE', rel);
    INSERT INTO @extschema@.hold (relation, subject, reason) VALUES (rel, subject, reason)
        RETURNING hold_id INTO id;
    PERFORM @extschema@._invalidate_relation(rel);
    RETURN id;
END
$fn$;

CREATE OR REPLACE FUNCTION release_hold(hold_id bigint) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $fn$
DECLARE
    rel regclass;
BEGIN
    UPDATE @extschema@.hold h SET released_at = now(), released_by = session_user
    WHERE h.hold_id = release_hold.hold_id AND h.released_at IS NULL
    RETURNING h.relation INTO rel;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'active legal hold % does not exist', hold_id
            USING ERRCODE = 'undefined_object', DETAIL = 'The hold does not exist or was already released.',
                  HINT = 'SELECT * FROM governance.holds WHERE released_at IS NULL lists active holds.';
    END IF;
    PERFORM @extschema@._invalidate_relation(rel);
END
$fn$;

-- the database's label survives a restore without pg_dump --create
CREATE TABLE @extschema@.database_label (
    singleton       boolean PRIMARY KEY DEFAULT true CHECK (singleton),
    label           text NOT NULL
);
COMMENT ON TABLE @extschema@.database_label IS 'a copy of the current database''s governance label (policy, region), kept by the label provider';
SELECT pg_catalog.pg_extension_config_dump('@extschema@.database_label', '');
GRANT SELECT ON @extschema@.database_label TO governance_reader;
INSERT INTO @extschema@.database_label (label)
    SELECT s.label FROM pg_catalog.pg_shseclabel s
    JOIN pg_catalog.pg_database d ON d.oid OPERATOR(pg_catalog.=) s.objoid
    WHERE s.provider OPERATOR(pg_catalog.=) 'governance'
      AND s.classoid OPERATOR(pg_catalog.=) 'pg_catalog.pg_database'::pg_catalog.regclass
      AND d.datname OPERATOR(pg_catalog.=) pg_catalog.current_database();

-- tagged_columns says whether a policy governs the column's table
CREATE OR REPLACE VIEW @extschema@.tagged_columns AS
    SELECT l.objoid::regclass AS relation, a.attname AS "column",
           COALESCE((SELECT regexp_split_to_array(substr(i, 10), ' *, *')::@extschema@.category[]
                     FROM unnest(p.items) i WHERE i LIKE 'category=%'), '{}') AS categories,
           ARRAY(SELECT i FROM unnest(p.items) i WHERE i NOT LIKE 'category=%') AS roles,
           @extschema@.bound_policy(l.objoid::regclass) AS policy,
           @extschema@.bound_policy(l.objoid::regclass) IS NOT NULL AS governed
    FROM pg_catalog.pg_seclabel l
    JOIN pg_catalog.pg_attribute a ON a.attrelid = l.objoid AND a.attnum = l.objsubid
    -- items trimmed and split as label.c's parser does: blanks, tabs and
    -- newlines around an item, blanks and tabs around "="
    CROSS JOIN LATERAL (SELECT ARRAY(SELECT regexp_replace(regexp_replace(x, '^[ \t\n]+|[ \t\n]+$', '', 'g'),
                                                           '[ \t]*=[ \t]*', '=')
                                     FROM regexp_split_to_table(l.label, ';') x) AS items) p
    WHERE l.provider = 'governance' AND l.classoid = 'pg_catalog.pg_class'::regclass
      AND l.objsubid > 0;
COMMENT ON VIEW @extschema@.tagged_columns IS 'every tagged column; governed is false while no policy is bound to its table';

-- bind_database and set_database_region keep what the copy holds after a
-- restore without --create
CREATE FUNCTION _database_label() RETURNS text
LANGUAGE sql STABLE PARALLEL SAFE SET search_path = pg_catalog, pg_temp AS $fn$
    SELECT COALESCE(
        (SELECT s.label FROM pg_shseclabel s JOIN pg_database d ON d.oid = s.objoid
         WHERE s.provider = 'governance' AND s.classoid = 'pg_database'::regclass
           AND d.datname = current_database()),
        (SELECT x.label FROM @extschema@.database_label x))
$fn$;
REVOKE ALL ON FUNCTION @extschema@._database_label() FROM PUBLIC;
CREATE OR REPLACE FUNCTION bind_database(policy text) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $fn$
DECLARE
    new_label text;
BEGIN
    PERFORM @extschema@._load();
    SELECT @extschema@._replace_item(l.label, 'policy', policy) INTO new_label
    FROM (SELECT @extschema@._database_label() AS label) l;
    EXECUTE format('SECURITY LABEL FOR governance ON DATABASE %I IS %s', current_database(),
                   COALESCE(quote_literal(new_label), 'NULL'));
END
$fn$;
CREATE OR REPLACE FUNCTION set_database_region(region region) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $fn$
DECLARE
    new_label text;
BEGIN
    PERFORM @extschema@._load();
    SELECT @extschema@._replace_item(l.label, 'region', region::text) INTO new_label
    FROM (SELECT @extschema@._database_label() AS label) l;
    EXECUTE format('SECURITY LABEL FOR governance ON DATABASE %I IS %s', current_database(),
                   COALESCE(quote_literal(new_label), 'NULL'));
END
$fn$;

-- label items trimmed as the parser trims them
CREATE OR REPLACE FUNCTION _replace_item(label text, key text, value text) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE SET search_path = pg_catalog, pg_temp AS $fn$
    -- items trimmed as label.c's parser does (blanks, tabs, newlines; around "=")
    SELECT NULLIF(array_to_string(ARRAY(
        SELECT t FROM (SELECT regexp_replace(regexp_replace(i, '^[ \t\n]+|[ \t\n]+$', '', 'g'),
                                             '[ \t]*=[ \t]*', '=') AS t
                       FROM regexp_split_to_table(COALESCE(label, ''), ';') i) items
        WHERE t <> '' AND split_part(t, '=', 1) <> key
        UNION ALL SELECT key || '=' || value WHERE value IS NOT NULL), ';'), '')
$fn$;

-- drop_policy looks at this database's binding only (and its copy)
CREATE OR REPLACE FUNCTION drop_policy(name text) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $fn$
DECLARE
    bound text;
BEGIN
    IF NOT EXISTS (SELECT 1 FROM @extschema@.policy p WHERE p.name = drop_policy.name) THEN
        RAISE EXCEPTION 'policy "%" does not exist', name
            USING ERRCODE = 'undefined_object',
                  DETAIL = 'No loaded policy has that name; nothing was dropped.',
                  HINT = 'SELECT name FROM governance.policies lists the loaded policies.';
    END IF;
    -- bindings are labels "policy=<name>" on tables, schemas or the database
    SELECT string_agg(DISTINCT obj, ', ') INTO bound FROM (
        SELECT pg_describe_object(l.classoid, l.objoid, l.objsubid) AS obj, l.label
        FROM pg_seclabel l WHERE l.provider = 'governance'
        UNION ALL
        -- this database's own binding (other databases have their own policies)
        SELECT 'database ' || quote_ident(current_database()), @extschema@._database_label()
    ) b
    -- items trimmed as label.c's parser does (blanks, tabs, newlines; around "=")
    WHERE EXISTS (SELECT 1 FROM regexp_split_to_table(b.label, ';') item
                  WHERE regexp_replace(regexp_replace(item, '^[ \t\n]+|[ \t\n]+$', '', 'g'),
                                       '[ \t]*=[ \t]*', '=') = 'policy=' || name);
    IF bound IS NOT NULL THEN
        RAISE EXCEPTION 'cannot drop policy "%" because it is still bound', name
            USING ERRCODE = 'dependent_objects_still_exist',
                  DETAIL = format('Bound to: %s.', bound),
                  HINT = 'Bind those objects to another policy, or remove their policy label, first.';
    END IF;
    PERFORM pg_advisory_xact_lock(hashtext('pg_governance.policy:' || name));
    INSERT INTO @extschema@.policy_history (name, version, sha256, yaml, document, loaded_at, loaded_by, dropped)
        SELECT p.name, p.version, p.sha256, p.yaml, p.document, p.loaded_at, p.loaded_by, true
        FROM @extschema@.policy p WHERE p.name = drop_policy.name;
    PERFORM @extschema@._delete_policy_rows(name);
    DELETE FROM @extschema@.parameter_setting s WHERE s.policy = drop_policy.name;
    PERFORM @extschema@._invalidate_all();
END
$fn$;

-- nothing internal is callable by PUBLIC
REVOKE ALL ON FUNCTION @extschema@._load(), @extschema@._is_admin(),
    @extschema@._sync_guards(oid, text), @extschema@._replace_item(text, text, text) FROM PUBLIC;

-- ---------------------------------------------------------------------------
-- guard (src/guard/guard.sql): event triggers in C, run with the issuer's
-- rights and a pinned search_path; the internal functions revoked
-- ---------------------------------------------------------------------------
CREATE OR REPLACE FUNCTION @extschema@._on_ddl_command_end() RETURNS event_trigger
    AS 'MODULE_PATHNAME', 'governance_on_ddl_command_end' LANGUAGE C;
ALTER FUNCTION @extschema@._on_ddl_command_end() RESET ALL;
-- drops are decided by the object access hook and followed up at
-- ddl_command_end: the sql_drop trigger (and its cost on every DROP) goes
DROP EVENT TRIGGER governance_sql_drop;
DROP FUNCTION @extschema@._on_sql_drop();
-- the row check on logical replication apply
CREATE FUNCTION @extschema@._guard_write() RETURNS trigger
    AS 'MODULE_PATHNAME', 'governance_guard_write' LANGUAGE C;
REVOKE ALL ON FUNCTION @extschema@._guard_write() FROM PUBLIC;
COMMENT ON FUNCTION @extschema@._guard_row(oid, "any") IS 'CHECK constraint of governed tables: never-store and localization';
REVOKE ALL ON FUNCTION @extschema@._guard_delete(), @extschema@._guard_update(),
    @extschema@._guard_truncate(), @extschema@._noop_trigger(),
    @extschema@._on_ddl_command_start(), @extschema@._on_ddl_command_end() FROM PUBLIC;

-- every governed table's guard brought in line with 0.2: triggers that fire
-- on replication apply too, no constraint under a guard's name that is not
-- the guard
SELECT @extschema@._sync_guards(c.oid, NULL)
FROM pg_catalog.pg_class c
WHERE c.relkind OPERATOR(pg_catalog.=) ANY ('{r,p}')
  AND EXISTS (SELECT 1 FROM pg_catalog.pg_seclabel l
              WHERE l.objoid OPERATOR(pg_catalog.=) c.oid
                AND l.provider OPERATOR(pg_catalog.=) 'governance');
