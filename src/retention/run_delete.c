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
 *	  The statement is recognised by its text, its one result relation,
 *	  and its depth: it starts at the depth run.c armed the hook at
 *	  (blocking.c counts planning, executor start and utility commands as
 *	  levels, as well as the executor's run).  Nothing else can pass for
 *	  it: code that runs while the statement is planned (the owner's
 *	  functions in extended statistics or index expressions, folded by
 *	  the planner) starts its statements deeper, whatever their text; so
 *	  does code that runs inside the statement (a foreign key's cascade).
 *	  A statement that starts after the table's rules changed (the
 *	  guard's cache entry is not the one the predicate was built from)
 *	  keeps the trigger.  The arming is a static of this backend, set only
 *	  by run.c around its own statement, used up by the first DELETE that
 *	  starts, and cleared whatever error ends it.  (A plan made ahead and
 *	  armed by its address would do as well, but a generic plan misjudges
 *	  the batch's range: on a large table it is costed past the JIT's
 *	  threshold, which loads LLVM into the backend.)
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
static const char *armed_sql = NULL;
static int	armed_depth = -1;
static uint32 armed_generation = 0;

void
run_delete_arm(Oid relid, const char *sql, uint32 generation)
{
	armed_relid = relid;
	armed_sql = sql;
	armed_depth = blocking_exec_depth();
	armed_generation = generation;
}

void
run_delete_disarm(void)
{
	armed_relid = InvalidOid;
	armed_sql = NULL;
	armed_depth = -1;
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

	/*
	 * The first DELETE to start after the arming uses it up, ours or not.
	 * (This hook is installed after blocking.c's, so it runs first: the
	 * depth is the statement's own, not yet counted for its start.)
	 */
	ours = OidIsValid(relid) && queryDesc->operation == CMD_DELETE &&
		!(eflags & EXEC_FLAG_EXPLAIN_ONLY) && blocking_exec_depth() == armed_depth &&
		queryDesc->sourceText != NULL && strcmp(queryDesc->sourceText, armed_sql) == 0;
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
