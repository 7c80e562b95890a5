/*-------------------------------------------------------------------------
 *
 * run_delete.c
 *	  A retention run's own DELETE of a batch, without the guard's BEFORE
 *	  ROW DELETE trigger.
 *
 *	  The guard's delete trigger (governance._guard_delete) refuses to
 *	  delete a row under a legal hold or inside its minimum retention.  A
 *	  run's batch DELETE (run.c, step_rows_locked) selects only rows that
 *	  are neither: its predicate is built from the same guard cache entry
 *	  the trigger reads, under the table's lock taken before the rules were
 *	  read (a hold placed meanwhile waits for the batch), with the run's
 *	  instant, which is never later than the trigger's.  For those rows the
 *	  trigger can only agree, yet PostgreSQL pays for it twice per row: the
 *	  call, and the tuple lock (with its WAL record) that any BEFORE ROW
 *	  trigger takes first.  Together they were more than half of a run's
 *	  time on a plain table (docs/performance.md, "Retention").
 *
 *	  So, for that one statement, this ExecutorStart hook gives the result
 *	  relation a copy of its trigger descriptor that says it has no BEFORE
 *	  ROW DELETE trigger, when the guard's are the only ones it has (any
 *	  other, even disabled, and nothing changes; a run leaves tables with
 *	  their owner's triggers alone anyway, run.c's owner_code_problem).
 *	  AFTER triggers (foreign keys) fire as before.
 *
 *	  The statement is recognised by its plan: run.c plans it first (a
 *	  generic plan, so that the plan the executor gets is that one) and
 *	  arms this hook with that PlannedStmt's address.  Nothing else can
 *	  pass for it: code that runs while the plan is made (the owner's
 *	  functions in extended statistics or index expressions, folded by
 *	  the planner) runs its own statements, with their own plans; so does
 *	  code that runs inside the statement (a foreign key's cascade).  A
 *	  plan made again (an invalidation between planning and execution) is
 *	  not recognised either, and keeps the trigger; so does a statement
 *	  that starts after the table's rules changed (the guard's cache
 *	  entry is not the one the predicate was built from).  The arming is a
 *	  static of this backend, set only by run.c around its own statement,
 *	  used up by the first DELETE that starts, and cleared whatever error
 *	  ends it.
 *
 *-------------------------------------------------------------------------
 */
#include "pg_governance.h"

#include "catalog/pg_trigger.h"
#include "commands/trigger.h"
#include "executor/executor.h"
#include "utils/memutils.h"
#include "utils/rel.h"

static ExecutorStart_hook_type prev_ExecutorStart = NULL;

/*
 * The armed statement: its relation, its plan, and the generation of the
 * guard's cache entry its predicate was built from; InvalidOid when not
 * armed.
 */
static Oid	armed_relid = InvalidOid;
static PlannedStmt *armed_stmt = NULL;
static uint32 armed_generation = 0;

void
run_delete_arm(Oid relid, PlannedStmt *stmt, uint32 generation)
{
	armed_relid = relid;
	armed_stmt = stmt;
	armed_generation = generation;
}

void
run_delete_disarm(void)
{
	armed_relid = InvalidOid;
	armed_stmt = NULL;
}

/*
 * Are the table's rules still those the predicate was built from?  The
 * executor has now opened the table and its indexes, taking in the
 * invalidations committed meanwhile (a policy loaded again, a parameter
 * set, a column tagged): if the guard's entry was rebuilt since, the
 * trigger stays and checks every row by the rules as they are now.
 */
static bool
rules_unchanged(Oid relid, uint32 generation)
{
	GuardRel   *g = guard_lookup(relid);	/* NULL: invalidated, not rebuilt yet */

	return g != NULL && g->generation == generation && !g->fail_closed;
}

/* Are all of the BEFORE ROW DELETE triggers of this descriptor the guard's? */
static bool
only_guard_before_delete(TriggerDesc *td)
{
	int			i;

	for (i = 0; i < td->numtriggers; i++)
	{
		Trigger    *t = &td->triggers[i];
		FmgrInfo	flinfo;

		if (!TRIGGER_TYPE_MATCHES(t->tgtype, TRIGGER_TYPE_ROW, TRIGGER_TYPE_BEFORE,
								  TRIGGER_TYPE_DELETE))
			continue;
		fmgr_info(t->tgfoid, &flinfo);
		if (flinfo.fn_addr != governance_guard_delete)
			return false;
	}
	return true;
}

static void
drop_guard_before_delete(ResultRelInfo *rri, EState *estate)
{
	TriggerDesc *td = rri->ri_TrigDesc;
	MemoryContext old;

	if (td == NULL || !td->trig_delete_before_row || !only_guard_before_delete(td))
		return;
	old = MemoryContextSwitchTo(estate->es_query_cxt);
	td = CopyTriggerDesc(td);
	MemoryContextSwitchTo(old);
	td->trig_delete_before_row = false;
	rri->ri_TrigDesc = td;
	ereport(DEBUG1,
			(errmsg_internal("pg_governance: retention batch of %s deleted without the guard's row trigger",
							 RelationGetRelationName(rri->ri_RelationDesc))));
}

static void
run_delete_ExecutorStart(QueryDesc *queryDesc, int eflags)
{
	Oid			relid = armed_relid;
	uint32		generation = armed_generation;
	bool		ours;

	/* the first DELETE to start after the arming uses it up, ours or not */
	ours = OidIsValid(relid) && queryDesc->operation == CMD_DELETE &&
		!(eflags & EXEC_FLAG_EXPLAIN_ONLY) && queryDesc->plannedstmt == armed_stmt;
	if (OidIsValid(relid) && queryDesc->operation == CMD_DELETE)
		run_delete_disarm();

	if (prev_ExecutorStart)
		prev_ExecutorStart(queryDesc, eflags);
	else
		standard_ExecutorStart(queryDesc, eflags);

	if (ours && list_length(queryDesc->estate->es_opened_result_relations) == 1 &&
		!queryDesc->plannedstmt->hasModifyingCTE)
	{
		ResultRelInfo *rri = linitial(queryDesc->estate->es_opened_result_relations);

		if (RelationGetRelid(rri->ri_RelationDesc) == relid && rules_unchanged(relid, generation))
			drop_guard_before_delete(rri, queryDesc->estate);
	}
}

void
run_delete_init(void)
{
	prev_ExecutorStart = ExecutorStart_hook;
	ExecutorStart_hook = run_delete_ExecutorStart;
}
