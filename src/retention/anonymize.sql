-- src/retention/anonymize.sql — anonymization of single values (anonymize.c),
-- called by retention runs for the rule action "anonymize"; the rules per
-- category and type are in docs/anonymization.md.

-- value's replacement: deterministic in (value, category, seed), irreversible
-- without the seed, of the same type, fitting typmod (atttypmod, -1 none);
-- ERROR 0A000 for a type it does not know.  Internal: the retention job
-- calls it; it is not for PUBLIC, since a caller's own seed would turn it
-- into a keyed hash of personal data.
CREATE FUNCTION _anonymize(value anyelement, category category, typmod integer, seed text)
    RETURNS anyelement
    AS 'MODULE_PATHNAME', 'governance_anonymize' LANGUAGE C STRICT IMMUTABLE PARALLEL SAFE;
REVOKE ALL ON FUNCTION _anonymize(anyelement, category, integer, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION _anonymize(anyelement, category, integer, text) TO governance_admin;
COMMENT ON FUNCTION _anonymize(anyelement, category, integer, text) IS 'internal: an anonymized replacement of a value of the given category, fitting typmod, derived from HMAC-SHA-256 keyed with seed (docs/anonymization.md)';
