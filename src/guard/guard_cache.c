/*-------------------------------------------------------------------------
 *
 * guard_cache.c
 *	  Per-relation compiled rules: what the guard needs to check a row of a
 *	  governed table, built once from the labels and the bound policy and
 *	  kept until an invalidation says otherwise.
 *
 * The shape is pgoutput's relation cache: a hash table in its own memory
 * context, one relcache callback registered once that only marks entries
 * invalid, and entries rebuilt lazily on their next use.  Label changes
 * invalidate the table and its partitions; policy, parameter and hold
 * changes invalidate everything, so every session sees them on its next
 * statement.  Building an entry runs a few catalog queries; using it runs
 * none.
 *
 * Effective labels of a partition are its own plus its ancestors',
 * matched by column name.  The policy is the nearest binding of the
 * relation, its ancestors, its schema and the database.
 *
 *-------------------------------------------------------------------------
 */
#include "pg_governance.h"

#include "access/genam.h"
#include "access/htup_details.h"
#include "access/xact.h"
#include "access/table.h"
#include "catalog/namespace.h"
#include "catalog/objectaddress.h"
#include "catalog/partition.h"
#include "catalog/pg_class.h"
#include "catalog/pg_database.h"
#include "catalog/pg_inherits.h"
#include "catalog/pg_namespace.h"
#include "catalog/pg_tablespace.h"
#include "catalog/pg_type.h"
#include "commands/seclabel.h"
#include "commands/tablespace.h"
#include "executor/spi.h"
#include "miscadmin.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/datum.h"
#include "utils/fmgroids.h"
#include "utils/guc.h"
#include "utils/hsearch.h"
#include "utils/inval.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/rel.h"
#include "rewrite/rowsecurity.h"
#include "utils/syscache.h"
#include "utils/timestamp.h"
#include "utils/resowner.h"
#include "utils/typcache.h"

static HTAB *guard_cache = NULL;

/*
 * SPI's execution functions return with CurrentMemoryContext set to SPI's
 * procedure context, which SPI_finish frees.  Compiled rules must outlive
 * it, so every query below goes through this and returns to the entry's
 * context.
 */
static void
guard_query(const char *sql, int nargs, Oid *argtypes, Datum *args)
{
	MemoryContext cxt = CurrentMemoryContext;

	if (SPI_execute_with_args(sql, nargs, argtypes, args, NULL, true, 0) != SPI_OK_SELECT)
		elog(ERROR, "pg_governance: catalog query failed: %s", sql);
	MemoryContextSwitchTo(cxt);
}

static MemoryContext guard_cache_cxt = NULL;
static uint32 guard_generation = 0;

static void
guard_relcache_callback(Datum arg, Oid relid)
{
	HASH_SEQ_STATUS status;
	GuardRel   *entry;

	if (guard_cache == NULL)
		return;
	/* stale: an entry being built when this arrives is not valid once built */
	if (OidIsValid(relid))
	{
		entry = hash_search(guard_cache, &relid, HASH_FIND, NULL);
		if (entry)
			entry->valid = false, entry->stale = true;
		return;
	}
	hash_seq_init(&status, guard_cache);
	while ((entry = hash_seq_search(&status)) != NULL)
		entry->valid = false, entry->stale = true;
}

/* a schema renamed: the qualified names in the entries are stale */
static void
guard_namespace_callback(Datum arg, int cacheid, uint32 hashvalue)
{
	guard_relcache_callback(arg, InvalidOid);
}

static void
guard_cache_init(void)
{
	HASHCTL		ctl;

	guard_cache_cxt = AllocSetContextCreate(CacheMemoryContext,
											"pg_governance guard cache",
											ALLOCSET_DEFAULT_SIZES);
	ctl.keysize = sizeof(Oid);
	ctl.entrysize = sizeof(GuardRel);
	ctl.hcxt = guard_cache_cxt;
	guard_cache = hash_create("pg_governance guard cache", 64, &ctl,
							  HASH_ELEM | HASH_BLOBS | HASH_CONTEXT);
	CacheRegisterRelcacheCallback(guard_relcache_callback, (Datum) 0);
	CacheRegisterSyscacheCallback(NAMESPACEOID, guard_namespace_callback, (Datum) 0);
}

/* ------------------------------------------------------------ labels */

static char *
object_label(Oid classid, Oid objid, int32 subid)
{
	ObjectAddress addr;

	addr.classId = classid;
	addr.objectId = objid;
	addr.objectSubId = subid;
	return GetSecurityLabel(&addr, GOVERNANCE_PROVIDER);
}

/*
 * The effective label of a column: its own items plus those of the
 * same-named column of every ancestor.  A label that does not parse (it
 * cannot have been stored through the provider, but a catalog edit could
 * do it) makes the table fail closed.
 */
static bool
effective_column_label(Oid relid, List *ancestors, const char *attname,
					   AttrNumber attnum, GovLabel *out, char **err)
{
	ListCell   *lc;
	bool		found = false;
	char	   *label = object_label(RelationRelationId, relid, attnum);

	*err = NULL;
	memset(out, 0, sizeof(GovLabel));
	if (label)
	{
		if (!label_parse(label, LABEL_COLUMN, out, err))
			return false;
		found = true;
	}
	foreach(lc, ancestors)
	{
		Oid			anc = lfirst_oid(lc);
		AttrNumber	ancatt = get_attnum(anc, attname);
		GovLabel	more;

		if (ancatt == InvalidAttrNumber)
			continue;
		label = object_label(RelationRelationId, anc, ancatt);
		if (label == NULL)
			continue;
		if (!label_parse(label, LABEL_COLUMN, &more, err))
			return false;
		out->categories = label_merge_categories(out->categories, more.categories);
		out->subject |= more.subject;
		out->region_column |= more.region_column;
		if (out->anchor == NULL)
			out->anchor = more.anchor;
		found = true;
	}
	return found;
}

/*
 * The database's label; when it is missing (a restore without pg_dump
 * --create does not bring database labels), the copy the label provider
 * keeps in governance.database_label, which the dump does bring.
 */
static char *
database_label(void)
{
	char	   *label = object_label(DatabaseRelationId, MyDatabaseId, 0);
	MemoryContext cxt = CurrentMemoryContext;
	GovSpi		spi;

	if (label != NULL || !governance_has_relation("database_label"))
		return label;
	gov_spi_begin(&spi, true);
	if (SPI_execute("SELECT label FROM governance.database_label", true, 1) != SPI_OK_SELECT)
		elog(ERROR, "pg_governance: could not read governance.database_label");
	if (SPI_processed > 0)
	{
		char	   *value = SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1);

		if (value)
			label = MemoryContextStrdup(cxt, value);
	}
	gov_spi_end(&spi);
	MemoryContextSwitchTo(cxt);
	return label;
}

static char *
label_item(Oid classid, Oid objid, LabelTarget target, bool want_policy)
{
	char	   *label = classid == DatabaseRelationId && objid == MyDatabaseId
		? database_label() : object_label(classid, objid, 0);
	GovLabel	gl;
	char	   *err;

	if (label == NULL || !label_parse(label, target, &gl, &err))
		return NULL;
	return want_policy ? gl.policy : gl.region;
}

/* the policy bound to the current database, or NULL */
char *
guard_database_policy(void)
{
	return label_item(DatabaseRelationId, MyDatabaseId, LABEL_DATABASE, true);
}

static char *find_binding_in(Oid relid, List *ancestors, Oid nspid,
							 const char **bound_by);

static char *
find_binding(Oid relid, List *ancestors, const char **bound_by)
{
	return find_binding_in(relid, ancestors, get_rel_namespace(relid), bound_by);
}

/*
 * Every ancestor of a relation, nearest first: partition parents and
 * inheritance parents alike (labels and bindings flow down both).
 */
List *
guard_ancestors(Oid relid)
{
	List	   *result = NIL;
	List	   *todo = list_make1_oid(relid);

	while (todo != NIL)
	{
		Oid			r = linitial_oid(todo);
		Relation	inhrel;
		SysScanDesc scan;
		ScanKeyData key;
		HeapTuple	tup;

		todo = list_delete_first(todo);
		inhrel = table_open(InheritsRelationId, AccessShareLock);
		ScanKeyInit(&key, Anum_pg_inherits_inhrelid, BTEqualStrategyNumber, F_OIDEQ,
					ObjectIdGetDatum(r));
		scan = systable_beginscan(inhrel, InheritsRelidSeqnoIndexId, true, NULL, 1, &key);
		while (HeapTupleIsValid(tup = systable_getnext(scan)))
		{
			Oid			parent = ((Form_pg_inherits) GETSTRUCT(tup))->inhparent;

			if (!list_member_oid(result, parent))
			{
				result = lappend_oid(result, parent);
				todo = lappend_oid(todo, parent);
			}
		}
		systable_endscan(scan);
		table_close(inhrel, AccessShareLock);
	}
	return result;
}

/* nearest binding: the relation, its ancestors, a schema, the database */
static char *
find_binding_in(Oid relid, List *ancestors, Oid nspid, const char **bound_by)
{
	char	   *policy;
	ListCell   *lc;

	if ((policy = label_item(RelationRelationId, relid, LABEL_TABLE, true)))
	{
		*bound_by = "table";
		return policy;
	}
	foreach(lc, ancestors)
		if ((policy = label_item(RelationRelationId, lfirst_oid(lc), LABEL_TABLE, true)))
		{
			*bound_by = "parent table";
			return policy;
		}
	if ((policy = label_item(NamespaceRelationId, nspid, LABEL_SCHEMA, true)))
	{
		*bound_by = "schema";
		return policy;
	}
	if ((policy = label_item(DatabaseRelationId, MyDatabaseId, LABEL_DATABASE, true)))
	{
		*bound_by = "database";
		return policy;
	}
	return NULL;
}

/* the region recorded for a tablespace, or NULL */
char *
guard_tablespace_region(Oid spcid)
{
	return label_item(TableSpaceRelationId, spcid, LABEL_TABLESPACE, false);
}

/* where the table's rows are stored: its tablespace's region, else the database's */
static char *
storage_region(Relation rel, const char **from)
{
	Oid			spc = rel->rd_rel->reltablespace;
	char	   *region;

	if (!OidIsValid(spc))
		spc = MyDatabaseTableSpace;
	if ((region = label_item(TableSpaceRelationId, spc, LABEL_TABLESPACE, false)))
	{
		*from = psprintf("tablespace %s", get_tablespace_name(spc));
		return region;
	}
	if ((region = label_item(DatabaseRelationId, MyDatabaseId, LABEL_DATABASE, false)))
	{
		*from = "database";
		return region;
	}
	return NULL;
}

/* ------------------------------------------------------------ policy */

List *
text_array_to_list(Datum arr)
{
	Datum	   *elems;
	bool	   *nulls;
	int			n;
	int			i;
	List	   *result = NIL;

	deconstruct_array(DatumGetArrayTypeP(arr), TEXTOID, -1, false, TYPALIGN_INT,
					  &elems, &nulls, &n);
	for (i = 0; i < n; i++)
		if (!nulls[i])
			result = lappend(result, TextDatumGetCString(elems[i]));
	return result;
}

static bool
list_has_cstring(List *list, const char *s)
{
	ListCell   *lc;

	foreach(lc, list)
		if (strcmp(lfirst(lc), s) == 0)
			return true;
	return false;
}

/*
 * The categories a column's categories stand for within the policy: the
 * closure over the policy's implies:.
 */
List *
implied_closure(List *cats, List *implies_from, List *implies_to)
{
	List	   *result = list_copy(cats);
	int			i;

	for (i = 0; i < list_length(result); i++)
	{
		const char *c = list_nth(result, i);
		ListCell   *f;
		ListCell   *t;

		forboth(f, implies_from, t, implies_to)
		{
			if (strcmp(lfirst(f), c) == 0)
			{
				ListCell   *x;

				foreach(x, (List *) lfirst(t))
					if (!list_has_cstring(result, lfirst(x)))
						result = lappend(result, lfirst(x));
			}
		}
	}
	return result;
}

/* the first rule category that covers (is an ancestor-or-self of) one of cats */
const char *
rule_covers(List *rule_cats, List *cats)
{
	ListCell   *r;
	ListCell   *c;

	foreach(r, rule_cats)
		foreach(c, cats)
		{
			const char *rc = lfirst(r);
			const char *cc = lfirst(c);

			if (category_contains(rc, strlen(rc), cc, strlen(cc)))
				return cc;
		}
	return NULL;
}

bool
region_in_jurisdiction(const char *region, List *include, List *exclude)
{
	ListCell   *lc;
	bool		in = false;

	foreach(lc, include)
		if (region_contains(lfirst(lc), region))
			in = true;
	if (!in)
		return false;
	foreach(lc, exclude)
		if (region_contains(lfirst(lc), region))
			return false;
	return true;
}

bool
guard_region_allowed(const GuardLoc *loc, const char *region)
{
	return region_in_jurisdiction(region, loc->include, loc->exclude);
}

/*
 * Compile the policy's retention and localization rules against the
 * relation's tagged columns.
 */
/*
 * One retention rule with an anchor covering column col: the lifecycle's
 * view of it (lifecycle.c).  A rule covering several columns is one entry
 * listing them; rules come in policy order, columns inside each rule.
 */
static void
life_add(GuardRel *g, HeapTuple tup, TupleDesc desc, GuardColumn *col,
		 const char *matched, char *rule_id, char *source, char *anchor)
{
	GuardLife  *l = NULL;
	bool		isnull;
	Datum		v;
	char	   *action;
	int			a;

	if (g->lifecycle != NIL)
	{
		l = llast(g->lifecycle);
		if (strcmp(l->rule.rule_id, rule_id) != 0)
			l = NULL;
	}
	if (l == NULL)
	{
		l = palloc0(sizeof(GuardLife));
		l->rule.rule_id = rule_id;
		l->rule.source = source;
		l->rule.category = pstrdup(matched);
		l->ordinal = DatumGetInt32(SPI_getbinval(tup, desc, 17, &isnull));
		l->anchor = anchor;
		l->anchor_attno = InvalidAttrNumber;
		for (a = 0; a < g->ncols; a++)
			if (g->cols[a].anchor && strcmp(g->cols[a].anchor, anchor) == 0)
			{
				l->anchor_attno = g->cols[a].attnum;
				l->anchor_typid = g->cols[a].typid;
				l->anchor_column = g->cols[a].name;
			}
		l->has_min = DatumGetBool(SPI_getbinval(tup, desc, 7, &isnull));
		v = SPI_getbinval(tup, desc, 8, &isnull);
		if (!isnull)
			l->minimum = (Interval *) DatumGetPointer(datumCopy(v, false, sizeof(Interval)));
		l->min_param = SPI_getvalue(tup, desc, 9);
		l->has_max = DatumGetBool(SPI_getbinval(tup, desc, 13, &isnull));
		v = SPI_getbinval(tup, desc, 14, &isnull);
		if (!isnull)
			l->maximum = (Interval *) DatumGetPointer(datumCopy(v, false, sizeof(Interval)));
		l->max_param = SPI_getvalue(tup, desc, 15);
		action = SPI_getvalue(tup, desc, 16);
		if (!l->has_max || action == NULL)
			l->action = LIFE_KEEP;
		else if (strcmp(action, "block") == 0)
			l->action = LIFE_BLOCK;
		else if (strcmp(action, "anonymize") == 0)
			l->action = LIFE_ANONYMIZE;
		else
			l->action = LIFE_DELETE;
		if (l->anchor_attno != InvalidAttrNumber && l->action != LIFE_KEEP)
			g->blocking = true;
		g->lifecycle = lappend(g->lifecycle, l);
	}
	l->columns = lappend(l->columns, col->name);
	l->column_cats = lappend(l->column_cats, pstrdup(matched));
}

static void
compile_rules(GuardRel *g, Oid relid, List *ancestors)
{
	Oid			argtypes[1] = {TEXTOID};
	Datum		args[1] = {CStringGetTextDatum(g->policy)};
	List	   *from = NIL;
	List	   *to = NIL;
	uint64		i;
	int			c;

	/* implies: within the governing policy */
	guard_query("SELECT category::text, implies::text[] FROM governance.policy_category "
				"WHERE policy = $1 AND defined", 1, argtypes, args);
	for (i = 0; i < SPI_processed; i++)
	{
		bool		isnull;
		HeapTuple	tup = SPI_tuptable->vals[i];
		Datum		imp = SPI_getbinval(tup, SPI_tuptable->tupdesc, 2, &isnull);

		from = lappend(from, SPI_getvalue(tup, SPI_tuptable->tupdesc, 1));
		to = lappend(to, isnull ? NIL : text_array_to_list(imp));
	}
	for (c = 0; c < g->ncols; c++)
		g->cols[c].effective = implied_closure(g->cols[c].categories, from, to);

	guard_query("SELECT r.kind, r.rule_id, r.categories::text[], r.source, "
							  "  COALESCE((r.parameters->>'never_store')::boolean, false), "
							  "  r.parameters->>'anchor', "
							  "  r.parameters ? 'minimum', "
							  "  CASE jsonb_typeof(r.parameters->'minimum') "
							  "    WHEN 'string' THEN (r.parameters->>'minimum')::interval "
							  "    ELSE (SELECT p.value::interval FROM governance.parameters p "
							  "          WHERE p.policy = r.policy AND p.name = r.parameters->'minimum'->>'parameter') END, "
							  "  r.parameters->'minimum'->>'parameter', "
							  "  r.parameters->>'jurisdiction', j.include::text[], j.exclude::text[], "
							  "  r.parameters ? 'maximum', "
							  "  CASE jsonb_typeof(r.parameters->'maximum') "
							  "    WHEN 'string' THEN (r.parameters->>'maximum')::interval "
							  "    ELSE (SELECT p.value::interval FROM governance.parameters p "
							  "          WHERE p.policy = r.policy AND p.name = r.parameters->'maximum'->>'parameter') END, "
							  "  r.parameters->'maximum'->>'parameter', "
							  "  r.parameters->>'action', r.ordinal "
							  "FROM governance.rule r "
							  "LEFT JOIN governance.jurisdiction j "
							  "  ON j.policy = r.policy AND j.name = r.parameters->>'jurisdiction' "
							  "WHERE r.policy = $1 AND r.kind IN ('retention', 'localization') "
							  "ORDER BY r.kind, r.ordinal", 1, argtypes, args);

	for (i = 0; i < SPI_processed; i++)
	{
		HeapTuple	tup = SPI_tuptable->vals[i];
		TupleDesc	desc = SPI_tuptable->tupdesc;
		bool		isnull;
		char	   *kind = SPI_getvalue(tup, desc, 1);
		char	   *rule_id = SPI_getvalue(tup, desc, 2);
		List	   *rcats = text_array_to_list(SPI_getbinval(tup, desc, 3, &isnull));
		char	   *source = SPI_getvalue(tup, desc, 4);
		bool		never_store = DatumGetBool(SPI_getbinval(tup, desc, 5, &isnull));
		char	   *anchor = SPI_getvalue(tup, desc, 6);
		bool		has_min = DatumGetBool(SPI_getbinval(tup, desc, 7, &isnull));
		Datum		min = SPI_getbinval(tup, desc, 8, &isnull);
		bool		min_null = isnull;
		char	   *min_param = SPI_getvalue(tup, desc, 9);

		for (c = 0; c < g->ncols; c++)
		{
			GuardColumn *col = &g->cols[c];
			const char *matched = rule_covers(rcats, col->effective);

			if (matched == NULL)
				continue;
			if (strcmp(kind, "retention") == 0 && never_store)
			{
				if (col->never_store == NULL)
				{
					col->never_store = palloc0(sizeof(GuardRule));
					col->never_store->rule_id = rule_id;
					col->never_store->source = source;
					col->never_store->category = pstrdup(matched);
				}
			}
			else if (strcmp(kind, "retention") == 0 && has_min && anchor != NULL)
			{
				GuardMin   *m = palloc0(sizeof(GuardMin));
				int			a;

				m->rule.rule_id = rule_id;
				m->rule.source = source;
				m->rule.category = pstrdup(matched);
				m->column = col->name;
				m->anchor = anchor;
				m->param = min_param;
				m->minimum = min_null ? NULL : (Interval *) DatumGetPointer(datumCopy(min, false, sizeof(Interval)));
				m->anchor_attno = InvalidAttrNumber;
				for (a = 0; a < g->ncols; a++)
					if (g->cols[a].anchor && strcmp(g->cols[a].anchor, anchor) == 0)
					{
						m->anchor_attno = g->cols[a].attnum;
						m->anchor_typid = g->cols[a].typid;
						m->anchor_column = g->cols[a].name;
					}
				/* without an anchor column the clock cannot be read: reports say so */
				if (m->anchor_attno != InvalidAttrNumber)
					g->minimums = lappend(g->minimums, m);
			}
			if (strcmp(kind, "retention") == 0 && !never_store && anchor != NULL)
				life_add(g, tup, desc, col, matched, rule_id, source, anchor);
			else if (strcmp(kind, "localization") == 0)
			{
				GuardLoc   *l = palloc0(sizeof(GuardLoc));

				l->rule.rule_id = rule_id;
				l->rule.source = source;
				l->rule.category = pstrdup(matched);
				l->column = col->name;
				l->jurisdiction = SPI_getvalue(tup, desc, 10);
				l->include = text_array_to_list(SPI_getbinval(tup, desc, 11, &isnull));
				l->exclude = isnull ? NIL : text_array_to_list(SPI_getbinval(tup, desc, 12, &isnull));
				g->localizations = lappend(g->localizations, l);
			}
		}
	}
	/* a database still at 0.1 has no blocking: its rows stay writable */
	g->blocking_writes = g->blocking && blocking_installed();
}

static void compile_held_values(GuardRel *g);

static void
compile_holds(GuardRel *g, Oid relid, List *ancestors)
{
	Datum	   *oids;
	ListCell   *lc;
	int			n = 0;
	Oid			argtypes[1] = {OIDARRAYOID};
	Datum		args[1];
	uint64		i;

	oids = palloc(sizeof(Datum) * (list_length(ancestors) + 1));
	oids[n++] = ObjectIdGetDatum(relid);
	foreach(lc, ancestors)
		oids[n++] = ObjectIdGetDatum(lfirst_oid(lc));
	args[0] = PointerGetDatum(construct_array(oids, n, OIDOID, sizeof(Oid), true, TYPALIGN_INT));
	guard_query("SELECT hold_id, subject FROM governance.hold "
							  "WHERE relation::oid = ANY ($1) AND released_at IS NULL", 1, argtypes, args);
	for (i = 0; i < SPI_processed; i++)
	{
		g->hold_ids = lappend(g->hold_ids, SPI_getvalue(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, 1));
		g->held_subjects = lappend(g->held_subjects, SPI_getvalue(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, 2));
	}
	compile_held_values(g);
}

/*
 * One held subject as a value of the subject column's base type (the
 * input function of a built-in type: no domain check, no user code), or
 * false if the text is no such value.
 */
bool
subject_value(const char *text, Oid input, Oid ioparam, int32 typmod, Datum *out)
{
	MemoryContext cxt = CurrentMemoryContext;
	ResourceOwner owner = CurrentResourceOwner;
	volatile bool ok = true;

	/*
	 * No subtransaction in parallel mode (a query of a parallel plan that
	 * reads a blocking table's cutoff builds the entry there): the hold
	 * keeps every row, and the entry is not kept (guard_get).
	 */
	if (IsInParallelMode())
		return false;
	BeginInternalSubTransaction(NULL);
	MemoryContextSwitchTo(cxt);
	PG_TRY();
	{
		*out = OidInputFunctionCall(input, (char *) text, ioparam, typmod);
		ReleaseCurrentSubTransaction();
	}
	PG_CATCH();
	{
		MemoryContextSwitchTo(cxt);
		FlushErrorState();
		RollbackAndReleaseCurrentSubTransaction();
		ok = false;
	}
	PG_END_TRY();
	MemoryContextSwitchTo(cxt);
	CurrentResourceOwner = owner;
	return ok;
}

static void
compile_held_values(GuardRel *g)
{
	int			n = list_length(g->held_subjects);
	int32		typmod = g->subject_typmod;
	Oid			base;
	Oid			input;
	Oid			ioparam;
	TypeCacheEntry *tc;
	int			i;
	int			nestlevel;

	g->held_values = palloc0(sizeof(Datum) * Max(n, 1));
	g->held_ok = palloc0(sizeof(bool) * Max(n, 1));
	if (n == 0 || g->subject_attno == InvalidAttrNumber)
		return;
	base = getBaseTypeAndTypmod(g->subject_typid, &typmod);
	tc = lookup_type_cache(base, TYPECACHE_EQ_OPR_FINFO);
	if (!OidIsValid(tc->eq_opr_finfo.fn_oid))
	{
		/* no way to tell held rows from others: keep them all */
		g->fail_closed = psprintf("The subject column's type %s has no equality operator, so legal holds cannot be matched.",
								  format_type_be(g->subject_typid));
		return;
	}
	fmgr_info_copy(&g->held_eq, &tc->eq_opr_finfo, g->cxt);
	getTypeInputInfo(base, &input, &ioparam);
	/* read as place_hold stored them, whatever this session's DateStyle or TimeZone */
	nestlevel = gov_fixed_formats_begin();
	for (i = 0; i < n; i++)
		g->held_ok[i] = subject_value(list_nth(g->held_subjects, i), input, ioparam, typmod,
									  &g->held_values[i]);
	gov_fixed_formats_end(nestlevel);
}

/* Is every category of the labels in the registry, and is the policy loaded? */
static char *
unresolved_reference(GuardRel *g)
{
	Oid			argtypes[1] = {TEXTOID};
	Datum		args[1];
	int			c;

	args[0] = CStringGetTextDatum(g->policy);
	guard_query("SELECT 1 FROM governance.policy WHERE name = $1", 1, argtypes, args);
	if (SPI_processed == 0)
		return psprintf("The table is bound (by its %s) to policy \"%s\", which is not loaded.",
						g->bound_by, g->policy);
	for (c = 0; c < g->ncols; c++)
	{
		ListCell   *lc;

		foreach(lc, g->cols[c].categories)
		{
			args[0] = CStringGetTextDatum(lfirst(lc));
			guard_query("SELECT 1 FROM governance.taxonomy WHERE category::text = $1 "
									  "UNION ALL SELECT 1 FROM governance.policy_category "
									  "WHERE category::text = $1 AND defined LIMIT 1", 1, argtypes, args);
			if (SPI_processed == 0)
				return psprintf("Column \"%s\" is tagged with category \"%s\", which is not in the category registry.",
								g->cols[c].name, (char *) lfirst(lc));
		}
	}
	return NULL;
}

/*
 * A tagged column whose type no longer fits its label (ALTER COLUMN ...
 * TYPE after tagging): the guard would read a value as what it is not.
 * Returns why, or NULL.  Subject values are turned into text as the
 * extension owner by the probes, so only built-in types may be subjects.
 */
char *
guard_column_type_problem(const char *colname, Oid typid, const GovLabel *gl)
{
	if (gl->anchor && typid != DATEOID && typid != TIMESTAMPOID && typid != TIMESTAMPTZOID)
		return psprintf("Column \"%s\" is the anchor of event %s but is of type %s; an anchor is a date, timestamp or timestamptz.",
						colname, gl->anchor, format_type_be(typid));
	if (gl->region_column && !is_region_column_type(typid))
		return psprintf("Column \"%s\" is the region column but is of type %s; a region column is text, varchar, char or governance.region.",
						colname, format_type_be(typid));
	if (gl->subject && getBaseType(typid) >= FirstNormalObjectId)
		return psprintf("Column \"%s\" identifies the data subject but is of type %s; a subject column has a built-in type (text, an integer, uuid ...).",
						colname, format_type_be(typid));
	return NULL;
}

/*
 * guard_build
 *		Fill an entry from the catalogs.  Everything lives in the entry's
 *		own memory context.
 */
static void
guard_build(GuardRel *g, Oid relid)
{
	Relation	rel;
	TupleDesc	desc;
	List	   *ancestors;
	int			i;
	const char *region_from = NULL;

	if (g->cxt)
		MemoryContextDelete(g->cxt);
	memset(((char *) g) + sizeof(Oid), 0, sizeof(GuardRel) - sizeof(Oid));
	g->cxt = AllocSetContextCreate(guard_cache_cxt, "pg_governance guard entry",
								   ALLOCSET_SMALL_SIZES);
	/* invalid until built: an error half-way must not leave a weaker guard */
	g->valid = false;
	MemoryContextSwitchTo(g->cxt);

	rel = table_open(relid, AccessShareLock);
	desc = RelationGetDescr(rel);
	/* (a policy change invalidates the relation, and with it this entry) */
	if (rel->rd_rsdesc)
	{
		ListCell   *lc;

		foreach(lc, rel->rd_rsdesc->policies)
			g->restricted |= strcmp(((RowSecurityPolicy *) lfirst(lc))->policy_name, RESTRICTED_POLICY) == 0;
	}
	g->relname = pstrdup(quote_qualified_identifier(get_namespace_name(RelationGetNamespace(rel)),
													RelationGetRelationName(rel)));
	ancestors = guard_ancestors(relid);
	g->cols = palloc0(sizeof(GuardColumn) * desc->natts);
	g->region_attno = InvalidAttrNumber;
	g->subject_attno = InvalidAttrNumber;

	for (i = 0; i < desc->natts; i++)
	{
		Form_pg_attribute att = TupleDescAttr(desc, i);
		GovLabel	gl;
		char	   *err;
		GuardColumn *col;

		if (att->attisdropped)
			continue;
		if (!effective_column_label(relid, ancestors, NameStr(att->attname), att->attnum, &gl, &err))
		{
			if (err)
				g->fail_closed = psprintf("Column \"%s\" has an invalid governance label: %s",
										  NameStr(att->attname), err);
			continue;
		}
		if (g->fail_closed == NULL)
			g->fail_closed = guard_column_type_problem(NameStr(att->attname), att->atttypid, &gl);
		col = &g->cols[g->ncols++];
		col->attnum = att->attnum;
		col->name = pstrdup(NameStr(att->attname));
		col->typid = att->atttypid;
		col->categories = gl.categories;
		col->anchor = gl.anchor;
		col->subject = gl.subject;
		col->region = gl.region_column;
		if (gl.region_column)
		{
			g->region_attno = att->attnum;
			g->region_typid = att->atttypid;
		}
		if (gl.subject)
		{
			g->subject_attno = att->attnum;
			g->subject_typid = att->atttypid;
			g->subject_typmod = att->atttypmod;
			g->subject_collation = att->attcollation;
		}
	}
	g->governed = g->ncols > 0;
	if (g->governed)
		g->policy = find_binding(relid, ancestors, &g->bound_by);

	if (g->governed && g->policy)
	{
		GovSpi		spi;

		/*
		 * The catalog is read as the extension owner: whoever writes a
		 * governed table gets its rules enforced, whether or not they may
		 * read the policy tables.  On error, SPI and the user id are reset
		 * by (sub)transaction abort.
		 */
		gov_spi_begin(&spi, true);
		MemoryContextSwitchTo(g->cxt);
		if (g->fail_closed == NULL)
		{
			g->fail_closed = unresolved_reference(g);
			if (g->fail_closed)
			{
				/*
				 * A restore (pg_dump script) brings the table's rows before
				 * the policy rows: while the database has no policy loaded
				 * at all, check_function_bodies = off lets them in.  Where
				 * any policy is loaded, it relaxes nothing.
				 */
				guard_query("SELECT 1 FROM governance.policy LIMIT 1", 0, NULL, NULL);
				g->restore_window = (SPI_processed == 0);
			}
		}
		if (g->fail_closed == NULL)
		{
			compile_rules(g, relid, ancestors);
			compile_holds(g, relid, ancestors);
		}
		gov_spi_end(&spi);
		MemoryContextSwitchTo(g->cxt);

		/*
		 * A row without a region of its own (no region column, or NULL in
		 * it) is judged by where the table is stored; with no storage
		 * region either, no localization rule can be met: fail closed.
		 */
		if (g->fail_closed == NULL && g->localizations)
		{
			char	   *region = storage_region(rel, &region_from);
			GuardLoc   *violated = NULL;
			ListCell   *lc;

			if (region)
			{
				g->storage_region = region;
				g->storage_region_from = pstrdup(region_from);
				foreach(lc, g->localizations)
				{
					GuardLoc   *l = lfirst(lc);

					if (!guard_region_allowed(l, region))
					{
						violated = l;
						break;
					}
				}
			}
			if (g->region_attno == InvalidAttrNumber)
			{
				g->storage_violation = violated;
				g->region_unknown = (region == NULL);
			}
			else
			{
				g->null_region_violation = violated;
				g->null_region_unknown = (region == NULL);
			}
		}
	}
	table_close(rel, AccessShareLock);
	g->generation = ++guard_generation;
	g->valid = !g->stale;
}

/*
 * guard_get
 *		The compiled rules of a relation, rebuilt if invalidated.
 */
GuardRel *
guard_get(Oid relid)
{
	GuardRel   *g;
	bool		found;
	MemoryContext old;

	if (guard_cache == NULL)
		guard_cache_init();
	g = hash_search(guard_cache, &relid, HASH_ENTER, &found);
	if (!found)
	{
		g->cxt = NULL;
		g->valid = false;
	}
	if (!g->valid)
	{
		bool		parallel = IsInParallelMode();

		/* an error leaves the entry invalid; the next use rebuilds it */
		old = CurrentMemoryContext;
		guard_build(g, relid);
		MemoryContextSwitchTo(old);
		/* built in parallel mode, without reading the holds: used once */
		if (parallel)
			g->valid = false;
	}
	return g;
}

/*
 * guard_lookup
 *		The compiled rules of a relation if they are at hand and valid, else
 *		NULL.  Never builds: for callers that have a slower way round.
 */
GuardRel *
guard_lookup(Oid relid)
{
	GuardRel   *g;

	if (guard_cache == NULL)
		return NULL;
	g = hash_search(guard_cache, &relid, HASH_FIND, NULL);
	return (g && g->valid) ? g : NULL;
}

/* the column of a compiled relation by attribute number, or NULL */
GuardColumn *
guard_column(GuardRel *g, AttrNumber attnum)
{
	int			i;

	for (i = 0; i < g->ncols; i++)
		if (g->cols[i].attnum == attnum)
			return &g->cols[i];
	return NULL;
}

PG_FUNCTION_INFO_V1(governance_bound_policy);

/* governance.bound_policy(regclass): the policy that governs a table, or NULL */
Datum
governance_bound_policy(PG_FUNCTION_ARGS)
{
	Oid			relid = PG_GETARG_OID(0);
	char	   *policy;

	if (get_rel_relkind(relid) == '\0')
		PG_RETURN_NULL();
	policy = guard_bound_policy(relid);
	if (policy == NULL)
		PG_RETURN_NULL();
	PG_RETURN_TEXT_P(cstring_to_text(policy));
}

/* the policy bound to a relation (nearest binding), or NULL */
char *
guard_bound_policy(Oid relid)
{
	const char *by;

	return find_binding(relid, guard_ancestors(relid), &by);
}

/* ... as it would be with newparent as one more parent */
char *
guard_bound_policy_under(Oid relid, Oid newparent)
{
	const char *by;
	List	   *ancestors = list_concat(guard_ancestors(relid),
										lcons_oid(newparent, guard_ancestors(newparent)));

	return find_binding_in(relid, ancestors, get_rel_namespace(relid), &by);
}

/* ... as it would be if the relation were in schema nspid */
char *
guard_bound_policy_in_schema(Oid relid, Oid nspid)
{
	const char *by;

	return find_binding_in(relid, guard_ancestors(relid), nspid, &by);
}

PG_FUNCTION_INFO_V1(governance_canonical_subject);

/*
 * governance._canonical_subject(rel regclass, subject text) RETURNS text
 *		The subject of a new legal hold as the guard will read it: parsed as
 *		the table's subject column type in the caller's settings (what the
 *		caller meant by '03/04/2024'), written back in fixed ones (ISO dates,
 *		UTC).  Refuses a table without a subject column, or whose subject
 *		type has no equality: a hold there would keep nothing.
 */
Datum
governance_canonical_subject(PG_FUNCTION_ARGS)
{
	Oid			relid = PG_GETARG_OID(0);
	char	   *subject = text_to_cstring(PG_GETARG_TEXT_PP(1));
	GuardRel   *g = guard_get(relid);
	int32		typmod = g->subject_typmod;
	Oid			base;
	Oid			input;
	Oid			ioparam;
	Oid			output;
	bool		varlena;
	Datum		value;
	char	   *result;
	int			nestlevel;

	if (g->subject_attno == InvalidAttrNumber)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("table %s has no column tagged as the subject", g->relname),
				 errdetail("A legal hold keeps the rows whose subject column equals its subject."),
				 errhint("Tag the column that identifies the data subject: governance.tag(table, column, 'subject').")));
	base = getBaseTypeAndTypmod(g->subject_typid, &typmod);
	if (!OidIsValid(lookup_type_cache(base, TYPECACHE_EQ_OPR)->eq_opr))
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("the subject column of table %s has type %s, which has no equality operator",
						g->relname, format_type_be(g->subject_typid)),
				 errdetail("A legal hold keeps the rows whose subject equals its subject."),
				 errhint("Tag a column of a type with equality (text, an integer, uuid ...) as the subject.")));
	getTypeInputInfo(base, &input, &ioparam);
	getTypeOutputInfo(base, &output, &varlena);
	value = OidInputFunctionCall(input, subject, ioparam, typmod);
	nestlevel = gov_fixed_formats_begin();
	result = OidOutputFunctionCall(output, value);
	gov_fixed_formats_end(nestlevel);
	if (base == BPCHAROID)
	{
		/* char(n) pads; the padding is not part of the subject */
		int			len = strlen(result);

		while (len > 0 && result[len - 1] == ' ')
			result[--len] = '\0';
	}
	PG_RETURN_TEXT_P(cstring_to_text(result));
}
