-- src/label/labels.sql — labels, binding and legal holds (label.c): history,
-- the tagged_columns view, the wrappers usable without preloading.

-- ---------------------------------------------------------------------------
-- Labels, binding, holds (spec sections 5 and 7; src/label.c)
-- ---------------------------------------------------------------------------
CREATE TABLE label_history (
    change_id       bigserial PRIMARY KEY,
    changed_at      timestamptz NOT NULL DEFAULT pg_catalog.now(),
    changed_by      text NOT NULL,
    classid         oid NOT NULL,
    objid           oid NOT NULL,
    objsubid        integer NOT NULL,
    object          text NOT NULL,
    old_label       text,
    new_label       text
);
CREATE INDEX ON label_history (changed_at);
COMMENT ON TABLE label_history IS 'every change of a governance label (tags, bindings, regions); trim by changed_at';

CREATE TABLE hold (
    hold_id         bigserial PRIMARY KEY,
    relation        regclass NOT NULL,
    subject         text NOT NULL,
    reason          text NOT NULL,
    placed_at       timestamptz NOT NULL DEFAULT pg_catalog.now(),
    placed_by       name NOT NULL DEFAULT pg_catalog.session_user(),
    released_at     timestamptz,
    released_by     name
);
CREATE INDEX ON hold (relation) WHERE released_at IS NULL;

SELECT pg_catalog.pg_extension_config_dump('label_history', '');
SELECT pg_catalog.pg_extension_config_dump('label_history_change_id_seq', '');
SELECT pg_catalog.pg_extension_config_dump('hold', '');
SELECT pg_catalog.pg_extension_config_dump('hold_hold_id_seq', '');

-- The database's own label, kept here too: pg_dump brings database labels
-- only with --create, this table always (label.c, mirror_database_label),
-- so a restored database keeps its binding and region.
CREATE TABLE database_label (
    singleton       boolean PRIMARY KEY DEFAULT true CHECK (singleton),
    label           text NOT NULL
);
COMMENT ON TABLE database_label IS 'a copy of the current database''s governance label (policy, region), kept by the label provider';
SELECT pg_catalog.pg_extension_config_dump('database_label', '');

CREATE VIEW holds AS
    SELECT hold_id, relation, subject, reason, placed_at, placed_by, released_at
    FROM @extschema@.hold;

CREATE FUNCTION _load() RETURNS void
    AS 'MODULE_PATHNAME', 'governance_load_library' LANGUAGE C STRICT;
CREATE FUNCTION _is_admin() RETURNS boolean
    AS 'MODULE_PATHNAME', 'governance_is_admin_fn' LANGUAGE C STRICT STABLE PARALLEL SAFE;
COMMENT ON FUNCTION _is_admin() IS 'is the role that issued the command (not a function definer) a governance_admin or superuser?';
CREATE FUNCTION _invalidate_relation(regclass) RETURNS void
    AS 'MODULE_PATHNAME', 'governance_invalidate_relation' LANGUAGE C STRICT;
REVOKE ALL ON FUNCTION _invalidate_relation(regclass) FROM PUBLIC;
CREATE FUNCTION _sync_guards(oid, command_tag text) RETURNS void
    AS 'MODULE_PATHNAME', 'governance_sync_guards' LANGUAGE C;
REVOKE ALL ON FUNCTION _load(), _is_admin(), _sync_guards(oid, text) FROM PUBLIC;
CREATE FUNCTION bound_policy(regclass) RETURNS text
    AS 'MODULE_PATHNAME', 'governance_bound_policy' LANGUAGE C STRICT STABLE PARALLEL SAFE;
COMMENT ON FUNCTION bound_policy(regclass) IS 'the policy that governs a table: nearest of table, ancestors, schema, database';

CREATE VIEW tagged_columns AS
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

GRANT SELECT ON label_history, hold, holds, tagged_columns, database_label TO governance_reader;
COMMENT ON VIEW tagged_columns IS 'every tagged column; governed is false while no policy is bound to its table';

-- Wrappers: usable without preloading (they load the library first) and
-- without owning the table; EXECUTE is granted to governance_admin only.
CREATE FUNCTION tag(rel regclass, col name, label text) RETURNS void
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
COMMENT ON FUNCTION tag(regclass, name, text) IS 'set the governance label of a column (category=...; subject; anchor=...; region)';

CREATE FUNCTION untag(rel regclass, col name) RETURNS void
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

CREATE FUNCTION bind(rel regclass, policy text) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $fn$
BEGIN
    PERFORM @extschema@._load();
    IF policy IS NULL THEN
        EXECUTE format('SECURITY LABEL FOR governance ON TABLE %s IS NULL', rel);
    ELSE
        EXECUTE format('SECURITY LABEL FOR governance ON TABLE %s IS %L', rel, 'policy=' || policy);
    END IF;
END
$fn$;
COMMENT ON FUNCTION bind(regclass, text) IS 'bind a table to a policy (NULL unbinds)';

-- database and tablespace labels: event triggers do not fire for them
CREATE FUNCTION _replace_item(label text, key text, value text) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE SET search_path = pg_catalog, pg_temp AS $fn$
    -- items trimmed as label.c's parser does (blanks, tabs, newlines; around "=")
    SELECT NULLIF(array_to_string(ARRAY(
        SELECT t FROM (SELECT regexp_replace(regexp_replace(i, '^[ \t\n]+|[ \t\n]+$', '', 'g'),
                                             '[ \t]*=[ \t]*', '=') AS t
                       FROM regexp_split_to_table(COALESCE(label, ''), ';') i) items
        WHERE t <> '' AND split_part(t, '=', 1) <> key
        UNION ALL SELECT key || '=' || value WHERE value IS NOT NULL), ';'), '')
$fn$;
REVOKE ALL ON FUNCTION _replace_item(text, text, text) FROM PUBLIC;

-- The database's label, or when it is missing (restored without pg_dump
-- --create) the copy kept in database_label.
CREATE FUNCTION _database_label() RETURNS text
LANGUAGE sql STABLE PARALLEL SAFE SET search_path = pg_catalog, pg_temp AS $fn$
    SELECT COALESCE(
        (SELECT s.label FROM pg_shseclabel s JOIN pg_database d ON d.oid = s.objoid
         WHERE s.provider = 'governance' AND s.classoid = 'pg_database'::regclass
           AND d.datname = current_database()),
        (SELECT x.label FROM @extschema@.database_label x))
$fn$;
REVOKE ALL ON FUNCTION _database_label() FROM PUBLIC;

CREATE FUNCTION bind_database(policy text) RETURNS void
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
COMMENT ON FUNCTION bind_database(text) IS 'bind the current database to a policy (NULL unbinds), keeping its region';

CREATE FUNCTION set_region(tablespace name, region region) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $fn$
BEGIN
    PERFORM @extschema@._load();
    IF region IS NULL THEN
        EXECUTE format('SECURITY LABEL FOR governance ON TABLESPACE %I IS NULL', tablespace);
    ELSE
        EXECUTE format('SECURITY LABEL FOR governance ON TABLESPACE %I IS %L', tablespace,
                       'region=' || region::text);
    END IF;
END
$fn$;
COMMENT ON FUNCTION set_region(name, region) IS 'record where a tablespace stores its data (NULL forgets it)';

CREATE FUNCTION set_database_region(region region) RETURNS void
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
COMMENT ON FUNCTION set_database_region(region) IS 'record where the current database stores its data, keeping its policy binding';

-- a hold's subject as the guard reads it (guard_cache.c)
CREATE FUNCTION _canonical_subject(rel regclass, subject text) RETURNS text
    AS 'MODULE_PATHNAME', 'governance_canonical_subject' LANGUAGE C STRICT STABLE;
REVOKE ALL ON FUNCTION _canonical_subject(regclass, text) FROM PUBLIC;

CREATE FUNCTION place_hold(rel regclass, subject text, reason text) RETURNS bigint
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
COMMENT ON FUNCTION place_hold(regclass, text, text) IS 'keep every row of a subject in a table (and its partitions) until released';

CREATE FUNCTION release_hold(hold_id bigint) RETURNS void
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

REVOKE ALL ON FUNCTION tag(regclass, name, text), untag(regclass, name), bind(regclass, text),
    bind_database(text), set_region(name, region), set_database_region(region),
    place_hold(regclass, text, text), release_hold(bigint) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION tag(regclass, name, text), untag(regclass, name), bind(regclass, text),
    bind_database(text), set_region(name, region), set_database_region(region),
    place_hold(regclass, text, text), release_hold(bigint) TO governance_admin;

