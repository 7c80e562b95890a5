-- Anonymization of single values: governance.anonymize(value, category,
-- typmod, seed), which retention runs call for the action "anonymize".
-- Each category keeps its shape, the results pass the constraints such
-- columns carry, fit their typmods, are deterministic in the seed and
-- distinct across seeds.  Expects a UTF-8 database (Chinese names and
-- addresses).
SET search_path = public, governance;
\set VERBOSITY default

-- ------------------------------------------------------- shapes, by category
-- mainland mobile numbers keep 1[3-9]X and the last four digits, with
-- their +86 / 0086 prefix, spaces and dashes; other numbers keep their
-- first three and last four digits
SELECT v AS phone, anonymize(v, 'personal.contact.phone', -1, 'seed-1') AS anonymized
FROM unnest(ARRAY['13812345678', '+86 138 1234 5678', '0086-138-1234-5678',
                  '8613812345678', '021-6123 4567', '12345', 'unknown']) v;
-- a descendant category has its ancestor's rules
SELECT anonymize('13812345678'::text, 'personal.contact.phone.mobile', -1, 'seed-1') AS mobile;

-- resident ID numbers keep region and birth year; a valid month and day,
-- a new sequence and a correct check character
SELECT v AS id_number, anonymize(v, 'personal.identity.id_number', -1, 'seed-1') AS anonymized
FROM unnest(ARRAY['11010519491231002X', '110105194912310021', '110105491231002', 'E12345678']) v;

-- e-mail: anon-<hex> at the same domain, shortened to fit
SELECT v AS email, anonymize(v, 'personal.contact.email', -1, 'seed-1') AS anonymized,
       anonymize(v::varchar(24), 'personal.contact.email', 28, 'seed-1') AS in_varchar_24,
       anonymize(v::varchar(20), 'personal.contact.email', 24, 'seed-1') AS in_varchar_20
FROM unnest(ARRAY['x@example.cn', 'zhang.san@example.cn']) v;
-- a varchar(18) that the original fills: the hex alone before the domain
SELECT anonymize('ab@mail.example.cn'::varchar(18), 'personal.contact.email', 22, 'seed-1') AS tight;

-- names: 匿名<hex> for a Chinese name, anon-<hex> otherwise, fitted
SELECT v AS name, anonymize(v, 'personal.name', -1, 'seed-1') AS anonymized,
       anonymize(v::varchar(4), 'personal.name', 8, 'seed-1') AS in_varchar_4,
       anonymize(v::char(12), 'personal.name', 16, 'seed-1') AS in_char_12
FROM unnest(ARRAY['张三', 'John Smith']) v;

-- addresses keep their city or province (Chinese) or their last part
SELECT v AS address, anonymize(v, 'personal.contact.address', -1, 'seed-1') AS anonymized
FROM unnest(ARRAY['上海市浦东新区世纪大道100号', '广东省深圳市南山区科技园',
                  '新疆维吾尔自治区乌鲁木齐天山路1号', '12 Main St, Springfield, USA',
                  'nowhere in particular']) v;
SELECT anonymize('北京市朝阳区建国路1号'::text, 'payment.billing_address', -1, 'seed-1') AS billing;

-- IP addresses keep their /24 (IPv4) or /48 (IPv6), as text, inet and cidr
SELECT v AS ip, anonymize(v, 'device.ip_address', -1, 'seed-1') AS anonymized
FROM unnest(ARRAY['192.168.1.23', '10.0.0.5', '2001:db8:1:2::5', 'fe80::1/64', 'localhost']) v;
SELECT anonymize('192.168.1.23'::inet, 'device.ip_address', -1, 'seed-1') AS inet4,
       anonymize('2001:db8:1:2::5/64'::inet, 'device.ip_address', -1, 'seed-1') AS inet6,
       anonymize('10.1.2.3/32'::cidr, 'device.ip_address', -1, 'seed-1') AS cidr32,
       anonymize('10.1.0.0/16'::cidr, 'device.ip_address', -1, 'seed-1') AS cidr16;

-- MAC addresses keep their OUI
SELECT v AS mac, anonymize(v, 'device.mac_address', -1, 'seed-1') AS anonymized
FROM unnest(ARRAY['00:1A:2B:3C:4D:5E', '00-1a-2b-3c-4d-5e', '001a.2b3c.4d5e']) v;
SELECT anonymize('08:00:2b:01:02:03'::macaddr, 'device.mac_address', -1, 'seed-1') AS macaddr,
       anonymize('08:00:2b:01:02:03:04:05'::macaddr8, 'device.mac_address', -1, 'seed-1') AS macaddr8;

-- card and account numbers keep first six and last four, and stay
-- Luhn-valid when they were
CREATE FUNCTION anon_luhn_ok(card text) RETURNS boolean LANGUAGE sql IMMUTABLE AS $$
    SELECT sum(CASE WHEN i % 2 = 0 THEN d * 2 - CASE WHEN d * 2 > 9 THEN 9 ELSE 0 END ELSE d END) % 10 = 0
    FROM (SELECT i, substr(reverse(regexp_replace(card, '\D', '', 'g')), i, 1)::int AS d
          FROM generate_series(1, length(regexp_replace(card, '\D', '', 'g'))) i) s
$$;
SELECT v AS card, anon_luhn_ok(v) AS luhn, a AS anonymized, anon_luhn_ok(a) AS still_luhn
FROM unnest(ARRAY['4111111111111111', '4111 1111 1111 1111', '6222021234567890123', '6222021234567890124']) v,
     LATERAL anonymize(v, 'payment.instrument_number', -1, 'seed-1') a;
SELECT anonymize('6217001234567890'::text, 'payment.bank_account', -1, 'seed-1') AS bank_account;

-- any other category: anon-<hex>, fitted; character(n) is padded
SELECT anonymize('hello world'::text, 'customer_data', -1, 'seed-1') AS generic,
       anonymize('hello'::varchar(8), 'customer_data', 12, 'seed-1') AS in_varchar_8,
       anonymize('abc'::char(3), 'customer_data', 7, 'seed-1') AS in_char_3,
       anonymize('ab'::char(6), 'customer_data', 10, 'seed-1') || '|' AS in_char_6_padded;

-- ------------------------------------------------------------ other types
-- integers keep their sign, anywhere in their range; amounts keep their
-- number of digits (and stay within the type)
SELECT anonymize(42, 'personal.age', -1, 'seed-1') AS int4,
       anonymize(-42, 'personal.age', -1, 'seed-1') AS negative,
       anonymize(42::int2, 'personal.age', -1, 'seed-1') AS int2,
       anonymize(42::int8, 'personal.age', -1, 'seed-1') AS int8,
       anonymize(123, 'payment.transaction', -1, 'seed-1') AS amount,
       anonymize(30000::int2, 'payment.transaction', -1, 'seed-1') AS amount_int2;
-- numeric and floats keep sign, power of ten and scale; NaN stays
SELECT anonymize(123.45, 'payment.transaction', -1, 'seed-1') AS numeric,
       anonymize(0.0012, 'customer_data', -1, 'seed-1') AS small,
       anonymize(99.99::numeric(4,2), 'customer_data', 262150, 'seed-1') AS numeric_4_2,
       anonymize('NaN'::numeric, 'customer_data', -1, 'seed-1') AS nan,
       anonymize(3.25::float8, 'customer_data', -1, 'seed-1') AS float8,
       anonymize(-1e308::float8, 'customer_data', -1, 'seed-1') > '-Infinity' AS float8_finite;
-- dates and timestamps: 1 January of their year (UTC for timestamptz)
SET TimeZone = 'Asia/Shanghai';
SELECT anonymize(date '1987-06-05', 'personal.birthday', -1, 'seed-1') AS date,
       anonymize(timestamp '1987-06-05 12:34:56.789', 'log.service', -1, 'seed-1') AS "timestamp",
       anonymize(timestamptz '1987-01-01 02:00+08', 'log.service', -1, 'seed-1') AS timestamptz_utc_year,
       anonymize('infinity'::date, 'log.service', -1, 'seed-1') AS inf,
       anonymize('-infinity'::timestamptz, 'log.service', -1, 'seed-1') AS neg_inf;
RESET TimeZone;
-- uuid (version 4), bytea (as many bytes), boolean (unchanged)
SELECT anonymize('a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11'::uuid, 'device.identifier', -1, 'seed-1') AS uuid,
       anonymize('\x0102030405'::bytea, 'personal.biometric', -1, 'seed-1') AS bytea,
       anonymize(true, 'personal.minor', -1, 'seed-1') AS bool;
-- json and jsonb keep keys and structure; strings and numbers are replaced
SELECT anonymize('{"name": "张三", "age": 35, "tags": ["a", "b"], "vip": true, "note": null}'::jsonb,
                  'customer_data', -1, 'seed-1') AS jsonb,
       anonymize('{"a": "b", "c": [1, 2.5]}'::json, 'customer_data', -1, 'seed-1') AS json;

-- NULL stays NULL (STRICT); a domain's value is anonymized as its base type
SELECT anonymize(NULL::text, 'personal.name', -1, 'seed-1') IS NULL AS null_stays_null;
CREATE DOMAIN anon_mobile AS text CHECK (VALUE ~ '^1[3-9][0-9]{9}$');
SELECT anonymize('13912345678'::anon_mobile, 'personal.contact.phone', -1, 'seed-1')::anon_mobile AS domain_value;

-- edge values: the earliest year, the extremes of integers, empty text
SELECT anonymize('4714-11-30 BC'::date, 'log.service', -1, 'seed-1') AS first_date,
       anonymize('-9223372036854775808'::int8, 'payment.transaction', -1, 'seed-1') AS int8_min,
       anonymize('-32768'::int2, 'customer_data', -1, 'seed-1') AS int2_min,
       anonymize(''::text, 'personal.contact.phone', -1, 'seed-1') AS empty_phone,
       anonymize('a@b'::varchar(3), 'personal.contact.email', 7, 'seed-1') AS tiny_email;

-- a type it does not know
SELECT anonymize(time '12:34', 'log.service', -1, 'seed-1');
SELECT anonymize(point '(1,2)', 'personal.location', -1, 'seed-1');

-- ------------------------------------------------------------ determinism
SELECT anonymize('13812345678'::text, 'personal.contact.phone', -1, 'seed-1')
     = anonymize('13812345678'::text, 'personal.contact.phone', -1, 'seed-1') AS same_seed_same_value,
       anonymize('13812345678'::text, 'personal.contact.phone', -1, 'seed-1')
     = anonymize('13812345678'::text, 'personal.contact.phone', -1, 'seed-2') AS other_seed_same_value,
       anonymize('x@example.cn'::text, 'personal.contact.email', -1, 'seed-1')
     = anonymize('x@example.cn'::text, 'customer_data', -1, 'seed-1') AS other_category_same_value,
       anonymize('x@example.cn'::text, 'personal.contact.email', -1, 'seed-1')
     = anonymize('y@example.cn'::text, 'personal.contact.email', -1, 'seed-1') AS other_value_same_value;

-- ------------------------------------ 1000 seeds, one input: distinct values
SELECT count(DISTINCT anonymize('x@example.cn'::text, 'personal.contact.email', -1, 'run-nonce:(0,' || i || ')')) AS email,
       count(DISTINCT anonymize('张三'::text, 'personal.name', -1, 'run-nonce:(0,' || i || ')')) AS name,
       count(DISTINCT anonymize('上海市浦东新区世纪大道100号'::text, 'personal.contact.address', -1, 'run-nonce:(0,' || i || ')')) AS address,
       count(DISTINCT anonymize('anything'::text, 'customer_data', -1, 'run-nonce:(0,' || i || ')')) AS generic,
       count(DISTINCT anonymize(42, 'customer_data', -1, 'run-nonce:(0,' || i || ')')) AS int4,
       count(DISTINCT anonymize('a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11'::uuid, 'device.identifier', -1, 'run-nonce:(0,' || i || ')')) AS uuid,
       count(DISTINCT anonymize('2001:db8:1:2::5'::inet, 'device.ip_address', -1, 'run-nonce:(0,' || i || ')')) AS inet6,
       count(DISTINCT anonymize('00:1A:2B:3C:4D:5E'::macaddr, 'device.mac_address', -1, 'run-nonce:(0,' || i || ')')) AS macaddr
FROM generate_series(1, 1000) i;
-- where the shape leaves few digits to draw, values repeat (10^4 middle
-- digits of a mobile number, 10^5 of a card, 365 x 1000 for an ID number);
-- the retention run retries a row with another seed on a unique violation
SELECT count(DISTINCT anonymize('13812345678'::text, 'personal.contact.phone', -1, 'run-nonce:(0,' || i || ')')) AS phone,
       count(DISTINCT anonymize('4111111111111111'::text, 'payment.instrument_number', -1, 'run-nonce:(0,' || i || ')')) AS card,
       count(DISTINCT anonymize('11010519491231002X'::text, 'personal.identity.id_number', -1, 'run-nonce:(0,' || i || ')')) AS id_number
FROM generate_series(1, 1000) i;

-- ------------------------------------ results pass the columns' constraints
CREATE FUNCTION anon_id_ok(id text) RETURNS boolean LANGUAGE sql IMMUTABLE AS $$
    SELECT id ~ '^[0-9]{17}[0-9X]$'
       AND to_char(to_date(substr(id, 7, 8), 'YYYYMMDD'), 'YYYYMMDD') = substr(id, 7, 8)
       AND substr('10X98765432',
                  (SELECT sum(substr(id, i, 1)::int * (ARRAY[7,9,10,5,8,4,2,1,6,3,7,9,10,5,8,4,2])[i])::int
                   FROM generate_series(1, 17) i) % 11 + 1, 1) = substr(id, 18, 1)
$$;
CREATE FUNCTION anon_id_complete(first17 text) RETURNS text LANGUAGE sql IMMUTABLE AS $$
    SELECT first17 || c FROM unnest(ARRAY['0','1','2','3','4','5','6','7','8','9','X']) c
    WHERE anon_id_ok(first17 || c)
$$;
CREATE FUNCTION anon_luhn_complete(head text) RETURNS text LANGUAGE sql IMMUTABLE AS $$
    SELECT head || d FROM generate_series(0, 9) d WHERE anon_luhn_ok(head || d)
$$;
CREATE TABLE anon_customers (
    id        int PRIMARY KEY,
    email     varchar(32) NOT NULL UNIQUE,
    phone     text NOT NULL CHECK (phone ~ '^1[3-9][0-9]{9}$'),
    mobile    anon_mobile,
    id_number char(18) CHECK (anon_id_ok(id_number)),
    name      varchar(4) NOT NULL,
    card      varchar(19) CHECK (anon_luhn_ok(card)),
    ip        inet,
    birthday  date,
    amount    numeric(8,2) CHECK (amount > 0),
    note      varchar(6) UNIQUE
);
INSERT INTO anon_customers
SELECT i, 'user' || i || '@example.cn', '138' || lpad(i::text, 8, '0'), '159' || lpad(i::text, 8, '0'),
       anon_id_complete('310104' || (1950 + i % 50) || '0615' || lpad(i::text, 3, '0')),
       CASE WHEN i % 2 = 0 THEN '张三' ELSE 'Li' END,
       anon_luhn_complete('622202' || lpad(i::text, 12, '0')),
       ('192.168.' || i % 4 || '.' || i)::inet, date '1980-01-01' + i * 37, i * 10.5, 'n' || i
FROM generate_series(1, 200) i;
-- as a retention run would: the column's typmod, a seed per row
UPDATE anon_customers c SET
    email     = anonymize(email,     'personal.contact.email',      36, 'nonce-1:' || ctid),
    phone     = anonymize(phone,     'personal.contact.phone',      -1, 'nonce-1:' || ctid),
    mobile    = anonymize(mobile,    'personal.contact.phone',      -1, 'nonce-1:' || ctid),
    id_number = anonymize(id_number, 'personal.identity.id_number', 22, 'nonce-1:' || ctid),
    name      = anonymize(name,      'personal.name',                8, 'nonce-1:' || ctid),
    card      = anonymize(card,      'payment.instrument_number',   23, 'nonce-1:' || ctid),
    ip        = anonymize(ip,        'device.ip_address',           -1, 'nonce-1:' || ctid),
    birthday  = anonymize(birthday,  'personal.birthday',           -1, 'nonce-1:' || ctid),
    amount    = anonymize(amount,    'payment.transaction',   (8 << 16 | 2) + 4, 'nonce-1:' || ctid),
    note      = anonymize(note,      'customer_data',               10, 'nonce-1:' || ctid);
SELECT count(*) AS rows,
       count(*) FILTER (WHERE email ~ '^anon-[0-9a-f]{10}@example\.cn$') AS emails,
       count(DISTINCT email) AS distinct_emails,
       count(*) FILTER (WHERE phone LIKE '138%' AND right(phone, 4) = right(lpad(id::text, 8, '0'), 4)) AS phones,
       count(*) FILTER (WHERE left(id_number, 10) = '310104' || (1950 + id % 50)) AS id_numbers,
       count(*) FILTER (WHERE card LIKE '622202%' AND right(card, 4) = right(anon_luhn_complete('622202' || lpad(id::text, 12, '0')), 4)) AS cards,
       count(*) FILTER (WHERE host(ip) LIKE '192.168.' || id % 4 || '.%') AS ips,
       count(*) FILTER (WHERE birthday = make_date(extract(year FROM date '1980-01-01' + id * 37)::int, 1, 1)) AS birthdays,
       count(*) FILTER (WHERE length(amount::text) = length((id * 10.5)::numeric(8,2)::text)) AS amounts,
       count(DISTINCT note) AS distinct_notes
FROM anon_customers;
SELECT * FROM anon_customers WHERE id IN (1, 2) ORDER BY id;

-- ------------------------------------------------------------ privileges
-- every role may call it (retention runs call it as the table's owner):
-- it reads nothing but its arguments
CREATE ROLE anon_plain;
CREATE ROLE anon_admin IN ROLE governance_admin;
SET ROLE anon_plain;
SELECT governance.anonymize('13812345678'::text, 'personal.contact.phone', -1, 'seed-1') AS as_plain;
SET ROLE anon_admin;
SELECT governance.anonymize('13812345678'::text, 'personal.contact.phone', -1, 'seed-1') AS as_admin;
RESET ROLE;

DROP TABLE anon_customers;
DROP DOMAIN anon_mobile;
DROP FUNCTION anon_luhn_complete(text), anon_id_complete(text), anon_id_ok(text), anon_luhn_ok(text);
DROP ROLE anon_plain, anon_admin;
