/*-------------------------------------------------------------------------
 *
 * ddl.c
 *	  Event triggers that keep governance consistent across DDL.  They act
 *	  only on tables (relkind r and p) of the command's own kind: ALTER
 *	  INDEX, ALTER TYPE, ALTER VIEW and anything on a table we do not
 *	  govern behave exactly as without the extension.
 *
 *	  ddl_command_start (governance._on_ddl_command_start): being in the
 *		library, it loads it, so that the label provider and the drop hook
 *		(guard_drop.c) exist before a command runs without preloading.
 *		Before ALTER TABLE it refuses changing the type of a tagged column
 *		of a table that holds retained or held rows, and moving such a
 *		table to a schema that binds it differently; it gives a table about
 *		to be attached its new parent's guard constraints, refuses a
 *		foreign table as a partition or child of a governed table, and
 *		copies the effective labels onto a partition about to be detached.
 *	  ddl_command_end (governance._on_ddl_command_end): brings the guard of
 *		every table the command touched in line (guard_sync), and checks
 *		the rows of tables that became governed, or governed differently;
 *		puts back a guard trigger dropped from a table that stays, and
 *		forgets the holds of dropped tables (no sql_drop trigger: making
 *		PostgreSQL collect every dropped object would slow every DROP).
 *
 *	  Work is only done for the owner of the table: PostgreSQL refuses the
 *	  command to anyone else, after our ddl_command_start has run.
 *
 *-------------------------------------------------------------------------
 */
#include "pg_governance.h"

#include "access/table.h"
#include "catalog/namespace.h"
#include "catalog/objectaddress.h"
#include "catalog/partition.h"
#include "catalog/pg_class.h"
#include "catalog/pg_inherits.h"
#include "catalog/pg_namespace.h"
#include "catalog/pg_type.h"
#include "utils/array.h"
#include "commands/event_trigger.h"
#include "catalog/index.h"
#include "commands/seclabel.h"
#include "commands/tablespace.h"
#include "executor/spi.h"
#include "miscadmin.h"
#include "nodes/parsenodes.h"
#include "storage/lmgr.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/inval.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/rel.h"
#include "utils/guc.h"

PG_FUNCTION_INFO_V1(governance_on_ddl_command_start);
PG_FUNCTION_INFO_V1(governance_on_ddl_command_end);

/*
 * Tables whose rows are checked at the command's end (attach, inherit, set
 * schema).  Kept in TopMemoryContext and forgotten when the transaction
 * ends (guard_drop.c's transaction callback calls guard_forget_pending).
 */
static List *validate_at_end = NIL;

void
guard_forget_pending(void)
{
	list_free(validate_at_end);
	validate_at_end = NIL;
}

static void
note_validate(Oid relid)
{
	MemoryContext old = MemoryContextSwitchTo(TopMemoryContext);

	validate_at_end = list_append_unique_oid(validate_at_end, relid);
	MemoryContextSwitchTo(old);
}

/* a plain or partitioned table that the current user owns, or InvalidOid */
static Oid
owned_table(RangeVar *rv)
{
	Oid			relid = RangeVarGetRelid(rv, NoLock, true);
	char		relkind;

	if (!OidIsValid(relid))
		return InvalidOid;
	relkind = get_rel_relkind(relid);
	if (relkind != RELKIND_RELATION && relkind != RELKIND_PARTITIONED_TABLE)
		return InvalidOid;
	if (!pg_class_ownercheck(relid, GetUserId()))
		return InvalidOid;
	return relid;
}

/*
 * Probe a governed table tree for retained or held rows before "what",
 * under the lock the command itself is about to take, so that no row
 * slips in between.
 */
static void
probe_locked(Oid relid, LOCKMODE lockmode, const char *what)
{
	ListCell   *lc;

	LockRelationOid(relid, lockmode);
	foreach(lc, find_all_inheritors(relid, lockmode, NULL))
		if (get_rel_relkind(lfirst_oid(lc)) == RELKIND_RELATION &&
			guard_relation_governed(lfirst_oid(lc)))
			guard_probe(lfirst_oid(lc), what);
}

static bool column_tagged(Oid relid, const char *colname);

/*
 * ALTER COLUMN ... TYPE reaches every child unless ONLY is said: a column
 * tagged in any of them (its parent need not be governed) is probed.
 */
static void
probe_column_tree(Oid relid, bool recurse, const char *colname)
{
	List	   *rels = recurse ? find_all_inheritors(relid, NoLock, NULL) : list_make1_oid(relid);
	ListCell   *lc;

	foreach(lc, rels)
	{
		Oid			r = lfirst_oid(lc);

		if (get_rel_relkind(r) == RELKIND_RELATION && !guard_relation_plain(r) &&
			guard_relation_governed(r) && column_tagged(r, colname))
			probe_locked(r, AccessExclusiveLock,
						 psprintf("change the type of column \"%s\" of %s", colname,
								  guard_get(r)->relname));
	}
}

static bool
column_tagged(Oid relid, const char *colname)
{
	GuardRel   *g = guard_get(relid);
	int			i;

	for (i = 0; i < g->ncols; i++)
		if (strcmp(g->cols[i].name, colname) == 0)
			return true;
	return false;
}

static char *
label_format(const GovLabel *gl)
{
	StringInfoData buf;
	ListCell   *lc;

	initStringInfo(&buf);
	if (gl->categories)
	{
		appendStringInfoString(&buf, "category=");
		foreach(lc, gl->categories)
			appendStringInfo(&buf, "%s%s", foreach_current_index(lc) ? "," : "",
							 (char *) lfirst(lc));
	}
	if (gl->subject)
		appendStringInfo(&buf, "%ssubject", buf.len ? ";" : "");
	if (gl->anchor)
		appendStringInfo(&buf, "%sanchor=%s", buf.len ? ";" : "", gl->anchor);
	if (gl->region_column)
		appendStringInfo(&buf, "%sregion", buf.len ? ";" : "");
	return buf.data;
}

/*
 * A detached partition stops inheriting its ancestors' labels: give it
 * its effective labels (and binding) as its own first.
 */
static void
copy_effective_labels(Oid partid)
{
	List	   *ancestors = guard_ancestors(partid);
	Relation	rel = table_open(partid, AccessShareLock);
	TupleDesc	desc = RelationGetDescr(rel);
	ObjectAddress addr;
	int			i;
	ListCell   *lc;

	for (i = 0; i < desc->natts; i++)
	{
		Form_pg_attribute att = TupleDescAttr(desc, i);
		GovLabel	merged;
		bool		found = false;
		char	   *err;
		char	   *label;

		if (att->attisdropped)
			continue;
		memset(&merged, 0, sizeof(merged));
		ObjectAddressSubSet(addr, RelationRelationId, partid, att->attnum);
		if ((label = GetSecurityLabel(&addr, GOVERNANCE_PROVIDER)) &&
			label_parse(label, LABEL_COLUMN, &merged, &err))
			found = true;
		foreach(lc, ancestors)
		{
			Oid			anc = lfirst_oid(lc);
			AttrNumber	ancatt = get_attnum(anc, NameStr(att->attname));
			ObjectAddress aaddr;
			GovLabel	more;

			if (ancatt == InvalidAttrNumber)
				continue;
			ObjectAddressSubSet(aaddr, RelationRelationId, anc, ancatt);
			if (!(label = GetSecurityLabel(&aaddr, GOVERNANCE_PROVIDER)) ||
				!label_parse(label, LABEL_COLUMN, &more, &err))
				continue;
			merged.categories = label_merge_categories(merged.categories, more.categories);
			merged.subject |= more.subject;
			merged.region_column |= more.region_column;
			if (!merged.anchor)
				merged.anchor = more.anchor;
			found = true;
		}
		if (found)
			SetSecurityLabel(&addr, GOVERNANCE_PROVIDER, label_format(&merged));
	}

	ObjectAddressSet(addr, RelationRelationId, partid);
	if (GetSecurityLabel(&addr, GOVERNANCE_PROVIDER) == NULL)
	{
		foreach(lc, ancestors)
		{
			ObjectAddress aaddr;
			char	   *label;

			ObjectAddressSet(aaddr, RelationRelationId, lfirst_oid(lc));
			if ((label = GetSecurityLabel(&aaddr, GOVERNANCE_PROVIDER)) != NULL)
			{
				SetSecurityLabel(&addr, GOVERNANCE_PROVIDER, label);
				break;
			}
		}
	}
	table_close(rel, AccessShareLock);
	CacheInvalidateRelcacheByRelid(partid);
}

static bool
same_policy(const char *a, const char *b)
{
	return (a == NULL && b == NULL) || (a != NULL && b != NULL && strcmp(a, b) == 0);
}

/*
 * A table that gets a new parent (ATTACH, INHERIT) may get another binding
 * from it: not while it holds retained or held rows.
 */
static void
probe_rebinding(Oid relid, Oid newparent)
{
	char	   *before;
	char	   *after;

	if (!guard_relation_governed(relid))
		return;
	before = guard_bound_policy(relid);
	after = guard_bound_policy_under(relid, newparent);
	if (same_policy(before, after))
		return;
	probe_locked(relid, AccessExclusiveLock,
				 psprintf("make %s a child of %s (bound to %s there, %s here)",
						  guard_get(relid)->relname, get_rel_name(newparent),
						  after ? psprintf("policy %s", after) : "no policy",
						  before ? psprintf("policy %s", before) : "no policy"));
}

/*
 * Data of a governed table (its rows, or an index over its columns) about
 * to be stored in tablespace spcid: refused if that tablespace's region is
 * outside a jurisdiction the table's rules require.
 */
static void
check_tablespace_for(Oid relid, Oid spcid, const char *what)
{
	GuardRel   *g;
	char	   *region;
	ListCell   *lc;

	if (!OidIsValid(spcid) || guard_relation_plain(relid) || !guard_relation_governed(relid))
		return;
	region = guard_tablespace_region(spcid);
	if (region == NULL)
		return;
	g = guard_get(relid);
	if (!g->governed || g->policy == NULL)
		return;
	foreach(lc, g->localizations)
	{
		GuardLoc   *loc = lfirst(lc);

		if (!guard_region_allowed(loc, region))
			ereport(ERROR,
					(errcode(ERRCODE_GV_LOCALIZATION),
					 errmsg("cannot %s: data of table %s would be stored in region %s (tablespace %s), outside jurisdiction \"%s\"",
							what, g->relname, region, get_tablespace_name(spcid), loc->jurisdiction),
					 errdetail("Table %s, column %s, category %s, policy %s, rule %s: \"%s\".",
							   g->relname, loc->column, loc->rule.category, g->policy,
							   loc->rule.rule_id, loc->rule.source),
					 errhint("Keep the table and its indexes in a tablespace whose region is inside \"%s\".",
							 loc->jurisdiction)));
	}
}

/* CREATE INDEX, and ALTER INDEX ... SET TABLESPACE, on a governed table */
static void
on_create_index(IndexStmt *stmt)
{
	Oid			relid = RangeVarGetRelid(stmt->relation, NoLock, true);
	Oid			spcid;

	if (!OidIsValid(relid))
		return;
	spcid = stmt->tableSpace ? get_tablespace_oid(stmt->tableSpace, true)
		: GetDefaultTablespace(RELPERSISTENCE_PERMANENT, false);
	check_tablespace_for(relid, spcid, "create the index");
}

static void
on_alter_index(AlterTableStmt *stmt)
{
	Oid			indexid = RangeVarGetRelid(stmt->relation, NoLock, true);
	ListCell   *lc;

	if (!OidIsValid(indexid) || get_rel_relkind(indexid) != RELKIND_INDEX)
		return;
	foreach(lc, stmt->cmds)
	{
		AlterTableCmd *cmd = lfirst(lc);

		if (cmd->subtype == AT_SetTableSpace && cmd->name)
			check_tablespace_for(IndexGetRelation(indexid, false),
								 get_tablespace_oid(cmd->name, true), "move the index");
	}
}

/* ALTER TABLE / INDEX ALL IN TABLESPACE ... SET TABLESPACE */
static void
on_move_all(AlterTableMoveAllStmt *stmt)
{
	Oid			from = get_tablespace_oid(stmt->orig_tablespacename, true);
	Oid			to = get_tablespace_oid(stmt->new_tablespacename, true);
	ListCell   *lc;

	if (!OidIsValid(to) || guard_tablespace_region(to) == NULL)
		return;
	if (from == MyDatabaseTableSpace)
		from = InvalidOid;		/* pg_class says 0 for the database's default */
	foreach(lc, guard_tagged_tables(InvalidOid))
	{
		ListCell   *r;

		foreach(r, find_all_inheritors(lfirst_oid(lc), NoLock, NULL))
		{
			Oid			relid = lfirst_oid(r);
			bool		moves = false;

			if (stmt->objtype == OBJECT_TABLE)
				moves = get_rel_tablespace(relid) == from;
			else if (stmt->objtype == OBJECT_INDEX)
			{
				Relation	rel = table_open(relid, AccessShareLock);
				ListCell   *i;

				foreach(i, RelationGetIndexList(rel))
					moves |= get_rel_tablespace(lfirst_oid(i)) == from;
				table_close(rel, AccessShareLock);
			}
			if (moves)
				check_tablespace_for(relid, to, "move it to another tablespace");
		}
	}
}

/* a foreign table cannot hold a governed table's rows: they live elsewhere */
static void
refuse_foreign_child(Oid parentid, const char *child)
{
	if (!guard_relation_governed(parentid))
		return;
	ereport(ERROR,
			(errcode(ERRCODE_GV_LOCALIZATION),
			 errmsg("foreign table %s cannot become a partition or child of governed table %s",
					child, get_rel_name(parentid)),
			 errdetail("The rows of a foreign table are stored on another server, where the guard cannot check them."),
			 errhint("Keep the data in a local table, or govern the foreign server's own tables there.")));
}

/*
 * A partition or child leaving its parent keeps the legal holds placed on
 * its ancestors: they are placed again on it (and its own partitions
 * inherit them from it).
 */
static void
copy_holds(Oid relid)
{
	GovSpi		spi;
	List	   *ancestors = guard_ancestors(relid);
	Datum	   *oids;
	int			n = 0;
	ListCell   *lc;
	Oid			argtypes[2] = {OIDOID, OIDARRAYOID};
	Datum		args[2];

	if (ancestors == NIL || !guard_relation_governed(relid))
		return;
	oids = palloc(sizeof(Datum) * list_length(ancestors));
	foreach(lc, ancestors)
		oids[n++] = ObjectIdGetDatum(lfirst_oid(lc));
	args[0] = ObjectIdGetDatum(relid);
	args[1] = PointerGetDatum(construct_array(oids, n, OIDOID, sizeof(Oid), true, TYPALIGN_INT));
	gov_spi_begin(&spi, true);
	if (SPI_execute_with_args("INSERT INTO governance.hold (relation, subject, reason, placed_by) "
							  "SELECT $1::pg_catalog.oid::pg_catalog.regclass, h.subject, "
							  "       h.reason OPERATOR(pg_catalog.||) ' (held on '::pg_catalog.text "
							  "       OPERATOR(pg_catalog.||) h.relation::pg_catalog.text "
							  "       OPERATOR(pg_catalog.||) ', hold '::pg_catalog.text "
							  "       OPERATOR(pg_catalog.||) h.hold_id::pg_catalog.text OPERATOR(pg_catalog.||) ')', "
							  "       h.placed_by "
							  "FROM governance.hold h "
							  "WHERE h.relation::pg_catalog.oid OPERATOR(pg_catalog.=) ANY ($2) "
							  "  AND h.released_at IS NULL",
							  2, argtypes, args, NULL, false, 0) != SPI_OK_INSERT)
		elog(ERROR, "pg_governance: could not carry the holds over");
	gov_spi_end(&spi);
	CacheInvalidateRelcacheByRelid(relid);
}

/* ... nor can a table whose partitions include a foreign one */
static void
refuse_foreign_tree(Oid parentid, Oid childid)
{
	ListCell   *lc;

	foreach(lc, find_all_inheritors(childid, NoLock, NULL))
		if (get_rel_relkind(lfirst_oid(lc)) == RELKIND_FOREIGN_TABLE)
			refuse_foreign_child(parentid, get_rel_name(lfirst_oid(lc)));
}

static bool own_policy_ddl;

/* is ddl.c dropping or making one of the guard's policies itself? */
bool
guard_own_policy_ddl(void)
{
	return own_policy_ddl;
}

/*
 * DROP COLUMN or ALTER COLUMN TYPE of an anchor column that the blocking
 * policy reads (blocking.c): the policy goes first, as PostgreSQL would
 * otherwise refuse the command for its sake; ddl_command_end makes it
 * again over what is left.  If the command fails (GV003 on retained
 * rows), the transaction takes the drop back.
 */
static void
release_blocking_policy(Oid relid, bool recurse, const char *colname)
{
	List	   *rels = recurse ? find_all_inheritors(relid, NoLock, NULL) : list_make1_oid(relid);
	ListCell   *lc;

	foreach(lc, rels)
	{
		Oid			rel = lfirst_oid(lc);

		/* the key of an erased subject's kept rows: the rows would show */
		if (restrict_reads_column(rel, colname))
			ereport(ERROR,
					(errcode(ERRCODE_GV_BLOCKED),
					 errmsg("cannot drop or retype column \"%s\" of table %s", colname, get_rel_name(rel)),
					 errdetail("The column is part of the key by which the table's kept rows of erased subjects are blocked (policy governance_restricted)."),
					 errhint("Erase the subjects again once their holds and minimum retention end; the rows then go, and the column is free.")));
		if (!blocking_policy_reads(rel, colname))
			continue;
		own_policy_ddl = true;
		PG_TRY();
		{
			guard_exec(psprintf("DROP POLICY governance_blocked ON %s",
								quote_qualified_identifier(get_namespace_name(get_rel_namespace(rel)),
														   get_rel_name(rel))));
		}
		PG_FINALLY();
		{
			own_policy_ddl = false;
		}
		PG_END_TRY();
	}
}

/* Does ALTER TABLE do anything ddl_command_start has to look at? */
static bool
alter_table_needs_look(AlterTableStmt *stmt)
{
	ListCell   *lc;

	foreach(lc, stmt->cmds)
	{
		AlterTableType t = ((AlterTableCmd *) lfirst(lc))->subtype;

		if (t == AT_AlterColumnType || t == AT_DropColumn || t == AT_AttachPartition || t == AT_DetachPartition ||
			t == AT_AddInherit || t == AT_DropInherit)
			return true;
	}
	return false;
}

static void
on_alter_table(AlterTableStmt *stmt)
{
	Oid			relid;
	ListCell   *lc;

	if (stmt->objtype != OBJECT_TABLE || !alter_table_needs_look(stmt) ||
		!OidIsValid(relid = owned_table(stmt->relation)))
		return;
	foreach(lc, stmt->cmds)
	{
		AlterTableCmd *cmd = lfirst(lc);

		if (cmd->subtype == AT_AlterColumnType && cmd->name)
		{
			probe_column_tree(relid, stmt->relation->inh, cmd->name);
			release_blocking_policy(relid, stmt->relation->inh, cmd->name);
		}
		else if (cmd->subtype == AT_DropColumn && cmd->name)
			release_blocking_policy(relid, stmt->relation->inh, cmd->name);
		else if (cmd->subtype == AT_AttachPartition)
		{
			PartitionCmd *pc = (PartitionCmd *) cmd->def;
			Oid			partid = RangeVarGetRelid(pc->name, NoLock, true);

			if (!OidIsValid(partid))
				continue;
			refuse_foreign_tree(relid, partid);
			probe_rebinding(partid, relid);
			guard_prepare_attach(relid, partid);
			note_validate(partid);
		}
		else if (cmd->subtype == AT_DetachPartition)
		{
			PartitionCmd *pc = (PartitionCmd *) cmd->def;
			Oid			partid = RangeVarGetRelid(pc->name, NoLock, true);
			char		relkind = OidIsValid(partid) ? get_rel_relkind(partid) : '\0';

			/* PostgreSQL asks only for the parent's owner */
			if ((relkind == RELKIND_RELATION || relkind == RELKIND_PARTITIONED_TABLE) &&
				get_rel_relispartition(partid))
			{
				copy_effective_labels(partid);
				copy_holds(partid);
				guard_note_detached(partid);
			}
		}
		else if (cmd->subtype == AT_AddInherit)
		{
			/* INHERIT, like ATTACH, needs the parent's CHECK constraints first */
			Oid			parent = RangeVarGetRelid((RangeVar *) cmd->def, NoLock, true);

			if (OidIsValid(parent))
			{
				probe_rebinding(relid, parent);
				guard_prepare_attach(parent, relid);
			}
			note_validate(relid);
		}
		else if (cmd->subtype == AT_DropInherit && has_superclass(relid))
		{
			copy_effective_labels(relid);
			copy_holds(relid);
		}
	}
}

/* the tables OF a composite type (whose columns ALTER TYPE ... CASCADE changes) */
static List *
typed_tables(Oid typrelid)
{
	List	   *result = NIL;
	GovSpi		spi;
	Oid			argtypes[1] = {OIDOID};
	Datum		args[1] = {ObjectIdGetDatum(get_rel_type_id(typrelid))};
	uint64		i;

	gov_spi_begin(&spi, false);
	if (SPI_execute_with_args("SELECT c.oid FROM pg_catalog.pg_class c "
							  "WHERE c.reloftype OPERATOR(pg_catalog.=) $1",
							  1, argtypes, args, NULL, true, 0) != SPI_OK_SELECT)
		elog(ERROR, "pg_governance: could not list typed tables");
	for (i = 0; i < SPI_processed; i++)
	{
		bool		isnull;
		MemoryContext old = MemoryContextSwitchTo(CurTransactionContext);

		result = lappend_oid(result, DatumGetObjectId(SPI_getbinval(SPI_tuptable->vals[i],
																	 SPI_tuptable->tupdesc, 1, &isnull)));
		MemoryContextSwitchTo(old);
	}
	gov_spi_end(&spi);
	return result;
}

/* ALTER TYPE ... ALTER ATTRIBUTE ... TYPE CASCADE retypes the typed tables' columns */
static void
on_alter_type(AlterTableStmt *stmt)
{
	Oid			typrelid = RangeVarGetRelid(stmt->relation, NoLock, true);
	ListCell   *lc;
	ListCell   *t;

	if (!OidIsValid(typrelid) || get_rel_relkind(typrelid) != RELKIND_COMPOSITE_TYPE)
		return;
	foreach(lc, stmt->cmds)
	{
		AlterTableCmd *cmd = lfirst(lc);

		if ((cmd->subtype == AT_AlterColumnType || cmd->subtype == AT_DropColumn) && cmd->name)
			foreach(t, typed_tables(typrelid))
			{
				probe_column_tree(lfirst_oid(t), true, cmd->name);
				release_blocking_policy(lfirst_oid(t), true, cmd->name);
			}
	}
}

static void
on_alter_foreign_table(AlterTableStmt *stmt)
{
	Oid			relid = RangeVarGetRelid(stmt->relation, NoLock, true);
	ListCell   *lc;

	if (!OidIsValid(relid))
		return;
	foreach(lc, stmt->cmds)
	{
		AlterTableCmd *cmd = lfirst(lc);

		if (cmd->subtype == AT_AddInherit)
		{
			Oid			parent = RangeVarGetRelid((RangeVar *) cmd->def, NoLock, true);

			if (OidIsValid(parent))
				refuse_foreign_child(parent, get_rel_name(relid));
		}
	}
}

/* CREATE FOREIGN TABLE ... PARTITION OF / INHERITS a governed table */
static void
on_create_foreign_table(CreateForeignTableStmt *stmt)
{
	ListCell   *lc;

	foreach(lc, stmt->base.inhRelations)
	{
		Oid			parent = RangeVarGetRelid(lfirst(lc), NoLock, true);

		if (OidIsValid(parent))
			refuse_foreign_child(parent, stmt->base.relation->relname);
	}
}

/*
 * ALTER TABLE ... SET SCHEMA: a table that moves to a schema binding it to
 * another policy (or none) while it holds retained or held rows would
 * lose its binding; otherwise its rows are checked against the new one.
 */
static void
on_set_schema(AlterObjectSchemaStmt *stmt)
{
	Oid			relid;
	Oid			nspid;
	char	   *before;
	char	   *after;

	if (stmt->objectType != OBJECT_TABLE || !OidIsValid(relid = owned_table(stmt->relation)) ||
		!guard_relation_governed(relid))
		return;
	nspid = get_namespace_oid(stmt->newschema, true);
	if (!OidIsValid(nspid))
		return;
	before = guard_bound_policy(relid);
	/* after the move, a binding of the table or its ancestors still wins */
	after = guard_bound_policy_in_schema(relid, nspid);
	if ((before == NULL && after == NULL) ||
		(before != NULL && after != NULL && strcmp(before, after) == 0))
		return;
	probe_locked(relid, AccessExclusiveLock,
				 psprintf("move %s to schema %s (bound to %s there, %s here)",
						  guard_get(relid)->relname, quote_identifier(stmt->newschema),
						  after ? psprintf("policy %s", after) : "no policy",
						  before ? psprintf("policy %s", before) : "no policy"));
	note_validate(relid);
}

/* ------------------------------------------------------------ policies */

/* is our own DDL on a blocking policy running (restore's replacement)? */
static bool own_policy_ddl = false;

/* the table of a DROP POLICY object name (..., table, policy) */
static Oid
policy_table(List *objname)
{
	RangeVar   *rv = makeRangeVarFromNameList(list_truncate(list_copy(objname),
															list_length(objname) - 1));

	return RangeVarGetRelid(rv, NoLock, true);
}

/*
 * CREATE, ALTER, DROP or RENAME of governance_blocked / governance_open
 * (blocking.c) on a governed table: refused, they are the guard's.  The
 * one exception is pg_restore recreating them (check_function_bodies
 * off): the guard may have made the policy already when the labels were
 * restored, so ours goes and the dump's is checked at the command's end.
 */
static void
on_policy_ddl(const char *name, const char *newname, Oid relid, bool create)
{
	bool		ours = (name && blocking_is_own_policy_name(name)) ||
		(newname && blocking_is_own_policy_name(newname));

	if (!ours || own_policy_ddl || guard_in_sync() || !OidIsValid(relid))
		return;
	/* an untagged table keeps hiding an erased subject's kept rows */
	if (!guard_relation_governed(relid) &&
		!((name && strcmp(name, RESTRICTED_POLICY) == 0) ||
		  (newname && strcmp(newname, RESTRICTED_POLICY) == 0)))
		return;
	if (create && !check_function_bodies)
	{
		/* what it restricted stays restricted, whoever takes this route */
		if (name && strcmp(name, RESTRICTED_POLICY) == 0)
			restrict_remember(relid);
		own_policy_ddl = true;
		PG_TRY();
		{
			guard_exec(psprintf("DROP POLICY IF EXISTS %s ON %s.%s", quote_identifier(name),
								quote_identifier(get_namespace_name(get_rel_namespace(relid))),
								quote_identifier(get_rel_name(relid))));
		}
		PG_FINALLY();
		{
			own_policy_ddl = false;
		}
		PG_END_TRY();
		return;
	}
	ereport(ERROR,
			(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
			 errmsg("policy \"%s\" of table %s belongs to pg_governance",
					(name && blocking_is_own_policy_name(name)) ? name : newname,
					get_rel_name(relid)),
			 errdetail("It hides the rows whose retention period has ended, or an erased subject's rows kept for the law (restricted processing)."),
			 errhint("Policies of other names work as usual; the table's retention follows its labels and policy.")));
}

static void
on_policy_stmt(Node *parsetree)
{
	if (IsA(parsetree, CreatePolicyStmt))
	{
		CreatePolicyStmt *stmt = (CreatePolicyStmt *) parsetree;

		on_policy_ddl(stmt->policy_name, NULL, RangeVarGetRelid(stmt->table, NoLock, true), true);
	}
	else if (IsA(parsetree, AlterPolicyStmt))
	{
		AlterPolicyStmt *stmt = (AlterPolicyStmt *) parsetree;

		on_policy_ddl(stmt->policy_name, NULL, RangeVarGetRelid(stmt->table, NoLock, true), false);
	}
	else if (IsA(parsetree, RenameStmt) && ((RenameStmt *) parsetree)->renameType == OBJECT_POLICY)
	{
		RenameStmt *stmt = (RenameStmt *) parsetree;

		on_policy_ddl(stmt->subname, stmt->newname, RangeVarGetRelid(stmt->relation, NoLock, true), false);
	}
	else if (IsA(parsetree, DropStmt) && ((DropStmt *) parsetree)->removeType == OBJECT_POLICY)
	{
		ListCell   *lc;

		foreach(lc, ((DropStmt *) parsetree)->objects)
		{
			List	   *objname = lfirst(lc);

			on_policy_ddl(strVal(llast(objname)), NULL, policy_table(objname), false);
		}
	}
}

/* after CREATE or DROP POLICY: governance_open comes and goes with the table's own */
static bool
sync_after_policy_stmt(Node *parsetree)
{
	Oid			relid = InvalidOid;

	/* our own drop of the policy, on the way to a DROP COLUMN or a restore */
	if (own_policy_ddl && (IsA(parsetree, CreatePolicyStmt) || IsA(parsetree, DropStmt)))
		return true;
	if (IsA(parsetree, CreatePolicyStmt))
		relid = RangeVarGetRelid(((CreatePolicyStmt *) parsetree)->table, NoLock, true);
	else if (IsA(parsetree, DropStmt) && ((DropStmt *) parsetree)->removeType == OBJECT_POLICY)
	{
		ListCell   *lc;

		foreach(lc, ((DropStmt *) parsetree)->objects)
			if (OidIsValid(relid = policy_table(lfirst(lc))) &&
				(guard_relation_governed(relid) || restrict_involves(relid)))
				guard_sync_command(relid, "DROP POLICY");
		return true;
	}
	else
		return false;
	/* (an untagged table too, while it hides an erased subject's kept rows) */
	if (OidIsValid(relid) && (guard_relation_governed(relid) || restrict_involves(relid)))
		guard_sync_command(relid, "CREATE POLICY");
	return true;
}

Datum
governance_on_ddl_command_start(PG_FUNCTION_ARGS)
{
	EventTriggerData *trigdata;
	Node	   *parsetree;

	if (!CALLED_AS_EVENT_TRIGGER(fcinfo))
		ereport(ERROR,
				(errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
				 errmsg("function governance._on_ddl_command_start was not called by the event trigger manager"),
				 errdetail("It is the event trigger that pg_governance installs."),
				 errhint("Do not call it directly.")));
	trigdata = (EventTriggerData *) fcinfo->context;
	parsetree = trigdata->parsetree;
	if (IsA(parsetree, AlterTableStmt))
	{
		if (((AlterTableStmt *) parsetree)->objtype == OBJECT_FOREIGN_TABLE)
			on_alter_foreign_table((AlterTableStmt *) parsetree);
		else if (((AlterTableStmt *) parsetree)->objtype == OBJECT_TYPE)
			on_alter_type((AlterTableStmt *) parsetree);
		else if (((AlterTableStmt *) parsetree)->objtype == OBJECT_INDEX)
			on_alter_index((AlterTableStmt *) parsetree);
		else
			on_alter_table((AlterTableStmt *) parsetree);
	}
	else if (IsA(parsetree, AlterObjectSchemaStmt))
		on_set_schema((AlterObjectSchemaStmt *) parsetree);
	else if (IsA(parsetree, CreateForeignTableStmt))
		on_create_foreign_table((CreateForeignTableStmt *) parsetree);
	else if (IsA(parsetree, IndexStmt))
		on_create_index((IndexStmt *) parsetree);
	else if (IsA(parsetree, AlterTableMoveAllStmt))
		on_move_all((AlterTableMoveAllStmt *) parsetree);
	else
		on_policy_stmt(parsetree);
	PG_RETURN_NULL();
}

/* one table (or schema) a command touched, as ddl_command_end reports it */
typedef struct Touched
{
	Oid			classid;
	Oid			objid;
	char	   *command_tag;
} Touched;

static List *
touched_objects(void)
{
	List	   *result = NIL;
	GovSpi		spi;
	uint64		i;

	gov_spi_begin(&spi, false);
	if (SPI_execute("SELECT c.classid, c.objid, pg_catalog.min(c.command_tag) "
					"FROM pg_catalog.pg_event_trigger_ddl_commands() c "
					"WHERE (c.classid OPERATOR(pg_catalog.=) 'pg_catalog.pg_class'::pg_catalog.regclass "
					"       AND c.object_type OPERATOR(pg_catalog.=) ANY ('{table,\"table column\"}')) "
					"   OR (c.classid OPERATOR(pg_catalog.=) 'pg_catalog.pg_namespace'::pg_catalog.regclass "
					"       AND c.command_tag OPERATOR(pg_catalog.=) 'SECURITY LABEL') "
					"GROUP BY 1, 2", true, 0) != SPI_OK_SELECT)
		elog(ERROR, "pg_governance: could not read the command's objects");
	for (i = 0; i < SPI_processed; i++)
	{
		HeapTuple	tup = SPI_tuptable->vals[i];
		bool		isnull;
		MemoryContext old = MemoryContextSwitchTo(TopTransactionContext);
		Touched    *t = palloc(sizeof(Touched));

		t->classid = DatumGetObjectId(SPI_getbinval(tup, SPI_tuptable->tupdesc, 1, &isnull));
		t->objid = DatumGetObjectId(SPI_getbinval(tup, SPI_tuptable->tupdesc, 2, &isnull));
		t->command_tag = SPI_getvalue(tup, SPI_tuptable->tupdesc, 3);
		result = lappend(result, t);
		MemoryContextSwitchTo(old);
	}
	gov_spi_end(&spi);
	return result;
}

/*
 * What the command dropped: a guard trigger dropped by hand comes back
 * (only untagging removes it), and the holds of dropped tables go.  The
 * object access hook (guard_drop.c) noted both under the drop's lock.
 */
static void
after_drops(void)
{
	List	   *tables = guard_take_dropped_tables();
	ListCell   *lc;

	foreach(lc, guard_take_dropped_guards())
		if (get_rel_relkind(lfirst_oid(lc)) != '\0')
			guard_sync(lfirst_oid(lc));
	if (tables != NIL && governance_has_relation("hold"))
	{
		GovSpi		spi;
		Datum	   *oids = palloc(sizeof(Datum) * list_length(tables));
		Oid			argtypes[1] = {OIDARRAYOID};
		Datum		args[1];
		int			n = 0;

		foreach(lc, tables)
			oids[n++] = ObjectIdGetDatum(lfirst_oid(lc));
		args[0] = PointerGetDatum(construct_array(oids, n, OIDOID, sizeof(Oid), true, TYPALIGN_INT));
		gov_spi_begin(&spi, true);
		if (SPI_execute_with_args("DELETE FROM governance.hold "
								  "WHERE relation::pg_catalog.oid OPERATOR(pg_catalog.=) ANY ($1)",
								  1, argtypes, args, NULL, false, 0) != SPI_OK_DELETE)
			elog(ERROR, "pg_governance: could not forget the holds of dropped tables");
		gov_spi_end(&spi);
	}
}

/*
 * The tables a command touched.  ALTER TABLE and CREATE TABLE name their
 * table in the parse tree, so no query is needed (DDL on tables we do not
 * govern stays cheap); SECURITY LABEL, RENAME and SET SCHEMA are asked of
 * pg_event_trigger_ddl_commands(); other commands touch no guard.
 */
static void
sync_touched(Node *parsetree)
{
	ListCell   *lc;

	if (IsA(parsetree, AlterTableStmt))
	{
		AlterTableStmt *stmt = (AlterTableStmt *) parsetree;
		Oid			relid;

		if (stmt->objtype == OBJECT_TYPE &&
			OidIsValid(relid = RangeVarGetRelid(stmt->relation, NoLock, true)) &&
			get_rel_relkind(relid) == RELKIND_COMPOSITE_TYPE)
		{
			ListCell   *t;

			foreach(t, typed_tables(relid))
				guard_sync_command(lfirst_oid(t), "ALTER TABLE");
			return;
		}
		/* a plain table stays plain through ALTER TABLE (INHERIT and ATTACH add a guard first) */
		if (stmt->objtype == OBJECT_TABLE &&
			OidIsValid(relid = RangeVarGetRelid(stmt->relation, NoLock, true)) &&
			!guard_relation_plain(relid))
			guard_sync_command(relid, "ALTER TABLE");
		return;
	}
	if (IsA(parsetree, CreateStmt))
	{
		CreateStmt *stmt = (CreateStmt *) parsetree;
		Oid			relid;

		/* a table of its own has no labels yet: only a child can be governed */
		if ((stmt->inhRelations != NIL || stmt->partbound != NULL) &&
			OidIsValid(relid = RangeVarGetRelid(stmt->relation, NoLock, true)))
			guard_sync_command(relid, "CREATE TABLE");
		return;
	}
	if (IsA(parsetree, CreateSubscriptionStmt) || IsA(parsetree, AlterSubscriptionStmt))
	{
		guard_sync_all();
		return;
	}
	if (sync_after_policy_stmt(parsetree))
		return;
	/* common commands that touch no table's guard; anything else is asked */
	if (IsA(parsetree, IndexStmt) || IsA(parsetree, DropStmt) || IsA(parsetree, CommentStmt) ||
		IsA(parsetree, GrantStmt) || IsA(parsetree, CreateFunctionStmt) ||
		IsA(parsetree, ViewStmt) || IsA(parsetree, CreateSeqStmt) || IsA(parsetree, AlterSeqStmt) ||
		IsA(parsetree, CreateTrigStmt) || IsA(parsetree, CreatePolicyStmt) ||
		IsA(parsetree, AlterPolicyStmt) || IsA(parsetree, CreateTableAsStmt) ||
		IsA(parsetree, DefineStmt) || IsA(parsetree, CompositeTypeStmt) ||
		IsA(parsetree, CreateEnumStmt) || IsA(parsetree, AlterFunctionStmt))
		return;
	foreach(lc, touched_objects())
	{
		Touched    *t = lfirst(lc);
		bool		label = t->command_tag && strcmp(t->command_tag, "SECURITY LABEL") == 0;

		if (t->classid == NamespaceRelationId)
			guard_validate_schema(t->objid, "bind the schema");
		else
		{
			/* rows first: the guard's own validation would say less */
			if (label)
				guard_validate_tree(t->objid, "change the governance label");
			guard_sync_command(t->objid, t->command_tag);
		}
	}
}

Datum
governance_on_ddl_command_end(PG_FUNCTION_ARGS)
{
	ListCell   *lc;
	List	   *validate;

	if (!CALLED_AS_EVENT_TRIGGER(fcinfo))
		ereport(ERROR,
				(errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
				 errmsg("function governance._on_ddl_command_end was not called by the event trigger manager"),
				 errdetail("It is the event trigger that pg_governance installs."),
				 errhint("Do not call it directly.")));
	after_drops();
	sync_touched(((EventTriggerData *) fcinfo->context)->parsetree);
	validate = validate_at_end;
	validate_at_end = NIL;
	foreach(lc, validate)
		guard_validate_tree(lfirst_oid(lc), "make the table governed by its new parent or schema");
	PG_RETURN_NULL();
}
