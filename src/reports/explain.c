/*-------------------------------------------------------------------------
 *
 * explain.c
 *	  What the guard enforces on one table, in words: the rows of
 *	  governance.explain() that come from the relation's compiled rules
 *	  (guard_cache.c, GuardRel) rather than from the policy catalog, so
 *	  that the explanation is the very rule set the triggers, the
 *	  blocking policy and the retention runs use — effective labels of
 *	  partitions, implies: closure, anchors found or missing, holds.
 *
 *	  governance._explain_compiled(rel) returns raw lines; the SQL
 *	  wrapper governance.explain (src/reports/explain.sql) adds what only
 *	  the catalog holds (cross-border conditions, sharing rules, retention
 *	  principles, category descriptions, hold reasons) and orders them.
 *
 *-------------------------------------------------------------------------
 */
#include "pg_governance.h"

#include "catalog/objectaddress.h"
#include "catalog/pg_class.h"
#include "catalog/pg_database.h"
#include "commands/dbcommands.h"
#include "commands/seclabel.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/syscache.h"

PG_FUNCTION_INFO_V1(governance_explain_compiled);

/* one line of the explanation, copied out of the cache entry */
typedef struct ExplainLine
{
	int			ord;			/* 0 table, then the column's place */
	int			sub;			/* order inside the column */
	char	   *column;			/* NULL: the table as a whole */
	char	   *category;
	const char *kind;
	char	   *rule_id;
	char	   *effect;
	char	   *source;
} ExplainLine;

static List *
add_line(List *lines, int ord, int sub, const char *column, const char *category,
		 const char *kind, const char *rule_id, char *effect, const char *source)
{
	ExplainLine *l = palloc0(sizeof(ExplainLine));

	l->ord = ord;
	l->sub = sub;
	l->column = column ? pstrdup(column) : NULL;
	l->category = category ? pstrdup(category) : NULL;
	l->kind = kind;
	l->rule_id = rule_id ? pstrdup(rule_id) : NULL;
	l->effect = effect;
	l->source = source ? pstrdup(source) : NULL;
	return lappend(lines, l);
}

/*
 * An interval in ISO 8601, as the policies write durations (P6M, P30D),
 * whatever the session's IntervalStyle.
 */
static char *
iso_duration(const Interval *iv)
{
	StringInfoData s;
	int64		t = iv->time;
	int			years = iv->month / 12;
	int			months = iv->month % 12;

	initStringInfo(&s);
	appendStringInfoChar(&s, 'P');
	if (years)
		appendStringInfo(&s, "%dY", years);
	if (months)
		appendStringInfo(&s, "%dM", months);
	if (iv->day)
		appendStringInfo(&s, "%dD", iv->day);
	if (t)
	{
		int64		h = t / USECS_PER_HOUR;
		int64		m = (t % USECS_PER_HOUR) / USECS_PER_MINUTE;
		int64		us = t % USECS_PER_MINUTE;

		appendStringInfoChar(&s, 'T');
		if (h)
			appendStringInfo(&s, INT64_FORMAT "H", h);
		if (m)
			appendStringInfo(&s, INT64_FORMAT "M", m);
		if (us)
			appendStringInfo(&s, INT64_FORMAT "S", us / USECS_PER_SEC);
	}
	if (s.len == 1)
		appendStringInfoString(&s, "0D");
	return s.data;
}

static const char *
list_join(List *items, const char *sep)
{
	StringInfoData s;
	ListCell   *lc;

	initStringInfo(&s);
	foreach(lc, items)
	{
		if (s.len > 0)
			appendStringInfoString(&s, sep);
		appendStringInfoString(&s, (char *) lfirst(lc));
	}
	return s.data;
}

/* a period known or left to a parameter, in words */
static char *
period_words(const Interval *iv, const char *param)
{
	if (iv)
		return iso_duration(iv);
	return psprintf("the period of parameter \"%s\" (not set)", param ? param : "?");
}

/* what a lifecycle rule does to the rows of the column, in words */
static char *
life_words(const GuardLife *l)
{
	StringInfoData s;

	initStringInfo(&s);
	switch (l->action)
	{
		case LIFE_KEEP:
			appendStringInfo(&s, "minimum: kept at least %s after %s; deleting earlier is refused (GV003)",
							 period_words(l->minimum, l->min_param), l->anchor);
			if (l->minimum == NULL)
				appendStringInfoString(&s, "; until the parameter is set, rows are kept");
			break;
		case LIFE_BLOCK:
			appendStringInfo(&s, "blocked (restricted processing) %s after %s: hidden from every role outside governance_admin, writes refused (GV006)",
							 period_words(l->maximum, l->max_param), l->anchor);
			break;
		case LIFE_ANONYMIZE:
		case LIFE_DELETE:
			if (l->has_min)
				appendStringInfo(&s, "minimum: kept at least %s after %s; ",
								 period_words(l->minimum, l->min_param), l->anchor);
			if (l->maximum)
				appendStringInfo(&s, "maximum: %s by governance.run_retention %s after %s",
								 l->action == LIFE_DELETE ? "deleted" : "anonymized",
								 iso_duration(l->maximum), l->anchor);
			else
				appendStringInfo(&s, "maximum: parameter \"%s\" is not set, so rows are blocked after %s and never %s until governance.set_parameter() sets it",
								 l->max_param ? l->max_param : "?",
								 l->minimum ? "their minimum" : l->anchor,
								 l->action == LIFE_DELETE ? "deleted" : "anonymized");
			break;
	}
	if (l->anchor_attno == InvalidAttrNumber)
		appendStringInfo(&s, "; NOT APPLIED: the table has no column labelled anchor=%s, so the rule's clock cannot be read",
						 l->anchor);
	else
		appendStringInfo(&s, " (clock: column \"%s\")", l->anchor_column);
	return s.data;
}

static const char *
jurisdiction_words(const GuardLoc *loc)
{
	if (loc->exclude == NIL)
		return psprintf("%s (%s)", loc->jurisdiction, list_join(loc->include, ", "));
	return psprintf("%s (%s except %s)", loc->jurisdiction,
					list_join(loc->include, ", "), list_join(loc->exclude, ", "));
}

/* the table label of relid, if it binds a policy */
static char *
table_binding(Oid relid)
{
	ObjectAddress addr;
	char	   *label;
	GovLabel	gl;
	char	   *err;

	ObjectAddressSet(addr, RelationRelationId, relid);
	label = GetSecurityLabel(&addr, GOVERNANCE_PROVIDER);
	if (label == NULL || !label_parse(label, LABEL_TABLE, &gl, &err))
		return NULL;
	return gl.policy;
}

/* where the binding of relid comes from, in words */
static char *
binding_words(Oid relid, const char *policy, const char *bound_by)
{
	if (strcmp(bound_by, "table") == 0)
		return psprintf("governed by policy \"%s\": bound by the table's own label", policy);
	if (strcmp(bound_by, "parent table") == 0)
	{
		ListCell   *lc;

		foreach(lc, guard_ancestors(relid))
		{
			Oid			anc = lfirst_oid(lc);
			char	   *p = table_binding(anc);

			if (p && strcmp(p, policy) == 0)
				return psprintf("governed by policy \"%s\": bound by the label of its parent table %s",
								policy, quote_qualified_identifier(get_namespace_name(get_rel_namespace(anc)),
																   get_rel_name(anc)));
		}
		return psprintf("governed by policy \"%s\": bound by the label of a parent table", policy);
	}
	if (strcmp(bound_by, "schema") == 0)
		return psprintf("governed by policy \"%s\": bound by the label of schema %s (no table label)",
						policy, quote_identifier(get_namespace_name(get_rel_namespace(relid))));
	return psprintf("governed by policy \"%s\": bound by the label of database %s (no table or schema label)",
					policy, quote_identifier(get_database_name(MyDatabaseId)));
}

/*
 * The lines of one relation.  Everything is copied out of the cache entry
 * before anything else runs: a catalog access may process invalidations
 * and rebuild the entry under us.
 */
static List *
explain_lines(Oid relid, char **policy_out, char **bound_by_out)
{
	GuardRel   *g = guard_get(relid);
	List	   *lines = NIL;
	ListCell   *lc;
	int			c;

	*policy_out = g->policy ? pstrdup(g->policy) : NULL;
	*bound_by_out = g->bound_by ? pstrdup(g->bound_by) : NULL;

	if (g->fail_closed)
		lines = add_line(lines, 0, 1, NULL, NULL, "fail_closed", NULL,
						 psprintf("writes are refused (GV011): %s", g->fail_closed), NULL);
	if (g->policy && g->localizations)
	{
		if (g->storage_region)
			lines = add_line(lines, 0, 2, NULL, NULL, "storage", NULL,
							 psprintf("rows without a region of their own are stored in %s (region of the %s)",
									  g->storage_region, g->storage_region_from),
							 NULL);
		else
			lines = add_line(lines, 0, 2, NULL, NULL, "storage", NULL,
							 pstrdup(g->region_attno != InvalidAttrNumber
									 ? "no storage region is recorded (tablespace or database): a row whose region column is NULL is refused (GV001 region unknown)"
									 : "no region is known (no region column, tablespace or database region): every write is refused (GV001 region unknown); see governance.set_database_region"),
							 NULL);
	}
	if (g->storage_violation)
		lines = add_line(lines, 0, 3, NULL, g->storage_violation->rule.category, "storage",
						 g->storage_violation->rule.rule_id,
						 psprintf("the table is stored in %s, outside %s: every write is refused (GV001)",
								  g->storage_region, jurisdiction_words(g->storage_violation)),
						 g->storage_violation->rule.source);
	foreach(lc, g->hold_ids)
	{
		int			i = foreach_current_index(lc);

		lines = add_line(lines, 0, 9, NULL, NULL, "hold", psprintf("hold %s", (char *) lfirst(lc)),
						 psprintf("legal hold on subject %s: its rows cannot be deleted, nulled or destroyed by retention (GV005)",
								  quote_literal_cstr(list_nth(g->held_subjects, i))),
						 NULL);
	}

	for (c = 0; c < g->ncols; c++)
	{
		GuardColumn *col = &g->cols[c];
		int			ord = col->attnum;
		List	   *cats = col->effective ? col->effective : col->categories;

		if (col->subject)
			lines = add_line(lines, ord, 1, col->name, NULL, "role", "subject",
							 pstrdup("identifies the data subject: subject_export, erase_subject, consents and legal holds find the subject's rows through it"),
							 NULL);
		if (col->anchor)
			lines = add_line(lines, ord, 1, col->name, NULL, "role", psprintf("anchor=%s", col->anchor),
							 psprintf("starts the retention clock of event %s", col->anchor), NULL);
		if (col->region)
			lines = add_line(lines, ord, 1, col->name, NULL, "role", "region",
							 pstrdup("holds the region where the row's data is stored: localization rules check it"),
							 NULL);
		foreach(lc, cats)
		{
			const char *cat = lfirst(lc);
			ListCell   *t;
			bool		tagged = false;

			foreach(t, col->categories)
				tagged |= strcmp(lfirst(t), cat) == 0;
			lines = add_line(lines, ord, 2, col->name, cat, "category", NULL,
							 pstrdup(tagged ? "tagged" : "implied"), NULL);
		}
		if (col->never_store)
			lines = add_line(lines, ord, 3, col->name, col->never_store->category, "retention",
							 col->never_store->rule_id,
							 pstrdup("never_store: any non-NULL value is refused (GV002)"),
							 col->never_store->source);
	}
	foreach(lc, g->localizations)
	{
		GuardLoc   *loc = lfirst(lc);
		GuardColumn *col = NULL;

		for (c = 0; c < g->ncols; c++)
			if (strcmp(g->cols[c].name, loc->column) == 0)
				col = &g->cols[c];
		lines = add_line(lines, col ? col->attnum : 0, 4, loc->column, loc->rule.category,
						 "localization", loc->rule.rule_id,
						 psprintf("must be stored in %s", jurisdiction_words(loc)),
						 loc->rule.source);
	}
	foreach(lc, g->lifecycle)
	{
		GuardLife  *l = lfirst(lc);
		ListCell   *cc;
		ListCell   *mc;
		char	   *words = life_words(l);

		forboth(cc, l->columns, mc, l->column_cats)
		{
			GuardColumn *col = NULL;

			for (c = 0; c < g->ncols; c++)
				if (strcmp(g->cols[c].name, lfirst(cc)) == 0)
					col = &g->cols[c];
			lines = add_line(lines, col ? col->attnum : 0, 5, lfirst(cc), lfirst(mc),
							 "retention", l->rule.rule_id, words, l->rule.source);
		}
	}
	return lines;
}

/*
 * governance._explain_compiled(rel regclass)
 *		-> (ord, sub, column, category, rule_kind, rule_id, effect, source)
 */
Datum
governance_explain_compiled(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	Oid			relid = PG_GETARG_OID(0);
	char		relkind;
	List	   *lines;
	char	   *policy;
	char	   *bound_by;
	char	   *table_effect;
	ListCell   *lc;

	if (!SearchSysCacheExists1(RELOID, ObjectIdGetDatum(relid)))
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_TABLE),
				 errmsg("relation with OID %u does not exist", relid),
				 errdetail("The table was dropped, or the OID never named a relation."),
				 errhint("Name the table as schema.table; governance.tagged_columns lists the tagged ones.")));
	relkind = get_rel_relkind(relid);
	if (relkind != RELKIND_RELATION && relkind != RELKIND_PARTITIONED_TABLE)
		ereport(ERROR,
				(errcode(ERRCODE_WRONG_OBJECT_TYPE),
				 errmsg("\"%s\" is not a table", get_rel_name(relid)),
				 errdetail("Policies govern the rows of tables and partitioned tables; a view, index, sequence or foreign table has no rules of its own."),
				 errhint("Explain the table that holds the rows.")));

	InitMaterializedSRF(fcinfo, 0);
	lines = explain_lines(relid, &policy, &bound_by);

	if (policy)
		table_effect = binding_words(relid, policy, bound_by);
	else if (lines == NIL)
		table_effect = pstrdup("not governed: no column is tagged");
	else
		table_effect = psprintf("not governed: columns are tagged but no policy is bound to the table, its parent tables, schema %s or the database, so the tags have no effect",
								quote_identifier(get_namespace_name(get_rel_namespace(relid))));
	lines = lcons(NULL, lines);
	linitial(lines) = palloc0(sizeof(ExplainLine));
	{
		ExplainLine *b = linitial(lines);

		b->kind = "binding";
		b->rule_id = policy;
		b->effect = table_effect;
	}

	foreach(lc, lines)
	{
		ExplainLine *l = lfirst(lc);
		Datum		values[8];
		bool		nulls[8] = {0};

		values[0] = Int32GetDatum(l->ord);
		values[1] = Int32GetDatum(l->sub);
		values[2] = l->column ? CStringGetTextDatum(l->column) : (Datum) 0;
		nulls[2] = l->column == NULL;
		values[3] = l->category ? CStringGetTextDatum(l->category) : (Datum) 0;
		nulls[3] = l->category == NULL;
		values[4] = CStringGetTextDatum(l->kind);
		values[5] = l->rule_id ? CStringGetTextDatum(l->rule_id) : (Datum) 0;
		nulls[5] = l->rule_id == NULL;
		values[6] = CStringGetTextDatum(l->effect);
		values[7] = l->source ? CStringGetTextDatum(l->source) : (Datum) 0;
		nulls[7] = l->source == NULL;
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	}
	return (Datum) 0;
}
