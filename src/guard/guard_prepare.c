/*-------------------------------------------------------------------------
 *
 * guard_prepare.c
 *	  The executor hook that prepares the guard's CHECK constraint of each
 *	  statement's result relations from the per-relation cache.
 *
 * PostgreSQL 15 builds the expression states of a result relation's CHECK
 * constraints at the first row of every statement (ExecRelCheck):
 * stringToNode() of pg_constraint.conbin, expression_planner(),
 * ExecInitExpr().  For the guard's constraint, a function call over a few
 * columns, that is about 20,000 instructions, some 12% of a whole
 * single-row INSERT.  And for every row, the expression deforms each
 * argument column (for INSERT ... SELECT, a heap tuple up to the last
 * tagged column) and calls the function.
 *
 * This hook runs after ExecutorStart and fills
 * ResultRelInfo.ri_ConstraintExprs of the statement's result relations
 * before ExecRelCheck would: the guard's constraint, parsed and planned
 * once per cache entry, gets an expression state from guard.c that does
 * exactly what governance._guard_row does on that relation's rows, reading
 * only the columns a row needs looked at; the table's other CHECK
 * constraints are prepared at their first row exactly as ExecRelCheck
 * prepares them.  The numbers are in the README (Performance).
 *
 * Whatever this hook does not cover takes PostgreSQL's own path, with the
 * same result: relations whose rules are not cached yet (the first
 * statement of a session, the first after an invalidation), partitions
 * reached by tuple routing (their ResultRelInfo is made after
 * ExecutorStart), and COPY (no executor hooks; it prepares once per COPY).
 *
 *-------------------------------------------------------------------------
 */
#include "pg_governance.h"

#include "catalog/pg_class.h"
#include "executor/executor.h"
#include "nodes/nodes.h"
#include "optimizer/optimizer.h"
#include "utils/memutils.h"
#include "utils/rel.h"

static ExecutorStart_hook_type prev_ExecutorStart = NULL;

/* Is this parsed constraint a call of governance._guard_row? */
static bool
is_guard_call(Node *node)
{
	FmgrInfo	flinfo;

	if (node == NULL || !IsA(node, FuncExpr))
		return false;
	fmgr_info(((FuncExpr *) node)->funcid, &flinfo);
	return flinfo.fn_addr == governance_guard_row;
}

/*
 * Parse and plan, once per cache entry, the relation's CHECK constraints
 * that call the guard.
 */
static void
learn_guard_checks(GuardRel *g, Relation rel)
{
	TupleConstr *constr = rel->rd_att->constr;
	MemoryContext old = MemoryContextSwitchTo(g->cxt);
	int			i;

	g->nchecks = 0;
	g->check_bin = palloc0(sizeof(char *) * constr->num_check);
	g->check_expr = palloc0(sizeof(FuncExpr *) * constr->num_check);
	for (i = 0; i < constr->num_check; i++)
	{
		const char *bin = constr->check[i].ccbin;
		Node	   *node;

		if (strncmp(bin, "{FUNCEXPR ", 10) != 0)
			continue;
		node = stringToNode(bin);
		if (!is_guard_call(node))
			continue;
		node = (Node *) expression_planner((Expr *) node);
		if (!IsA(node, FuncExpr))
			continue;
		g->check_bin[g->nchecks] = pstrdup(bin);
		g->check_expr[g->nchecks] = (FuncExpr *) node;
		g->nchecks++;
	}
	g->checks_known = true;
	MemoryContextSwitchTo(old);
}

static FuncExpr *
cached_guard_check(GuardRel *g, const char *bin)
{
	int			i;

	for (i = 0; i < g->nchecks; i++)
		if (strcmp(g->check_bin[i], bin) == 0)
			return g->check_expr[i];
	return NULL;
}

/*
 * The table's other CHECK constraints: prepared at their first row, as
 * ExecRelCheck would, so that a statement that writes no row neither pays
 * for them nor meets their errors (say, a function it may not execute).
 */
typedef struct LazyCheck
{
	const char *bin;			/* conbin, copied from the relcache */
	EState	   *estate;
	ExprState  *prepared;
} LazyCheck;

static Datum
lazy_check_eval(ExprState *state, ExprContext *econtext, bool *isnull)
{
	LazyCheck  *lc = (LazyCheck *) state->evalfunc_private;

	if (lc->prepared == NULL)
	{
		MemoryContext old = MemoryContextSwitchTo(lc->estate->es_query_cxt);

		lc->prepared = ExecPrepareExpr(stringToNode(lc->bin), lc->estate);
		MemoryContextSwitchTo(old);
	}
	return ExecEvalExpr(lc->prepared, econtext, isnull);
}

static ExprState *
lazy_check_state(const char *bin, EState *estate)
{
	ExprState  *state = makeNode(ExprState);
	LazyCheck  *lc = palloc0(sizeof(LazyCheck));

	lc->bin = pstrdup(bin);
	lc->estate = estate;
	state->evalfunc = lazy_check_eval;
	state->evalfunc_private = lc;
	return state;
}

/* Fill ri_ConstraintExprs of one result relation, if it has a guard. */
static void
prepare_result_relation(ResultRelInfo *rri, EState *estate)
{
	Relation	rel = rri->ri_RelationDesc;
	TupleConstr *constr = rel->rd_att->constr;
	GuardRel   *g;
	ExprState **exprs;
	MemoryContext old;
	int			i;

	/* routed-to tables check their rows, never the partitioned root */
	if (rel->rd_rel->relkind == RELKIND_PARTITIONED_TABLE)
		return;
	if (constr == NULL || constr->num_check == 0 || rri->ri_ConstraintExprs != NULL)
		return;
	/* a damaged relcache entry: let ExecRelCheck report it */
	if (constr->num_check != rel->rd_rel->relchecks)
		return;
	g = guard_lookup(RelationGetRelid(rel));
	if (g == NULL)
		return;
	if (!g->checks_known)
		learn_guard_checks(g, rel);
	if (g->nchecks == 0)
		return;

	old = MemoryContextSwitchTo(estate->es_query_cxt);
	exprs = palloc(sizeof(ExprState *) * constr->num_check);
	for (i = 0; i < constr->num_check; i++)
	{
		FuncExpr   *planned = cached_guard_check(g, constr->check[i].ccbin);

		if (planned)
			exprs[i] = guard_check_state(RelationGetRelid(rel), planned);
		else
			exprs[i] = lazy_check_state(constr->check[i].ccbin, estate);
	}
	rri->ri_ConstraintExprs = exprs;
	MemoryContextSwitchTo(old);
	ereport(DEBUG1,
			(errmsg_internal("pg_governance: guard of %s prepared from the cache", g->relname)));
}

static void
guard_ExecutorStart(QueryDesc *queryDesc, int eflags)
{
	ListCell   *lc;
	CmdType		op;

	if (prev_ExecutorStart)
		prev_ExecutorStart(queryDesc, eflags);
	else
		standard_ExecutorStart(queryDesc, eflags);

	if (eflags & EXEC_FLAG_EXPLAIN_ONLY)
		return;
	/* only INSERT, UPDATE and MERGE check constraints */
	op = queryDesc->plannedstmt->commandType;
	if (op != CMD_INSERT && op != CMD_UPDATE && op != CMD_MERGE &&
		!queryDesc->plannedstmt->hasModifyingCTE)
		return;
	foreach(lc, queryDesc->estate->es_opened_result_relations)
		prepare_result_relation(lfirst(lc), queryDesc->estate);
}

void
guard_prepare_init(void)
{
	prev_ExecutorStart = ExecutorStart_hook;
	ExecutorStart_hook = guard_ExecutorStart;
}
