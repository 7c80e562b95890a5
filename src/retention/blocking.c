/*-------------------------------------------------------------------------
 *
 * blocking.c
 *	  Restricted processing (GV006): rows whose residence has ended are
 *	  kept for the law but no longer used.  They are hidden by row
 *	  security, with no write per row: every governed table whose rules
 *	  can block gets
 *
 *	  - ROW LEVEL SECURITY enabled and forced (the owner is no exception);
 *	  - a RESTRICTIVE policy "governance_blocked", for everyone:
 *		  (a IS NULL OR a >= (SELECT governance._cutoff_<type>(t, 'a'))) AND ...
 *		over each anchor column a, so the cutoffs are computed once per
 *		statement (init plans) and compared with an index where there is
 *		one; rows become blocked the moment their period ends; a role that
 *		sees blocked rows gets -infinity as its cutoff;
 *	  - a PERMISSIVE policy "governance_open" (USING true) only while the
 *		table has no permissive policy of its own, so that the table's own
 *		policies keep deciding what each role sees.
 *
 *	  governance_admin members see blocked rows; so does a retention run,
 *	  for the table it processes (blocking_job_begin).  Writes to blocked
 *	  rows by those who see them raise GV006 (blocking_check_write, called
 *	  by the guard's delete and update triggers), except by the run.
 *
 *	  The policies are kept in line by guard_sync (guard_attach.c) after
 *	  every DDL on the table: DISABLE or NO FORCE ROW LEVEL SECURITY are
 *	  put back, and ddl.c refuses CREATE, ALTER and DROP POLICY on these
 *	  two names, except while pg_restore recreates them.
 *
 *-------------------------------------------------------------------------
 */
#include "pg_governance.h"

#include "access/genam.h"
#include "access/htup_details.h"
#include "access/table.h"
#include "access/xact.h"
#include "executor/executor.h"
#include "catalog/indexing.h"
#include "catalog/pg_class.h"
#include "catalog/pg_policy.h"
#include "catalog/pg_type.h"
#include "commands/comment.h"
#include "commands/trigger.h"
#include "miscadmin.h"
#include "nodes/nodeFuncs.h"
#include "optimizer/planner.h"
#include "parser/parse_clause.h"
#include "parser/parse_func.h"
#include "parser/parse_collate.h"
#include "parser/parse_node.h"
#include "parser/parse_relation.h"
#include "parser/parser.h"
#include "tcop/utility.h"
#include "utils/acl.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/date.h"
#include "utils/fmgroids.h"
#include "utils/guc.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"
#include "utils/syscache.h"
#include "utils/timestamp.h"

PG_FUNCTION_INFO_V1(governance_cutoff);
PG_FUNCTION_INFO_V1(governance_sees_blocked);

#define BLOCKED_POLICY	"governance_blocked"
#define OPEN_POLICY		"governance_open"

/*
 * The relation a retention run (or preview) of this backend is reading,
 * and the executor depth of its own statements: only they see the
 * relation's blocked rows and may change them.  Code of the table's owner
 * that runs inside them (a trigger, a policy function) runs its queries
 * deeper, and sees nothing more than the owner does.  So does owner code
 * that runs while one of them is planned or started (a function in the
 * table's extended statistics or index expressions, which the planner
 * folds): planning, executor start and utility commands count as a level
 * too.  The flag dies with the (sub)transaction that set it, whatever
 * error ends it.
 */
static Oid	job_relid = InvalidOid;
static int	job_depth = -1;
static SubTransactionId job_subxid = InvalidSubTransactionId;

/* executor depth, counted as pg_stat_statements counts it, and planning */
static int	exec_depth = 0;
static ExecutorRun_hook_type prev_ExecutorRun = NULL;
static ExecutorFinish_hook_type prev_ExecutorFinish = NULL;
static ExecutorStart_hook_type prev_ExecutorStart = NULL;
static planner_hook_type prev_planner = NULL;
static ProcessUtility_hook_type prev_ProcessUtility = NULL;

static PlannedStmt *
blocking_planner(Query *parse, const char *query_string, int cursorOptions,
				 ParamListInfo boundParams)
{
	PlannedStmt *result;

	exec_depth++;
	PG_TRY();
	{
		if (prev_planner)
			result = prev_planner(parse, query_string, cursorOptions, boundParams);
		else
			result = standard_planner(parse, query_string, cursorOptions, boundParams);
	}
	PG_FINALLY();
	{
		exec_depth--;
	}
	PG_END_TRY();
	return result;
}

static void
blocking_ExecutorStart(QueryDesc *queryDesc, int eflags)
{
	exec_depth++;
	PG_TRY();
	{
		if (prev_ExecutorStart)
			prev_ExecutorStart(queryDesc, eflags);
		else
			standard_ExecutorStart(queryDesc, eflags);
	}
	PG_FINALLY();
	{
		exec_depth--;
	}
	PG_END_TRY();
}

static void
blocking_ProcessUtility(PlannedStmt *pstmt, const char *queryString, bool readOnlyTree,
						ProcessUtilityContext context, ParamListInfo params,
						QueryEnvironment *queryEnv, DestReceiver *dest, QueryCompletion *qc)
{
	exec_depth++;
	PG_TRY();
	{
		if (prev_ProcessUtility)
			prev_ProcessUtility(pstmt, queryString, readOnlyTree, context, params,
								queryEnv, dest, qc);
		else
			standard_ProcessUtility(pstmt, queryString, readOnlyTree, context, params,
									queryEnv, dest, qc);
	}
	PG_FINALLY();
	{
		exec_depth--;
	}
	PG_END_TRY();
}

static void
blocking_ExecutorRun(QueryDesc *queryDesc, ScanDirection direction, uint64 count,
					 bool execute_once)
{
	exec_depth++;
	PG_TRY();
	{
		if (prev_ExecutorRun)
			prev_ExecutorRun(queryDesc, direction, count, execute_once);
		else
			standard_ExecutorRun(queryDesc, direction, count, execute_once);
	}
	PG_FINALLY();
	{
		exec_depth--;
	}
	PG_END_TRY();
}

static void
blocking_ExecutorFinish(QueryDesc *queryDesc)
{
	exec_depth++;
	PG_TRY();
	{
		if (prev_ExecutorFinish)
			prev_ExecutorFinish(queryDesc);
		else
			standard_ExecutorFinish(queryDesc);
	}
	PG_FINALLY();
	{
		exec_depth--;
	}
	PG_END_TRY();
}

static void
job_reset(void)
{
	job_relid = InvalidOid;
	job_depth = -1;
	job_subxid = InvalidSubTransactionId;
}

static void
blocking_xact_callback(XactEvent event, void *arg)
{
	if (event == XACT_EVENT_ABORT || event == XACT_EVENT_PARALLEL_ABORT ||
		event == XACT_EVENT_COMMIT || event == XACT_EVENT_PRE_PREPARE)
		job_reset();
}

static void
blocking_subxact_callback(SubXactEvent event, SubTransactionId mySubid,
						  SubTransactionId parentSubid, void *arg)
{
	/* the subtransaction that set the flag, or one around it, is gone */
	if (event == SUBXACT_EVENT_ABORT_SUB && OidIsValid(job_relid) && mySubid <= job_subxid)
		job_reset();
}

void
blocking_init(void)
{
	prev_ExecutorRun = ExecutorRun_hook;
	ExecutorRun_hook = blocking_ExecutorRun;
	prev_ExecutorFinish = ExecutorFinish_hook;
	ExecutorFinish_hook = blocking_ExecutorFinish;
	prev_ExecutorStart = ExecutorStart_hook;
	ExecutorStart_hook = blocking_ExecutorStart;
	prev_planner = planner_hook;
	planner_hook = blocking_planner;
	prev_ProcessUtility = ProcessUtility_hook;
	ProcessUtility_hook = blocking_ProcessUtility;
	RegisterXactCallback(blocking_xact_callback, NULL);
	RegisterSubXactCallback(blocking_subxact_callback, NULL);
}

/* the next statement run through SPI (and only it) reads relid as the run */
void
blocking_job_begin(Oid relid)
{
	job_relid = relid;
	job_depth = exec_depth + 1;
	job_subxid = GetCurrentSubTransactionId();
}

void
blocking_job_end(void)
{
	job_reset();
}

/* the executor depth (with planning and utility commands), for run_delete.c */
int
blocking_exec_depth(void)
{
	return exec_depth;
}

/* is this the run's own statement on relid? */
static bool
job_statement(Oid relid)
{
	return OidIsValid(job_relid) && job_relid == relid && exec_depth == job_depth;
}

/* may the current role see relid's blocked rows (admin, the run's own statement)? */
bool
blocking_sees(Oid relid)
{
	return job_statement(relid) || governance_is_admin();
}

/* does this database's version of the extension block (0.2 on)? */
bool
blocking_installed(void)
{
	Oid			argtypes[1] = {REGCLASSOID};

	return OidIsValid(LookupFuncName(list_make2(makeString("governance"), makeString("_sees_blocked")),
									 1, argtypes, true));
}

bool
blocking_is_own_policy_name(const char *name)
{
	return strcmp(name, BLOCKED_POLICY) == 0 || strcmp(name, OPEN_POLICY) == 0 ||
		strcmp(name, RESTRICTED_POLICY) == 0;
}

/* ------------------------------------------------------------ SQL */

static Datum
infinite_cutoff(Oid typid, bool future)
{
	if (getBaseType(typid) == DATEOID)
		return DateADTGetDatum(future ? DATEVAL_NOEND : DATEVAL_NOBEGIN);
	return TimestampGetDatum(future ? DT_NOEND : DT_NOBEGIN);
}

/*
 * governance._cutoff_date / _cutoff_timestamp / _cutoff_timestamptz
 *		(rel regclass, col name): rows of rel whose anchor col is before
 *		the result are blocked.  -infinity when nothing blocks on that
 *		column, or for a role that sees blocked rows (governance_admin, a
 *		run's own statement); +infinity when the table's labels do not
 *		resolve (fail closed: every row with a clock is hidden).  Called
 *		once per statement by the governance_blocked policy.
 */
Datum
governance_cutoff(PG_FUNCTION_ARGS)
{
	Oid			relid = PG_GETARG_OID(0);
	Name		col = PG_GETARG_NAME(1);
	Oid			rettype = get_fn_expr_rettype(fcinfo->flinfo);
	GuardRel   *g;
	AttrNumber	attno;
	Interval	period;
	char		relkind = get_rel_relkind(relid);

	/* (called by hand with something that is no table: nothing blocks there) */
	if (relkind != RELKIND_RELATION && relkind != RELKIND_PARTITIONED_TABLE)
		return infinite_cutoff(rettype, false);
	g = guard_get(relid);
	attno = get_attnum(relid, NameStr(*col));

	/* who may see the blocked rows sees every row: one init plan per anchor */
	if (job_statement(relid) || governance_is_admin())
		return infinite_cutoff(rettype, false);
	if (g->governed && g->policy && g->fail_closed)
		return infinite_cutoff(rettype, true);
	if (!g->governed || g->policy == NULL || attno == InvalidAttrNumber ||
		!life_column_period(g, attno, &period, NULL))
		return infinite_cutoff(rettype, false);
	return life_cutoff(&period, rettype);
}

/*
 * governance._sees_blocked(rel regclass): may the current role see the
 * blocked rows of rel?  governance_admin members may; so may a retention
 * run of this backend, on the table it processes.
 */
Datum
governance_sees_blocked(PG_FUNCTION_ARGS)
{
	Oid			relid = PG_GETARG_OID(0);

	PG_RETURN_BOOL(job_statement(relid) || governance_is_admin());
}

/* ------------------------------------------------------------ writes */

/*
 * The blocking cutoff of each anchor column, computed once per relation
 * and instant (a transaction, or a run) and kept in the guard's cache
 * entry, so that the per-row check below only compares.
 */
typedef struct BlockCut
{
	AttrNumber	attno;
	Oid			typid;
	Datum		cutoff;
	GuardLife  *by;				/* the rule that sets the period */
} BlockCut;

static void
block_cuts(GuardRel *g)
{
	TimestampTz now = life_now();
	ListCell   *lc;
	MemoryContext old;

	if (g->cut_now == now && g->cuts != NULL)
		return;
	old = MemoryContextSwitchTo(g->cxt);
	if (g->cuts == NULL)
		g->cuts = palloc0(sizeof(BlockCut) * (list_length(g->lifecycle) + 1));
	g->ncuts = 0;
	foreach(lc, g->lifecycle)
	{
		GuardLife  *l = lfirst(lc);
		Interval	period;
		GuardLife  *by = NULL;
		bool		seen = false;
		int			i;

		if (l->anchor_attno == InvalidAttrNumber)
			continue;
		for (i = 0; i < g->ncuts; i++)
			seen |= (g->cuts[i].attno == l->anchor_attno);
		if (seen || !life_column_period(g, l->anchor_attno, &period, &by))
			continue;
		g->cuts[g->ncuts].attno = l->anchor_attno;
		g->cuts[g->ncuts].typid = life_anchor_base_type(l->anchor_typid);
		g->cuts[g->ncuts].cutoff = life_cutoff(&period, l->anchor_typid);
		g->cuts[g->ncuts].by = by;
		g->ncuts++;
	}
	g->cut_now = now;
	MemoryContextSwitchTo(old);
}

/* The rule under which a row is blocked now, or NULL. */
GuardLife *
blocking_row_rule(GuardRel *g, HeapTuple tup, TupleDesc desc)
{
	int			i;

	block_cuts(g);
	for (i = 0; i < g->ncuts; i++)
	{
		BlockCut   *c = &g->cuts[i];
		bool		isnull;
		Datum		v = heap_getattr(tup, c->attno, desc, &isnull);

		if (!isnull && life_anchor_before(v, c->cutoff, c->typid))
			return c->by;
	}
	return NULL;
}

void
blocking_error(GuardRel *g, GuardLife *by, const char *what)
{
	ereport(ERROR,
			(errcode(ERRCODE_GV_BLOCKED),
			 errmsg("cannot %s a blocked row of table %s", what, g->relname),
			 errdetail("Table %s, column %s (anchor %s), policy %s, rule %s: \"%s\". The row's period has ended: it is kept for the law (restricted processing), not used.",
					   g->relname, by->anchor_column, by->anchor, g->policy,
					   by->rule.rule_id, by->rule.source),
			 errhint("Blocked rows are anonymized or deleted by CALL governance.run_retention(); a legal hold keeps them.")));
}

/*
 * GV006: a role that sees blocked rows (an administrator, a superuser, a
 * role with BYPASSRLS) may not change or delete them; only the retention
 * run (and erasure) act on them.
 */
void
blocking_check_write(GuardRel *g, HeapTuple tup, TupleDesc desc, const char *what)
{
	GuardLife  *by;

	if (job_statement(g->relid))
		return;
	/*
	 * Logical replication apply (and a superuser's session in replica
	 * mode): the publisher decided, and a governed publisher only ever
	 * changes blocked rows through its own retention runs.
	 */
	if (SessionReplicationRole == SESSION_REPLICATION_ROLE_REPLICA)
		return;
	/* an erased subject's kept rows (restrict.c) */
	restrict_check_write(g, tup, desc, what);
	if (!g->blocking_writes)
		return;
	if ((by = blocking_row_rule(g, tup, desc)) != NULL)
		blocking_error(g, by, what);
}

/* ------------------------------------------------------------ policies */

/* the anchor columns that can block, as (attnum, name, type) */
typedef struct AnchorCol
{
	AttrNumber	attno;
	char	   *name;
	Oid			typid;
} AnchorCol;

static List *
blocking_anchor_columns(GuardRel *g)
{
	List	   *result = NIL;
	ListCell   *lc;

	foreach(lc, g->lifecycle)
	{
		GuardLife  *l = lfirst(lc);
		ListCell   *r;
		bool		seen = false;
		AnchorCol  *a;

		if (l->anchor_attno == InvalidAttrNumber || life_end_period(l) == NULL)
			continue;
		foreach(r, result)
			seen |= ((AnchorCol *) lfirst(r))->attno == l->anchor_attno;
		if (seen)
			continue;
		a = palloc(sizeof(AnchorCol));
		a->attno = l->anchor_attno;
		a->name = get_attname(g->relid, l->anchor_attno, false);
		a->typid = l->anchor_typid;
		result = lappend(result, a);
	}
	return result;
}

static const char *
cutoff_function(Oid typid)
{
	switch (getBaseType(typid))
	{
		case DATEOID:
			return "governance._cutoff_date";
		case TIMESTAMPOID:
			return "governance._cutoff_timestamp";
		default:
			return "governance._cutoff_timestamptz";
	}
}

/* the USING expression of governance_blocked, identifiers quoted */
static char *
blocked_expression(Oid relid, List *anchors)
{
	StringInfoData buf;
	char	   *rel = quote_literal_cstr(psprintf("%s.%s",
												  quote_identifier(get_namespace_name(get_rel_namespace(relid))),
												  quote_identifier(get_rel_name(relid))));
	ListCell   *lc;

	initStringInfo(&buf);
	foreach(lc, anchors)
	{
		AnchorCol  *a = lfirst(lc);
		const char *col = quote_identifier(a->name);

		appendStringInfo(&buf, "%s(%s IS NULL OR %s OPERATOR(pg_catalog.>=) (SELECT %s(%s::pg_catalog.regclass, %s::pg_catalog.name)))",
						 foreach_current_index(lc) > 0 ? " AND " : "",
						 col, col, cutoff_function(a->typid), rel,
						 quote_literal_cstr(a->name));
	}
	return buf.data;
}

/*
 * The expression as CREATE POLICY would store it: parsed and analysed
 * against the table, with search_path pinned.  Compared with equal(),
 * which ignores parse locations.
 */
Node *
blocking_analysed_expression(Oid relid, const char *text)
{
	List	   *raw = raw_parser(psprintf("SELECT WHERE %s", text), RAW_PARSE_DEFAULT);
	SelectStmt *sel = (SelectStmt *) ((RawStmt *) linitial(raw))->stmt;
	ParseState *ps = make_parsestate(NULL);
	Relation	rel = table_open(relid, AccessShareLock);
	ParseNamespaceItem *nsitem;
	Node	   *qual;
	int			nestlevel = NewGUCNestLevel();

	(void) set_config_option("search_path", "pg_catalog, pg_temp",
							 PGC_USERSET, PGC_S_SESSION, GUC_ACTION_SAVE,
							 true, 0, false);
	nsitem = addRangeTableEntryForRelation(ps, rel, AccessShareLock, NULL, false, false);
	addNSItemToQuery(ps, nsitem, false, true, true);
	qual = transformWhereClause(ps, sel->whereClause, EXPR_KIND_POLICY, "POLICY");
	assign_expr_collations(ps, qual);
	free_parsestate(ps);
	AtEOXact_GUC(true, nestlevel);
	table_close(rel, NoLock);
	return qual;
}

/* what a table's pg_policy rows say, as far as we care */
typedef struct PolicyState
{
	Oid			blocked_oid;
	int			own_policies;	/* the table's own, permissive or not */
	bool		blocked_exists;
	bool		blocked_ok;		/* restrictive, ALL, PUBLIC, expected USING */
	bool		blocked_true;	/* ... USING (true): there for governance_restricted */
	bool		open_exists;
	bool		open_ok;
	bool		restricted_exists;
	bool		restricted_ok;	/* restrictive, ALL, PUBLIC, expected USING */
	int			own_permissive; /* the table's own permissive policies */
} PolicyState;

static bool
policy_for_public_all(Form_pg_policy pol, HeapTuple tup, Relation catalog)
{
	bool		isnull;
	Datum		roles = heap_getattr(tup, Anum_pg_policy_polroles, RelationGetDescr(catalog), &isnull);
	ArrayType  *arr;

	if (isnull || pol->polcmd != '*')
		return false;
	{
	Datum	   *elems;
	int			n;

	arr = DatumGetArrayTypeP(roles);
	deconstruct_array(arr, OIDOID, sizeof(Oid), true, TYPALIGN_INT, &elems, NULL, &n);
	return n == 1 && DatumGetObjectId(elems[0]) == ACL_ID_PUBLIC;
	}
}

static Node *
policy_expr(HeapTuple tup, Relation catalog, int attnum)
{
	bool		isnull;
	Datum		d = heap_getattr(tup, attnum, RelationGetDescr(catalog), &isnull);

	return isnull ? NULL : stringToNode(TextDatumGetCString(d));
}

static bool
is_true_const(Node *n)
{
	return n && IsA(n, Const) && ((Const *) n)->consttype == BOOLOID &&
		!((Const *) n)->constisnull && DatumGetBool(((Const *) n)->constvalue);
}

static PolicyState
read_policies(Oid relid, Node *expected, Node *restricted)
{
	PolicyState st = {0};
	Relation	catalog = table_open(PolicyRelationId, AccessShareLock);
	ScanKeyData key;
	SysScanDesc scan;
	HeapTuple	tup;

	ScanKeyInit(&key, Anum_pg_policy_polrelid, BTEqualStrategyNumber, F_OIDEQ,
				ObjectIdGetDatum(relid));
	scan = systable_beginscan(catalog, PolicyPolrelidPolnameIndexId, true, NULL, 1, &key);
	while (HeapTupleIsValid(tup = systable_getnext(scan)))
	{
		Form_pg_policy pol = (Form_pg_policy) GETSTRUCT(tup);
		const char *name = NameStr(pol->polname);

		if (strcmp(name, BLOCKED_POLICY) == 0)
		{
			Node	   *check = policy_expr(tup, catalog, Anum_pg_policy_polwithcheck);

			st.blocked_exists = true;
			st.blocked_oid = pol->oid;
			st.blocked_true = is_true_const(policy_expr(tup, catalog, Anum_pg_policy_polqual));
			st.blocked_ok = !pol->polpermissive && policy_for_public_all(pol, tup, catalog) &&
				is_true_const(check) && expected &&
				equal(policy_expr(tup, catalog, Anum_pg_policy_polqual), expected);
		}
		else if (strcmp(name, RESTRICTED_POLICY) == 0)
		{
			st.restricted_exists = true;
			st.restricted_ok = !pol->polpermissive && policy_for_public_all(pol, tup, catalog) &&
				is_true_const(policy_expr(tup, catalog, Anum_pg_policy_polwithcheck)) && restricted &&
				equal(policy_expr(tup, catalog, Anum_pg_policy_polqual), restricted);
		}
		else if (strcmp(name, OPEN_POLICY) == 0)
		{
			st.open_exists = true;
			st.open_ok = pol->polpermissive && policy_for_public_all(pol, tup, catalog) &&
				is_true_const(policy_expr(tup, catalog, Anum_pg_policy_polqual)) &&
				is_true_const(policy_expr(tup, catalog, Anum_pg_policy_polwithcheck));
		}
		else
		{
			st.own_policies++;
			if (pol->polpermissive)
				st.own_permissive++;
		}
	}
	systable_endscan(scan);
	table_close(catalog, AccessShareLock);
	return st;
}

/*
 * Does the governance_blocked policy of relid read column colname?  Then
 * DROP COLUMN and ALTER COLUMN TYPE of that column must lose the policy
 * first (ddl.c), or PostgreSQL refuses them for the policy's sake; the
 * sync at the command's end makes it again over the remaining anchors.
 */
bool
blocking_policy_reads(Oid relid, const char *colname)
{
	GuardRel   *g;
	ListCell   *lc;

	if (!guard_relation_governed(relid))
		return false;
	g = guard_get(relid);
	if (!read_policies(relid, NULL, NULL).blocked_exists)
		return false;
	foreach(lc, blocking_anchor_columns(g))
		if (strcmp(((AnchorCol *) lfirst(lc))->name, colname) == 0)
			return true;
	return false;
}

/*
 * How row security was before the guard turned it on, kept in the
 * comment of governance_blocked (dumped and restored with it), so that
 * untagging gives it back and governance_open is added only where row
 * security was off: a table that denied by default, or whose only
 * policies were restrictive, is not opened by being governed.
 */
#define PRIOR_FORMAT	"pg_governance: row security before the guard: enabled=%s forced=%s"

static void
prior_state(Oid policy_oid, bool *rls, bool *force)
{
	char	   *c = OidIsValid(policy_oid) ? GetComment(policy_oid, PolicyRelationId, 0) : NULL;

	*rls = false;
	*force = false;
	if (c == NULL)
		return;
	*rls = strstr(c, "enabled=on") != NULL;
	*force = strstr(c, "forced=on") != NULL;
}

/*
 * A query on an ancestor (an inheritance parent, a partitioned table)
 * returns this table's rows under the ancestor's row security, not this
 * table's: every ancestor must block at least what this table blocks,
 * on the same anchor columns, or its blocked rows would show there.
 */
static void
check_ancestors(Oid relid, GuardRel *g, List *anchors)
{
	ListCell   *lc;
	ListCell   *a;

	foreach(lc, guard_ancestors(relid))
	{
		Oid			anc = lfirst_oid(lc);
		GuardRel   *ga = guard_get(anc);

		foreach(a, anchors)
		{
			AnchorCol  *col = lfirst(a);
			AttrNumber	attno = get_attnum(anc, col->name);
			Interval	mine;
			Interval	theirs;
			bool		ok;

			(void) life_column_period(g, col->attno, &mine, NULL);
			ok = ga->governed && ga->policy && ga->blocking && !ga->fail_closed &&
				attno != InvalidAttrNumber &&
				life_column_period(ga, attno, &theirs, NULL) &&
				DatumGetInt32(DirectFunctionCall2(interval_cmp, PointerGetDatum(&theirs),
												  PointerGetDatum(&mine))) <= 0;
			if (!ok)
				ereport(ERROR,
						(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
						 errmsg("cannot block rows of table %s: its parent %s does not block them", g->relname,
								quote_qualified_identifier(get_namespace_name(get_rel_namespace(anc)),
														   get_rel_name(anc))),
						 errdetail("A query on the parent returns this table's rows under the parent's row security; the rows whose period has ended under column %s would show there.",
								   quote_identifier(col->name)),
						 errhint("Tag the parent instead (its labels govern its partitions and children), or detach the table first.")));
		}
	}
}

/*
 * Is relid's governance_restricted policy exactly the guard's for parts,
 * under forced row security?  (An ancestor's look-alike does not count.)
 */
bool
blocking_restricted_sound(Oid relid, List *parts)
{
	Node	   *expected = blocking_analysed_expression(relid, restrict_expression(relid, parts));
	HeapTuple	ctup = SearchSysCache1(RELOID, ObjectIdGetDatum(relid));
	bool		forced;

	if (!HeapTupleIsValid(ctup))
		return false;
	forced = ((Form_pg_class) GETSTRUCT(ctup))->relrowsecurity &&
		((Form_pg_class) GETSTRUCT(ctup))->relforcerowsecurity;
	ReleaseSysCache(ctup);
	return forced && read_policies(relid, NULL, expected).restricted_ok;
}

/*
 * blocking_sync
 *		Bring a table's row security in line with its rules.  Changes
 *		nothing (and takes no stronger lock) when all is in line.
 */
void
blocking_sync(Oid relid, bool governed)
{
	GuardRel   *g = NULL;
	List	   *anchors = NIL;
	bool		want;
	char	   *expr = NULL;
	Node	   *expected = NULL;
	PolicyState st;
	HeapTuple	ctup;
	bool		rls;
	bool		force;
	bool		prior_rls;
	bool		prior_force;
	char	   *qrel;
	List	   *cmds = NIL;
	ListCell   *lc;
	List	   *rparts = blocking_installed() ? restrict_wanted(relid) : NIL;
	char	   *rexpr = NULL;
	Node	   *rexpected = NULL;

	if (governed)
	{
		g = guard_get(relid);
		/* labels that do not resolve: keep what is there (the cutoff fails closed) */
		if (g->fail_closed)
			return;
		want = g->policy != NULL && g->blocking && blocking_installed();
		if (want)
		{
			anchors = blocking_anchor_columns(g);
			want = anchors != NIL;
		}
	}
	else
		want = false;
	if (want)
	{
		check_ancestors(relid, g, anchors);
		expr = blocked_expression(relid, anchors);
	}
	/* an erased subject's kept rows (restrict.c): row security stays on for them */
	if (rparts != NIL)
	{
		restrict_check_ancestors(relid, rparts);
		rexpr = restrict_expression(relid, rparts);
		rexpected = blocking_analysed_expression(relid, rexpr);
		if (!want)
			expr = "true";
		want = true;
	}
	if (want)
		expected = blocking_analysed_expression(relid, expr);
	st = read_policies(relid, expected, rexpected);
	ctup = SearchSysCache1(RELOID, ObjectIdGetDatum(relid));
	if (!HeapTupleIsValid(ctup))
		return;
	rls = ((Form_pg_class) GETSTRUCT(ctup))->relrowsecurity;
	force = ((Form_pg_class) GETSTRUCT(ctup))->relforcerowsecurity;
	ReleaseSysCache(ctup);
	qrel = psprintf("%s.%s", quote_identifier(get_namespace_name(get_rel_namespace(relid))),
					quote_identifier(get_rel_name(relid)));
	if (st.blocked_exists)
		prior_state(st.blocked_oid, &prior_rls, &prior_force);
	else
	{
		prior_rls = rls;
		prior_force = force;
	}

	/*
	 * pg_restore (check_function_bodies off) makes the policies one by
	 * one, in name order: governance_blocked USING (true) comes before the
	 * governance_restricted it is there for.  Keep what it made; the sync
	 * after the restricted policy sees both.
	 */
	if (!want && st.blocked_true && !check_function_bodies)
		return;
	if (!want)
	{
		if (st.blocked_exists)
			cmds = lappend(cmds, psprintf("DROP POLICY %s ON %s", BLOCKED_POLICY, qrel));
		if (st.open_exists)
			cmds = lappend(cmds, psprintf("DROP POLICY %s ON %s", OPEN_POLICY, qrel));
		/* as it was before; still enabled if the table now has policies of its own */
		if (st.blocked_exists)
		{
			bool		keep_rls = prior_rls || st.own_policies > 0;

			if (keep_rls != rls || prior_force != force)
				cmds = lappend(cmds, psprintf("ALTER TABLE %s %s ROW LEVEL SECURITY, %s ROW LEVEL SECURITY", qrel,
											  prior_force ? "FORCE" : "NO FORCE",
											  keep_rls ? "ENABLE" : "DISABLE"));
		}
	}
	else
	{
		bool		want_open = !prior_rls && st.own_permissive == 0;

		if (st.blocked_exists && !st.blocked_ok)
			cmds = lappend(cmds, psprintf("DROP POLICY %s ON %s", BLOCKED_POLICY, qrel));
		if (!st.blocked_ok)
		{
			cmds = lappend(cmds, psprintf("CREATE POLICY %s ON %s AS RESTRICTIVE FOR ALL TO PUBLIC USING (%s) WITH CHECK (true)",
										  BLOCKED_POLICY, qrel, expr));
			cmds = lappend(cmds, psprintf("COMMENT ON POLICY %s ON %s IS %s", BLOCKED_POLICY, qrel,
										  quote_literal_cstr(psprintf(PRIOR_FORMAT, prior_rls ? "on" : "off",
																	  prior_force ? "on" : "off"))));
		}
		if (st.open_exists && (!st.open_ok || !want_open))
			cmds = lappend(cmds, psprintf("DROP POLICY %s ON %s", OPEN_POLICY, qrel));
		if (want_open && !(st.open_exists && st.open_ok))
			cmds = lappend(cmds, psprintf("CREATE POLICY %s ON %s AS PERMISSIVE FOR ALL TO PUBLIC USING (true) WITH CHECK (true)",
										  OPEN_POLICY, qrel));
		if (rparts != NIL && st.restricted_exists && !st.restricted_ok)
			cmds = lappend(cmds, psprintf("DROP POLICY %s ON %s", RESTRICTED_POLICY, qrel));
		if (rparts != NIL && !st.restricted_ok)
			cmds = lappend(cmds, psprintf("CREATE POLICY %s ON %s AS RESTRICTIVE FOR ALL TO PUBLIC USING (%s) WITH CHECK (true)",
										  RESTRICTED_POLICY, qrel, rexpr));
		if (!rls || !force)
			cmds = lappend(cmds, psprintf("ALTER TABLE %s ENABLE ROW LEVEL SECURITY, FORCE ROW LEVEL SECURITY", qrel));
	}
	foreach(lc, cmds)
		guard_exec(lfirst(lc));
}
