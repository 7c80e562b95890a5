/*-------------------------------------------------------------------------
 *
 * run_bound.c
 *	  Where a retention batch ends: the (batch_size+1)-th entry of the
 *	  anchor's btree index past where the last batch stopped, read from
 *	  the index alone.
 *
 *	  A batch is a range of the anchor that holds at most batch_size rows
 *	  (run.c, step_rows_locked).  Its end was found with a query, SELECT
 *	  anchor ... ORDER BY anchor OFFSET batch_size LIMIT 1: an index-only
 *	  scan, but one that checks the visibility map and evaluates the
 *	  table's row security on every entry, some 15% of a run that deletes.
 *	  Stepping over the index entries in C costs a fraction of that.
 *
 *	  Every entry counts, dead rows' too (entries the index already knows
 *	  are dead are skipped), so the range holds at most batch_size rows (a
 *	  row committed after the step's snapshot may add to it, as with any
 *	  query), and fewer where the index has dead entries.  Where that
 *	  makes batches small (a previous run's deleted rows, not vacuumed yet,
 *	  made one empty batch per batch_size entries), the caller asks for
 *	  live entries only: an entry then counts when its row is visible to
 *	  the snapshot, on a page the visibility map says is all-visible
 *	  without looking further, elsewhere by a look at the heap (an entry
 *	  whose rows are dead to all is then marked dead in the index, as an
 *	  index scan marks it).  That look costs some 6% of a run's time on a
 *	  table whose entries do not follow its pages, so it is not the
 *	  default.  Only the
 *	  anchor value of one entry is read, as the bound of the run's own
 *	  statement; no row leaves this file, and nothing of the table's owner
 *	  runs here (the index's predicate is looked at, not evaluated).
 *
 *	  The index must be a valid btree whose first column is the anchor
 *	  itself, ascending, with its type's default operator class and no
 *	  predicate.  Otherwise run_bound_from_index says so, and the caller
 *	  asks with the query.
 *
 *-------------------------------------------------------------------------
 */
#include "pg_governance.h"

#include "access/genam.h"
#include "access/htup_details.h"
#include "access/nbtree.h"
#include "access/relscan.h"
#include "access/table.h"
#include "access/tableam.h"
#include "access/visibilitymap.h"
#include "catalog/index.h"
#include "catalog/pg_am.h"
#include "catalog/pg_index.h"
#include "commands/defrem.h"
#include "miscadmin.h"
#include "executor/tuptable.h"
#include "storage/bufmgr.h"
#include "utils/datum.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"
#include "utils/snapmgr.h"

/* An index of heap that run_bound_from_index can read, opened; or NULL. */
static Relation
anchor_index(Relation heap, AttrNumber attno, Oid typid)
{
	List	   *indexes = RelationGetIndexList(heap);
	Oid			family = get_opclass_family(GetDefaultOpClass(typid, BTREE_AM_OID));
	ListCell   *lc;

	foreach(lc, indexes)
	{
		Relation	ind = index_open(lfirst_oid(lc), AccessShareLock);
		Form_pg_index ix = ind->rd_index;

		if (ix->indisvalid && ix->indnkeyatts >= 1 && ix->indkey.values[0] == attno &&
			ind->rd_rel->relam == BTREE_AM_OID &&
			(ind->rd_indoption[0] & INDOPTION_DESC) == 0 &&
			ind->rd_opfamily[0] == family &&
			heap_attisnull(ind->rd_indextuple, Anum_pg_index_indpred, NULL))
			return ind;
		index_close(ind, AccessShareLock);
	}
	return NULL;
}

/*
 * Is the row of this index entry visible to snapshot?  The visibility map
 * answers for all-visible pages; elsewhere the heap does, and an entry
 * whose rows are all dead is marked so in the index.
 */
typedef struct EntryCheck
{
	Snapshot	snapshot;
	Buffer		vmbuf;			/* the visibility map page last read */
	IndexFetchTableData *fetch; /* for the heap, made at its first use */
	TupleTableSlot *slot;
} EntryCheck;

static bool
entry_live(IndexScanDesc scan, ItemPointer tid, EntryCheck *ec)
{
	bool		all_dead = false;
	bool		call_again = false;
	bool		live;

	if (VM_ALL_VISIBLE(scan->heapRelation, ItemPointerGetBlockNumber(tid), &ec->vmbuf))
		return true;
	if (ec->fetch == NULL)
	{
		ec->fetch = table_index_fetch_begin(scan->heapRelation);
		ec->slot = table_slot_create(scan->heapRelation, NULL);
	}
	live = table_index_fetch_tuple(ec->fetch, tid, ec->snapshot, ec->slot, &call_again, &all_dead);
	ExecClearTuple(ec->slot);
	scan->kill_prior_tuple = all_dead;
	return live;
}

static void
entry_check_end(EntryCheck *ec)
{
	if (BufferIsValid(ec->vmbuf))
		ReleaseBuffer(ec->vmbuf);
	if (ec->fetch)
	{
		table_index_fetch_end(ec->fetch);
		ExecDropSingleTupleTableSlot(ec->slot);
	}
}

static void
bound_key(ScanKey key, Oid family, Oid typid, StrategyNumber strategy, Datum value)
{
	Oid			op = get_opfamily_member(family, typid, typid, strategy);

	if (!OidIsValid(op))
		elog(ERROR, "pg_governance: no btree operator %d for type %u", strategy, typid);
	ScanKeyInit(key, 1, strategy, get_opcode(op), value);
}

/*
 * The anchor of the (n+1)-th index entry of relid with an anchor past lo
 * (inclusive or not; from the start without one) and before cutoff, in
 * *bound, with *found; *found false when there are n or fewer.  With
 * live_only, only entries whose row the snapshot sees count.  False when
 * relid has no index this can read.  typid is the anchor's base type
 * (date, timestamp or timestamptz), which lo and cutoff are values of.
 * The caller holds a lock on relid and has a snapshot pushed.
 */
bool
run_bound_from_index(Oid relid, AttrNumber attno, Oid typid, bool has_lo, Datum lo,
					 bool lo_inclusive, Datum cutoff, int n, bool live_only, bool *found,
					 Datum *bound)
{
	Relation	heap = table_open(relid, NoLock);
	Relation	ind = anchor_index(heap, attno, typid);
	ScanKeyData keys[2];
	int			nkeys = 0;
	IndexScanDesc scan;
	ItemPointer tid;
	EntryCheck	ec = {GetActiveSnapshot(), InvalidBuffer, NULL, NULL};
	int			seen = 0;

	*found = false;
	if (ind == NULL)
	{
		table_close(heap, NoLock);
		return false;
	}
	if (has_lo)
		bound_key(&keys[nkeys++], ind->rd_opfamily[0], typid,
				  lo_inclusive ? BTGreaterEqualStrategyNumber : BTGreaterStrategyNumber, lo);
	bound_key(&keys[nkeys++], ind->rd_opfamily[0], typid, BTLessStrategyNumber, cutoff);

	scan = index_beginscan(heap, ind, ec.snapshot, nkeys, 0);
	scan->xs_want_itup = true;
	index_rescan(scan, keys, nkeys, NULL, 0);
	while ((tid = index_getnext_tid(scan, ForwardScanDirection)) != NULL)
	{
		CHECK_FOR_INTERRUPTS();
		if (live_only && !entry_live(scan, tid, &ec))
			continue;
		if (seen++ == n)
		{
			bool		isnull;
			int16		typlen;
			bool		typbyval;
			Datum		v = index_getattr(scan->xs_itup, 1, scan->xs_itupdesc, &isnull);

			/* (copied: the entry goes with the scan, where timestamps are by reference) */
			get_typlenbyval(typid, &typlen, &typbyval);
			*found = !isnull;
			if (*found)
				*bound = datumCopy(v, typbyval, typlen);
			break;
		}
	}
	entry_check_end(&ec);
	index_endscan(scan);
	index_close(ind, AccessShareLock);
	table_close(heap, NoLock);
	return true;
}
