/*-------------------------------------------------------------------------
 *
 * blocking.c
 *	  Restricted processing (GV006): rows whose residence has ended are
 *	  kept for the law but no longer used.  They are hidden by row
 *	  security, with no write per row: every governed table whose rules
 *	  can block gets
 *
 *	  - ROW LEVEL SECURITY enabled and forced (the owner is no exception);
 *	  - a RESTRICTIVE policy "governance_blocked", for everyone:
 *		  (SELECT governance._sees_blocked(t)) OR
 *		  ((a IS NULL OR a >= (SELECT governance._cutoff_<type>(t, 'a'))) AND ...)
 *		over each anchor column a, so the cutoffs are computed once per
 *		statement (init plans) and compared with an index where there is
 *		one; rows become blocked the moment their period ends;
 *	  - a PERMISSIVE policy "governance_open" (USING true) only while the
 *		table has no permissive policy of its own, so that the table's own
 *		policies keep deciding what each role sees.
 *
 *	  governance_admin members see blocked rows; so does a retention run,
 *	  for the table it processes (blocking_job_begin).  Writes to blocked
 *	  rows by those who see them raise GV006 (blocking_check_write, called
 *	  by the guard's delete and update triggers), except by the run.
 *
 *	  The policies are kept in line by guard_sync (guard_attach.c) after
 *	  every DDL on the table: DISABLE or NO FORCE ROW LEVEL SECURITY are
 *	  put back, and ddl.c refuses CREATE, ALTER and DROP POLICY on these
 *	  two names, except while pg_restore recreates them.
 *
 *-------------------------------------------------------------------------
 */
#include "pg_governance.h"

#include "access/genam.h"
#include "access/htup_details.h"
#include "access/table.h"
#include "catalog/indexing.h"
#include "catalog/pg_class.h"
#include "catalog/pg_policy.h"
#include "catalog/pg_type.h"
#include "commands/trigger.h"
#include "miscadmin.h"
#include "nodes/nodeFuncs.h"
#include "parser/parse_clause.h"
#include "parser/parse_func.h"
#include "parser/parse_collate.h"
#include "parser/parse_node.h"
#include "parser/parse_relation.h"
#include "parser/parser.h"
#include "utils/acl.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/date.h"
#include "utils/fmgroids.h"
#include "utils/guc.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"
#include "utils/syscache.h"
#include "utils/timestamp.h"

PG_FUNCTION_INFO_V1(governance_cutoff);
PG_FUNCTION_INFO_V1(governance_sees_blocked);

#define BLOCKED_POLICY	"governance_blocked"
#define OPEN_POLICY		"governance_open"

/* the relation a retention run in this backend is processing */
static Oid	job_relid = InvalidOid;

void
blocking_job_begin(Oid relid)
{
	job_relid = relid;
}

void
blocking_job_end(void)
{
	job_relid = InvalidOid;
}

/* does this database's version of the extension block (0.2 on)? */
bool
blocking_installed(void)
{
	Oid			argtypes[1] = {REGCLASSOID};

	return OidIsValid(LookupFuncName(list_make2(makeString("governance"), makeString("_sees_blocked")),
									 1, argtypes, true));
}

bool
blocking_is_own_policy_name(const char *name)
{
	return strcmp(name, BLOCKED_POLICY) == 0 || strcmp(name, OPEN_POLICY) == 0;
}

/* ------------------------------------------------------------ SQL */

static Datum
infinite_cutoff(Oid typid, bool future)
{
	if (getBaseType(typid) == DATEOID)
		return DateADTGetDatum(future ? DATEVAL_NOEND : DATEVAL_NOBEGIN);
	return TimestampGetDatum(future ? DT_NOEND : DT_NOBEGIN);
}

/*
 * governance._cutoff_date / _cutoff_timestamp / _cutoff_timestamptz
 *		(rel regclass, col name): rows of rel whose anchor col is before
 *		the result are blocked.  -infinity when nothing blocks on that
 *		column; +infinity when the table's labels do not resolve (fail
 *		closed: every row with a clock is hidden).  Called once per
 *		statement by the governance_blocked policy.
 */
Datum
governance_cutoff(PG_FUNCTION_ARGS)
{
	Oid			relid = PG_GETARG_OID(0);
	Name		col = PG_GETARG_NAME(1);
	Oid			rettype = get_fn_expr_rettype(fcinfo->flinfo);
	GuardRel   *g = guard_get(relid);
	AttrNumber	attno = get_attnum(relid, NameStr(*col));
	Interval	period;

	if (g->governed && g->policy && g->fail_closed)
		return infinite_cutoff(rettype, true);
	if (!g->governed || g->policy == NULL || attno == InvalidAttrNumber ||
		!life_column_period(g, attno, &period, NULL))
		return infinite_cutoff(rettype, false);
	return life_cutoff(&period, rettype);
}

/*
 * governance._sees_blocked(rel regclass): may the current role see the
 * blocked rows of rel?  governance_admin members may; so may a retention
 * run of this backend, on the table it processes.
 */
Datum
governance_sees_blocked(PG_FUNCTION_ARGS)
{
	Oid			relid = PG_GETARG_OID(0);

	PG_RETURN_BOOL((OidIsValid(job_relid) && job_relid == relid) || governance_is_admin());
}

/* ------------------------------------------------------------ writes */

/*
 * The rule under which a row is blocked now, or NULL.  The same cutoffs
 * as the governance_blocked policy.
 */
GuardLife *
blocking_row_rule(GuardRel *g, HeapTuple tup, TupleDesc desc)
{
	ListCell   *lc;
	AttrNumber	done[16];
	int			ndone = 0;

	foreach(lc, g->lifecycle)
	{
		GuardLife  *l = lfirst(lc);
		Interval	period;
		GuardLife  *by = NULL;
		bool		isnull;
		Datum		v;
		int			i;
		bool		seen = false;

		if (l->anchor_attno == InvalidAttrNumber)
			continue;
		for (i = 0; i < ndone; i++)
			seen |= (done[i] == l->anchor_attno);
		if (seen)
			continue;
		if (ndone < (int) lengthof(done))
			done[ndone++] = l->anchor_attno;
		if (!life_column_period(g, l->anchor_attno, &period, &by))
			continue;
		v = heap_getattr(tup, l->anchor_attno, desc, &isnull);
		if (!isnull && life_anchor_before(v, life_cutoff(&period, l->anchor_typid), l->anchor_typid))
			return by;
	}
	return NULL;
}

void
blocking_error(GuardRel *g, GuardLife *by, const char *what)
{
	ereport(ERROR,
			(errcode(ERRCODE_GV_BLOCKED),
			 errmsg("cannot %s a blocked row of table %s", what, g->relname),
			 errdetail("Table %s, column %s (anchor %s), policy %s, rule %s: \"%s\". The row's period has ended: it is kept for the law (restricted processing), not used.",
					   g->relname, by->anchor_column, by->anchor, g->policy,
					   by->rule.rule_id, by->rule.source),
			 errhint("Blocked rows are anonymized or deleted by CALL governance.run_retention(); a legal hold keeps them.")));
}

/*
 * GV006: a role that sees blocked rows (an administrator, a superuser, a
 * role with BYPASSRLS) may not change or delete them; only the retention
 * run (and erasure) act on them.
 */
void
blocking_check_write(GuardRel *g, HeapTuple tup, TupleDesc desc, const char *what)
{
	GuardLife  *by;

	if (!g->blocking_writes || job_relid == g->relid)
		return;
	/*
	 * Logical replication apply (and a superuser's session in replica
	 * mode): the publisher decided, and a governed publisher only ever
	 * changes blocked rows through its own retention runs.
	 */
	if (SessionReplicationRole == SESSION_REPLICATION_ROLE_REPLICA)
		return;
	if ((by = blocking_row_rule(g, tup, desc)) != NULL)
		blocking_error(g, by, what);
}

/* ------------------------------------------------------------ policies */

/* the anchor columns that can block, as (attnum, name, type) */
typedef struct AnchorCol
{
	AttrNumber	attno;
	char	   *name;
	Oid			typid;
} AnchorCol;

static List *
blocking_anchor_columns(GuardRel *g)
{
	List	   *result = NIL;
	ListCell   *lc;

	foreach(lc, g->lifecycle)
	{
		GuardLife  *l = lfirst(lc);
		ListCell   *r;
		bool		seen = false;
		AnchorCol  *a;

		if (l->anchor_attno == InvalidAttrNumber || life_end_period(l) == NULL)
			continue;
		foreach(r, result)
			seen |= ((AnchorCol *) lfirst(r))->attno == l->anchor_attno;
		if (seen)
			continue;
		a = palloc(sizeof(AnchorCol));
		a->attno = l->anchor_attno;
		a->name = get_attname(g->relid, l->anchor_attno, false);
		a->typid = l->anchor_typid;
		result = lappend(result, a);
	}
	return result;
}

static const char *
cutoff_function(Oid typid)
{
	switch (getBaseType(typid))
	{
		case DATEOID:
			return "governance._cutoff_date";
		case TIMESTAMPOID:
			return "governance._cutoff_timestamp";
		default:
			return "governance._cutoff_timestamptz";
	}
}

/* the USING expression of governance_blocked, identifiers quoted */
static char *
blocked_expression(Oid relid, List *anchors)
{
	StringInfoData buf;
	char	   *rel = quote_literal_cstr(psprintf("%s.%s",
												  quote_identifier(get_namespace_name(get_rel_namespace(relid))),
												  quote_identifier(get_rel_name(relid))));
	ListCell   *lc;

	initStringInfo(&buf);
	appendStringInfo(&buf, "(SELECT governance._sees_blocked(%s::pg_catalog.regclass)) OR (", rel);
	foreach(lc, anchors)
	{
		AnchorCol  *a = lfirst(lc);
		const char *col = quote_identifier(a->name);

		appendStringInfo(&buf, "%s(%s IS NULL OR %s OPERATOR(pg_catalog.>=) (SELECT %s(%s::pg_catalog.regclass, %s::pg_catalog.name)))",
						 foreach_current_index(lc) > 0 ? " AND " : "",
						 col, col, cutoff_function(a->typid), rel,
						 quote_literal_cstr(a->name));
	}
	appendStringInfoChar(&buf, ')');
	return buf.data;
}

/*
 * The expression as CREATE POLICY would store it: parsed and analysed
 * against the table, with search_path pinned.  Compared with equal(),
 * which ignores parse locations.
 */
static Node *
analysed_expression(Oid relid, const char *text)
{
	List	   *raw = raw_parser(psprintf("SELECT WHERE %s", text), RAW_PARSE_DEFAULT);
	SelectStmt *sel = (SelectStmt *) ((RawStmt *) linitial(raw))->stmt;
	ParseState *ps = make_parsestate(NULL);
	Relation	rel = table_open(relid, AccessShareLock);
	ParseNamespaceItem *nsitem;
	Node	   *qual;
	int			nestlevel = NewGUCNestLevel();

	(void) set_config_option("search_path", "pg_catalog, pg_temp",
							 PGC_USERSET, PGC_S_SESSION, GUC_ACTION_SAVE,
							 true, 0, false);
	nsitem = addRangeTableEntryForRelation(ps, rel, AccessShareLock, NULL, false, false);
	addNSItemToQuery(ps, nsitem, false, true, true);
	qual = transformWhereClause(ps, sel->whereClause, EXPR_KIND_POLICY, "POLICY");
	assign_expr_collations(ps, qual);
	free_parsestate(ps);
	AtEOXact_GUC(true, nestlevel);
	table_close(rel, NoLock);
	return qual;
}

/* what a table's pg_policy rows say, as far as we care */
typedef struct PolicyState
{
	bool		blocked_exists;
	bool		blocked_ok;		/* restrictive, ALL, PUBLIC, expected USING */
	bool		open_exists;
	bool		open_ok;
	int			own_permissive; /* the table's own permissive policies */
} PolicyState;

static bool
policy_for_public_all(Form_pg_policy pol, HeapTuple tup, Relation catalog)
{
	bool		isnull;
	Datum		roles = heap_getattr(tup, Anum_pg_policy_polroles, RelationGetDescr(catalog), &isnull);
	ArrayType  *arr;

	if (isnull || pol->polcmd != '*')
		return false;
	{
	Datum	   *elems;
	int			n;

	arr = DatumGetArrayTypeP(roles);
	deconstruct_array(arr, OIDOID, sizeof(Oid), true, TYPALIGN_INT, &elems, NULL, &n);
	return n == 1 && DatumGetObjectId(elems[0]) == ACL_ID_PUBLIC;
	}
}

static Node *
policy_expr(HeapTuple tup, Relation catalog, int attnum)
{
	bool		isnull;
	Datum		d = heap_getattr(tup, attnum, RelationGetDescr(catalog), &isnull);

	return isnull ? NULL : stringToNode(TextDatumGetCString(d));
}

static bool
is_true_const(Node *n)
{
	return n && IsA(n, Const) && ((Const *) n)->consttype == BOOLOID &&
		!((Const *) n)->constisnull && DatumGetBool(((Const *) n)->constvalue);
}

static PolicyState
read_policies(Oid relid, Node *expected)
{
	PolicyState st = {0};
	Relation	catalog = table_open(PolicyRelationId, AccessShareLock);
	ScanKeyData key;
	SysScanDesc scan;
	HeapTuple	tup;

	ScanKeyInit(&key, Anum_pg_policy_polrelid, BTEqualStrategyNumber, F_OIDEQ,
				ObjectIdGetDatum(relid));
	scan = systable_beginscan(catalog, PolicyPolrelidPolnameIndexId, true, NULL, 1, &key);
	while (HeapTupleIsValid(tup = systable_getnext(scan)))
	{
		Form_pg_policy pol = (Form_pg_policy) GETSTRUCT(tup);
		const char *name = NameStr(pol->polname);

		if (strcmp(name, BLOCKED_POLICY) == 0)
		{
			Node	   *check = policy_expr(tup, catalog, Anum_pg_policy_polwithcheck);

			st.blocked_exists = true;
			st.blocked_ok = !pol->polpermissive && policy_for_public_all(pol, tup, catalog) &&
				is_true_const(check) && expected &&
				equal(policy_expr(tup, catalog, Anum_pg_policy_polqual), expected);
		}
		else if (strcmp(name, OPEN_POLICY) == 0)
		{
			st.open_exists = true;
			st.open_ok = pol->polpermissive && policy_for_public_all(pol, tup, catalog) &&
				is_true_const(policy_expr(tup, catalog, Anum_pg_policy_polqual)) &&
				is_true_const(policy_expr(tup, catalog, Anum_pg_policy_polwithcheck));
		}
		else if (pol->polpermissive)
			st.own_permissive++;
	}
	systable_endscan(scan);
	table_close(catalog, AccessShareLock);
	return st;
}

/*
 * Does the governance_blocked policy of relid read column colname?  Then
 * DROP COLUMN and ALTER COLUMN TYPE of that column must lose the policy
 * first (ddl.c), or PostgreSQL refuses them for the policy's sake; the
 * sync at the command's end makes it again over the remaining anchors.
 */
bool
blocking_policy_reads(Oid relid, const char *colname)
{
	GuardRel   *g;
	ListCell   *lc;

	if (!guard_relation_governed(relid))
		return false;
	g = guard_get(relid);
	if (!read_policies(relid, NULL).blocked_exists)
		return false;
	foreach(lc, blocking_anchor_columns(g))
		if (strcmp(((AnchorCol *) lfirst(lc))->name, colname) == 0)
			return true;
	return false;
}

/*
 * blocking_sync
 *		Bring a table's row security in line with its rules.  Changes
 *		nothing (and takes no stronger lock) when all is in line.
 */
void
blocking_sync(Oid relid, bool governed)
{
	GuardRel   *g = NULL;
	List	   *anchors = NIL;
	bool		want;
	char	   *expr = NULL;
	Node	   *expected = NULL;
	PolicyState st;
	HeapTuple	ctup;
	bool		rls;
	bool		force;
	char	   *qrel;
	List	   *cmds = NIL;
	ListCell   *lc;

	if (governed)
	{
		g = guard_get(relid);
		/* labels that do not resolve: keep what is there (the cutoff fails closed) */
		if (g->fail_closed)
			return;
		want = g->policy != NULL && g->blocking && blocking_installed();
		if (want)
		{
			anchors = blocking_anchor_columns(g);
			want = anchors != NIL;
		}
	}
	else
		want = false;
	if (want)
	{
		expr = blocked_expression(relid, anchors);
		expected = analysed_expression(relid, expr);
	}
	st = read_policies(relid, expected);
	ctup = SearchSysCache1(RELOID, ObjectIdGetDatum(relid));
	if (!HeapTupleIsValid(ctup))
		return;
	rls = ((Form_pg_class) GETSTRUCT(ctup))->relrowsecurity;
	force = ((Form_pg_class) GETSTRUCT(ctup))->relforcerowsecurity;
	ReleaseSysCache(ctup);
	qrel = psprintf("%s.%s", quote_identifier(get_namespace_name(get_rel_namespace(relid))),
					quote_identifier(get_rel_name(relid)));

	if (!want)
	{
		if (st.blocked_exists)
			cmds = lappend(cmds, psprintf("DROP POLICY %s ON %s", BLOCKED_POLICY, qrel));
		if (st.open_exists)
			cmds = lappend(cmds, psprintf("DROP POLICY %s ON %s", OPEN_POLICY, qrel));
		/* row security was ours if no policy of the table's own is left */
		if ((st.blocked_exists || st.open_exists) && st.own_permissive == 0 &&
			(rls || force))
			cmds = lappend(cmds, psprintf("ALTER TABLE %s NO FORCE ROW LEVEL SECURITY, DISABLE ROW LEVEL SECURITY", qrel));
	}
	else
	{
		if (st.blocked_exists && !st.blocked_ok)
			cmds = lappend(cmds, psprintf("DROP POLICY %s ON %s", BLOCKED_POLICY, qrel));
		if (!st.blocked_ok)
			cmds = lappend(cmds, psprintf("CREATE POLICY %s ON %s AS RESTRICTIVE FOR ALL TO PUBLIC USING (%s) WITH CHECK (true)",
										  BLOCKED_POLICY, qrel, expr));
		if (st.open_exists && (!st.open_ok || st.own_permissive > 0))
			cmds = lappend(cmds, psprintf("DROP POLICY %s ON %s", OPEN_POLICY, qrel));
		if (st.own_permissive == 0 && !(st.open_exists && st.open_ok))
			cmds = lappend(cmds, psprintf("CREATE POLICY %s ON %s AS PERMISSIVE FOR ALL TO PUBLIC USING (true) WITH CHECK (true)",
										  OPEN_POLICY, qrel));
		if (!rls || !force)
			cmds = lappend(cmds, psprintf("ALTER TABLE %s ENABLE ROW LEVEL SECURITY, FORCE ROW LEVEL SECURITY", qrel));
	}
	foreach(lc, cmds)
		guard_exec(lfirst(lc));
}
