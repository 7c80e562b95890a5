-- src/reports/report.sql — governance.compliance_report(): one line per
-- finding, each saying what to do, and an 'ok' line for every check that
-- passes, so that the report is complete.  Checks, in this order:
--   untagged suspects        governance.suggest_tags (when installed)
--   tags without policy      tagged columns on tables no policy governs
--   labels unresolved        tables that refuse writes (GV011)
--   missing anchor column    retention rules whose clock the table lacks
--   missing region           localization rules with no region to check
--   missing subject column   governed personal data no request can reach
--   subject column index     subject columns that requests would scan
--   retention overdue        rows past a delete/anonymize maximum
--   requests overdue         governance.requests (when installed)
--   sharing log chain        governance.verify_sharing_log()
--
-- SECURITY INVOKER, on purpose: the report gives its caller nothing the
-- caller could not already learn.  Every check reads the catalog, or goes
-- through a function that already answers governance_reader without
-- showing user data (retention_preview counts due rows as each table's
-- owner, verify_sharing_log walks the chain).  Only discovery samples
-- values; if the caller may not, that check says 'skipped' and why,
-- rather than the report lending the extension owner's rights to code it
-- does not own.  A check that fails says 'skipped' with the error: a
-- check never reads as 'ok' unless it ran.

-- the governed tables a report looks at: those with tagged columns and a
-- policy, minus partitions whose ancestor is listed (explained with it)
CREATE FUNCTION _report_tables() RETURNS SETOF regclass
LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp AS $fn$
    WITH t AS (SELECT DISTINCT tc.relation FROM @extschema@.tagged_columns tc WHERE tc.governed)
    SELECT t.relation FROM t
    WHERE NOT EXISTS (SELECT 1 FROM pg_partition_ancestors(t.relation) a
                      JOIN t u ON u.relation OPERATOR(pg_catalog.=) a.relid
                      WHERE a.relid OPERATOR(pg_catalog.<>) t.relation)
    ORDER BY t.relation::text COLLATE "C"
$fn$;

-- the compiled lines of every table the report looks at (explain.c)
CREATE FUNCTION _report_lines(OUT relation regclass, OUT "column" text, OUT category text,
                              OUT rule_kind text, OUT rule_id text, OUT effect text)
RETURNS SETOF record
LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp AS $fn$
    SELECT r, e."column", e.category, e.rule_kind, e.rule_id, e.effect
    FROM @extschema@._report_tables() r, @extschema@._explain_compiled(r) e
$fn$;

CREATE FUNCTION compliance_report()
RETURNS TABLE ("check" text, status text, detail text)
LANGUAGE plpgsql VOLATILE SET search_path = pg_catalog, pg_temp AS $fn$
#variable_conflict use_column
BEGIN
    -- untagged suspects -------------------------------------------------
    IF to_regprocedure('@extschema@.suggest_tags(name, integer)') IS NULL THEN
        RETURN QUERY SELECT 'untagged suspects', 'skipped',
            'governance.suggest_tags(schema, sample_rows) is not installed, so untagged personal data cannot be looked for. Update the extension.';
    ELSE
        BEGIN
            RETURN QUERY EXECUTE
                $q$SELECT 'untagged suspects'::text, 'warning'::text,
                        pg_catalog.format('column %I of %s looks like %s (confidence %s; %s). Tag it: SELECT governance.tag(%L, %L, %L); or, if it holds no personal data, leave it and note why.',
                               s."column", s.relation, s.category, pg_catalog.round(s.confidence::numeric, 2), s.evidence,
                               s.relation::text, s."column", 'category=' || s.category::text)
                   FROM @extschema@.suggest_tags(NULL, 200) s
                   ORDER BY s.relation::text COLLATE "C", s."column" COLLATE "C", s.category::text COLLATE "C"$q$;
            IF NOT FOUND THEN
                RETURN QUERY SELECT 'untagged suspects', 'ok',
                    'no untagged column looks personal (names and a sample of 200 rows per table)';
            END IF;
        EXCEPTION WHEN OTHERS THEN
            RETURN QUERY SELECT 'untagged suspects', 'skipped',
                format('could not run governance.suggest_tags: %s (SQLSTATE %s). Run the report as a role that may read the tables, or run suggest_tags as one.', SQLERRM, SQLSTATE);
        END;
    END IF;

    -- tags without policy -------------------------------------------------
    RETURN QUERY
        SELECT 'tags without policy', 'warning',
               format('table %s has tagged columns (%s) but no policy governs it: nothing is enforced on it. Bind a policy: SELECT governance.bind(%L, ''<policy>''); or bind its schema or the database (governance.bind_database).',
                      t.relation, string_agg(quote_ident(t."column"), ', ' ORDER BY t."column" COLLATE "C"), t.relation::text)
        FROM @extschema@.tagged_columns t
        WHERE NOT t.governed
        GROUP BY t.relation
        ORDER BY t.relation::text COLLATE "C";
    IF NOT FOUND THEN
        RETURN QUERY SELECT 'tags without policy', 'ok', 'every table with tagged columns is governed by a policy';
    END IF;

    -- per governed table: what its compiled rules cannot do ---------------
    RETURN QUERY
        SELECT 'labels unresolved', 'violation',
               format('table %s refuses every write: %s Load the policy or fix the label (governance.tag / governance.bind).',
                      l.relation, substr(l.effect, length('writes are refused (GV011): ') + 1))
        FROM @extschema@._report_lines() l WHERE l.rule_kind OPERATOR(pg_catalog.=) 'fail_closed'
        ORDER BY l.relation::text COLLATE "C";
    IF NOT FOUND THEN
        RETURN QUERY SELECT 'labels unresolved', 'ok', 'every governed table''s labels resolve';
    END IF;

    RETURN QUERY
        SELECT 'missing anchor column', 'warning',
               format('table %s has no column labelled anchor=%s, so rule%s %s (covering %s) cannot read %s clock and %s not applied. Tag the column that holds the time of that event: SELECT governance.tag(%L, ''<column>'', ''anchor=%s''); if the event never happens to these rows, the rule stays inert.',
                      m.relation, m.event, CASE WHEN m.n OPERATOR(pg_catalog.>) 1 THEN 's' ELSE '' END, m.rules, m.columns,
                      CASE WHEN m.n OPERATOR(pg_catalog.>) 1 THEN 'their' ELSE 'its' END,
                      CASE WHEN m.n OPERATOR(pg_catalog.>) 1 THEN 'are' ELSE 'is' END,
                      m.relation::text, m.event)
        FROM (SELECT l.relation, a.event,
                     count(DISTINCT l.rule_id) AS n,
                     string_agg(DISTINCT l.rule_id, ', ') AS rules,
                     string_agg(DISTINCT quote_ident(l."column"), ', ') AS columns
              FROM @extschema@._report_lines() l
              CROSS JOIN LATERAL (SELECT substring(l.effect FROM 'no column labelled anchor=([a-z_]+)') AS event) a
              WHERE l.rule_kind OPERATOR(pg_catalog.=) 'retention' AND a.event IS NOT NULL
              GROUP BY l.relation, a.event) m
        ORDER BY m.relation::text COLLATE "C", m.event;
    IF NOT FOUND THEN
        RETURN QUERY SELECT 'missing anchor column', 'ok', 'every retention rule finds its anchor column';
    END IF;

    RETURN QUERY
        WITH lines AS MATERIALIZED (SELECT * FROM @extschema@._report_lines())
        SELECT 'missing region', 'violation',
               format('table %s holds data that must stay in a jurisdiction (%s) but %s. Label a region column (governance.tag(%L, ''<column>'', ''region'')) or record where the data is stored: SELECT governance.set_database_region(''CN''); or governance.set_region(tablespace, region).',
                      l.relation,
                      (SELECT string_agg(DISTINCT x.rule_id, ', ') FROM lines x
                       WHERE x.relation OPERATOR(pg_catalog.=) l.relation AND x.rule_kind OPERATOR(pg_catalog.=) 'localization'),
                      CASE WHEN l.effect LIKE 'no region is known%' THEN 'no region is known for it, so every write is refused (GV001 region unknown)'
                           ELSE 'no storage region is recorded, so a row whose region column is NULL is refused' END,
                      l.relation::text)
        FROM lines l
        WHERE l.rule_kind OPERATOR(pg_catalog.=) 'storage' AND l.effect LIKE 'no %region%'
        ORDER BY l.relation::text COLLATE "C";
    IF NOT FOUND THEN
        RETURN QUERY SELECT 'missing region', 'ok', 'every table under a localization rule has a region to check';
    END IF;

    -- personal data that no data-subject request can reach: no subject
    -- column, and no foreign key to or from a table that has one
    RETURN QUERY
        WITH lines AS MATERIALIZED (SELECT * FROM @extschema@._report_lines()),
        personal AS (
            SELECT x.relation, string_agg(DISTINCT x."column", ', ') AS columns
            FROM lines x
            WHERE x.rule_kind OPERATOR(pg_catalog.=) 'category'
              AND x.category::@extschema@.category OPERATOR(@extschema@.<@) 'personal'
            GROUP BY x.relation)
        SELECT 'missing subject column', 'warning',
               format('table %s holds personal data (columns %s) but has no column labelled subject and no foreign key to or from a table that has one: subject_export and erase_subject cannot find its rows. Tag the column that identifies the person: SELECT governance.tag(%L, ''<column>'', ''subject'');',
                      t.relation, t.columns, t.relation::text)
        FROM personal t
        WHERE NOT EXISTS (SELECT 1 FROM lines x
                          WHERE x.relation OPERATOR(pg_catalog.=) t.relation AND x.rule_kind OPERATOR(pg_catalog.=) 'role'
                            AND x.rule_id OPERATOR(pg_catalog.=) 'subject')
          AND NOT EXISTS (SELECT 1 FROM pg_constraint k
                          JOIN @extschema@.tagged_columns s
                            ON s.relation OPERATOR(pg_catalog.=) (CASE WHEN k.conrelid OPERATOR(pg_catalog.=) t.relation THEN k.confrelid ELSE k.conrelid END)
                           AND 'subject' OPERATOR(pg_catalog.=) ANY (s.roles)
                          WHERE k.contype OPERATOR(pg_catalog.=) 'f'
                            AND (k.conrelid OPERATOR(pg_catalog.=) t.relation OR k.confrelid OPERATOR(pg_catalog.=) t.relation))
        ORDER BY t.relation::text COLLATE "C";
    IF NOT FOUND THEN
        RETURN QUERY SELECT 'missing subject column', 'ok', 'data-subject requests can reach every governed table with personal data';
    END IF;

    -- a subject column needs an index whose first key is that column, or
    -- every request (export, erasure, hold check) scans the table
    RETURN QUERY
        SELECT 'subject column index', 'warning',
               format('subject column %I of %s has no index: every export, erasure and hold check scans the table. CREATE INDEX ON %s (%I);',
                      t."column", t.relation, t.relation, t."column")
        FROM @extschema@.tagged_columns t
        JOIN pg_attribute a ON a.attrelid OPERATOR(pg_catalog.=) t.relation AND a.attname OPERATOR(pg_catalog.=) t."column"
        WHERE 'subject' OPERATOR(pg_catalog.=) ANY (t.roles)
          AND NOT EXISTS (SELECT 1 FROM pg_index i
                          WHERE i.indrelid OPERATOR(pg_catalog.=) t.relation
                            AND i.indkey[0] OPERATOR(pg_catalog.=) a.attnum AND i.indpred IS NULL)
        ORDER BY t.relation::text COLLATE "C", t."column" COLLATE "C";
    IF NOT FOUND THEN
        RETURN QUERY SELECT 'subject column index', 'ok', 'every subject column has an index';
    END IF;

    -- retention overdue ----------------------------------------------------
    BEGIN
        RETURN QUERY
            SELECT 'retention overdue', 'violation',
                   format('%s row%s of %s %s past the maximum of rule %s and should be %s: CALL governance.run_retention(%L);',
                          p.rows_due, CASE WHEN p.rows_due OPERATOR(pg_catalog.>) 1 THEN 's' ELSE '' END, p.relation,
                          CASE WHEN p.rows_due OPERATOR(pg_catalog.>) 1 THEN 'are' ELSE 'is' END, p.rule_id,
                          CASE p.action WHEN 'delete' THEN 'deleted' ELSE 'anonymized' END, p.relation::text)
            FROM @extschema@.retention_preview(NULL) p
            WHERE p.action IN ('delete', 'anonymize') AND p.rows_due OPERATOR(pg_catalog.>) 0
            ORDER BY p.relation::text COLLATE "C", p.rule_id;
        IF NOT FOUND THEN
            RETURN QUERY SELECT 'retention overdue', 'ok', 'no row is past a maximum that deletes or anonymizes';
        END IF;
    EXCEPTION WHEN OTHERS THEN
        RETURN QUERY SELECT 'retention overdue', 'skipped',
            format('could not run governance.retention_preview: %s (SQLSTATE %s)', SQLERRM, SQLSTATE);
    END;

    -- requests overdue ------------------------------------------------------
    IF to_regclass('@extschema@.requests') IS NULL THEN
        RETURN QUERY SELECT 'requests overdue', 'skipped',
            'governance.requests is not installed, so request deadlines cannot be checked. Update the extension.';
    ELSE
        BEGIN
            RETURN QUERY EXECUTE
                $q$SELECT 'requests overdue'::text, 'violation'::text,
                        pg_catalog.format('request %s (%s) of policy %s was due on %s and is not closed: answer it and close it with governance.close_request(%s).',
                               r.request_id, r.kind, r.policy, pg_catalog.to_char(r.due_at, 'YYYY-MM-DD'), r.request_id)
                   FROM @extschema@.requests r WHERE r.overdue ORDER BY r.due_at, r.request_id$q$;
            IF NOT FOUND THEN
                RETURN QUERY SELECT 'requests overdue', 'ok', 'no data-subject request is overdue';
            END IF;
        EXCEPTION WHEN OTHERS THEN
            RETURN QUERY SELECT 'requests overdue', 'skipped',
                format('could not read governance.requests: %s (SQLSTATE %s)', SQLERRM, SQLSTATE);
        END;
    END IF;

    -- erasures to finish: rows an erasure kept (restrict.c) whose legal hold
    -- has been released stay blocked until the subject is erased again
    BEGIN
        RETURN QUERY
            SELECT 'erasures to finish', 'warning',
                   format('%s row%s of %s kept by an erasure under a legal hold %s still blocked, and the table has no hold in force any more: erase the subject%s again (governance.erase_subject) to finish the erasure; rows still under a minimum retention stay kept.',
                          k.held_rows, CASE WHEN k.held_rows OPERATOR(pg_catalog.>) 1 THEN 's' ELSE '' END, k.relid,
                          CASE WHEN k.held_rows OPERATOR(pg_catalog.>) 1 THEN 'are' ELSE 'is' END,
                          CASE WHEN k.held_rows OPERATOR(pg_catalog.>) 1 THEN 's' ELSE '' END)
            FROM (SELECT r.relid, count(*) AS held_rows
                  FROM @extschema@.restricted_rows r
                  WHERE r.reason LIKE '%legal hold'
                    AND EXISTS (SELECT 1 FROM pg_class c WHERE c.oid OPERATOR(pg_catalog.=) r.relid)
                  GROUP BY r.relid) k
            -- (a hold on the table or an ancestor, partition parent or inheritance parent)
            WHERE NOT EXISTS (WITH RECURSIVE up(r) AS (
                                  SELECT k.relid::pg_catalog.oid
                                  UNION SELECT i.inhparent FROM pg_inherits i JOIN up ON i.inhrelid OPERATOR(pg_catalog.=) up.r)
                              SELECT 1 FROM @extschema@.hold h JOIN up ON h.relation::pg_catalog.oid OPERATOR(pg_catalog.=) up.r
                              WHERE h.released_at IS NULL)
            ORDER BY k.relid::text COLLATE "C";
        IF NOT FOUND THEN
            RETURN QUERY SELECT 'erasures to finish', 'ok',
                format('no row kept by an erasure waits for a released hold (%s row%s kept and blocked for the law)',
                       n, CASE WHEN n OPERATOR(pg_catalog.=) 1 THEN '' ELSE 's' END)
            FROM (SELECT count(*) AS n FROM @extschema@.restricted_rows r
                  WHERE EXISTS (SELECT 1 FROM pg_class c WHERE c.oid OPERATOR(pg_catalog.=) r.relid)) x;
        END IF;
    EXCEPTION WHEN OTHERS THEN
        RETURN QUERY SELECT 'erasures to finish', 'skipped',
            format('could not read governance.restricted_rows: %s (SQLSTATE %s)', SQLERRM, SQLSTATE);
    END;

    -- sharing log chain -----------------------------------------------------
    BEGIN
        RETURN QUERY
            SELECT 'sharing log chain',
                   CASE WHEN v.ok THEN 'ok' ELSE 'violation' END,
                   CASE WHEN v.ok THEN 'the hash chain of governance.sharing_log verifies'
                        ELSE format('the hash chain breaks at row %s: a row was edited, inserted or deleted behind the extension''s back. Compare with the head recorded outside the database (governance.sharing_log_head()), find who wrote the table, and restore the log from a backup.',
                                    v.first_bad_id) END
            FROM @extschema@.verify_sharing_log() v;
    EXCEPTION WHEN OTHERS THEN
        RETURN QUERY SELECT 'sharing log chain', 'skipped',
            format('could not run governance.verify_sharing_log: %s (SQLSTATE %s)', SQLERRM, SQLSTATE);
    END;
END
$fn$;
COMMENT ON FUNCTION compliance_report() IS 'one line per finding (untagged suspects, tags without policy, missing anchor/region/subject columns, unindexed subject columns, retention and requests overdue, erasures to finish, broken sharing-log chain), each with what to do; ok lines for checks that pass';

REVOKE ALL ON FUNCTION _report_tables(), _report_lines(), compliance_report() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION _report_tables(), _report_lines(), compliance_report() TO governance_reader, governance_admin;
