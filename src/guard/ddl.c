/*-------------------------------------------------------------------------
 *
 * ddl.c
 *	  Event triggers that keep governance consistent across DDL:
 *
 *	  ddl_command_start (governance._on_ddl_command_start):  being in the
 *		library, it loads it, so that the label provider exists before a
 *		raw SECURITY LABEL FOR governance runs without preloading.  It also
 *		refuses DROP TABLE and DROP COLUMN of a tagged column while rows are
 *		under minimum retention or a legal hold, and copies the effective
 *		labels onto a partition about to be detached.
 *	  ddl_command_end (SQL): calls guard_sync for every table a command
 *		touched (governance._on_ddl_command_end).
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
#include "commands/event_trigger.h"
#include "commands/seclabel.h"
#include "nodes/parsenodes.h"
#include "utils/builtins.h"
#include "utils/inval.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"

PG_FUNCTION_INFO_V1(governance_on_ddl_command_start);

static void
probe_tree(Oid relid, const char *what)
{
	List	   *rels = find_all_inheritors(relid, NoLock, NULL);
	ListCell   *lc;

	foreach(lc, rels)
		guard_probe(lfirst_oid(lc), what);
}

static bool
column_tagged(Oid relid, const char *colname)
{
	GuardRel   *g = guard_get(relid);
	int			i;

	for (i = 0; i < g->ncols; i++)
		if (strcmp(g->cols[i].name, colname) == 0)
			return g->cols[i].categories != NIL;
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
	List	   *ancestors = get_partition_ancestors(partid);
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
			merged.categories = list_concat_unique(merged.categories, more.categories);
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

static void
on_alter_table(AlterTableStmt *stmt)
{
	Oid			relid = RangeVarGetRelid(stmt->relation, NoLock, true);
	ListCell   *lc;

	if (!OidIsValid(relid))
		return;
	foreach(lc, stmt->cmds)
	{
		AlterTableCmd *cmd = lfirst(lc);

		if (cmd->subtype == AT_DropColumn && cmd->name &&
			column_tagged(relid, cmd->name))
			probe_tree(relid, psprintf("drop column \"%s\" of %s", cmd->name,
									   guard_get(relid)->relname));
		else if (cmd->subtype == AT_AttachPartition)
		{
			PartitionCmd *pc = (PartitionCmd *) cmd->def;
			Oid			partid = RangeVarGetRelid(pc->name, NoLock, true);

			if (OidIsValid(partid))
				guard_prepare_attach(relid, partid);
		}
		else if (cmd->subtype == AT_DetachPartition)
		{
			PartitionCmd *pc = (PartitionCmd *) cmd->def;
			Oid			partid = RangeVarGetRelid(pc->name, NoLock, true);

			if (OidIsValid(partid) && get_rel_relispartition(partid))
			{
				copy_effective_labels(partid);
				guard_note_detached(partid);
			}
		}
	}
}

static void
on_drop(DropStmt *stmt)
{
	ListCell   *lc;

	if (stmt->removeType != OBJECT_TABLE)
		return;
	foreach(lc, stmt->objects)
	{
		RangeVar   *rv = makeRangeVarFromNameList(lfirst(lc));
		Oid			relid = RangeVarGetRelid(rv, NoLock, true);

		if (OidIsValid(relid))
			probe_tree(relid, psprintf("drop table %s", guard_get(relid)->relname));
	}
}

Datum
governance_on_ddl_command_start(PG_FUNCTION_ARGS)
{
	EventTriggerData *trigdata;

	if (!CALLED_AS_EVENT_TRIGGER(fcinfo))
		ereport(ERROR,
				(errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
				 errmsg("function governance._on_ddl_command_start was not called by the event trigger manager"),
				 errdetail("It is the event trigger that pg_governance installs."),
				 errhint("Do not call it directly.")));
	trigdata = (EventTriggerData *) fcinfo->context;
	if (IsA(trigdata->parsetree, AlterTableStmt))
		on_alter_table((AlterTableStmt *) trigdata->parsetree);
	else if (IsA(trigdata->parsetree, DropStmt))
		on_drop((DropStmt *) trigdata->parsetree);
	PG_RETURN_NULL();
}
