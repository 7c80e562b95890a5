-- src/sharing/consent.sql — consent records (spec section 8): what a data
-- subject agreed to, for which purpose and recipient, until when.  A
-- consent is never erased by its withdrawal: the record keeps when it was
-- granted, by whom, and when and by whom it was withdrawn.  The sharing
-- engine (sharing/decide.c) reads the records in force at the instant of
-- each decision.

CREATE SEQUENCE consent_id_seq;
CREATE TABLE consent (
    consent_id      bigint PRIMARY KEY DEFAULT pg_catalog.nextval('@extschema@.consent_id_seq'),
    subject         text NOT NULL CHECK (subject OPERATOR(pg_catalog.<>) ''),
    purpose         text NOT NULL,
    recipient       text,                   -- NULL: any recipient; else a name or class:<class>
    granted_at      timestamptz NOT NULL DEFAULT pg_catalog.clock_timestamp(),
    expires_at      timestamptz,            -- NULL: until withdrawn
    withdrawn_at    timestamptz,
    granted_by      name NOT NULL DEFAULT pg_catalog.session_user(),
    withdrawn_by    name,
    CHECK (expires_at IS NULL OR expires_at OPERATOR(pg_catalog.>) granted_at)
);
ALTER SEQUENCE consent_id_seq OWNED BY consent.consent_id;
CREATE INDEX consent_subject_purpose ON consent (subject, purpose);
COMMENT ON TABLE consent IS 'consents of data subjects, with their history; written by governance.grant_consent and governance.withdraw_consent';
SELECT pg_catalog.pg_extension_config_dump('consent', '');
SELECT pg_catalog.pg_extension_config_dump('consent_id_seq', '');
GRANT SELECT ON consent TO governance_reader;

-- Everyone may read the consents they recorded; readers and admins read all.
CREATE VIEW consents WITH (security_barrier) AS
    SELECT c.consent_id, c.subject, c.purpose, c.recipient, c.granted_at,
           c.expires_at AS expires, c.withdrawn_at, c.granted_by, c.withdrawn_by,
           (c.withdrawn_at IS NULL AND
            (c.expires_at IS NULL OR c.expires_at OPERATOR(pg_catalog.>) pg_catalog.clock_timestamp())) AS in_force
    FROM @extschema@.consent c
    WHERE c.granted_by OPERATOR(pg_catalog.=) pg_catalog.session_user()
       OR pg_catalog.pg_has_role('governance_reader', 'MEMBER');
COMMENT ON VIEW consents IS 'every consent ever recorded, withdrawn and expired ones included; in_force says whether it counts now';
GRANT SELECT ON consents TO PUBLIC;

CREATE FUNCTION _check_consent_terms(purpose text, recipient text) RETURNS void
    AS 'MODULE_PATHNAME', 'governance_check_consent_terms' LANGUAGE C STABLE;
REVOKE ALL ON FUNCTION _check_consent_terms(text, text) FROM PUBLIC;

CREATE FUNCTION grant_consent(subject text, purpose text, recipient text DEFAULT NULL,
                              expires timestamptz DEFAULT NULL) RETURNS bigint
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $fn$
DECLARE
    id bigint;
BEGIN
    IF subject IS NULL OR subject = '' THEN
        RAISE EXCEPTION 'a consent needs a subject'
            USING ERRCODE = '22004', HINT = 'Pass the identifier of the data subject who consents.';
    END IF;
    IF octet_length(subject) > 1000 THEN
        RAISE EXCEPTION 'a subject of % bytes', octet_length(subject)
            USING ERRCODE = '22023', HINT = 'Pass the identifier of the data subject (1 to 1000 bytes).';
    END IF;
    PERFORM @extschema@._check_consent_terms(purpose, recipient);
    IF expires IS NOT NULL AND expires <= clock_timestamp() THEN
        RAISE EXCEPTION 'a consent cannot expire before it is granted'
            USING ERRCODE = '22023', HINT = 'Pass a future expiry, or NULL for a consent that lasts until withdrawn.';
    END IF;
    INSERT INTO @extschema@.consent (subject, purpose, recipient, expires_at)
    VALUES (grant_consent.subject, grant_consent.purpose, grant_consent.recipient, grant_consent.expires)
    RETURNING consent_id INTO id;
    RETURN id;
END
$fn$;
COMMENT ON FUNCTION grant_consent(text, text, text, timestamptz) IS 'record a consent of a data subject (recipient NULL: any recipient; expires NULL: until withdrawn); returns its id';

CREATE FUNCTION withdraw_consent(subject text, purpose text, recipient text DEFAULT NULL) RETURNS bigint
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $fn$
DECLARE
    n bigint;
    broader record;
BEGIN
    IF subject IS NULL THEN
        RAISE EXCEPTION 'withdrawing a consent needs its subject'
            USING ERRCODE = '22004';
    END IF;
    PERFORM @extschema@._check_consent_terms(purpose, recipient);
    UPDATE @extschema@.consent c
       SET withdrawn_at = clock_timestamp(), withdrawn_by = session_user
     WHERE c.subject = withdraw_consent.subject
       AND c.purpose = withdraw_consent.purpose
       AND (withdraw_consent.recipient IS NULL OR c.recipient = withdraw_consent.recipient)
       AND c.withdrawn_at IS NULL
       AND (c.expires_at IS NULL OR c.expires_at > clock_timestamp());
    GET DIAGNOSTICS n = ROW_COUNT;
    -- A consent for any recipient, or for the recipient's class, still
    -- covers the recipient (sharing/decide.c): withdrawing for the
    -- recipient alone would leave sharing with it allowed.  Fail closed.
    IF withdraw_consent.recipient IS NOT NULL THEN
        SELECT c.consent_id, c.recipient INTO broader
        FROM @extschema@.consent c
        WHERE c.subject = withdraw_consent.subject
          AND c.purpose = withdraw_consent.purpose
          AND c.withdrawn_at IS NULL
          AND (c.expires_at IS NULL OR c.expires_at > clock_timestamp())
          AND (c.recipient IS NULL
               OR c.recipient IN (SELECT 'class:' || r.class FROM @extschema@.recipient r
                                  WHERE r.name = withdraw_consent.recipient))
        ORDER BY c.consent_id LIMIT 1;
        IF FOUND THEN
            RAISE EXCEPTION 'consent % of subject "%" for % still covers "%"',
                broader.consent_id, withdraw_consent.subject, withdraw_consent.purpose, withdraw_consent.recipient
                USING ERRCODE = '55000',
                      DETAIL = format('It was granted for %s, so withdrawing for "%s" alone would leave sharing with it allowed.',
                                      COALESCE(quote_literal(broader.recipient), 'any recipient'), withdraw_consent.recipient),
                      HINT = format('Withdraw it with governance.withdraw_consent(%L, %L, %s), then grant again for the recipients that keep the consent.',
                                    withdraw_consent.subject, withdraw_consent.purpose,
                                    COALESCE(quote_literal(broader.recipient), 'NULL'));
        END IF;
    END IF;
    IF n = 0 THEN
        RAISE NOTICE 'no consent of subject "%" for % is in force', subject, purpose;
    END IF;
    RETURN n;
END
$fn$;
COMMENT ON FUNCTION withdraw_consent(text, text, text) IS 'withdraw the consents in force of a subject for a purpose (recipient NULL: for every recipient); returns how many; the records stay';
