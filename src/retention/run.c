/*-------------------------------------------------------------------------
 *
 * run.c
 *	  Retention runs and their preview (spec section 7).
 *
 *	  CALL governance.run_retention() is a PL/pgSQL procedure
 *	  (retention.sql) that commits between the steps this file takes:
 *
 *	  _retention_start	checks the caller, plans the work per table and
 *						rule, writes one retention_runs row for each and
 *						takes a session advisory lock per table (a second
 *						run at the same time skips the table and says so);
 *	  _retention_step		one unit of work: one batch of due rows of one
 *						table for one rule (selected in anchor order, then
 *						deleted or anonymized by ctid; rows an application
 *						holds locked are waited for at most
 *						pg_governance.retention_lock_wait, then skipped:
 *						SKIP LOCKED), or one
 *						expired partition detached and dropped, or the final
 *						count of blocked rows; progress is written to
 *						retention_runs in the same transaction as the work,
 *						so a run killed midway has recorded exactly what it
 *						committed and the next run does the rest;
 *	  _retention_finish	a cancelled run's end (status, advisory locks);
 *	  _retention_item_failed	an error of one step: that table and rule are
 *						marked failed and the run goes on.
 *
 *	  Every query on a user's table runs as the table's owner in a
 *	  security-restricted operation with search_path pinned (the owner's
 *	  triggers and index expressions never run with our rights), sees the
 *	  blocked rows of that one table (blocking_job_begin), and is built
 *	  from quoted identifiers and parameters only.  The state between
 *	  steps lives in this backend (the procedure runs in one session).
 *
 *-------------------------------------------------------------------------
 */
#include "pg_governance.h"

#include "access/htup_details.h"
#include "access/table.h"
#include "access/xact.h"
#include "catalog/partition.h"
#include "catalog/pg_class.h"
#include "catalog/pg_constraint.h"
#include "catalog/pg_inherits.h"
#include "catalog/pg_type.h"
#include "catalog/pg_trigger.h"
#include "commands/trigger.h"
#include "executor/spi.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "partitioning/partbounds.h"
#include "storage/itemptr.h"
#include "storage/lmgr.h"
#include "storage/proc.h"
#include "storage/lock.h"
#include "utils/acl.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/datum.h"
#include "utils/guc.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/partcache.h"
#include "utils/rel.h"
#include "utils/resowner.h"
#include "utils/snapmgr.h"
#include "utils/syscache.h"
#include "utils/timestamp.h"
#include "common/pg_prng.h"
#include "port.h"

PG_FUNCTION_INFO_V1(governance_retention_preview);
PG_FUNCTION_INFO_V1(governance_retention_start);
PG_FUNCTION_INFO_V1(governance_retention_step);
PG_FUNCTION_INFO_V1(governance_retention_finish);
PG_FUNCTION_INFO_V1(governance_retention_item_failed);

/* advisory lock space of runs: (this key, table oid) */
#define RUN_LOCK_KEY	1380275249	/* 0x52455431, "RET1" */

typedef enum ItemKind
{
	ITEM_ROWS,					/* due rows of one table for one rule */
	ITEM_PARTITIONS,			/* expired partitions of a partitioned root */
	ITEM_COUNT					/* the root's blocked rows, then done */
} ItemKind;

typedef struct RunItem
{
	ItemKind	kind;
	Oid			root;
	char	   *root_name;		/* as retention_runs names it */
	Oid			leaf;
	char	   *rule_id;
	/*
	 * Where the next batch starts: anchors from key_anchor on (inclusive
	 * or not); or, in a run of more than batch_size rows that share one
	 * anchor (tie), those rows after key_ctid.
	 */
	bool		has_key;
	Datum		key_anchor;		/* (date and timestamps are passed by value) */
	bool		key_inclusive;
	bool		tie;
	bool		tie_has_ctid;
	ItemPointerData key_ctid;
	/*
	 * Rows past the rule's maximum may be left in the table by the batches
	 * so far (kept by another rule, a minimum or a hold; locked by an
	 * application; failing): only a count at the end can tell how many.
	 */
	bool		uncounted;
	/*
	 * A batch before the last deleted less than half a batch: the index
	 * has dead entries (a previous run's, not vacuumed yet), so the next
	 * bounds count live entries only (run_bound.c).
	 */
	bool		live_only;
	uint32		generation;		/* of the guard's entry the last batch read */
	bool		finished;
} RunItem;

typedef struct RunState
{
	int64		run_id;
	int			batch_size;
	bool		dry_run;
	List	   *items;
	int			cur;
	TimestampTz now;			/* when it started: every period counts from here */
	List	   *locked;			/* roots whose advisory lock we hold */
	MemoryContext cxt;
} RunState;

static RunState *run = NULL;
static bool callback_registered = false;

/* ------------------------------------------------------------ helpers */

typedef struct Params
{
	int			n;
	Oid			types[64];
	Datum		values[64];
} Params;

static char *
param(Params *p, Oid type, Datum value)
{
	if (p->n >= (int) lengthof(p->types))
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("too many retention rules on one table"),
				 errdetail("A run compares at most %d periods per table.", (int) lengthof(p->types)),
				 errhint("Split the table's rules across fewer anchor columns.")));
	p->types[p->n] = type;
	/* (an interval points into the guard cache, which a statement may rebuild) */
	p->values[p->n] = type == INTERVALOID ? datumCopy(value, false, sizeof(Interval)) : value;
	p->n++;
	return psprintf("$%d", p->n);
}

static char *
qualified_name(Oid relid)
{
	return quote_qualified_identifier(get_namespace_name(get_rel_namespace(relid)),
									  get_rel_name(relid));
}

/*
 * Code of the table's owner that would see the blocked rows a run or a
 * preview reads: the table's own row security policies (evaluated on
 * every row the run's query reads), and, for a run that changes rows,
 * user triggers and rules on that command (they receive the old rows).
 * Such a table is left alone, its rows blocked, and the reason given:
 * fail closed rather than hand blocked data to the owner.  Returns NULL
 * when there is none.  events: TRIGGER_TYPE_DELETE and/or _UPDATE, or 0
 * for a read.
 */
static char *
owner_code_problem(Oid relid, int events)
{
	GovSpi		spi;
	Oid			types[2] = {OIDOID, INT4OID};
	Datum		values[2] = {ObjectIdGetDatum(relid), Int32GetDatum(events)};
	char	   *policies;
	char	   *triggers;
	char	   *rules;
	char	   *result = NULL;
	MemoryContext caller = CurrentMemoryContext;

	gov_spi_begin(&spi, true);
	if (SPI_execute_with_args("SELECT "
							  " (SELECT pg_catalog.string_agg(pg_catalog.quote_ident(p.polname), ', ') "
							  "  FROM pg_catalog.pg_policy p WHERE p.polrelid OPERATOR(pg_catalog.=) $1 "
							  "  AND p.polname OPERATOR(pg_catalog.<>) ALL ('{governance_blocked,governance_open,governance_restricted}')), "
							  " (SELECT pg_catalog.string_agg(pg_catalog.quote_ident(t.tgname), ', ') "
							  "  FROM pg_catalog.pg_trigger t WHERE t.tgrelid OPERATOR(pg_catalog.=) $1 "
							  "  AND NOT t.tgisinternal AND t.tgenabled OPERATOR(pg_catalog.=) ANY ('{O,A}') "
							  "  AND (t.tgtype::pg_catalog.int4 OPERATOR(pg_catalog.&) $2) OPERATOR(pg_catalog.<>) 0), "
							  " (SELECT pg_catalog.string_agg(pg_catalog.quote_ident(r.rulename), ', ') "
							  "  FROM pg_catalog.pg_rewrite r WHERE r.ev_class OPERATOR(pg_catalog.=) $1 "
							  "  AND $2 OPERATOR(pg_catalog.<>) 0 AND r.rulename OPERATOR(pg_catalog.<>) '_RETURN' "
							  "  AND r.ev_enabled OPERATOR(pg_catalog.=) ANY ('{O,A}'))",
							  2, types, values, NULL, true, 1) != SPI_OK_SELECT)
		elog(ERROR, "pg_governance: could not read the table's policies, triggers and rules");
	policies = SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1);
	triggers = SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 2);
	rules = SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 3);
	if (policies || triggers || rules)
		result = MemoryContextStrdup(caller,
									 psprintf("table %s has %s%s%s%s%s of its owner's, which would see its blocked rows: they stay blocked",
											  qualified_name(relid),
											  policies ? psprintf("row security policies (%s)", policies) : "",
											  policies && (triggers || rules) ? " and " : "",
											  triggers ? psprintf("triggers (%s)", triggers) : "",
											  triggers && rules ? " and " : "",
											  rules ? psprintf("rules (%s)", rules) : ""));
	gov_spi_end(&spi);
	return result;
}

/* the owner of a relation (data-subject requests act as it too) */
Oid
relation_owner(Oid relid)
{
	HeapTuple	tup = SearchSysCache1(RELOID, ObjectIdGetDatum(relid));
	Oid			owner;

	if (!HeapTupleIsValid(tup))
		elog(ERROR, "cache lookup failed for relation %u", relid);
	owner = ((Form_pg_class) GETSTRUCT(tup))->relowner;
	ReleaseSysCache(tup);
	return owner;
}

static GuardLife *
find_rule(GuardRel *g, const char *rule_id)
{
	ListCell   *lc;

	foreach(lc, g->lifecycle)
		if (strcmp(((GuardLife *) lfirst(lc))->rule.rule_id, rule_id) == 0)
			return lfirst(lc);
	return NULL;
}

/*
 * An anchor column as the guard reads it (guard.c, anchor_to_timestamptz):
 * a timestamp of the UTC calendar, whatever the session's TimeZone.
 */
static char *
anchor_as_utc_timestamp(const char *qcol, Oid typid)
{
	switch (life_anchor_base_type(typid))
	{
		case DATEOID:
		case TIMESTAMPOID:
			return psprintf("%s::pg_catalog.timestamp", qcol);
		default:
			return psprintf("pg_catalog.timezone('UTC'::pg_catalog.text, %s::pg_catalog.timestamptz)", qcol);
	}
}

/*
 * The rows of table g for which rule d decides destruction, now: d's
 * maximum has passed, every other destroying rule has ended earlier (the
 * longest wins), every minimum has passed, and no hold keeps the row.
 * NULL when nothing can be due (a hold that cannot be read as the
 * subject column's type keeps every row).
 */
static char *
due_predicate(GuardRel *g, GuardLife *d, Params *p, bool *narrowed)
{
	StringInfoData buf;
	int			plain;
	const char *qd = quote_identifier(d->anchor_column);
	Oid			dtype = life_anchor_base_type(d->anchor_typid);
	ListCell   *lc;

	initStringInfo(&buf);
	appendStringInfo(&buf, "%s OPERATOR(pg_catalog.<) %s", qd,
					 param(p, dtype, life_cutoff(d->maximum, d->anchor_typid)));
	plain = buf.len;
	foreach(lc, g->lifecycle)
	{
		GuardLife  *e = lfirst(lc);
		const char *qe;

		if (e == d || !life_destroys(e))
			continue;
		qe = quote_identifier(e->anchor_column);
		if (e->maximum == NULL)
			appendStringInfo(&buf, " AND %s IS NULL", qe);
		else if (e->anchor_attno == d->anchor_attno)
		{
			if (!life_decides_over(d, e))
				appendStringInfo(&buf, " AND %s IS NULL", qe);
		}
		else
			appendStringInfo(&buf, " AND (%s IS NULL OR (%s OPERATOR(pg_catalog.<) %s AND "
							 "(%s::pg_catalog.timestamp OPERATOR(pg_catalog.+) %s) OPERATOR(pg_catalog.%s) "
							 "(%s::pg_catalog.timestamp OPERATOR(pg_catalog.+) %s)))",
							 qe, qe,
							 param(p, life_anchor_base_type(e->anchor_typid),
								   life_cutoff(e->maximum, e->anchor_typid)),
							 qe, param(p, INTERVALOID, PointerGetDatum(e->maximum)),
							 d->ordinal < e->ordinal ? "<=" : "<",
							 qd, param(p, INTERVALOID, PointerGetDatum(d->maximum)));
	}
	foreach(lc, g->lifecycle)
	{
		GuardLife  *m = lfirst(lc);
		const char *qm;

		if (!m->has_min || m->anchor_attno == InvalidAttrNumber)
			continue;
		qm = quote_identifier(m->anchor_column);
		if (m->minimum == NULL)
			appendStringInfo(&buf, " AND %s IS NULL", qm);
		else
		{
			/*
			 * Before the cutoff now - minimum, and also as the guard's
			 * trigger reads a minimum: the anchor (UTC) + minimum is not
			 * after now.  Month arithmetic clamps to a month's end, so
			 * neither test implies the other when a minimum mixes months
			 * with days or hours; the row must pass both.
			 */
			appendStringInfo(&buf, " AND (%s IS NULL OR (%s OPERATOR(pg_catalog.<) %s AND "
							 "(%s OPERATOR(pg_catalog.+) %s) OPERATOR(pg_catalog.<=) %s))", qm, qm,
							 param(p, life_anchor_base_type(m->anchor_typid),
								   life_cutoff(m->minimum, m->anchor_typid)),
							 anchor_as_utc_timestamp(qm, m->anchor_typid),
							 param(p, INTERVALOID, PointerGetDatum(m->minimum)),
							 param(p, TIMESTAMPOID, TimestampGetDatum((Timestamp) life_now())));
		}
	}
	if (g->held_subjects != NIL)
	{
		int			n = list_length(g->held_subjects);
		int			i;
		Oid			base = getBaseType(g->subject_typid);
		int16		typlen;
		bool		typbyval;
		char		typalign;
		const char *qs = quote_identifier(get_attname(g->relid, g->subject_attno, false));

		for (i = 0; i < n; i++)
			if (!g->held_ok[i])
				return NULL;
		get_typlenbyvalalign(base, &typlen, &typbyval, &typalign);
		appendStringInfo(&buf, " AND (%s IS NULL OR pg_catalog.array_position(%s, %s) IS NULL)", qs,
						 param(p, get_array_type(base),
							   PointerGetDatum(construct_array(g->held_values, n, base, typlen,
															   typbyval, typalign))),
						 qs);
	}
	/* past the maximum and yet not due: kept by another rule, a minimum, a hold */
	if (narrowed)
		*narrowed = buf.len > plain;
	return buf.data;
}

/* rows blocked under rule l: its period has ended (not due: kept) */
static char *
blocked_predicate(GuardLife *l, Params *p)
{
	Interval   *period = life_end_period(l);

	if (period == NULL || l->anchor_attno == InvalidAttrNumber)
		return NULL;
	return psprintf("%s OPERATOR(pg_catalog.<) %s", quote_identifier(l->anchor_column),
					param(p, life_anchor_base_type(l->anchor_typid),
						  life_cutoff(period, l->anchor_typid)));
}

/* SPI on a user's table: as its owner, restricted, seeing its blocked rows */
typedef struct OwnerSpi
{
	GovSpi		spi;
	int			formats;
} OwnerSpi;

static void
owner_spi_begin(OwnerSpi *o, Oid relid)
{
	gov_spi_begin_as(&o->spi, relation_owner(relid));
	o->formats = gov_fixed_formats_begin();
	if (LockTimeout == 0)
		(void) set_config_option("lock_timeout", "5s", PGC_USERSET, PGC_S_SESSION,
								 GUC_ACTION_SAVE, true, 0, false);
	blocking_job_begin(relid);
}

static void
owner_spi_end(OwnerSpi *o)
{
	blocking_job_end();
	gov_fixed_formats_end(o->formats);
	gov_spi_end(&o->spi);
}

/*
 * Run one of our statements.  Never read-only: a read-only statement would
 * see the snapshot of the step's start, not what the step's earlier
 * statements did (a count after the last batch's delete).
 */
static void
spi_run(const char *sql, Params *p, bool read_only, int expect)
{
	int			rc = SPI_execute_with_args(sql, p->n, p->types, p->values, NULL, false, 0);

	if (rc != expect)
		elog(ERROR, "pg_governance: retention query failed (%d): %s", rc, sql);
}

/* ------------------------------------------------------------ preview */

typedef struct Tally
{
	char	   *problem;		/* why a leaf was not counted */
	int64		rows;
	bool		has_oldest;
	TimestampTz oldest;
} Tally;

static TimestampTz
anchor_as_timestamptz(Datum v, Oid typid)
{
	switch (getBaseType(typid))
	{
		case DATEOID:
			return (TimestampTz) DatumGetTimestamp(DirectFunctionCall1(date_timestamp, v));
		case TIMESTAMPOID:
			return (TimestampTz) DatumGetTimestamp(v);
		default:
			return DatumGetTimestampTz(v);
	}
}

/*
 * Count the rows of leaf matching pred and their oldest anchor; false
 * (nothing counted, why in t->problem) when owner code would see them.
 */
static bool
tally(Oid leaf, const char *pred, Params *p, GuardLife *l, Tally *t)
{
	OwnerSpi	o;
	bool		isnull;
	Datum		v;
	char	   *problem = owner_code_problem(leaf, 0);

	if (problem)
	{
		t->problem = problem;
		return false;
	}
	owner_spi_begin(&o, leaf);
	spi_run(psprintf("SELECT pg_catalog.count(*), pg_catalog.min(%s) FROM ONLY %s WHERE %s",
					 quote_identifier(l->anchor_column), qualified_name(leaf), pred),
			p, true, SPI_OK_SELECT);
	t->rows += DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull));
	v = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 2, &isnull);
	if (!isnull)
	{
		TimestampTz ts = anchor_as_timestamptz(v, l->anchor_typid);

		if (!t->has_oldest || ts < t->oldest)
			t->oldest = ts;
		t->has_oldest = true;
	}
	owner_spi_end(&o);
	return true;
}

/* the tables with rows under root: itself, or its leaf partitions */
static List *
leaves_of(Oid root)
{
	List	   *result = NIL;
	ListCell   *lc;

	if (get_rel_relkind(root) != RELKIND_PARTITIONED_TABLE)
		return list_make1_oid(root);
	foreach(lc, find_all_inheritors(root, AccessShareLock, NULL))
		if (get_rel_relkind(lfirst_oid(lc)) == RELKIND_RELATION)
			result = lappend_oid(result, lfirst_oid(lc));
	return result;
}

/* what a rule does to the rows of a table, in words and as an action */
static const char *
rule_effect(GuardLife *l, const char **detail)
{
	if (l->action == LIFE_KEEP)
	{
		*detail = l->minimum
			? psprintf("minimum retention only: rows are kept at least %s after %s",
					   DatumGetCString(DirectFunctionCall1(interval_out, PointerGetDatum(l->minimum))),
					   l->anchor)
			: psprintf("minimum retention left to the law: parameter \"%s\" is not set, rows are kept", l->min_param);
		return "keep";
	}
	if (l->action == LIFE_BLOCK)
	{
		*detail = "rows past the period are blocked: hidden from roles outside governance_admin, no write";
		return "block";
	}
	if (l->maximum == NULL)
	{
		*detail = psprintf("parameter \"%s\" is not set: rows past %s are blocked, never %s",
						   l->max_param,
						   l->minimum ? "their minimum" : "the anchor",
						   l->action == LIFE_DELETE ? "deleted" : "anonymized");
		return "block";
	}
	*detail = NULL;
	return life_action_name(l->action);
}

/* the roots a run or preview covers */
static List *
roots_for(Oid rel)
{
	List	   *result = NIL;
	ListCell   *lc;

	if (OidIsValid(rel))
	{
		char		relkind = get_rel_relkind(rel);
		GuardRel   *g;

		if (relkind != RELKIND_RELATION && relkind != RELKIND_PARTITIONED_TABLE)
			ereport(ERROR,
					(errcode(ERRCODE_WRONG_OBJECT_TYPE),
					 errmsg("\"%s\" is not a table", get_rel_name(rel)),
					 errdetail("Retention acts on the rows of tables and partitioned tables."),
					 errhint("Name a governed table, or no table for all of them.")));
		g = guard_get(rel);
		if (!g->governed || g->policy == NULL)
			ereport(ERROR,
					(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
					 errmsg("table %s is not governed", g->relname),
					 errdetail("It has no tagged column, or no policy is bound to it, its schema or the database."),
					 errhint("Tag its columns with governance.tag() and bind a policy with governance.bind().")));
		return list_make1_oid(rel);
	}
	foreach(lc, guard_tagged_tables(InvalidOid))
	{
		Oid			relid = lfirst_oid(lc);
		GuardRel   *g;

		if (get_rel_relispartition(relid))
			continue;
		g = guard_get(relid);
		if (g->governed && g->policy && g->lifecycle != NIL)
			result = lappend_oid(result, relid);
	}
	return result;
}

/* the distinct rule ids of the leaves of root, in policy order */
static List *
rules_of(Oid root, List *leaves)
{
	List	   *ids = NIL;
	ListCell   *lc;
	ListCell   *r;

	foreach(lc, lappend_oid(list_copy(leaves), root))
		foreach(r, guard_get(lfirst_oid(lc))->lifecycle)
		{
			GuardLife  *l = lfirst(r);
			ListCell   *x;
			bool		seen = false;

			foreach(x, ids)
				seen |= strcmp(lfirst(x), l->rule.rule_id) == 0;
			if (!seen)
				ids = lappend(ids, l->rule.rule_id);
		}
	return ids;
}

static void
check_reader(const char *what)
{
	if (!governance_caller_is_admin() &&
		!has_privs_of_role(GetOuterUserId(), get_role_oid("governance_reader", false)))
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("permission denied for %s", what),
				 errdetail("It reads every governed table as its owner."),
				 errhint("Ask for membership in governance_reader or governance_admin.")));
}

/*
 * governance.retention_preview(rel regclass DEFAULT NULL)
 *		-> (relation, rule_id, action, rows_due, oldest_anchor, detail)
 */
Datum
governance_retention_preview(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	Oid			rel = PG_ARGISNULL(0) ? InvalidOid : PG_GETARG_OID(0);
	ListCell   *lc;

	check_reader("governance.retention_preview");
	InitMaterializedSRF(fcinfo, 0);
	foreach(lc, roots_for(rel))
	{
		Oid			root = lfirst_oid(lc);
		List	   *leaves = leaves_of(root);
		ListCell   *r;

		foreach(r, rules_of(root, leaves))
		{
			const char *rule_id = lfirst(r);
			Tally		t = {0};
			const char *action = NULL;
			const char *detail = NULL;
			bool		counted = false;
			ListCell   *f;
			Datum		values[6];
			bool		nulls[6] = {0};

			foreach(f, leaves)
			{
				GuardRel   *g = guard_get(lfirst_oid(f));
				GuardLife  *l = find_rule(g, rule_id);
				Params		p = {0};
				char	   *pred = NULL;

				if (l == NULL)
					continue;
				action = rule_effect(l, &detail);
				if (life_problem(g, l))
				{
					detail = life_problem(g, l);
					continue;
				}
				if (l->action == LIFE_KEEP)
					continue;
				if (life_destroys(l) && l->maximum)
				{
					pred = due_predicate(g, l, &p, NULL);
					if (pred == NULL)
						detail = "a legal hold whose subject cannot be read as the subject column's type keeps every row";
				}
				else
					pred = blocked_predicate(l, &p);
				if (pred && tally(lfirst_oid(f), pred, &p, l, &t))
					counted = true;
				else if (pred)
					detail = t.problem;
			}
			if (action == NULL)
				continue;
			values[0] = ObjectIdGetDatum(root);
			values[1] = CStringGetTextDatum(rule_id);
			values[2] = CStringGetTextDatum(action);
			values[3] = Int64GetDatum(t.rows);
			nulls[3] = !counted;
			values[4] = TimestampTzGetDatum(t.oldest);
			nulls[4] = !t.has_oldest;
			values[5] = detail ? CStringGetTextDatum(detail) : (Datum) 0;
			nulls[5] = detail == NULL;
			tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
		}
	}
	return (Datum) 0;
}

/* ------------------------------------------------------------ run state */

/*
 * A run's procedure that fails for good (an error outside its step's
 * exception block, such as a cancel that arrives during a COMMIT) aborts
 * the top-level transaction: the run is over, and its tables are freed
 * for other runs, which then mark its rows aborted.  The steps' own
 * errors abort only their subtransaction.
 */
static void
run_xact_callback(XactEvent event, void *arg)
{
	if (event == XACT_EVENT_ABORT && run != NULL)
		retention_forget_run();
}

void
retention_forget_run(void)
{
	ListCell   *lc;

	if (run == NULL)
		return;
	foreach(lc, run->locked)
	{
		LOCKTAG		tag;

		SET_LOCKTAG_ADVISORY(tag, MyDatabaseId, RUN_LOCK_KEY, lfirst_oid(lc), 3);
		(void) LockRelease(&tag, ExclusiveLock, true);
	}
	MemoryContextDelete(run->cxt);
	run = NULL;
}

static bool
lock_root(Oid root)
{
	LOCKTAG		tag;

	SET_LOCKTAG_ADVISORY(tag, MyDatabaseId, RUN_LOCK_KEY, root, 3);
	return LockAcquire(&tag, ExclusiveLock, true, true) != LOCKACQUIRE_NOT_AVAIL;
}

/* write to retention_runs as the extension owner */
static void
runs_write(const char *sql, int nargs, Oid *types, Datum *values, const char *nulls)
{
	GovSpi		spi;

	gov_spi_begin(&spi, true);
	if (SPI_execute_with_args(sql, nargs, types, values, nulls, false, 0) < 0)
		elog(ERROR, "pg_governance: could not record the retention run");
	gov_spi_end(&spi);
}

static void
run_row(const char *root_name, const char *rule_id, const char *policy,
		const char *action, const char *status, const char *detail)
{
	Oid			types[9] = {INT8OID, TEXTOID, TEXTOID, TEXTOID, TEXTOID, TEXTOID, TEXTOID, BOOLOID, NAMEOID};
	Datum		values[9];
	char		nulls[9] = "         ";

	values[0] = Int64GetDatum(run->run_id);
	values[1] = CStringGetTextDatum(root_name);
	values[2] = CStringGetTextDatum(rule_id);
	values[3] = CStringGetTextDatum(policy);
	values[4] = CStringGetTextDatum(action);
	values[5] = CStringGetTextDatum(status);
	values[6] = detail ? CStringGetTextDatum(detail) : (Datum) 0;
	nulls[6] = detail ? ' ' : 'n';
	values[7] = BoolGetDatum(run->dry_run);
	values[8] = DirectFunctionCall1(namein, CStringGetDatum(GetUserNameFromId(GetOuterUserId(), false)));
	runs_write("INSERT INTO governance.retention_runs AS r (run_id, relation, rule_id, policy, action, status, dry_run, detail, run_by, finished_at) "
			   "VALUES ($1, $2, $3, $4, $5, $6, $8, $7, $9, "
			   "        CASE WHEN $6 OPERATOR(pg_catalog.<>) 'running' THEN pg_catalog.clock_timestamp() END)",
			   9, types, values, nulls);
}

static void
run_add(const RunItem *item, const char *column, int64 n, const char *note)
{
	Oid			types[5] = {INT8OID, TEXTOID, TEXTOID, INT8OID, TEXTOID};
	Datum		values[5];
	char		nulls[5] = "     ";

	values[0] = Int64GetDatum(run->run_id);
	values[1] = CStringGetTextDatum(item->root_name);
	values[2] = CStringGetTextDatum(item->rule_id);
	values[3] = Int64GetDatum(n);
	values[4] = note ? CStringGetTextDatum(note) : (Datum) 0;
	nulls[4] = note ? ' ' : 'n';
	runs_write(psprintf("UPDATE governance.retention_runs SET %s = %s OPERATOR(pg_catalog.+) $4, "
						"  batches = batches OPERATOR(pg_catalog.+) "
						"    CASE WHEN $4 OPERATOR(pg_catalog.=) 0 AND $5 IS NOT NULL THEN 0 ELSE 1 END, "
						"  detail = CASE WHEN $5 IS NULL THEN detail "
						"                WHEN detail IS NULL THEN $5 "
						"                WHEN pg_catalog.length(detail) OPERATOR(pg_catalog.>) 2000 THEN detail "
						"                ELSE detail OPERATOR(pg_catalog.||) '; ' OPERATOR(pg_catalog.||) $5 END "
						"WHERE run_id OPERATOR(pg_catalog.=) $1 AND relation OPERATOR(pg_catalog.=) $2 "
						"  AND rule_id OPERATOR(pg_catalog.=) $3",
						column, column),
			   5, types, values, nulls);
}

/* end every still-running row of a root (or of the whole run) */
static void
run_close(const char *root_name, const char *status, const char *note)
{
	Oid			types[4] = {INT8OID, TEXTOID, TEXTOID, TEXTOID};
	Datum		values[4];
	char		nulls[4] = "    ";

	values[0] = Int64GetDatum(run->run_id);
	values[1] = root_name ? CStringGetTextDatum(root_name) : (Datum) 0;
	nulls[1] = root_name ? ' ' : 'n';
	values[2] = CStringGetTextDatum(status);
	values[3] = note ? CStringGetTextDatum(note) : (Datum) 0;
	nulls[3] = note ? ' ' : 'n';
	runs_write("UPDATE governance.retention_runs SET status = $3, finished_at = pg_catalog.clock_timestamp(), "
			   "  detail = CASE WHEN $4 IS NULL THEN detail "
			   "                WHEN detail IS NULL THEN $4 ELSE detail OPERATOR(pg_catalog.||) '; ' OPERATOR(pg_catalog.||) $4 END "
			   "WHERE run_id OPERATOR(pg_catalog.=) $1 AND status OPERATOR(pg_catalog.=) 'running' "
			   "  AND ($2 IS NULL OR relation OPERATOR(pg_catalog.=) $2)",
			   4, types, values, nulls);
}

/* ------------------------------------------------------------ start */

/*
 * A partitioned root whose rows all follow one deleting rule on its
 * partition key: its expired partitions can go whole.
 */
static GuardLife *
partition_rule(Oid root)
{
	Relation	rel = table_open(root, AccessShareLock);
	PartitionKey key = RelationGetPartitionKey(rel);
	GuardRel   *g = guard_get(root);
	GuardLife  *d = NULL;
	ListCell   *lc;
	bool		ok = key && key->strategy == PARTITION_STRATEGY_RANGE &&
		key->partnatts == 1 && key->partattrs[0] != 0;

	if (ok)
		foreach(lc, g->lifecycle)
		{
			GuardLife  *l = lfirst(lc);

			if (l->anchor_attno == InvalidAttrNumber)
				continue;
			/* every clock on the key, one deleting rule with a known maximum */
			if (l->anchor_attno != key->partattrs[0])
				ok = false;
			else if (life_destroys(l))
			{
				if (d != NULL || l->action != LIFE_DELETE || l->maximum == NULL)
					ok = false;
				d = l;
			}
		}
	table_close(rel, AccessShareLock);
	return ok ? d : NULL;
}

static void
add_item(ItemKind kind, Oid root, const char *root_name, Oid leaf, const char *rule_id)
{
	MemoryContext old = MemoryContextSwitchTo(run->cxt);
	RunItem    *item = palloc0(sizeof(RunItem));

	item->kind = kind;
	item->root = root;
	item->root_name = pstrdup(root_name);
	item->leaf = leaf;
	item->rule_id = rule_id ? pstrdup(rule_id) : NULL;
	run->items = lappend(run->items, item);
	MemoryContextSwitchTo(old);
}

static void
plan_root(Oid root)
{
	GuardRel   *g = guard_get(root);
	List	   *leaves = leaves_of(root);
	char	   *root_name = qualified_name(root);
	ListCell   *r;
	GuardLife  *part = NULL;
	List	   *rules = rules_of(root, leaves);

	if (rules == NIL)
		return;
	if (!lock_root(root))
	{
		foreach(r, rules)
			run_row(root_name, lfirst(r), g->policy, "keep", "skipped",
					"another retention run is processing this table; it was left to that run");
		return;
	}
	{
		MemoryContext old = MemoryContextSwitchTo(run->cxt);

		run->locked = lappend_oid(run->locked, root);
		MemoryContextSwitchTo(old);
	}
	if (get_rel_relkind(root) == RELKIND_PARTITIONED_TABLE && !run->dry_run)
		part = partition_rule(root);
	foreach(r, rules)
	{
		const char *rule_id = lfirst(r);
		GuardLife  *l = NULL;
		const char *detail = NULL;
		const char *action;
		const char *problem = NULL;
		ListCell   *f;

		foreach(f, lappend_oid(list_copy(leaves), root))
		{
			GuardRel   *lg = guard_get(lfirst_oid(f));
			GuardLife  *x = find_rule(lg, rule_id);

			if (x && !l)
				l = x;
			if (x && life_problem(lg, x))
				problem = life_problem(lg, x);
		}
		action = rule_effect(l, &detail);
		run_row(root_name, rule_id, g->policy, action, problem ? "skipped" : "running",
				problem ? problem : detail);
		if (problem)
			continue;
		if (part && strcmp(part->rule.rule_id, rule_id) == 0)
			add_item(ITEM_PARTITIONS, root, root_name, InvalidOid, rule_id);
		if (life_destroys(l) && l->maximum)
			foreach(f, leaves)
				add_item(ITEM_ROWS, root, root_name, lfirst_oid(f), rule_id);
	}
	add_item(ITEM_COUNT, root, root_name, InvalidOid, NULL);
}

/*
 * Runs left "running" by a backend that is gone (kill -9, crash), or that
 * no longer holds the table (its procedure failed): a running run holds
 * each of its tables' advisory locks until it is done with the table.
 */
static void
mark_abandoned(void)
{
	runs_write("UPDATE governance.retention_runs r SET status = 'aborted', finished_at = pg_catalog.clock_timestamp(), "
			   "  detail = 'the run''s session ended before it finished (everything it recorded was committed)' "
			   "WHERE r.status OPERATOR(pg_catalog.=) 'running' AND NOT EXISTS ("
			   "  SELECT 1 FROM pg_catalog.pg_locks l "
			   "  WHERE l.locktype OPERATOR(pg_catalog.=) 'advisory' AND l.granted "
			   "    AND l.database OPERATOR(pg_catalog.=) (SELECT d.oid FROM pg_catalog.pg_database d "
			   "                                           WHERE d.datname OPERATOR(pg_catalog.=) pg_catalog.current_database()) "
			   "    AND l.classid OPERATOR(pg_catalog.=) " CppAsString2(RUN_LOCK_KEY) "::pg_catalog.oid "
			   "    AND l.objid OPERATOR(pg_catalog.=) pg_catalog.to_regclass(r.relation)::pg_catalog.oid "
			   "    AND l.objsubid OPERATOR(pg_catalog.=) 3 AND l.pid OPERATOR(pg_catalog.=) r.pid "
			   "    AND l.pid OPERATOR(pg_catalog.<>) pg_catalog.pg_backend_pid())",
			   0, NULL, NULL, NULL);
}

/*
 * governance._retention_start(rel regclass, batch_size int, dry_run bool)
 *		RETURNS bigint
 */
Datum
governance_retention_start(PG_FUNCTION_ARGS)
{
	Oid			rel = PG_ARGISNULL(0) ? InvalidOid : PG_GETARG_OID(0);
	int			batch_size = PG_ARGISNULL(1) ? 10000 : PG_GETARG_INT32(1);
	bool		dry_run = PG_ARGISNULL(2) ? false : PG_GETARG_BOOL(2);
	GovSpi		spi;
	bool		isnull;
	ListCell   *lc;
	MemoryContext cxt;
	List	   *roots;

	if (IsTransactionBlock())
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_TRANSACTION_TERMINATION),
				 errmsg("governance.run_retention cannot run inside a transaction block"),
				 errdetail("It commits after each batch, so that progress is kept and locks are short."),
				 errhint("CALL it on its own, outside BEGIN ... COMMIT (in psql, with autocommit on).")));
	if (!governance_caller_is_admin())
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("permission denied to run retention"),
				 errdetail("Retention runs delete, anonymize and block rows of every governed table."),
				 errhint("Ask for membership in governance_admin.")));
	/* a step reads the holds under a snapshot taken after the table's lock */
	if (IsolationUsesXactSnapshot())
		ereport(ERROR,
				(errcode(ERRCODE_ACTIVE_SQL_TRANSACTION),
				 errmsg("governance.run_retention needs READ COMMITTED"),
				 errdetail("Each batch reads the legal holds after it has locked its table; under REPEATABLE READ or SERIALIZABLE it would read them as they were when its transaction began."),
				 errhint("SET default_transaction_isolation = 'read committed' for the session that runs it.")));
	if (batch_size <= 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("batch_size must be greater than zero, not %d", batch_size),
				 errdetail("Each batch processes at most batch_size rows and commits."),
				 errhint("The default is 10000.")));
	if (!callback_registered)
	{
		RegisterXactCallback(run_xact_callback, NULL);
		callback_registered = true;
	}
	retention_forget_run();
	roots = roots_for(rel);
	cxt = AllocSetContextCreate(TopMemoryContext, "pg_governance retention run",
								ALLOCSET_SMALL_SIZES);
	run = MemoryContextAllocZero(cxt, sizeof(RunState));
	run->cxt = cxt;
	run->batch_size = batch_size;
	run->dry_run = dry_run;
	run->now = GetCurrentTransactionStartTimestamp();

	mark_abandoned();
	gov_spi_begin(&spi, true);
	if (SPI_execute("SELECT pg_catalog.nextval('governance.retention_run_id_seq')", false, 1) != SPI_OK_SELECT)
		elog(ERROR, "pg_governance: could not number the retention run");
	run->run_id = DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull));
	gov_spi_end(&spi);
	/* dry_run is the last column of every row this run writes */
	/* a planning error leaves no table locked against other runs */
	PG_TRY();
	{
		foreach(lc, roots)
			plan_root(lfirst_oid(lc));
	}
	PG_CATCH();
	{
		retention_forget_run();
		PG_RE_THROW();
	}
	PG_END_TRY();
	PG_RETURN_INT64(run->run_id);
}

/* ------------------------------------------------------------ steps */

/*
 * Run sql in a subtransaction; false (with the error) if it failed.  A
 * cancel, a shutdown or a lock timeout is not the row's fault: it goes up
 * (a lock timeout only where the caller does not expect one).
 */
static bool
try_sql(const char *sql, Params *p, int expect, uint64 *processed, ErrorData **err,
		bool lock_timeout_ok)
{
	MemoryContext oldcxt = CurrentMemoryContext;
	ResourceOwner oldowner = CurrentResourceOwner;
	volatile bool ok = true;

	BeginInternalSubTransaction(NULL);
	MemoryContextSwitchTo(oldcxt);
	PG_TRY();
	{
		spi_run(sql, p, false, expect);
		*processed = SPI_processed;
		ReleaseCurrentSubTransaction();
		MemoryContextSwitchTo(oldcxt);
		CurrentResourceOwner = oldowner;
	}
	PG_CATCH();
	{
		ErrorData  *edata;

		MemoryContextSwitchTo(oldcxt);
		edata = CopyErrorData();
		FlushErrorState();
		RollbackAndReleaseCurrentSubTransaction();
		MemoryContextSwitchTo(oldcxt);
		CurrentResourceOwner = oldowner;
		if (edata->sqlerrcode == ERRCODE_QUERY_CANCELED ||
			edata->sqlerrcode == ERRCODE_ADMIN_SHUTDOWN ||
			(edata->sqlerrcode == ERRCODE_LOCK_NOT_AVAILABLE && !lock_timeout_ok) ||
			edata->sqlerrcode == ERRCODE_OUT_OF_MEMORY)
			ReThrowError(edata);
		*err = edata;
		ok = false;
	}
	PG_END_TRY();
	return ok;
}

/*
 * try_sql of a batch's DELETE, which goes without the guard's row trigger
 * (run_delete.c): its predicate already leaves out every row the trigger
 * would refuse.  The arming never outlives the statement.
 */
static bool
try_batch_delete(Oid relid, uint32 generation, const char *sql, Params *p, uint64 *processed,
				 ErrorData **err)
{
	volatile bool ok = false;

	run_delete_arm(relid, sql, generation);
	PG_TRY();
	{
		ok = try_sql(sql, p, SPI_OK_DELETE, processed, err, true);
	}
	PG_FINALLY();
	{
		run_delete_disarm();
	}
	PG_END_TRY();
	return ok;
}

/* is column attno of relid in a foreign key, referencing or referenced? */
static bool
in_foreign_key(Oid relid, AttrNumber attno)
{
	GovSpi		spi;
	Oid			types[2] = {OIDOID, INT2OID};
	Datum		values[2] = {ObjectIdGetDatum(relid), Int16GetDatum(attno)};
	bool		found;

	gov_spi_begin(&spi, true);
	if (SPI_execute_with_args("SELECT 1 FROM pg_catalog.pg_constraint c WHERE c.contype OPERATOR(pg_catalog.=) 'f' "
							  "AND ((c.conrelid OPERATOR(pg_catalog.=) $1 AND $2 OPERATOR(pg_catalog.=) ANY (c.conkey)) "
							  "  OR (c.confrelid OPERATOR(pg_catalog.=) $1 AND $2 OPERATOR(pg_catalog.=) ANY (c.confkey)))",
							  2, types, values, NULL, true, 1) != SPI_OK_SELECT)
		elog(ERROR, "pg_governance: could not read foreign keys");
	found = SPI_processed > 0;
	gov_spi_end(&spi);
	return found;
}

static bool
is_blocking_anchor(GuardRel *g, AttrNumber attno)
{
	ListCell   *lc;

	foreach(lc, g->lifecycle)
	{
		GuardLife  *l = lfirst(lc);

		if (l->anchor_attno == attno && life_end_period(l) != NULL)
			return true;
	}
	return false;
}

/*
 * The SET list of an anonymizing UPDATE: each column the rule covers
 * through governance.anonymize (seeded per row), and each anchor that
 * blocks set to NULL, or to infinity where it is NOT NULL, so that the
 * row's clock stops and it is visible again (anonymized data is no
 * longer personal).  Columns in a foreign key are left as they are (or
 * NULL where they reference and may be NULL): no value we invent exists
 * on the other side.
 */
static char *
anonymize_set_list(GuardRel *g, GuardLife *d, Oid leaf, const char *seed_param)
{
	StringInfoData buf;
	ListCell   *lc;
	ListCell   *cc;
	Relation	rel = table_open(leaf, AccessShareLock);
	TupleDesc	desc = RelationGetDescr(rel);
	int			i;

	initStringInfo(&buf);
	forboth(lc, d->columns, cc, d->column_cats)
	{
		AttrNumber	attno = get_attnum(leaf, lfirst(lc));
		Form_pg_attribute att;
		const char *q;
		int32		typmod;

		if (attno == InvalidAttrNumber || is_blocking_anchor(g, attno))
			continue;
		att = TupleDescAttr(desc, attno - 1);
		if (att->attgenerated)
			continue;
		q = quote_identifier(NameStr(att->attname));
		typmod = att->atttypmod;
		/* a domain over varchar(n) has its limit in the domain */
		(void) getBaseTypeAndTypmod(att->atttypid, &typmod);
		if (in_foreign_key(leaf, attno))
		{
			if (!att->attnotnull)
				appendStringInfo(&buf, "%s%s = NULL", buf.len ? ", " : "", q);
			continue;
		}
		appendStringInfo(&buf, "%s%s = governance.anonymize(%s, %s::governance.category, %d, "
						 "%s OPERATOR(pg_catalog.||) '%d:' OPERATOR(pg_catalog.||) ctid::pg_catalog.text)",
						 buf.len ? ", " : "", q, q, quote_literal_cstr(lfirst(cc)),
						 typmod, seed_param, (int) attno);
	}
	for (i = 0; i < desc->natts; i++)
	{
		Form_pg_attribute att = TupleDescAttr(desc, i);

		if (att->attisdropped || !is_blocking_anchor(g, att->attnum))
			continue;
		appendStringInfo(&buf, "%s%s = %s", buf.len ? ", " : "", quote_identifier(NameStr(att->attname)),
						 att->attnotnull ? "'infinity'" : "NULL");
	}
	table_close(rel, AccessShareLock);
	return buf.data;
}

static char *
new_seed(Oid leaf)
{
	uint8		bytes[16];
	char		hex[33];
	int			i;

	if (!pg_strong_random(bytes, sizeof(bytes)))
		ereport(ERROR,
				(errcode(ERRCODE_INTERNAL_ERROR),
				 errmsg("could not generate a random seed for anonymization"),
				 errdetail("The system's strong random source failed."),
				 errhint("Check the server's random number source.")));
	for (i = 0; i < 16; i++)
		snprintf(hex + 2 * i, 3, "%02x", bytes[i]);
	return psprintf("%s:%u:", hex, leaf);
}

/*
 * Write one set of rows of the batch with sql (params q; the rows are
 * given as a ctid array in q.values[ti]), row by row once the whole set
 * failed: what can go goes, the rest stays blocked.  Adds to *done, and
 * to *failed with the last error in *err.
 */
static void
write_rows(const char *sql, Params *q, int ti, int si, Oid leaf, int expect,
		   Datum *tids, uint64 n, int64 *done, int64 *failed, ErrorData **err)
{
	uint64		processed = 0;
	uint64		i;

	q->values[ti] = PointerGetDatum(construct_array(tids, n, TIDOID, sizeof(ItemPointerData),
													false, TYPALIGN_SHORT));
	if (n == 0)
		return;
	if (try_sql(sql, q, expect, &processed, err, false))
	{
		*done += processed;
		return;
	}
	for (i = 0; i < n; i++)
	{
		int			attempt;
		bool		row_ok = false;

		q->values[ti] = PointerGetDatum(construct_array(&tids[i], 1, TIDOID, sizeof(ItemPointerData),
														false, TYPALIGN_SHORT));
		for (attempt = 0; attempt < 3 && !row_ok; attempt++)
		{
			ErrorData  *rowerr = NULL;

			if (si >= 0)
				q->values[si] = CStringGetTextDatum(new_seed(leaf));
			row_ok = try_sql(sql, q, expect, &processed, &rowerr, false);
			if (!row_ok)
			{
				*err = rowerr;
				/* only a collision with a UNIQUE value is worth another seed */
				if (rowerr->sqlerrcode != ERRCODE_UNIQUE_VIOLATION || si < 0)
					break;
			}
		}
		if (row_ok)
			*done += processed;
		else
			(*failed)++;
	}
}

/* the ctids of the rows matching where (params p), locked SKIP LOCKED if asked */
static Datum *
select_ctids(const char *qrel, const char *where, Params *p, bool lock, uint64 *n)
{
	Datum	   *tids;
	uint64		i;
	bool		isnull;

	spi_run(psprintf("SELECT ctid FROM ONLY %s WHERE %s%s", qrel, where,
					 lock ? " FOR UPDATE SKIP LOCKED" : ""),
			p, !lock, SPI_OK_SELECT);
	*n = SPI_processed;
	tids = palloc(sizeof(Datum) * (*n + 1));
	for (i = 0; i < *n; i++)
	{
		ItemPointer tid = palloc(sizeof(ItemPointerData));

		ItemPointerCopy((ItemPointer) DatumGetPointer(SPI_getbinval(SPI_tuptable->vals[i],
																	SPI_tuptable->tupdesc, 1, &isnull)),
						tid);
		tids[i] = PointerGetDatum(tid);
	}
	return tids;
}

/*
 * One batch of due rows of one table for one rule; false when none are
 * left.  A batch is a range of the anchor: from the last batch's bound
 * (exclusive) to the batch_size-th anchor past the rule's maximum
 * (inclusive; an index-only look), so that one statement deletes or anonymizes it with
 * an index range and one write per row, the due predicate applied.  A row
 * an application holds locked is waited for at most
 * pg_governance.retention_lock_wait; then the batch locks what it can
 * (SKIP LOCKED) and writes those by ctid, leaving the locked rows to the
 * next run.  A batch that fails (a foreign key, a constraint) goes row by
 * row: what cannot go stays blocked, and the note says so.
 */
/* a value kept from one step to the next, in the run's memory */
static Datum
run_datum(Datum value, Oid type)
{
	int16		typlen;
	bool		typbyval;
	MemoryContext old = MemoryContextSwitchTo(run->cxt);
	Datum		copy;

	get_typlenbyval(type, &typlen, &typbyval);
	copy = datumCopy(value, typbyval, typlen);
	MemoryContextSwitchTo(old);
	return copy;
}

static bool step_rows_locked(RunItem *item, MemoryContext caller);

static bool
step_rows(RunItem *item)
{
	GuardRel   *g;
	GuardLife  *d;
	MemoryContext caller;
	bool		more;

	if (item->finished || get_rel_relkind(item->leaf) != RELKIND_RELATION)
		return false;			/* done, or dropped meanwhile */
	caller = CurrentMemoryContext;
	g = guard_get(item->leaf);
	d = find_rule(g, item->rule_id);
	if (d == NULL || !life_destroys(d) || d->maximum == NULL)
		return false;
	/*
	 * The table's lock first: a hold placed after this waits for the
	 * batch (place_hold locks SHARE), one placed before is in the rules
	 * read below.
	 */
	{
		int			nest = NewGUCNestLevel();

		if (LockTimeout == 0)
			(void) set_config_option("lock_timeout", "5s", PGC_USERSET, PGC_S_SESSION,
									 GUC_ACTION_SAVE, true, 0, false);
		LockRelationOid(item->leaf, run->dry_run ? AccessShareLock : RowExclusiveLock);
		AtEOXact_GUC(true, nest);
	}
	/*
	 * ... and read the rules under a snapshot taken now: the step's own
	 * was taken before the lock was granted, and would miss a hold
	 * committed while we waited.
	 */
	PushActiveSnapshot(GetTransactionSnapshot());
	more = step_rows_locked(item, caller);
	PopActiveSnapshot();
	return more;
}

static bool
step_rows_locked(RunItem *item, MemoryContext caller)
{
	GuardRel   *g;
	GuardLife  *d;
	Params		p = {0};
	char	   *pred;
	char	   *range = NULL;
	const char *qa;
	const char *qrel;
	Oid			atype;
	OwnerSpi	o;
	int64		done = 0;
	int64		failed = 0;
	char	   *note = NULL;
	bool		isnull;
	bool		last = false;
	Datum		bound = (Datum) 0;
	ErrorData  *err = NULL;
	LifeAction	action;
	char	   *seed_param = NULL;
	int			si = -1;
	char	   *set_list = NULL;
	bool		narrowed;
	uint32		generation;
	AttrNumber	anchor;

	g = guard_get(item->leaf);
	d = find_rule(g, item->rule_id);
	if (d == NULL || !life_destroys(d) || d->maximum == NULL)
		return false;
	pred = due_predicate(g, d, &p, &narrowed);
	if (pred == NULL)
		return false;
	generation = g->generation;
	/* the rules changed between two batches: a count must tell */
	if (item->generation != 0 && item->generation != generation)
		item->uncounted = true;
	item->generation = generation;
	/* rows past the maximum that this run leaves: only a count can tell */
	if (narrowed || run->dry_run || d->action != LIFE_DELETE)
		item->uncounted = true;
	action = d->action;
	if ((note = owner_code_problem(item->leaf, action == LIFE_DELETE ? TRIGGER_TYPE_DELETE
								   : TRIGGER_TYPE_UPDATE)) != NULL)
	{
		run_add(item, "deleted", 0, note);
		item->finished = true;
		item->uncounted = true;
		return true;
	}
	/*
	 * Everything taken from the guard cache is copied now: a statement on
	 * the table may rebuild the entry (its row security calls guard_get).
	 */
	qa = pstrdup(quote_identifier(d->anchor_column));
	anchor = d->anchor_attno;
	qrel = qualified_name(item->leaf);
	atype = life_anchor_base_type(d->anchor_typid);
	if (action == LIFE_ANONYMIZE && !run->dry_run)
	{
		si = p.n;
		seed_param = param(&p, TEXTOID, CStringGetTextDatum(new_seed(item->leaf)));
		set_list = anonymize_set_list(g, d, item->leaf, seed_param);
	}
	g = NULL;
	d = NULL;

	/* deferred constraints fire inside the batch, where a failure can be handled */
	{
		GovSpi		spi;

		gov_spi_begin(&spi, false);
		if (SPI_execute("SET CONSTRAINTS ALL IMMEDIATE", false, 0) != SPI_OK_UTILITY)
			elog(ERROR, "pg_governance: SET CONSTRAINTS failed");
		gov_spi_end(&spi);
	}

	owner_spi_begin(&o, item->leaf);
	/*
	 * This batch's range: anchors from where the last batch stopped up to,
	 * not including, the (batch_size+1)-th anchor past the rule's maximum
	 * ($1 is its cutoff): index looks.  When more than batch_size
	 * rows share the first anchor, they go batch_size at a time by ctid.
	 */
	if (!item->tie)
	{
		char	   *lo = item->has_key
			? psprintf("%s OPERATOR(pg_catalog.%s) %s", qa, item->key_inclusive ? ">=" : ">",
					   param(&p, atype, item->key_anchor))
			: pstrdup("true");
		bool		found;

		/* from the anchor's index alone where it has one (run_bound.c) */
		if (!run_bound_from_index(item->leaf, anchor, atype, item->has_key, item->key_anchor,
								  item->key_inclusive, p.values[0], run->batch_size,
								  item->live_only, &found, &bound))
		{
			spi_run(psprintf("SELECT %s FROM ONLY %s WHERE %s OPERATOR(pg_catalog.<) $1 AND %s "
							 "ORDER BY %s OFFSET %d LIMIT 1",
							 qa, qrel, qa, lo, qa, run->batch_size),
					&p, true, SPI_OK_SELECT);
			found = SPI_processed > 0;
			if (found)
				bound = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull);
		}
		if (!found)
		{
			last = true;
			range = lo;
		}
		else
		{
			char	   *ba;

			ba = param(&p, atype, bound);
			spi_run(psprintf("SELECT 1 FROM ONLY %s WHERE %s AND %s OPERATOR(pg_catalog.<) %s LIMIT 1",
							 qrel, lo, qa, ba),
					&p, true, SPI_OK_SELECT);
			if (SPI_processed > 0)
			{
				range = psprintf("%s AND %s OPERATOR(pg_catalog.<) %s", lo, qa, ba);
				item->key_anchor = run_datum(bound, atype);
				item->key_inclusive = true;
				item->has_key = true;
			}
			else
			{
				/* more than batch_size rows share this anchor */
				item->tie = true;
				item->tie_has_ctid = false;
				item->key_anchor = run_datum(bound, atype);
				item->has_key = true;
			}
		}
	}
	if (item->tie)
	{
		char	   *ka = param(&p, atype, item->key_anchor);
		char	   *lo;

		if (item->tie_has_ctid)
		{
			ItemPointer kt = palloc(sizeof(ItemPointerData));

			ItemPointerCopy(&item->key_ctid, kt);
			lo = psprintf("%s OPERATOR(pg_catalog.=) %s AND ctid OPERATOR(pg_catalog.>) %s", qa, ka,
						  param(&p, TIDOID, PointerGetDatum(kt)));
		}
		else
			lo = psprintf("%s OPERATOR(pg_catalog.=) %s", qa, ka);
		spi_run(psprintf("SELECT ctid FROM ONLY %s WHERE %s ORDER BY ctid OFFSET %d LIMIT 1",
						 qrel, lo, run->batch_size - 1),
				&p, true, SPI_OK_SELECT);
		if (SPI_processed == 0)
		{
			/* the rest of the tie; then on past it */
			range = lo;
			item->tie = false;
			item->key_inclusive = false;
		}
		else
		{
			ItemPointer bc = palloc(sizeof(ItemPointerData));

			ItemPointerCopy((ItemPointer) DatumGetPointer(SPI_getbinval(SPI_tuptable->vals[0],
																		SPI_tuptable->tupdesc, 1, &isnull)),
							bc);
			range = psprintf("%s AND ctid OPERATOR(pg_catalog.<=) %s", lo,
							 param(&p, TIDOID, PointerGetDatum(bc)));
			ItemPointerCopy(bc, &item->key_ctid);
			item->tie_has_ctid = true;
		}
	}
	pred = psprintf("%s AND %s", pred, range);

	if (run->dry_run)
	{
		spi_run(psprintf("SELECT pg_catalog.count(*) FROM ONLY %s WHERE %s", qrel, pred),
				&p, true, SPI_OK_SELECT);
		done = DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull));
	}
	else
	{
		Params		q = p;		/* the predicate's parameters, then ours */
		int			ti;
		int			expect = action == LIFE_DELETE ? SPI_OK_DELETE : SPI_OK_UPDATE;
		uint64		processed = 0;
		bool		ok = false;

		/* optimistic: the whole range in one statement, one write per row */
		if (governance_retention_lock_wait > 0)
		{
			int			inner = NewGUCNestLevel();

			(void) set_config_option("lock_timeout", psprintf("%dms", governance_retention_lock_wait),
									 PGC_USERSET, PGC_S_SESSION, GUC_ACTION_SAVE, true, 0, false);
			if (action == LIFE_DELETE)
				ok = try_batch_delete(item->leaf, generation,
									  psprintf("DELETE FROM ONLY %s WHERE %s", qrel, pred),
									  &q, &processed, &err);
			else
				ok = try_sql(psprintf("UPDATE ONLY %s SET %s WHERE %s", qrel, set_list, pred),
							 &q, expect, &processed, &err, true);
			AtEOXact_GUC(true, inner);
		}
		if (ok)
			done = processed;
		else
		{
			/* by ctid: the rows not locked by others (or all of them) */
			bool		lock = true;	/* (never wait on rows an application holds) */
			uint64		n;
			Datum	   *tids = select_ctids(qrel, pred, &q, lock, &n);
			char	   *tparam;
			int			nest = NewGUCNestLevel();

			item->uncounted = true;

			ti = q.n;
			tparam = param(&q, TIDARRAYOID, (Datum) 0);
			/* a TID scan, however many: the planner would rather read the table */
			(void) set_config_option("enable_seqscan", "off", PGC_USERSET, PGC_S_SESSION,
									 GUC_ACTION_SAVE, true, 0, false);
			(void) set_config_option("enable_bitmapscan", "off", PGC_USERSET, PGC_S_SESSION,
									 GUC_ACTION_SAVE, true, 0, false);
			(void) set_config_option("enable_indexscan", "off", PGC_USERSET, PGC_S_SESSION,
									 GUC_ACTION_SAVE, true, 0, false);
			(void) set_config_option("enable_indexonlyscan", "off", PGC_USERSET, PGC_S_SESSION,
									 GUC_ACTION_SAVE, true, 0, false);
			err = NULL;
			write_rows(action == LIFE_DELETE
					   ? psprintf("DELETE FROM ONLY %s WHERE ctid OPERATOR(pg_catalog.=) ANY (%s) AND %s",
								  qrel, tparam, pred)
					   : psprintf("UPDATE ONLY %s SET %s WHERE ctid OPERATOR(pg_catalog.=) ANY (%s) AND %s",
								  qrel, set_list, tparam, pred),
					   &q, ti, si, item->leaf, expect, tids, n, &done, &failed, &err);
			AtEOXact_GUC(true, nest);
			/* (in the caller's memory: SPI's goes with owner_spi_end) */
			if (failed > 0)
				note = MemoryContextStrdup(caller,
										   psprintf("%lld row(s) of %s could not be %s (SQLSTATE %s: %s); they stay blocked",
													(long long) failed, qrel,
													action == LIFE_DELETE ? "deleted" : "anonymized",
													unpack_sql_state(err->sqlerrcode), err->message));
		}
	}
	owner_spi_end(&o);
	if (last)
		item->finished = true;
	else if (!item->tie && done * 2 < run->batch_size)
		item->live_only = true;
	if (done > 0 || note || !last)
		run_add(item, action == LIFE_DELETE ? "deleted" : "anonymized", done, note);
	/* (one batch per step, the last one too: its transaction commits alone) */
	return true;
}

/* the upper bound of a range partition, or false (default, MAXVALUE, ...) */
static bool
partition_upper(Oid partid, Datum *upper)
{
	HeapTuple	tup = SearchSysCache1(RELOID, ObjectIdGetDatum(partid));
	bool		isnull;
	Datum		d;
	PartitionBoundSpec *spec;
	PartitionRangeDatum *prd;
	bool		ok = false;

	if (!HeapTupleIsValid(tup))
		return false;
	d = SysCacheGetAttr(RELOID, tup, Anum_pg_class_relpartbound, &isnull);
	if (!isnull)
	{
		spec = (PartitionBoundSpec *) stringToNode(TextDatumGetCString(d));
		if (!spec->is_default && spec->strategy == PARTITION_STRATEGY_RANGE &&
			list_length(spec->upperdatums) == 1)
		{
			prd = linitial(spec->upperdatums);
			if (prd->kind == PARTITION_RANGE_DATUM_VALUE && IsA(prd->value, Const) &&
				!((Const *) prd->value)->constisnull)
			{
				*upper = ((Const *) prd->value)->constvalue;
				ok = true;
			}
		}
	}
	ReleaseSysCache(tup);
	return ok;
}

/* does any row of leaf belong to a held subject? */
static bool
partition_has_held_rows(GuardRel *g, Oid leaf)
{
	Params		p = {0};
	OwnerSpi	o;
	bool		found;
	Oid			base;
	int16		typlen;
	bool		typbyval;
	char		typalign;
	int			i;

	if (g->held_subjects == NIL)
		return false;
	/* (owner code that would see the rows: no look, no whole drop) */
	if (owner_code_problem(leaf, 0))
		return true;
	for (i = 0; i < list_length(g->held_subjects); i++)
		if (!g->held_ok[i])
			return true;
	base = getBaseType(g->subject_typid);
	get_typlenbyvalalign(base, &typlen, &typbyval, &typalign);
	param(&p, get_array_type(base),
		  PointerGetDatum(construct_array(g->held_values, list_length(g->held_subjects), base,
										  typlen, typbyval, typalign)));
	owner_spi_begin(&o, leaf);
	spi_run(psprintf("SELECT 1 FROM ONLY %s WHERE pg_catalog.array_position($1, %s) IS NOT NULL LIMIT 1",
					 qualified_name(leaf),
					 quote_identifier(get_attname(leaf, g->subject_attno, false))),
			&p, true, SPI_OK_SELECT);
	found = SPI_processed > 0;
	owner_spi_end(&o);
	return found;
}

/*
 * Is every row of the partition past the rule's maximum and every
 * minimum, with no hold?  Its upper bound says so for the clocks; the
 * holds need a look.
 */
static bool partition_expired_locked(Oid part, GuardLife *d, Datum upper);

static bool
partition_expired(Oid part, GuardLife *d)
{
	Datum		upper;
	bool		expired;

	if (get_rel_relkind(part) != RELKIND_RELATION || !partition_upper(part, &upper))
		return false;
	/*
	 * A hold being placed on the partition (SHARE) is waited for, and then
	 * read under a snapshot taken after the wait.
	 */
	{
		int			nest = NewGUCNestLevel();

		if (LockTimeout == 0)
			(void) set_config_option("lock_timeout", "5s", PGC_USERSET, PGC_S_SESSION,
									 GUC_ACTION_SAVE, true, 0, false);
		LockRelationOid(part, ShareUpdateExclusiveLock);
		AtEOXact_GUC(true, nest);
	}
	PushActiveSnapshot(GetTransactionSnapshot());
	expired = partition_expired_locked(part, d, upper);
	PopActiveSnapshot();
	return expired;
}

static bool
partition_expired_locked(Oid part, GuardLife *d, Datum upper)
{
	GuardRel   *g = guard_get(part);
	ListCell   *lc;

	if (life_anchor_before(life_cutoff(d->maximum, d->anchor_typid), upper, life_anchor_base_type(d->anchor_typid)))
		return false;
	foreach(lc, g->lifecycle)
	{
		GuardLife  *m = lfirst(lc);

		if (!m->has_min || m->anchor_attno == InvalidAttrNumber)
			continue;
		if (m->minimum == NULL ||
			life_anchor_before(life_cutoff(m->minimum, m->anchor_typid), upper, life_anchor_base_type(m->anchor_typid)))
			return false;
	}
	return !partition_has_held_rows(g, part);
}

/* detach and drop one expired partition; false when none is left */
static bool
step_partition(RunItem *item)
{
	GuardLife  *d;
	List	   *parts;
	ListCell   *lc;

	/* a hold being placed on the table (SHARE) is waited for first */
	{
		int			nest = NewGUCNestLevel();

		if (LockTimeout == 0)
			(void) set_config_option("lock_timeout", "5s", PGC_USERSET, PGC_S_SESSION,
									 GUC_ACTION_SAVE, true, 0, false);
		LockRelationOid(item->root, ShareUpdateExclusiveLock);
		AtEOXact_GUC(true, nest);
	}
	d = partition_rule(item->root);
	if (d == NULL)
		return false;
	parts = find_inheritance_children(item->root, NoLock);
	foreach(lc, parts)
	{
		Oid			part = lfirst_oid(lc);
		char	   *qpart;
		GovSpi		spi;
		bool		save = governance_allow_destructive_ddl;
		bool		dropped = false;
		char	   *why = NULL;
		MemoryContext caller = CurrentMemoryContext;

		if (!partition_expired(part, d))
			continue;
		qpart = qualified_name(part);
		/*
		 * DETACH ... CONCURRENTLY cannot run inside a procedure ("cannot be
		 * executed from a function"), so the plain DETACH waits for the
		 * parent's lock for at most a second: writers queue behind it
		 * that long at most; a run that cannot get it leaves the
		 * partition to the next run.  Run as the extension owner: only
		 * catalog work, no code of the table owner's runs.  The rows
		 * were just shown to be past every period and hold-free, so the
		 * drop hook need not read them again.
		 */
		gov_spi_begin(&spi, true);
		(void) set_config_option("lock_timeout", "1s", PGC_USERSET, PGC_S_SESSION,
								 GUC_ACTION_SAVE, true, 0, false);
		PG_TRY();
		{
			Params		none = {0};
			uint64		processed;
			ErrorData  *err = NULL;

			governance_allow_destructive_ddl = true;
			dropped = try_sql(psprintf("ALTER TABLE %s DETACH PARTITION %s; DROP TABLE %s",
									   qualified_name(item->root), qpart, qpart),
							  &none, SPI_OK_UTILITY, &processed, &err, true);
			if (!dropped)
				why = MemoryContextStrdup(caller, psprintf("partition %s was left to the next run (SQLSTATE %s: %s)",
														   qpart, unpack_sql_state(err->sqlerrcode), err->message));
		}
		PG_FINALLY();
		{
			governance_allow_destructive_ddl = save;
		}
		PG_END_TRY();
		gov_spi_end(&spi);
		if (!dropped)
		{
			/* the rows of the other partitions, and this one's, go row by row */
			run_add(item, "partitions_dropped", 0, why);
			return false;
		}
		run_add(item, "partitions_dropped", 1, psprintf("partition %s dropped whole", qpart));
		return true;
	}
	return false;
}

/*
 * Does this run know, without a count, that rule rule_id left no row of
 * leaf past its maximum?  It does when its batches went through every due
 * row of the leaf, each deleting all the rows of its range (nothing kept
 * by another rule, a minimum or a hold; nothing locked; nothing failed):
 * then a count would read only what the run has just deleted.  If the
 * table's rules changed since (a maximum shortened, a parameter set), it
 * counts.  A row written behind the run while it ran, with an anchor
 * already past, is not counted: the next run counts and deletes it.
 */
static bool
counted_by_run(Oid leaf, const char *rule_id)
{
	ListCell   *lc;

	foreach(lc, run->items)
	{
		RunItem    *item = lfirst(lc);

		if (item->kind == ITEM_ROWS && item->leaf == leaf && strcmp(item->rule_id, rule_id) == 0)
			return item->finished && !item->uncounted &&
				guard_get(leaf)->generation == item->generation;
	}
	return false;
}

/* the rows each rule of the root keeps blocked now; the root is done */
static void
step_count(RunItem *item)
{
	List	   *leaves = get_rel_relkind(item->root) ? leaves_of(item->root) : NIL;
	ListCell   *r;
	ListCell   *lc;

	/*
	 * An erased subject's kept rows that this run destroyed: their keys go
	 * (restrict.c).  Not where the owner's own row security would take part
	 * in the look: it would see the kept rows, or hide them and have their
	 * keys forgotten.
	 */
	if (!run->dry_run)
		foreach(lc, leaves)
			if (owner_code_problem(lfirst_oid(lc), 0) == NULL)
				restrict_prune(lfirst_oid(lc));

	foreach(r, rules_of(item->root, leaves))
	{
		Tally		t = {0};
		Oid			types[4] = {INT8OID, TEXTOID, TEXTOID, INT8OID};
		Datum		values[4];

		foreach(lc, leaves)
		{
			GuardRel   *g = guard_get(lfirst_oid(lc));
			GuardLife  *l = find_rule(g, lfirst(r));
			Params		p = {0};
			char	   *pred;

			if (l && counted_by_run(lfirst_oid(lc), lfirst(r)))
				ereport(DEBUG1,
						(errmsg_internal("pg_governance: rule %s left no row of %s past its maximum: not counted",
										 (char *) lfirst(r), get_rel_name(lfirst_oid(lc)))));
			else if (l && (pred = blocked_predicate(l, &p)) != NULL)
				tally(lfirst_oid(lc), pred, &p, l, &t);
		}
		values[0] = Int64GetDatum(run->run_id);
		values[1] = CStringGetTextDatum(item->root_name);
		values[2] = CStringGetTextDatum(lfirst(r));
		values[3] = Int64GetDatum(t.rows);
		runs_write("UPDATE governance.retention_runs SET blocked = $4 "
				   "WHERE run_id OPERATOR(pg_catalog.=) $1 AND relation OPERATOR(pg_catalog.=) $2 "
				   "  AND rule_id OPERATOR(pg_catalog.=) $3",
				   4, types, values, NULL);
	}
	run_close(item->root_name, "done", NULL);
	{
		LOCKTAG		tag;

		SET_LOCKTAG_ADVISORY(tag, MyDatabaseId, RUN_LOCK_KEY, item->root, 3);
		(void) LockRelease(&tag, ExclusiveLock, true);
		run->locked = list_delete_oid(run->locked, item->root);
	}
}

static void
require_run(void)
{
	if (run == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("no retention run is in progress in this session"),
				 errdetail("The internal steps of a run are called by governance.run_retention."),
				 errhint("CALL governance.run_retention().")));
}

static bool retention_step(void);

/* governance._retention_step() RETURNS boolean: more work to do? */
Datum
governance_retention_step(PG_FUNCTION_ARGS)
{
	volatile bool more = false;

	require_run();
	life_set_now(run->now);
	PG_TRY();
	{
		more = retention_step();
	}
	PG_FINALLY();
	{
		life_set_now(0);
	}
	PG_END_TRY();
	PG_RETURN_BOOL(more);
}

static bool
retention_step(void)
{
	while (run->cur < list_length(run->items))
	{
		RunItem    *item = list_nth(run->items, run->cur);
		bool		more;

		CHECK_FOR_INTERRUPTS();
		/* one unit of work per step: it commits on its own */
		switch (item->kind)
		{
			case ITEM_ROWS:
				more = step_rows(item);
				if (!more)
					run->cur++;	/* (finished: nothing was done this time) */
				else
					return true;
				break;
			case ITEM_PARTITIONS:
				if (!step_partition(item))
					run->cur++;
				return true;
			case ITEM_COUNT:
				step_count(item);
				run->cur++;
				return true;
		}
	}
	retention_forget_run();
	return false;
}

/*
 * governance._retention_item_failed(message text): the current step
 * failed; its table and rule are marked so, the run goes on with the rest.
 */
Datum
governance_retention_item_failed(PG_FUNCTION_ARGS)
{
	char	   *message = text_to_cstring(PG_GETARG_TEXT_PP(0));
	RunItem    *item;
	Oid			types[4] = {INT8OID, TEXTOID, TEXTOID, TEXTOID};
	Datum		values[4];
	char		nulls[4] = "    ";

	require_run();
	if (run->cur >= list_length(run->items))
		PG_RETURN_VOID();
	item = list_nth(run->items, run->cur);
	values[0] = Int64GetDatum(run->run_id);
	values[1] = CStringGetTextDatum(item->root_name);
	values[2] = item->rule_id ? CStringGetTextDatum(item->rule_id) : (Datum) 0;
	nulls[2] = item->rule_id ? ' ' : 'n';
	values[3] = CStringGetTextDatum(message);
	runs_write("UPDATE governance.retention_runs SET status = 'failed', finished_at = pg_catalog.clock_timestamp(), "
			   "  detail = $4 "
			   "WHERE run_id OPERATOR(pg_catalog.=) $1 AND relation OPERATOR(pg_catalog.=) $2 "
			   "  AND ($3 IS NULL OR rule_id OPERATOR(pg_catalog.=) $3) AND status OPERATOR(pg_catalog.=) 'running'",
			   4, types, values, nulls);
	/* skip the rest of that rule on that table (the count step still runs) */
	run->cur++;
	while (run->cur < list_length(run->items))
	{
		RunItem    *next = list_nth(run->items, run->cur);

		if (next->root != item->root || next->kind == ITEM_COUNT || item->rule_id == NULL ||
			strcmp(next->rule_id, item->rule_id) != 0)
			break;
		run->cur++;
	}
	if (item->kind == ITEM_COUNT)
		run_close(item->root_name, "failed", message);
	PG_RETURN_VOID();
}

/* governance._retention_finish(status text, message text): a run's early end */
Datum
governance_retention_finish(PG_FUNCTION_ARGS)
{
	char	   *status = text_to_cstring(PG_GETARG_TEXT_PP(0));
	char	   *message = PG_ARGISNULL(1) ? NULL : text_to_cstring(PG_GETARG_TEXT_PP(1));

	if (run == NULL)
		PG_RETURN_VOID();
	run_close(NULL, status, message);
	retention_forget_run();
	PG_RETURN_VOID();
}
