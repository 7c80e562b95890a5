-- src/policy/catalog.sql — the policy catalog tables and the views over them.
-- policy_load.c writes the tables through _store_policy (policies.sql).

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

