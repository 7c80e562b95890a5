/*-------------------------------------------------------------------------
 *
 * lifecycle.c
 *	  The retention lifecycle of a governed table's rows, read from the
 *	  rules compiled in its guard cache entry (guard_cache.c, GuardLife):
 *	  when a row stops being usable (blocked), when it may be destroyed,
 *	  and which rule decides how.  Blocking (blocking.c) and the runs
 *	  (run.c) both ask this file, so that the rows they see as blocked and
 *	  as due are the same.
 *
 *	  Precedence, for each row (docs/retention.md):
 *	  - a legal hold beats everything: a held row is never destroyed;
 *	  - a minimum beats every maximum: no row is destroyed while any rule's
 *		minimum runs, and a minimum left to an unset parameter never ends;
 *	  - the longest wins ("以其中较长者为准"): a row is destroyed only once
 *		every rule that would destroy it has reached its maximum, and the
 *		rule that ends last says how (anonymize or delete; on a tie the
 *		earlier rule of the policy file);
 *	  - a maximum left to an unset parameter destroys nothing: the row is
 *		blocked from the end of its known minimum (or from the anchor), and
 *		stays so until a DBA sets the parameter;
 *	  - blocking is protective, so the earliest wins: a row is blocked as
 *		soon as a block rule's period ends, or once all destroying rules
 *		on that anchor have ended (from then on until the run destroys it:
 *		no job lag), or when destroying it is impossible
 *		("删除个人信息从技术上难以实现的，我们将停止除存储和采取必要的安全保护措施之外的处理").
 *
 *	  Times: an anchor of type date or timestamp is read as UTC (as the
 *	  guard reads it); a row is blocked when anchor < now - period, where
 *	  now is the transaction's start; for a date anchor, when
 *	  anchor < the UTC date of (now - period), so a row anchored today
 *	  stays visible until tomorrow.
 *
 *-------------------------------------------------------------------------
 */
#include "pg_governance.h"

#include "access/xact.h"
#include "catalog/pg_type.h"
#include "utils/builtins.h"
#include "utils/date.h"
#include "utils/datetime.h"
#include "utils/lsyscache.h"
#include "utils/timestamp.h"

static Interval zero_interval = {0, 0, 0};

/*
 * The period after its anchor at which rule l stops justifying the use
 * of the row; NULL for a rule that never blocks (a minimum only).
 */
Interval *
life_end_period(const GuardLife *l)
{
	switch (l->action)
	{
		case LIFE_KEEP:
			return NULL;
		case LIFE_BLOCK:
		case LIFE_ANONYMIZE:
		case LIFE_DELETE:
			if (l->maximum)
				return l->maximum;
			/* left to the law and unset: blocked after what is known */
			if (l->minimum)
				return l->minimum;
			return &zero_interval;
	}
	return NULL;
}

/* does l destroy rows once its maximum has passed? */
bool
life_destroys(const GuardLife *l)
{
	return (l->action == LIFE_ANONYMIZE || l->action == LIFE_DELETE) &&
		l->anchor_attno != InvalidAttrNumber;
}

static int
interval_compare(const Interval *a, const Interval *b)
{
	return DatumGetInt32(DirectFunctionCall2(interval_cmp, PointerGetDatum(a),
											 PointerGetDatum(b)));
}

/*
 * The blocking period of anchor column attno: rows whose anchor is older
 * than now minus this period are blocked.  Block rules: the shortest;
 * destroying rules: the longest (they block once all have ended); the
 * earlier of the two.  False when no rule on that column blocks.
 */
bool
life_column_period(GuardRel *g, AttrNumber attno, Interval *out, GuardLife **by)
{
	ListCell   *lc;
	Interval   *block = NULL;
	Interval   *destroy = NULL;
	GuardLife  *block_by = NULL;
	GuardLife  *destroy_by = NULL;

	foreach(lc, g->lifecycle)
	{
		GuardLife  *l = lfirst(lc);
		Interval   *p;

		if (l->anchor_attno != attno || (p = life_end_period(l)) == NULL)
			continue;
		if (l->action == LIFE_BLOCK)
		{
			if (block == NULL || interval_compare(p, block) < 0)
			{
				block = p;
				block_by = l;
			}
		}
		else if (destroy == NULL || interval_compare(p, destroy) > 0)
		{
			destroy = p;
			destroy_by = l;
		}
	}
	if (block == NULL && destroy == NULL)
		return false;
	if (block == NULL || (destroy != NULL && interval_compare(destroy, block) < 0))
	{
		*out = *destroy;
		if (by)
			*by = destroy_by;
	}
	else
	{
		*out = *block;
		if (by)
			*by = block_by;
	}
	return true;
}

/*
 * now - period, as a timestamptz (UTC instant).  The months and days of
 * the period are taken on the UTC calendar (timestamp arithmetic on the
 * instant's UTC reading), never the session's TimeZone: a session could
 * otherwise move what is blocked by an hour across daylight saving time.
 */
static TimestampTz fixed_now = 0;

/*
 * A retention run reads every period from the instant it started, not
 * from each step's transaction: rows that come due while it works wait
 * for the next run, and every batch of it ends.  0 goes back to now().
 */
void
life_set_now(TimestampTz now)
{
	fixed_now = now;
}

/* the instant periods count back from */
TimestampTz
life_now(void)
{
	return fixed_now ? fixed_now : GetCurrentTransactionStartTimestamp();
}

static TimestampTz
now_minus(const Interval *period)
{
	TimestampTz now = life_now();

	return (TimestampTz) DatumGetTimestamp(DirectFunctionCall2(timestamp_mi_interval,
															   TimestampGetDatum((Timestamp) now),
															   PointerGetDatum(period)));
}

/*
 * The cutoff now - period as a value of the anchor's type: rows with
 * anchor < cutoff are past the period.  Dates and timestamps without time
 * zone are UTC, as the guard reads them.
 */
Datum
life_cutoff(const Interval *period, Oid typid)
{
	TimestampTz t = now_minus(period);

	switch (getBaseType(typid))
	{
		case DATEOID:
			if (TIMESTAMP_NOT_FINITE(t))
				return DateADTGetDatum(TIMESTAMP_IS_NOBEGIN(t) ? DATEVAL_NOBEGIN : DATEVAL_NOEND);
			/* a timestamp's microseconds read as UTC: the date of the instant */
			return DirectFunctionCall1(timestamp_date, TimestampGetDatum((Timestamp) t));
		case TIMESTAMPOID:
			return TimestampGetDatum((Timestamp) t);
		default:
			return TimestampTzGetDatum(t);
	}
}

/*
 * Is an anchor value before the cutoff?  base_typid is the anchor's base
 * type, as life_anchor_base_type gives it (no catalog look-up per row).
 */
bool
life_anchor_before(Datum value, Datum cutoff, Oid base_typid)
{
	switch (base_typid)
	{
		case DATEOID:
			return DatumGetDateADT(value) < DatumGetDateADT(cutoff);
		case TIMESTAMPOID:
			return DatumGetTimestamp(value) < DatumGetTimestamp(cutoff);
		default:
			return DatumGetTimestampTz(value) < DatumGetTimestampTz(cutoff);
	}
}

/* the SQL type name of an anchor's base type, for casts of parameters */
const char *
life_anchor_type_name(Oid typid)
{
	switch (getBaseType(typid))
	{
		case DATEOID:
			return "pg_catalog.date";
		case TIMESTAMPOID:
			return "pg_catalog.timestamp";
		default:
			return "pg_catalog.timestamptz";
	}
}

Oid
life_anchor_base_type(Oid typid)
{
	Oid			base = getBaseType(typid);

	return (base == DATEOID || base == TIMESTAMPOID) ? base : TIMESTAMPTZOID;
}

/*
 * Does rule d decide over rule e on a row where both have ended, when
 * they share an anchor column?  The later end wins; on a tie the rule
 * that comes first in the policy.
 */
bool
life_decides_over(const GuardLife *d, const GuardLife *e)
{
	int			c = interval_compare(d->maximum, e->maximum);

	return c > 0 || (c == 0 && d->ordinal < e->ordinal);
}

/*
 * Why rule l cannot be applied to the table as it stands, or NULL.
 */
const char *
life_problem(GuardRel *g, const GuardLife *l)
{
	if (l->anchor_attno == InvalidAttrNumber)
		return psprintf("table %s has no column labelled anchor=%s: the rule's clock cannot be read",
						g->relname, l->anchor);
	return NULL;
}

/* the action as the catalog and the reports spell it */
const char *
life_action_name(LifeAction a)
{
	switch (a)
	{
		case LIFE_KEEP:
			return "keep";
		case LIFE_BLOCK:
			return "block";
		case LIFE_ANONYMIZE:
			return "anonymize";
		case LIFE_DELETE:
			return "delete";
	}
	return "keep";
}
