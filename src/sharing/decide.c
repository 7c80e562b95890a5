/*-------------------------------------------------------------------------
 *
 * decide.c
 *	  The sharing decision engine (spec section 8): may these categories of
 *	  a subject go to this recipient, for this purpose, to this destination,
 *	  on this legal basis, under this policy?
 *
 *	  A policy's sharing model (recipients, sharing rules, localization
 *	  rules, jurisdictions, implies:) is compiled once per backend from the
 *	  catalog and kept until a policy change invalidates every relcache
 *	  entry (policy_load.c), which resets the cache here too.
 *
 *	  The decision, per category asked for:
 *	  - a named recipient may only receive what the policy declares for it
 *		(its categories, purposes and destinations);
 *	  - an explicit prohibition (effect: deny) that matches refuses;
 *	  - otherwise an allow rule must match (recipient or class, purpose,
 *		category through the taxonomy and implies:, destination when the
 *		rule names destinations) and its
 *		condition be met: a legal basis it names, or, when it needs
 *		consent, a consent in force for the subject; deny by default;
 *	  - a destination outside the jurisdiction where the category must be
 *		stored must also meet the localization rule's cross-border
 *		condition.
 *	  One category refused refuses the whole share.  Categories under
 *	  "anonymized" are information that cannot identify anyone: sharing
 *	  only such categories is not sharing of personal information (jinpai),
 *	  and it names no subject.
 *
 *	  Consents are read at the instant of the call (clock time), so an
 *	  expiry is honoured to the second even inside a long transaction.
 *
 *-------------------------------------------------------------------------
 */
#include "pg_governance.h"

#include "executor/spi.h"
#include "lib/stringinfo.h"
#include "utils/builtins.h"
#include "utils/inval.h"
#include "utils/memutils.h"
#include "utils/snapmgr.h"
#include "utils/timestamp.h"

#define ANONYMIZED_ROOT "anonymized"
#define SHARE_SUBJECT_MAX 1000		/* bytes: fits the indexes of consents and pseudonyms */

typedef struct ShareJurisdiction
{
	char	   *name;
	List	   *include;		/* char *: region codes */
	List	   *exclude;
} ShareJurisdiction;

typedef struct ShareRecipient
{
	char	   *name;
	char	   *klass;
	List	   *categories;
	List	   *purposes;
	List	   *destinations;	/* jurisdiction names or region codes */
	char	   *source;
} ShareRecipient;

typedef struct ShareRule
{
	char	   *rule_id;
	char	   *source;
	bool		deny;
	List	   *recipients;
	List	   *classes;
	List	   *purposes;		/* NIL: any */
	List	   *categories;		/* NIL: any */
	List	   *destinations;	/* NIL: anywhere */
	bool		consent;		/* consent required */
	List	   *bases;			/* legal bases that permit it */
} ShareRule;

typedef struct ShareLoc
{
	char	   *rule_id;
	char	   *source;
	List	   *categories;
	char	   *jurisdiction;
	List	   *include;
	List	   *exclude;
	char	   *condition;		/* forbidden | consent | authorization | legal_basis */
	List	   *bases;
} ShareLoc;

typedef struct SharePolicy
{
	char	   *name;
	char	   *home;			/* home jurisdiction, or NULL */
	List	   *jurisdictions;	/* ShareJurisdiction * */
	List	   *recipients;		/* ShareRecipient * */
	List	   *rules;			/* ShareRule *, in policy order */
	List	   *locs;			/* ShareLoc * */
	List	   *implies_from;	/* char * */
	List	   *implies_to;		/* List * of char * */
	List	   *registered;		/* char *: every registered category */
} SharePolicy;

/* the compiled models of this backend, in share_cxt */
static MemoryContext share_cxt = NULL;
static List *share_models = NIL;
static bool share_models_valid = false;
static bool share_callback_registered = false;

/*
 * Consent look-ups, prepared once per backend: as check_share reads, and
 * as share reads, locking the consent FOR SHARE until it commits, so that
 * a withdrawal committed before it is seen (READ COMMITTED re-checks the
 * row; REPEATABLE READ fails with 40001) and one that comes after waits
 * for the share to be logged.
 */
static SPIPlanPtr consent_plan = NULL;
static SPIPlanPtr consent_lock_plan = NULL;

/* ------------------------------------------------------------ the cache */

static void
share_relcache_callback(Datum arg, Oid relid)
{
	/* policy loads and drops invalidate every relcache entry */
	if (!OidIsValid(relid))
		share_models_valid = false;
}

static void
share_query(const char *sql, const char *policy)
{
	MemoryContext cxt = CurrentMemoryContext;
	Oid			argtypes[1] = {TEXTOID};
	Datum		args[1] = {CStringGetTextDatum(policy)};

	if (SPI_execute_with_args(sql, 1, argtypes, args, NULL, true, 0) != SPI_OK_SELECT)
		elog(ERROR, "pg_governance: catalog query failed: %s", sql);
	MemoryContextSwitchTo(cxt);
}

static char *
getstr(int row, int col)
{
	return SPI_getvalue(SPI_tuptable->vals[row], SPI_tuptable->tupdesc, col);
}

static List *
getlist(int row, int col)
{
	bool		isnull;
	Datum		d = SPI_getbinval(SPI_tuptable->vals[row], SPI_tuptable->tupdesc, col, &isnull);

	return isnull ? NIL : text_array_to_list(d);
}

static bool
getbool(int row, int col)
{
	bool		isnull;
	Datum		d = SPI_getbinval(SPI_tuptable->vals[row], SPI_tuptable->tupdesc, col, &isnull);

	return !isnull && DatumGetBool(d);
}

/* Build the model of one policy; NULL when it is not loaded.  In CurrentMemoryContext. */
static SharePolicy *
share_compile(const char *name)
{
	SharePolicy *p;
	uint64		i;

	share_query("SELECT home_jurisdiction FROM governance.policy WHERE name = $1", name);
	if (SPI_processed == 0)
		return NULL;
	p = palloc0(sizeof(SharePolicy));
	p->name = pstrdup(name);
	p->home = getstr(0, 1);

	share_query("SELECT name, include::text[], exclude::text[] "
				"FROM governance.jurisdiction WHERE policy = $1", name);
	for (i = 0; i < SPI_processed; i++)
	{
		ShareJurisdiction *j = palloc0(sizeof(ShareJurisdiction));

		j->name = getstr(i, 1);
		j->include = getlist(i, 2);
		j->exclude = getlist(i, 3);
		p->jurisdictions = lappend(p->jurisdictions, j);
	}

	share_query("SELECT name, class, categories::text[], purposes, destinations, source "
				"FROM governance.recipient WHERE policy = $1", name);
	for (i = 0; i < SPI_processed; i++)
	{
		ShareRecipient *r = palloc0(sizeof(ShareRecipient));

		r->name = getstr(i, 1);
		r->klass = getstr(i, 2);
		r->categories = getlist(i, 3);
		r->purposes = getlist(i, 4);
		r->destinations = getlist(i, 5);
		r->source = getstr(i, 6);
		p->recipients = lappend(p->recipients, r);
	}

	share_query("SELECT category::text, implies::text[] FROM governance.policy_category "
				"WHERE policy = $1 AND defined", name);
	for (i = 0; i < SPI_processed; i++)
	{
		p->implies_from = lappend(p->implies_from, getstr(i, 1));
		p->implies_to = lappend(p->implies_to, getlist(i, 2));
	}

	/* the categories this policy knows: the taxonomy and its own */
	share_query("SELECT category::text FROM governance.taxonomy "
				"UNION SELECT category::text FROM governance.policy_category "
				"WHERE policy = $1 AND defined", name);
	for (i = 0; i < SPI_processed; i++)
		p->registered = lappend(p->registered, getstr(i, 1));

	share_query("SELECT r.rule_id, r.source, r.parameters->>'effect' = 'deny', "
				"  ARRAY(SELECT jsonb_array_elements_text(COALESCE(r.parameters->'recipients', '[]'))), "
				"  ARRAY(SELECT jsonb_array_elements_text(COALESCE(r.parameters->'recipient_classes', '[]'))), "
				"  ARRAY(SELECT jsonb_array_elements_text(COALESCE(r.parameters->'purposes', '[]'))), "
				"  r.categories::text[], "
				"  ARRAY(SELECT jsonb_array_elements_text(COALESCE(r.parameters->'destinations', '[]'))), "
				"  COALESCE(r.parameters->>'consent', 'required') = 'required', "
				"  ARRAY(SELECT jsonb_array_elements_text(COALESCE(r.parameters->'legal_bases', '[]'))) "
				"FROM governance.rule r WHERE r.policy = $1 AND r.kind = 'sharing' "
				"ORDER BY r.ordinal", name);
	for (i = 0; i < SPI_processed; i++)
	{
		ShareRule  *r = palloc0(sizeof(ShareRule));

		r->rule_id = getstr(i, 1);
		r->source = getstr(i, 2);
		r->deny = getbool(i, 3);
		r->recipients = getlist(i, 4);
		r->classes = getlist(i, 5);
		r->purposes = getlist(i, 6);
		r->categories = getlist(i, 7);
		r->destinations = getlist(i, 8);
		r->consent = getbool(i, 9);
		r->bases = getlist(i, 10);
		p->rules = lappend(p->rules, r);
	}

	share_query("SELECT r.rule_id, r.source, r.categories::text[], r.parameters->>'jurisdiction', "
				"  j.include::text[], j.exclude::text[], "
				"  COALESCE(r.parameters->'cross_border'->>'condition', 'forbidden'), "
				"  ARRAY(SELECT jsonb_array_elements_text("
				"        COALESCE(r.parameters->'cross_border'->'legal_bases', '[]'))) "
				"FROM governance.rule r "
				"LEFT JOIN governance.jurisdiction j "
				"  ON j.policy = r.policy AND j.name = r.parameters->>'jurisdiction' "
				"WHERE r.policy = $1 AND r.kind = 'localization' ORDER BY r.ordinal", name);
	for (i = 0; i < SPI_processed; i++)
	{
		ShareLoc   *l = palloc0(sizeof(ShareLoc));

		l->rule_id = getstr(i, 1);
		l->source = getstr(i, 2);
		l->categories = getlist(i, 3);
		l->jurisdiction = getstr(i, 4);
		l->include = getlist(i, 5);
		l->exclude = getlist(i, 6);
		l->condition = getstr(i, 7);
		l->bases = getlist(i, 8);
		p->locs = lappend(p->locs, l);
	}
	return p;
}

/* The compiled model of a policy, or NULL when no such policy is loaded. */
static SharePolicy *
share_model(const char *name)
{
	ListCell   *lc;
	SharePolicy *p;
	MemoryContext old;
	GovSpi		spi;

	if (!share_callback_registered)
	{
		CacheRegisterRelcacheCallback(share_relcache_callback, (Datum) 0);
		share_callback_registered = true;
	}
	/* a policy change committed since this transaction last looked */
	AcceptInvalidationMessages();
	if (share_cxt == NULL)
		share_cxt = AllocSetContextCreate(CacheMemoryContext,
										  "pg_governance sharing models",
										  ALLOCSET_DEFAULT_SIZES);
	if (!share_models_valid)
	{
		MemoryContextReset(share_cxt);
		share_models = NIL;
		share_models_valid = true;
	}
	foreach(lc, share_models)
	{
		p = lfirst(lc);
		if (strcmp(p->name, name) == 0)
			return p;
	}

	/*
	 * Built in a context of its own, so that an error halfway leaves
	 * nothing behind; kept only once complete.  Read under a fresh snapshot
	 * (as the relcache reads the catalogs), not the statement's: a model
	 * built from an older snapshot (REPEATABLE READ, or a load earlier in
	 * the same statement) would be kept after the invalidation that
	 * prompted its rebuild, and decide by a superseded policy for the rest
	 * of the session.  (GetCatalogSnapshot, not GetLatestSnapshot: this may
	 * run in the leader of a parallel query.)
	 */
	{
		MemoryContext build = AllocSetContextCreate(share_cxt, "pg_governance sharing model",
													ALLOCSET_SMALL_SIZES);

		old = MemoryContextSwitchTo(build);
		PG_TRY();
		{
			PushActiveSnapshot(GetCatalogSnapshot(InvalidOid));
			gov_spi_begin(&spi, true);
			MemoryContextSwitchTo(build);
			p = share_compile(name);
			gov_spi_end(&spi);
			PopActiveSnapshot();
		}
		PG_CATCH();
		{
			MemoryContextSwitchTo(old);
			MemoryContextDelete(build);
			PG_RE_THROW();
		}
		PG_END_TRY();
		MemoryContextSwitchTo(old);
		if (p == NULL)
		{
			MemoryContextDelete(build);
			return NULL;
		}
		old = MemoryContextSwitchTo(share_cxt);
		share_models = lappend(share_models, p);
		MemoryContextSwitchTo(old);
	}
	return p;
}

/* ------------------------------------------------------------ matching */

static bool
has(List *list, const char *s)
{
	ListCell   *lc;

	if (s == NULL)
		return false;
	foreach(lc, list)
		if (strcmp(lfirst(lc), s) == 0)
			return true;
	return false;
}

static char *
join(List *list, const char *sep)
{
	StringInfoData buf;
	ListCell   *lc;

	initStringInfo(&buf);
	foreach(lc, list)
		appendStringInfo(&buf, "%s%s", buf.len ? sep : "", (char *) lfirst(lc));
	return buf.data;
}

/* list without one word (hints do not offer "consent" as a basis to pass) */
static List *
without(List *list, const char *word)
{
	List	   *result = NIL;
	ListCell   *lc;

	foreach(lc, list)
		if (strcmp(lfirst(lc), word) != 0)
			result = lappend(result, lfirst(lc));
	return result;
}

static ShareJurisdiction *
find_jurisdiction(SharePolicy *p, const char *name)
{
	ListCell   *lc;

	foreach(lc, p->jurisdictions)
	{
		ShareJurisdiction *j = lfirst(lc);

		if (strcmp(j->name, name) == 0)
			return j;
	}
	return NULL;
}

/* Is dest (a region code) within spec, a jurisdiction of the policy or a region code? */
static bool
dest_in(SharePolicy *p, const char *spec, const char *dest)
{
	ShareJurisdiction *j = find_jurisdiction(p, spec);

	if (j != NULL)
		return region_in_jurisdiction(dest, j->include, j->exclude);
	return region_contains(spec, dest);
}

/*
 * Does a destination (NULL: the policy's home) fall within specs?  No
 * specs: anywhere (the categories' cross-border conditions still apply).
 */
static bool
dest_matches(SharePolicy *p, List *specs, const char *dest)
{
	ListCell   *lc;

	if (specs == NIL)
		return true;
	if (dest == NULL)
		return p->home == NULL || has(specs, p->home);
	foreach(lc, specs)
		if (dest_in(p, lfirst(lc), dest))
			return true;
	return false;
}

static bool
is_anonymized(const char *cat)
{
	return category_contains(ANONYMIZED_ROOT, strlen(ANONYMIZED_ROOT), cat, strlen(cat));
}

/* ------------------------------------------------------------ the decision */

typedef struct DecideState
{
	const ShareRequest *req;
	SharePolicy *p;
	ShareRecipient *named;		/* the named recipient, or NULL */
	const char *klass;			/* the recipient's class */
	int64		consent_id;		/* -1: not looked up yet; 0: none in force */
	ShareDecision *d;
} DecideState;

static void
refuse(DecideState *st, int sqlstate, const char *rule_id, const char *source,
	   char *hint, char *reason)
{
	ShareDecision *d = st->d;

	d->allowed = false;
	d->sqlstate = sqlstate;
	d->rule_id = rule_id ? pstrdup(rule_id) : NULL;
	d->source = source ? pstrdup(source) : NULL;
	d->hint = hint;
	d->reason = reason;
}

static SPIPlanPtr
prepare_consent_lookup(bool lock)
{
	Oid			types[5] = {TEXTOID, TEXTOID, TEXTOID, TEXTOID, TIMESTAMPTZOID};
	SPIPlanPtr	plan;

	plan = SPI_prepare(psprintf("SELECT c.consent_id FROM governance.consent c "
								"WHERE c.subject OPERATOR(pg_catalog.=) $1 "
								"  AND c.purpose OPERATOR(pg_catalog.=) $2 "
								"  AND c.withdrawn_at IS NULL "
								"  AND c.granted_at OPERATOR(pg_catalog.<=) $5 "
								"  AND (c.expires_at IS NULL OR c.expires_at OPERATOR(pg_catalog.>) $5) "
								"  AND (c.recipient IS NULL OR c.recipient OPERATOR(pg_catalog.=) $3 "
								"       OR c.recipient OPERATOR(pg_catalog.=) $4) "
								"ORDER BY c.consent_id DESC LIMIT 1%s",
								lock ? " FOR SHARE" : ""), 5, types);
	if (plan == NULL || SPI_keepplan(plan) != 0)
		elog(ERROR, "pg_governance: could not prepare the consent look-up");
	return plan;
}

/* The consent in force for the request's subject, purpose and recipient (0: none). */
static int64
consent_in_force(DecideState *st)
{
	const ShareRequest *req = st->req;
	GovSpi		spi;
	Datum		args[5];
	char		nulls[5] = {' ', ' ', ' ', ' ', ' '};
	MemoryContext cxt = CurrentMemoryContext;

	if (st->consent_id >= 0)
		return st->consent_id;
	st->consent_id = 0;
	if (req->subject == NULL)
		return 0;

	gov_spi_begin_own(&spi, true);
	if (consent_plan == NULL)
		consent_plan = prepare_consent_lookup(false);
	if (consent_lock_plan == NULL)
		consent_lock_plan = prepare_consent_lookup(true);
	args[0] = CStringGetTextDatum(req->subject);
	args[1] = CStringGetTextDatum(req->purpose);
	args[2] = CStringGetTextDatum(req->recipient);
	args[3] = CStringGetTextDatum(psprintf("class:%s", st->klass));
	args[4] = TimestampTzGetDatum(GetCurrentTimestamp());
	if (SPI_execute_plan(req->lock_consent ? consent_lock_plan : consent_plan,
						 args, nulls, !req->lock_consent, 1) != SPI_OK_SELECT)
		elog(ERROR, "pg_governance: consent look-up failed");
	if (SPI_processed > 0)
	{
		bool		isnull;

		st->consent_id = DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[0],
													 SPI_tuptable->tupdesc, 1, &isnull));
	}
	gov_spi_end(&spi);
	MemoryContextSwitchTo(cxt);
	return st->consent_id;
}

static bool
rule_matches(DecideState *st, ShareRule *r, List *closure)
{
	const ShareRequest *req = st->req;

	if (!((st->named && has(r->recipients, st->named->name)) || has(r->classes, st->klass)))
		return false;
	if (r->purposes != NIL && !has(r->purposes, req->purpose))
		return false;
	if (r->categories != NIL && rule_covers(r->categories, closure) == NULL)
		return false;
	return dest_matches(st->p, r->destinations, req->destination);
}

/*
 * Is an allow rule's condition met?  *how says by what.  The caller's
 * legal basis "consent" is no evidence: only a recorded consent is.
 */
static bool
rule_condition_met(DecideState *st, ShareRule *r, char **how)
{
	const char *basis = st->req->legal_basis;

	if (basis != NULL && strcmp(basis, "consent") != 0 && has(r->bases, basis))
	{
		*how = psprintf("legal basis %s", basis);
		return true;
	}
	if (r->consent)
	{
		int64		id = consent_in_force(st);

		if (id > 0)
		{
			*how = psprintf("consent %lld in force", (long long) id);
			return true;
		}
		return false;
	}
	if (r->bases == NIL)
	{
		*how = pstrdup("no consent needed");
		return true;
	}
	return false;
}

static char *
consent_call(DecideState *st)
{
	return psprintf("governance.grant_consent(%s, %s, %s)",
					st->req->subject ? quote_literal_cstr(st->req->subject) : "<subject>",
					quote_literal_cstr(st->req->purpose),
					quote_literal_cstr(st->req->recipient));
}

/* Why an allow rule that matched was not met, as a refusal. */
static void
refuse_unmet(DecideState *st, ShareRule *r, const char *cat)
{
	const ShareRequest *req = st->req;
	char	   *bases = join(r->bases, ", ");

	if (r->consent && req->subject == NULL)
		refuse(st, ERRCODE_GV_SHARING_REFUSED, r->rule_id, r->source,
			   r->bases ? psprintf("Pass the subject whose consent is recorded, or one of the legal bases %s.", bases)
			   : pstrdup("Pass the subject whose consent is recorded with governance.grant_consent."),
			   psprintf("rule %s needs the data subject's consent to share %s, and no subject was given",
						r->rule_id, cat));
	else if (r->consent)
		refuse(st, ERRCODE_GV_SHARING_REFUSED, r->rule_id, r->source,
			   r->bases ? psprintf("Record the consent with %s, or pass one of the legal bases %s.",
								   consent_call(st), bases)
			   : psprintf("Record the consent with %s.", consent_call(st)),
			   psprintf("rule %s needs the consent of subject \"%s\" to share %s for %s with \"%s\", and none is in force",
						r->rule_id, req->subject, cat, req->purpose, req->recipient));
	else
		refuse(st, ERRCODE_GV_SHARING_REFUSED, r->rule_id, r->source,
			   psprintf("Pass legal_basis => '%s' if it applies.", (char *) linitial(r->bases)),
			   psprintf("rule %s permits sharing %s only on the legal basis %s%s%s",
						r->rule_id, cat, bases,
						req->legal_basis ? ", not " : "",
						req->legal_basis ? req->legal_basis : ""));
}

/* The named recipient's declaration: only its categories, purposes and destinations. */
static bool
check_declaration(DecideState *st, List *categories)
{
	ShareRecipient *r = st->named;
	const ShareRequest *req = st->req;
	ListCell   *lc;

	if (!has(r->purposes, req->purpose))
	{
		refuse(st, ERRCODE_GV_SHARING_REFUSED, NULL, r->source,
			   psprintf("Recipient \"%s\" is declared for: %s.", r->name, join(r->purposes, ", ")),
			   psprintf("policy \"%s\" declares no purpose %s for recipient \"%s\"",
						st->p->name, req->purpose, r->name));
		return false;
	}
	foreach(lc, categories)
	{
		const char *cat = lfirst(lc);
		List	   *closure = implied_closure(list_make1((char *) cat),
											  st->p->implies_from, st->p->implies_to);

		if (rule_covers(r->categories, closure) == NULL)
		{
			refuse(st, ERRCODE_GV_SHARING_REFUSED, NULL, r->source,
				   psprintf("Recipient \"%s\" is declared to receive: %s.", r->name,
							join(r->categories, ", ")),
				   psprintf("policy \"%s\" does not declare category %s for recipient \"%s\"",
							st->p->name, cat, r->name));
			return false;
		}
	}
	if (!dest_matches(st->p, r->destinations, req->destination))
	{
		refuse(st, ERRCODE_GV_SHARING_REFUSED, NULL, r->source,
			   psprintf("Recipient \"%s\" is declared for: %s.", r->name,
						join(r->destinations, ", ")),
			   psprintf("policy \"%s\" does not declare destination %s for recipient \"%s\"",
						st->p->name, req->destination ? req->destination : "(home)", r->name));
		return false;
	}
	return true;
}

/*
 * The cross-border conditions for one category going to the destination:
 * every localization rule covering it whose jurisdiction does not hold the
 * destination.  Appends what met them to how.
 */
static bool
check_cross_border(DecideState *st, const char *cat, List *closure, StringInfo how)
{
	const ShareRequest *req = st->req;
	ListCell   *lc;

	if (req->destination == NULL)
		return true;
	foreach(lc, st->p->locs)
	{
		ShareLoc   *l = lfirst(lc);
		const char *basis = req->legal_basis;
		bool		met = false;
		char	   *by = NULL;

		if (rule_covers(l->categories, closure) == NULL ||
			region_in_jurisdiction(req->destination, l->include, l->exclude))
			continue;
		if (strcmp(l->condition, "legal_basis") == 0 || strcmp(l->condition, "authorization") == 0)
		{
			if (basis && strcmp(basis, "consent") != 0 &&
				(has(l->bases, basis) ||
				 (strcmp(l->condition, "authorization") == 0 && strcmp(basis, "customer_direction") == 0)))
				met = true, by = psprintf("legal basis %s", basis);
		}
		if (!met && (strcmp(l->condition, "consent") == 0 ||
					 strcmp(l->condition, "authorization") == 0 ||
					 has(l->bases, "consent")) && consent_in_force(st) > 0)
			met = true, by = psprintf("consent %lld in force", (long long) st->consent_id);
		if (met)
		{
			appendStringInfo(how, "; cross-border condition of %s met (%s)", l->rule_id, by);
			continue;
		}

		if (strcmp(l->condition, "forbidden") == 0)
			refuse(st, ERRCODE_GV_SHARING_REFUSED, l->rule_id, l->source,
				   psprintf("Choose a destination within %s.", l->jurisdiction),
				   psprintf("rule %s keeps %s within %s: it may not go to %s",
							l->rule_id, cat, l->jurisdiction, req->destination));
		else if (strcmp(l->condition, "legal_basis") == 0)
			refuse(st, ERRCODE_GV_SHARING_REFUSED, l->rule_id, l->source,
				   has(l->bases, "consent")
				   ? psprintf("Record the consent with %s, pass one of the legal bases %s, or choose a destination within %s.",
							  consent_call(st), join(without(l->bases, "consent"), ", "), l->jurisdiction)
				   : psprintf("Pass one of the legal bases %s, or choose a destination within %s.",
							  join(l->bases, ", "), l->jurisdiction),
				   psprintf("rule %s lets %s leave %s for %s only %son the legal basis %s",
							l->rule_id, cat, l->jurisdiction, req->destination,
							has(l->bases, "consent") ? "with the subject's consent or " : "",
							join(without(l->bases, "consent"), ", ")));
		else
			refuse(st, ERRCODE_GV_SHARING_REFUSED, l->rule_id, l->source,
				   psprintf("Record the %s with %s%s, or choose a destination within %s.",
							strcmp(l->condition, "authorization") == 0 ? "customer's authorization" : "consent",
							consent_call(st),
							strcmp(l->condition, "authorization") == 0 ? " or pass legal_basis => 'customer_direction'" : "",
							l->jurisdiction),
				   req->subject == NULL
				   ? psprintf("rule %s lets %s leave %s only with the subject's %s, and no subject was given",
							  l->rule_id, cat, l->jurisdiction, l->condition)
				   : psprintf("rule %s lets %s leave %s for %s only with the %s of subject \"%s\", and none is in force",
							  l->rule_id, cat, l->jurisdiction, req->destination, l->condition, req->subject));
		return false;
	}
	return true;
}

/*
 * Does the request's legal basis lift a prohibition that names it?  The
 * caller's word "consent" is no evidence: only a recorded consent is.
 */
static bool
lifts_prohibition(DecideState *st, ShareRule *r)
{
	const char *basis = st->req->legal_basis;

	if (basis == NULL || !has(r->bases, basis))
		return false;
	return strcmp(basis, "consent") != 0 || consent_in_force(st) > 0;
}

/* One category: prohibitions, then a permission whose condition is met. */
static bool
decide_category(DecideState *st, const char *cat, List **rule_ids, List **sources,
				StringInfo how)
{
	SharePolicy *p = st->p;
	const ShareRequest *req = st->req;
	List	   *closure = implied_closure(list_make1((char *) cat), p->implies_from, p->implies_to);
	ShareRule  *unmet = NULL;
	ShareRule  *elsewhere = NULL;
	ListCell   *lc;

	foreach(lc, p->rules)
	{
		ShareRule  *r = lfirst(lc);

		if (r->deny && rule_matches(st, r, closure) && !lifts_prohibition(st, r))
		{
			refuse(st, ERRCODE_GV_SHARING_REFUSED, r->rule_id, r->source,
				   r->bases ? psprintf("Only the legal bases %s lift this prohibition.", join(r->bases, ", "))
				   : pstrdup("This is an explicit prohibition of the policy: no consent or legal basis lifts it."),
				   psprintf("rule %s of policy \"%s\" forbids sharing %s with \"%s\" for %s",
							r->rule_id, p->name, cat, req->recipient, req->purpose));
			return false;
		}
	}
	foreach(lc, p->rules)
	{
		ShareRule  *r = lfirst(lc);
		char	   *by;

		if (r->deny)
			continue;
		if (!rule_matches(st, r, closure))
		{
			/* remember a rule that only the destination kept out, for the hint */
			if (elsewhere == NULL && r->destinations != NIL &&
				((st->named && has(r->recipients, st->named->name)) || has(r->classes, st->klass)) &&
				(r->purposes == NIL || has(r->purposes, req->purpose)) &&
				(r->categories == NIL || rule_covers(r->categories, closure)))
				elsewhere = r;
			continue;
		}
		if (rule_condition_met(st, r, &by))
		{
			if (!has(*rule_ids, r->rule_id))
			{
				*rule_ids = lappend(*rule_ids, r->rule_id);
				*sources = lappend(*sources, r->source);
				appendStringInfo(how, "%s%s (%s)", how->len ? "; " : "", r->rule_id, by);
			}
			return check_cross_border(st, cat, closure, how);
		}
		/* report the rule naming the recipient before a class rule */
		if (unmet == NULL || (st->named && has(r->recipients, st->named->name) &&
							  !has(unmet->recipients, st->named->name)))
			unmet = r;
	}
	if (unmet != NULL)
	{
		refuse_unmet(st, unmet, cat);
		return false;
	}
	refuse(st, ERRCODE_GV_SHARING_REFUSED, NULL, NULL,
		   elsewhere
		   ? psprintf("Rule %s permits it to: %s.", elsewhere->rule_id, join(elsewhere->destinations, ", "))
		   : psprintf("Sharing is refused unless a rule permits it; governance.rules lists the sharing rules of \"%s\".", p->name),
		   psprintf("no sharing rule of policy \"%s\" permits sharing %s with \"%s\" for %s%s%s",
					p->name, cat, req->recipient, req->purpose,
					req->destination ? " to " : "", req->destination ? req->destination : ""));
	return false;
}

/* Bad input: refused with 42704 (unknown names) or 22023 (malformed). */
static bool
check_input(DecideState *st)
{
	const ShareRequest *req = st->req;
	SharePolicy *p = st->p;
	char	   *suggest = NULL;
	ListCell   *lc;

	if (req->recipient == NULL || req->recipient[0] == '\0')
	{
		refuse(st, ERRCODE_INVALID_PARAMETER_VALUE, NULL, NULL,
			   pstrdup("Name a recipient of the policy, or \"class:<recipient class>\"."),
			   pstrdup("no recipient given"));
		return false;
	}
	if (strncmp(req->recipient, "class:", 6) == 0)
	{
		st->klass = req->recipient + 6;
		if (!governance_vocabulary_has("recipient_class", st->klass, &suggest))
		{
			refuse(st, ERRCODE_UNDEFINED_OBJECT, NULL, NULL,
				   suggest ? suggest : psprintf("Recipient classes: %s.", governance_vocabulary_list("recipient_class")),
				   psprintf("unknown recipient class \"%s\"", st->klass));
			return false;
		}
	}
	else
	{
		List	   *names = NIL;

		foreach(lc, p->recipients)
		{
			ShareRecipient *r = lfirst(lc);

			if (strcmp(r->name, req->recipient) == 0)
				st->named = r;
			names = lappend(names, r->name);
		}
		if (st->named == NULL)
		{
			refuse(st, ERRCODE_UNDEFINED_OBJECT, NULL, NULL,
				   names ? psprintf("Named recipients of \"%s\": %s; or use \"class:<recipient class>\".",
									p->name, join(names, ", "))
				   : psprintf("Policy \"%s\" names no recipient; use \"class:<recipient class>\".", p->name),
				   psprintf("policy \"%s\" has no recipient \"%s\"", p->name, req->recipient));
			return false;
		}
		st->klass = st->named->klass;
	}
	if (req->subject != NULL && (req->subject[0] == '\0' || strlen(req->subject) > SHARE_SUBJECT_MAX))
	{
		refuse(st, ERRCODE_INVALID_PARAMETER_VALUE, NULL, NULL,
			   psprintf("Pass the identifier of the data subject (1 to %d bytes), or NULL for none.", SHARE_SUBJECT_MAX),
			   req->subject[0] == '\0' ? pstrdup("an empty subject")
			   : psprintf("a subject of %zu bytes", strlen(req->subject)));
		return false;
	}
	if (req->purpose == NULL || !governance_vocabulary_has("purpose", req->purpose, &suggest))
	{
		refuse(st, ERRCODE_INVALID_PARAMETER_VALUE, NULL, NULL,
			   suggest ? suggest : psprintf("Purposes: %s.", governance_vocabulary_list("purpose")),
			   req->purpose ? psprintf("unknown purpose \"%s\"", req->purpose) : pstrdup("no purpose given"));
		return false;
	}
	if (req->legal_basis != NULL &&
		!governance_vocabulary_has("legal_basis", req->legal_basis, &suggest))
	{
		refuse(st, ERRCODE_INVALID_PARAMETER_VALUE, NULL, NULL,
			   suggest ? suggest : psprintf("Legal bases: %s.", governance_vocabulary_list("legal_basis")),
			   psprintf("unknown legal basis \"%s\"", req->legal_basis));
		return false;
	}
	if (req->categories == NIL)
	{
		refuse(st, ERRCODE_INVALID_PARAMETER_VALUE, NULL, NULL,
			   pstrdup("Name every category of data that is shared."),
			   pstrdup("no category given"));
		return false;
	}
	foreach(lc, req->categories)
	{
		if (lfirst(lc) == NULL)
		{
			refuse(st, ERRCODE_INVALID_PARAMETER_VALUE, NULL, NULL,
				   pstrdup("Name every category of data that is shared."),
				   pstrdup("the categories hold a NULL"));
			return false;
		}
		if (!has(p->registered, lfirst(lc)))
		{
			refuse(st, ERRCODE_UNDEFINED_OBJECT, NULL, NULL,
				   pstrdup("A policy decides only the categories of the taxonomy and its own; governance.categories lists them, with the policies that define them."),
				   psprintf("policy \"%s\" knows no category %s", p->name, (char *) lfirst(lc)));
			return false;
		}
	}
	return true;
}

/*
 * May a caller have its share decided by this policy?  The database's
 * policy, or one bound to a schema or table of this database: those are
 * the policies that govern its data.  Otherwise an application could pick
 * the most lenient policy loaded.  governance_admin may name any.
 */
static bool
policy_governs_here(const char *name)
{
	char	   *db = guard_database_policy();
	GovSpi		spi;
	Oid			argtypes[1] = {TEXTOID};
	Datum		args[1];
	bool		bound;

	if ((db != NULL && strcmp(db, name) == 0) || governance_caller_is_admin())
		return true;
	args[0] = CStringGetTextDatum(name);
	gov_spi_begin_own(&spi, true);
	/* label items trimmed as label.c's parser trims them */
	if (SPI_execute_with_args("SELECT 1 FROM pg_catalog.pg_seclabel l "
							  "WHERE l.provider OPERATOR(pg_catalog.=) 'governance' "
							  "  AND l.classoid IN ('pg_catalog.pg_class'::pg_catalog.regclass, "
							  "                     'pg_catalog.pg_namespace'::pg_catalog.regclass) "
							  "  AND EXISTS (SELECT 1 FROM pg_catalog.regexp_split_to_table(l.label, ';') item "
							  "              WHERE pg_catalog.regexp_replace(pg_catalog.regexp_replace(item, "
							  "                      '^[ \t\n]+|[ \t\n]+$', '', 'g'), '[ \t]*=[ \t]*', '=') "
							  "                    OPERATOR(pg_catalog.=) ('policy=' OPERATOR(pg_catalog.||) $1)) "
							  "LIMIT 1", 1, argtypes, args, NULL, true, 1) != SPI_OK_SELECT)
		elog(ERROR, "pg_governance: could not read the bindings");
	bound = SPI_processed > 0;
	gov_spi_end(&spi);
	return bound;
}

/*
 * share_decide
 *		Decide a sharing request.  Never raises for a refusal or bad input:
 *		d says why (check_share returns it, share raises it).  Unknown
 *		policy: 42704.
 */
void
share_decide(const ShareRequest *req, ShareDecision *d)
{
	DecideState st;
	const char *policy = req->policy;
	List	   *rule_ids = NIL;
	List	   *sources = NIL;
	StringInfoData how;
	ListCell   *lc;

	memset(d, 0, sizeof(*d));
	memset(&st, 0, sizeof(st));
	st.req = req;
	st.d = d;
	st.consent_id = -1;

	if (policy == NULL)
		policy = guard_database_policy();
	if (policy == NULL)
	{
		refuse(&st, ERRCODE_UNDEFINED_OBJECT, NULL, NULL,
			   pstrdup("Pass policy => '<name>', or bind one to the database with governance.bind_database."),
			   pstrdup("no policy given, and none is bound to the current database"));
		return;
	}
	d->policy = pstrdup(policy);
	if (req->policy != NULL && !policy_governs_here(req->policy))
	{
		refuse(&st, ERRCODE_INSUFFICIENT_PRIVILEGE, NULL, NULL,
			   pstrdup("Omit policy => to decide by the database's policy, or bind the policy to what it governs (governance.bind, governance.bind_database, or a schema's label) first; governance_admin may name any policy."),
			   psprintf("policy \"%s\" governs nothing in this database", req->policy));
		return;
	}
	st.p = share_model(policy);
	if (st.p == NULL)
	{
		refuse(&st, ERRCODE_UNDEFINED_OBJECT, NULL, NULL,
			   pstrdup("governance.policies lists the loaded policies; load one with governance.load_bundled_policy."),
			   psprintf("policy \"%s\" is not loaded", policy));
		return;
	}
	if (!check_input(&st))
		return;

	d->personal = false;
	foreach(lc, req->categories)
		if (!is_anonymized(lfirst(lc)))
			d->personal = true;
	if (!d->personal && req->subject != NULL)
	{
		refuse(&st, ERRCODE_INVALID_PARAMETER_VALUE, NULL, NULL,
			   pstrdup("Anonymized data identifies nobody: pass subject => NULL, or name the personal categories shared."),
			   psprintf("anonymized data cannot belong to subject \"%s\"", req->subject));
		return;
	}
	if (st.named != NULL && !check_declaration(&st, req->categories))
		return;

	initStringInfo(&how);
	foreach(lc, req->categories)
		if (!decide_category(&st, lfirst(lc), &rule_ids, &sources, &how))
			return;

	d->allowed = true;
	d->rule_id = join(rule_ids, ",");
	d->source = join(sources, " / ");
	d->reason = psprintf("%s: %s", d->personal ? "allowed" : "allowed, anonymized data (not personal information)",
						 how.data);
}
