-- Without shared_preload_libraries: every SQL function and raw SECURITY
-- LABEL on tables, columns and schemas still work (run by test/run_all.sh in
-- a cluster without preloading).  Each part starts from a fresh backend,
-- because calling any function of the library loads it.
SELECT setting NOT LIKE '%pg_governance%' AS not_preloaded
FROM pg_settings WHERE name = 'shared_preload_libraries';
SELECT governance.load_bundled_policy('21vianet-online-2020');
CREATE TABLE np (id int, cvv text, who text);
\c
-- a fresh backend: the ddl_command_start event trigger loads the library
-- before SECURITY LABEL looks for the provider
SECURITY LABEL FOR governance ON TABLE np IS 'policy=21vianet-online-2020';
\c
SECURITY LABEL FOR governance ON COLUMN np.cvv IS 'category=payment.security_code';
\c
SECURITY LABEL FOR governance ON SCHEMA public IS 'policy=21vianet-online-2020';
SECURITY LABEL FOR governance ON SCHEMA public IS NULL;
\c
INSERT INTO np VALUES (1, '123', 'x');
INSERT INTO np VALUES (2, NULL, 'y');
\c
SECURITY LABEL FOR governance ON COLUMN np.cvv IS 'category=bogus';
\c
-- event triggers do not fire for databases and tablespaces: a raw label
-- needs the library loaded, the wrappers load it themselves
SECURITY LABEL FOR governance ON DATABASE contrib_regression IS 'region=CN';
\c
SELECT governance.set_database_region('CN');
SELECT governance.bind_database('21vianet-online-2020');
SELECT label FROM pg_shseclabel s JOIN pg_database d ON d.oid = s.objoid
WHERE s.provider = 'governance' AND d.datname = current_database();
\c
SELECT governance.tag('np', 'who', 'category=personal.name');
SELECT "column", categories, policy FROM governance.tagged_columns WHERE relation = 'np'::regclass ORDER BY 1;
DROP TABLE np;
-- sharing, first thing in fresh sessions: the decision, the append, the log
\c
SELECT allowed, rule_id FROM governance.check_share('class:complainant', '{personal.contact.email}',
                                                    'complaint_handling', policy => '21vianet-online-2020');
\c
SELECT governance.share('class:complainant', '{personal.contact.email}', 'complaint_handling') > 0 AS logged;
\c
SELECT ok, checked FROM governance.verify_sharing_log();
SELECT governance.bind_database(NULL);
SELECT governance.set_database_region(NULL);
