/*-------------------------------------------------------------------------
 *
 * restrict.c
 *	  Restricted processing of an erased subject's kept rows.  When an
 *	  erasure (subjects.c) must keep a row, under a legal hold or inside a
 *	  minimum retention, the row is blocked at once: hidden from every role
 *	  that is not governance_admin, the table owner included, and GV006 on
 *	  a write by those who see it, as blocking.c does for rows whose period
 *	  has ended.
 *
 *	  A kept row is known by its key: the values of the table's primary key
 *	  columns, or, without one, of all its columns of types whose text form
 *	  no session setting changes and is the same by CAST as by the type's
 *	  output (integers, numeric, text, uuid, ...).  The keys live in
 *	  governance.restricted_rows under a restriction id, with the table
 *	  they were noted in (a regclass: dumped by name), and the table gets a
 *	  RESTRICTIVE policy "governance_restricted", for everyone, with one
 *	  conjunct per restriction:
 *
 *		NOT governance._restricted_match('s.t'::regclass, <id>,
 *										 ARRAY[CAST(c1 AS text), ...])
 *
 *	  (for a key of one NOT NULL integer column, CAST(c1 AS bigint) instead
 *	  of the array), which loads the restriction's keys into a hash table
 *	  once per statement (in the call's fn_extra) and probes it per row,
 *	  only on tables that have kept rows.  It answers whether one key is
 *	  kept, never which keys are: the keys of a table without a primary key
 *	  are row values.  It answers only for the table the keys were noted in
 *	  or its inheritance tree, when that table's own policy names the id,
 *	  and answers "not kept" to those who may see the rows (governance_admin,
 *	  a retention run's or an erasure's own statement).
 *
 *	  The policy is the source of truth for which restrictions a table has
 *	  and over which columns (read back from its Vars, so renames and
 *	  pg_dump/pg_restore keep it).  The route pg_restore takes to recreate
 *	  it is open to the table's owner too: what it restricted before is
 *	  remembered for the transaction, so such a policy can add restrictions,
 *	  never drop one.  The policy is not dropped, with its table or
 *	  otherwise, while its keys exist (guard_drop.c, restrict_probe), and an
 *	  untagged table keeps it and the guard's write triggers.
 *
 *	  A partition's or child's kept rows would show through its ancestors'
 *	  row security: erasure restricts every ancestor alike, and a table with
 *	  restrictions is attached or inherited only under an ancestor whose own
 *	  policy (exactly the guard's, under forced row security) has them too
 *	  (blocking_sync refuses otherwise).
 *
 *-------------------------------------------------------------------------
 */
#include "pg_governance.h"

#include "access/genam.h"
#include "access/htup_details.h"
#include "access/table.h"
#include "catalog/indexing.h"
#include "catalog/pg_index.h"
#include "catalog/pg_policy.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "catalog/namespace.h"
#include "storage/lmgr.h"
#include "storage/proc.h"
#include "utils/memutils.h"
#include "nodes/makefuncs.h"
#include "nodes/nodeFuncs.h"
#include "optimizer/optimizer.h"
#include "parser/parse_func.h"
#include "rewrite/rowsecurity.h"
#include "utils/acl.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/fmgroids.h"
#include "common/hashfn.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"
#include "utils/syscache.h"

PG_FUNCTION_INFO_V1(governance_restricted_match);
PG_FUNCTION_INFO_V1(governance_restricted_match_int);

/* ------------------------------------------------------------ the policy */

/*
 * governance._restricted_match(regclass, bigint, text[]), or InvalidOid
 * before 0.2; and its form for a key of one integer column (bigint), which
 * spares each row the text and the array.
 */
static Oid
match_function(Oid keytype)
{
	Oid			argtypes[3] = {REGCLASSOID, INT8OID, keytype};

	return LookupFuncName(list_make2(makeString("governance"), makeString("_restricted_match")),
						  3, argtypes, true);
}

static Oid
keys_function(void)
{
	return match_function(TEXTARRAYOID);
}

static Oid
keys_function_int(void)
{
	return match_function(INT8OID);
}

/*
 * A key of one NOT NULL column of an integer type takes the bigint form
 * (a NULL there would make the strict function's answer NULL, and hide
 * the row).
 */
static bool
integer_key(Oid relid, List *columns)
{
	HeapTuple	tup;
	bool		result = false;

	if (list_length(columns) != 1)
		return false;
	tup = SearchSysCacheAttName(relid, linitial(columns));
	if (HeapTupleIsValid(tup))
	{
		Form_pg_attribute att = (Form_pg_attribute) GETSTRUCT(tup);
		Oid			t = getBaseType(att->atttypid);

		result = att->attnotnull && (t == INT2OID || t == INT4OID || t == INT8OID);
		ReleaseSysCache(tup);
	}
	return result;
}

/* is this one of the key types whose text form no setting changes? */
static bool
stable_text_type(Oid typid)
{
	switch (getBaseType(typid))
	{
		case INT2OID:
		case INT4OID:
		case INT8OID:
		case NUMERICOID:
		case OIDOID:
		case TEXTOID:
		case VARCHAROID:
		case BPCHAROID:
		case NAMEOID:
		case UUIDOID:
		case CIDROID:
		case MACADDROID:
		case MACADDR8OID:
			return true;
		default:
			return false;
	}
}

typedef struct IdFinder
{
	Oid			funcid;
	Oid			funcid_int;
	int64		id;
	bool		found;
} IdFinder;

static bool
find_id_walker(Node *node, IdFinder *f)
{
	if (node == NULL)
		return false;
	if (IsA(node, Query))
		return query_tree_walker((Query *) node, find_id_walker, f, 0);
	if (IsA(node, FuncExpr) &&
		(((FuncExpr *) node)->funcid == f->funcid || ((FuncExpr *) node)->funcid == f->funcid_int) &&
		list_length(((FuncExpr *) node)->args) == 3)
	{
		Node	   *arg = lsecond(((FuncExpr *) node)->args);

		if (IsA(arg, Const) && !((Const *) arg)->constisnull &&
			((Const *) arg)->consttype == INT8OID)
		{
			f->id = DatumGetInt64(((Const *) arg)->constvalue);
			f->found = true;
			return true;
		}
	}
	return expression_tree_walker(node, find_id_walker, f);
}

/*
 * The bigint form's key: one column of an integer type, as it is or cast
 * to bigint, nothing else.
 */
static bool
integer_column_arg(Node *arg)
{
	Oid			t;

	if (IsA(arg, FuncExpr) && list_length(((FuncExpr *) arg)->args) == 1 &&
		((FuncExpr *) arg)->funcformat != COERCE_EXPLICIT_CALL)
		arg = linitial(((FuncExpr *) arg)->args);
	else if (IsA(arg, RelabelType))
		arg = (Node *) ((RelabelType *) arg)->arg;
	if (!IsA(arg, Var))
		return false;
	t = getBaseType(((Var *) arg)->vartype);
	return t == INT2OID || t == INT4OID || t == INT8OID;
}

/*
 * One conjunct of the policy as (id, column names): NOT of a call of
 * _restricted_match whose id is a constant and whose key array holds the
 * table's own columns, in order (or, in the bigint form, one column).  NULL for anything of another shape (a
 * whole-row or system column included).
 */
static RestrictPart *
parse_conjunct(Oid relid, Node *conj, Oid funcid, Oid funcid_int)
{
	FuncExpr   *call;
	IdFinder	f = {funcid, funcid_int, 0, false};
	List	   *vars;
	ListCell   *lc;
	RestrictPart *part;

	if (!is_notclause(conj))
		return NULL;
	call = (FuncExpr *) get_notclausearg((Expr *) conj);
	if (!IsA(call, FuncExpr) || list_length(call->args) != 3)
		return NULL;
	if (!(call->funcid == funcid && IsA(lthird(call->args), ArrayExpr)) &&
		!(call->funcid == funcid_int && integer_column_arg(lthird(call->args))))
		return NULL;
	(void) find_id_walker((Node *) call, &f);
	if (!f.found)
		return NULL;
	part = palloc0(sizeof(RestrictPart));
	part->id = f.id;
	vars = pull_var_clause(lthird(call->args), 0);
	foreach(lc, vars)
	{
		Var		   *v = lfirst(lc);

		if (v->varlevelsup != 0 || v->varattno <= 0)
			return NULL;
		part->columns = lappend(part->columns, get_attname(relid, v->varattno, false));
	}
	return part->columns ? part : NULL;
}

/* the policy's USING expression, or NULL when the table has none */
static Node *
restricted_qual(Oid relid)
{
	Relation	catalog = table_open(PolicyRelationId, AccessShareLock);
	ScanKeyData key[2];
	SysScanDesc scan;
	HeapTuple	tup;
	Node	   *result = NULL;

	ScanKeyInit(&key[0], Anum_pg_policy_polrelid, BTEqualStrategyNumber, F_OIDEQ,
				ObjectIdGetDatum(relid));
	ScanKeyInit(&key[1], Anum_pg_policy_polname, BTEqualStrategyNumber, F_NAMEEQ,
				CStringGetDatum(RESTRICTED_POLICY));
	scan = systable_beginscan(catalog, PolicyPolrelidPolnameIndexId, true, NULL, 2, key);
	if (HeapTupleIsValid(tup = systable_getnext(scan)))
	{
		bool		isnull;
		Datum		d = heap_getattr(tup, Anum_pg_policy_polqual, RelationGetDescr(catalog), &isnull);

		if (!isnull)
			result = stringToNode(TextDatumGetCString(d));
	}
	systable_endscan(scan);
	table_close(catalog, AccessShareLock);
	return result;
}

/* the restrictions relid's governance_restricted policy has */
List *
restrict_parts(Oid relid)
{
	Oid			funcid = keys_function();
	Oid			funcid_int = keys_function_int();
	Node	   *qual;
	List	   *result = NIL;
	ListCell   *lc;

	if (!OidIsValid(funcid) || (qual = restricted_qual(relid)) == NULL)
		return NIL;
	foreach(lc, make_ands_implicit((Expr *) qual))
	{
		RestrictPart *p = parse_conjunct(relid, lfirst(lc), funcid, funcid_int);

		if (p)
			result = lappend(result, p);
	}
	return result;
}

/* the policy's USING text for these restrictions, identifiers quoted */
char *
restrict_expression(Oid relid, List *parts)
{
	StringInfoData buf;
	char	   *rel = quote_literal_cstr(quote_qualified_identifier(get_namespace_name(get_rel_namespace(relid)),
																	get_rel_name(relid)));
	ListCell   *lc;

	initStringInfo(&buf);
	foreach(lc, parts)
	{
		RestrictPart *p = lfirst(lc);
		ListCell   *c;

		if (integer_key(relid, p->columns))
		{
			appendStringInfo(&buf, "%sNOT governance._restricted_match(%s::pg_catalog.regclass, '" INT64_FORMAT "'::pg_catalog.int8, CAST(%s AS pg_catalog.int8))",
							 foreach_current_index(lc) > 0 ? " AND " : "", rel, p->id,
							 quote_identifier(linitial(p->columns)));
			continue;
		}
		appendStringInfo(&buf, "%sNOT governance._restricted_match(%s::pg_catalog.regclass, '" INT64_FORMAT "'::pg_catalog.int8, ARRAY[",
						 foreach_current_index(lc) > 0 ? " AND " : "", rel, p->id);
		foreach(c, p->columns)
			appendStringInfo(&buf, "%sCAST(%s AS pg_catalog.text)",
							 foreach_current_index(c) > 0 ? ", " : "",
							 quote_identifier(lfirst(c)));
		appendStringInfoString(&buf, "]::pg_catalog.text[])");
	}
	return buf.data;
}

/* do a and b restrict the same rows of the same columns? */
static bool
same_part(const RestrictPart *a, const RestrictPart *b)
{
	ListCell   *x;
	ListCell   *y;

	if (a->id != b->id || list_length(a->columns) != list_length(b->columns))
		return false;
	forboth(x, a->columns, y, b->columns)
		if (strcmp(lfirst(x), lfirst(y)) != 0)
		return false;
	return true;
}

/*
 * The restriction an erasure is adding to one table, for blocking_sync
 * (called through guard_sync) to put in the policy with the table's own.
 */
static Oid	pending_relid = InvalidOid;
static RestrictPart *pending_part = NULL;

/*
 * pg_restore recreates governance_restricted (ddl.c lets it, with
 * check_function_bodies off, after dropping ours).  The same route is open
 * to the table's owner: what the policy restricted before is remembered
 * for the rest of the transaction and stays in what the sync wants, so a
 * policy made that way can add restrictions, never drop one.
 */
typedef struct Remembered
{
	Oid			relid;
	List	   *parts;
} Remembered;

static List *remembered = NIL;	/* Remembered *, in TopTransactionContext */
static LocalTransactionId remembered_lxid = InvalidLocalTransactionId;

void
restrict_remember(Oid relid)
{
	MemoryContext old;
	Remembered *r;
	List	   *parts;

	if (remembered_lxid != MyProc->lxid)
		remembered = NIL;
	remembered_lxid = MyProc->lxid;
	old = MemoryContextSwitchTo(TopTransactionContext);
	parts = restrict_parts(relid);
	r = palloc(sizeof(Remembered));
	r->relid = relid;
	r->parts = parts;
	remembered = lappend(remembered, r);
	MemoryContextSwitchTo(old);
}

static List *
remembered_parts(Oid relid)
{
	List	   *result = NIL;
	ListCell   *lc;

	if (remembered_lxid != MyProc->lxid)
		return NIL;
	foreach(lc, remembered)
		if (((Remembered *) lfirst(lc))->relid == relid)
		result = list_concat(result, ((Remembered *) lfirst(lc))->parts);
	return result;
}

/* has relid a governance_restricted policy, or had it one in this transaction? */
bool
restrict_involves(Oid relid)
{
	return OidIsValid(keys_function()) &&
		(remembered_parts(relid) != NIL || restricted_qual(relid) != NULL);
}

/* is an erasure adding a restriction to relid right now? */
bool
restrict_pending_for(Oid relid)
{
	return OidIsValid(relid) && relid == pending_relid;
}

/* does relid's governance_restricted policy read column colname? */
bool
restrict_reads_column(Oid relid, const char *colname)
{
	ListCell   *lc;

	foreach(lc, restrict_parts(relid))
	{
		ListCell   *c;

		foreach(c, ((RestrictPart *) lfirst(lc))->columns)
			if (strcmp(lfirst(c), colname) == 0)
			return true;
	}
	return false;
}

/* what relid's policy must say: what it says, and what an erasure adds */
List *
restrict_wanted(Oid relid)
{
	List	   *parts = restrict_parts(relid);
	List	   *more = remembered_parts(relid);
	ListCell   *lc;
	ListCell   *m;

	if (relid == pending_relid && pending_part)
		more = lappend(list_copy(more), pending_part);
	foreach(m, more)
	{
		bool		have = false;

		foreach(lc, parts)
			have |= same_part(lfirst(lc), lfirst(m));
		if (!have)
			parts = lappend(parts, lfirst(m));
	}
	return parts;
}

/*
 * Every ancestor of relid must restrict at least what relid restricts, or
 * the rows would show through a query on the ancestor.
 */
void
restrict_check_ancestors(Oid relid, List *parts)
{
	ListCell   *lc;

	foreach(lc, guard_ancestors(relid))
	{
		Oid			anc = lfirst_oid(lc);
		List	   *theirs = restrict_wanted(anc);
		ListCell   *p;

		/*
		 * What the ancestor's policy says counts only if it is the guard's
		 * own, exactly, with row security forced (an erasure on the way puts
		 * it there first); not a look-alike its owner made.
		 */
		if (anc != pending_relid && theirs != NIL &&
			!blocking_restricted_sound(anc, theirs))
			theirs = NIL;

		foreach(p, parts)
		{
			RestrictPart *mine = lfirst(p);
			ListCell   *t;
			bool		ok = false;

			foreach(t, theirs)
				ok |= same_part(lfirst(t), mine);
			if (!ok)
				ereport(ERROR,
						(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
						 errmsg("cannot place table %s under %s: it holds rows of erased subjects that are kept and blocked",
								get_rel_name(relid), get_rel_name(anc)),
						 errdetail("A query on %s would return them under its own row security, which does not block them (restriction " INT64_FORMAT ").",
								   get_rel_name(anc), mine->id),
						 errhint("Keep the table apart until its kept rows are gone: erase the subjects again once their holds and minimum retention end.")));
		}
	}
}

/* ------------------------------------------------------------ erasure */

/*
 * The key columns for relid's kept rows: those of a restriction the table
 * (or its root) has already, so that one policy conjunct serves; else the
 * primary key, when all its columns have a stable text form; else every
 * column that has one.  Fails (nothing is half done: the erasure goes)
 * when the table has no such column.
 */
RestrictPart *
restrict_choose(Oid relid)
{
	List	   *chain = lcons_oid(relid, list_copy(guard_ancestors(relid)));
	RestrictPart *part = palloc0(sizeof(RestrictPart));
	Relation	rel;
	Oid			pk;
	int			i;

	/* the root's restriction first (guard_ancestors lists the nearest first) */
	for (i = list_length(chain) - 1; i >= 0; i--)
	{
		List	   *parts = restrict_parts(list_nth_oid(chain, i));

		if (parts != NIL)
			return linitial(parts);
	}
	rel = table_open(relid, AccessShareLock);
	pk = RelationGetPrimaryKeyIndex(rel);
	if (OidIsValid(pk))
	{
		HeapTuple	itup = SearchSysCache1(INDEXRELID, ObjectIdGetDatum(pk));
		Form_pg_index idx;
		bool		stable = true;

		if (!HeapTupleIsValid(itup))
			elog(ERROR, "cache lookup failed for index %u", pk);
		idx = (Form_pg_index) GETSTRUCT(itup);

		for (i = 0; i < idx->indnkeyatts; i++)
		{
			AttrNumber	a = idx->indkey.values[i];

			stable &= a > 0 && stable_text_type(TupleDescAttr(RelationGetDescr(rel), a - 1)->atttypid);
			if (a > 0)
				part->columns = lappend(part->columns, get_attname(relid, a, false));
		}
		ReleaseSysCache(itup);
		if (!stable)
			part->columns = NIL;
	}
	if (part->columns == NIL)
	{
		TupleDesc	desc = RelationGetDescr(rel);

		for (i = 0; i < desc->natts; i++)
		{
			Form_pg_attribute att = TupleDescAttr(desc, i);

			if (!att->attisdropped && stable_text_type(att->atttypid))
				part->columns = lappend(part->columns, pstrdup(NameStr(att->attname)));
		}
	}
	table_close(rel, AccessShareLock);
	if (part->columns == NIL)
		ereport(ERROR,
				(errcode(ERRCODE_GV_BLOCKED),
				 errmsg("cannot block the kept rows of table %s", get_rel_name(relid)),
				 errdetail("Rows an erasure must keep (legal hold, minimum retention) are blocked by their key; the table has no primary key and no column of a type whose text form identifies a row in every session (integers, numeric, text types, uuid, cidr, MAC addresses)."),
				 errhint("Give the table a primary key, then erase the subject again.")));
	part->id = restrict_new_id();
	return part;
}

/*
 * Forget the keys of restrictions that no policy names any more (their
 * table was dropped): restricted_rows holds only what hides something.
 */
void
restrict_forget_orphans(void)
{
	Oid			funcid = keys_function();
	Relation	catalog;
	SysScanDesc scan;
	HeapTuple	tup;
	List	   *ids = NIL;
	Datum	   *elems;
	ListCell   *lc;
	GovSpi		spi;
	Oid			types[1] = {INT8ARRAYOID};
	Datum		values[1];

	if (!OidIsValid(funcid))
		return;
	/*
	 * One erasure at a time from here to its commit (the lock conflicts with
	 * itself and with the inserts of keys, not with the policies' reads): a
	 * concurrent erasure's new restriction, committed between the scan
	 * below and the delete, would otherwise lose its keys.
	 */
	LockRelationOid(get_relname_relid("restricted_rows", get_namespace_oid("governance", false)),
					ShareRowExclusiveLock);
	catalog = table_open(PolicyRelationId, AccessShareLock);
	scan = systable_beginscan(catalog, InvalidOid, false, NULL, 0, NULL);
	while (HeapTupleIsValid(tup = systable_getnext(scan)))
	{
		Form_pg_policy pol = (Form_pg_policy) GETSTRUCT(tup);

		if (strcmp(NameStr(pol->polname), RESTRICTED_POLICY) == 0)
			foreach(lc, restrict_parts(pol->polrelid))
			ids = lappend(ids, lfirst(lc));
	}
	systable_endscan(scan);
	table_close(catalog, AccessShareLock);

	elems = palloc(sizeof(Datum) * (list_length(ids) + 1));
	foreach(lc, ids)
		elems[foreach_current_index(lc)] = Int64GetDatum(((RestrictPart *) lfirst(lc))->id);
	values[0] = PointerGetDatum(construct_array(elems, list_length(ids), INT8OID, 8, FLOAT8PASSBYVAL, TYPALIGN_DOUBLE));
	gov_spi_begin_own(&spi, true);
	if (SPI_execute_with_args("DELETE FROM governance.restricted_rows r "
							  "WHERE r.restriction OPERATOR(pg_catalog.<>) ALL ($1)",
							  1, types, values, NULL, false, 0) != SPI_OK_DELETE)
		elog(ERROR, "pg_governance: could not forget restricted rows");
	gov_spi_end(&spi);
}

/* a fresh restriction id */
int64
restrict_new_id(void)
{
	GovSpi		spi;
	bool		isnull;
	int64		id;

	gov_spi_begin_own(&spi, true);
	if (SPI_execute("SELECT pg_catalog.nextval('governance.restriction_id_seq'::pg_catalog.regclass)",
					false, 1) != SPI_OK_SELECT || SPI_processed != 1)
		elog(ERROR, "pg_governance: could not draw a restriction id");
	id = DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull));
	gov_spi_end(&spi);
	return id;
}

/* a row's key, as restricted_rows keeps it: the columns' text forms */
ArrayType *
restrict_key(int nkeys, Oid *types, Datum *values, bool *nulls)
{
	Datum	   *elems = palloc(sizeof(Datum) * nkeys);
	int			dims[1] = {nkeys};
	int			lbs[1] = {1};
	int			i;

	for (i = 0; i < nkeys; i++)
	{
		Oid			out;
		bool		varlena;

		if (nulls[i])
			continue;
		getTypeOutputInfo(types[i], &out, &varlena);
		{
			char	   *text = OidOutputFunctionCall(out, values[i]);

			/* as CAST(bpchar AS text) does, which the policy uses */
			if (getBaseType(types[i]) == BPCHAROID)
			{
				int			len = strlen(text);

				while (len > 0 && text[len - 1] == ' ')
					text[--len] = '\0';
			}
			elems[i] = CStringGetTextDatum(text);
		}
	}
	return construct_md_array(elems, nulls, 1, dims, lbs, TEXTOID, -1, false, TYPALIGN_INT);
}

/* note (or, with forget, drop) a key under restriction id */
void
restrict_store(Oid relid, int64 id, ArrayType *key, const char *reason, bool forget)
{
	GovSpi		spi;
	Oid			types[4] = {INT8OID, TEXTARRAYOID, TEXTOID, OIDOID};
	Datum		values[4] = {Int64GetDatum(id), PointerGetDatum(key),
	reason ? CStringGetTextDatum(reason) : (Datum) 0, ObjectIdGetDatum(relid)};
	char		nulls[4] = {' ', ' ', reason ? ' ' : 'n', ' '};

	gov_spi_begin_own(&spi, true);
	if (forget)
	{
		if (SPI_execute_with_args("DELETE FROM governance.restricted_rows r "
								  "WHERE r.restriction OPERATOR(pg_catalog.=) $1 AND r.key OPERATOR(pg_catalog.=) $2",
								  2, types, values, nulls, false, 0) != SPI_OK_DELETE)
			elog(ERROR, "pg_governance: could not forget a restricted row");
	}
	else if (SPI_execute_with_args("INSERT INTO governance.restricted_rows (restriction, key, reason, relid) "
								   "SELECT $1, $2, $3, $4 WHERE NOT EXISTS (SELECT FROM governance.restricted_rows r "
								   "WHERE r.restriction OPERATOR(pg_catalog.=) $1 AND r.key OPERATOR(pg_catalog.=) $2)",
								   4, types, values, nulls, false, 0) != SPI_OK_INSERT)
		elog(ERROR, "pg_governance: could not note a restricted row");
	gov_spi_end(&spi);
}

/*
 * Put restriction part on relid and on each of its ancestors (root
 * first), through the guard's sync, which also turns row security on.
 */
void
restrict_apply(Oid relid, RestrictPart *part)
{
	List	   *chain = lcons_oid(relid, list_copy(guard_ancestors(relid)));
	int			i;

	/* guard_ancestors lists the nearest first: walk back from the root */
	for (i = list_length(chain) - 1; i >= 0; i--)
	{
		pending_relid = list_nth_oid(chain, i);
		pending_part = part;
		PG_TRY();
		{
			guard_sync(pending_relid);
		}
		PG_FINALLY();
		{
			pending_relid = InvalidOid;
			pending_part = NULL;
		}
		PG_END_TRY();
	}
}

/*
 * TRUNCATE or DROP TABLE of a table that holds an erased subject's kept
 * rows (GV006), governed or not: the rows are kept for the law.  Keys of
 * rows a retention run has destroyed since count too (fail closed) until
 * the next erasure of their subject.
 */
void
restrict_probe(Oid relid, const char *what)
{
	List	   *parts;
	ListCell   *lc;

	if (governance_allow_destructive_ddl || !OidIsValid(keys_function()))
		return;
	parts = restrict_parts(relid);
	foreach(lc, parts)
	{
		RestrictPart *p = lfirst(lc);
		GovSpi		spi;
		Oid			types[1] = {INT8OID};
		Datum		values[1] = {Int64GetDatum(p->id)};
		bool		found;

		gov_spi_begin_own(&spi, true);
		if (SPI_execute_with_args("SELECT FROM governance.restricted_rows r WHERE r.restriction OPERATOR(pg_catalog.=) $1",
								  1, types, values, NULL, true, 1) != SPI_OK_SELECT)
			elog(ERROR, "pg_governance: could not read restricted rows");
		found = SPI_processed > 0;
		gov_spi_end(&spi);
		if (found)
			ereport(ERROR,
					(errcode(ERRCODE_GV_BLOCKED),
					 errmsg("cannot %s: it holds rows of erased subjects that are kept for the law", what),
					 errdetail("Table %s, restriction " INT64_FORMAT ": rows an erasure kept under a legal hold or a minimum retention are blocked, not destroyed.",
							   get_rel_name(relid), p->id),
					 errhint("Erase the subjects again once their holds and minimum retention end; pg_governance.allow_destructive_ddl lets a superuser go ahead.")));
	}
}

/*
 * The first column of SPI_tuptable (a varlena), copied into cxt, as many
 * as there are rows (*n); the caller ends the SPI section.
 */
static Datum *
first_column_copy(MemoryContext cxt, int *n)
{
	Datum	   *out = MemoryContextAlloc(cxt, sizeof(Datum) * (SPI_processed + 1));
	MemoryContext old = MemoryContextSwitchTo(cxt);
	uint64		i;

	*n = (int) SPI_processed;
	for (i = 0; i < SPI_processed; i++)
	{
		bool		isnull;

		out[i] = PointerGetDatum(PG_DETOAST_DATUM_COPY(SPI_getbinval(SPI_tuptable->vals[i],
																	  SPI_tuptable->tupdesc, 1, &isnull)));
	}
	MemoryContextSwitchTo(old);
	return out;
}

/* the keys of arr (jsonb) that sql, run on relid as its owner and the run, returns */
static Datum *
keys_without_rows(Oid relid, const char *sql, ArrayType *arr, int *n)
{
	MemoryContext cxt = CurrentMemoryContext;
	GovSpi		spi;
	Oid			atype[1] = {JSONBARRAYOID};
	Datum		aval[1] = {PointerGetDatum(arr)};
	Datum	   *keys;

	gov_spi_begin_as(&spi, relation_owner(relid));
	blocking_job_begin(relid);
	PG_TRY();
	{
		if (SPI_execute_with_args(sql, 1, atype, aval, NULL, true, 0) != SPI_OK_SELECT)
			elog(ERROR, "pg_governance: could not look for kept rows");
	}
	PG_FINALLY();
	{
		blocking_job_end();
	}
	PG_END_TRY();
	keys = first_column_copy(cxt, n);
	gov_spi_end(&spi);
	MemoryContextSwitchTo(cxt);
	return keys;
}

/* forget the keys of restriction p noted in relid that no row of relid has */
static void
prune_part(Oid relid, RestrictPart *p)
{
	MemoryContext cxt = CurrentMemoryContext;
	GovSpi		spi;
	Oid			types[2] = {INT8OID, OIDOID};
	Datum		values[2] = {Int64GetDatum(p->id), ObjectIdGetDatum(relid)};
	Datum	   *keys;
	int			nkeys;
	ArrayType  *arr;
	StringInfoData sql;
	ListCell   *c;

	gov_spi_begin_own(&spi, true);
	if (SPI_execute_with_args("SELECT pg_catalog.to_jsonb(r.key) FROM governance.restricted_rows r "
							  "WHERE r.restriction OPERATOR(pg_catalog.=) $1 AND r.relid OPERATOR(pg_catalog.=) $2",
							  2, types, values, NULL, true, 0) != SPI_OK_SELECT)
		elog(ERROR, "pg_governance: could not read restricted rows");
	keys = first_column_copy(cxt, &nkeys);
	gov_spi_end(&spi);
	MemoryContextSwitchTo(cxt);
	if (nkeys == 0)
		return;
	arr = construct_array(keys, nkeys, JSONBOID, -1, false, TYPALIGN_INT);

	/* the keys no row of the table has any more */
	initStringInfo(&sql);
	appendStringInfoString(&sql, "SELECT k.k FROM pg_catalog.unnest($1) k(k) LEFT JOIN ONLY ");
	appendStringInfo(&sql, "%s x ON pg_catalog.to_jsonb(ARRAY[",
					 quote_qualified_identifier(get_namespace_name(get_rel_namespace(relid)), get_rel_name(relid)));
	foreach(c, p->columns)
		appendStringInfo(&sql, "%sCAST(x.%s AS pg_catalog.text)", foreach_current_index(c) ? ", " : "",
						 quote_identifier(lfirst(c)));
	appendStringInfoString(&sql, "]) OPERATOR(pg_catalog.=) k.k WHERE x.ctid IS NULL");
	keys = keys_without_rows(relid, sql.data, arr, &nkeys);
	if (nkeys == 0)
		return;

	/* ... are forgotten */
	{
		Oid			dtypes[3] = {INT8OID, OIDOID, JSONBARRAYOID};
		Datum		dvals[3] = {Int64GetDatum(p->id), ObjectIdGetDatum(relid),
		PointerGetDatum(construct_array(keys, nkeys, JSONBOID, -1, false, TYPALIGN_INT))};

		gov_spi_begin_own(&spi, true);
		if (SPI_execute_with_args("DELETE FROM governance.restricted_rows r "
								  "WHERE r.restriction OPERATOR(pg_catalog.=) $1 AND r.relid OPERATOR(pg_catalog.=) $2 "
								  "AND pg_catalog.to_jsonb(r.key) OPERATOR(pg_catalog.=) ANY ($3)",
								  3, dtypes, dvals, NULL, false, 0) != SPI_OK_DELETE)
			elog(ERROR, "pg_governance: could not forget restricted rows");
		gov_spi_end(&spi);
		MemoryContextSwitchTo(cxt);
	}
}

/*
 * Forget the keys of relid's kept rows that are gone, destroyed by a
 * retention run at their maximum, so that no later row with the same key
 * is hidden.  The keys noted in relid are looked for in it as its owner,
 * as the run's own statement (which sees kept rows): a hash anti-join, one
 * scan of the table, only on tables with kept rows.  The caller (run.c)
 * calls it only where no row security of the owner's takes part.
 */
void
restrict_prune(Oid relid)
{
	List	   *parts;
	ListCell   *lc;

	if (!OidIsValid(keys_function()) || (parts = restrict_parts(relid)) == NIL)
		return;
	foreach(lc, parts)
	{
		RestrictPart *p = lfirst(lc);
		ListCell   *o;
		int			uses = 0;

		/*
		 * An id in two conjuncts (a look-alike added through the pg_restore
		 * route, over other columns) cannot say which columns its keys are
		 * of: its keys stay.
		 */
		foreach(o, parts)
			uses += ((RestrictPart *) lfirst(o))->id == p->id;
		if (uses == 1)
			prune_part(relid, p);
	}
}

/* ------------------------------------------------------------ reads and writes */

/* does relid's governance_restricted policy (as the relcache has it) name id? */
static bool
policy_names_id(Relation rel, int64 id)
{
	ListCell   *lc;
	IdFinder	f = {keys_function(), keys_function_int(), 0, false};

	if (rel->rd_rsdesc == NULL)
		return false;
	foreach(lc, rel->rd_rsdesc->policies)
	{
		RowSecurityPolicy *p = lfirst(lc);
		ListCell   *c;

		if (strcmp(p->policy_name, RESTRICTED_POLICY) != 0)
			continue;
		foreach(c, make_ands_implicit(p->qual))
		{
			f.found = false;
			(void) find_id_walker(lfirst(c), &f);
			if (f.found && f.id == id)
				return true;
		}
	}
	return false;
}

/* a key as one string: each element length-prefixed, NULL as "-" */
static char *
key_string(ArrayType *key)
{
	Datum	   *elems;
	bool	   *nulls;
	int			n;
	int			i;
	StringInfoData buf;

	deconstruct_array(key, TEXTOID, -1, false, TYPALIGN_INT, &elems, &nulls, &n);
	initStringInfo(&buf);
	for (i = 0; i < n; i++)
	{
		if (nulls[i])
			appendStringInfoString(&buf, "-;");
		else
		{
			text	   *t = DatumGetTextPP(elems[i]);

			appendStringInfo(&buf, "%d:", (int) VARSIZE_ANY_EXHDR(t));
			appendBinaryStringInfo(&buf, VARDATA_ANY(t), VARSIZE_ANY_EXHDR(t));
		}
	}
	return buf.data;
}

/* the topmost ancestor of relid (itself when it has none) */
static Oid
tree_root(Oid relid)
{
	List	   *anc = guard_ancestors(relid);

	return anc ? llast_oid(anc) : relid;
}

/*
 * Is restriction id one of relid's?  Its keys were noted in relid or in a
 * table of relid's inheritance tree (restricted_rows.relid is a regclass:
 * pg_dump writes it by name, so a restore keeps it).  A copy of the policy
 * on another table (made through the pg_restore route) reads nothing.
 */
static bool
restriction_is_of(Oid relid, int64 id)
{
	GovSpi		spi;
	Oid			types[1] = {INT8OID};
	Datum		values[1] = {Int64GetDatum(id)};
	Oid			root = tree_root(relid);
	List	   *noted = NIL;
	ListCell   *lc;
	uint64		i;

	gov_spi_begin_own(&spi, true);
	if (SPI_execute_with_args("SELECT DISTINCT r.relid::pg_catalog.oid FROM governance.restricted_rows r "
							  "WHERE r.restriction OPERATOR(pg_catalog.=) $1",
							  1, types, values, NULL, true, 0) != SPI_OK_SELECT)
		elog(ERROR, "pg_governance: could not read restricted rows");
	for (i = 0; i < SPI_processed; i++)
	{
		bool		isnull;

		noted = lappend_oid(noted, DatumGetObjectId(SPI_getbinval(SPI_tuptable->vals[i],
																	SPI_tuptable->tupdesc, 1, &isnull)));
	}
	gov_spi_end(&spi);
	/* no key at all: nothing to give away */
	if (noted == NIL)
		return true;
	foreach(lc, noted)
	{
		Oid			t = lfirst_oid(lc);

		if (t == relid || (get_rel_relkind(t) != '\0' && tree_root(t) == root))
			return true;
	}
	return false;
}

/* the keys of one restriction, for one statement (in fn_extra) */
typedef struct MatchCache
{
	Oid			relid;
	int64		id;
	bool		sees;			/* the caller sees kept rows: nothing matches */
	HTAB	   *keys;			/* KeyEntry, by the hash of key_string() */
	HTAB	   *ints;			/* int64: the bigint form's keys */
} MatchCache;

typedef struct KeyEntry
{
	uint64		hash;
	char	   *key;			/* key_string(), in fn_mcxt */
} KeyEntry;

static uint64
key_hash(const char *k)
{
	return DatumGetUInt64(hash_bytes_extended((const unsigned char *) k, strlen(k), 0));
}

/* an empty hash table of fixed-size keys in cxt */
static HTAB *
blob_table(const char *name, Size keysize, Size entrysize, MemoryContext cxt)
{
	HASHCTL		ctl;

	memset(&ctl, 0, sizeof(ctl));
	ctl.keysize = keysize;
	ctl.entrysize = entrysize;
	ctl.hcxt = cxt;
	return hash_create(name, 64, &ctl, HASH_ELEM | HASH_BLOBS | HASH_CONTEXT);
}

/* the keys of one restriction, as a hash table (KeyEntry) in cxt */
static HTAB *
load_keys(Oid relid, int64 id, MemoryContext cxt)
{
	GovSpi		spi;
	Oid			types[1] = {INT8OID};
	Datum		values[1] = {Int64GetDatum(id)};
	HTAB	   *keys = blob_table("pg_governance restricted keys", sizeof(uint64), sizeof(KeyEntry), cxt);
	uint64		i;

	gov_spi_begin_own(&spi, true);
	if (SPI_execute_with_args("SELECT r.key FROM governance.restricted_rows r WHERE r.restriction OPERATOR(pg_catalog.=) $1",
							  1, types, values, NULL, true, 0) != SPI_OK_SELECT)
		elog(ERROR, "pg_governance: could not read restricted rows");
	for (i = 0; i < SPI_processed; i++)
	{
		bool		isnull;
		Datum		d = SPI_getbinval(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, 1, &isnull);
		char	   *k;
		uint64		h;
		KeyEntry   *e;
		bool		found;

		if (isnull)
			continue;
		k = MemoryContextStrdup(cxt, key_string(DatumGetArrayTypeP(d)));
		h = key_hash(k);
		e = hash_search(keys, &h, HASH_ENTER, &found);
		/* two kept keys with one 64-bit hash: refuse rather than miss one */
		if (found && strcmp(e->key, k) != 0)
			ereport(ERROR,
					(errcode(ERRCODE_INTERNAL_ERROR),
					 errmsg("two kept rows of table %s have keys with the same hash", get_rel_name(relid)),
					 errdetail("Restriction " INT64_FORMAT ".", id),
					 errhint("Report this; it should not happen.")));
		e->key = k;
	}
	gov_spi_end(&spi);
	return keys;
}

/* is key (key_string) in keys? */
static bool
key_in(HTAB *keys, const char *k)
{
	uint64		h = key_hash(k);
	KeyEntry   *e = hash_search(keys, &h, HASH_FIND, NULL);

	return e != NULL && strcmp(e->key, k) == 0;
}

/* str as an int64, the whole of it */
static bool
scanint8_ok(const char *str, int64 *out)
{
	char	   *end;
	long long	v;

	errno = 0;
	v = strtoll(str, &end, 10);
	if (errno != 0 || end == str || *end != '\0')
		return false;
	*out = (int64) v;
	return true;
}

/* the keys of one restriction of one integer column, as a set of int64 in cxt */
static HTAB *
load_int_keys(Oid relid, int64 id, MemoryContext cxt)
{
	HTAB	   *text_keys = load_keys(relid, id, cxt);
	HASH_SEQ_STATUS status;
	KeyEntry   *e;
	HTAB	   *ints = blob_table("pg_governance restricted integer keys", sizeof(int64), sizeof(int64), cxt);

	hash_seq_init(&status, text_keys);
	while ((e = hash_seq_search(&status)) != NULL)
	{
		/* key_string of one element: "<length>:<digits>" */
		const char *colon = strchr(e->key, ':');
		int64		v;

		if (colon == NULL || !scanint8_ok(colon + 1, &v))
			ereport(ERROR,
					(errcode(ERRCODE_DATA_CORRUPTED),
					 errmsg("a kept key of table %s is not an integer", get_rel_name(relid)),
					 errdetail("Restriction " INT64_FORMAT ", key %s.", id, e->key),
					 errhint("Check governance.restricted_rows.")));
		(void) hash_search(ints, &v, HASH_ENTER, NULL);
	}
	hash_destroy(text_keys);
	return ints;
}

static MatchCache *
match_cache(FunctionCallInfo fcinfo, Oid relid, int64 id, bool ints)
{
	MatchCache *mc = fcinfo->flinfo->fn_extra;
	MemoryContext old;
	Relation	rel;
	bool		bound;

	if (mc && mc->relid == relid && mc->id == id)
		return mc;
	old = MemoryContextSwitchTo(fcinfo->flinfo->fn_mcxt);
	mc = palloc0(sizeof(MatchCache));
	mc->relid = relid;
	mc->id = id;
	MemoryContextSwitchTo(old);
	if (blocking_sees(relid))
	{
		mc->sees = true;
		fcinfo->flinfo->fn_extra = mc;
		return mc;
	}
	if (pg_class_aclmask(relid, GetUserId(), ACL_SELECT | ACL_UPDATE | ACL_DELETE, ACLMASK_ANY) == 0)
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("permission denied for table %s", get_rel_name(relid)),
				 errdetail("governance._restricted_match is the governance_restricted policy of a table."),
				 errhint("Query the table itself.")));
	rel = table_open(relid, AccessShareLock);
	bound = policy_names_id(rel, id);
	table_close(rel, AccessShareLock);
	bound = bound && restriction_is_of(relid, id);
	if (!bound)
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("restriction " INT64_FORMAT " is not one of table %s", id, get_rel_name(relid)),
				 errdetail("Only the governance_restricted policy of a table compares rows with the keys of its kept rows."),
				 errhint("Query the table itself.")));

	if (ints)
		mc->ints = load_int_keys(relid, id, fcinfo->flinfo->fn_mcxt);
	else
		mc->keys = load_keys(relid, id, fcinfo->flinfo->fn_mcxt);
	fcinfo->flinfo->fn_extra = mc;
	return mc;
}

/*
 * governance._restricted_match(rel regclass, restriction bigint, key text[])
 *		→ boolean: is key one of rel's kept rows under that restriction?
 *		For rel's governance_restricted policy: false for a role that sees
 *		kept rows; refused for a table whose policy does not name the id,
 *		and to a role that cannot read, change or delete the table's rows.
 */
Datum
governance_restricted_match(PG_FUNCTION_ARGS)
{
	MatchCache *mc = match_cache(fcinfo, PG_GETARG_OID(0), PG_GETARG_INT64(1), false);
	char	   *k;
	bool		found;

	if (mc->sees)
		PG_RETURN_BOOL(false);

	k = key_string(PG_GETARG_ARRAYTYPE_P(2));
	found = key_in(mc->keys, k);
	pfree(k);
	PG_RETURN_BOOL(found);
}

/* ... the bigint form, for a key of one integer column */
Datum
governance_restricted_match_int(PG_FUNCTION_ARGS)
{
	MatchCache *mc = match_cache(fcinfo, PG_GETARG_OID(0), PG_GETARG_INT64(1), true);
	int64		key = PG_GETARG_INT64(2);

	if (mc->sees)
		PG_RETURN_BOOL(false);
	PG_RETURN_BOOL(hash_search(mc->ints, &key, HASH_FIND, NULL) != NULL);
}

/*
 * GV006 for a write to a kept row of an erased subject by a role that
 * sees it (an administrator, a superuser, a role with BYPASSRLS).  Only
 * tables with a governance_restricted policy pay more than a look at the
 * relation's policies.
 */
/*
 * The restrictions of the table being written and their keys, for the rest
 * of one command of one transaction: rows of one statement are checked
 * against keys loaded once.  In TopTransactionContext; the transaction and
 * command stamps say when it is stale.
 */
typedef struct WriteCache
{
	Oid			relid;
	LocalTransactionId lxid;
	CommandId	cid;
	int			nparts;
	RestrictPart **parts;
	AttrNumber **attnos;
	HTAB	  **keys;
} WriteCache;

static WriteCache *write_cache = NULL;

static WriteCache *
write_cache_for(GuardRel *g, TupleDesc desc)
{
	CommandId	cid = GetCurrentCommandId(false);
	MemoryContext old;
	List	   *parts;
	ListCell   *lc;
	WriteCache *wc;

	if (write_cache && write_cache->lxid == MyProc->lxid && write_cache->cid == cid &&
		write_cache->relid == g->relid)
		return write_cache;
	write_cache = NULL;
	old = MemoryContextSwitchTo(TopTransactionContext);
	parts = restrict_parts(g->relid);
	wc = palloc0(sizeof(WriteCache));
	wc->relid = g->relid;
	wc->lxid = MyProc->lxid;
	wc->cid = cid;
	wc->nparts = list_length(parts);
	wc->parts = palloc0(sizeof(RestrictPart *) * (wc->nparts + 1));
	wc->attnos = palloc0(sizeof(AttrNumber *) * (wc->nparts + 1));
	wc->keys = palloc0(sizeof(HTAB *) * (wc->nparts + 1));
	foreach(lc, parts)
	{
		RestrictPart *p = lfirst(lc);
		int			i = foreach_current_index(lc);
		ListCell   *c;

		wc->parts[i] = p;
		wc->attnos[i] = palloc(sizeof(AttrNumber) * list_length(p->columns));
		foreach(c, p->columns)
		{
			AttrNumber	a = get_attnum(g->relid, lfirst(c));

			if (a <= 0 || a > desc->natts)
				elog(ERROR, "pg_governance: key column \"%s\" of table %s not found", (char *) lfirst(c), g->relname);
			wc->attnos[i][foreach_current_index(c)] = a;
		}
		wc->keys[i] = load_keys(g->relid, p->id, TopTransactionContext);
	}
	MemoryContextSwitchTo(old);
	write_cache = wc;
	return wc;
}

/*
 * GV006 for a write to a kept row of an erased subject by a role that
 * sees it (an administrator, a superuser, a role with BYPASSRLS).  Only
 * tables with a governance_restricted policy (known to the guard's cache
 * entry) pay anything; they load their keys once per command.
 */
void
restrict_check_write(GuardRel *g, HeapTuple tup, TupleDesc desc, const char *what)
{
	WriteCache *wc;
	int			i;

	if (!g->restricted)
		return;
	wc = write_cache_for(g, desc);
	for (i = 0; i < wc->nparts; i++)
	{
		RestrictPart *p = wc->parts[i];
		int			n = list_length(p->columns);
		Oid		   *types = palloc(sizeof(Oid) * n);
		Datum	   *values = palloc(sizeof(Datum) * n);
		bool	   *nulls = palloc(sizeof(bool) * n);
		char	   *k;
		bool		found;
		int			j;

		for (j = 0; j < n; j++)
		{
			types[j] = TupleDescAttr(desc, wc->attnos[i][j] - 1)->atttypid;
			values[j] = heap_getattr(tup, wc->attnos[i][j], desc, &nulls[j]);
		}
		k = key_string(restrict_key(n, types, values, nulls));
		found = key_in(wc->keys[i], k);
		pfree(k);
		pfree(types);
		pfree(values);
		pfree(nulls);
		if (found)
			ereport(ERROR,
					(errcode(ERRCODE_GV_BLOCKED),
					 errmsg("cannot %s a blocked row of table %s", what, g->relname),
					 errdetail("The row belongs to a subject whose data was erased; it was kept under a legal hold or a minimum retention (restriction " INT64_FORMAT "), for the law only: restricted processing.",
							   p->id),
					 errhint("Erase the subject again with governance.erase_subject() once the hold is released or the minimum has passed.")));
	}
}
