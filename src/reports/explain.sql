-- src/reports/explain.sql — governance.explain(rel): per column of a table,
-- its categories and every rule that applies, in words, with the clause each
-- comes from; for the table, the governing policy and where the binding comes
-- from.  The compiled rules come from explain.c (the guard's own cache); this
-- file adds what only the policy catalog holds: cross-border conditions,
-- sharing rules, retention principles, descriptions, hold reasons.

CREATE FUNCTION _explain_compiled(rel regclass,
    OUT ord integer, OUT sub integer, OUT "column" text, OUT category text,
    OUT rule_kind text, OUT rule_id text, OUT effect text, OUT source text)
RETURNS SETOF record
    AS 'MODULE_PATHNAME', 'governance_explain_compiled' LANGUAGE C STRICT STABLE;
COMMENT ON FUNCTION _explain_compiled(regclass) IS 'explain(): the lines that come from the compiled rules of a table (guard cache)';

-- A localization rule's cross-border condition, in words.
CREATE FUNCTION _cross_border_words(parameters jsonb) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE SET search_path = pg_catalog, pg_temp AS $fn$
    SELECT CASE COALESCE(cb->>'condition', 'forbidden')
               WHEN 'forbidden' THEN 'never leaves it'
               WHEN 'consent' THEN 'leaves it only with the subject''s consent'
               WHEN 'authorization' THEN 'leaves it only with the controller''s authorization'
               ELSE 'leaves it only on a legal basis'
                    || COALESCE(' (' || (SELECT string_agg(b, ' or ' ORDER BY o)
                                         FROM jsonb_array_elements_text(cb->'legal_bases') WITH ORDINALITY x(b, o)) || ')', '')
           END
           || COALESCE(', with safeguards: ' || (SELECT string_agg(s, ', ' ORDER BY o)
                                                 FROM jsonb_array_elements_text(cb->'safeguards') WITH ORDINALITY x(s, o)), '')
    FROM (SELECT parameters->'cross_border' AS cb) p
$fn$;

-- A sharing rule, in words: who, for what, on which condition, where to.
CREATE FUNCTION _sharing_words(parameters jsonb) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE SET search_path = pg_catalog, pg_temp AS $fn$
    SELECT CASE WHEN parameters->>'effect' OPERATOR(pg_catalog.=) 'deny' THEN 'never shared with ' ELSE 'shared with ' END
           || COALESCE(NULLIF(concat_ws(' or ', rcp, CASE WHEN cls IS NOT NULL THEN 'any ' || cls || ' recipient' END), ''),
                       'any recipient')
           || ' for ' || COALESCE(pur, 'any purpose')
           || CASE WHEN parameters->>'effect' OPERATOR(pg_catalog.=) 'deny'
                   THEN COALESCE(' unless on legal basis ' || bas, '')
                   WHEN parameters->>'consent' OPERATOR(pg_catalog.=) 'required'
                   THEN ' with the subject''s consent' || COALESCE(' (or on legal basis ' || bas || ')', '')
                   ELSE ' without consent' || COALESCE(', on legal basis ' || bas, '')
              END
           || COALESCE(', to ' || dst, '')
    FROM (SELECT
            (SELECT string_agg(v, ', ' ORDER BY o) FROM jsonb_array_elements_text(parameters->'recipients') WITH ORDINALITY x(v, o)) AS rcp,
            (SELECT string_agg(v, '/' ORDER BY o) FROM jsonb_array_elements_text(parameters->'recipient_classes') WITH ORDINALITY x(v, o)) AS cls,
            (SELECT string_agg(v, ', ' ORDER BY o) FROM jsonb_array_elements_text(parameters->'purposes') WITH ORDINALITY x(v, o)) AS pur,
            (SELECT string_agg(v, ' or ' ORDER BY o) FROM jsonb_array_elements_text(parameters->'legal_bases') WITH ORDINALITY x(v, o)) AS bas,
            (SELECT string_agg(v, ' or ' ORDER BY o) FROM jsonb_array_elements_text(parameters->'destinations') WITH ORDINALITY x(v, o)) AS dst
         ) w
$fn$;

CREATE FUNCTION explain(rel regclass)
RETURNS TABLE ("column" name, category @extschema@.category, rule_kind text, rule_id text,
               effect text, source text)
LANGUAGE sql STABLE STRICT SET search_path = pg_catalog, pg_temp AS $fn$
    WITH c AS MATERIALIZED (
        SELECT * FROM @extschema@._explain_compiled(rel)
    ), pol AS (
        SELECT c.rule_id AS policy FROM c WHERE c.rule_kind OPERATOR(pg_catalog.=) 'binding'
    ), cats AS (
        SELECT c.ord, c."column", c.category::@extschema@.category AS category
        FROM c WHERE c.rule_kind OPERATOR(pg_catalog.=) 'category'
    ), lines AS (
        -- the compiled lines, completed from the catalog
        SELECT c.ord, c.sub, COALESCE(r.ordinal, 0) AS ordinal, c."column", c.category, c.rule_kind, c.rule_id,
               CASE c.rule_kind
                 WHEN 'localization' THEN c.effect || '; ' || @extschema@._cross_border_words(r.parameters)
                 WHEN 'hold' THEN c.effect || COALESCE(' (reason: ' || h.reason || ')', '')
                 WHEN 'category' THEN
                   CASE WHEN c.effect OPERATOR(pg_catalog.=) 'tagged' THEN 'tagged'
                        ELSE 'implied by ' || COALESCE(imp.via, 'the policy''s implies:') || ' (implies: of policy ' || pol.policy || ')'
                   END
                   || COALESCE(': ' || concat_ws(' / ', d.description_zh, d.description), '')
                 ELSE c.effect
               END AS effect,
               COALESCE(c.source, CASE WHEN c.rule_kind OPERATOR(pg_catalog.=) 'category' THEN imp.source END,
                        CASE WHEN c.rule_kind OPERATOR(pg_catalog.=) 'binding'
                             THEN (SELECT p.title || ' (' || p.controller || COALESCE(', ' || to_char(p.effective_date, 'YYYY-MM-DD'), '') || ')'
                                   FROM @extschema@.policy p WHERE p.name OPERATOR(pg_catalog.=) c.rule_id) END) AS source
        FROM c
        LEFT JOIN pol ON true
        LEFT JOIN @extschema@.rule r ON r.policy OPERATOR(pg_catalog.=) pol.policy
                                     AND r.rule_id OPERATOR(pg_catalog.=) c.rule_id
        LEFT JOIN @extschema@.hold h ON c.rule_kind OPERATOR(pg_catalog.=) 'hold'
                                     AND ('hold ' || h.hold_id::text) OPERATOR(pg_catalog.=) c.rule_id
        LEFT JOIN @extschema@.categories d ON c.rule_kind OPERATOR(pg_catalog.=) 'category'
                                           AND d.category::text OPERATOR(pg_catalog.=) c.category
        LEFT JOIN LATERAL (
            -- which of the column's categories implies this one, and the clause that says so
            SELECT pc.category::text AS via, pc.source
            FROM @extschema@.policy_category pc
            JOIN cats x ON x.ord OPERATOR(pg_catalog.=) c.ord AND x.category OPERATOR(@extschema@.=) pc.category
            WHERE c.rule_kind OPERATOR(pg_catalog.=) 'category' AND c.effect OPERATOR(pg_catalog.=) 'implied'
              AND pc.policy OPERATOR(pg_catalog.=) pol.policy AND pc.defined
              AND c.category::@extschema@.category OPERATOR(@extschema@.=) ANY (pc.implies)
            ORDER BY pc.category LIMIT 1) imp ON true
        UNION ALL
        -- sharing rules that name one of the column's categories (through the
        -- taxonomy and implies:), once per column, with the first category matched
        SELECT * FROM (
            SELECT DISTINCT ON (m.ord, m.rule_id)
                   m.ord, 7, m.ordinal, m."column", m.category::text, 'sharing', m.rule_id,
                   @extschema@._sharing_words(m.parameters), m.source
            FROM (SELECT x.ord, x."column", x.category, r.rule_id, r.ordinal, r.parameters, r.source
                  FROM cats x
                  JOIN pol ON true
                  JOIN @extschema@.rule r ON r.policy OPERATOR(pg_catalog.=) pol.policy
                                          AND r.kind OPERATOR(pg_catalog.=) 'sharing'
                  WHERE EXISTS (SELECT 1 FROM unnest(r.categories) rc
                                WHERE rc OPERATOR(@extschema@.@>) x.category)) m
            -- the broadest of the column's categories that the rule names
            ORDER BY m.ord, m.rule_id, @extschema@.depth(m.category), m.category::text COLLATE "C") s
        UNION ALL
        -- sharing rules for any category: for the table as a whole
        SELECT 0, 7, r.ordinal, NULL, NULL, 'sharing', r.rule_id,
               @extschema@._sharing_words(r.parameters) || ' (any category)', r.source
        FROM pol JOIN @extschema@.rule r ON r.policy OPERATOR(pg_catalog.=) pol.policy
        WHERE r.kind OPERATOR(pg_catalog.=) 'sharing' AND pg_catalog.cardinality(r.categories) OPERATOR(pg_catalog.=) 0
          AND EXISTS (SELECT 1 FROM cats)
        UNION ALL
        -- retention principles (how rules combine) that cover the column
        SELECT * FROM (
        SELECT DISTINCT ON (x.ord, r.rule_id)
               x.ord, 6, r.ordinal, x."column", x.category::text, 'retention', r.rule_id,
               CASE r.parameters->>'principle'
                 WHEN 'longest_wins' THEN 'principle: where several retention rules cover a row, the one that ends last decides; no row is destroyed while any minimum runs'
                 WHEN 'block_when_impossible' THEN 'principle: a row that cannot be deleted or anonymized stays blocked (kept, hidden from every role outside governance_admin)'
                 ELSE 'principle: ' || (r.parameters->>'principle')
               END, r.source
        FROM cats x JOIN pol ON true
        JOIN @extschema@.rule r ON r.policy OPERATOR(pg_catalog.=) pol.policy
                                AND r.kind OPERATOR(pg_catalog.=) 'retention' AND r.parameters ? 'principle'
        WHERE EXISTS (SELECT 1 FROM unnest(r.categories) rc WHERE rc OPERATOR(@extschema@.@>) x.category)
        ORDER BY x.ord, r.rule_id, @extschema@.depth(x.category), x.category::text COLLATE "C") p
    )
    SELECT l."column"::name, l.category::@extschema@.category, l.rule_kind, l.rule_id, l.effect, l.source
    FROM lines l
    ORDER BY l.ord, l.sub, l.ordinal, l.rule_id COLLATE "C", l.category::text COLLATE "C"
$fn$;
COMMENT ON FUNCTION explain(regclass) IS 'per column of a table: categories and every rule that applies (kind, id, effect in words, source clause); for the table: the governing policy and where the binding comes from';

REVOKE ALL ON FUNCTION _explain_compiled(regclass), _cross_border_words(jsonb),
    _sharing_words(jsonb), explain(regclass) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION _explain_compiled(regclass), _cross_border_words(jsonb),
    _sharing_words(jsonb), explain(regclass) TO governance_reader, governance_admin;
