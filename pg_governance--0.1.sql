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
    SELECT name, s::@extschema@.category, true, false, doc -> 'sensitive' ->> 'source'
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
