/*-------------------------------------------------------------------------
 *
 * guard_validate.c
 *	  Rows already in a table when it becomes governed, or governed
 *	  differently (a tag, a binding at table, schema or database level,
 *	  ATTACH PARTITION, INHERIT, SET SCHEMA), are checked like new rows:
 *	  the change is refused if any of them breaks the policy, with how many
 *	  do and how to find them.
 *
 *	  Bindings of schemas come with a ddl_command_end; database labels get
 *	  no event trigger, so their check waits for the end of the
 *	  transaction (XACT_EVENT_PRE_COMMIT).
 *
 *-------------------------------------------------------------------------
 */
#include "pg_governance.h"

#include "access/table.h"
#include "access/tableam.h"
#include "access/xact.h"
#include "catalog/pg_class.h"
#include "catalog/pg_inherits.h"
#include "catalog/pg_seclabel.h"
#include "executor/spi.h"
#include "executor/tuptable.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/rel.h"
#include "utils/snapmgr.h"

/* the first problem found in the existing rows, and how to find the rest */
typedef struct RowProblem
{
	int			sqlerrcode;
	char	   *detail;
	char	   *find;			/* a query that lists the offending rows */
} RowProblem;

static bool validate_pending_database = false;
static bool validate_callback_registered = false;

static char *
rule_detail(GuardRel *g, const char *column, const GuardRule *rule)
{
	return psprintf("Table %s, column %s, category %s, policy %s, rule %s: \"%s\".",
					g->relname, column, rule->category, g->policy, rule->rule_id,
					rule->source);
}

/* Is a region value (text or governance.region) inside every rule?  Else why not. */
static bool
region_problem(GuardRel *g, Datum value, RowProblem *p)
{
	char	   *raw = TextDatumGetCString(value);
	char		norm[REGION_MAX_LEN + 1];
	char	   *msg;
	int			pos;
	int			len = strlen(raw);
	ListCell   *lc;
	const char *col = get_attname(g->relid, g->region_attno, false);

	while (len > 0 && raw[len - 1] == ' ')
		raw[--len] = '\0';
	if (len > REGION_MAX_LEN || !region_normalize(raw, norm, &msg, &pos))
	{
		p->sqlerrcode = ERRCODE_INVALID_TEXT_REPRESENTATION;
		p->detail = psprintf("Column %s of table %s holds \"%s\", which is not a region (ISO 3166-1 alpha-2, optionally with an ISO 3166-2 subdivision).",
							 col, g->relname, raw);
		p->find = psprintf("SELECT * FROM %s WHERE %s IS NOT NULL", g->relname, quote_identifier(col));
		return true;
	}
	foreach(lc, g->localizations)
	{
		GuardLoc   *loc = lfirst(lc);

		if (!guard_region_allowed(loc, norm))
		{
			p->sqlerrcode = ERRCODE_GV_LOCALIZATION;
			p->detail = psprintf("A row is stored in region %s, outside jurisdiction \"%s\". %s",
								 norm, loc->jurisdiction, rule_detail(g, loc->column, &loc->rule));
			p->find = psprintf("SELECT %s, count(*) FROM %s GROUP BY 1",
							   quote_identifier(col), g->relname);
			return true;
		}
	}
	return false;
}

/* a row without a region of its own: where the table is stored decides */
static bool
storage_problem(GuardRel *g, const GuardLoc *violated, bool unknown, RowProblem *p)
{
	const GuardLoc *loc = violated ? violated : linitial(g->localizations);

	if (!violated && !unknown)
		return false;
	p->sqlerrcode = ERRCODE_GV_LOCALIZATION;
	p->detail = unknown
		? psprintf("A row has no known region (no region value, no tablespace or database region), and jurisdiction \"%s\" is required. %s",
				   loc->jurisdiction, rule_detail(g, loc->column, &loc->rule))
		: psprintf("A row without a region of its own is stored in region %s (by its %s), outside jurisdiction \"%s\". %s",
				   g->storage_region, g->storage_region_from, loc->jurisdiction,
				   rule_detail(g, loc->column, &loc->rule));
	p->find = g->region_attno != InvalidAttrNumber
		? psprintf("SELECT * FROM %s WHERE %s IS NULL", g->relname,
				   quote_identifier(get_attname(g->relid, g->region_attno, false)))
		: psprintf("SELECT * FROM %s", g->relname);
	return true;
}

/* Does one row break the compiled rules?  Fills p for the first problem. */
static bool
row_problem(GuardRel *g, TupleTableSlot *slot, RowProblem *p)
{
	int			i;

	for (i = 0; i < g->ncols; i++)
	{
		GuardColumn *col = &g->cols[i];

		if (col->never_store && !slot_attisnull(slot, col->attnum))
		{
			p->sqlerrcode = ERRCODE_GV_NEVER_STORE;
			p->detail = psprintf("Column %s holds a value that must never be stored. %s",
								 col->name, rule_detail(g, col->name, col->never_store));
			p->find = psprintf("SELECT * FROM %s WHERE %s IS NOT NULL", g->relname,
							   quote_identifier(col->name));
			return true;
		}
	}
	if (g->localizations == NIL)
		return false;
	if (g->region_attno == InvalidAttrNumber)
		return storage_problem(g, g->storage_violation, g->region_unknown, p);
	else
	{
		bool		isnull;
		Datum		value = slot_getattr(slot, g->region_attno, &isnull);

		if (isnull)
			return storage_problem(g, g->null_region_violation, g->null_region_unknown, p);
		return region_problem(g, value, p);
	}
}

/*
 * guard_validate_rows
 *		Refuse "what" (e.g. "tag column ...") if a row of relid (not of its
 *		children: each is validated on its own) breaks its rules.  The
 *		scan reads every row, whatever row security would show the caller.
 */
void
guard_validate_rows(Oid relid, const char *what)
{
	GuardRel   *g = guard_get(relid);
	Relation	rel;
	TableScanDesc scan;
	TupleTableSlot *slot;
	Snapshot	snapshot;
	RowProblem	first = {0};
	RowProblem	p;
	int64		n = 0;
	bool		has_never = false;
	int			i;
	MemoryContext rowcxt;
	MemoryContext old;

	if (!g->governed || g->policy == NULL)
		return;
	if (g->fail_closed && g->restore_window && !check_function_bodies)
		return;					/* a restore: the policies come later */
	if (g->fail_closed)
		ereport(ERROR,
				(errcode(ERRCODE_GV_INVALID_LABEL),
				 errmsg("cannot %s: the governance labels of table %s do not resolve", what, g->relname),
				 errdetail("%s", g->fail_closed),
				 errhint("Load the missing policy or fix the label first.")));
	for (i = 0; i < g->ncols; i++)
		has_never |= g->cols[i].never_store != NULL;
	if (!has_never && g->localizations == NIL)
		return;

	rel = table_open(relid, AccessShareLock);
	if (rel->rd_rel->relkind != RELKIND_RELATION)
	{
		table_close(rel, AccessShareLock);
		return;
	}
	snapshot = RegisterSnapshot(GetLatestSnapshot());
	slot = table_slot_create(rel, NULL);
	scan = table_beginscan(rel, snapshot, 0, NULL);
	rowcxt = AllocSetContextCreate(CurrentMemoryContext, "pg_governance validation",
								   ALLOCSET_DEFAULT_SIZES);
	while (table_scan_getnextslot(scan, ForwardScanDirection, slot))
	{
		CHECK_FOR_INTERRUPTS();
		old = MemoryContextSwitchTo(rowcxt);
		if (row_problem(g, slot, &p))
		{
			if (n++ == 0)
			{
				MemoryContextSwitchTo(old);
				first.sqlerrcode = p.sqlerrcode;
				first.detail = pstrdup(p.detail);
				first.find = pstrdup(p.find);
			}
		}
		MemoryContextSwitchTo(old);
		MemoryContextReset(rowcxt);
	}
	table_endscan(scan);
	ExecDropSingleTupleTableSlot(slot);
	UnregisterSnapshot(snapshot);
	MemoryContextDelete(rowcxt);
	table_close(rel, AccessShareLock);

	if (n > 0)
		ereport(ERROR,
				(errcode(first.sqlerrcode),
				 errmsg("cannot %s: " INT64_FORMAT " existing row%s of table %s break%s policy \"%s\"",
						what, n, n == 1 ? "" : "s", g->relname, n == 1 ? "s" : "", g->policy),
				 errdetail("The first: %s", first.detail),
				 errhint("Find them with: %s; fix or remove them, then try again.", first.find)));
}

/* Validate a relation and every partition or inheritance child. */
void
guard_validate_tree(Oid relid, const char *what)
{
	ListCell   *lc;

	if (get_rel_relkind(relid) == '\0')
		return;
	foreach(lc, find_all_inheritors(relid, NoLock, NULL))
	{
		char		relkind = get_rel_relkind(lfirst_oid(lc));

		if (relkind == RELKIND_RELATION && guard_relation_governed(lfirst_oid(lc)))
			guard_validate_rows(lfirst_oid(lc), what);
	}
}

/*
 * Tables that tag a column, with their schema: the candidates when a
 * schema or the database gets a new binding.
 */
List *
guard_tagged_tables(Oid nspid)
{
	List	   *result = NIL;
	GovSpi		spi;
	Oid			argtypes[1] = {OIDOID};
	Datum		args[1] = {ObjectIdGetDatum(nspid)};
	uint64		i;

	gov_spi_begin(&spi, true);
	if (SPI_execute_with_args("SELECT DISTINCT l.objoid FROM pg_catalog.pg_seclabel l "
							  "JOIN pg_catalog.pg_class c ON c.oid OPERATOR(pg_catalog.=) l.objoid "
							  "WHERE l.provider OPERATOR(pg_catalog.=) 'governance' "
							  "AND l.classoid OPERATOR(pg_catalog.=) 'pg_catalog.pg_class'::pg_catalog.regclass "
							  "AND l.objsubid OPERATOR(pg_catalog.>) 0 "
							  "AND ($1 OPERATOR(pg_catalog.=) 0 OR c.relnamespace OPERATOR(pg_catalog.=) $1)",
							  1, argtypes, args, NULL, true, 0) != SPI_OK_SELECT)
		elog(ERROR, "pg_governance: could not list tagged tables");
	for (i = 0; i < SPI_processed; i++)
	{
		bool		isnull;
		Oid			relid = DatumGetObjectId(SPI_getbinval(SPI_tuptable->vals[i],
														   SPI_tuptable->tupdesc, 1, &isnull));
		MemoryContext old = MemoryContextSwitchTo(CurTransactionContext);

		result = lappend_oid(result, relid);
		MemoryContextSwitchTo(old);
	}
	gov_spi_end(&spi);
	return result;
}

/* A schema's binding changed: check every governed table in it. */
void
guard_validate_schema(Oid nspid, const char *what)
{
	ListCell   *lc;

	CommandCounterIncrement();
	foreach(lc, guard_tagged_tables(nspid))
		guard_validate_tree(lfirst_oid(lc), what);
}

static void
validate_at_commit(XactEvent event, void *arg)
{
	ListCell   *lc;

	if (event == XACT_EVENT_ABORT || event == XACT_EVENT_PARALLEL_ABORT ||
		event == XACT_EVENT_COMMIT || event == XACT_EVENT_PREPARE)
	{
		validate_pending_database = false;
		return;
	}
	if (event != XACT_EVENT_PRE_COMMIT || !validate_pending_database)
		return;
	validate_pending_database = false;
	PushActiveSnapshot(GetTransactionSnapshot());
	foreach(lc, guard_tagged_tables(InvalidOid))
		guard_validate_tree(lfirst_oid(lc), "change the database's governance label");
	PopActiveSnapshot();
}

/*
 * The database's label changed (no event trigger fires for it): its
 * tables are checked before the transaction commits.
 */
void
guard_validate_database_at_commit(void)
{
	if (!validate_callback_registered)
	{
		RegisterXactCallback(validate_at_commit, NULL);
		validate_callback_registered = true;
	}
	validate_pending_database = true;
}
