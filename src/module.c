/*-------------------------------------------------------------------------
 *
 * module.c
 *	  Module registration of pg_governance: _PG_init defines the GUCs,
 *	  registers the "governance" label provider and installs the executor
 *	  hook of guard_prepare.c.  It only registers things,
 *	  so it is safe whether the library comes from shared_preload_libraries
 *	  or is loaded on first use of one of its functions.
 *
 *-------------------------------------------------------------------------
 */
#include "pg_governance.h"

#include "commands/seclabel.h"
#include "utils/guc.h"

PG_MODULE_MAGIC;

/* GUC: let a superuser run TRUNCATE/DROP over retained rows (spec section 6) */
bool		governance_allow_destructive_ddl = false;

/* GUC: how long a retention batch waits for a row lock before it locks SKIP LOCKED */
int			governance_retention_lock_wait = 100;

void
_PG_init(void)
{
	DefineCustomBoolVariable("pg_governance.allow_destructive_ddl",
							 "Allows TRUNCATE, DROP TABLE and DROP COLUMN over rows still under minimum retention or a legal hold.",
							 "Only a superuser can turn this on; leave it off outside a supervised clean-up.",
							 &governance_allow_destructive_ddl,
							 false,
							 PGC_SUSET,
							 0,
							 NULL, NULL, NULL);
	DefineCustomIntVariable("pg_governance.retention_lock_wait",
							"How long a retention batch waits for rows an application holds locked, before it locks the rows it can (SKIP LOCKED) and writes those.",
							"0: lock the rows of every batch first (two writes per row, never a wait).",
							&governance_retention_lock_wait,
							100, 0, 60000,
							PGC_USERSET,
							GUC_UNIT_MS,
							NULL, NULL, NULL);
	MarkGUCPrefixReserved("pg_governance");

	register_label_provider(GOVERNANCE_PROVIDER, label_object_relabel);
	guard_prepare_init();
	guard_drop_init();
	blocking_init();
	run_delete_init();
}
