-- src/roles.sql — the roles of pg_governance and the schema's USAGE grant.
-- Part of the install script (the Makefile concatenates src/**/*.sql in data-path order).

-- ---------------------------------------------------------------------------
-- Roles (spec section 10).  Created if missing; never dropped with the
-- extension, because other objects and grants may depend on them.
-- ---------------------------------------------------------------------------
DO $roles$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_roles WHERE rolname = 'governance_reader') THEN
        CREATE ROLE governance_reader NOLOGIN;
    END IF;
    IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_roles WHERE rolname = 'governance_admin') THEN
        CREATE ROLE governance_admin NOLOGIN;
    END IF;
    IF NOT pg_catalog.pg_has_role('governance_admin', 'governance_reader', 'MEMBER') THEN
        GRANT governance_reader TO governance_admin;
    END IF;
END
$roles$;

GRANT USAGE ON SCHEMA @extschema@ TO PUBLIC;

