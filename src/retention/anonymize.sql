-- src/retention/anonymize.sql — anonymization of single values (anonymize.c),
-- called by retention runs for the rule action "anonymize"; the rules per
-- category and type are in docs/anonymization.md.

-- value's replacement: deterministic in (value, category, seed), irreversible
-- without the seed, of the same type, fitting typmod (atttypmod, -1 none);
-- ERROR 0A000 for a type it does not know.  Retention runs call it as the
-- table's owner, so every role may: it reads nothing but its arguments
-- (an HMAC keyed with the caller's seed), and it is useful on its own, to
-- mask an export.
CREATE FUNCTION anonymize(value anyelement, category category, typmod integer, seed text)
    RETURNS anyelement
    AS 'MODULE_PATHNAME', 'governance_anonymize' LANGUAGE C STRICT IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION anonymize(anyelement, category, integer, text) IS 'an anonymized replacement of a value of the given category, fitting typmod, derived from HMAC-SHA-256 keyed with seed (docs/anonymization.md)';
