/*-------------------------------------------------------------------------
 *
 * guard_attach.c
 *	  Keeps the guard objects of a table in line with its labels, so that
 *	  the user never creates them:
 *
 *	  - CHECK constraint gv_guard_<table> over the columns the table itself
 *		tags (partitions inherit their parents' constraint, and a partition
 *		with tags of its own gets one more);
 *	  - internal triggers governance_guard_update / _delete (BEFORE ROW, on
 *		plain tables and partitions) and governance_guard_truncate (BEFORE
 *		TRUNCATE, on every governed table).  Internal triggers are not
 *		dumped, and ALTER TABLE ... DISABLE TRIGGER on them needs superuser.
 *
 * guard_sync() is idempotent: it adds what is missing and removes what no
 * tag needs any more.  It is called at ddl_command_end for every table a
 * command touched (SECURITY LABEL, CREATE TABLE ... PARTITION OF, ATTACH,
 * RENAME, DROP CONSTRAINT ...).  While check_function_bodies is off (a
 * pg_dump script) it only adds: the dump brings the CHECK constraints
 * back with the tables, before their labels.
 *
 *-------------------------------------------------------------------------
 */
#include "pg_governance.h"

#include "access/genam.h"
#include "access/htup_details.h"
#include "access/table.h"
#include "catalog/dependency.h"
#include "catalog/indexing.h"
#include "catalog/objectaddress.h"
#include "catalog/partition.h"
#include "catalog/pg_class.h"
#include "catalog/pg_constraint.h"
#include "catalog/pg_inherits.h"
#include "catalog/pg_trigger.h"
#include "commands/seclabel.h"
#include "commands/trigger.h"
#include "executor/spi.h"
#include "mb/pg_wchar.h"
#include "miscadmin.h"
#include "nodes/makefuncs.h"
#include "optimizer/optimizer.h"
#include "utils/builtins.h"
#include "utils/fmgroids.h"
#include "utils/guc.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/rel.h"

PG_FUNCTION_INFO_V1(governance_sync_guards);

#define GUARD_CONSTRAINT_PREFIX "gv_guard_"

static bool in_sync = false;

/*
 * Partitions detached by the command in progress (noted at
 * ddl_command_start): the command's ddl_command_end reports only the
 * parent, so they are brought in line with it.
 */
static List *detached = NIL;

void
guard_note_detached(Oid partid)
{
	MemoryContext old = MemoryContextSwitchTo(TopMemoryContext);

	detached = lappend_oid(detached, partid);
	MemoryContextSwitchTo(old);
}

/*
 * attnums of the columns that carry a governance label of their own; with
 * row_checked, only those the CHECK reads (a category, which may be
 * never-store, or the region column): anchors and subjects only matter to
 * the DELETE/UPDATE triggers, and every argument costs a little in every
 * statement that prepares the constraint.
 */
static Bitmapset *
own_tagged_columns(Relation rel, bool row_checked)
{
	TupleDesc	desc = RelationGetDescr(rel);
	Bitmapset  *cols = NULL;
	int			i;

	for (i = 0; i < desc->natts; i++)
	{
		Form_pg_attribute att = TupleDescAttr(desc, i);
		ObjectAddress addr;
		char	   *label;
		GovLabel	gl;
		char	   *err;

		if (att->attisdropped)
			continue;
		ObjectAddressSubSet(addr, RelationRelationId, RelationGetRelid(rel), att->attnum);
		label = GetSecurityLabel(&addr, GOVERNANCE_PROVIDER);
		if (label == NULL)
			continue;
		/* a label that does not parse is passed along: the guard fails closed */
		if (row_checked && label_parse(label, LABEL_COLUMN, &gl, &err) &&
			gl.categories == NIL && !gl.region_column)
			continue;
		cols = bms_add_member(cols, att->attnum);
	}
	return cols;
}

static char *
guard_constraint_name(Relation rel)
{
	const char *relname = RelationGetRelationName(rel);
	char	   *name = psprintf("%s%s", GUARD_CONSTRAINT_PREFIX, relname);
	int			len = pg_mbcliplen(name, strlen(name), NAMEDATALEN - 1);

	name[len] = '\0';
	return name;
}

/* Run one DDL statement as the extension owner. */
void
guard_exec(const char *sql)
{
	Oid			save_userid;
	int			save_sec;

	GetUserIdAndSecContext(&save_userid, &save_sec);
	SetUserIdAndSecContext(governance_owner(), save_sec | SECURITY_LOCAL_USERID_CHANGE);
	SPI_connect();
	if (SPI_execute(sql, false, 0) != SPI_OK_UTILITY)
		elog(ERROR, "could not run \"%s\"", sql);
	SPI_finish();
	SetUserIdAndSecContext(save_userid, save_sec);
}

static char *
guard_check_expression(Relation rel, Bitmapset *cols)
{
	StringInfoData buf;
	int			attnum = -1;

	initStringInfo(&buf);
	appendStringInfoString(&buf, "governance._guard_row(tableoid");
	while ((attnum = bms_next_member(cols, attnum)) >= 0)
		appendStringInfo(&buf, ", %s",
						 quote_identifier(NameStr(TupleDescAttr(RelationGetDescr(rel), attnum - 1)->attname)));
	appendStringInfoChar(&buf, ')');
	return buf.data;
}

/*
 * Bring the CHECK constraints of one relation in line.  Only constraints
 * defined on this relation (not inherited ones) are ours to change.
 */
static List *
sync_constraint(Relation rel, bool restoring)
{
	List	   *commands = NIL;
	Oid			relid = RelationGetRelid(rel);
	bool		tagged = own_tagged_columns(rel, false) != NULL;
	Bitmapset  *want = own_tagged_columns(rel, true);
	char	   *want_name = guard_constraint_name(rel);
	bool		have = false;
	char	   *rename = NULL;
	const char *qualname;
	Relation	conrel;
	SysScanDesc scan;
	ScanKeyData key;
	HeapTuple	tup;
	List	   *drop = NIL;
	ListCell   *lc;

	conrel = table_open(ConstraintRelationId, AccessShareLock);
	ScanKeyInit(&key, Anum_pg_constraint_conrelid, BTEqualStrategyNumber, F_OIDEQ,
				ObjectIdGetDatum(relid));
	scan = systable_beginscan(conrel, ConstraintRelidTypidNameIndexId, true, NULL, 1, &key);
	while (HeapTupleIsValid(tup = systable_getnext(scan)))
	{
		Form_pg_constraint con = (Form_pg_constraint) GETSTRUCT(tup);
		bool		isnull;
		Datum		bin;
		Bitmapset  *cols = NULL;
		int			x;

		if (con->contype != CONSTRAINT_CHECK ||
			strncmp(NameStr(con->conname), GUARD_CONSTRAINT_PREFIX, strlen(GUARD_CONSTRAINT_PREFIX)) != 0 ||
			con->coninhcount > 0)
			continue;
		bin = heap_getattr(tup, Anum_pg_constraint_conbin, RelationGetDescr(conrel), &isnull);
		if (!isnull)
			pull_varattnos(stringToNode(TextDatumGetCString(bin)), 1, &cols);
		/* pull_varattnos offsets by FirstLowInvalidHeapAttributeNumber */
		{
			Bitmapset  *user = NULL;

			x = -1;
			while ((x = bms_next_member(cols, x)) >= 0)
				if (x + FirstLowInvalidHeapAttributeNumber > 0)
					user = bms_add_member(user, x + FirstLowInvalidHeapAttributeNumber);
			cols = user;
		}
		if (!have && tagged && strcmp(NameStr(con->conname), want_name) == 0 &&
			bms_equal(cols, want))
		{
			have = true;
			if (rename)
				drop = lappend(drop, rename);
			rename = NULL;
		}
		else if (!have && !rename && tagged && bms_equal(cols, want))
			rename = pstrdup(NameStr(con->conname));	/* a detached partition's */
		else
			drop = lappend(drop, pstrdup(NameStr(con->conname)));
	}
	systable_endscan(scan);
	table_close(conrel, AccessShareLock);

	qualname = quote_qualified_identifier(get_namespace_name(RelationGetNamespace(rel)),
										  RelationGetRelationName(rel));
	if (!restoring)
		foreach(lc, drop)
			commands = lappend(commands, psprintf("ALTER TABLE %s DROP CONSTRAINT %s",
												  qualname, quote_identifier(lfirst(lc))));
	if (rename)
	{
		/* the right check under another name: no need to validate it again */
		if (!restoring)
			commands = lappend(commands, psprintf("ALTER TABLE %s RENAME CONSTRAINT %s TO %s",
												  qualname, quote_identifier(rename),
												  quote_identifier(want_name)));
		have = true;
	}
	if (tagged && !have && !(restoring && drop != NIL))
		commands = lappend(commands,
						   psprintf("ALTER TABLE %s ADD CONSTRAINT %s CHECK (%s)",
									qualname, quote_identifier(want_name),
									guard_check_expression(rel, want)));
	return commands;
}

static void
create_guard_trigger(Oid relid, const char *name, const char *func,
					 bool row, int16 events)
{
	CreateTrigStmt *stmt = makeNode(CreateTrigStmt);

	stmt->replace = false;
	stmt->isconstraint = false;
	stmt->trigname = pstrdup(name);
	stmt->relation = makeRangeVar(get_namespace_name(get_rel_namespace(relid)),
								  get_rel_name(relid), -1);
	stmt->funcname = list_make2(makeString("governance"), makeString(pstrdup(func)));
	stmt->args = NIL;
	stmt->row = row;
	stmt->timing = TRIGGER_TYPE_BEFORE;
	stmt->events = events;
	stmt->columns = NIL;
	stmt->whenClause = NULL;
	stmt->transitionRels = NIL;
	stmt->deferrable = false;
	stmt->initdeferred = false;
	stmt->constrrel = NULL;
	(void) CreateTrigger(stmt, NULL, relid, InvalidOid, InvalidOid,
						 InvalidOid, InvalidOid, InvalidOid, NULL, true, false);
}

/*
 * Internal triggers get their OID appended to their name, so ours are
 * found by prefix.
 */
static Oid
find_guard_trigger(Oid relid, const char *name)
{
	Relation	trigrel = table_open(TriggerRelationId, AccessShareLock);
	SysScanDesc scan;
	ScanKeyData key;
	HeapTuple	tup;
	Oid			result = InvalidOid;
	size_t		len = strlen(name);

	ScanKeyInit(&key, Anum_pg_trigger_tgrelid, BTEqualStrategyNumber, F_OIDEQ,
				ObjectIdGetDatum(relid));
	scan = systable_beginscan(trigrel, TriggerRelidNameIndexId, true, NULL, 1, &key);
	while (HeapTupleIsValid(tup = systable_getnext(scan)))
	{
		Form_pg_trigger trig = (Form_pg_trigger) GETSTRUCT(tup);

		if (trig->tgisinternal && strncmp(NameStr(trig->tgname), name, len) == 0 &&
			(NameStr(trig->tgname)[len] == '\0' || NameStr(trig->tgname)[len] == '_'))
		{
			result = trig->oid;
			break;
		}
	}
	systable_endscan(scan);
	table_close(trigrel, AccessShareLock);
	return result;
}

static void
sync_trigger(Oid relid, const char *name, const char *func, bool row,
			 int16 events, bool want, bool restoring)
{
	Oid			trigoid = find_guard_trigger(relid, name);

	if (want && !OidIsValid(trigoid))
		create_guard_trigger(relid, name, func, row, events);
	else if (!want && OidIsValid(trigoid) && !restoring)
	{
		ObjectAddress addr;

		ObjectAddressSet(addr, TriggerRelationId, trigoid);
		performDeletion(&addr, DROP_RESTRICT, PERFORM_DELETION_INTERNAL);
	}
}

/* does the relation or an ancestor tag any column? */
static bool
relation_governed(Relation rel)
{
	List	   *rels;
	ListCell   *lc;

	if (own_tagged_columns(rel, false) != NULL)
		return true;
	if (!rel->rd_rel->relispartition)
		return false;
	rels = get_partition_ancestors(RelationGetRelid(rel));
	foreach(lc, rels)
	{
		Relation	anc = table_open(lfirst_oid(lc), AccessShareLock);
		bool		tagged = own_tagged_columns(anc, false) != NULL;

		table_close(anc, AccessShareLock);
		if (tagged)
			return true;
	}
	return false;
}

static void
sync_one(Oid relid, bool restoring)
{
	Relation	rel = table_open(relid, ShareRowExclusiveLock);
	char		relkind = rel->rd_rel->relkind;
	bool		governed;
	List	   *commands;
	ListCell   *lc;

	if (relkind != RELKIND_RELATION && relkind != RELKIND_PARTITIONED_TABLE)
	{
		table_close(rel, ShareRowExclusiveLock);
		return;
	}
	governed = relation_governed(rel);
	commands = sync_constraint(rel, restoring);
	/* ALTER TABLE refuses a table this backend still has open: keep the lock only */
	table_close(rel, NoLock);

	foreach(lc, commands)
		guard_exec(lfirst(lc));
	sync_trigger(relid, "governance_guard_truncate", "_guard_truncate", false,
				 TRIGGER_TYPE_TRUNCATE, governed, restoring);
	sync_trigger(relid, "governance_guard_delete", "_guard_delete", true,
				 TRIGGER_TYPE_DELETE, governed && relkind == RELKIND_RELATION, restoring);
	sync_trigger(relid, "governance_guard_update", "_guard_update", true,
				 TRIGGER_TYPE_UPDATE, governed && relkind == RELKIND_RELATION, restoring);
}

/*
 * guard_sync
 *		Bring the guard of a relation and of all its partitions in line
 *		with their labels.
 */
void
guard_sync(Oid relid)
{
	bool		restoring = !check_function_bodies || IsBinaryUpgrade;
	List	   *rels;
	ListCell   *lc;

	if (in_sync || get_rel_relkind(relid) == '\0')
		return;
	in_sync = true;
	PG_TRY();
	{
		rels = find_all_inheritors(relid, ShareRowExclusiveLock, NULL);
		foreach(lc, rels)
			sync_one(lfirst_oid(lc), restoring);
		CommandCounterIncrement();
	}
	PG_FINALLY();
	{
		in_sync = false;
	}
	PG_END_TRY();
}

/* Run DDL without letting the nested ddl_command_end undo it. */
static void
exec_outside_sync(List *commands)
{
	in_sync = true;
	PG_TRY();
	{
		ListCell   *lc;

		foreach(lc, commands)
			guard_exec(lfirst(lc));
	}
	PG_FINALLY();
	{
		in_sync = false;
	}
	PG_END_TRY();
}

/*
 * guard_prepare_attach
 *		ATTACH PARTITION requires the table to carry every CHECK constraint
 *		of its new parent: give it the parent's guard constraints first
 *		(validated against its rows, so existing data is checked too).
 */
void
guard_prepare_attach(Oid parentid, Oid childid)
{
	Oid			argtypes[2] = {OIDOID, OIDOID};
	Datum		args[2] = {ObjectIdGetDatum(parentid), ObjectIdGetDatum(childid)};
	List	   *commands = NIL;
	char	   *child = quote_qualified_identifier(get_namespace_name(get_rel_namespace(childid)),
												   get_rel_name(childid));
	uint64		i;

	SPI_connect();
	if (SPI_execute_with_args("SELECT quote_ident(p.conname), pg_get_constraintdef(p.oid) "
							  "FROM pg_constraint p WHERE p.conrelid = $1 AND p.contype = 'c' "
							  "AND p.conname LIKE 'gv\\_guard\\_%' AND NOT EXISTS "
							  "(SELECT 1 FROM pg_constraint c WHERE c.conrelid = $2 AND c.conname = p.conname)",
							  2, argtypes, args, NULL, true, 0) != SPI_OK_SELECT)
		elog(ERROR, "could not read guard constraints");
	for (i = 0; i < SPI_processed; i++)
		commands = lappend(commands,
						   MemoryContextStrdup(TopTransactionContext,
											   psprintf("ALTER TABLE %s ADD CONSTRAINT %s %s", child,
														SPI_getvalue(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, 1),
														SPI_getvalue(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, 2))));
	SPI_finish();
	exec_outside_sync(commands);
}

/*
 * After ALTER TABLE (SET TABLESPACE in particular), a governed table whose
 * storage region now lies outside what its policy allows is refused.
 */
static void
guard_check_storage(Oid relid)
{
	List	   *rels = find_all_inheritors(relid, NoLock, NULL);
	ListCell   *lc;

	foreach(lc, rels)
	{
		GuardRel   *g = guard_get(lfirst_oid(lc));

		if (g->governed && g->policy && !g->fail_closed && g->storage_violation)
		{
			const GuardLoc *loc = g->storage_violation;

			ereport(ERROR,
					(errcode(ERRCODE_GV_LOCALIZATION),
					 errmsg("table %s cannot be stored in region %s (its %s): outside jurisdiction \"%s\"",
							g->relname, g->storage_region, g->storage_region_from, loc->jurisdiction),
					 errdetail("Table %s, column %s, category %s, policy %s, rule %s: \"%s\".",
							   g->relname, loc->column, loc->rule.category, g->policy,
							   loc->rule.rule_id, loc->rule.source),
					 errhint("Move the table to a tablespace whose region is inside \"%s\" (governance.set_region records a tablespace's region).",
							 loc->jurisdiction)));
		}
	}
}

/* governance._sync_guards(relid, command_tag) */
Datum
governance_sync_guards(PG_FUNCTION_ARGS)
{
	Oid			relid = PG_GETARG_OID(0);

	guard_sync(relid);
	while (detached != NIL)
	{
		Oid			partid = linitial_oid(detached);

		detached = list_delete_first(detached);
		if (!get_rel_relispartition(partid))
			guard_sync(partid);
	}
	if (!PG_ARGISNULL(1) && check_function_bodies &&
		strcmp(text_to_cstring(PG_GETARG_TEXT_PP(1)), "ALTER TABLE") == 0 &&
		get_rel_relkind(relid) != '\0')
		guard_check_storage(relid);
	PG_RETURN_VOID();
}
