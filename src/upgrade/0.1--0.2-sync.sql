-- ---------------------------------------------------------------------------
-- Last, once every 0.2 object exists (the concerns new in 0.2 come before
-- this part in the generated upgrade script).
-- ---------------------------------------------------------------------------
-- every governed table's guard brought in line with 0.2: triggers that fire
-- on replication apply too, no constraint under a guard's name that is not
-- the guard, row security that blocks rows whose period has ended
SELECT @extschema@._sync_guards(c.oid, NULL)
FROM pg_catalog.pg_class c
WHERE c.relkind OPERATOR(pg_catalog.=) ANY ('{r,p}')
  AND EXISTS (SELECT 1 FROM pg_catalog.pg_seclabel l
              WHERE l.objoid OPERATOR(pg_catalog.=) c.oid
                AND l.provider OPERATOR(pg_catalog.=) 'governance');
