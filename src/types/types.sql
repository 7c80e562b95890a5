-- src/types/types.sql — the types governance.category (category.c) and
-- governance.region (region.c, iso3166.c): I/O, operators, opclasses, casts.

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
    FUNCTION 1 category_cmp(category, category),
    -- equal values are byte-identical: B-tree deduplication is safe
    FUNCTION 4 (category, category) pg_catalog.btequalimage(oid);
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
    FUNCTION 1 region_cmp(region, region),
    -- equal values are byte-identical: B-tree deduplication is safe
    FUNCTION 4 (region, region) pg_catalog.btequalimage(oid);
CREATE OPERATOR CLASS region_ops DEFAULT FOR TYPE region USING hash AS
    OPERATOR 1 =,
    FUNCTION 1 region_hash(region),
    FUNCTION 2 region_hash_extended(region, bigint);

CREATE CAST (region AS text) WITH INOUT AS ASSIGNMENT;
CREATE CAST (text AS region) WITH INOUT AS ASSIGNMENT;

