-- src/policy/policies.sql — loading, dropping and parameterising policies
-- (policy_load.c, policy_schema.c, yaml_tree.c).

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
    LANGUAGE C STRICT STABLE PARALLEL SAFE;
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
COMMENT ON FUNCTION drop_policy(text) IS 'remove a loaded policy (kept in policy_history); refused while objects are bound to it';

CREATE FUNCTION set_parameter(policy text, name text, value text) RETURNS void
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
COMMENT ON FUNCTION set_parameter(text, text, text) IS 'set a policy parameter (an ISO 8601 duration); NULL restores the default';

CREATE FUNCTION in_jurisdiction(r region, jurisdiction text, policy text) RETURNS boolean
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
COMMENT ON FUNCTION in_jurisdiction(region, text, text) IS 'is the region inside the named jurisdiction of the policy (includes minus excludes)?';

REVOKE ALL ON FUNCTION load_policy(text), load_policy_file(text), load_bundled_policy(text),
    drop_policy(text), set_parameter(text, text, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION load_policy(text), load_policy_file(text), load_bundled_policy(text),
    drop_policy(text), set_parameter(text, text, text) TO governance_admin;

SELECT @extschema@._load_taxonomy();

