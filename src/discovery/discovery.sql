-- src/discovery/discovery.sql — PII discovery (spec section 9):
-- governance.suggest_tags finds untagged columns that look personal, by
-- their names (English, pinyin and its abbreviations, Chinese) and by a
-- fixed-size sample of their values checked by the detectors of
-- discovery/detect.c.  It runs as its caller (not SECURITY DEFINER): it
-- looks only at columns the caller may SELECT, and row security applies.

-- The bit mask of discovery/detect.c: low byte, the kinds a value is;
-- next byte, the kinds whose shape it has but whose check it fails.
CREATE FUNCTION _value_kinds(value text) RETURNS integer
    AS 'MODULE_PATHNAME', 'governance_value_kinds' LANGUAGE C STRICT STABLE PARALLEL SAFE;
COMMENT ON FUNCTION _value_kinds(text) IS 'discovery detectors: bit mask of the kinds a value is (low byte) and of those whose shape it has but whose check digit it fails (next byte)';

-- The kinds suggest_tags knows: bit of _value_kinds (0: judged by name
-- only), category, and the words of the evidence text.
CREATE FUNCTION _discovery_kinds(OUT kind integer, OUT flag integer, OUT category @extschema@.category,
                                 OUT what text, OUT check_name text)
    RETURNS SETOF record
LANGUAGE sql IMMUTABLE PARALLEL SAFE SET search_path = pg_catalog, pg_temp AS $fn$
    VALUES (1, 1,  'personal.contact.phone'::@extschema@.category, 'mainland mobile numbers', 'operator segment'),
           (2, 2,  'personal.identity.id_number', 'resident identity numbers (GB 11643)', 'check digit or birth date'),
           (3, 4,  'enterprise.tax_id', 'unified social credit codes (GB 32100)', 'check character'),
           (4, 8,  'payment.instrument_number', 'bank card numbers (Luhn)', 'Luhn check'),
           (5, 16, 'personal.contact.email', 'e-mail addresses', NULL),
           (6, 32, 'device.ip_address', 'IP addresses', NULL),
           (7, 64, 'device.mac_address', 'MAC addresses', NULL),
           (8, 0,  'personal.name', NULL, NULL),
           (9, 0,  'personal.contact.address', NULL, NULL)
$fn$;

-- Name evidence.  A column name is normalised (camelCase split, lower
-- case, blanks, dots and hyphens to "_") and matched against pattern
-- unless it also matches unless.  ASCII words match whole "_"-separated
-- tokens (a trailing digit allowed: phone2); Chinese words match anywhere
-- in the name.  Weight 0.7: the name alone is enough for a suggestion;
-- 0.5: a two-letter pinyin abbreviation, enough alone only just; 0.4: a
-- word that needs sampled values to back it.
CREATE FUNCTION _name_hints(OUT kind integer, OUT weight real, OUT pattern text, OUT unless text, OUT note text)
    RETURNS SETOF record
LANGUAGE sql IMMUTABLE PARALLEL SAFE SET search_path = pg_catalog, pg_temp AS $fn$
    SELECT h.kind, h.weight,
           CASE WHEN h.words ~ '^[a-z0-9_|]+$' THEN '(^|_)(' || h.words || ')([0-9]*)(_|$)' ELSE h.words END,
           h.unless, h.note
    FROM (VALUES
        (1, 0.7::real, 'phone|phone_no|phone_num|phone_number|phonenumber|phoneno|mobile|mobile_no|mobile_phone|mobilephone|cellphone|cell_phone|telephone|tel|tel_no|telno|msisdn', NULL::text, 'English'),
        (1, 0.7, 'shouji|shoujihao|shouji_hao|sjh|sjhm|dianhua|lxdh|lianxidianhua|yddh', NULL, 'pinyin 手机号 / 电话'),
        (1, 0.5, 'dh', NULL, 'pinyin abbreviation of 电话'),
        (1, 0.7, '手机|电话|移动号码', NULL, 'Chinese 手机号 / 电话'),
        (1, 0.4, 'mob|cell|contact|lianxi', NULL, 'a word often used for phone numbers'),
        (2, 0.7, 'id_card|idcard|id_card_no|idcard_no|idno|id_no|id_num|id_number|idnumber|identity_no|identity_number|identity_card|citizen_id|national_id|resident_id|ssn', NULL, 'English'),
        (2, 0.7, 'sfz|sfzh|sfzhm|shenfenzheng|shenfenzhenghao|zjhm|zjh|gmsfhm', NULL, 'pinyin 身份证号 / 证件号码'),
        (2, 0.7, '身份证|证件号|公民身份号码', NULL, 'Chinese 身份证号'),
        (2, 0.4, 'cert_no|certificate_no|cert_number|zj', NULL, 'a word often used for identity numbers'),
        (3, 0.7, 'uscc|credit_code|social_credit_code|unified_social_credit_code|tax_id|tax_no|taxpayer_id|tax_number|taxno', NULL, 'English'),
        (3, 0.7, 'tyshxydm|shxydm|xydm|nsrsbh', NULL, 'pinyin 统一社会信用代码 / 纳税人识别号'),
        (3, 0.7, '信用代码|纳税人识别号|税号', NULL, 'Chinese 统一社会信用代码'),
        (4, 0.7, 'card_no|cardno|card_num|card_number|cardnumber|bank_card|bankcard|bank_card_no|credit_card|creditcard|debit_card|pan', NULL, 'English'),
        (4, 0.7, 'yhk|yhkh|yinhangka|yinhangkahao|kahao', NULL, 'pinyin 银行卡号'),
        (4, 0.7, '银行卡|卡号|信用卡', NULL, 'Chinese 银行卡号'),
        (4, 0.4, 'card|kh', NULL, 'a word often used for card numbers'),
        (5, 0.7, 'email|e_mail|mail|email_address|emailaddress|mailbox|mail_address', NULL, 'English'),
        (5, 0.7, 'youxiang|dzyx|yxdz|dianziyouxiang', NULL, 'pinyin 邮箱'),
        (5, 0.5, 'yx', NULL, 'pinyin abbreviation of 邮箱'),
        (5, 0.7, '邮箱|电子邮件|邮件地址', NULL, 'Chinese 邮箱'),
        (6, 0.7, 'ip|ip_addr|ip_address|ipaddr|ipaddress|ipv4|ipv6|client_ip|remote_ip|remote_addr|src_ip|source_ip|login_ip|last_ip|user_ip', NULL, 'English'),
        (6, 0.7, 'ip地址', NULL, 'Chinese IP地址'),
        (7, 0.7, 'mac|mac_addr|mac_address|macaddr|macaddress|wifi_mac|bssid', NULL, 'English'),
        (7, 0.7, 'mac地址|物理地址', NULL, 'Chinese MAC地址'),
        (8, 0.7, 'full_name|fullname|real_name|realname|first_name|firstname|last_name|lastname|given_name|family_name|surname|person_name|customer_name|contact_name|holder_name|cardholder', NULL, 'English'),
        (8, 0.7, 'xingming|zsxm|xingmin|lxr|lianxiren', NULL, 'pinyin 姓名 / 联系人'),
        (8, 0.5, 'xm', NULL, 'pinyin abbreviation of 姓名'),
        (8, 0.7, '姓名|名字|联系人|收件人|持卡人', NULL, 'Chinese 姓名'),
        (8, 0.4, 'name', NULL, 'a word also used for things other than people'),
        (9, 0.7, 'address|addr|home_address|street|street_address|postal_address|shipping_address|billing_address|residence|dizhi|jtdz|jtzz|zhuzhi|txdz|shdz',
            '(^|_)(ip|ipv4|ipv6|mac|remote|email|e_mail|mail|web|url|wallet|server|host|src|dst|source|dest|client|login|last|user|ip地址|mac地址)(_|$)', 'English / pinyin 地址'),
        (9, 0.7, '地址|住址|住所', 'ip|mac|邮|网|物理地址', 'Chinese 地址'),
        (9, 0.5, 'dz|zz', NULL, 'pinyin abbreviation of 地址 / 住址')
    ) AS h(kind, weight, words, unless, note)
$fn$;

CREATE FUNCTION suggest_tags(schema name DEFAULT NULL, sample_rows integer DEFAULT 1000)
    RETURNS TABLE (relation regclass, "column" name, category @extschema@.category,
                   confidence real, evidence text)
LANGUAGE plpgsql VOLATILE SET search_path = pg_catalog, pg_temp AS $fn$
#variable_conflict use_column
DECLARE
    t record;
    col record;
    r record;
    k record;
    cols name[];
    exprs text[];
    norms text[];
    ncols integer;
    n bigint[];            -- per column: non-NULL values sampled
    valid bigint[];        -- per column and kind (row-major, 7 kinds): values that validate
    shape bigint[];        -- ... that have the shape but fail the check
    hint_w real[];         -- per column and kind (9 kinds): name weight
    hint_note text[];
    total_pages bigint;
    rows_per_page float8;
    want_pages float8;
    sample text;
    q text;
    s float8;
    w real;
    conf float8;
    ev text;
    out_cat @extschema@.category[];
    out_conf real[];
    out_ev text[];
    -- may the caller read the table's values without running its owner's code?
    sampled boolean;
BEGIN
    IF sample_rows IS NULL OR sample_rows < 1 OR sample_rows > 100000 THEN
        RAISE EXCEPTION 'sample_rows must be between 1 and 100000, not %', coalesce(sample_rows::text, 'NULL')
            USING ERRCODE = 'invalid_parameter_value',
                  DETAIL = 'suggest_tags reads at most sample_rows rows of each table, from a sample of its pages.',
                  HINT = 'Pass a sample size such as 1000 (the default).';
    END IF;
    IF schema IS NOT NULL AND NOT EXISTS (SELECT 1 FROM pg_namespace WHERE nspname = schema) THEN
        RAISE EXCEPTION 'schema "%" does not exist', schema
            USING ERRCODE = 'invalid_schema_name',
                  DETAIL = 'suggest_tags looks at the tables of one schema, or of every schema when it is NULL.',
                  HINT = 'Check the schema name; it is matched exactly (case-sensitive).';
    END IF;

    FOR t IN
        SELECT c.oid, c.relkind, c.relname, ns.nspname,
               -- row security policies of the table's owner (other than
               -- pg_governance's own) would run the owner's functions with
               -- the caller's rights: such a table is judged by name only
               NOT (c.relrowsecurity
                    AND NOT pg_has_role(c.relowner, 'USAGE')
                    AND NOT EXISTS (SELECT 1 FROM pg_roles ro
                                    WHERE ro.rolname = current_user AND (ro.rolsuper OR ro.rolbypassrls))
                    AND EXISTS (SELECT 1 FROM pg_policy po
                                WHERE po.polrelid = c.oid
                                  AND po.polname NOT IN ('governance_blocked', 'governance_open', 'governance_restricted'))) AS sampled
        FROM pg_class c JOIN pg_namespace ns ON ns.oid = c.relnamespace
        WHERE c.relkind IN ('r', 'p', 'm') AND NOT c.relispartition
          AND (schema IS NULL OR ns.nspname = schema)
          AND ns.nspname NOT IN ('pg_catalog', 'information_schema', 'pg_toast', '@extschema@')
          AND ns.nspname !~ '^pg_(toast_)?temp_'
          AND has_schema_privilege(ns.oid, 'USAGE')
          -- other extensions' own tables are theirs to describe
          AND NOT EXISTS (SELECT 1 FROM pg_depend d
                          WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid AND d.deptype = 'e')
        ORDER BY ns.nspname, c.relname
    LOOP
        SELECT array_agg(a.attname ORDER BY a.attnum),
               -- inet's text cast adds the mask (/32): host() gives the address
               array_agg(format(CASE WHEN coalesce(bt.oid, ty.oid) = 'inet'::regtype THEN 'host(s.%I)'
                                     ELSE 's.%I::text' END, a.attname) ORDER BY a.attnum),
               array_agg(replace(replace(replace(lower(regexp_replace(a.attname, '([a-z0-9])([A-Z])', '\1_\2', 'g')),
                                                 ' ', '_'), '-', '_'), '.', '_') ORDER BY a.attnum)
          INTO cols, exprs, norms
        FROM pg_attribute a
        JOIN pg_type ty ON ty.oid = a.atttypid
        LEFT JOIN pg_type bt ON bt.oid = ty.typbasetype AND ty.typtype = 'd'
        WHERE a.attrelid = t.oid AND a.attnum > 0 AND NOT a.attisdropped
          AND (coalesce(bt.typcategory, ty.typcategory) = 'S'
               OR coalesce(bt.oid, ty.oid) IN ('int8'::regtype, 'numeric'::regtype, 'inet'::regtype,
                                                'macaddr'::regtype, 'macaddr8'::regtype))
          AND has_column_privilege(t.oid, a.attnum, 'SELECT')
          AND NOT EXISTS (SELECT 1 FROM pg_seclabel l
                          WHERE l.provider = 'governance' AND l.classoid = 'pg_class'::regclass
                            AND l.objoid = t.oid AND l.objsubid = a.attnum);
        CONTINUE WHEN cols IS NULL;
        ncols := array_length(cols, 1);
        n := array_fill(0::bigint, ARRAY[ncols]);
        valid := array_fill(0::bigint, ARRAY[ncols * 7]);
        shape := array_fill(0::bigint, ARRAY[ncols * 7]);
        hint_w := array_fill(0::real, ARRAY[ncols * 9]);
        hint_note := array_fill(NULL::text, ARRAY[ncols * 9]);

        -- name evidence: the strongest hint per kind
        FOR i IN 1 .. ncols LOOP
            FOR r IN
                SELECT DISTINCT ON (h.kind) h.kind, h.weight, h.note
                FROM @extschema@._name_hints() h
                WHERE norms[i] ~ h.pattern AND (h.unless IS NULL OR norms[i] !~ h.unless)
                ORDER BY h.kind, h.weight DESC
            LOOP
                hint_w[(i - 1) * 9 + r.kind] := r.weight;
                hint_note[(i - 1) * 9 + r.kind] := r.note;
            END LOOP;
        END LOOP;

        -- value evidence: at most sample_rows rows from a fixed number of
        -- pages (TABLESAMPLE SYSTEM), so the cost does not grow with the table
        IF t.relkind = 'p' THEN
            SELECT coalesce(sum(pg_relation_size(p.relid)), 0) / current_setting('block_size')::bigint,
                   sum(greatest(c.reltuples, 0)) / nullif(sum(c.relpages) FILTER (WHERE c.reltuples > 0), 0)
              INTO total_pages, rows_per_page
            FROM pg_partition_tree(t.oid) p JOIN pg_class c ON c.oid = p.relid
            WHERE p.isleaf;
        ELSE
            SELECT pg_relation_size(t.oid) / current_setting('block_size')::bigint,
                   CASE WHEN c.relpages > 0 AND c.reltuples > 0 THEN c.reltuples / c.relpages END
              INTO total_pages, rows_per_page
            FROM pg_class c WHERE c.oid = t.oid;
        END IF;
        -- unknown density (never analyzed): assume narrow pages, so that
        -- enough of them are read
        want_pages := greatest(8, ceil(2.0 * sample_rows / greatest(coalesce(rows_per_page, 20), 1)));
        IF total_pages <= want_pages THEN
            sample := '';
        ELSE
            sample := format(' TABLESAMPLE SYSTEM (%s) REPEATABLE (0)',
                             round((100.0 * want_pages / total_pages)::numeric, 6));
        END IF;
        q := format('SELECT k.i, @extschema@._value_kinds(k.v) AS m, count(*) AS c '
                    'FROM (SELECT %s FROM %s %I.%I%s LIMIT %s) AS s '
                    'CROSS JOIN LATERAL unnest(%L::integer[], ARRAY[%s]) AS k(i, v) '
                    'WHERE k.v IS NOT NULL GROUP BY 1, 2',
                    (SELECT string_agg(format('%I', x), ', ') FROM unnest(cols) x),
                    CASE WHEN t.relkind = 'p' THEN '' ELSE 'ONLY' END,
                    t.nspname, t.relname, sample, sample_rows,
                    (SELECT array_agg(g) FROM generate_series(1, ncols) g),
                    array_to_string(exprs, ', '));
        sampled := t.sampled;
        IF sampled THEN
            FOR r IN EXECUTE q LOOP
                n[r.i] := n[r.i] + r.c;
                FOR b IN 1 .. 7 LOOP
                    IF (r.m & (1 << (b - 1))) <> 0 THEN
                        valid[(r.i - 1) * 7 + b] := valid[(r.i - 1) * 7 + b] + r.c;
                    END IF;
                    IF (r.m & (1 << (b + 7))) <> 0 THEN
                        shape[(r.i - 1) * 7 + b] := shape[(r.i - 1) * 7 + b] + r.c;
                    END IF;
                END LOOP;
            END LOOP;
        END IF;

        -- confidence = 1 - (1 - 0.9 s) (1 - w): s the share of sampled
        -- non-NULL values that pass the kind's check, w the name's weight
        FOR i IN 1 .. ncols LOOP
            out_cat := '{}';
            out_conf := '{}';
            out_ev := '{}';
            FOR k IN SELECT * FROM @extschema@._discovery_kinds() LOOP
                w := hint_w[(i - 1) * 9 + k.kind];
                s := CASE WHEN k.flag <> 0 AND n[i] > 0 THEN valid[(i - 1) * 7 + k.kind]::float8 / n[i] ELSE 0 END;
                conf := 1 - (1 - 0.9 * s) * (1 - w);
                CONTINUE WHEN conf < 0.5;
                ev := NULL;
                IF w > 0 THEN
                    ev := format('name %L (%s)', cols[i], hint_note[(i - 1) * 9 + k.kind]);
                END IF;
                IF k.flag <> 0 THEN
                    ev := concat_ws('; ', ev,
                        CASE WHEN NOT sampled THEN 'values not sampled: the table''s row security policies would run its owner''s code as the caller'
                             WHEN n[i] = 0 THEN 'no values sampled'
                             ELSE format('%s of %s sampled values are %s', valid[(i - 1) * 7 + k.kind], n[i], k.what) END,
                        CASE WHEN shape[(i - 1) * 7 + k.kind] > 0 THEN
                            format('%s more have the shape but fail the %s (not counted)',
                                   shape[(i - 1) * 7 + k.kind], k.check_name) END);
                ELSE
                    ev := ev || '; judged by name only';
                END IF;
                out_cat := out_cat || k.category;
                out_conf := out_conf || round(conf::numeric, 2)::real;
                out_ev := out_ev || ev;
            END LOOP;
            RETURN QUERY
                SELECT t.oid::regclass, cols[i], x.c, x.f, x.e
                FROM unnest(out_cat, out_conf, out_ev) AS x(c, f, e)
                ORDER BY x.f DESC, x.c;
        END LOOP;
    END LOOP;
END
$fn$;
COMMENT ON FUNCTION suggest_tags(name, integer) IS 'untagged columns that look personal, by name and by a fixed-size sample of values checked by the discovery detectors; confidence 1 - (1 - 0.9 s)(1 - w)';

REVOKE ALL ON FUNCTION suggest_tags(name, integer), _value_kinds(text), _name_hints(), _discovery_kinds() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION suggest_tags(name, integer), _value_kinds(text), _name_hints(), _discovery_kinds()
    TO governance_admin, governance_reader;
