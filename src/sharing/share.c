/*-------------------------------------------------------------------------
 *
 * share.c
 *	  The SQL entry points of sharing (spec section 8): check_share, which
 *	  decides and changes nothing; share, which decides, refuses with GV004
 *	  or appends the event to the sharing log; and the checks of consent
 *	  records' terms.  The decision itself is decide.c's, the log is
 *	  sharing_log.c's.
 *
 *-------------------------------------------------------------------------
 */
#include "pg_governance.h"

#include "access/htup_details.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"

PG_FUNCTION_INFO_V1(governance_check_share);
PG_FUNCTION_INFO_V1(governance_share);
PG_FUNCTION_INFO_V1(governance_check_consent_terms);

static char *
text_arg(FunctionCallInfo fcinfo, int n)
{
	return PG_ARGISNULL(n) ? NULL : text_to_cstring(PG_GETARG_TEXT_PP(n));
}

/* The categories argument as a List of C strings (NULL elements kept as NULL). */
static List *
category_arg(FunctionCallInfo fcinfo, int n)
{
	ArrayType  *arr;
	Datum	   *elems;
	bool	   *nulls;
	int			nelems;
	int16		typlen;
	bool		typbyval;
	char		typalign;
	List	   *result = NIL;
	int			i;

	if (PG_ARGISNULL(n))
		return NIL;
	arr = PG_GETARG_ARRAYTYPE_P(n);
	if (ARR_NDIM(arr) > 1)
		ereport(ERROR,
				(errcode(ERRCODE_ARRAY_SUBSCRIPT_ERROR),
				 errmsg("categories must be a one-dimensional array"),
				 errdetail("The array has %d dimensions.", ARR_NDIM(arr)),
				 errhint("Pass the categories as a list, e.g. '{personal.name,device.model}'.")));
	get_typlenbyvalalign(ARR_ELEMTYPE(arr), &typlen, &typbyval, &typalign);
	deconstruct_array(arr, ARR_ELEMTYPE(arr), typlen, typbyval, typalign,
					  &elems, &nulls, &nelems);
	for (i = 0; i < nelems; i++)
		result = lappend(result, nulls[i] ? NULL : TextDatumGetCString(elems[i]));
	return result;
}

static void
request_from_args(FunctionCallInfo fcinfo, ShareRequest *req)
{
	req->recipient = text_arg(fcinfo, 0);
	req->categories = category_arg(fcinfo, 1);
	req->purpose = text_arg(fcinfo, 2);
	req->subject = text_arg(fcinfo, 3);
	req->destination = text_arg(fcinfo, 4);	/* region: stored normalised */
	req->legal_basis = text_arg(fcinfo, 5);
	req->policy = text_arg(fcinfo, 6);
	req->lock_consent = false;
}

/*
 * governance.check_share(...) → (allowed, rule_id, reason, source)
 *		A refusal's reason quotes the clause and ends with what would make
 *		the share allowed.
 */
Datum
governance_check_share(PG_FUNCTION_ARGS)
{
	ShareRequest req;
	ShareDecision d;
	TupleDesc	tupdesc;
	Datum		values[4];
	bool		nulls[4] = {false, false, false, false};
	char	   *reason;

	if (get_call_result_type(fcinfo, NULL, &tupdesc) != TYPEFUNC_COMPOSITE)
		elog(ERROR, "pg_governance: check_share must return a record");
	request_from_args(fcinfo, &req);
	share_decide(&req, &d);

	reason = d.reason;
	if (!d.allowed && d.source)
		reason = psprintf("%s: \"%s\"", reason, d.source);
	if (!d.allowed && d.hint)
		reason = psprintf("%s. %s", reason, d.hint);

	values[0] = BoolGetDatum(d.allowed);
	values[1] = d.rule_id ? CStringGetTextDatum(d.rule_id) : (Datum) 0;
	nulls[1] = d.rule_id == NULL;
	values[2] = CStringGetTextDatum(reason);
	values[3] = d.source ? CStringGetTextDatum(d.source) : (Datum) 0;
	nulls[3] = d.source == NULL;
	PG_RETURN_DATUM(HeapTupleGetDatum(heap_form_tuple(BlessTupleDesc(tupdesc), values, nulls)));
}

/*
 * governance.share(...) RETURNS bigint
 *		Allowed: the event is appended to governance.sharing_log, and its id
 *		returned.  Refused: GV004 (or 42704 / 22023 for bad input), the
 *		reason and the clause in the detail, what would allow it in the hint.
 */
Datum
governance_share(PG_FUNCTION_ARGS)
{
	ShareRequest req;
	ShareDecision d;
	ShareEvent	ev;
	GovSpi		spi;
	MemoryContext cxt = CurrentMemoryContext;
	int64		id;

	request_from_args(fcinfo, &req);
	req.lock_consent = true;

	/*
	 * One privileged section for the decision and the append: the consent
	 * look-up and the log's queries inside it find search_path pinned and
	 * do not pin it again.
	 */
	gov_spi_begin(&spi, true);
	MemoryContextSwitchTo(cxt);	/* the decision outlives the section */
	share_decide(&req, &d);
	if (!d.allowed)
		gov_spi_end(&spi);

	if (!d.allowed && d.sqlstate == ERRCODE_GV_SHARING_REFUSED)
		ereport(ERROR,
				(errcode(d.sqlstate),
				 errmsg("sharing with \"%s\" refused by policy \"%s\"", req.recipient, d.policy),
				 d.source ? errdetail("%s; the clause: \"%s\"", d.reason, d.source)
				 : errdetail("%s.", d.reason),
				 d.hint ? errhint("%s", d.hint) : 0));
	if (!d.allowed)
		ereport(ERROR,
				(errcode(d.sqlstate),
				 errmsg("%s", d.reason),
				 d.hint ? errhint("%s", d.hint) : 0));

	memset(&ev, 0, sizeof(ev));
	ev.policy = d.policy;
	ev.recipient = req.recipient;
	ev.categories = PG_GETARG_DATUM(1);
	ev.purpose = req.purpose;
	ev.subject = req.subject;
	ev.destination = req.destination;
	ev.legal_basis = req.legal_basis;
	ev.rule_id = d.rule_id;
	ev.personal = d.personal;
	id = sharing_log_append(&ev);
	gov_spi_end(&spi);
	PG_RETURN_INT64(id);
}

/*
 * governance._check_consent_terms(purpose text, recipient text)
 *		For grant_consent and withdraw_consent: the purpose is a word of the
 *		vocabulary, the recipient NULL, "class:<class>" or a recipient that
 *		some loaded policy names.  Raises otherwise.
 */
Datum
governance_check_consent_terms(PG_FUNCTION_ARGS)
{
	char	   *purpose = text_arg(fcinfo, 0);
	char	   *recipient = text_arg(fcinfo, 1);
	char	   *suggest = NULL;

	if (purpose == NULL || !governance_vocabulary_has("purpose", purpose, &suggest))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 purpose ? errmsg("unknown purpose \"%s\"", purpose) : errmsg("a consent needs a purpose"),
				 errhint("%s", suggest ? suggest : psprintf("Purposes: %s.", governance_vocabulary_list("purpose")))));
	if (recipient == NULL)
		PG_RETURN_VOID();
	if (strncmp(recipient, "class:", 6) == 0)
	{
		if (!governance_vocabulary_has("recipient_class", recipient + 6, &suggest))
			ereport(ERROR,
					(errcode(ERRCODE_UNDEFINED_OBJECT),
					 errmsg("unknown recipient class \"%s\"", recipient + 6),
					 errhint("%s", suggest ? suggest : psprintf("Recipient classes: %s.",
																governance_vocabulary_list("recipient_class")))));
	}
	else
	{
		GovSpi		spi;
		Oid			argtypes[1] = {TEXTOID};
		Datum		args[1] = {CStringGetTextDatum(recipient)};
		bool		found;

		gov_spi_begin(&spi, true);
		if (SPI_execute_with_args("SELECT 1 FROM governance.recipient WHERE name = $1",
								  1, argtypes, args, NULL, true, 1) != SPI_OK_SELECT)
			elog(ERROR, "pg_governance: recipient look-up failed");
		found = SPI_processed > 0;
		gov_spi_end(&spi);
		if (!found)
			ereport(ERROR,
					(errcode(ERRCODE_UNDEFINED_OBJECT),
					 errmsg("no loaded policy names a recipient \"%s\"", recipient),
					 errhint("Spell the recipient as its policy does (governance.recipient), or use \"class:<recipient class>\".")));
	}
	PG_RETURN_VOID();
}
