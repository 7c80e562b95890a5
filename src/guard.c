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
#include "catalog/pg_type.h"
#include "commands/trigger.h"
#include "executor/spi.h"
#include "miscadmin.h"
#include "nodes/primnodes.h"
#include "utils/builtins.h"
#include "utils/datetime.h"
#include "utils/guc.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"
#include "utils/timestamp.h"

PG_FUNCTION_INFO_V1(governance_guard_row);
PG_FUNCTION_INFO_V1(governance_guard_delete);
PG_FUNCTION_INFO_V1(governance_guard_update);
PG_FUNCTION_INFO_V1(governance_guard_truncate);
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

/* ------------------------------------------------------------ CHECK */

/*
 * Per call site memo: which compiled column each argument is, found from
 * the Vars of the CHECK expression itself, so that renaming a column or a
 * dump/restore (which may renumber attributes) keeps the mapping right.
 */
typedef struct GuardRowMemo
{
	Oid			relid;
	GuardRel   *g;
	uint32		generation;
	int			nargs;
	int		   *colidx;			/* per argument: index into g->cols, or -1 */
} GuardRowMemo;

static GuardRowMemo *
guard_row_memo(FunctionCallInfo fcinfo, Oid relid)
{
	GuardRowMemo *memo = (GuardRowMemo *) fcinfo->flinfo->fn_extra;
	GuardRel   *g;
	FuncExpr   *expr;
	ListCell   *lc;
	int			i;

	if (memo && memo->relid == relid && memo->g->valid &&
		memo->generation == memo->g->generation)
		return memo;

	g = guard_get(relid);
	if (memo == NULL)
		memo = MemoryContextAllocZero(fcinfo->flinfo->fn_mcxt, sizeof(GuardRowMemo));
	else if (memo->colidx)
		pfree(memo->colidx);
	memo->relid = relid;
	memo->g = g;
	memo->generation = g->generation;
	memo->nargs = PG_NARGS();
	memo->colidx = MemoryContextAlloc(fcinfo->flinfo->fn_mcxt, sizeof(int) * memo->nargs);
	expr = (FuncExpr *) fcinfo->flinfo->fn_expr;
	i = 0;
	if (expr && IsA(expr, FuncExpr))
	{
		foreach(lc, expr->args)
		{
			Node	   *arg = lfirst(lc);
			GuardColumn *col = NULL;

			if (i >= memo->nargs)
				break;
			if (IsA(arg, Var) && ((Var *) arg)->varattno > 0)
				col = guard_column(g, ((Var *) arg)->varattno);
			memo->colidx[i++] = col ? (int) (col - g->cols) : -1;
		}
	}
	for (; i < memo->nargs; i++)
		memo->colidx[i] = -1;
	fcinfo->flinfo->fn_extra = memo;
	return memo;
}

static bool
region_memo_hit(const GuardRel *g, const char *raw, int len)
{
	int			i;

	for (i = 0; i < g->nregions; i++)
		if (g->region_len[i] == len && memcmp(g->region[i], raw, len) == 0)
			return true;
	return false;
}

static void
region_memo_add(GuardRel *g, const char *raw, int len)
{
	int			slot;

	if (len > REGION_MAX_LEN)
		return;
	if (g->nregions < GUARD_REGION_MEMO)
		slot = g->nregions++;
	else
	{
		slot = g->next_region;
		g->next_region = (slot + 1) % GUARD_REGION_MEMO;
	}
	memcpy(g->region[slot], raw, len);
	g->region_len[slot] = len;
}

/*
 * Is a region column value (raw bytes, not yet seen) inside every
 * localization rule?  Raises 22P02 for a value that is no region and GV001
 * for one outside; remembers the value when it passes.
 */
static void
check_region_text(GuardRel *g, const char *raw, int rawlen)
{
	int			len = rawlen;
	char		buf[REGION_MAX_LEN + 1];
	char		norm[REGION_MAX_LEN + 1];
	char	   *msg;
	int			pos;
	ListCell   *lc;

	while (len > 0 && raw[len - 1] == ' ')	/* char(n) padding */
		len--;
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
	region_memo_add(g, raw, rawlen);
}

static void
check_region_value(GuardRel *g, Datum value)
{
	text	   *t = (text *) PG_DETOAST_DATUM_PACKED(value);

	if (!region_memo_hit(g, VARDATA_ANY(t), VARSIZE_ANY_EXHDR(t)))
		check_region_text(g, VARDATA_ANY(t), VARSIZE_ANY_EXHDR(t));
	if ((Pointer) t != DatumGetPointer(value))
		pfree(t);
}

/*
 * governance._guard_row(tableoid, VARIADIC "any") RETURNS boolean
 *		The CHECK constraint of a governed table.  Returns true or raises.
 */
Datum
governance_guard_row(PG_FUNCTION_ARGS)
{
	Oid			relid = PG_GETARG_OID(0);
	GuardRowMemo *memo = guard_row_memo(fcinfo, relid);
	GuardRel   *g = memo->g;
	int			i;

	if (!g->governed || g->policy == NULL)
		PG_RETURN_BOOL(true);
	if (g->fail_closed)
	{
		/* a restore loads rows before the policies: see README, dump/restore */
		if (!check_function_bodies)
			PG_RETURN_BOOL(true);
		guard_fail_closed(g);
	}
	if (g->storage_violation)
		guard_localization_error(g, g->storage_violation, g->storage_region,
								 psprintf("data (stored by its %s)", g->storage_region_from));

	for (i = 1; i < memo->nargs; i++)
	{
		GuardColumn *col;

		if (memo->colidx[i] < 0 || PG_ARGISNULL(i))
			continue;
		col = &g->cols[memo->colidx[i]];
		if (col->never_store)
			ereport(ERROR,
					(errcode(ERRCODE_GV_NEVER_STORE),
					 errmsg("column \"%s\" of table %s must never be stored", col->name, g->relname),
					 errdetail("Table %s, column %s, category %s, policy %s, rule %s: \"%s\".",
							   g->relname, col->name, col->never_store->category, g->policy,
							   col->never_store->rule_id, col->never_store->source),
					 errhint("Leave the column NULL: this data may be used for the transaction but not kept.")));
		if (col->region && g->localizations)
			check_region_value(g, PG_GETARG_DATUM(i));
	}
	PG_RETURN_BOOL(true);
}

/* ------------------------------------------------------------ retention */

static TimestampTz
anchor_to_timestamptz(Datum value, Oid typid)
{
	switch (typid)
	{
		case DATEOID:
			return DatumGetTimestampTz(DirectFunctionCall1(date_timestamptz, value));
		case TIMESTAMPOID:
			return DatumGetTimestampTz(DirectFunctionCall1(timestamp_timestamptz, value));
		default:
			return DatumGetTimestampTz(value);
	}
}

typedef struct Retained
{
	char		why;			/* 'H' hold, 'M' minimum retention, 0 none */
	GuardMin   *min;
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
			Oid			out;
			bool		varlena;
			char	   *subject;
			ListCell   *id;

			getTypeOutputInfo(TupleDescAttr(desc, g->subject_attno - 1)->atttypid, &out, &varlena);
			subject = OidOutputFunctionCall(out, v);
			forboth(lc, g->held_subjects, id, g->hold_ids)
				if (strcmp(lfirst(lc), subject) == 0)
				{
					r.why = 'H';
					r.subject = subject;
					r.hold_id = lfirst(id);
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
		if (m->minimum == NULL)
		{
			r.why = 'M';
			r.min = m;
			r.until = DT_NOEND;
			return r;
		}
		until = DatumGetTimestampTz(DirectFunctionCall2(timestamptz_pl_interval,
														TimestampTzGetDatum(anchor_to_timestamptz(v, m->anchor_typid)),
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

static void pg_attribute_noreturn()
retained_error(GuardRel *g, const Retained *r, const char *what)
{
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
			 errhint("Wait until the minimum retention has passed; retention jobs delete expired rows.")));
}

static TriggerData *
guard_trigger_data(FunctionCallInfo fcinfo, const char *fname, bool row)
{
	TriggerData *td;

	if (!CALLED_AS_TRIGGER(fcinfo))
		ereport(ERROR,
				(errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
				 errmsg("function %s was not called by the trigger manager", fname),
				 errdetail("It is a guard trigger that pg_governance attaches itself."),
				 errhint("Do not call it directly.")));
	td = (TriggerData *) fcinfo->context;
	if (!TRIGGER_FIRED_BEFORE(td->tg_event) ||
		(row ? !TRIGGER_FIRED_FOR_ROW(td->tg_event) : !TRIGGER_FIRED_FOR_STATEMENT(td->tg_event)))
		ereport(ERROR,
				(errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
				 errmsg("function %s must be fired BEFORE, FOR EACH %s", fname, row ? "ROW" : "STATEMENT"),
				 errdetail("It is a guard trigger that pg_governance attaches itself."),
				 errhint("Do not attach it by hand.")));
	return td;
}

Datum
governance_guard_delete(PG_FUNCTION_ARGS)
{
	TriggerData *td = guard_trigger_data(fcinfo, "governance._guard_delete", true);
	GuardRel   *g = guard_get(RelationGetRelid(td->tg_relation));
	Retained	r;

	if (!g->governed || g->policy == NULL)
		return PointerGetDatum(td->tg_trigtuple);
	if (g->fail_closed)
		guard_fail_closed(g);
	r = row_retained(g, td->tg_trigtuple, RelationGetDescr(td->tg_relation));
	if (r.why)
		retained_error(g, &r, "delete");
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
		return PointerGetDatum(newtup);
	if (g->fail_closed)
		guard_fail_closed(g);
	if (g->minimums == NIL && g->held_subjects == NIL)
		return PointerGetDatum(newtup);
	r = row_retained(g, oldtup, desc);
	if (!r.why)
		return PointerGetDatum(newtup);

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
 *		is under minimum retention or a legal hold.  Runs as the extension
 *		owner, so that it sees every row whatever the caller may read.
 */
void
guard_probe(Oid relid, const char *what)
{
	GuardRel   *g;
	ListCell   *lc;
	Oid			save_userid;
	int			save_sec;

	if (governance_allow_destructive_ddl)
		return;
	g = guard_get(relid);
	if (!g->governed || g->policy == NULL || g->fail_closed ||
		(g->minimums == NIL && g->held_subjects == NIL))
		return;

	GetUserIdAndSecContext(&save_userid, &save_sec);
	SetUserIdAndSecContext(governance_owner(), save_sec | SECURITY_LOCAL_USERID_CHANGE);
	SPI_connect();
	foreach(lc, g->minimums)
	{
		GuardMin   *m = lfirst(lc);
		Oid			argtypes[2] = {INTERVALOID, TIMESTAMPTZOID};
		Datum		args[2];
		char		nulls[2] = {m->minimum ? ' ' : 'n', ' '};
		char	   *sql;

		args[0] = PointerGetDatum(m->minimum);
		args[1] = TimestampTzGetDatum(GetCurrentTransactionStartTimestamp());
		sql = m->minimum
			? psprintf("SELECT %s FROM ONLY %s WHERE %s + $1 > $2 ORDER BY 1 DESC LIMIT 1",
					   quote_identifier(m->anchor_column), g->relname, quote_identifier(m->anchor_column))
			: psprintf("SELECT %s FROM ONLY %s WHERE %s IS NOT NULL LIMIT 1",
					   quote_identifier(m->anchor_column), g->relname, quote_identifier(m->anchor_column));
		if (SPI_execute_with_args(sql, m->minimum ? 2 : 0, argtypes, args, nulls, true, 1) != SPI_OK_SELECT)
			elog(ERROR, "could not probe %s", g->relname);
		if (SPI_processed > 0)
		{
			Retained	r = {'M', m, NULL, NULL, DT_NOEND};

			if (m->minimum)
			{
				bool		isnull;

				r.until = DatumGetTimestampTz(DirectFunctionCall2(timestamptz_pl_interval,
																  TimestampTzGetDatum(anchor_to_timestamptz(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull), m->anchor_typid)),
																  PointerGetDatum(m->minimum)));
			}
			retained_error(g, &r, what);
		}
	}
	if (g->held_subjects && g->subject_attno != InvalidAttrNumber)
	{
		const char *subjcol = quote_identifier(get_attname(relid, g->subject_attno, false));
		ListCell   *s;
		ListCell   *id;

		forboth(s, g->held_subjects, id, g->hold_ids)
		{
			Oid			argtypes[1] = {TEXTOID};
			Datum		args[1] = {CStringGetTextDatum(lfirst(s))};

			if (SPI_execute_with_args(psprintf("SELECT 1 FROM ONLY %s WHERE %s::text = $1 LIMIT 1",
											   g->relname, subjcol),
									  1, argtypes, args, NULL, true, 1) != SPI_OK_SELECT)
				elog(ERROR, "could not probe %s", g->relname);
			if (SPI_processed > 0)
			{
				Retained	r = {'H', NULL, lfirst(s), lfirst(id), 0};

				retained_error(g, &r, what);
			}
		}
	}
	SPI_finish();
	SetUserIdAndSecContext(save_userid, save_sec);
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
