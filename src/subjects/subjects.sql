-- src/subjects/subjects.sql — data subjects' requests over every governed
-- table (spec section 9): subject_export and erase_subject, over the C
-- functions of subjects.c that find a subject's rows (subject columns,
-- then foreign keys) and read or erase them as each table's owner; the
-- record of erasures, which never holds the erased data.

CREATE FUNCTION _subject_rows(subject text, OUT relation regclass, OUT policy text,
                              OUT row_data jsonb, OUT columns jsonb, OUT note text)
    RETURNS SETOF record
    AS 'MODULE_PATHNAME', 'governance_subject_rows' LANGUAGE C STRICT VOLATILE ROWS 100;
CREATE FUNCTION _erase_subject_rows(subject text, dry_run boolean,
                                    OUT relation regclass, OUT action text, OUT rows bigint)
    RETURNS SETOF record
    AS 'MODULE_PATHNAME', 'governance_erase_subject_rows' LANGUAGE C STRICT VOLATILE ROWS 20;

-- ---------------------------------------------------------------------------
-- Export: a copy fit to hand to the person ("用户信息副本"): per table, its
-- policy and rows; each value with its categories and their descriptions.
-- ---------------------------------------------------------------------------
-- jit off: the estimates of the set-returning functions make the planner
-- compile this small query, which then costs half a second
CREATE FUNCTION subject_export(subject text) RETURNS jsonb
LANGUAGE plpgsql VOLATILE SET search_path = pg_catalog, pg_temp SET jit = off AS $fn$
DECLARE
    result jsonb;
BEGIN
    IF subject IS NULL OR subject = '' THEN
        RAISE EXCEPTION 'an export needs a subject'
            USING ERRCODE = '22004', HINT = 'Pass the value of the subject columns that identifies the person.';
    END IF;
    WITH r AS MATERIALIZED (
        SELECT row_number() OVER () AS n, x.*
        FROM @extschema@._subject_rows(subject_export.subject) x),
    cats AS MATERIALIZED (
        SELECT k.category::text AS cat, k.description, k.description_zh FROM @extschema@.categories k),
    vals AS (
        SELECT r.n, e.key, e.value, r.columns -> e.key AS tagged
        FROM r, jsonb_each(r.row_data) e),
    described AS (
        SELECT v.n, v.key,
               jsonb_agg(jsonb_build_object('category', c.cat, 'description', k.description,
                                            'description_zh', k.description_zh) ORDER BY c.ord) AS categories
        FROM vals v, jsonb_array_elements_text(v.tagged) WITH ORDINALITY c(cat, ord)
        LEFT JOIN cats k ON k.cat = c.cat
        WHERE v.tagged IS NOT NULL
        GROUP BY v.n, v.key),
    decorated_rows AS (
        SELECT v.n, jsonb_object_agg(v.key,
                   CASE WHEN d.categories IS NULL THEN jsonb_build_object('value', v.value)
                        ELSE jsonb_build_object('value', v.value, 'categories', d.categories) END) AS row_data
        FROM vals v LEFT JOIN described d USING (n, key)
        GROUP BY v.n),
    decorated AS (
        SELECT r.relation, r.policy, r.note, dr.row_data
        FROM r LEFT JOIN decorated_rows dr USING (n)),
    tables AS (
        SELECT d.relation,
               jsonb_strip_nulls(jsonb_build_object(
                   'policy', min(d.policy),
                   'rows', COALESCE(jsonb_agg(d.row_data) FILTER (WHERE d.row_data IS NOT NULL), '[]'),
                   'skipped', min(d.note))) AS t
        FROM decorated d GROUP BY d.relation)
    SELECT jsonb_build_object(
               'subject', subject_export.subject,
               'exported_at', now(),
               'blocked_rows', 'included: rows kept for the law only are part of what is held about the subject',
               'tables', COALESCE((SELECT jsonb_object_agg(t.relation::text, t.t ORDER BY t.relation::text) FROM tables t), '{}'))
    INTO result;
    RETURN result;
END
$fn$;
COMMENT ON FUNCTION subject_export(text) IS 'every governed row of a subject, found through subject columns and foreign keys, grouped by table, each value with its categories';

-- ---------------------------------------------------------------------------
-- Erasure and its record
-- ---------------------------------------------------------------------------
CREATE SEQUENCE erasure_id_seq;
CREATE TABLE erasure_log (
    erasure_id  bigint NOT NULL,
    erased_at   timestamptz NOT NULL DEFAULT pg_catalog.now(),
    erased_by   name NOT NULL DEFAULT pg_catalog.session_user(),
    relation    text NOT NULL,
    action      text NOT NULL,
    rows        bigint NOT NULL
);
COMMENT ON TABLE erasure_log IS 'each erasure of a subject: when, by whom, per table what was done to how many rows; never the subject or the data';
SELECT pg_catalog.pg_extension_config_dump('erasure_log', '');
SELECT pg_catalog.pg_extension_config_dump('erasure_id_seq', '');
GRANT SELECT ON erasure_log TO governance_reader, governance_admin;

CREATE FUNCTION erase_subject(subject text, dry_run boolean DEFAULT false)
    RETURNS TABLE (relation regclass, action text, rows bigint)
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp SET jit = off AS $fn$
DECLARE
    rels regclass[] := '{}';
    acts text[] := '{}';
    cnts bigint[] := '{}';
    r record;
    n bigint;
    p text;
    id bigint;
BEGIN
    IF NOT @extschema@._is_admin() THEN
        RAISE EXCEPTION 'permission denied to erase a subject'
            USING ERRCODE = '42501', HINT = 'Erasure is for members of governance_admin.';
    END IF;
    IF subject IS NULL OR subject = '' THEN
        RAISE EXCEPTION 'an erasure needs a subject'
            USING ERRCODE = '22004', HINT = 'Pass the value of the subject columns that identifies the person.';
    END IF;
    IF dry_run IS NULL THEN
        RAISE EXCEPTION 'dry_run must be true or false' USING ERRCODE = '22004';
    END IF;
    FOR r IN SELECT * FROM @extschema@._erase_subject_rows(erase_subject.subject, dry_run) LOOP
        rels := rels || r.relation; acts := acts || r.action; cnts := cnts || r.rows;
    END LOOP;
    -- the sharing log keeps its chain; the pseudonym no longer leads to the person
    n := (SELECT count(*) FROM @extschema@.sharing_log l
          WHERE l.subject = @extschema@.sharing_pseudonym(erase_subject.subject));
    IF @extschema@.sharing_pseudonym(erase_subject.subject) IS NOT NULL THEN
        IF NOT dry_run THEN
            PERFORM @extschema@.forget_sharing_subject(erase_subject.subject);
        END IF;
        rels := rels || '@extschema@.sharing_log'::regclass; acts := acts || 'pseudonym forgotten'::text; cnts := cnts || n;
    END IF;
    -- no more sharing on the person's consent (the records stay, as evidence)
    n := 0;
    FOR p IN SELECT DISTINCT c.purpose FROM @extschema@.consent c
             WHERE c.subject = erase_subject.subject AND c.withdrawn_at IS NULL
               AND (c.expires_at IS NULL OR c.expires_at > clock_timestamp()) LOOP
        IF dry_run THEN
            n := n + (SELECT count(*) FROM @extschema@.consent c
                      WHERE c.subject = erase_subject.subject AND c.purpose = p AND c.withdrawn_at IS NULL
                        AND (c.expires_at IS NULL OR c.expires_at > clock_timestamp()));
        ELSE
            n := n + @extschema@.withdraw_consent(erase_subject.subject, p);
        END IF;
    END LOOP;
    IF n > 0 THEN
        rels := rels || '@extschema@.consent'::regclass; acts := acts || 'consents withdrawn'::text; cnts := cnts || n;
    END IF;
    IF NOT dry_run THEN
        id := nextval('@extschema@.erasure_id_seq');
        IF cardinality(rels) = 0 THEN
            INSERT INTO @extschema@.erasure_log (erasure_id, relation, action, rows)
            VALUES (id, '-', 'nothing found', 0);
        ELSE
            INSERT INTO @extschema@.erasure_log (erasure_id, relation, action, rows)
            SELECT id, u.rel::text, u.act, COALESCE(u.cnt, 0) FROM unnest(rels, acts, cnts) u(rel, act, cnt);
        END IF;
    END IF;
    RETURN QUERY SELECT u.rel, u.act, u.cnt FROM unnest(rels, acts, cnts) u(rel, act, cnt)
        ORDER BY u.rel::text, u.act;
END
$fn$;
COMMENT ON FUNCTION erase_subject(text, boolean) IS 'erase a subject''s rows in every governed table (children first, one transaction); rows under a hold or minimum retention are kept, rows referenced from elsewhere anonymized; the sharing log''s pseudonym forgotten; recorded in erasure_log';

REVOKE ALL ON FUNCTION _subject_rows(text), _erase_subject_rows(text, boolean),
    subject_export(text), erase_subject(text, boolean) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION _subject_rows(text), subject_export(text), erase_subject(text, boolean)
    TO governance_admin;
