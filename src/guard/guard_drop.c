/*-------------------------------------------------------------------------
 *
 * guard_drop.c
 *	  Deletions are decided where PostgreSQL decides them.  An object
 *	  access hook on OAT_DROP runs after the command's permission checks
 *	  and under the deletion lock, for every object a command removes:
 *	  DROP TABLE, DROP SCHEMA ... CASCADE, DROP OWNED BY, DROP COLUMN, a
 *	  type or function dropped with CASCADE.  So no command that takes
 *	  rows away gets round the guard, and a concurrent INSERT of a retained
 *	  row is seen (the lock waits for it):
 *
 *	  - a governed table or partition is probed for rows under minimum
 *		retention or a legal hold (GV003 / GV005), and so is a table one
 *		of whose tagged columns is dropped;
 *	  - a guard trigger (known by its function, whatever its name) that
 *		goes while its table stays is put back at ddl_command_end;
 *	  - the holds of a dropped table are removed at ddl_command_end;
 *	  - a table's governance_restricted policy (restrict.c) does not go, with
 *		the table or otherwise, while it hides an erased subject's kept rows.
 *
 *	  Without preloading, the ddl_command_start event trigger loads the
 *	  library, and with it this hook, before the command runs.
 *
 *-------------------------------------------------------------------------
 */
#include "pg_governance.h"

#include "access/genam.h"
#include "access/htup_details.h"
#include "access/table.h"
#include "access/xact.h"
#include "catalog/namespace.h"
#include "catalog/objectaccess.h"
#include "catalog/indexing.h"
#include "catalog/pg_class.h"
#include "catalog/pg_policy.h"
#include "catalog/pg_trigger.h"
#include "commands/seclabel.h"
#include "utils/fmgroids.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"

static object_access_hook_type prev_object_access_hook = NULL;

/*
 * What this transaction dropped, for ddl_command_end; forgotten at its end,
 * with ddl.c's and guard_attach.c's pending lists, so that a failed command
 * leaves nothing for the next one.
 */
static List *dropped_guards = NIL;	/* relids whose guard trigger went */
static List *dropped_tables = NIL;	/* governed tables that went */

static void
remember(List **list, Oid relid)
{
	MemoryContext old = MemoryContextSwitchTo(TopMemoryContext);

	*list = list_append_unique_oid(*list, relid);
	MemoryContextSwitchTo(old);
}

static void
forget_at_xact_end(XactEvent event, void *arg)
{
	if (event == XACT_EVENT_COMMIT || event == XACT_EVENT_ABORT ||
		event == XACT_EVENT_PARALLEL_COMMIT || event == XACT_EVENT_PARALLEL_ABORT ||
		event == XACT_EVENT_PREPARE)
	{
		list_free(dropped_guards);
		list_free(dropped_tables);
		dropped_guards = NIL;
		dropped_tables = NIL;
		guard_forget_pending();
		guard_forget_detached();
	}
}

/* Has the table a governance label of its own (a binding)? */
static bool
relation_bound_itself(Oid relid)
{
	ObjectAddress addr;

	ObjectAddressSet(addr, RelationRelationId, relid);
	return GetSecurityLabel(&addr, GOVERNANCE_PROVIDER) != NULL;
}

/* A table or one of its columns is being dropped. */
static void
drop_relation(Oid relid, int subid)
{
	char		relkind = get_rel_relkind(relid);
	bool		bound;
	bool		governed;
	GuardRel   *g;

	if (relkind != RELKIND_RELATION && relkind != RELKIND_PARTITIONED_TABLE)
		return;
	bound = relation_bound_itself(relid);
	/* no guard and no parent: governed only if it carries a label itself */
	if (guard_relation_plain(relid) && !bound)
		return;
	governed = guard_relation_governed(relid);
	/* a table with holds is bound or governed: its holds go with it */
	if (subid == 0 && (bound || governed))
		remember(&dropped_tables, relid);
	if (!governed)
		return;
	g = guard_get(relid);
	if (subid == 0)
	{
		if (relkind == RELKIND_RELATION)
			guard_probe(relid, psprintf("drop table %s", g->relname));
		return;
	}
	if (guard_column(g, subid) != NULL && relkind == RELKIND_RELATION)
		guard_probe(relid, psprintf("drop column \"%s\" of %s",
									get_attname(relid, subid, false), g->relname));
}

/* A trigger is being dropped: note it if it is a guard's. */
static void
drop_trigger(Oid trigoid)
{
	Relation	trigrel;
	SysScanDesc scan;
	ScanKeyData key;
	HeapTuple	tup;

	if (guard_in_sync())
		return;					/* the guard itself removing what no tag needs */
	trigrel = table_open(TriggerRelationId, AccessShareLock);
	ScanKeyInit(&key, Anum_pg_trigger_oid, BTEqualStrategyNumber, F_OIDEQ,
				ObjectIdGetDatum(trigoid));
	scan = systable_beginscan(trigrel, TriggerOidIndexId, true, NULL, 1, &key);
	tup = systable_getnext(scan);
	if (HeapTupleIsValid(tup))
	{
		Form_pg_trigger trig = (Form_pg_trigger) GETSTRUCT(tup);

		if (guard_is_trigger_function(trig->tgfoid))
			remember(&dropped_guards, trig->tgrelid);
	}
	systable_endscan(scan);
	table_close(trigrel, AccessShareLock);
}

/*
 * A governance_restricted policy is being dropped, other than by the
 * guard's own sync: with its table (DROP TABLE, DROP SCHEMA ... CASCADE,
 * DROP OWNED BY) or with a key column.  Its kept rows are refused to go
 * (restrict_probe); the policy's row is still there to be read.
 */
static void
drop_policy(Oid policyid)
{
	Relation	polrel;
	SysScanDesc scan;
	ScanKeyData key;
	HeapTuple	tup;
	Oid			relid = InvalidOid;

	if (guard_in_sync() || guard_own_policy_ddl())
		return;
	polrel = table_open(PolicyRelationId, AccessShareLock);
	ScanKeyInit(&key, Anum_pg_policy_oid, BTEqualStrategyNumber, F_OIDEQ,
				ObjectIdGetDatum(policyid));
	scan = systable_beginscan(polrel, PolicyOidIndexId, true, NULL, 1, &key);
	if (HeapTupleIsValid(tup = systable_getnext(scan)) &&
		strcmp(NameStr(((Form_pg_policy) GETSTRUCT(tup))->polname), RESTRICTED_POLICY) == 0)
		relid = ((Form_pg_policy) GETSTRUCT(tup))->polrelid;
	systable_endscan(scan);
	table_close(polrel, AccessShareLock);
	if (OidIsValid(relid))
		restrict_probe(relid, psprintf("drop table %s or its policy %s",
									   get_rel_name(relid), RESTRICTED_POLICY));
}

static void
guard_object_access(ObjectAccessType access, Oid classId, Oid objectId,
					int subId, void *arg)
{
	if (prev_object_access_hook)
		prev_object_access_hook(access, classId, objectId, subId, arg);
	if (access != OAT_DROP)
		return;
	if (classId != RelationRelationId && classId != TriggerRelationId &&
		classId != PolicyRelationId)
		return;
	/* nothing to guard in a database without the extension */
	if (!OidIsValid(get_namespace_oid("governance", true)))
		return;
	if (classId == RelationRelationId)
		drop_relation(objectId, subId);
	else if (classId == TriggerRelationId)
		drop_trigger(objectId);
	else
		drop_policy(objectId);
}

void
guard_drop_init(void)
{
	prev_object_access_hook = object_access_hook;
	object_access_hook = guard_object_access;
	RegisterXactCallback(forget_at_xact_end, NULL);
}

/* The relations whose guard trigger was dropped, forgotten once taken. */
List *
guard_take_dropped_guards(void)
{
	List	   *result = list_copy(dropped_guards);

	list_free(dropped_guards);
	dropped_guards = NIL;
	return result;
}

/* The governed tables dropped, forgotten once taken. */
List *
guard_take_dropped_tables(void)
{
	List	   *result = list_copy(dropped_tables);

	list_free(dropped_tables);
	dropped_tables = NIL;
	return result;
}
