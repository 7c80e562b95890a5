/*-------------------------------------------------------------------------
 *
 * subjects.c
 *	  A data subject's rows across every governed table (spec section 9):
 *	  found through the tables' subject columns, then by following foreign
 *	  keys to and from them; exported (subject_export) or erased
 *	  (erase_subject).
 *
 *	  Which rows are the subject's:
 *	  - rows of a governed table whose subject column equals the subject
 *		(the value parsed as that column's type, in the caller's settings:
 *		an index lookup);
 *	  - rows of a governed table without a subject column that reference
 *		such rows (children, through any foreign key, composite ones too),
 *		and, for an export, rows of such a table that they reference
 *		(parents), transitively.  A table with a subject column of its own
 *		holds other subjects' rows: following a key into it adds nothing
 *		(so a self-referencing key, such as an employee's manager, does not
 *		drag other people in).
 *
 *	  Each table is read and written as its owner, in a security-restricted
 *	  operation with search_path pinned (as retention runs do), never as the
 *	  extension's owner: the owner's types and functions run with the
 *	  owner's rights only.  The statements are marked as a retention job's
 *	  (blocking.c), so that they see the table's blocked rows, which other
 *	  code the owner runs does not.
 *
 *	  Erasure deletes the rows, children before the rows they reference (an
 *	  order from the foreign keys; no primary key needed), each in a
 *	  subtransaction: a row the guard keeps (minimum retention GV003, legal
 *	  hold GV005) is kept, and said so; a row that something outside the
 *	  subject's rows still references (23503) is anonymized instead.  Any
 *	  other error aborts the whole erasure: nothing is half done.
 *
 *-------------------------------------------------------------------------
 */
#include "pg_governance.h"

#include "access/htup_details.h"
#include "access/xact.h"
#include "catalog/pg_class.h"
#include "catalog/pg_constraint.h"
#include "catalog/pg_inherits.h"
#include "catalog/pg_operator.h"
#include "catalog/pg_seclabel.h"
#include "executor/spi.h"
#include "funcapi.h"
#include "lib/stringinfo.h"
#include "miscadmin.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/datum.h"
#include "utils/hsearch.h"
#include "utils/json.h"
#include "utils/rel.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/syscache.h"

PG_FUNCTION_INFO_V1(governance_subject_rows);
PG_FUNCTION_INFO_V1(governance_erase_subject_rows);

/* one governed leaf table and the subject's rows found in it */
typedef struct SubjRel
{
	Oid			relid;
	Oid			owner;
	char	   *name;			/* qualified, quoted */
	char	   *policy;
	bool		has_subject;	/* it has a subject column */
	List	   *tids;			/* ItemPointer: every row found */
	List	   *frontier;		/* ItemPointer: found in the last round */
	List	   *next;			/* ItemPointer: found in this round */
	HTAB	   *seen;			/* ItemPointerData: tids and next, for lookups */
	char	   *note;			/* why it was skipped, or NULL */
	List	   *tagged;			/* char *: tagged column names */
	List	   *tag_cats;		/* char *: their categories, comma separated */
	int			order;			/* erasure order: children first */
} SubjRel;

/* a foreign key between two governed leaf tables */
typedef struct SubjEdge
{
	SubjRel    *child;
	SubjRel    *parent;
	int			nkeys;
	AttrNumber	ckey[INDEX_MAX_KEYS];
	AttrNumber	pkey[INDEX_MAX_KEYS];
	Oid			eqop[INDEX_MAX_KEYS];	/* pk = fk */
} SubjEdge;

typedef struct SubjGraph
{
	List	   *rels;			/* SubjRel * */
	List	   *edges;			/* SubjEdge * */
} SubjGraph;

/* ------------------------------------------------------------ helpers */

static SubjRel *
find_rel(SubjGraph *g, Oid relid)
{
	ListCell   *lc;

	foreach(lc, g->rels)
	{
		SubjRel    *r = lfirst(lc);

		if (r->relid == relid)
			return r;
	}
	return NULL;
}

/*
 * Note a row of r as found; false if it was found before.  A hash table,
 * not a walk of the lists: a subject may have hundreds of thousands of
 * rows in one table.
 */
static bool
add_tid(SubjRel *r, ItemPointer tid)
{
	bool		found;

	if (r->seen == NULL)
	{
		HASHCTL		ctl;

		ctl.keysize = sizeof(ItemPointerData);
		ctl.entrysize = sizeof(ItemPointerData);
		ctl.hcxt = CurrentMemoryContext;
		r->seen = hash_create("pg_governance subject rows", 1024, &ctl,
							  HASH_ELEM | HASH_BLOBS | HASH_CONTEXT);
	}
	(void) hash_search(r->seen, tid, HASH_ENTER, &found);
	return !found;
}

/* was this row of r found as the subject's? */
static bool
has_seen(SubjRel *r, ItemPointer tid)
{
	bool		found = false;

	if (r->seen != NULL)
		(void) hash_search(r->seen, tid, HASH_FIND, &found);
	return found;
}

static Datum
tid_array(List *tids)
{
	Datum	   *elems = palloc(sizeof(Datum) * Max(list_length(tids), 1));
	ListCell   *lc;
	int			i = 0;

	foreach(lc, tids)
		elems[i++] = PointerGetDatum(lfirst(lc));
	return PointerGetDatum(construct_array(elems, i, TIDOID, sizeof(ItemPointerData), false, TYPALIGN_SHORT));
}

static const char *
column_name(Oid relid, AttrNumber attno)
{
	return quote_identifier(get_attname(relid, attno, false));
}

/* "OPERATOR(schema.op)" for an operator, its names quoted */
static char *
operator_sql(Oid opno)
{
	HeapTuple	tup = SearchSysCache1(OPEROID, ObjectIdGetDatum(opno));
	Form_pg_operator op;
	char	   *result;

	if (!HeapTupleIsValid(tup))
		elog(ERROR, "cache lookup failed for operator %u", opno);
	op = (Form_pg_operator) GETSTRUCT(tup);
	result = psprintf("OPERATOR(%s.%s)", quote_identifier(get_namespace_name(op->oprnamespace)),
					  NameStr(op->oprname));
	ReleaseSysCache(tup);
	return result;
}

/*
 * Run one query on a table as its owner (security-restricted, search_path
 * pinned), its blocked rows visible to this statement only.  Results are
 * left in SPI_tuptable until gov_spi_end: callers copy what they need.
 */
static void
owner_query(SubjRel *r, GovSpi *spi, const char *sql, int nargs, Oid *types, Datum *values,
			bool read_only)
{
	MemoryContext cxt = CurrentMemoryContext;

	gov_spi_begin_as(spi, r->owner);
	blocking_job_begin(r->relid);
	PG_TRY();
	{
		if (SPI_execute_with_args(sql, nargs, types, values, NULL, read_only, 0) < 0)
			elog(ERROR, "pg_governance: query on %s failed", r->name);
	}
	PG_FINALLY();
	{
		blocking_job_end();
	}
	PG_END_TRY();
	/* what the caller collects outlives the section */
	MemoryContextSwitchTo(cxt);
}

/* the ctids of SPI_tuptable's first column, copied into cxt */
static List *
collect_tids(MemoryContext cxt)
{
	List	   *result = NIL;
	uint64		i;

	for (i = 0; i < SPI_processed; i++)
	{
		bool		isnull;
		Datum		d = SPI_getbinval(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, 1, &isnull);
		ItemPointer tid;

		if (isnull)
			continue;
		tid = MemoryContextAlloc(cxt, sizeof(ItemPointerData));
		ItemPointerCopy((ItemPointer) DatumGetPointer(d), tid);
		result = lappend(result, tid);
	}
	return result;
}

/* ------------------------------------------------------------ the graph */

/* every governed leaf table of this database, and the foreign keys between them */
static void
build_graph(SubjGraph *g)
{
	GovSpi		spi;
	List	   *labelled = NIL;
	ListCell   *lc;
	uint64		i;
	MemoryContext cxt = CurrentMemoryContext;

	gov_spi_begin(&spi, true);
	if (SPI_execute("SELECT DISTINCT l.objoid FROM pg_catalog.pg_seclabel l "
					"WHERE l.provider OPERATOR(pg_catalog.=) 'governance' "
					"  AND l.classoid OPERATOR(pg_catalog.=) 'pg_catalog.pg_class'::pg_catalog.regclass "
					"  AND l.objsubid OPERATOR(pg_catalog.>) 0", true, 0) != SPI_OK_SELECT)
		elog(ERROR, "pg_governance: could not read the labels");
	MemoryContextSwitchTo(cxt);	/* the list outlives the section */
	for (i = 0; i < SPI_processed; i++)
	{
		bool		isnull;

		labelled = lappend_oid(labelled, DatumGetObjectId(SPI_getbinval(SPI_tuptable->vals[i],
																		 SPI_tuptable->tupdesc, 1, &isnull)));
	}
	gov_spi_end(&spi);

	foreach(lc, labelled)
	{
		List	   *all = find_all_inheritors(lfirst_oid(lc), NoLock, NULL);
		ListCell   *c;

		foreach(c, all)
		{
			Oid			relid = lfirst_oid(c);
			GuardRel   *gr;
			SubjRel    *r;
			int			k;

			if (find_rel(g, relid) != NULL || get_rel_relkind(relid) != RELKIND_RELATION)
				continue;
			gr = guard_get(relid);
			if (!gr->governed || gr->policy == NULL)
				continue;
			r = palloc0(sizeof(SubjRel));
			r->relid = relid;
			r->owner = relation_owner(relid);
			r->name = pstrdup(gr->relname);
			r->policy = pstrdup(gr->policy);
			r->has_subject = gr->subject_attno != InvalidAttrNumber;
			for (k = 0; k < gr->ncols; k++)
			{
				StringInfoData cats;
				ListCell   *x;

				if (gr->cols[k].categories == NIL)
					continue;
				initStringInfo(&cats);
				foreach(x, gr->cols[k].categories)
					appendStringInfo(&cats, "%s%s", cats.len ? "," : "", (char *) lfirst(x));
				r->tagged = lappend(r->tagged, pstrdup(gr->cols[k].name));
				r->tag_cats = lappend(r->tag_cats, cats.data);
			}
			g->rels = lappend(g->rels, r);
		}
	}

	/* foreign keys of governed leaf tables, to governed leaf tables */
	foreach(lc, g->rels)
	{
		SubjRel    *child = lfirst(lc);
		Relation	rel = RelationIdGetRelation(child->relid);
		List	   *fks = copyObject(RelationGetFKeyList(rel));
		ListCell   *f;

		RelationClose(rel);
		foreach(f, fks)
		{
			ForeignKeyCacheInfo *fk = lfirst(f);
			List	   *targets;
			ListCell   *t;

			/*
			 * A key references the rows of its table only: not those of
			 * tables that inherit from it.  A key to a partitioned table
			 * has one constraint per partition besides, each with the
			 * partition's own column numbers: those are the edges.
			 */
			if (get_rel_relkind(fk->confrelid) != RELKIND_RELATION)
				continue;
			targets = list_make1_oid(fk->confrelid);
			foreach(t, targets)
			{
				SubjRel    *parent = find_rel(g, lfirst_oid(t));
				SubjEdge   *e;
				ListCell   *x;
				bool		dup = false;

				if (parent == NULL)
					continue;
				foreach(x, g->edges)
				{
					SubjEdge   *o = lfirst(x);

					if (o->child == child && o->parent == parent && o->nkeys == fk->nkeys &&
						memcmp(o->ckey, fk->conkey, sizeof(AttrNumber) * fk->nkeys) == 0)
						dup = true;
				}
				if (dup)
					continue;
				e = palloc0(sizeof(SubjEdge));
				e->child = child;
				e->parent = parent;
				e->nkeys = fk->nkeys;
				memcpy(e->ckey, fk->conkey, sizeof(AttrNumber) * fk->nkeys);
				memcpy(e->pkey, fk->confkey, sizeof(AttrNumber) * fk->nkeys);
				memcpy(e->eqop, fk->conpfeqop, sizeof(Oid) * fk->nkeys);
				g->edges = lappend(g->edges, e);
			}
		}
	}
}

/* ------------------------------------------------------------ finding rows */

/* the rows of a table with a subject column whose subject is this one */
static void
find_by_subject(SubjRel *r, const char *subject, bool lock)
{
	GuardRel   *gr = guard_get(r->relid);
	MemoryContext cxt = CurrentMemoryContext;
	Oid			base = getBaseType(gr->subject_typid);
	Oid			input;
	Oid			ioparam;
	Datum		value;
	Oid			types[1];
	Datum		values[1];
	GovSpi		spi;
	char	   *sql;
	List	   *found;
	ListCell   *lc;

	getTypeInputInfo(base, &input, &ioparam);
	if (!subject_value(subject, input, ioparam, gr->subject_typmod, &value))
	{
		r->note = psprintf("the subject is not a value of type %s, the type of its subject column",
						   format_type_be(gr->subject_typid));
		return;
	}
	sql = psprintf("SELECT t.ctid FROM ONLY %s t WHERE t.%s OPERATOR(pg_catalog.=) $1%s",
				   r->name, column_name(r->relid, gr->subject_attno),
				   lock ? " FOR UPDATE" : "");
	types[0] = gr->subject_typid;
	values[0] = value;
	owner_query(r, &spi, sql, 1, types, values, !lock);
	found = collect_tids(cxt);
	gov_spi_end(&spi);
	MemoryContextSwitchTo(cxt);
	foreach(lc, found)
	{
		ItemPointer tid = lfirst(lc);

		if (add_tid(r, tid))
			r->next = lappend(r->next, tid);
	}
}

/*
 * Follow one foreign key from the rows "from" found in the last round to
 * the rows of "to" that match them: the key values are read from "from",
 * as typed arrays, then looked up in "to" (an index lookup where "to" has
 * an index on the key).
 */
static void
follow(SubjRel *from, AttrNumber *fromkey, SubjRel *to, AttrNumber *tokey, Oid *eqop,
	   bool to_is_parent, int nkeys, bool lock)
{
	MemoryContext cxt = CurrentMemoryContext;
	GovSpi		spi;
	StringInfoData sql;
	Oid			types[INDEX_MAX_KEYS];
	Datum		values[INDEX_MAX_KEYS];
	Datum	  **cols;
	int			nrows = 0;
	int			k;
	uint64		i;
	Oid			tidtype[1] = {TIDARRAYOID};
	Datum		tids[1];
	List	   *found;
	ListCell   *lc;

	if (from->frontier == NIL)
		return;
	/* the key values of the rows found */
	initStringInfo(&sql);
	appendStringInfoString(&sql, "SELECT ");
	for (k = 0; k < nkeys; k++)
		appendStringInfo(&sql, "%st.%s", k ? ", " : "", column_name(from->relid, fromkey[k]));
	appendStringInfo(&sql, " FROM ONLY %s t WHERE t.ctid OPERATOR(pg_catalog.=) ANY ($1)", from->name);
	tids[0] = tid_array(from->frontier);
	owner_query(from, &spi, sql.data, 1, tidtype, tids, true);
	cols = palloc(sizeof(Datum *) * nkeys);
	for (k = 0; k < nkeys; k++)
		cols[k] = MemoryContextAlloc(cxt, sizeof(Datum) * Max(SPI_processed, 1));
	for (i = 0; i < SPI_processed; i++)
	{
		bool		anynull = false;
		Datum		row[INDEX_MAX_KEYS];

		for (k = 0; k < nkeys; k++)
		{
			bool		isnull;

			row[k] = SPI_getbinval(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, k + 1, &isnull);
			anynull |= isnull;
		}
		if (anynull)
			continue;			/* MATCH SIMPLE: a NULL key references nothing */
		for (k = 0; k < nkeys; k++)
		{
			Form_pg_attribute att = TupleDescAttr(SPI_tuptable->tupdesc, k);

			MemoryContextSwitchTo(cxt);
			cols[k][nrows] = datumCopy(row[k], att->attbyval, att->attlen);
		}
		nrows++;
	}
	for (k = 0; k < nkeys; k++)
		types[k] = get_array_type(SPI_gettypeid(SPI_tuptable->tupdesc, k + 1));
	gov_spi_end(&spi);
	MemoryContextSwitchTo(cxt);
	if (nrows == 0)
		return;

	for (k = 0; k < nkeys; k++)
	{
		Oid			elem = get_element_type(types[k]);
		int16		len;
		bool		byval;
		char		align;

		if (!OidIsValid(types[k]))
			elog(ERROR, "pg_governance: no array type for a key column of %s", from->name);
		get_typlenbyvalalign(elem, &len, &byval, &align);
		values[k] = PointerGetDatum(construct_array(cols[k], nrows, elem, len, byval, align));
	}

	/* the matching rows of "to" (the operator is pk = fk) */
	resetStringInfo(&sql);
	appendStringInfo(&sql, "SELECT t.ctid FROM ONLY %s t WHERE ", to->name);
	if (nkeys == 1)
		appendStringInfo(&sql, to_is_parent ? "t.%s %s ANY ($1)" : "t.%s %s ANY ($1)",
						 column_name(to->relid, tokey[0]), operator_sql(eqop[0]));
	else
	{
		appendStringInfoString(&sql, "EXISTS (SELECT 1 FROM ROWS FROM (");
		for (k = 0; k < nkeys; k++)
			appendStringInfo(&sql, "%spg_catalog.unnest($%d)", k ? ", " : "", k + 1);
		appendStringInfoString(&sql, ") AS u(");
		for (k = 0; k < nkeys; k++)
			appendStringInfo(&sql, "%sk%d", k ? ", " : "", k + 1);
		appendStringInfoString(&sql, ") WHERE ");
		for (k = 0; k < nkeys; k++)
		{
			if (to_is_parent)
				appendStringInfo(&sql, "%st.%s %s u.k%d", k ? " AND " : "",
								 column_name(to->relid, tokey[k]), operator_sql(eqop[k]), k + 1);
			else
				appendStringInfo(&sql, "%su.k%d %s t.%s", k ? " AND " : "", k + 1,
								 operator_sql(eqop[k]), column_name(to->relid, tokey[k]));
		}
		appendStringInfoChar(&sql, ')');
	}
	if (lock)
		appendStringInfoString(&sql, " FOR UPDATE");
	/* single key: "t.fk = ANY(pk values)" needs fk = pk; the operator is pk = fk */
	if (nkeys == 1 && !to_is_parent)
	{
		resetStringInfo(&sql);
		appendStringInfo(&sql, "SELECT t.ctid FROM ONLY %s t WHERE EXISTS (SELECT 1 FROM pg_catalog.unnest($1) AS u(k1) "
						 "WHERE u.k1 %s t.%s)%s", to->name, operator_sql(eqop[0]),
						 column_name(to->relid, tokey[0]), lock ? " FOR UPDATE" : "");
	}
	owner_query(to, &spi, sql.data, nkeys, types, values, !lock);
	found = collect_tids(cxt);
	gov_spi_end(&spi);
	MemoryContextSwitchTo(cxt);
	foreach(lc, found)
	{
		ItemPointer tid = lfirst(lc);

		if (add_tid(to, tid))
			to->next = lappend(to->next, tid);
	}
}

/*
 * Find the subject's rows: by subject column, then along the foreign keys
 * (to children always; to parents for an export), until nothing new.
 */
static void
find_rows(SubjGraph *g, const char *subject, bool erase)
{
	ListCell   *lc;
	bool		more;

	foreach(lc, g->rels)
	{
		SubjRel    *r = lfirst(lc);

		if (r->has_subject)
			find_by_subject(r, subject, erase);
	}
	do
	{
		more = false;
		foreach(lc, g->rels)
		{
			SubjRel    *r = lfirst(lc);

			r->tids = list_concat(r->tids, r->next);
			r->frontier = r->next;
			r->next = NIL;
			more |= r->frontier != NIL;
		}
		if (!more)
			break;
		foreach(lc, g->edges)
		{
			SubjEdge   *e = lfirst(lc);

			/* a table with a subject column holds other subjects' rows */
			if (!e->child->has_subject)
				follow(e->parent, e->pkey, e->child, e->ckey, e->eqop, false, e->nkeys, erase);
			if (!erase && !e->parent->has_subject)
				follow(e->child, e->ckey, e->parent, e->pkey, e->eqop, true, e->nkeys, false);
		}
	} while (more);
}

/* ------------------------------------------------------------ export */

/* {"column": ["category", ...], ...} of a table's tagged columns */
static Datum
columns_json(SubjRel *r)
{
	StringInfoData buf;
	ListCell   *n;
	ListCell   *c;

	initStringInfo(&buf);
	appendStringInfoChar(&buf, '{');
	forboth(n, r->tagged, c, r->tag_cats)
	{
		char	   *cats = pstrdup(lfirst(c));
		char	   *tok;
		char	   *save = NULL;
		bool		first = true;

		if (buf.len > 1)
			appendStringInfoChar(&buf, ',');
		escape_json(&buf, lfirst(n));
		appendStringInfoString(&buf, ":[");
		for (tok = strtok_r(cats, ",", &save); tok; tok = strtok_r(NULL, ",", &save))
		{
			if (!first)
				appendStringInfoChar(&buf, ',');
			escape_json(&buf, tok);
			first = false;
		}
		appendStringInfoChar(&buf, ']');
	}
	appendStringInfoChar(&buf, '}');
	return DirectFunctionCall1(jsonb_in, CStringGetDatum(buf.data));
}

/*
 * governance._subject_rows(subject text)
 *		→ (relation regclass, policy text, row jsonb, columns jsonb, note text)
 *		Every governed row of the subject, as jsonb, with its table's tagged
 *		columns and their categories; a table skipped has a note instead.
 */
Datum
governance_subject_rows(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	char	   *subject = text_to_cstring(PG_GETARG_TEXT_PP(0));
	SubjGraph	g = {NIL, NIL};
	ListCell   *lc;

	InitMaterializedSRF(fcinfo, 0);
	build_graph(&g);
	find_rows(&g, subject, false);

	foreach(lc, g.rels)
	{
		SubjRel    *r = lfirst(lc);
		Datum		values[5];
		bool		nulls[5] = {false, false, false, false, false};
		MemoryContext cxt = CurrentMemoryContext;
		Datum		columns;
		GovSpi		spi;
		Oid			types[1] = {TIDARRAYOID};
		Datum		args[1];
		uint64		i;

		values[0] = ObjectIdGetDatum(r->relid);
		values[1] = CStringGetTextDatum(r->policy);
		if (r->note)
		{
			nulls[2] = nulls[3] = true;
			values[4] = CStringGetTextDatum(r->note);
			tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
			continue;
		}
		if (r->tids == NIL)
			continue;
		columns = columns_json(r);
		args[0] = tid_array(r->tids);
		owner_query(r, &spi, psprintf("SELECT pg_catalog.to_jsonb(t) FROM ONLY %s t "
									  "WHERE t.ctid OPERATOR(pg_catalog.=) ANY ($1)", r->name),
					1, types, args, true);
		for (i = 0; i < SPI_processed; i++)
		{
			bool		isnull;
			Datum		row = SPI_getbinval(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, 1, &isnull);

			MemoryContextSwitchTo(cxt);
			values[2] = row;
			values[3] = columns;
			nulls[4] = true;
			/* copies the values: the SPI memory goes with gov_spi_end */
			tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
		}
		gov_spi_end(&spi);
		MemoryContextSwitchTo(cxt);
	}
	return (Datum) 0;
}

/* ------------------------------------------------------------ erasure */

typedef enum EraseOutcome
{
	ERASE_DELETED,
	ERASE_HELD,					/* GV005 */
	ERASE_RETAINED,				/* GV003 */
	ERASE_REFERENCED,			/* 23503: try again, then anonymize */
	ERASE_ANONYMIZED,
	ERASE_UNCHANGED,			/* the statement touched no row */
	ERASE_NOUTCOMES
} EraseOutcome;

static const char *const outcome_name[] = {
	"deleted", "kept and blocked: legal hold", "kept and blocked: minimum retention",
	"kept: referenced from elsewhere, nothing to anonymize", "anonymized",
	"kept: not erased (a trigger or row security of the table left it)"
};

/*
 * Run one statement on one row in a subtransaction; the guard's refusals
 * and a reference from elsewhere are outcomes, anything else is raised.
 */
static EraseOutcome
row_statement(SubjRel *r, const char *sql, ItemPointer tid, EraseOutcome ok)
{
	MemoryContext cxt = CurrentMemoryContext;
	ResourceOwner owner = CurrentResourceOwner;
	volatile EraseOutcome result = ok;
	Oid			types[1] = {TIDOID};
	Datum		args[1] = {PointerGetDatum(tid)};

	BeginInternalSubTransaction(NULL);
	MemoryContextSwitchTo(cxt);
	PG_TRY();
	{
		GovSpi		spi;

		owner_query(r, &spi, sql, 1, types, args, false);
		/* a BEFORE trigger returning NULL, or a policy, can skip the row */
		if (SPI_processed != 1)
			result = ERASE_UNCHANGED;
		gov_spi_end(&spi);
		ReleaseCurrentSubTransaction();
	}
	PG_CATCH();
	{
		ErrorData  *edata;

		MemoryContextSwitchTo(cxt);
		edata = CopyErrorData();
		if (edata->sqlerrcode == ERRCODE_GV_LEGAL_HOLD)
			result = ERASE_HELD;
		else if (edata->sqlerrcode == ERRCODE_GV_RETENTION)
			result = ERASE_RETAINED;
		else if (edata->sqlerrcode == ERRCODE_FOREIGN_KEY_VIOLATION)
			result = ERASE_REFERENCED;
		else
		{
			/* nothing half done: the whole erasure goes */
			RollbackAndReleaseCurrentSubTransaction();
			MemoryContextSwitchTo(cxt);
			CurrentResourceOwner = owner;
			ReThrowError(edata);
		}
		FlushErrorState();
		RollbackAndReleaseCurrentSubTransaction();
	}
	PG_END_TRY();
	MemoryContextSwitchTo(cxt);
	CurrentResourceOwner = owner;
	return result;
}

/*
 * UPDATE ... SET every tagged column (and the subject column) to its
 * anonymized value; NULL when the table has no such column.  Anchors and
 * region columns stay: they say when and where, not who.
 */
static char *
anonymize_sql(SubjRel *r, const char *seed)
{
	GuardRel   *gr = guard_get(r->relid);
	Relation	rel = RelationIdGetRelation(r->relid);
	StringInfoData buf;
	bool		first = true;
	int			k;

	initStringInfo(&buf);
	appendStringInfo(&buf, "UPDATE ONLY %s t SET ", r->name);
	for (k = 0; k < gr->ncols; k++)
	{
		GuardColumn *c = &gr->cols[k];
		const char *cat = c->categories ? linitial(c->categories) : (c->subject ? "personal" : NULL);
		const char *col;

		if (cat == NULL || c->anchor != NULL || c->region)
			continue;
		col = quote_identifier(c->name);
		appendStringInfo(&buf, "%s%s = governance.anonymize(t.%s, %s::governance.category, %d, %s)",
						 first ? "" : ", ", col, col, quote_literal_cstr(cat),
						 TupleDescAttr(RelationGetDescr(rel), c->attnum - 1)->atttypmod,
						 quote_literal_cstr(psprintf("%s:%u:%d", seed, r->relid, k)));
		first = false;
	}
	RelationClose(rel);
	if (first)
		return NULL;
	appendStringInfoString(&buf, " WHERE t.ctid OPERATOR(pg_catalog.=) $1");
	return buf.data;
}

/* children before the rows they reference; a cycle between tables is refused */
static List *
erasure_order(SubjGraph *g)
{
	List	   *order = NIL;
	List	   *left = NIL;
	ListCell   *lc;

	foreach(lc, g->rels)
		if (((SubjRel *) lfirst(lc))->tids != NIL)
			left = lappend(left, lfirst(lc));
	while (left != NIL)
	{
		SubjRel    *pick = NULL;

		foreach(lc, left)
		{
			SubjRel    *r = lfirst(lc);
			ListCell   *e;
			bool		referenced = false;

			/* is r referenced by a table still to be erased (other than itself)? */
			foreach(e, g->edges)
			{
				SubjEdge   *edge = lfirst(e);

				if (edge->parent == r && edge->child != r && list_member_ptr(left, edge->child))
					referenced = true;
			}
			if (!referenced)
			{
				pick = r;
				break;
			}
		}
		if (pick == NULL)
		{
			StringInfoData names;

			initStringInfo(&names);
			foreach(lc, left)
				appendStringInfo(&names, "%s%s", names.len ? ", " : "", ((SubjRel *) lfirst(lc))->name);
			ereport(ERROR,
					(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
					 errmsg("cannot erase the subject: the foreign keys between its tables form a cycle"),
					 errdetail("Tables in the cycle, or referenced by it: %s. Nothing was erased.", names.data),
					 errhint("Erase these rows by hand (for example with deferrable constraints), then call governance.erase_subject again.")));
		}
		order = lappend(order, pick);
		left = list_delete_ptr(left, pick);
	}
	return order;
}

/* a foreign key that deletes or changes its rows when a referenced row goes */
typedef struct CascadeKey
{
	Oid			child;
	Oid			owner;
	char	   *name;			/* the referencing table, qualified and quoted */
	int			nkeys;
	AttrNumber	ckey[INDEX_MAX_KEYS];
	AttrNumber	pkey[INDEX_MAX_KEYS];
	Oid			eqop[INDEX_MAX_KEYS];	/* pk = fk */
} CascadeKey;

/*
 * The keys that reference a table ON DELETE CASCADE, SET NULL or SET
 * DEFAULT: deleting one of the subject's rows would silently delete or
 * change the rows that reference it, which (children going first) are
 * other people's or kept rows.
 */
static List *
cascade_keys(Oid relid)
{
	MemoryContext cxt = CurrentMemoryContext;
	List	   *result = NIL;
	GovSpi		spi;
	Oid			types[1] = {OIDOID};
	Datum		args[1] = {ObjectIdGetDatum(relid)};
	uint64		i;

	gov_spi_begin(&spi, true);
	if (SPI_execute_with_args("SELECT c.conrelid, c.conkey, c.confkey, c.conpfeqop "
							  "FROM pg_catalog.pg_constraint c "
							  "WHERE c.contype OPERATOR(pg_catalog.=) 'f' "
							  "  AND c.confrelid OPERATOR(pg_catalog.=) $1 "
							  "  AND c.confdeltype OPERATOR(pg_catalog.=) ANY ('{c,n,d}'::\"char\"[])",
							  1, types, args, NULL, true, 0) != SPI_OK_SELECT)
		elog(ERROR, "pg_governance: could not read the foreign keys of relation %u", relid);
	MemoryContextSwitchTo(cxt);
	for (i = 0; i < SPI_processed; i++)
	{
		HeapTuple	tup = SPI_tuptable->vals[i];
		TupleDesc	desc = SPI_tuptable->tupdesc;
		CascadeKey *k = palloc0(sizeof(CascadeKey));
		bool		isnull;
		Datum	   *elems;
		int			n;
		int			j;

		k->child = DatumGetObjectId(SPI_getbinval(tup, desc, 1, &isnull));
		k->owner = relation_owner(k->child);
		k->name = quote_qualified_identifier(get_namespace_name(get_rel_namespace(k->child)),
											 get_rel_name(k->child));
		deconstruct_array(DatumGetArrayTypeP(SPI_getbinval(tup, desc, 2, &isnull)),
						  INT2OID, 2, true, TYPALIGN_SHORT, &elems, NULL, &n);
		k->nkeys = Min(n, INDEX_MAX_KEYS);
		for (j = 0; j < k->nkeys; j++)
			k->ckey[j] = DatumGetInt16(elems[j]);
		deconstruct_array(DatumGetArrayTypeP(SPI_getbinval(tup, desc, 3, &isnull)),
						  INT2OID, 2, true, TYPALIGN_SHORT, &elems, NULL, &n);
		for (j = 0; j < k->nkeys; j++)
			k->pkey[j] = DatumGetInt16(elems[j]);
		deconstruct_array(DatumGetArrayTypeP(SPI_getbinval(tup, desc, 4, &isnull)),
						  OIDOID, sizeof(Oid), true, TYPALIGN_INT, &elems, NULL, &n);
		for (j = 0; j < k->nkeys; j++)
			k->eqop[j] = DatumGetObjectId(elems[j]);
		result = lappend(result, k);
	}
	gov_spi_end(&spi);
	MemoryContextSwitchTo(cxt);
	return result;
}

/*
 * The values of columns keys[0..nkeys) of one row, as its table's owner,
 * into types/values (copied into the caller's context); false when the row
 * is gone or a key column is NULL (MATCH SIMPLE: it references nothing).
 */
static bool
row_key(SubjRel *r, ItemPointer tid, AttrNumber *keys, int nkeys, Oid *types, Datum *values)
{
	MemoryContext cxt = CurrentMemoryContext;
	StringInfoData sql;
	Oid			tidtype[1] = {TIDOID};
	Datum		tidarg[1] = {PointerGetDatum(tid)};
	GovSpi		spi;
	bool		ok;
	int			j;

	initStringInfo(&sql);
	appendStringInfoString(&sql, "SELECT ");
	for (j = 0; j < nkeys; j++)
		appendStringInfo(&sql, "%st.%s", j ? ", " : "", column_name(r->relid, keys[j]));
	appendStringInfo(&sql, " FROM ONLY %s t WHERE t.ctid OPERATOR(pg_catalog.=) $1", r->name);
	owner_query(r, &spi, sql.data, 1, tidtype, tidarg, true);
	ok = SPI_processed == 1;
	for (j = 0; ok && j < nkeys; j++)
	{
		bool		isnull;
		Form_pg_attribute att = TupleDescAttr(SPI_tuptable->tupdesc, j);
		Datum		d = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, j + 1, &isnull);

		ok = !isnull;
		types[j] = att->atttypid;
		values[j] = isnull ? (Datum) 0 : datumCopy(d, att->attbyval, att->attlen);
	}
	gov_spi_end(&spi);
	MemoryContextSwitchTo(cxt);
	return ok;
}

/* does a row of another table still reference this row through a cascading key? */
static bool
cascade_referenced(SubjRel *r, ItemPointer tid, List *keys)
{
	MemoryContext cxt = CurrentMemoryContext;
	ListCell   *lc;

	foreach(lc, keys)
	{
		CascadeKey *k = lfirst(lc);
		SubjRel		child = {0};
		StringInfoData sql;
		Datum		values[INDEX_MAX_KEYS];
		Oid			types[INDEX_MAX_KEYS];
		GovSpi		spi;
		bool		found;
		int			j;

		if (!row_key(r, tid, k->pkey, k->nkeys, types, values))
			continue;

		/* a referencing row, as the referencing table's owner */
		child.relid = k->child;
		child.owner = k->owner;
		child.name = k->name;
		initStringInfo(&sql);
		appendStringInfo(&sql, "SELECT 1 FROM ONLY %s c WHERE ", k->name);
		for (j = 0; j < k->nkeys; j++)
			appendStringInfo(&sql, "%s$%d %s c.%s", j ? " AND " : "", j + 1,
							 operator_sql(k->eqop[j]), column_name(k->child, k->ckey[j]));
		appendStringInfoString(&sql, " LIMIT 1");
		owner_query(&child, &spi, sql.data, k->nkeys, types, values, true);
		found = SPI_processed > 0;
		gov_spi_end(&spi);
		MemoryContextSwitchTo(cxt);
		if (found)
			return true;
	}
	return false;
}

/*
 * Is a row of a table without a subject column also another person's?  It
 * is the subject's because it references the subject's rows; if another of
 * its keys references a row of a table with a subject column that is not
 * the subject's (a message from Bob to Alice), it is shared: deleting it
 * would erase the other person's data too.
 */
static bool
shared_with_others(SubjGraph *g, SubjRel *r, ItemPointer tid)
{
	MemoryContext cxt = CurrentMemoryContext;
	ListCell   *lc;

	if (r->has_subject)
		return false;
	foreach(lc, g->edges)
	{
		SubjEdge   *e = lfirst(lc);
		StringInfoData sql;
		Datum		values[INDEX_MAX_KEYS];
		Oid			types[INDEX_MAX_KEYS];
		GovSpi		spi;
		List	   *parents;
		ListCell   *p;
		int			j;

		if (e->child != r || !e->parent->has_subject)
			continue;
		if (!row_key(r, tid, e->ckey, e->nkeys, types, values))
			continue;

		/* the rows it references there, as that table's owner (the operator is pk = fk) */
		initStringInfo(&sql);
		appendStringInfo(&sql, "SELECT p.ctid FROM ONLY %s p WHERE ", e->parent->name);
		for (j = 0; j < e->nkeys; j++)
			appendStringInfo(&sql, "%sp.%s %s $%d", j ? " AND " : "",
							 column_name(e->parent->relid, e->pkey[j]), operator_sql(e->eqop[j]), j + 1);
		owner_query(e->parent, &spi, sql.data, e->nkeys, types, values, true);
		parents = collect_tids(cxt);
		gov_spi_end(&spi);
		MemoryContextSwitchTo(cxt);
		foreach(p, parents)
			if (!has_seen(e->parent, lfirst(p)))
				return true;
	}
	return false;
}

typedef struct Tally
{
	SubjRel    *r;
	int64		n[ERASE_NOUTCOMES];
} Tally;

/*
 * A row's key over the given columns, as the governance_restricted policy
 * compares it (restrict.c): ARRAY[CAST(c AS text), ...], read as the
 * table's owner.  NULL when the row is gone.
 */
static ArrayType *
restrict_row_key(SubjRel *r, ItemPointer tid, List *columns)
{
	MemoryContext cxt = CurrentMemoryContext;
	StringInfoData sql;
	Oid			tidtype[1] = {TIDOID};
	Datum		tidarg[1] = {PointerGetDatum(tid)};
	GovSpi		spi;
	ArrayType  *result = NULL;
	ListCell   *lc;

	initStringInfo(&sql);
	appendStringInfoString(&sql, "SELECT ARRAY[");
	foreach(lc, columns)
		appendStringInfo(&sql, "%sCAST(t.%s AS pg_catalog.text)", foreach_current_index(lc) ? ", " : "",
						 quote_identifier(lfirst(lc)));
	appendStringInfo(&sql, "] FROM ONLY %s t WHERE t.ctid OPERATOR(pg_catalog.=) $1", r->name);
	owner_query(r, &spi, sql.data, 1, tidtype, tidarg, true);
	if (SPI_processed == 1)
	{
		bool		isnull;
		Datum		d = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull);

		MemoryContextSwitchTo(cxt);
		if (!isnull)
			result = DatumGetArrayTypePCopy(d);
	}
	gov_spi_end(&spi);
	MemoryContextSwitchTo(cxt);
	return result;
}

/*
 * The rows of r that the erasure keeps (legal hold, minimum retention) are
 * blocked at once: their keys noted, the table's (and its ancestors')
 * governance_restricted policy made to read them.
 */
static void
restrict_kept(SubjRel *r, List *kept, List *reasons)
{
	RestrictPart *part;
	ListCell   *lc;
	ListCell   *why;

	if (kept == NIL)
		return;
	part = restrict_choose(r->relid);
	forboth(lc, kept, why, reasons)
	{
		ArrayType  *key = restrict_row_key(r, lfirst(lc), part->columns);

		/* fail closed: a kept row that cannot be keyed would stay visible */
		if (key == NULL)
			ereport(ERROR,
					(errcode(ERRCODE_GV_BLOCKED),
					 errmsg("cannot block a kept row of table %s", r->name),
					 errdetail("The row the erasure keeps could not be read back as the table's owner (row security of the table's own?)."),
					 errhint("Make sure the table's owner can read all its rows, then erase the subject again.")));
		restrict_store(r->relid, part->id, key, lfirst(why), false);
	}
	restrict_apply(r->relid, part);
}

/* a row that was blocked as an erased subject's and is now erased: unblock it */
static void
restrict_forget(SubjRel *r, List *parts, List *keys)
{
	ListCell   *p;
	ListCell   *k;

	forboth(p, parts, k, keys)
		if (lfirst(k))
		restrict_store(r->relid, ((RestrictPart *) lfirst(p))->id, lfirst(k), NULL, true);
}

/* the row's key under each of the table's restrictions, before it changes */
static List *
restrict_keys_before(SubjRel *r, List *parts, ItemPointer tid)
{
	List	   *keys = NIL;
	ListCell   *p;

	foreach(p, parts)
		keys = lappend(keys, restrict_row_key(r, tid, ((RestrictPart *) lfirst(p))->columns));
	return keys;
}

/* find the subject's rows and erase them, children first; one Tally per table */
static List *
erase_rows(SubjGraph *g, const char *subject, const char *seed)
{
	List	   *order;
	List	   *tallies = NIL;
	ListCell   *lc;

	restrict_forget_orphans();
	build_graph(g);
	find_rows(g, subject, true);
	order = erasure_order(g);
	foreach(lc, order)
	{
		SubjRel    *r = lfirst(lc);
		Tally	   *t = palloc0(sizeof(Tally));
		char	   *del = psprintf("DELETE FROM ONLY %s t WHERE t.ctid OPERATOR(pg_catalog.=) $1", r->name);
		List	   *pending = r->tids;
		bool		progress = true;
		ListCell   *lc2;
		char	   *anon;
		List	   *cascades = cascade_keys(r->relid);
		List	   *parts = restrict_parts(r->relid);
		List	   *kept = NIL;
		List	   *reasons = NIL;

		t->r = r;
		/* rows referencing each other within the table: passes until no progress */
		while (pending != NIL && progress)
		{
			List	   *again = NIL;
			ListCell   *p;

			progress = false;
			foreach(p, pending)
			{
				ItemPointer tid = lfirst(p);
				EraseOutcome o;
				List	   *keys = parts ? restrict_keys_before(r, parts, tid) : NIL;

				/*
				 * A cascade would take other rows with it, or the row is
				 * another person's too: not deleted (anonymized below).
				 */
				if ((cascades != NIL && cascade_referenced(r, tid, cascades)) ||
					shared_with_others(g, r, tid))
					o = ERASE_REFERENCED;
				else
					o = row_statement(r, del, tid, ERASE_DELETED);

				if (o == ERASE_REFERENCED)
					again = lappend(again, tid);
				else
				{
					t->n[o]++;
					progress = true;
				}
				if (o == ERASE_DELETED)
					restrict_forget(r, parts, keys);
				else if (o == ERASE_HELD || o == ERASE_RETAINED)
				{
					kept = lappend(kept, tid);
					reasons = lappend(reasons, (char *) outcome_name[o]);
				}
			}
			pending = again;
		}
		/* still referenced from outside the subject's rows: anonymized instead */
		anon = anonymize_sql(r, seed);
		foreach(lc2, pending)
		{
			ItemPointer tid = lfirst(lc2);
			List	   *keys;
			EraseOutcome o;

			if (anon == NULL)
			{
				t->n[ERASE_REFERENCED]++;
				continue;
			}
			keys = parts ? restrict_keys_before(r, parts, tid) : NIL;
			o = row_statement(r, anon, tid, ERASE_ANONYMIZED);
			t->n[o]++;
			if (o == ERASE_ANONYMIZED)
				restrict_forget(r, parts, keys);
			else if (o == ERASE_HELD || o == ERASE_RETAINED)
			{
				kept = lappend(kept, tid);
				reasons = lappend(reasons, (char *) outcome_name[o]);
			}
		}
		restrict_kept(r, kept, reasons);
		tallies = lappend(tallies, t);
	}

	return tallies;
}

/*
 * governance._erase_subject_rows(subject text, dry_run boolean)
 *		→ (relation regclass, action text, rows bigint)
 *		Deletes the subject's rows, children first, in one transaction; rows
 *		the guard keeps stay, rows referenced from outside are anonymized.
 *		A dry run does the same in a subtransaction, and rolls it back.
 */
Datum
governance_erase_subject_rows(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	char	   *subject = text_to_cstring(PG_GETARG_TEXT_PP(0));
	bool		dry_run = PG_GETARG_BOOL(1);
	MemoryContext cxt = CurrentMemoryContext;
	ResourceOwner owner = CurrentResourceOwner;
	SubjGraph	g = {NIL, NIL};
	uint8		rnd[8];
	char		seed[17];
	ListCell   *lc;
	List	   *volatile tallies = NIL;

	InitMaterializedSRF(fcinfo, 0);
	if (!pg_strong_random(rnd, sizeof(rnd)))
		ereport(ERROR,
				(errcode(ERRCODE_INTERNAL_ERROR),
				 errmsg("could not generate a random seed"),
				 errdetail("pg_strong_random() failed."),
				 errhint("Check the server's source of randomness.")));
	hex_encode((const char *) rnd, sizeof(rnd), seed);
	seed[16] = '\0';

	if (dry_run)
	{
		BeginInternalSubTransaction(NULL);
		MemoryContextSwitchTo(cxt);
	}
	PG_TRY();
	{
		tallies = erase_rows(&g, subject, seed);
	}
	PG_CATCH();
	{
		/* a dry run's subtransaction must not outlive the error */
		if (dry_run)
		{
			MemoryContextSwitchTo(cxt);
			RollbackAndReleaseCurrentSubTransaction();
			CurrentResourceOwner = owner;
		}
		PG_RE_THROW();
	}
	PG_END_TRY();

	if (dry_run)
	{
		RollbackAndReleaseCurrentSubTransaction();
		MemoryContextSwitchTo(cxt);
		CurrentResourceOwner = owner;
	}

	foreach(lc, tallies)
	{
		Tally	   *t = lfirst(lc);
		int			o;

		for (o = 0; o < ERASE_NOUTCOMES; o++)
		{
			Datum		values[3];
			bool		nulls[3] = {false, false, false};

			if (t->n[o] == 0)
				continue;
			values[0] = ObjectIdGetDatum(t->r->relid);
			values[1] = CStringGetTextDatum(outcome_name[o]);
			values[2] = Int64GetDatum(t->n[o]);
			tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
		}
	}
	foreach(lc, g.rels)
	{
		SubjRel    *r = lfirst(lc);

		if (r->note)
		{
			Datum		values[3];
			bool		nulls[3] = {false, false, true};

			values[0] = ObjectIdGetDatum(r->relid);
			values[1] = CStringGetTextDatum(psprintf("skipped: %s", r->note));
			tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
		}
	}
	return (Datum) 0;
}
