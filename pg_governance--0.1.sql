/* pg_governance--0.1.sql: install script of pg_governance 0.1 */

\echo Use "CREATE EXTENSION pg_governance" to load this file. \quit

-- ---------------------------------------------------------------------------
-- Roles (spec section 10).  Created if missing; never dropped with the
-- extension, because other objects and grants may depend on them.
-- ---------------------------------------------------------------------------
DO $roles$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_roles WHERE rolname = 'governance_reader') THEN
        CREATE ROLE governance_reader NOLOGIN;
    END IF;
    IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_roles WHERE rolname = 'governance_admin') THEN
        CREATE ROLE governance_admin NOLOGIN;
    END IF;
    IF NOT pg_catalog.pg_has_role('governance_admin', 'governance_reader', 'MEMBER') THEN
        GRANT governance_reader TO governance_admin;
    END IF;
END
$roles$;

GRANT USAGE ON SCHEMA @extschema@ TO PUBLIC;

-- ---------------------------------------------------------------------------
-- Type governance.category (src/category.c)
-- ---------------------------------------------------------------------------
CREATE TYPE category;

CREATE FUNCTION category_in(cstring) RETURNS category
    AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION category_out(category) RETURNS cstring
    AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION category_recv(internal) RETURNS category
    AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION category_send(category) RETURNS bytea
    AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE TYPE category (
    INPUT = category_in,
    OUTPUT = category_out,
    RECEIVE = category_recv,
    SEND = category_send,
    INTERNALLENGTH = VARIABLE,
    STORAGE = extended,
    CATEGORY = 'S',
    COLLATABLE = false
);
COMMENT ON TYPE category IS 'data category: a dotted lowercase path such as personal.contact.phone';

CREATE FUNCTION category_eq(category, category) RETURNS boolean
    AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE LEAKPROOF;
CREATE FUNCTION category_ne(category, category) RETURNS boolean
    AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE LEAKPROOF;
CREATE FUNCTION category_lt(category, category) RETURNS boolean
    AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE LEAKPROOF;
CREATE FUNCTION category_le(category, category) RETURNS boolean
    AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE LEAKPROOF;
CREATE FUNCTION category_gt(category, category) RETURNS boolean
    AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE LEAKPROOF;
CREATE FUNCTION category_ge(category, category) RETURNS boolean
    AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE LEAKPROOF;
CREATE FUNCTION category_cmp(category, category) RETURNS integer
    AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE LEAKPROOF;
CREATE FUNCTION category_hash(category) RETURNS integer
    AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE LEAKPROOF;
CREATE FUNCTION category_hash_extended(category, bigint) RETURNS bigint
    AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE LEAKPROOF;
CREATE FUNCTION category_ancestor_of(category, category) RETURNS boolean
    AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION category_descendant_of(category, category) RETURNS boolean
    AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE FUNCTION parent(category) RETURNS category
    AS 'MODULE_PATHNAME', 'category_parent' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION parent(category) IS 'the category one level up; NULL for a top-level category';
CREATE FUNCTION depth(category) RETURNS integer
    AS 'MODULE_PATHNAME', 'category_depth' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION depth(category) IS 'number of segments of a category (1 for a top-level one)';

CREATE OPERATOR = (LEFTARG = category, RIGHTARG = category, PROCEDURE = category_eq,
    COMMUTATOR = =, NEGATOR = <>, RESTRICT = eqsel, JOIN = eqjoinsel, HASHES, MERGES);
CREATE OPERATOR <> (LEFTARG = category, RIGHTARG = category, PROCEDURE = category_ne,
    COMMUTATOR = <>, NEGATOR = =, RESTRICT = neqsel, JOIN = neqjoinsel);
CREATE OPERATOR < (LEFTARG = category, RIGHTARG = category, PROCEDURE = category_lt,
    COMMUTATOR = >, NEGATOR = >=, RESTRICT = scalarltsel, JOIN = scalarltjoinsel);
CREATE OPERATOR <= (LEFTARG = category, RIGHTARG = category, PROCEDURE = category_le,
    COMMUTATOR = >=, NEGATOR = >, RESTRICT = scalarlesel, JOIN = scalarlejoinsel);
CREATE OPERATOR > (LEFTARG = category, RIGHTARG = category, PROCEDURE = category_gt,
    COMMUTATOR = <, NEGATOR = <=, RESTRICT = scalargtsel, JOIN = scalargtjoinsel);
CREATE OPERATOR >= (LEFTARG = category, RIGHTARG = category, PROCEDURE = category_ge,
    COMMUTATOR = <=, NEGATOR = <, RESTRICT = scalargesel, JOIN = scalargejoinsel);
CREATE OPERATOR @> (LEFTARG = category, RIGHTARG = category, PROCEDURE = category_ancestor_of,
    COMMUTATOR = <@, RESTRICT = contsel, JOIN = contjoinsel);
CREATE OPERATOR <@ (LEFTARG = category, RIGHTARG = category, PROCEDURE = category_descendant_of,
    COMMUTATOR = @>, RESTRICT = contsel, JOIN = contjoinsel);

CREATE OPERATOR CLASS category_ops DEFAULT FOR TYPE category USING btree AS
    OPERATOR 1 <, OPERATOR 2 <=, OPERATOR 3 =, OPERATOR 4 >=, OPERATOR 5 >,
    FUNCTION 1 category_cmp(category, category);
CREATE OPERATOR CLASS category_ops DEFAULT FOR TYPE category USING hash AS
    OPERATOR 1 =,
    FUNCTION 1 category_hash(category),
    FUNCTION 2 category_hash_extended(category, bigint);

CREATE CAST (category AS text) WITH INOUT AS ASSIGNMENT;
CREATE CAST (text AS category) WITH INOUT AS ASSIGNMENT;

-- ---------------------------------------------------------------------------
-- Type governance.region (src/region.c, src/iso3166.c)
-- ---------------------------------------------------------------------------
CREATE TYPE region;

CREATE FUNCTION region_in(cstring) RETURNS region
    AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION region_out(region) RETURNS cstring
    AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION region_recv(internal) RETURNS region
    AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION region_send(region) RETURNS bytea
    AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE TYPE region (
    INPUT = region_in,
    OUTPUT = region_out,
    RECEIVE = region_recv,
    SEND = region_send,
    INTERNALLENGTH = VARIABLE,
    STORAGE = extended,
    CATEGORY = 'S',
    COLLATABLE = false
);
COMMENT ON TYPE region IS 'ISO 3166-1 alpha-2 country, optionally with an ISO 3166-2 subdivision (CN, CN-SH)';

CREATE FUNCTION region_eq(region, region) RETURNS boolean
    AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE LEAKPROOF;
CREATE FUNCTION region_ne(region, region) RETURNS boolean
    AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE LEAKPROOF;
CREATE FUNCTION region_lt(region, region) RETURNS boolean
    AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE LEAKPROOF;
CREATE FUNCTION region_le(region, region) RETURNS boolean
    AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE LEAKPROOF;
CREATE FUNCTION region_gt(region, region) RETURNS boolean
    AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE LEAKPROOF;
CREATE FUNCTION region_ge(region, region) RETURNS boolean
    AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE LEAKPROOF;
CREATE FUNCTION region_cmp(region, region) RETURNS integer
    AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE LEAKPROOF;
CREATE FUNCTION region_hash(region) RETURNS integer
    AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE LEAKPROOF;
CREATE FUNCTION region_hash_extended(region, bigint) RETURNS bigint
    AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE LEAKPROOF;
CREATE FUNCTION region_contains(region, region) RETURNS boolean
    AS 'MODULE_PATHNAME', 'region_contains_op' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION region_contained(region, region) RETURNS boolean
    AS 'MODULE_PATHNAME', 'region_contained_op' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION country(region) RETURNS region
    AS 'MODULE_PATHNAME', 'region_country' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION country(region) IS 'the ISO 3166-1 country of a region (CN for CN-SH)';

CREATE OPERATOR = (LEFTARG = region, RIGHTARG = region, PROCEDURE = region_eq,
    COMMUTATOR = =, NEGATOR = <>, RESTRICT = eqsel, JOIN = eqjoinsel, HASHES, MERGES);
CREATE OPERATOR <> (LEFTARG = region, RIGHTARG = region, PROCEDURE = region_ne,
    COMMUTATOR = <>, NEGATOR = =, RESTRICT = neqsel, JOIN = neqjoinsel);
CREATE OPERATOR < (LEFTARG = region, RIGHTARG = region, PROCEDURE = region_lt,
    COMMUTATOR = >, NEGATOR = >=, RESTRICT = scalarltsel, JOIN = scalarltjoinsel);
CREATE OPERATOR <= (LEFTARG = region, RIGHTARG = region, PROCEDURE = region_le,
    COMMUTATOR = >=, NEGATOR = >, RESTRICT = scalarlesel, JOIN = scalarlejoinsel);
CREATE OPERATOR > (LEFTARG = region, RIGHTARG = region, PROCEDURE = region_gt,
    COMMUTATOR = <, NEGATOR = <=, RESTRICT = scalargtsel, JOIN = scalargtjoinsel);
CREATE OPERATOR >= (LEFTARG = region, RIGHTARG = region, PROCEDURE = region_ge,
    COMMUTATOR = <=, NEGATOR = <, RESTRICT = scalargesel, JOIN = scalargejoinsel);
CREATE OPERATOR @> (LEFTARG = region, RIGHTARG = region, PROCEDURE = region_contains,
    COMMUTATOR = <@, RESTRICT = contsel, JOIN = contjoinsel);
CREATE OPERATOR <@ (LEFTARG = region, RIGHTARG = region, PROCEDURE = region_contained,
    COMMUTATOR = @>, RESTRICT = contsel, JOIN = contjoinsel);

CREATE OPERATOR CLASS region_ops DEFAULT FOR TYPE region USING btree AS
    OPERATOR 1 <, OPERATOR 2 <=, OPERATOR 3 =, OPERATOR 4 >=, OPERATOR 5 >,
    FUNCTION 1 region_cmp(region, region);
CREATE OPERATOR CLASS region_ops DEFAULT FOR TYPE region USING hash AS
    OPERATOR 1 =,
    FUNCTION 1 region_hash(region),
    FUNCTION 2 region_hash_extended(region, bigint);

CREATE CAST (region AS text) WITH INOUT AS ASSIGNMENT;
CREATE CAST (text AS region) WITH INOUT AS ASSIGNMENT;

-- ---------------------------------------------------------------------------
-- Policy catalog (src/policy_load.c writes it through _store_policy).
-- No foreign keys between catalog tables: pg_dump restores extension
-- configuration tables in an order of its own, and _store_policy and
-- drop_policy keep the rows consistent themselves.
-- ---------------------------------------------------------------------------
CREATE TABLE taxonomy (
    category        category PRIMARY KEY,
    description     text NOT NULL,
    description_zh  text,
    builtin         boolean NOT NULL DEFAULT true
);
COMMENT ON TABLE taxonomy IS 'the base taxonomy of data categories (policies/taxonomy.yaml)';

CREATE TABLE policy (
    name            text PRIMARY KEY,
    version         text NOT NULL,
    effective_date  date,
    title           text NOT NULL,
    controller      text NOT NULL,
    language        text,
    seed            text,
    home_jurisdiction text,
    origin          text,
    document        jsonb NOT NULL,
    yaml            text NOT NULL,
    sha256          text NOT NULL,
    loaded_at       timestamptz NOT NULL DEFAULT pg_catalog.now(),
    loaded_by       name NOT NULL DEFAULT pg_catalog.session_user()
);

CREATE TABLE policy_history (
    history_id      bigserial PRIMARY KEY,
    name            text NOT NULL,
    version         text NOT NULL,
    sha256          text NOT NULL,
    yaml            text NOT NULL,
    document        jsonb NOT NULL,
    loaded_at       timestamptz NOT NULL,
    loaded_by       name NOT NULL,
    replaced_at     timestamptz NOT NULL DEFAULT pg_catalog.now(),
    replaced_by     name NOT NULL DEFAULT pg_catalog.session_user(),
    dropped         boolean NOT NULL DEFAULT false
);
CREATE INDEX ON policy_history (name, replaced_at);

CREATE TABLE policy_category (
    policy          text NOT NULL,
    category        category NOT NULL,
    description     text,
    description_zh  text,
    implies         category[] NOT NULL DEFAULT '{}',
    sensitive       boolean NOT NULL DEFAULT false,
    defined         boolean NOT NULL DEFAULT true,  -- false: only marked sensitive
    source          text,
    PRIMARY KEY (policy, category)
);

CREATE TABLE jurisdiction (
    policy          text NOT NULL,
    name            text NOT NULL,
    include         region[] NOT NULL,
    exclude         region[] NOT NULL DEFAULT '{}',
    source          text,
    PRIMARY KEY (policy, name)
);

CREATE TABLE parameter_def (
    policy          text NOT NULL,
    name            text NOT NULL,
    default_value   text,
    description     text NOT NULL,
    source          text NOT NULL,
    PRIMARY KEY (policy, name)
);

-- DBA settings survive a policy reload, so they live apart from the definition
CREATE TABLE parameter_setting (
    policy          text NOT NULL,
    name            text NOT NULL,
    value           text NOT NULL,
    set_at          timestamptz NOT NULL DEFAULT pg_catalog.now(),
    set_by          name NOT NULL DEFAULT pg_catalog.session_user(),
    PRIMARY KEY (policy, name)
);

CREATE TABLE recipient (
    policy          text NOT NULL,
    name            text NOT NULL,
    class           text NOT NULL,
    provider        text,
    categories      category[] NOT NULL,
    purposes        text[] NOT NULL,
    destinations    text[] NOT NULL DEFAULT '{}',
    source          text NOT NULL,
    PRIMARY KEY (policy, name)
);

CREATE TABLE rule (
    policy          text NOT NULL,
    kind            text NOT NULL CHECK (kind IN ('localization', 'retention', 'sharing',
                                                  'subject_rights', 'breach', 'minors')),
    rule_id         text NOT NULL,
    ordinal         integer NOT NULL,
    categories      category[] NOT NULL DEFAULT '{}',
    parameters      jsonb NOT NULL,
    source          text NOT NULL,
    PRIMARY KEY (policy, rule_id)
);

CREATE TABLE unenforceable (
    policy          text NOT NULL,
    ordinal         integer NOT NULL,
    source          text NOT NULL,
    reason          text NOT NULL,
    PRIMARY KEY (policy, ordinal)
);

-- pg_dump keeps the catalog; rows the install script seeds are left out
SELECT pg_catalog.pg_extension_config_dump('taxonomy', 'WHERE NOT builtin');
SELECT pg_catalog.pg_extension_config_dump('policy', '');
SELECT pg_catalog.pg_extension_config_dump('policy_history', '');
SELECT pg_catalog.pg_extension_config_dump('policy_history_history_id_seq', '');
SELECT pg_catalog.pg_extension_config_dump('policy_category', '');
SELECT pg_catalog.pg_extension_config_dump('jurisdiction', '');
SELECT pg_catalog.pg_extension_config_dump('parameter_def', '');
SELECT pg_catalog.pg_extension_config_dump('parameter_setting', '');
SELECT pg_catalog.pg_extension_config_dump('recipient', '');
SELECT pg_catalog.pg_extension_config_dump('rule', '');
SELECT pg_catalog.pg_extension_config_dump('unenforceable', '');

-- ---------------------------------------------------------------------------
-- Views over the catalog (spec section 4)
-- ---------------------------------------------------------------------------
CREATE VIEW policies AS
    SELECT name, version, effective_date, title, controller, loaded_at, sha256
    FROM @extschema@.policy;

CREATE VIEW rules AS
    SELECT policy, kind, rule_id, categories, parameters, source
    FROM @extschema@.rule;

CREATE VIEW parameters AS
    SELECT d.policy, d.name, COALESCE(s.value, d.default_value) AS value,
           d.default_value, d.description, d.source
    FROM @extschema@.parameter_def d
    LEFT JOIN @extschema@.parameter_setting s USING (policy, name);

-- the category registry: taxonomy plus every loaded policy's own categories
CREATE VIEW categories AS
    SELECT category, description, description_zh, ARRAY[]::text[] AS defined_by
    FROM @extschema@.taxonomy t
    WHERE NOT EXISTS (SELECT 1 FROM @extschema@.policy_category p
                      WHERE p.category = t.category AND p.defined)
    UNION ALL
    SELECT c.category, COALESCE(t.description, min(c.description)),
           COALESCE(t.description_zh, min(c.description_zh)),
           array_agg(c.policy ORDER BY c.policy)
    FROM @extschema@.policy_category c
    LEFT JOIN @extschema@.taxonomy t USING (category)
    WHERE c.defined
    GROUP BY c.category, t.description, t.description_zh;

GRANT SELECT ON policies, rules, parameters, categories TO governance_reader;
GRANT SELECT ON taxonomy, policy, policy_history, policy_category, jurisdiction,
    parameter_def, parameter_setting, recipient, rule, unenforceable TO governance_reader;

-- ---------------------------------------------------------------------------
-- Loading policies (spec section 4)
-- ---------------------------------------------------------------------------

-- Writes a document validated by the C loader.  Not callable by users: the
-- loader functions below run it as the extension owner.
CREATE FUNCTION _store_policy(doc jsonb, yaml text, origin text,
                              OUT name text, OUT changed boolean)
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $fn$
DECLARE
    hdr jsonb := doc -> 'policy';
    digest text := encode(sha256(convert_to(yaml, 'UTF8')), 'hex');
    old @extschema@.policy;
    k text;
BEGIN
    name := hdr ->> 'name';
    PERFORM pg_advisory_xact_lock(hashtext('pg_governance.policy:' || name));
    SELECT * INTO old FROM @extschema@.policy p WHERE p.name = _store_policy.name;
    IF FOUND AND old.sha256 = digest THEN
        changed := false;
        RETURN;
    END IF;
    changed := true;
    IF FOUND THEN
        INSERT INTO @extschema@.policy_history (name, version, sha256, yaml, document, loaded_at, loaded_by)
            VALUES (old.name, old.version, old.sha256, old.yaml, old.document, old.loaded_at, old.loaded_by);
        PERFORM @extschema@._delete_policy_rows(name);
    END IF;

    INSERT INTO @extschema@.policy (name, version, effective_date, title, controller, language,
                                    seed, home_jurisdiction, origin, document, yaml, sha256)
    VALUES (name, hdr ->> 'version', (hdr ->> 'effective_date')::date, hdr ->> 'title',
            hdr ->> 'controller', hdr ->> 'language', hdr ->> 'seed',
            hdr ->> 'home_jurisdiction', origin, doc, yaml, digest);

    INSERT INTO @extschema@.policy_category (policy, category, description, description_zh, implies, source)
    SELECT name, (c ->> 'name')::@extschema@.category, c ->> 'description', c ->> 'description_zh',
           COALESCE(ARRAY(SELECT jsonb_array_elements_text(c -> 'implies'))::@extschema@.category[], '{}'),
           c ->> 'source'
    FROM jsonb_array_elements(COALESCE(doc -> 'categories', '[]')) c;

    INSERT INTO @extschema@.policy_category AS pc (policy, category, sensitive, defined, source)
    SELECT DISTINCT name, s::@extschema@.category, true, false, doc -> 'sensitive' ->> 'source'
    FROM jsonb_array_elements_text(COALESCE(doc -> 'sensitive' -> 'categories', '[]')) s
    ON CONFLICT (policy, category) DO UPDATE SET sensitive = true;

    INSERT INTO @extschema@.jurisdiction (policy, name, include, exclude, source)
    SELECT name, j ->> 'name',
           ARRAY(SELECT jsonb_array_elements_text(j -> 'include'))::@extschema@.region[],
           COALESCE(ARRAY(SELECT jsonb_array_elements_text(j -> 'exclude'))::@extschema@.region[], '{}'),
           j ->> 'source'
    FROM jsonb_array_elements(COALESCE(doc -> 'jurisdictions', '[]')) j;

    INSERT INTO @extschema@.parameter_def (policy, name, default_value, description, source)
    SELECT name, p ->> 'name', p ->> 'default', p ->> 'description', p ->> 'source'
    FROM jsonb_array_elements(COALESCE(doc -> 'parameters', '[]')) p;

    INSERT INTO @extschema@.recipient (policy, name, class, provider, categories, purposes, destinations, source)
    SELECT name, r ->> 'name', r ->> 'class', r ->> 'provider',
           ARRAY(SELECT jsonb_array_elements_text(r -> 'categories'))::@extschema@.category[],
           ARRAY(SELECT jsonb_array_elements_text(r -> 'purposes')),
           COALESCE(ARRAY(SELECT jsonb_array_elements_text(r -> 'destinations')), '{}'),
           r ->> 'source'
    FROM jsonb_array_elements(COALESCE(doc -> 'recipients', '[]')) r;

    FOR k IN SELECT jsonb_object_keys(doc -> 'rules') LOOP
        INSERT INTO @extschema@.rule (policy, kind, rule_id, ordinal, categories, parameters, source)
        SELECT name, k, r.value ->> 'id', r.ordinality,
               COALESCE(ARRAY(SELECT jsonb_array_elements_text(r.value -> 'categories'))::@extschema@.category[], '{}'),
               r.value - 'id' - 'categories' - 'source',
               r.value ->> 'source'
        FROM jsonb_array_elements(doc -> 'rules' -> k) WITH ORDINALITY r;
    END LOOP;

    INSERT INTO @extschema@.unenforceable (policy, ordinal, source, reason)
    SELECT name, u.ordinality, u.value ->> 'source', u.value ->> 'reason'
    FROM jsonb_array_elements(COALESCE(doc -> 'unenforceable', '[]')) WITH ORDINALITY u;
END
$fn$;
REVOKE ALL ON FUNCTION _store_policy(jsonb, text, text) FROM PUBLIC;

CREATE FUNCTION _delete_policy_rows(policy_name text) RETURNS void
LANGUAGE sql SET search_path = pg_catalog, pg_temp AS $fn$
    DELETE FROM @extschema@.policy_category WHERE policy = policy_name;
    DELETE FROM @extschema@.jurisdiction WHERE policy = policy_name;
    DELETE FROM @extschema@.parameter_def WHERE policy = policy_name;
    DELETE FROM @extschema@.recipient WHERE policy = policy_name;
    DELETE FROM @extschema@.rule WHERE policy = policy_name;
    DELETE FROM @extschema@.unenforceable WHERE policy = policy_name;
    DELETE FROM @extschema@.policy WHERE name = policy_name;
$fn$;
REVOKE ALL ON FUNCTION _delete_policy_rows(text) FROM PUBLIC;

CREATE FUNCTION load_policy(yaml text) RETURNS text
    AS 'MODULE_PATHNAME', 'governance_load_policy'
    LANGUAGE C STRICT VOLATILE SECURITY DEFINER SET search_path = pg_catalog, pg_temp;
COMMENT ON FUNCTION load_policy(text) IS 'parse, validate and store a policy given as YAML text; returns its name';

CREATE FUNCTION load_policy_file(path text) RETURNS text
    AS 'MODULE_PATHNAME', 'governance_load_policy_file'
    LANGUAGE C STRICT VOLATILE SECURITY DEFINER SET search_path = pg_catalog, pg_temp;
COMMENT ON FUNCTION load_policy_file(text) IS 'load a policy from a server-side YAML file (superuser or pg_read_server_files)';

CREATE FUNCTION load_bundled_policy(name text) RETURNS text
    AS 'MODULE_PATHNAME', 'governance_load_bundled_policy'
    LANGUAGE C STRICT VOLATILE SECURITY DEFINER SET search_path = pg_catalog, pg_temp;
COMMENT ON FUNCTION load_bundled_policy(text) IS 'load one of the policies installed with the extension';

CREATE FUNCTION bundled_policies() RETURNS SETOF text
    AS 'MODULE_PATHNAME', 'governance_bundled_policies'
    LANGUAGE C STRICT STABLE;
COMMENT ON FUNCTION bundled_policies() IS 'names of the policies installed with the extension';

CREATE FUNCTION _load_taxonomy() RETURNS integer
    AS 'MODULE_PATHNAME', 'governance_load_taxonomy'
    LANGUAGE C STRICT VOLATILE;
REVOKE ALL ON FUNCTION _load_taxonomy() FROM PUBLIC;

CREATE FUNCTION _invalidate_all() RETURNS void
    AS 'MODULE_PATHNAME', 'governance_invalidate_all'
    LANGUAGE C STRICT VOLATILE;
REVOKE ALL ON FUNCTION _invalidate_all() FROM PUBLIC;

CREATE FUNCTION is_iso8601_duration(text) RETURNS boolean
    AS 'MODULE_PATHNAME', 'governance_is_iso8601_duration'
    LANGUAGE C STRICT IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION is_iso8601_duration(text) IS 'true if the text is an ISO 8601 duration such as P6M or PT72H';

CREATE FUNCTION drop_policy(name text) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $fn$
DECLARE
    bound text;
BEGIN
    IF NOT EXISTS (SELECT 1 FROM @extschema@.policy p WHERE p.name = drop_policy.name) THEN
        RAISE EXCEPTION 'policy "%" does not exist', name
            USING ERRCODE = 'GV010',
                  DETAIL = 'No loaded policy has that name; nothing was dropped.',
                  HINT = 'SELECT name FROM governance.policies lists the loaded policies.';
    END IF;
    -- bindings are labels "policy=<name>" on tables, schemas or the database
    SELECT string_agg(DISTINCT obj, ', ') INTO bound FROM (
        SELECT pg_describe_object(l.classoid, l.objoid, l.objsubid) AS obj, l.label
        FROM pg_seclabel l WHERE l.provider = 'governance'
        UNION ALL
        SELECT pg_describe_object(l.classoid, l.objoid, 0), l.label
        FROM pg_shseclabel l WHERE l.provider = 'governance'
    ) b
    WHERE EXISTS (SELECT 1 FROM regexp_split_to_table(b.label, ';') item
                  WHERE btrim(item) = 'policy=' || name);
    IF bound IS NOT NULL THEN
        RAISE EXCEPTION 'policy "%" is still bound', name
            USING ERRCODE = 'GV010',
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
COMMENT ON FUNCTION drop_policy(text) IS 'remove a loaded policy (kept in policy_history); refused while objects are bound to it';

CREATE FUNCTION set_parameter(policy text, name text, value text) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $fn$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM @extschema@.parameter_def d
                   WHERE d.policy = set_parameter.policy AND d.name = set_parameter.name) THEN
        RAISE EXCEPTION 'policy "%" has no parameter "%"', policy, name
            USING ERRCODE = 'GV010',
                  DETAIL = 'Parameters are declared by the policy file.',
                  HINT = 'SELECT policy, name FROM governance.parameters lists them.';
    END IF;
    IF value IS NOT NULL AND NOT @extschema@.is_iso8601_duration(value) THEN
        RAISE EXCEPTION 'invalid ISO 8601 duration "%" for parameter "%" of policy "%"', value, name, policy
            USING ERRCODE = 'GV010',
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
COMMENT ON FUNCTION set_parameter(text, text, text) IS 'set a policy parameter (an ISO 8601 duration); NULL restores the default';

CREATE FUNCTION in_jurisdiction(r region, jurisdiction text, policy text) RETURNS boolean
LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp AS $fn$
DECLARE
    j @extschema@.jurisdiction;
BEGIN
    SELECT * INTO j FROM @extschema@.jurisdiction x
    WHERE x.policy = in_jurisdiction.policy AND x.name = in_jurisdiction.jurisdiction;
    IF NOT FOUND THEN
        IF jurisdiction ~ '^[A-Z]{2}(-[A-Z0-9]{1,3})?$' THEN
            RETURN jurisdiction::@extschema@.region OPERATOR(@extschema@.@>) r;
        END IF;
        RAISE EXCEPTION 'policy "%" has no jurisdiction "%"', policy, jurisdiction
            USING ERRCODE = 'GV010',
                  DETAIL = 'Jurisdictions are declared by the policy file.',
                  HINT = 'SELECT * FROM governance.jurisdiction lists them; a region code such as CN also works.';
    END IF;
    RETURN EXISTS (SELECT 1 FROM unnest(j.include) i WHERE i OPERATOR(@extschema@.@>) r)
       AND NOT EXISTS (SELECT 1 FROM unnest(j.exclude) e WHERE e OPERATOR(@extschema@.@>) r);
END
$fn$;
COMMENT ON FUNCTION in_jurisdiction(region, text, text) IS 'is the region inside the named jurisdiction of the policy (includes minus excludes)?';

REVOKE ALL ON FUNCTION load_policy(text), load_policy_file(text), load_bundled_policy(text),
    drop_policy(text), set_parameter(text, text, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION load_policy(text), load_policy_file(text), load_bundled_policy(text),
    drop_policy(text), set_parameter(text, text, text) TO governance_admin;

SELECT @extschema@._load_taxonomy();

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

CREATE VIEW holds AS
    SELECT hold_id, relation, subject, reason, placed_at, placed_by, released_at
    FROM @extschema@.hold;

CREATE FUNCTION _load() RETURNS void
    AS 'MODULE_PATHNAME', 'governance_load_library' LANGUAGE C STRICT;
CREATE FUNCTION _is_admin() RETURNS boolean
    AS 'MODULE_PATHNAME', 'governance_is_admin_fn' LANGUAGE C STRICT STABLE;
COMMENT ON FUNCTION _is_admin() IS 'is the role that issued the command (not a function definer) a governance_admin or superuser?';
CREATE FUNCTION _invalidate_relation(regclass) RETURNS void
    AS 'MODULE_PATHNAME', 'governance_invalidate_relation' LANGUAGE C STRICT;
REVOKE ALL ON FUNCTION _invalidate_relation(regclass) FROM PUBLIC;
CREATE FUNCTION _sync_guards(oid, command_tag text) RETURNS void
    AS 'MODULE_PATHNAME', 'governance_sync_guards' LANGUAGE C;
CREATE FUNCTION bound_policy(regclass) RETURNS text
    AS 'MODULE_PATHNAME', 'governance_bound_policy' LANGUAGE C STRICT STABLE;
COMMENT ON FUNCTION bound_policy(regclass) IS 'the policy that governs a table: nearest of table, ancestors, schema, database';

CREATE VIEW tagged_columns AS
    SELECT l.objoid::regclass AS relation, a.attname AS "column",
           COALESCE((SELECT regexp_split_to_array(substr(i, 10), '\s*,\s*')::@extschema@.category[]
                     FROM unnest(p.items) i WHERE i LIKE 'category=%'), '{}') AS categories,
           ARRAY(SELECT i FROM unnest(p.items) i WHERE i NOT LIKE 'category=%') AS roles,
           @extschema@.bound_policy(l.objoid::regclass) AS policy
    FROM pg_catalog.pg_seclabel l
    JOIN pg_catalog.pg_attribute a ON a.attrelid = l.objoid AND a.attnum = l.objsubid
    CROSS JOIN LATERAL (SELECT ARRAY(SELECT regexp_replace(btrim(x), '\s*=\s*', '=')
                                     FROM regexp_split_to_table(l.label, ';') x) AS items) p
    WHERE l.provider = 'governance' AND l.classoid = 'pg_catalog.pg_class'::regclass
      AND l.objsubid > 0;

GRANT SELECT ON label_history, hold, holds, tagged_columns TO governance_reader;

-- Wrappers: usable without preloading (they load the library first) and
-- without owning the table; EXECUTE is granted to governance_admin only.
CREATE FUNCTION tag(rel regclass, col name, label text) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $fn$
BEGIN
    PERFORM @extschema@._load();
    IF NOT EXISTS (SELECT 1 FROM pg_attribute a WHERE a.attrelid = rel AND a.attname = col
                   AND a.attnum > 0 AND NOT a.attisdropped) THEN
        RAISE EXCEPTION 'column "%" of relation % does not exist', col, rel
            USING ERRCODE = 'GV011',
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
            USING ERRCODE = 'GV011', DETAIL = 'Nothing was untagged.',
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
LANGUAGE sql IMMUTABLE SET search_path = pg_catalog, pg_temp AS $fn$
    SELECT NULLIF(array_to_string(ARRAY(
        SELECT btrim(i) FROM regexp_split_to_table(COALESCE(label, ''), ';') i
        WHERE btrim(i) <> '' AND split_part(btrim(i), '=', 1) <> key
        UNION ALL SELECT key || '=' || value WHERE value IS NOT NULL), ';'), '')
$fn$;

CREATE FUNCTION bind_database(policy text) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $fn$
DECLARE
    new_label text;
BEGIN
    PERFORM @extschema@._load();
    SELECT @extschema@._replace_item(l.label, 'policy', policy) INTO new_label
    FROM (SELECT (SELECT label FROM pg_shseclabel s JOIN pg_database d ON d.oid = s.objoid
                  WHERE s.provider = 'governance' AND s.classoid = 'pg_database'::regclass
                    AND d.datname = current_database()) AS label) l;
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
    FROM (SELECT (SELECT label FROM pg_shseclabel s JOIN pg_database d ON d.oid = s.objoid
                  WHERE s.provider = 'governance' AND s.classoid = 'pg_database'::regclass
                    AND d.datname = current_database()) AS label) l;
    EXECUTE format('SECURITY LABEL FOR governance ON DATABASE %I IS %s', current_database(),
                   COALESCE(quote_literal(new_label), 'NULL'));
END
$fn$;
COMMENT ON FUNCTION set_database_region(region) IS 'record where the current database stores its data, keeping its policy binding';

CREATE FUNCTION place_hold(rel regclass, subject text, reason text) RETURNS bigint
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $fn$
DECLARE
    id bigint;
BEGIN
    IF subject IS NULL OR reason IS NULL OR btrim(reason) = '' THEN
        RAISE EXCEPTION 'a legal hold needs a subject and a reason'
            USING ERRCODE = 'GV005', DETAIL = 'No hold was placed.',
                  HINT = 'Say whose rows are held and why (case number, authority).';
    END IF;
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
        RAISE EXCEPTION 'no active legal hold %', hold_id
            USING ERRCODE = 'GV005', DETAIL = 'The hold does not exist or was already released.',
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
