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
#include "catalog/namespace.h"
#include "catalog/objectaddress.h"
#include "catalog/partition.h"
#include "catalog/pg_class.h"
#include "catalog/pg_constraint.h"
#include "catalog/pg_inherits.h"
#include "catalog/pg_seclabel.h"
#include "catalog/pg_subscription_rel.h"
#include "catalog/pg_trigger.h"
#include "catalog/pg_policy.h"
#include "commands/seclabel.h"
#include "commands/trigger.h"
#include "executor/spi.h"
#include "mb/pg_wchar.h"
#include "miscadmin.h"
#include "nodes/makefuncs.h"
#include "optimizer/optimizer.h"
#include "parser/parse_func.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/fmgroids.h"
#include "utils/guc.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/rel.h"
#include "utils/syscache.h"

PG_FUNCTION_INFO_V1(governance_sync_guards);

#define GUARD_CONSTRAINT_PREFIX "gv_guard_"

static bool in_sync = false;

/*
 * Partitions detached by the command in progress (noted at
 * ddl_command_start): the command's ddl_command_end reports only the
 * parent, so they are brought in line with it.
 */
static List *detached = NIL;

/* the transaction ended: nothing detached is pending any more */
void
guard_forget_detached(void)
{
	list_free(detached);
	detached = NIL;
}

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
	GovSpi		spi;

	gov_spi_begin(&spi, true);
	if (SPI_execute(sql, false, 0) != SPI_OK_UTILITY)
		elog(ERROR, "could not run \"%s\"", sql);
	gov_spi_end(&spi);
}

/* the guard's CHECK expression over the named columns, identifiers quoted */
static char *
guard_check_expression(List *colnames)
{
	StringInfoData buf;
	ListCell   *lc;

	initStringInfo(&buf);
	appendStringInfoString(&buf, "governance._guard_row(tableoid");
	foreach(lc, colnames)
		appendStringInfo(&buf, ", %s", quote_identifier(lfirst(lc)));
	appendStringInfoChar(&buf, ')');
	return buf.data;
}

static List *
column_names(Relation rel, Bitmapset *cols)
{
	List	   *names = NIL;
	int			attnum = -1;

	while ((attnum = bms_next_member(cols, attnum)) >= 0)
		names = lappend(names, pstrdup(NameStr(TupleDescAttr(RelationGetDescr(rel), attnum - 1)->attname)));
	return names;
}

/* Is funcid governance._guard_row (either form)?  By schema OID and name. */
static bool
is_guard_row_function(Oid funcid)
{
	Oid			nsp = get_namespace_oid("governance", true);
	char	   *name;

	if (!OidIsValid(nsp) || get_func_namespace(funcid) != nsp)
		return false;
	name = get_func_name(funcid);
	return name != NULL && strcmp(name, "_guard_row") == 0;
}

/*
 * The columns (attnums, in argument order) of a guard CHECK expression, or
 * false if the expression is not exactly governance._guard_row(tableoid,
 * col, ...): a constraint of any other shape under a guard's name (say
 * CHECK (cvv IS NULL OR true)) is not the guard, whatever its columns.
 */
static bool
guard_expr_columns(Node *expr, List **attnums)
{
	FuncExpr   *f = (FuncExpr *) expr;
	ListCell   *lc;

	*attnums = NIL;
	if (expr == NULL || !IsA(expr, FuncExpr) || !is_guard_row_function(f->funcid) ||
		f->args == NIL)
		return false;
	foreach(lc, f->args)
	{
		Var		   *v = (Var *) lfirst(lc);

		if (!IsA(v, Var) || v->varlevelsup != 0 || v->varno != 1)
			return false;
		if (foreach_current_index(lc) == 0)
		{
			if (v->varattno != TableOidAttributeNumber)
				return false;
		}
		else if (v->varattno <= 0)
			return false;
		else
			*attnums = lappend_int(*attnums, v->varattno);
	}
	return true;
}

/* the guard columns of a constraint tuple if it is a well-formed guard */
static bool
guard_constraint_columns(HeapTuple tup, TupleDesc desc, List **attnums)
{
	Form_pg_constraint con = (Form_pg_constraint) GETSTRUCT(tup);
	bool		isnull;
	Datum		bin;

	*attnums = NIL;
	/* NOT VALID would let rows the guard never saw stay: not the guard */
	if (con->contype != CONSTRAINT_CHECK || con->connoinherit || !con->convalidated)
		return false;
	bin = heap_getattr(tup, Anum_pg_constraint_conbin, desc, &isnull);
	if (isnull)
		return false;
	return guard_expr_columns(stringToNode(TextDatumGetCString(bin)), attnums);
}

/* a strictly increasing attnum list as a set, or NULL if not increasing */
static Bitmapset *
increasing_set(List *attnums, bool *ok)
{
	Bitmapset  *set = NULL;
	int			prev = 0;
	ListCell   *lc;

	*ok = true;
	foreach(lc, attnums)
	{
		if (lfirst_int(lc) <= prev)
			*ok = false;
		prev = lfirst_int(lc);
		set = bms_add_member(set, prev);
	}
	return set;
}

/*
 * Bring the CHECK constraints of one relation in line.  Only constraints
 * defined on this relation (not inherited ones) are ours to change.
 */
static List *
sync_constraint(Relation rel, bool governed)
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
		List	   *attnums;
		Bitmapset  *cols = NULL;
		bool		wellformed;

		if (con->contype != CONSTRAINT_CHECK ||
			strncmp(NameStr(con->conname), GUARD_CONSTRAINT_PREFIX, strlen(GUARD_CONSTRAINT_PREFIX)) != 0 ||
			con->coninhcount > 0)
			continue;
		wellformed = guard_constraint_columns(tup, RelationGetDescr(conrel), &attnums);
		if (wellformed)
			cols = increasing_set(attnums, &wellformed);
		if (!wellformed)
		{
			/*
			 * Not the guard, whatever its name says: on a governed table it
			 * is replaced by the guard; elsewhere it is the user's own.
			 */
			if (governed)
				drop = lappend(drop, pstrdup(NameStr(con->conname)));
			continue;
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
	foreach(lc, drop)
		commands = lappend(commands, psprintf("ALTER TABLE %s DROP CONSTRAINT %s",
											  qualname, quote_identifier(lfirst(lc))));
	if (rename)
	{
		/* the right check under another name: no need to validate it again */
		commands = lappend(commands, psprintf("ALTER TABLE %s RENAME CONSTRAINT %s TO %s",
											  qualname, quote_identifier(rename),
											  quote_identifier(want_name)));
		have = true;
	}
	if (tagged && !have)
		commands = lappend(commands,
						   psprintf("ALTER TABLE %s ADD CONSTRAINT %s CHECK (%s)",
									qualname, quote_identifier(want_name),
									guard_check_expression(column_names(rel, want))));
	return commands;
}

static void
create_guard_trigger(Oid relid, const char *name, Oid funcoid, bool row,
					 int16 timing, int16 events, char fires)
{
	CreateTrigStmt *stmt = makeNode(CreateTrigStmt);

	stmt->replace = false;
	stmt->isconstraint = false;
	stmt->trigname = pstrdup(name);
	stmt->relation = makeRangeVar(get_namespace_name(get_rel_namespace(relid)),
								  get_rel_name(relid), -1);
	stmt->funcname = list_make2(makeString("governance"),
								makeString(get_func_name(funcoid)));
	stmt->args = NIL;
	stmt->row = row;
	stmt->timing = timing;
	stmt->events = events;
	stmt->columns = NIL;
	stmt->whenClause = NULL;
	stmt->transitionRels = NIL;
	stmt->deferrable = false;
	stmt->initdeferred = false;
	stmt->constrrel = NULL;

	(void) CreateTriggerFiringOn(stmt, NULL, relid, InvalidOid, InvalidOid,
								 InvalidOid, funcoid, InvalidOid, NULL, true, false,
								 fires);
}

/* OID of one of the guard's trigger functions, governance.<name>() */
static Oid
guard_trigger_function(const char *name)
{
	return LookupFuncName(list_make2(makeString("governance"), makeString(pstrdup(name))),
						  0, NULL, false);
}

/* ... or InvalidOid where the installed version lacks it (0.1) */
static Oid
guard_trigger_function_if_installed(const char *name)
{
	return LookupFuncName(list_make2(makeString("governance"), makeString(pstrdup(name))),
						  0, NULL, true);
}

/* Is funcid one of the guard's trigger functions?  By schema OID and name. */
bool
guard_is_trigger_function(Oid funcid)
{
	Oid			nsp = get_namespace_oid("governance", true);
	char	   *name;

	if (!OidIsValid(nsp) || get_func_namespace(funcid) != nsp)
		return false;
	name = get_func_name(funcid);
	return name != NULL && (strcmp(name, "_guard_delete") == 0 ||
							strcmp(name, "_guard_update") == 0 ||
							strcmp(name, "_guard_truncate") == 0 ||
							strcmp(name, "_guard_write") == 0);
}

/*
 * The trigger of a relation that calls funcoid, found by its function (a
 * renamed guard trigger is still the guard), with its name and firing mode.
 */
static Oid
find_guard_trigger(Oid relid, Oid funcoid, char **name, char *fires)
{
	Relation	trigrel = table_open(TriggerRelationId, AccessShareLock);
	SysScanDesc scan;
	ScanKeyData key;
	HeapTuple	tup;
	Oid			result = InvalidOid;

	ScanKeyInit(&key, Anum_pg_trigger_tgrelid, BTEqualStrategyNumber, F_OIDEQ,
				ObjectIdGetDatum(relid));
	scan = systable_beginscan(trigrel, TriggerRelidNameIndexId, true, NULL, 1, &key);
	while (HeapTupleIsValid(tup = systable_getnext(scan)))
	{
		Form_pg_trigger trig = (Form_pg_trigger) GETSTRUCT(tup);

		if (trig->tgfoid == funcoid)
		{
			result = trig->oid;
			*name = pstrdup(NameStr(trig->tgname));
			*fires = trig->tgenabled;
			break;
		}
	}
	systable_endscan(scan);
	table_close(trigrel, AccessShareLock);
	return result;
}

/*
 * One guard trigger of a relation, wanted or not.  want_fires: ALWAYS for
 * the guard proper, so that it fires on logical replication apply too
 * (the apply worker runs with session_replication_role = replica) and a
 * governed subscriber refuses what its policy forbids; REPLICA for the
 * apply-only row check.
 */
static void
sync_trigger(Oid relid, const char *name, const char *func, bool row,
			 int16 timing, int16 events, char want_fires, bool want)
{
	Oid			funcoid = guard_trigger_function(func);
	char	   *tgname = NULL;
	char		fires = 0;
	Oid			trigoid = find_guard_trigger(relid, funcoid, &tgname, &fires);

	if (want && !OidIsValid(trigoid))
		create_guard_trigger(relid, name, funcoid, row, timing, events, want_fires);
	else if (want && fires != want_fires)
	{
		/* disabled by a superuser, or made by 0.1 (fired on origin only) */
		Relation	rel = table_open(relid, NoLock);

		EnableDisableTrigger(rel, tgname, want_fires, false, ShareRowExclusiveLock);
		table_close(rel, NoLock);
	}
	else if (!want && OidIsValid(trigoid))
	{
		ObjectAddress addr;

		ObjectAddressSet(addr, TriggerRelationId, trigoid);
		performDeletion(&addr, DROP_RESTRICT, PERFORM_DELETION_INTERNAL);
	}
}

/*
 * A relation with no CHECK constraint, no trigger, no partition or child and
 * no parent (one syscache lookup) has no guard and inherits none: only its
 * own labels could govern it, and tagging it would have given it a guard.
 */
bool
guard_relation_plain(Oid relid)
{
	HeapTuple	tup = SearchSysCache1(RELOID, ObjectIdGetDatum(relid));
	bool		plain = true;

	if (HeapTupleIsValid(tup))
	{
		Form_pg_class c = (Form_pg_class) GETSTRUCT(tup);

		plain = c->relchecks == 0 && !c->relhastriggers && !c->relhassubclass &&
			!c->relispartition;
		ReleaseSysCache(tup);
	}
	return plain;
}

/* Does the relation label any of its own columns?  One index scan. */
static bool
relation_has_column_labels(Oid relid)
{
	Relation	seclabel = table_open(SecLabelRelationId, AccessShareLock);
	SysScanDesc scan;
	ScanKeyData keys[2];
	HeapTuple	tup;
	bool		found = false;

	ScanKeyInit(&keys[0], Anum_pg_seclabel_objoid, BTEqualStrategyNumber, F_OIDEQ,
				ObjectIdGetDatum(relid));
	ScanKeyInit(&keys[1], Anum_pg_seclabel_classoid, BTEqualStrategyNumber, F_OIDEQ,
				ObjectIdGetDatum(RelationRelationId));
	scan = systable_beginscan(seclabel, SecLabelObjectIndexId, true, NULL, 2, keys);
	while (HeapTupleIsValid(tup = systable_getnext(scan)))
	{
		FormData_pg_seclabel *l = (FormData_pg_seclabel *) GETSTRUCT(tup);
		bool		isnull;
		Datum		provider = heap_getattr(tup, Anum_pg_seclabel_provider,
											RelationGetDescr(seclabel), &isnull);

		if (l->objsubid > 0 && !isnull &&
			strcmp(TextDatumGetCString(provider), GOVERNANCE_PROVIDER) == 0)
		{
			found = true;
			break;
		}
	}
	systable_endscan(scan);
	table_close(seclabel, AccessShareLock);
	return found;
}

/*
 * Does the relation or an ancestor (partition or inheritance parent) tag
 * any column?
 */
bool
guard_relation_governed(Oid relid)
{
	ListCell   *lc;

	if (relation_has_column_labels(relid))
		return true;
	if (!get_rel_relispartition(relid) && !has_superclass(relid))
		return false;
	foreach(lc, guard_ancestors(relid))
		if (relation_has_column_labels(lfirst_oid(lc)))
			return true;
	return false;
}

/* Has the relation a guard constraint or trigger of its own? */
static bool
relation_has_guard_objects(Oid relid)
{
	Relation	conrel;
	SysScanDesc scan;
	ScanKeyData key;
	HeapTuple	tup;
	bool		found = false;

	conrel = table_open(ConstraintRelationId, AccessShareLock);
	ScanKeyInit(&key, Anum_pg_constraint_conrelid, BTEqualStrategyNumber, F_OIDEQ,
				ObjectIdGetDatum(relid));
	scan = systable_beginscan(conrel, ConstraintRelidTypidNameIndexId, true, NULL, 1, &key);
	while (!found && HeapTupleIsValid(tup = systable_getnext(scan)))
	{
		Form_pg_constraint con = (Form_pg_constraint) GETSTRUCT(tup);

		found = con->contype == CONSTRAINT_CHECK && con->coninhcount == 0 &&
			strncmp(NameStr(con->conname), GUARD_CONSTRAINT_PREFIX,
					strlen(GUARD_CONSTRAINT_PREFIX)) == 0;
	}
	systable_endscan(scan);
	table_close(conrel, AccessShareLock);
	if (found)
		return true;

	/* one scan of the table's triggers, each known by its function */
	conrel = table_open(TriggerRelationId, AccessShareLock);
	ScanKeyInit(&key, Anum_pg_trigger_tgrelid, BTEqualStrategyNumber, F_OIDEQ,
				ObjectIdGetDatum(relid));
	scan = systable_beginscan(conrel, TriggerRelidNameIndexId, true, NULL, 1, &key);
	while (!found && HeapTupleIsValid(tup = systable_getnext(scan)))
		found = guard_is_trigger_function(((Form_pg_trigger) GETSTRUCT(tup))->tgfoid);
	systable_endscan(scan);
	table_close(conrel, AccessShareLock);
	if (found)
		return true;

	/* an untagged table that still hides an erased subject's kept rows */
	conrel = table_open(PolicyRelationId, AccessShareLock);
	{
		ScanKeyData pkey[2];

		ScanKeyInit(&pkey[0], Anum_pg_policy_polrelid, BTEqualStrategyNumber, F_OIDEQ,
					ObjectIdGetDatum(relid));
		ScanKeyInit(&pkey[1], Anum_pg_policy_polname, BTEqualStrategyNumber, F_NAMEEQ,
					CStringGetDatum(RESTRICTED_POLICY));
		scan = systable_beginscan(conrel, PolicyPolrelidPolnameIndexId, true, NULL, 2, pkey);
		found = HeapTupleIsValid(systable_getnext(scan));
		systable_endscan(scan);
	}
	table_close(conrel, AccessShareLock);
	return found;
}

/*
 * Is the table a target of a logical replication subscription?  Only
 * those get the apply-only row check: an AFTER ROW trigger, even one that
 * never fires, costs every INSERT a little.
 */
static bool
relation_listed_in_subscription(Oid relid)
{
	Relation	subrel = table_open(SubscriptionRelRelationId, AccessShareLock);
	SysScanDesc scan;
	ScanKeyData key;
	bool		found;

	ScanKeyInit(&key, Anum_pg_subscription_rel_srrelid, BTEqualStrategyNumber, F_OIDEQ,
				ObjectIdGetDatum(relid));
	scan = systable_beginscan(subrel, SubscriptionRelSrrelidSrsubidIndexId, true, NULL, 1, &key);
	found = HeapTupleIsValid(systable_getnext(scan));
	systable_endscan(scan);
	table_close(subrel, AccessShareLock);
	return found;
}

/* ... it or an ancestor: rows for a partitioned target land in its partitions */
static bool
relation_is_subscription_target(Oid relid)
{
	ListCell   *lc;

	if (relation_listed_in_subscription(relid))
		return true;
	foreach(lc, guard_ancestors(relid))
		if (relation_listed_in_subscription(lfirst_oid(lc)))
			return true;
	return false;
}

/*
 * A governed relation whose tagged columns no longer fit their labels
 * (ALTER COLUMN ... TYPE): the command is refused rather than leave a
 * guard that would read a value as what it is not.
 */
static void
check_column_types(Oid relid)
{
	GuardRel   *g = guard_get(relid);
	int			i;

	for (i = 0; i < g->ncols; i++)
	{
		GovLabel	gl;
		char	   *problem;

		memset(&gl, 0, sizeof(gl));
		gl.anchor = g->cols[i].anchor;
		gl.subject = g->cols[i].subject;
		gl.region_column = g->cols[i].region;
		problem = guard_column_type_problem(g->cols[i].name,
											get_atttype(relid, g->cols[i].attnum), &gl);
		if (problem)
			ereport(ERROR,
					(errcode(ERRCODE_GV_INVALID_LABEL),
					 errmsg("column \"%s\" of table %s no longer fits its governance label",
							g->cols[i].name, g->relname),
					 errdetail("%s", problem),
					 errhint("Keep the column's type, or untag the column first with governance.untag().")));
	}
}

/*
 * Bring one relation's guard in line.  An ungoverned relation without
 * guard objects is left alone without a lock: DDL on tables we do not
 * govern takes the locks PostgreSQL takes.  Each change takes the lock it
 * needs itself.
 */
static bool
sync_one(Oid relid)
{
	char		relkind = get_rel_relkind(relid);
	bool		governed;
	bool		restricted;
	Relation	rel;
	List	   *commands;
	ListCell   *lc;

	if (relkind == RELKIND_FOREIGN_TABLE && guard_relation_governed(relid))
		ereport(ERROR,
				(errcode(ERRCODE_GV_LOCALIZATION),
				 errmsg("foreign table %s cannot be governed", get_rel_name(relid)),
				 errdetail("Its rows are stored on another server, where the guard cannot check them; it is a partition or child of a governed table."),
				 errhint("Keep governed data in local tables.")));
	if (relkind != RELKIND_RELATION && relkind != RELKIND_PARTITIONED_TABLE)
		return false;
	governed = guard_relation_governed(relid);
	if (!governed && !relation_has_guard_objects(relid) && !restrict_pending_for(relid))
		return false;
	if (governed)
		check_column_types(relid);
	rel = table_open(relid, AccessShareLock);
	commands = sync_constraint(rel, governed);
	/* ALTER TABLE refuses a table this backend still has open: keep the lock only */
	table_close(rel, NoLock);

	foreach(lc, commands)
		guard_exec(lfirst(lc));
	/* an untagged table keeps the triggers that protect an erased subject's kept rows */
	restricted = !governed && blocking_installed() && restrict_wanted(relid) != NIL;
	/* (the trigger calls below change nothing when all is in line) */
	sync_trigger(relid, "governance_guard_truncate", "_guard_truncate", false,
				 TRIGGER_TYPE_BEFORE, TRIGGER_TYPE_TRUNCATE, TRIGGER_FIRES_ALWAYS, governed || restricted);
	sync_trigger(relid, "governance_guard_delete", "_guard_delete", true,
				 TRIGGER_TYPE_BEFORE, TRIGGER_TYPE_DELETE, TRIGGER_FIRES_ALWAYS,
				 (governed || restricted) && relkind == RELKIND_RELATION);
	sync_trigger(relid, "governance_guard_update", "_guard_update", true,
				 TRIGGER_TYPE_BEFORE, TRIGGER_TYPE_UPDATE, TRIGGER_FIRES_ALWAYS,
				 (governed || restricted) && relkind == RELKIND_RELATION);
	if (OidIsValid(guard_trigger_function_if_installed("_guard_write")))
		sync_trigger(relid, "governance_guard_write", "_guard_write", true,
					 TRIGGER_TYPE_AFTER, TRIGGER_TYPE_INSERT | TRIGGER_TYPE_UPDATE,
					 TRIGGER_FIRES_ON_REPLICA,
					 governed && relkind == RELKIND_RELATION && relation_is_subscription_target(relid));
	blocking_sync(relid, governed);
	return true;
}

/*
 * guard_sync
 *		Bring the guard of a relation and of all its partitions and
 *		inheritance children in line with their labels.
 */
void
guard_sync(Oid relid)
{
	List	   *rels;
	ListCell   *lc;

	if (in_sync || get_rel_relkind(relid) == '\0')
		return;
	in_sync = true;
	PG_TRY();
	{
		bool		touched = false;

		rels = find_all_inheritors(relid, NoLock, NULL);
		foreach(lc, rels)
			touched |= sync_one(lfirst_oid(lc));
		if (touched)
			CommandCounterIncrement();
	}
	PG_FINALLY();
	{
		in_sync = false;
	}
	PG_END_TRY();
}

/*
 * Every governed table, after a subscription changed which tables it
 * replicates into (CREATE / ALTER SUBSCRIPTION): targets get the
 * apply-only row check, former targets lose it.
 */
void
guard_sync_all(void)
{
	ListCell   *lc;

	foreach(lc, guard_tagged_tables(InvalidOid))
		guard_sync(lfirst_oid(lc));
}

/* Is a guard sync in progress (its own drops are not the user's)? */
bool
guard_in_sync(void)
{
	return in_sync;
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
 *		of its new parent: give it the parent's guard constraints first.
 *		The statements are built from the parent's guard columns, mapped by
 *		name, never from text read back from the catalog.  Rows already in
 *		the table are checked against its effective labels once attached
 *		(guard_validate_rows, at ddl_command_end).
 */
void
guard_prepare_attach(Oid parentid, Oid childid)
{
	List	   *commands = NIL;
	char	   *child;
	Relation	conrel;
	SysScanDesc scan;
	ScanKeyData key;
	HeapTuple	tup;

	/* PostgreSQL refuses the command to anyone else; do nothing for them */
	if (!pg_class_ownercheck(parentid, GetUserId()) ||
		!pg_class_ownercheck(childid, GetUserId()))
		return;
	child = quote_qualified_identifier(get_namespace_name(get_rel_namespace(childid)),
									   get_rel_name(childid));
	conrel = table_open(ConstraintRelationId, AccessShareLock);
	ScanKeyInit(&key, Anum_pg_constraint_conrelid, BTEqualStrategyNumber, F_OIDEQ,
				ObjectIdGetDatum(parentid));
	scan = systable_beginscan(conrel, ConstraintRelidTypidNameIndexId, true, NULL, 1, &key);
	while (HeapTupleIsValid(tup = systable_getnext(scan)))
	{
		Form_pg_constraint con = (Form_pg_constraint) GETSTRUCT(tup);
		List	   *attnums;
		List	   *names = NIL;
		ListCell   *lc;
		bool		complete = true;

		if (strncmp(NameStr(con->conname), GUARD_CONSTRAINT_PREFIX,
					strlen(GUARD_CONSTRAINT_PREFIX)) != 0 ||
			!guard_constraint_columns(tup, RelationGetDescr(conrel), &attnums) ||
			OidIsValid(get_relation_constraint_oid(childid, NameStr(con->conname), true)))
			continue;
		foreach(lc, attnums)
		{
			char	   *name = get_attname(parentid, lfirst_int(lc), false);

			/* a missing column: ATTACH refuses the table with its own error */
			if (get_attnum(childid, name) == InvalidAttrNumber)
				complete = false;
			names = lappend(names, name);
		}
		if (complete)
			commands = lappend(commands,
							   psprintf("ALTER TABLE %s ADD CONSTRAINT %s CHECK (%s)", child,
										quote_identifier(NameStr(con->conname)),
										guard_check_expression(names)));
	}
	systable_endscan(scan);
	table_close(conrel, AccessShareLock);
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
		const GuardLoc *loc = g->storage_violation;

		/* a table with a region column is stored where its tablespace is, too */
		if (loc == NULL && g->storage_region_from &&
			strncmp(g->storage_region_from, "tablespace", 10) == 0)
			loc = g->null_region_violation;
		if (g->governed && g->policy && !g->fail_closed && loc)
		{

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

/*
 * governance._sync_guards(relid, command_tag): the ddl_command_end work of
 * 0.1's event trigger function (0.2 does it in C).  Only for the owner of
 * the table (or the extension owner): a command's issuer owns what it
 * changed.
 */
Datum
governance_sync_guards(PG_FUNCTION_ARGS)
{
	Oid			relid = PG_GETARG_OID(0);

	if (PG_ARGISNULL(0) || get_rel_relkind(relid) == '\0' ||
		!pg_class_ownercheck(relid, GetUserId()))
		PG_RETURN_VOID();
	guard_sync_command(relid, PG_ARGISNULL(1) ? NULL : text_to_cstring(PG_GETARG_TEXT_PP(1)));
	PG_RETURN_VOID();
}

/* What ddl_command_end does for one table a command touched. */
void
guard_sync_command(Oid relid, const char *command_tag)
{
	guard_sync(relid);
	while (detached != NIL)
	{
		Oid			partid = linitial_oid(detached);

		detached = list_delete_first(detached);
		if (!get_rel_relispartition(partid))
			guard_sync(partid);
	}
	if (command_tag && strcmp(command_tag, "ALTER TABLE") == 0 &&
		get_rel_relkind(relid) != '\0' && guard_relation_governed(relid))
		guard_check_storage(relid);
}
