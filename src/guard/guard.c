/*-------------------------------------------------------------------------
 *
 * guard.c
 *	  Enforcement on writes and deletes of governed tables, from the rules
 *	  compiled by guard_cache.c:
 *
 *	  governance._guard_row(tableoid, VARIADIC "any")  CHECK constraint:
 *		never-store (GV002) and localization (GV001) on INSERT, UPDATE and
 *		COPY.  A CHECK constraint, unlike a BEFORE ROW trigger, keeps COPY's
 *		multi-row insert, and partitions inherit it (test/bench measures it).
 *	  governance._guard_delete()	BEFORE DELETE row trigger: minimum
 *		retention (GV003) and legal holds (GV005).
 *	  governance._guard_update()	BEFORE UPDATE row trigger: nulling
 *		retained data or moving an anchor earlier (GV003/GV005).
 *	  governance._guard_truncate()	BEFORE TRUNCATE statement trigger, and
 *		guard_probe() for DROP TABLE / DROP COLUMN: refuses while rows are
 *		retained or held.
 *
 * Every error names table, column, category, policy, rule id and the
 * source clause, and says what to do.
 *
 *-------------------------------------------------------------------------
 */
#include "pg_governance.h"

#include "access/htup_details.h"
#include "access/table.h"
#include "access/tableam.h"
#include "catalog/objectaccess.h"
#include "catalog/pg_type.h"
#include "commands/trigger.h"
#include "executor/spi.h"
#include "executor/tuptable.h"
#include "nodes/execnodes.h"
#include "miscadmin.h"
#include "nodes/primnodes.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/date.h"
#include "utils/datum.h"
#include "utils/datetime.h"
#include "utils/guc.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"
#include "utils/snapmgr.h"
#include "utils/timestamp.h"
#include "utils/memutils.h"

PG_FUNCTION_INFO_V1(governance_guard_row);
PG_FUNCTION_INFO_V1(governance_guard_delete);
PG_FUNCTION_INFO_V1(governance_guard_update);
PG_FUNCTION_INFO_V1(governance_guard_truncate);
PG_FUNCTION_INFO_V1(governance_guard_write);
PG_FUNCTION_INFO_V1(governance_noop_trigger);

/* ------------------------------------------------------------ errors */

static void pg_attribute_noreturn()
guard_fail_closed(GuardRel *g)
{
	ereport(ERROR,
			(errcode(ERRCODE_GV_INVALID_LABEL),
			 errmsg("writes to table %s are refused until its governance labels resolve", g->relname),
			 errdetail("%s", g->fail_closed),
			 errhint("Load the missing policy (governance.load_bundled_policy or load_policy) or fix the label with governance.tag/governance.bind.")));
}

static void pg_attribute_noreturn()
guard_localization_error(GuardRel *g, const GuardLoc *loc, const char *region,
						 const char *where)
{
	ereport(ERROR,
			(errcode(ERRCODE_GV_LOCALIZATION),
			 errmsg("%s of table %s is stored in region %s, outside jurisdiction \"%s\"",
					where, g->relname, region, loc->jurisdiction),
			 errdetail("Table %s, column %s, category %s, policy %s, rule %s: \"%s\".",
					   g->relname, loc->column, loc->rule.category, g->policy,
					   loc->rule.rule_id, loc->rule.source),
			 errhint("Keep this data in a region inside \"%s\" (SELECT * FROM governance.jurisdiction WHERE policy = '%s'), or remove the tag if the column does not hold this category.",
					 loc->jurisdiction, g->policy)));
}

/* a row's region is unknown: fail closed rather than guess */
static void pg_attribute_noreturn()
guard_region_unknown_error(GuardRel *g, const char *where)
{
	const GuardLoc *loc = linitial(g->localizations);

	ereport(ERROR,
			(errcode(ERRCODE_GV_LOCALIZATION),
			 errmsg("%s of table %s is stored in an unknown region, and jurisdiction \"%s\" is required",
					where, g->relname, loc->jurisdiction),
			 errdetail("Table %s, column %s, category %s, policy %s, rule %s: \"%s\". %s",
					   g->relname, loc->column, loc->rule.category, g->policy,
					   loc->rule.rule_id, loc->rule.source,
					   g->region_attno != InvalidAttrNumber
					   ? "The row's region column is NULL, and neither the table's tablespace nor the database has a region."
					   : "The table has no region column, and neither its tablespace nor the database has a region."),
			 errhint("Record where the data is stored with governance.set_database_region() or governance.set_region() for a tablespace, or tag a column holding each row's region with 'region'.")));
}

/* a row whose region column is NULL is stored where the table is */
static void
guard_null_region(GuardRel *g)
{
	if (g->null_region_unknown)
		guard_region_unknown_error(g, "a row");
	if (g->null_region_violation)
		guard_localization_error(g, g->null_region_violation, g->storage_region,
								 psprintf("a row without a region (stored by its %s)",
										  g->storage_region_from));
}

/* ------------------------------------------------------------ CHECK */

/*
 * What a row of one relation needs looked at, for one guard constraint:
 * found from the Vars of the CHECK expression itself, so that renaming a
 * column or a dump/restore (which may renumber attributes) keeps the
 * mapping right.  Only never-store columns (must be NULL) and the region
 * column matter; every other argument is there in case a later policy
 * makes its category never-store.  Rebuilt whenever the relation's rules
 * are.  Kept per call site: in fn_extra for the SQL function, in the
 * expression state for the direct evaluation (guard_check_state).
 */
typedef struct GuardRowMemo
{
	Oid			relid;
	GuardRel   *g;
	uint32		generation;
	bool		check_rows;		/* false: every row passes (not governed) */
	int			nnever;
	int		   *never_arg;		/* function argument that must be NULL */
	AttrNumber *never_attno;	/* ... and its column */
	GuardColumn **never_col;
	int			region_arg;		/* argument to check as the region, or -1 */
	AttrNumber	region_attno;
} GuardRowMemo;

/*
 * The column each argument of a guard call reads (0: not a user column;
 * argument 0 is tableoid), in the current memory context.
 */
static AttrNumber *
guard_call_attnos(FuncExpr *expr, int nargs)
{
	AttrNumber *attnos = palloc0(sizeof(AttrNumber) * Max(nargs, 1));
	ListCell   *lc;
	int			i = 0;

	if (expr && IsA(expr, FuncExpr))
		foreach(lc, expr->args)
		{
			Node	   *arg = lfirst(lc);

			if (i >= nargs)
				break;
			if (i > 0 && IsA(arg, Var) && ((Var *) arg)->varattno > 0)
				attnos[i] = ((Var *) arg)->varattno;
			i++;
		}
	return attnos;
}

static void
memo_plan(GuardRowMemo *memo, const AttrNumber *attnos, int nargs, MemoryContext cxt)
{
	GuardRel   *g = memo->g;
	int			i;

	memo->never_arg = MemoryContextAlloc(cxt, sizeof(int) * Max(nargs, 1));
	memo->never_attno = MemoryContextAlloc(cxt, sizeof(AttrNumber) * Max(nargs, 1));
	memo->never_col = MemoryContextAlloc(cxt, sizeof(GuardColumn *) * Max(nargs, 1));
	memo->nnever = 0;
	memo->region_arg = -1;
	memo->region_attno = InvalidAttrNumber;
	for (i = 1; i < nargs; i++)
	{
		GuardColumn *col = attnos[i] > 0 ? guard_column(g, attnos[i]) : NULL;

		if (col && col->never_store)
		{
			memo->never_arg[memo->nnever] = i;
			memo->never_attno[memo->nnever] = attnos[i];
			memo->never_col[memo->nnever++] = col;
		}
		else if (col && col->region && g->localizations && memo->region_arg < 0)
		{
			memo->region_arg = i;
			memo->region_attno = attnos[i];
		}
	}
	memo->check_rows = g->governed && g->policy != NULL;
}

static GuardRowMemo *
memo_rebuild(GuardRowMemo *memo, MemoryContext cxt, Oid relid,
			 const AttrNumber *attnos, int nargs)
{
	GuardRel   *g = guard_get(relid);

	if (memo == NULL)
		memo = MemoryContextAllocZero(cxt, sizeof(GuardRowMemo));
	else
	{
		pfree(memo->never_arg);
		pfree(memo->never_attno);
		pfree(memo->never_col);
	}
	memo->relid = relid;
	memo->g = g;
	memo->generation = g->generation;
	memo_plan(memo, attnos, nargs, cxt);
	return memo;
}

/* Is the memo of a call site there and still right for relid? */
static inline bool
memo_current(GuardRowMemo *memo, Oid relid)
{
	return likely(memo && memo->relid == relid && memo->g->valid &&
				  memo->generation == memo->g->generation);
}

/*
 * A region value of at most REGION_MAX_LEN bytes (trailing char(n) padding
 * trimmed) as one integer, its length in the top byte: the memo compares
 * one word per remembered value.  Empty slots are 0, which no key is.
 */
StaticAssertDecl(REGION_MAX_LEN < 8, "a region key holds the bytes and the length");

static inline uint64
region_key(const char *raw, int len)
{
	/* 0x80: never 0, the value of an empty memo slot */
	uint64		key = (uint64) (len | 0x80) << 56;

	/* unrolled: this runs for every row */
	switch (len)
	{
		case 6:
			key |= (uint64) (unsigned char) raw[5] << 40;
			/* FALLTHROUGH */
		case 5:
			key |= (uint64) (unsigned char) raw[4] << 32;
			/* FALLTHROUGH */
		case 4:
			key |= (uint64) (unsigned char) raw[3] << 24;
			/* FALLTHROUGH */
		case 3:
			key |= (uint64) (unsigned char) raw[2] << 16;
			/* FALLTHROUGH */
		case 2:
			key |= (uint64) (unsigned char) raw[1] << 8;
			/* FALLTHROUGH */
		case 1:
			key |= (uint64) (unsigned char) raw[0];
			break;
		default:
			break;
	}
	return key;
}

static inline int
region_trimmed_len(const char *raw, int len)
{
	while (len > 0 && raw[len - 1] == ' ')	/* char(n) padding */
		len--;
	return len;
}

static inline bool
region_memo_hit(const GuardRel *g, uint64 key)
{
	int			i;
	bool		hit = false;

	/* no early exit: the loop runs as often for every row, well predicted */
	for (i = 0; i < g->nregions; i++)
		hit |= (g->region_key[i] == key);
	return hit;
}

static void
region_memo_add(GuardRel *g, uint64 key)
{
	int			slot;

	if (g->nregions < GUARD_REGION_MEMO)
		slot = g->nregions++;
	else
	{
		slot = g->next_region;
		g->next_region = (slot + 1) % GUARD_REGION_MEMO;
	}
	g->region_key[slot] = key;
}

/*
 * Is a region column value (raw bytes, char(n) padding trimmed, not yet
 * seen) inside every localization rule?  Raises 22P02 for a value that is
 * no region and GV001 for one outside; remembers the value when it passes.
 */
static void
check_region_text(GuardRel *g, const char *raw, int len)
{
	char		buf[REGION_MAX_LEN + 1];
	char		norm[REGION_MAX_LEN + 1];
	char	   *msg;
	int			pos;
	ListCell   *lc;

	if (len > REGION_MAX_LEN)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_TEXT_REPRESENTATION),
				 errmsg("invalid region \"%s\" in the region column of table %s",
						pnstrdup(raw, len), g->relname),
				 errdetail("At position %d: too long.", REGION_MAX_LEN + 1),
				 errhint("A region is an ISO 3166-1 alpha-2 country code, optionally followed by an ISO 3166-2 subdivision, such as \"CN\" or \"CN-SH\".")));
	memcpy(buf, raw, len);
	buf[len] = '\0';
	if (!region_normalize(buf, norm, &msg, &pos))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_TEXT_REPRESENTATION),
				 errmsg("invalid region \"%s\" in the region column of table %s", buf, g->relname),
				 errdetail("At position %d: %s", pos, msg),
				 errhint("A region is an ISO 3166-1 alpha-2 country code, optionally followed by an ISO 3166-2 subdivision, such as \"CN\" or \"CN-SH\".")));
	foreach(lc, g->localizations)
	{
		GuardLoc   *loc = lfirst(lc);

		if (!guard_region_allowed(loc, norm))
			guard_localization_error(g, loc, norm, "a row");
	}
	region_memo_add(g, region_key(raw, len));
}

static pg_attribute_always_inline void
check_region_value(GuardRel *g, Datum value)
{
	struct varlena *v = (struct varlena *) DatumGetPointer(value);
	text	   *t = (VARATT_IS_EXTERNAL(v) || VARATT_IS_COMPRESSED(v))
		? (text *) PG_DETOAST_DATUM_PACKED(value) : (text *) v;
	const char *raw = VARDATA_ANY(t);
	int			len = region_trimmed_len(raw, VARSIZE_ANY_EXHDR(t));

	if (len > REGION_MAX_LEN || !region_memo_hit(g, region_key(raw, len)))
		check_region_text(g, raw, len);
	if ((Pointer) t != DatumGetPointer(value))
		pfree(t);
}

static void pg_attribute_noreturn()
never_store_error(GuardRel *g, GuardColumn *col)
{
	ereport(ERROR,
			(errcode(ERRCODE_GV_NEVER_STORE),
			 errmsg("column \"%s\" of table %s must never be stored", col->name, g->relname),
			 errdetail("Table %s, column %s, category %s, policy %s, rule %s: \"%s\".",
					   g->relname, col->name, col->never_store->category, g->policy,
					   col->never_store->rule_id, col->never_store->source),
			 errhint("Leave the column NULL: this data may be used for the transaction but not kept.")));
}

/*
 * What holds for every row of the relation before its columns are looked
 * at.  Returns false when rows are let through unchecked.
 */
static inline bool
guard_row_begin(GuardRowMemo *memo)
{
	GuardRel   *g = memo->g;

	if (!memo->check_rows)
		return false;
	if (unlikely(g->fail_closed))
	{
		/* a restore loads rows before any policy: see README, dump/restore */
		if (g->restore_window && !check_function_bodies)
			return false;
		guard_fail_closed(g);
	}
	if (unlikely(g->storage_violation))
		guard_localization_error(g, g->storage_violation, g->storage_region,
								 psprintf("data (stored by its %s)", g->storage_region_from));
	if (unlikely(g->region_unknown))
		guard_region_unknown_error(g, "a row");
	return true;
}

/*
 * governance._guard_row must be executable by every role that writes a
 * governed table (a CHECK constraint runs with the writer's rights), so a
 * direct call is refused unless the caller may write the table, or an
 * ancestor through which its rows are routed: it learns nothing and locks
 * nothing it could not otherwise.
 */
static void
guard_row_check_caller(Oid relid)
{
	Oid			user = GetUserId();
	ListCell   *lc;

	if (pg_class_aclmask(relid, user, ACL_INSERT | ACL_UPDATE, ACLMASK_ANY) != 0)
		return;
	foreach(lc, guard_ancestors(relid))
		if (pg_class_aclmask(lfirst_oid(lc), user, ACL_INSERT | ACL_UPDATE, ACLMASK_ANY) != 0)
			return;
	ereport(ERROR,
			(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
			 errmsg("permission denied for table %s", get_rel_name(relid)),
			 errdetail("governance._guard_row is the guard constraint of governed tables; it checks rows written by a role that may write them."),
			 errhint("Write the table instead of calling the guard.")));
}

/*
 * Every argument that reads a column must have that column's type: the
 * guard reads never-store and region values as what their columns hold,
 * and a direct call could pass anything.
 */
static void
guard_row_check_argtypes(FunctionCallInfo fcinfo, Oid relid, const AttrNumber *attnos)
{
	int			i;

	for (i = 1; i < PG_NARGS(); i++)
	{
		Oid			argtype = get_fn_expr_argtype(fcinfo->flinfo, i);

		if (attnos[i] <= 0 || argtype != get_atttype(relid, attnos[i]))
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("argument %d of governance._guard_row is not column %d of table %s",
							i + 1, attnos[i], get_rel_name(relid)),
					 errdetail("governance._guard_row is the guard constraint of governed tables; its arguments are the table's own columns."),
					 errhint("Write the table instead of calling the guard.")));
	}
}

/*
 * governance._guard_row(tableoid, VARIADIC "any") RETURNS boolean
 *		The CHECK constraint of a governed table.  Returns true or raises.
 */
Datum
governance_guard_row(PG_FUNCTION_ARGS)
{
	Oid			relid = PG_GETARG_OID(0);
	GuardRowMemo *memo;
	int			i;

	/*
	 * PostgreSQL 15's logical replication apply checks constraints on a
	 * slot whose tableoid is not set.  There, and only there, the guard's
	 * replica trigger (governance._guard_write, fired on apply) checks the
	 * row; anywhere else a row of no known table is refused.
	 */
	if (unlikely(!OidIsValid(relid)))
	{
		if (SessionReplicationRole == SESSION_REPLICATION_ROLE_REPLICA)
			PG_RETURN_BOOL(true);
		ereport(ERROR,
				(errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
				 errmsg("governance._guard_row was called without the table of the row"),
				 errdetail("Its first argument is the tableoid of the row being written."),
				 errhint("It is the guard constraint of governed tables; write the table instead.")));
	}
	memo = (GuardRowMemo *) fcinfo->flinfo->fn_extra;
	if (!memo_current(memo, relid))
	{
		AttrNumber *attnos;

		guard_row_check_caller(relid);
		attnos = guard_call_attnos((FuncExpr *) fcinfo->flinfo->fn_expr, PG_NARGS());
		guard_row_check_argtypes(fcinfo, relid, attnos);

		memo = memo_rebuild(memo, fcinfo->flinfo->fn_mcxt, relid, attnos, PG_NARGS());
		pfree(attnos);
		fcinfo->flinfo->fn_extra = memo;
	}
	if (!guard_row_begin(memo))
		PG_RETURN_BOOL(true);
	for (i = 0; i < memo->nnever; i++)
		if (!PG_ARGISNULL(memo->never_arg[i]))
			never_store_error(memo->g, memo->never_col[i]);
	if (memo->region_arg >= 0)
	{
		if (PG_ARGISNULL(memo->region_arg))
			guard_null_region(memo->g);
		else
			check_region_value(memo->g, PG_GETARG_DATUM(memo->region_arg));
	}
	PG_RETURN_BOOL(true);
}

/*
 * Direct evaluation of a guard constraint, for guard_prepare.c.
 *
 * The expression state it returns does what the CHECK expression
 * governance._guard_row(tableoid, col, ...) does on a row of relid, with
 * the same memo and the same errors, but reads only the columns a row
 * needs looked at, straight from the slot: the executor would otherwise
 * deform every argument column of every row (for INSERT ... SELECT, a
 * heap tuple up to the last tagged column) and make a function call.
 */
typedef struct GuardCheckState
{
	Oid			relid;
	Oid			funcid;			/* governance._guard_row */
	int			nargs;
	AttrNumber *attnos;			/* what each argument reads */
	MemoryContext cxt;
	bool		ready;			/* first row's checks done */
	GuardRowMemo *memo;
} GuardCheckState;

/*
 * At the first row, what ExecInitFunc checks before it calls a function:
 * the right to execute governance._guard_row, and the object access hook.
 */
static void
guard_check_first_row(GuardCheckState *cs)
{
	AclResult	aclresult;

	aclresult = pg_proc_aclcheck(cs->funcid, GetUserId(), ACL_EXECUTE);
	if (aclresult != ACLCHECK_OK)
		aclcheck_error(aclresult, OBJECT_FUNCTION, get_func_name(cs->funcid));
	InvokeFunctionExecuteHook(cs->funcid);
	cs->ready = true;
}

/*
 * The heap tuple to read attno from, when the slot holds one and has not
 * deformed that far: reading it directly spares deforming every column
 * before attno.  NULL: use the slot's own accessors.
 */
static inline HeapTuple
row_heap_tuple(TupleTableSlot *slot, AttrNumber attno)
{
	if (attno > slot->tts_nvalid &&
		(TTS_IS_HEAPTUPLE(slot) || TTS_IS_BUFFERTUPLE(slot)))
		return ((HeapTupleTableSlot *) slot)->tuple;
	return NULL;
}

static inline Datum
row_getattr(TupleTableSlot *slot, AttrNumber attno, bool *isnull)
{
	HeapTuple	tuple = row_heap_tuple(slot, attno);

	if (tuple)
		return heap_getattr(tuple, attno, slot->tts_tupleDescriptor, isnull);
	return slot_getattr(slot, attno, isnull);
}

static inline bool
row_attisnull(TupleTableSlot *slot, AttrNumber attno)
{
	HeapTuple	tuple = row_heap_tuple(slot, attno);

	if (tuple)
		return heap_attisnull(tuple, attno, slot->tts_tupleDescriptor);
	return slot_attisnull(slot, attno);
}

static Datum
guard_check_eval(ExprState *state, ExprContext *econtext, bool *isnull)
{
	GuardCheckState *cs = (GuardCheckState *) state->evalfunc_private;
	TupleTableSlot *slot = econtext->ecxt_scantuple;
	GuardRowMemo *memo;
	int			i;

	*isnull = false;
	if (unlikely(!cs->ready))
		guard_check_first_row(cs);
	memo = cs->memo;
	if (!memo_current(memo, cs->relid))
		memo = cs->memo = memo_rebuild(memo, cs->cxt, cs->relid, cs->attnos, cs->nargs);
	if (!guard_row_begin(memo))
		return BoolGetDatum(true);
	for (i = 0; i < memo->nnever; i++)
		if (!row_attisnull(slot, memo->never_attno[i]))
			never_store_error(memo->g, memo->never_col[i]);
	if (memo->region_attno != InvalidAttrNumber)
	{
		bool		null;
		Datum		value = row_getattr(slot, memo->region_attno, &null);

		if (null)
			guard_null_region(memo->g);
		else
			check_region_value(memo->g, value);
	}
	return BoolGetDatum(true);
}

/*
 * An expression state evaluating the guard constraint expr (a planned
 * FuncExpr of governance._guard_row) on rows of relid, allocated in the
 * current memory context, which must live as long as the statement.  It
 * keeps nothing of expr, which may be freed meanwhile.
 */
ExprState *
guard_check_state(Oid relid, FuncExpr *expr)
{
	ExprState  *state = makeNode(ExprState);
	GuardCheckState *cs = palloc0(sizeof(GuardCheckState));

	cs->relid = relid;
	cs->funcid = expr->funcid;
	cs->nargs = list_length(expr->args);
	cs->attnos = guard_call_attnos(expr, cs->nargs);
	cs->cxt = CurrentMemoryContext;
	state->expr = NULL;
	state->evalfunc = guard_check_eval;
	state->evalfunc_private = cs;
	return state;
}

/* ------------------------------------------------------------ retention */

/*
 * The instant an anchor stands for.  A date or a timestamp without time
 * zone is read as UTC, not in the session's TimeZone: otherwise a session
 * could move every clock by up to a day by setting its own.
 */
static TimestampTz
anchor_to_timestamptz(Datum value, Oid typid)
{
	switch (typid)
	{
		case DATEOID:
			/* timestamp and timestamptz count the same microseconds: UTC */
			return (TimestampTz) DatumGetTimestamp(DirectFunctionCall1(date_timestamp, value));
		case TIMESTAMPOID:
			return (TimestampTz) DatumGetTimestamp(value);
		default:
			return DatumGetTimestampTz(value);
	}
}

/*
 * An infinite anchor stops the clock: the retention run sets a NOT NULL
 * anchor to infinity when it anonymizes a row.  Setting one is refused
 * like clearing it while the row is retained.
 */
static bool
anchor_is_infinite(Datum value, Oid typid)
{
	switch (typid)
	{
		case DATEOID:
			return DATE_NOT_FINITE(DatumGetDateADT(value));
		case TIMESTAMPOID:
			return TIMESTAMP_NOT_FINITE(DatumGetTimestamp(value));
		default:
			return TIMESTAMP_NOT_FINITE(DatumGetTimestampTz(value));
	}
}

typedef struct Retained
{
	char		why;			/* 'H' hold, 'M' minimum retention, 'B' blocked, 0 none */
	GuardMin   *min;
	GuardLife  *block;
	char	   *subject;
	char	   *hold_id;
	TimestampTz until;
} Retained;

/* Is this row still under a legal hold or its minimum retention? */
static Retained
row_retained(GuardRel *g, HeapTuple tup, TupleDesc desc)
{
	Retained	r = {0};
	ListCell   *lc;
	bool		isnull;

	if (g->held_subjects && g->subject_attno != InvalidAttrNumber)
	{
		Datum		v = heap_getattr(tup, g->subject_attno, desc, &isnull);

		if (!isnull)
		{
			int			i;

			/*
			 * Compared with the column type's own equality, with the held
			 * subjects read as that type once: a comparison of text would
			 * depend on the session's DateStyle, bytea_output, padding...
			 */
			/* a hold whose subject cannot be read as the column's type keeps every row */
			for (i = 0; i < list_length(g->held_subjects); i++)
				if (!g->held_ok[i] ||
					DatumGetBool(FunctionCall2Coll(&g->held_eq, g->subject_collation,
												   v, g->held_values[i])))
				{
					r.why = 'H';
					r.subject = list_nth(g->held_subjects, i);
					r.hold_id = list_nth(g->hold_ids, i);
					return r;
				}
		}
	}
	foreach(lc, g->minimums)
	{
		GuardMin   *m = lfirst(lc);
		Datum		v = heap_getattr(tup, m->anchor_attno, desc, &isnull);
		TimestampTz until;

		if (isnull)
			continue;			/* the event has not happened: no clock yet */
		if (anchor_is_infinite(v, m->anchor_typid))
			continue;			/* anonymized by a run: its clock has stopped */
		if (m->minimum == NULL)
		{
			r.why = 'M';
			r.min = m;
			r.until = DT_NOEND;
			return r;
		}
		/* on the UTC calendar, as the anchor is read (not the session's TimeZone) */
		until = (TimestampTz) DatumGetTimestamp(DirectFunctionCall2(timestamp_pl_interval,
																	TimestampGetDatum((Timestamp) anchor_to_timestamptz(v, m->anchor_typid)),
																	PointerGetDatum(m->minimum)));
		if (until > GetCurrentTransactionStartTimestamp())
		{
			r.why = 'M';
			r.min = m;
			r.until = until;
			return r;
		}
	}
	return r;
}

/*
 * The error for a caller that may not read the table: which rule and
 * policy keep the row, but no value of it (no subject, no date).
 */
static void pg_attribute_noreturn()
retained_error_redacted(GuardRel *g, const Retained *r, const char *what)
{
	if (r->why == 'H')
		ereport(ERROR,
				(errcode(ERRCODE_GV_LEGAL_HOLD),
				 errmsg("cannot %s: a row of table %s is under a legal hold", what, g->relname),
				 errdetail("Table %s, policy %s: rows of a subject under a legal hold are kept as they are.",
						   g->relname, g->policy),
				 errhint("Ask a governance administrator about the holds on this table.")));
	ereport(ERROR,
			(errcode(ERRCODE_GV_RETENTION),
			 errmsg("cannot %s: a row of table %s is under minimum retention", what, g->relname),
			 errdetail("Table %s, column %s, category %s, policy %s, rule %s: \"%s\".",
					   g->relname, r->min->column, r->min->rule.category, g->policy,
					   r->min->rule.rule_id, r->min->rule.source),
			 errhint("Wait until the minimum retention has passed.")));
}

/* may the role that asked (not the extension owner of a probe) read the table? */
static bool
caller_may_read(GuardRel *g)
{
	return pg_class_aclcheck(g->relid, GetUserId(), ACL_SELECT) == ACLCHECK_OK;
}

static void pg_attribute_noreturn()
retained_error_for(GuardRel *g, const Retained *r, const char *what, bool may_read)
{
	/* (a blocked row's error shows no value of the row either way) */
	if (r->why == 'B')
		ereport(ERROR,
				(errcode(ERRCODE_GV_BLOCKED),
				 errmsg("cannot %s: rows of table %s are blocked (restricted processing)", what, g->relname),
				 errdetail("Table %s, column %s (anchor %s), policy %s, rule %s: \"%s\". Blocked rows are kept for the law, not used.",
						   g->relname, r->block->anchor_column, r->block->anchor, g->policy,
						   r->block->rule.rule_id, r->block->rule.source),
				 errhint("A retention run ends them (CALL governance.run_retention()); pg_governance.allow_destructive_ddl lets a superuser go ahead.")));
	/* an error never shows a value of a row the caller may not read */
	if (!may_read)
		retained_error_redacted(g, r, what);
	if (r->why == 'H')
		ereport(ERROR,
				(errcode(ERRCODE_GV_LEGAL_HOLD),
				 errmsg("cannot %s: subject \"%s\" of table %s is under legal hold %s",
						what, r->subject, g->relname, r->hold_id),
				 errdetail("Table %s, column %s, policy %s: rows of a subject under a legal hold are kept as they are.",
						   g->relname, get_attname(g->relid, g->subject_attno, false), g->policy),
				 errhint("Release the hold with governance.release_hold(%s) once it no longer applies.", r->hold_id)));
	if (r->min->minimum == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_GV_RETENTION),
				 errmsg("cannot %s: rows of table %s must be kept for a period the law sets, and parameter \"%s\" is not set",
						what, g->relname, r->min->param),
				 errdetail("Table %s, column %s, category %s, policy %s, rule %s: \"%s\".",
						   g->relname, r->min->column, r->min->rule.category, g->policy,
						   r->min->rule.rule_id, r->min->rule.source),
				 errhint("Set the period with governance.set_parameter('%s', '%s', <ISO 8601 duration>).",
						 g->policy, r->min->param)));
	ereport(ERROR,
			(errcode(ERRCODE_GV_RETENTION),
			 errmsg("cannot %s: a row of table %s is under minimum retention until %s",
					what, g->relname, timestamptz_to_str(r->until)),
			 errdetail("Table %s, column %s, category %s, policy %s, rule %s: \"%s\". The clock starts at column %s (%s).",
					   g->relname, r->min->column, r->min->rule.category, g->policy,
					   r->min->rule.rule_id, r->min->rule.source,
					   r->min->anchor_column, r->min->anchor),
			 errhint("Wait until the minimum retention has passed.")));
}

static void pg_attribute_noreturn()
retained_error(GuardRel *g, const Retained *r, const char *what)
{
	retained_error_for(g, r, what, caller_may_read(g));
}

static TriggerData *
guard_trigger_data_when(FunctionCallInfo fcinfo, const char *fname, bool row, bool before)
{
	TriggerData *td;

	if (!CALLED_AS_TRIGGER(fcinfo))
		ereport(ERROR,
				(errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
				 errmsg("function %s was not called by the trigger manager", fname),
				 errdetail("It is a guard trigger that pg_governance attaches itself."),
				 errhint("Do not call it directly.")));
	td = (TriggerData *) fcinfo->context;
	if ((before ? !TRIGGER_FIRED_BEFORE(td->tg_event) : !TRIGGER_FIRED_AFTER(td->tg_event)) ||
		(row ? !TRIGGER_FIRED_FOR_ROW(td->tg_event) : !TRIGGER_FIRED_FOR_STATEMENT(td->tg_event)))
		ereport(ERROR,
				(errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
				 errmsg("function %s must be fired %s, FOR EACH %s", fname,
						before ? "BEFORE" : "AFTER", row ? "ROW" : "STATEMENT"),
				 errdetail("It is a guard trigger that pg_governance attaches itself."),
				 errhint("Do not attach it by hand.")));
	return td;
}

static TriggerData *
guard_trigger_data(FunctionCallInfo fcinfo, const char *fname, bool row)
{
	return guard_trigger_data_when(fcinfo, fname, row, true);
}

/*
 * governance._guard_write()	AFTER INSERT OR UPDATE row trigger that fires
 *		only on logical replication apply (ENABLE REPLICA): what the CHECK
 *		constraint checks elsewhere, for rows the apply worker writes (it
 *		leaves tableoid unset, see governance_guard_row).  An AFTER trigger,
 *		so that COPY keeps its multi-row insert.
 */
Datum
governance_guard_write(PG_FUNCTION_ARGS)
{
	TriggerData *td = guard_trigger_data_when(fcinfo, "governance._guard_write", true, false);
	Relation	rel = td->tg_relation;
	HeapTuple	tup = TRIGGER_FIRED_BY_UPDATE(td->tg_event) ? td->tg_newtuple : td->tg_trigtuple;
	TupleDesc	desc = RelationGetDescr(rel);
	GuardRel   *g = guard_get(RelationGetRelid(rel));
	int			i;

	if (!g->governed || g->policy == NULL)
		return PointerGetDatum(NULL);
	if (g->fail_closed)
		guard_fail_closed(g);
	if (g->storage_violation)
		guard_localization_error(g, g->storage_violation, g->storage_region,
								 psprintf("data (stored by its %s)", g->storage_region_from));
	if (g->region_unknown)
		guard_region_unknown_error(g, "a row");
	for (i = 0; i < g->ncols; i++)
		if (g->cols[i].never_store && !heap_attisnull(tup, g->cols[i].attnum, desc))
			never_store_error(g, &g->cols[i]);
	if (g->region_attno != InvalidAttrNumber && g->localizations)
	{
		bool		isnull;
		Datum		value = heap_getattr(tup, g->region_attno, desc, &isnull);

		if (isnull)
			guard_null_region(g);
		else
			check_region_value(g, value);
	}
	return PointerGetDatum(NULL);
}

Datum
governance_guard_delete(PG_FUNCTION_ARGS)
{
	TriggerData *td = guard_trigger_data(fcinfo, "governance._guard_delete", true);
	GuardRel   *g = guard_get(RelationGetRelid(td->tg_relation));
	Retained	r;

	if (!g->governed || g->policy == NULL)
	{
		/* an untagged table still hides an erased subject's kept rows (restrict.c) */
		blocking_check_write(g, td->tg_trigtuple, RelationGetDescr(td->tg_relation), "delete");
		return PointerGetDatum(td->tg_trigtuple);
	}
	if (g->fail_closed)
		guard_fail_closed(g);
	r = row_retained(g, td->tg_trigtuple, RelationGetDescr(td->tg_relation));
	if (r.why)
		retained_error(g, &r, "delete");
	blocking_check_write(g, td->tg_trigtuple, RelationGetDescr(td->tg_relation), "delete");
	return PointerGetDatum(td->tg_trigtuple);
}

Datum
governance_guard_update(PG_FUNCTION_ARGS)
{
	TriggerData *td = guard_trigger_data(fcinfo, "governance._guard_update", true);
	GuardRel   *g = guard_get(RelationGetRelid(td->tg_relation));
	TupleDesc	desc = RelationGetDescr(td->tg_relation);
	HeapTuple	oldtup = td->tg_trigtuple;
	HeapTuple	newtup = td->tg_newtuple;
	Retained	r;
	int			i;
	ListCell   *lc;

	if (!g->governed || g->policy == NULL)
	{
		blocking_check_write(g, oldtup, desc, "update");
		return PointerGetDatum(newtup);
	}
	if (g->fail_closed)
		guard_fail_closed(g);
	blocking_check_write(g, oldtup, desc, "update");
	if (g->minimums == NIL && g->held_subjects == NIL)
		return PointerGetDatum(newtup);
	r = row_retained(g, oldtup, desc);
	if (!r.why)
		return PointerGetDatum(newtup);

	/* a held row is kept as it is: its tagged data, subject included, stay */
	if (r.why == 'H')
		for (i = 0; i < g->ncols; i++)
		{
			GuardColumn *col = &g->cols[i];
			Form_pg_attribute att = TupleDescAttr(desc, col->attnum - 1);
			bool		oldnull;
			bool		newnull;
			Datum		oldv = heap_getattr(oldtup, col->attnum, desc, &oldnull);
			Datum		newv = heap_getattr(newtup, col->attnum, desc, &newnull);

			if (col->categories == NIL && !col->subject && col->anchor == NULL)
				continue;
			if (oldnull != newnull ||
				(!oldnull && !datumIsEqual(oldv, newv, att->attbyval, att->attlen)))
				retained_error(g, &r, psprintf("change column \"%s\"", col->name));
		}

	/* retained data may change, but not disappear */
	for (i = 0; i < g->ncols; i++)
	{
		GuardColumn *col = &g->cols[i];
		bool		oldnull;
		bool		newnull;

		if (col->categories == NIL && !col->subject)
			continue;
		(void) heap_getattr(oldtup, col->attnum, desc, &oldnull);
		(void) heap_getattr(newtup, col->attnum, desc, &newnull);
		if (!oldnull && newnull)
			retained_error(g, &r, psprintf("set column \"%s\" to NULL", col->name));
	}
	/* nor can its clock be moved back */
	foreach(lc, g->minimums)
	{
		GuardMin   *m = lfirst(lc);
		bool		oldnull;
		bool		newnull;
		Datum		oldv = heap_getattr(oldtup, m->anchor_attno, desc, &oldnull);
		Datum		newv = heap_getattr(newtup, m->anchor_attno, desc, &newnull);

		if (oldnull)
			continue;
		if (!newnull && anchor_is_infinite(newv, m->anchor_typid))
			retained_error(g, &r, psprintf("stop the clock of anchor column \"%s\"", m->anchor_column));
		if (newnull || anchor_to_timestamptz(newv, m->anchor_typid) <
			anchor_to_timestamptz(oldv, m->anchor_typid))
			retained_error(g, &r, psprintf("move anchor column \"%s\" earlier", m->anchor_column));
	}
	return PointerGetDatum(newtup);
}

/* ------------------------------------------------------------ probes */

/*
 * guard_probe
 *		Refuse "what" (TRUNCATE, DROP TABLE, ...) if any row of the relation
 *		is under minimum retention or a legal hold.  A heap scan in C with a
 *		fresh snapshot (it sees rows committed while the caller waited for
 *		its lock), never a query: planning SQL on a user's table would run
 *		the table owner's index predicates and expressions, and no
 *		elevated rights are needed to read every row this way.
 */
void
guard_probe(Oid relid, const char *what)
{
	GuardRel   *g;
	Relation	rel;
	TableScanDesc scan;
	TupleTableSlot *slot;
	Snapshot	snapshot;
	MemoryContext rowcxt;
	MemoryContext old;
	Retained	found = {0};
	bool		may_read;
	bool		blocked;

	if (governance_allow_destructive_ddl)
		return;
	/* an erased subject's kept rows, governed or not (restrict.c) */
	restrict_probe(relid, what);
	g = guard_get(relid);
	if (!g->governed || g->policy == NULL)
		return;
	/* rules that cannot be compiled cannot say the rows may go */
	if (g->fail_closed)
		ereport(ERROR,
				(errcode(ERRCODE_GV_INVALID_LABEL),
				 errmsg("cannot %s: the governance labels of table %s do not resolve", what, g->relname),
				 errdetail("%s", g->fail_closed),
				 errhint("Fix the label or the column first; pg_governance.allow_destructive_ddl lets a superuser go ahead.")));
	/* (the apply worker follows its publisher: see blocking_check_write) */
	blocked = g->blocking_writes && SessionReplicationRole != SESSION_REPLICATION_ROLE_REPLICA;
	if (g->minimums == NIL && g->held_subjects == NIL && !blocked)
		return;
	may_read = caller_may_read(g);

	rel = table_open(relid, AccessShareLock);
	snapshot = RegisterSnapshot(GetLatestSnapshot());
	slot = table_slot_create(rel, NULL);
	scan = table_beginscan(rel, snapshot, 0, NULL);
	rowcxt = AllocSetContextCreate(CurrentMemoryContext, "pg_governance probe",
								   ALLOCSET_DEFAULT_SIZES);
	while (table_scan_getnextslot(scan, ForwardScanDirection, slot))
	{
		bool		shouldfree;
		HeapTuple	tup;
		Retained	r;

		CHECK_FOR_INTERRUPTS();
		old = MemoryContextSwitchTo(rowcxt);
		tup = ExecFetchSlotHeapTuple(slot, false, &shouldfree);
		r = row_retained(g, tup, RelationGetDescr(rel));
		/* a blocked row is reported only if no row is held or retained */
		if (!r.why && blocked && !found.why &&
			(r.block = blocking_row_rule(g, tup, RelationGetDescr(rel))) != NULL)
			found = r, found.why = 'B';
		MemoryContextSwitchTo(old);
		if (r.why)
		{
			found = r;
			if (found.subject)
				found.subject = pstrdup(found.subject);
			break;
		}
		MemoryContextReset(rowcxt);
	}
	table_endscan(scan);
	ExecDropSingleTupleTableSlot(slot);
	UnregisterSnapshot(snapshot);
	table_close(rel, AccessShareLock);
	if (found.why)
		retained_error_for(g, &found, what, may_read);
	MemoryContextDelete(rowcxt);
}

Datum
governance_guard_truncate(PG_FUNCTION_ARGS)
{
	TriggerData *td = guard_trigger_data(fcinfo, "governance._guard_truncate", false);
	GuardRel   *g = guard_get(RelationGetRelid(td->tg_relation));

	if (g->governed && g->policy && g->fail_closed)
		guard_fail_closed(g);
	guard_probe(RelationGetRelid(td->tg_relation),
				psprintf("truncate %s", g->relname));
	return PointerGetDatum(NULL);
}

/* A C trigger that does nothing: the baseline of test/bench. */
Datum
governance_noop_trigger(PG_FUNCTION_ARGS)
{
	TriggerData *td = (TriggerData *) fcinfo->context;

	if (!CALLED_AS_TRIGGER(fcinfo))
		elog(ERROR, "governance._noop_trigger: not called by trigger manager");
	return PointerGetDatum(TRIGGER_FIRED_BY_UPDATE(td->tg_event) ? td->tg_newtuple : td->tg_trigtuple);
}
