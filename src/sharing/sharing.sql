-- src/sharing/sharing.sql — sharing decisions (spec section 8): check_share
-- decides and changes nothing, share decides and logs (sharing/share.c,
-- sharing/decide.c).  Both are for every role: applications call them.
-- They read the catalog and consents as the extension owner, with
-- search_path pinned, and write only the sharing log.

CREATE FUNCTION check_share(recipient text, categories category[], purpose text,
                            subject text DEFAULT NULL, destination region DEFAULT NULL,
                            legal_basis text DEFAULT NULL, policy text DEFAULT NULL,
                            OUT allowed boolean, OUT rule_id text, OUT reason text, OUT source text)
    RETURNS record
    AS 'MODULE_PATHNAME', 'governance_check_share' LANGUAGE C VOLATILE PARALLEL RESTRICTED;
COMMENT ON FUNCTION check_share(text, category[], text, text, region, text, text) IS 'may these categories be shared with this recipient for this purpose? changes nothing';

CREATE FUNCTION share(recipient text, categories category[], purpose text,
                      subject text DEFAULT NULL, destination region DEFAULT NULL,
                      legal_basis text DEFAULT NULL, policy text DEFAULT NULL)
    RETURNS bigint
    AS 'MODULE_PATHNAME', 'governance_share' LANGUAGE C VOLATILE PARALLEL UNSAFE;
COMMENT ON FUNCTION share(text, category[], text, text, region, text, text) IS 'log a sharing event that the policy allows (returns its sharing_log id); GV004 when it refuses';
