/*-------------------------------------------------------------------------
 *
 * sharing_log.c
 *	  The hash-chained sharing log (spec section 8): appending to
 *	  governance.sharing_log, the triggers that keep it an append-only
 *	  chain, and its verification.
 *
 *	  Chain.  Every row's hash is the SHA-256 (lowercase hex) of the row's
 *	  canonical encoding, which starts with prev_hash, the hash of the row
 *	  before (the genesis, 64 zeros, for the first row).  The encoding does
 *	  not depend on any session setting: integers are big-endian, logged_at
 *	  is microseconds since 1970-01-01 00:00 UTC, text is UTF-8 with a length
 *	  prefix, NULL has a tag of its own, arrays are encoded element by
 *	  element with their dimensions (see encode_row).
 *
 *	  Appending.  The BEFORE INSERT trigger sharing_log_chain runs for every
 *	  row inserted, whoever inserts it.  It moves the chain's state (the one
 *	  row of governance.sharing_log_state: last id and hash) on with one
 *	  UPDATE that also computes the new row's hash (_sharing_log_link).  The
 *	  UPDATE's row lock, held to commit, serializes appends; under READ
 *	  COMMITTED an append that waited computes from the state the other one
 *	  committed, under REPEATABLE READ it fails with a serialization error:
 *	  the chain never forks.  Only the extension owner can take that lock
 *	  (nobody else may read, update or lock the table), and no lock is ever
 *	  upgraded.  A row that arrives without a hash gets its id (the last
 *	  id + 1: ids follow the chain and have no gaps), logged_at, actor,
 *	  prev_hash and hash, and its subject is replaced by the subject's
 *	  pseudonym; a row that arrives with a hash (pg_restore's COPY,
 *	  replication) is accepted only when it extends the chain as it is.
 *
 *	  Verification walks the log in id order with an index scan under one
 *	  snapshot, hashing as it goes (memory flat), and compares the last row
 *	  with the chain's state, so that a deleted last row is found too.
 *
 *	  Every SPI statement runs as the extension owner with search_path
 *	  pinned (gov_spi_begin) from a plan prepared once per backend.
 *
 *-------------------------------------------------------------------------
 */
#include "pg_governance.h"

#include "access/genam.h"
#include "access/htup_details.h"
#include "access/table.h"
#include "access/tableam.h"
#include "catalog/namespace.h"
#include "catalog/pg_type.h"
#include "commands/trigger.h"
#include "common/cryptohash.h"
#include "common/int.h"
#include "common/sha2.h"
#include "executor/spi.h"
#include "executor/tuptable.h"
#include "funcapi.h"
#include "mb/pg_wchar.h"
#include "miscadmin.h"
#include "port/pg_bswap.h"
#include "storage/proc.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/rel.h"
#include "utils/relcache.h"
#include "utils/snapmgr.h"
#include "utils/syscache.h"
#include "utils/timestamp.h"
#include "utils/typcache.h"

PG_FUNCTION_INFO_V1(governance_sharing_log_chain);
PG_FUNCTION_INFO_V1(governance_sharing_log_append_only);
PG_FUNCTION_INFO_V1(governance_verify_sharing_log);
PG_FUNCTION_INFO_V1(governance_verify_sharing_log_digest);
PG_FUNCTION_INFO_V1(governance_sharing_log_hash);
PG_FUNCTION_INFO_V1(governance_sharing_log_link);

#define HASH_HEX_LEN	(PG_SHA256_DIGEST_LENGTH * 2)
#define GENESIS_HASH	"0000000000000000000000000000000000000000000000000000000000000000"
/* first bytes of every row's encoding: names the format and its version */
#define ENCODING_TAG	"pg_governance.sharing_log.v1"

/* the log's columns, by attribute number */
typedef struct LogAttrs
{
	AttrNumber	id;
	AttrNumber	logged_at;
	AttrNumber	policy;
	AttrNumber	recipient;
	AttrNumber	categories;
	AttrNumber	purpose;
	AttrNumber	subject;
	AttrNumber	destination;
	AttrNumber	legal_basis;
	AttrNumber	rule_id;
	AttrNumber	actor;
	AttrNumber	personal;
	AttrNumber	prev_hash;
	AttrNumber	hash;
} LogAttrs;

/*
 * Plans of this backend, prepared against one instance of the extension
 * (its log's oid): a DROP and CREATE EXTENSION gives the log another oid,
 * and the plans are prepared again.
 */
typedef struct LogPlans
{
	Oid			log_relid;
	SPIPlanPtr	append;			/* sharing_log_append's INSERT */
	SPIPlanPtr	advance;		/* the chain's state moved on by one row */
	SPIPlanPtr	advance_at;		/* ... found at the place it was last seen */
	ItemPointerData state_tid;	/* that place, or invalid */
	LocalTransactionId state_lxid;	/* ... in this (top-level) transaction */
	SPIPlanPtr	new_subject;	/* a new subject's pseudonym */
	SPIPlanPtr	find_subject;
} LogPlans;

static LogPlans plans;

/* ------------------------------------------------------------ columns */

static AttrNumber
log_attnum(TupleDesc desc, const char *name, Oid typid)
{
	for (int i = 0; i < desc->natts; i++)
	{
		Form_pg_attribute att = TupleDescAttr(desc, i);

		if (att->attisdropped || strcmp(NameStr(att->attname), name) != 0)
			continue;
		if (typid != InvalidOid && att->atttypid != typid)
			break;
		return att->attnum;
	}
	ereport(ERROR,
			(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
			 errmsg("governance.sharing_log has no column \"%s\" of the expected type", name),
			 errdetail("The sharing log's columns are part of its hash chain's format."),
			 errhint("Reinstall the extension pg_governance; do not alter its tables.")));
	return InvalidAttrNumber;	/* keep the compiler quiet */
}

static void
log_attrs(TupleDesc desc, LogAttrs *a)
{
	a->id = log_attnum(desc, "id", INT8OID);
	a->logged_at = log_attnum(desc, "logged_at", TIMESTAMPTZOID);
	a->policy = log_attnum(desc, "policy", TEXTOID);
	a->recipient = log_attnum(desc, "recipient", TEXTOID);
	a->categories = log_attnum(desc, "categories", InvalidOid);
	a->purpose = log_attnum(desc, "purpose", TEXTOID);
	a->subject = log_attnum(desc, "subject", TEXTOID);
	a->destination = log_attnum(desc, "destination", InvalidOid);
	a->legal_basis = log_attnum(desc, "legal_basis", TEXTOID);
	a->rule_id = log_attnum(desc, "rule_id", TEXTOID);
	a->actor = log_attnum(desc, "actor", NAMEOID);
	a->personal = log_attnum(desc, "personal", BOOLOID);
	a->prev_hash = log_attnum(desc, "prev_hash", TEXTOID);
	a->hash = log_attnum(desc, "hash", TEXTOID);
}

/* ------------------------------------------------------------ encoding */

static void
put_u32(StringInfo buf, uint32 v)
{
	uint32		be = pg_hton32(v);

	appendBinaryStringInfo(buf, (const char *) &be, sizeof(be));
}

static void
put_i64(StringInfo buf, int64 v)
{
	uint64		be = pg_hton64((uint64) v);

	appendStringInfoCharMacro(buf, 'i');
	appendBinaryStringInfo(buf, (const char *) &be, sizeof(be));
}

/* bytes in the database's encoding, written as UTF-8 with their length */
static void
put_bytes(StringInfo buf, const char *s, int len)
{
	const char *utf8 = s;

	if (len > 0 && GetDatabaseEncoding() != PG_UTF8)
	{
		utf8 = pg_server_to_any(s, len, PG_UTF8);
		if (utf8 != s)
			len = strlen(utf8);
	}
	appendStringInfoCharMacro(buf, 't');
	put_u32(buf, (uint32) len);
	appendBinaryStringInfo(buf, utf8, len);
}

/* a varlena holding text (text, governance.region, governance.category) */
static void
put_varlena(StringInfo buf, Datum d)
{
	struct varlena *v = pg_detoast_datum_packed((struct varlena *) DatumGetPointer(d));

	put_bytes(buf, VARDATA_ANY(v), VARSIZE_ANY_EXHDR(v));
}

static void
put_array(StringInfo buf, Datum d)
{
	static Oid	elem_type = InvalidOid;
	static int16 elem_len;
	static bool elem_byval;
	static char elem_align;
	ArrayType  *arr = DatumGetArrayTypeP(d);
	int			ndim = ARR_NDIM(arr);
	Datum	   *elems;
	bool	   *nulls;
	int			n;

	if (ARR_ELEMTYPE(arr) != elem_type)
	{
		get_typlenbyvalalign(ARR_ELEMTYPE(arr), &elem_len, &elem_byval, &elem_align);
		elem_type = ARR_ELEMTYPE(arr);
	}
	if (elem_len != -1)
		elog(ERROR, "pg_governance: sharing log categories are not of a varlena type");
	appendStringInfoCharMacro(buf, 'a');
	put_u32(buf, (uint32) ndim);
	for (int i = 0; i < ndim; i++)
	{
		put_u32(buf, (uint32) ARR_DIMS(arr)[i]);
		put_u32(buf, (uint32) ARR_LBOUND(arr)[i]);
	}
	deconstruct_array(arr, elem_type, elem_len, elem_byval, elem_align,
					  &elems, &nulls, &n);
	for (int i = 0; i < n; i++)
	{
		if (nulls[i])
			appendStringInfoCharMacro(buf, 'n');
		else
			put_varlena(buf, elems[i]);
	}
}

/*
 * The canonical encoding of a row: ENCODING_TAG and a NUL, then prev_hash,
 * id, logged_at, policy, recipient, categories, purpose, subject,
 * destination, legal_basis, rule_id, actor, personal, each as
 *	 'n'						NULL
 *	 't' len:u32 bytes			text (UTF-8), region, name
 *	 'i' value:i64				id; logged_at in microseconds since the Unix epoch, UTC
 *	 'b' 0|1					boolean
 *	 'a' ndim:u32 (dim:u32 lbound:u32)* elements ('n' or 't' each)
 * with every integer big-endian.  In two parts: the link (the tag,
 * prev_hash and id), known only once the row has its place in the chain,
 * and the rest, known before.
 */
static void
encode_link(StringInfo buf, Datum prev_hash, bool prev_null, int64 id, bool id_null)
{
	appendBinaryStringInfo(buf, ENCODING_TAG, sizeof(ENCODING_TAG));	/* with its NUL */
	if (prev_null)
		appendStringInfoCharMacro(buf, 'n');
	else
		put_varlena(buf, prev_hash);
	if (id_null)
		appendStringInfoCharMacro(buf, 'n');
	else
		put_i64(buf, id);
}

static void
encode_rest(StringInfo buf, const LogAttrs *a, Datum *values, bool *isnull)
{
	const AttrNumber texts1[] = {a->policy, a->recipient};
	const AttrNumber texts2[] = {a->purpose, a->subject, a->destination,
	a->legal_basis, a->rule_id};

#define FIELD(attno) (values[(attno) - 1])
#define NULLFIELD(attno) (isnull[(attno) - 1])

	if (NULLFIELD(a->logged_at))
		appendStringInfoCharMacro(buf, 'n');
	else
	{
		TimestampTz ts = DatumGetTimestampTz(FIELD(a->logged_at));
		int64		unix_us;

		if (TIMESTAMP_NOT_FINITE(ts) ||
			pg_add_s64_overflow(ts, (int64) (POSTGRES_EPOCH_JDATE - UNIX_EPOCH_JDATE) * USECS_PER_DAY,
								&unix_us))
			ereport(ERROR,
					(errcode(ERRCODE_DATETIME_VALUE_OUT_OF_RANGE),
					 errmsg("logged_at of a sharing log row must be a finite time"),
					 errdetail("The hash chain encodes logged_at in microseconds since 1970-01-01 UTC."),
					 errhint("Leave logged_at out: the log sets it.")));
		put_i64(buf, unix_us);
	}

	for (int i = 0; i < (int) lengthof(texts1); i++)
	{
		if (NULLFIELD(texts1[i]))
			appendStringInfoCharMacro(buf, 'n');
		else
			put_varlena(buf, FIELD(texts1[i]));
	}

	if (NULLFIELD(a->categories))
		appendStringInfoCharMacro(buf, 'n');
	else
		put_array(buf, FIELD(a->categories));

	for (int i = 0; i < (int) lengthof(texts2); i++)
	{
		if (NULLFIELD(texts2[i]))
			appendStringInfoCharMacro(buf, 'n');
		else
			put_varlena(buf, FIELD(texts2[i]));
	}

	if (NULLFIELD(a->actor))
		appendStringInfoCharMacro(buf, 'n');
	else
	{
		const char *actor = NameStr(*DatumGetName(FIELD(a->actor)));

		put_bytes(buf, actor, strlen(actor));
	}

	if (NULLFIELD(a->personal))
		appendStringInfoCharMacro(buf, 'n');
	else
	{
		appendStringInfoCharMacro(buf, 'b');
		appendStringInfoCharMacro(buf, DatumGetBool(FIELD(a->personal)) ? 1 : 0);
	}
#undef FIELD
#undef NULLFIELD
}

static void
encode_row(StringInfo buf, const LogAttrs *a, Datum *values, bool *isnull)
{
	encode_link(buf, values[a->prev_hash - 1], isnull[a->prev_hash - 1],
				isnull[a->id - 1] ? 0 : DatumGetInt64(values[a->id - 1]), isnull[a->id - 1]);
	encode_rest(buf, a, values, isnull);
}

/* SHA-256 of buf into out, as 64 lowercase hex digits and a NUL */
static void
hash_hex(pg_cryptohash_ctx *ctx, StringInfo buf, char *out)
{
	uint8		digest[PG_SHA256_DIGEST_LENGTH];

	if (pg_cryptohash_init(ctx) < 0 ||
		pg_cryptohash_update(ctx, (const uint8 *) buf->data, buf->len) < 0 ||
		pg_cryptohash_final(ctx, digest, sizeof(digest)) < 0)
		elog(ERROR, "pg_governance: could not compute SHA-256: %s", pg_cryptohash_error(ctx));
	hex_encode((const char *) digest, sizeof(digest), out);
	out[HASH_HEX_LEN] = '\0';
}

static void
row_hash(const LogAttrs *a, Datum *values, bool *isnull, char *out)
{
	pg_cryptohash_ctx *ctx = pg_cryptohash_create(PG_SHA256);
	StringInfoData buf;

	if (ctx == NULL)
		elog(ERROR, "pg_governance: out of memory for SHA-256");
	initStringInfo(&buf);
	encode_row(&buf, a, values, isnull);
	hash_hex(ctx, &buf, out);
	pg_cryptohash_free(ctx);
	pfree(buf.data);
}

/* does a text datum hold exactly this NUL-terminated string? */
static bool
text_equals(Datum d, const char *s)
{
	struct varlena *v = pg_detoast_datum_packed((struct varlena *) DatumGetPointer(d));
	size_t		len = strlen(s);

	return VARSIZE_ANY_EXHDR(v) == len && memcmp(VARDATA_ANY(v), s, len) == 0;
}

/* ------------------------------------------------------------ plans */

static Oid
governance_type(const char *name)
{
	Oid			nsp = get_namespace_oid("governance", false);
	Oid			typid = GetSysCacheOid2(TYPENAMENSP, Anum_pg_type_oid,
										CStringGetDatum(name), ObjectIdGetDatum(nsp));

	if (!OidIsValid(typid))
		elog(ERROR, "pg_governance: type governance.%s is missing", name);
	return typid;
}

static SPIPlanPtr
prepare_kept(const char *sql, int nargs, Oid *types)
{
	SPIPlanPtr	plan = SPI_prepare(sql, nargs, types);

	if (plan == NULL)
		elog(ERROR, "pg_governance: could not prepare \"%s\": %s", sql,
			 SPI_result_code_string(SPI_result));
	if (SPI_keepplan(plan) != 0)
		elog(ERROR, "pg_governance: could not keep a plan");
	return plan;
}

/*
 * The plans of the log whose oid is log_relid, prepared if needed.  Called
 * inside gov_spi_begin (search_path pinned, as the owner), as the plans are
 * always run.
 */
static void
ensure_plans(Oid log_relid)
{
	if (plans.log_relid == log_relid)
		return;

	if (plans.append)
		SPI_freeplan(plans.append);
	if (plans.advance)
		SPI_freeplan(plans.advance);
	if (plans.advance_at)
		SPI_freeplan(plans.advance_at);
	if (plans.new_subject)
		SPI_freeplan(plans.new_subject);
	if (plans.find_subject)
		SPI_freeplan(plans.find_subject);
	memset(&plans, 0, sizeof(plans));

	{
		Oid			types[10] = {TEXTOID, TEXTOID, get_array_type(governance_type("category")),
			TEXTOID, TEXTOID, TEXTOID, TEXTOID, TEXTOID, NAMEOID, BOOLOID};

		plans.append = prepare_kept(
									"INSERT INTO governance.sharing_log "
									"(policy, recipient, categories, purpose, subject, destination, "
									" legal_basis, rule_id, actor, personal) "
									"VALUES ($1, $2, $3, $4, $5, CAST($6 AS governance.region), $7, $8, $9, $10) "
									"RETURNING id",
									10, types);
	}
	{
		Oid			types[1] = {TEXTOID};

		plans.find_subject = prepare_kept(
										  "SELECT p.pseudonym FROM governance.sharing_subject p "
										  "WHERE p.subject OPERATOR(pg_catalog.=) $1",
										  1, types);
	}
	{
		Oid			types[2] = {BYTEAOID, TIDOID};

		/*
		 * One statement: the row lock it takes serializes appends, and under
		 * READ COMMITTED an append that waited for another computes its link
		 * from the state that one committed (the SET list is evaluated again
		 * on the newest row version).  prev_hash keeps the hash it replaced,
		 * for RETURNING.
		 *
		 * A transaction that appends many rows leaves as many versions of
		 * the state, which no one can prune before it ends: a scan for the
		 * live one would make its appends quadratic.  So its second and
		 * later appends look for the state where its first left it (it
		 * holds the row lock: nobody else moved it; if the subtransaction
		 * that left it there rolled back, the table is scanned).  The
		 * first append of a transaction scans the (small) table.
		 */
#define ADVANCE_SQL \
		"UPDATE governance.sharing_log_state " \
		"SET last_id = last_id OPERATOR(pg_catalog.+) 1, " \
		"    prev_hash = last_hash, " \
		"    last_hash = governance._sharing_log_link(last_hash, " \
		"                    last_id OPERATOR(pg_catalog.+) 1, $1) "
		plans.advance = prepare_kept(ADVANCE_SQL
									 "WHERE one "
									 "RETURNING last_id, prev_hash, last_hash, ctid",
									 1, types);
		plans.advance_at = prepare_kept(ADVANCE_SQL
										"WHERE ctid OPERATOR(pg_catalog.=) $2 "
										"RETURNING last_id, prev_hash, last_hash, ctid",
										2, types);
#undef ADVANCE_SQL
	}
	{
		Oid			types[2] = {TEXTOID, TEXTOID};

		plans.new_subject = prepare_kept(
										 "INSERT INTO governance.sharing_subject (subject, pseudonym) "
										 "VALUES ($1, $2) ON CONFLICT (subject) DO NOTHING "
										 "RETURNING pseudonym",
										 2, types);
	}
	plans.log_relid = log_relid;
}

static Oid
sharing_log_relid(void)
{
	Oid			nsp = get_namespace_oid("governance", false);
	Oid			relid = get_relname_relid("sharing_log", nsp);

	if (!OidIsValid(relid))
		elog(ERROR, "pg_governance: table governance.sharing_log is missing");
	return relid;
}

/* ------------------------------------------------------------ appending */

/*
 * The pseudonym of a subject, made (128 random bits, hex) when it has none.
 * Called inside gov_spi_begin; returns a string allocated in cxt.
 */
static char *
subject_pseudonym(const char *subject, MemoryContext cxt)
{
	uint8		bytes[16];
	char		token[sizeof(bytes) * 2 + 1];
	Datum		values[2];
	char		nulls[2] = {' ', ' '};
	bool		isnull;
	Datum		d;

	values[0] = CStringGetTextDatum(subject);
	if (SPI_execute_plan(plans.find_subject, values, nulls, false, 1) != SPI_OK_SELECT)
		elog(ERROR, "pg_governance: could not read a sharing subject");
	if (SPI_processed == 0)
	{
		if (!pg_strong_random(bytes, sizeof(bytes)))
			ereport(ERROR,
					(errcode(ERRCODE_INTERNAL_ERROR),
					 errmsg("could not generate a random pseudonym"),
					 errdetail("pg_strong_random() failed."),
					 errhint("Check the server's source of randomness.")));
		hex_encode((const char *) bytes, sizeof(bytes), token);
		token[sizeof(token) - 1] = '\0';
		values[1] = CStringGetTextDatum(token);
		if (SPI_execute_plan(plans.new_subject, values, nulls, false, 0) != SPI_OK_INSERT_RETURNING)
			elog(ERROR, "pg_governance: could not record a sharing subject");
	}
	if (SPI_processed == 0)
	{
		/* another session recorded it meanwhile: its row is committed now */
		if (SPI_execute_plan(plans.find_subject, values, nulls, false, 1) != SPI_OK_SELECT)
			elog(ERROR, "pg_governance: could not read a sharing subject");
		if (SPI_processed != 1)
			ereport(ERROR,
					(errcode(ERRCODE_T_R_SERIALIZATION_FAILURE),
					 errmsg("could not serialize access due to a concurrent new sharing subject"),
					 errdetail("Another transaction recorded the same subject's pseudonym at the same time."),
					 errhint("Retry the transaction.")));
	}
	d = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull);
	return MemoryContextStrdup(cxt, TextDatumGetCString(d));
}

static void
chain_refuse(const char *why, int64 id, const char *detail)
{
	ereport(ERROR,
			(errcode(ERRCODE_INTEGRITY_CONSTRAINT_VIOLATION),
			 errmsg("sharing log row %lld does not extend the chain: %s", (long long) id, why),
			 errdetail("%s", detail),
			 errhint("Rows that carry a hash are accepted in chain order only, each with the hash of the row before as prev_hash (restore with pg_restore or psql, which keep that order); leave id, prev_hash and hash out to append a new row.")));
}

/*
 * BEFORE INSERT FOR EACH ROW on governance.sharing_log: every inserted row
 * extends the chain.
 */
Datum
governance_sharing_log_chain(PG_FUNCTION_ARGS)
{
	TriggerData *trig = (TriggerData *) fcinfo->context;
	Relation	rel;
	TupleDesc	desc;
	LogAttrs	a;
	Datum	   *values;
	bool	   *isnull;
	bool		arrived_hashed;
	MemoryContext cxt = CurrentMemoryContext;
	StringInfoData rest;
	bytea	   *rest_arg;
	Datum		args[2];
	char		nulls[2] = {' ', ' '};
	int64		id;
	char	   *prev_hash;
	char	   *hash;
	bool		isnull_id,
				isnull_prev,
				isnull_hash;
	GovSpi		spi;

	if (!CALLED_AS_TRIGGER(fcinfo) || !TRIGGER_FIRED_BEFORE(trig->tg_event) ||
		!TRIGGER_FIRED_FOR_ROW(trig->tg_event) || !TRIGGER_FIRED_BY_INSERT(trig->tg_event))
		ereport(ERROR,
				(errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
				 errmsg("governance._sharing_log_chain() must be a BEFORE INSERT FOR EACH ROW trigger"),
				 errdetail("It chains the rows of governance.sharing_log."),
				 errhint("Do not use it on another table or event.")));

	rel = trig->tg_relation;
	desc = RelationGetDescr(rel);
	log_attrs(desc, &a);
	values = palloc(desc->natts * sizeof(Datum));
	isnull = palloc(desc->natts * sizeof(bool));
	heap_deform_tuple(trig->tg_trigtuple, desc, values, isnull);
	arrived_hashed = !isnull[a.hash - 1];

	gov_spi_begin_own(&spi, true);
	ensure_plans(RelationGetRelid(rel));

	/*
	 * A new row: the log's own time and actor unless the owner gave them,
	 * the subject's pseudonym in place of the subject.
	 */
	if (!arrived_hashed)
	{
		char	   *pseudonym = NULL;
		MemoryContext old;

		if (!isnull[a.subject - 1])
			pseudonym = subject_pseudonym(TextDatumGetCString(values[a.subject - 1]), cxt);

		/* values of the row to store live in the trigger's context, not SPI's */
		old = MemoryContextSwitchTo(cxt);
		if (pseudonym != NULL)
			values[a.subject - 1] = CStringGetTextDatum(pseudonym);
		if (isnull[a.logged_at - 1])
		{
			values[a.logged_at - 1] = TimestampTzGetDatum(GetCurrentTimestamp());
			isnull[a.logged_at - 1] = false;
		}
		if (isnull[a.actor - 1])
		{
			values[a.actor - 1] = DirectFunctionCall1(namein,
													  CStringGetDatum(GetUserNameFromId(GetSessionUserId(), false)));
			isnull[a.actor - 1] = false;
		}
		MemoryContextSwitchTo(old);
	}

	/* the row's place in the chain: the state moved on, under its row lock to commit */
	initStringInfo(&rest);
	encode_rest(&rest, &a, values, isnull);
	rest_arg = (bytea *) palloc(VARHDRSZ + rest.len);
	SET_VARSIZE(rest_arg, VARHDRSZ + rest.len);
	memcpy(VARDATA(rest_arg), rest.data, rest.len);
	args[0] = PointerGetDatum(rest_arg);
	args[1] = PointerGetDatum(&plans.state_tid);
	if (plans.state_lxid != MyProc->lxid || !ItemPointerIsValid(&plans.state_tid) ||
		SPI_execute_plan(plans.advance_at, args, nulls, false, 0) != SPI_OK_UPDATE_RETURNING ||
		SPI_processed != 1)
	{
		if (SPI_execute_plan(plans.advance, args, nulls, false, 0) != SPI_OK_UPDATE_RETURNING)
			elog(ERROR, "pg_governance: could not move the sharing log's state on");
	}
	if (SPI_processed != 1)
		ereport(ERROR,
				(errcode(ERRCODE_DATA_CORRUPTED),
				 errmsg("the sharing log's state is missing or duplicated"),
				 errdetail("governance.sharing_log_state has %llu rows instead of one.",
						   (unsigned long long) SPI_processed),
				 errhint("Someone with the owner's rights changed it; restore the database from a dump.")));
	id = DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull_id));
	prev_hash = SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 2);
	hash = SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 3);
	{
		bool		isnull_tid;
		Datum		tid = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 4, &isnull_tid);

		if (!isnull_tid)
		{
			ItemPointerCopy((ItemPointer) DatumGetPointer(tid), &plans.state_tid);
			plans.state_lxid = MyProc->lxid;
		}
	}
	isnull_prev = prev_hash == NULL;
	isnull_hash = hash == NULL;
	if (isnull_id || isnull_prev || isnull_hash)
		ereport(ERROR,
				(errcode(ERRCODE_DATA_CORRUPTED),
				 errmsg("the sharing log's state is NULL"),
				 errdetail("governance.sharing_log_state holds no last id or hash."),
				 errhint("Someone with the owner's rights changed it; restore the database from a dump.")));

	/* a row that came with its id, prev_hash or hash must have these */
	if (!isnull[a.id - 1] && DatumGetInt64(values[a.id - 1]) != id)
		chain_refuse("wrong id", DatumGetInt64(values[a.id - 1]),
					 arrived_hashed ?
					 psprintf("The chain's last row is %lld, so the next row must be %lld.",
							  (long long) (id - 1), (long long) id) :
					 psprintf("The chain's last row is %lld: leave id out and the log gives %lld.",
							  (long long) (id - 1), (long long) id));
	if (arrived_hashed && isnull[a.id - 1])
		chain_refuse("no id", id, "A row that carries a hash carries its id too.");
	if (!isnull[a.prev_hash - 1] && !text_equals(values[a.prev_hash - 1], prev_hash))
		chain_refuse("wrong prev_hash", id,
					 !arrived_hashed ?
					 "A row without a hash gets the chain's last hash as prev_hash: leave prev_hash out." :
					 id == 1 ? "The log is empty: its first row's prev_hash is the genesis, 64 zeros." :
					 psprintf("Its prev_hash must be the hash of row %lld, the chain's last row.",
							  (long long) (id - 1)));
	if (arrived_hashed && isnull[a.prev_hash - 1])
		chain_refuse("no prev_hash", id, "A row that carries a hash carries its prev_hash too.");
	if (arrived_hashed && !text_equals(values[a.hash - 1], hash))
		chain_refuse("wrong hash", id, "Its hash is not the SHA-256 of its prev_hash and columns.");

	if (!arrived_hashed)
	{
		MemoryContext old = MemoryContextSwitchTo(cxt);

		values[a.id - 1] = Int64GetDatum(id);
		isnull[a.id - 1] = false;
		values[a.prev_hash - 1] = CStringGetTextDatum(prev_hash);
		isnull[a.prev_hash - 1] = false;
		values[a.hash - 1] = CStringGetTextDatum(hash);
		isnull[a.hash - 1] = false;
		MemoryContextSwitchTo(old);
	}
	gov_spi_end(&spi);

	return PointerGetDatum(heap_form_tuple(desc, values, isnull));
}

/*
 * governance._sharing_log_link(prev_hash text, id bigint, rest bytea) → text:
 * the hash of the row whose encoding after its link is rest, at that place
 * in the chain.  The chain trigger's UPDATE of the state calls it.
 */
Datum
governance_sharing_log_link(PG_FUNCTION_ARGS)
{
	bytea	   *rest = PG_GETARG_BYTEA_PP(2);
	StringInfoData buf;
	pg_cryptohash_ctx *ctx = pg_cryptohash_create(PG_SHA256);
	char		computed[HASH_HEX_LEN + 1];

	if (ctx == NULL)
		elog(ERROR, "pg_governance: out of memory for SHA-256");
	initStringInfo(&buf);
	encode_link(&buf, PG_GETARG_DATUM(0), false, PG_GETARG_INT64(1), false);
	appendBinaryStringInfo(&buf, VARDATA_ANY(rest), VARSIZE_ANY_EXHDR(rest));
	hash_hex(ctx, &buf, computed);
	pg_cryptohash_free(ctx);
	PG_RETURN_TEXT_P(cstring_to_text(computed));
}

/*
 * BEFORE UPDATE OR DELETE OR TRUNCATE FOR EACH STATEMENT: the log is
 * append-only, for its owner too.
 */
Datum
governance_sharing_log_append_only(PG_FUNCTION_ARGS)
{
	TriggerData *trig = (TriggerData *) fcinfo->context;
	const char *command;

	if (!CALLED_AS_TRIGGER(fcinfo))
		ereport(ERROR,
				(errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
				 errmsg("governance._sharing_log_append_only() must be called as a trigger"),
				 errdetail("It refuses changes to governance.sharing_log."),
				 errhint("Do not call it directly.")));
	if (TRIGGER_FIRED_BY_UPDATE(trig->tg_event))
		command = "UPDATE";
	else if (TRIGGER_FIRED_BY_DELETE(trig->tg_event))
		command = "DELETE";
	else if (TRIGGER_FIRED_BY_TRUNCATE(trig->tg_event))
		command = "TRUNCATE";
	else
		command = "this command";
	ereport(ERROR,
			(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
			 errmsg("%s on governance.sharing_log is not allowed: the sharing log is append-only", command),
			 errdetail("Every row is chained to the one before it by its hash; UPDATE, DELETE and TRUNCATE are refused for every role, the table's owner included."),
			 errhint("Record a correction as a new sharing event; to erase a person, use governance.forget_sharing_subject().")));
	PG_RETURN_NULL();
}

/*
 * sharing_log_append
 *		Append one allowed sharing event (governance.share()) and return its
 *		id.  Runs as the extension owner; the chain trigger gives the row
 *		its id, time, pseudonym and hash; the actor is the session user.
 */
int64
sharing_log_append(const ShareEvent *ev)
{
	GovSpi		spi;
	Datum		values[10];
	char		nulls[10];
	NameData	actor;
	bool		isnull;
	int64		id;

	gov_spi_begin_own(&spi, true);
	ensure_plans(sharing_log_relid());

	namestrcpy(&actor, GetUserNameFromId(GetSessionUserId(), false));
	memset(nulls, ' ', sizeof(nulls));
#define ARG(i, v) (values[(i)] = (v))
#define TEXT_ARG(i, s) ((s) != NULL ? (void) ARG((i), CStringGetTextDatum(s)) : (void) (nulls[(i)] = 'n'))
	TEXT_ARG(0, ev->policy);
	TEXT_ARG(1, ev->recipient);
	ARG(2, ev->categories);
	TEXT_ARG(3, ev->purpose);
	TEXT_ARG(4, ev->subject);
	TEXT_ARG(5, ev->destination);
	TEXT_ARG(6, ev->legal_basis);
	TEXT_ARG(7, ev->rule_id);
	ARG(8, NameGetDatum(&actor));
	ARG(9, BoolGetDatum(ev->personal));
#undef ARG
#undef TEXT_ARG

	if (SPI_execute_plan(plans.append, values, nulls, false, 0) != SPI_OK_INSERT_RETURNING ||
		SPI_processed != 1)
		elog(ERROR, "pg_governance: could not append to the sharing log");
	id = DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull));
	gov_spi_end(&spi);
	return id;
}

/* ------------------------------------------------------------ verification */

typedef struct VerifyResult
{
	bool		ok;
	int64		checked;		/* rows proven, in id order from the first */
	int64		first_bad_id;
} VerifyResult;

static void
verify_fail(VerifyResult *r, int64 id)
{
	if (r->ok || id < r->first_bad_id)
		r->first_bad_id = id;
	r->ok = false;
}

/*
 * Walk the chain.  With a digest (digest_hash not NULL), the row digest_id
 * must also have that hash (digest_id 0: the genesis).
 */
static VerifyResult
verify_chain(int64 digest_id, const char *digest_hash)
{
	VerifyResult r = {true, 0, 0};
	Oid			nsp = get_namespace_oid("governance", false);
	Oid			state_relid = get_relname_relid("sharing_log_state", nsp);
	Relation	rel;
	Relation	irel;
	Relation	srel;
	Oid			pkey;
	LogAttrs	a;
	Snapshot	snap;
	IndexScanDesc scan;
	TableScanDesc sscan;
	TupleTableSlot *slot;
	TupleTableSlot *sslot;
	pg_cryptohash_ctx *ctx;
	StringInfoData buf;
	MemoryContext rowcxt;
	MemoryContext old;
	char		prev[HASH_HEX_LEN + 1];
	char		computed[HASH_HEX_LEN + 1];
	int64		last_id = 0;
	bool		digest_seen = false;
	int64		state_id = -1;
	char	   *state_hash = NULL;
	int			nstate = 0;

	if (!OidIsValid(state_relid))
		elog(ERROR, "pg_governance: table governance.sharing_log_state is missing");
	rel = table_open(sharing_log_relid(), AccessShareLock);
	log_attrs(RelationGetDescr(rel), &a);
	pkey = RelationGetPrimaryKeyIndex(rel);
	if (!OidIsValid(pkey))
		elog(ERROR, "pg_governance: governance.sharing_log has no primary key");
	irel = index_open(pkey, AccessShareLock);
	if (irel->rd_index->indnatts != 1 || irel->rd_index->indkey.values[0] != a.id)
		elog(ERROR, "pg_governance: the primary key of governance.sharing_log is not its id");
	srel = table_open(state_relid, AccessShareLock);

	snap = RegisterSnapshot(GetActiveSnapshot());
	rowcxt = AllocSetContextCreate(CurrentMemoryContext, "sharing log verification",
								   ALLOCSET_DEFAULT_SIZES);
	ctx = pg_cryptohash_create(PG_SHA256);
	if (ctx == NULL)
		elog(ERROR, "pg_governance: out of memory for SHA-256");
	initStringInfo(&buf);
	strcpy(prev, GENESIS_HASH);
	if (digest_hash != NULL && digest_id == 0)
	{
		digest_seen = true;
		if (strcmp(digest_hash, GENESIS_HASH) != 0)
			verify_fail(&r, 0);
	}

	slot = table_slot_create(rel, NULL);
	scan = index_beginscan(rel, irel, snap, 0, 0);
	index_rescan(scan, NULL, 0, NULL, 0);
	while (r.ok && index_getnext_slot(scan, ForwardScanDirection, slot))
	{
		Datum	   *values;
		bool	   *isnull;
		int64		id;

		CHECK_FOR_INTERRUPTS();
		slot_getallattrs(slot);
		values = slot->tts_values;
		isnull = slot->tts_isnull;
		MemoryContextReset(rowcxt);
		old = MemoryContextSwitchTo(rowcxt);

		id = DatumGetInt64(values[a.id - 1]);
		if (id != last_id + 1 ||
			isnull[a.prev_hash - 1] || !text_equals(values[a.prev_hash - 1], prev) ||
			isnull[a.hash - 1])
			verify_fail(&r, id);
		else
		{
			resetStringInfo(&buf);
			encode_row(&buf, &a, values, isnull);
			hash_hex(ctx, &buf, computed);
			if (!text_equals(values[a.hash - 1], computed))
				verify_fail(&r, id);
			else if (digest_hash != NULL && id == digest_id)
			{
				digest_seen = true;
				if (strcmp(computed, digest_hash) != 0)
					verify_fail(&r, id);
			}
		}
		MemoryContextSwitchTo(old);
		if (!r.ok)
			break;
		memcpy(prev, computed, sizeof(prev));
		last_id = id;
		r.checked++;
	}
	index_endscan(scan);
	ExecDropSingleTupleTableSlot(slot);

	/* the chain's state must name the last row */
	sslot = table_slot_create(srel, NULL);
	sscan = table_beginscan(srel, snap, 0, NULL);
	while (table_scan_getnextslot(sscan, ForwardScanDirection, sslot))
	{
		slot_getallattrs(sslot);
		nstate++;
		if (!sslot->tts_isnull[0] && !sslot->tts_isnull[1])
		{
			state_id = DatumGetInt64(sslot->tts_values[0]);
			state_hash = TextDatumGetCString(sslot->tts_values[1]);
		}
	}
	table_endscan(sscan);
	ExecDropSingleTupleTableSlot(sslot);

	if (r.ok)
	{
		if (nstate != 1 || state_hash == NULL)
			verify_fail(&r, last_id + 1);
		else if (state_id != last_id)
			/* rows deleted at the end, or added behind the state's back */
			verify_fail(&r, Min(state_id, last_id) + 1);
		else if (strcmp(state_hash, prev) != 0)
			verify_fail(&r, last_id > 0 ? last_id : 1);
	}
	if (r.ok && digest_hash != NULL && !digest_seen)
		verify_fail(&r, digest_id);		/* the chain does not reach it */
	if (!r.ok && r.checked >= r.first_bad_id)
		r.checked = r.first_bad_id - 1;

	pg_cryptohash_free(ctx);
	MemoryContextDelete(rowcxt);
	UnregisterSnapshot(snap);
	table_close(srel, AccessShareLock);
	index_close(irel, AccessShareLock);
	table_close(rel, AccessShareLock);
	return r;
}

static Datum
verify_result(FunctionCallInfo fcinfo, VerifyResult r)
{
	TupleDesc	desc;
	Datum		values[3];
	bool		nulls[3] = {false, false, false};

	if (get_call_result_type(fcinfo, NULL, &desc) != TYPEFUNC_COMPOSITE)
		elog(ERROR, "pg_governance: verify_sharing_log must return a record");
	desc = BlessTupleDesc(desc);
	values[0] = BoolGetDatum(r.ok);
	values[1] = Int64GetDatum(r.checked);
	values[2] = Int64GetDatum(r.first_bad_id);
	nulls[2] = r.ok;
	return HeapTupleGetDatum(heap_form_tuple(desc, values, nulls));
}

/*
 * governance.verify_sharing_log() → (ok, checked, first_bad_id)
 */
Datum
governance_verify_sharing_log(PG_FUNCTION_ARGS)
{
	return verify_result(fcinfo, verify_chain(0, NULL));
}

/*
 * governance.verify_sharing_log(digest_id bigint, digest_hash text)
 */
Datum
governance_verify_sharing_log_digest(PG_FUNCTION_ARGS)
{
	int64		digest_id = PG_GETARG_INT64(0);
	char	   *digest_hash = text_to_cstring(PG_GETARG_TEXT_PP(1));
	size_t		len = strlen(digest_hash);

	for (size_t i = 0; i < len; i++)
		digest_hash[i] = pg_ascii_tolower((unsigned char) digest_hash[i]);
	if (len != HASH_HEX_LEN || strspn(digest_hash, "0123456789abcdef") != len)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid sharing log digest hash \"%s\"", digest_hash),
				 errdetail("A digest hash is 64 hexadecimal digits, as governance.sharing_log_digest() gives it."),
				 errhint("Pass the id and hash recorded from governance.sharing_log_digest().")));
	if (digest_id < 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid sharing log digest id %lld", (long long) digest_id),
				 errdetail("Digest ids are 0 (the empty log) or the id of a row."),
				 errhint("Pass the id and hash recorded from governance.sharing_log_digest().")));
	return verify_result(fcinfo, verify_chain(digest_id, digest_hash));
}

/*
 * governance.sharing_log_hash(entry governance.sharing_log) → text: the
 * hash the row should have, from its prev_hash and columns.
 */
Datum
governance_sharing_log_hash(PG_FUNCTION_ARGS)
{
	HeapTupleHeader row = PG_GETARG_HEAPTUPLEHEADER(0);
	TupleDesc	desc = lookup_rowtype_tupdesc(HeapTupleHeaderGetTypeId(row),
											  HeapTupleHeaderGetTypMod(row));
	HeapTupleData tup;
	LogAttrs	a;
	Datum	   *values;
	bool	   *isnull;
	char		computed[HASH_HEX_LEN + 1];

	tup.t_len = HeapTupleHeaderGetDatumLength(row);
	ItemPointerSetInvalid(&tup.t_self);
	tup.t_tableOid = InvalidOid;
	tup.t_data = row;
	log_attrs(desc, &a);
	values = palloc(desc->natts * sizeof(Datum));
	isnull = palloc(desc->natts * sizeof(bool));
	heap_deform_tuple(&tup, desc, values, isnull);
	row_hash(&a, values, isnull, computed);
	ReleaseTupleDesc(desc);
	PG_RETURN_TEXT_P(cstring_to_text(computed));
}
