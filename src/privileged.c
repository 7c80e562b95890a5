/*-------------------------------------------------------------------------
 *
 * privileged.c
 *	  How pg_governance runs its own SQL: every catalog query and every
 *	  guard DDL statement goes through gov_spi_begin/gov_spi_end, which
 *
 *	  - pin search_path to "pg_catalog, pg_temp" for the duration, so that
 *		no operator, function or type of the caller's schemas can be
 *		picked up by name resolution (all our own objects are written
 *		schema-qualified);
 *	  - optionally switch to the extension owner (SECURITY_LOCAL_USERID_CHANGE,
 *		as a SECURITY DEFINER function would), for queries that must see
 *		or write what the caller may not.
 *
 * The SQL text given to SPI is always a constant of ours or built from
 * quote_identifier()'d names: never text read back from a query or given
 * by a user.  On error, transaction (or subtransaction) abort resets the
 * user id, the GUC nest level and SPI.
 *
 *-------------------------------------------------------------------------
 */
#include "pg_governance.h"

#include "catalog/namespace.h"
#include "executor/spi.h"
#include "miscadmin.h"
#include "utils/guc.h"

#define PINNED_SEARCH_PATH "pg_catalog, pg_temp"

/*
 * Pin search_path for the section.  With reuse, not when it is pinned
 * already (an outer section of ours): setting it costs a GUC nest level and
 * a search path recomputation, which share() would otherwise pay several
 * times a call.  The test is on the setting in force, not on a counter of
 * ours, so that an error caught halfway cannot leave us believing it
 * pinned.  Only for sections that run no code but ours (queries on the
 * extension's own tables, of its own types): a section that may run other
 * code pins afresh, so that whatever that code sets is undone at its end.
 */
static void
pin_search_path(GovSpi *s, bool reuse)
{
	s->nestlevel = -1;
	if (reuse && namespace_search_path != NULL &&
		strcmp(namespace_search_path, PINNED_SEARCH_PATH) == 0)
		return;
	s->nestlevel = NewGUCNestLevel();
	(void) set_config_option("search_path", PINNED_SEARCH_PATH,
							 PGC_USERSET, PGC_S_SESSION, GUC_ACTION_SAVE,
							 true, 0, false);
}

static void
spi_begin(GovSpi *s, bool as_owner, bool reuse)
{
	GetUserIdAndSecContext(&s->save_userid, &s->save_sec);
	s->as_owner = as_owner;
	if (as_owner)
		SetUserIdAndSecContext(governance_owner(),
							   s->save_sec | SECURITY_LOCAL_USERID_CHANGE);
	pin_search_path(s, reuse);
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "pg_governance: SPI_connect failed");
}

void
gov_spi_begin(GovSpi *s, bool as_owner)
{
	spi_begin(s, as_owner, false);
}

/* ... for sections that query only the extension's own tables (see above) */
void
gov_spi_begin_own(GovSpi *s, bool as_owner)
{
	spi_begin(s, as_owner, true);
}

/*
 * Act as another role (a table's owner) the way VACUUM and REFRESH
 * MATERIALIZED VIEW do: a security-restricted operation, so that the
 * owner's functions that run (triggers, index expressions, defaults)
 * cannot change the session behind our back; search_path pinned.
 */
void
gov_spi_begin_as(GovSpi *s, Oid role)
{
	GetUserIdAndSecContext(&s->save_userid, &s->save_sec);
	s->as_owner = true;
	SetUserIdAndSecContext(role, s->save_sec | SECURITY_LOCAL_USERID_CHANGE |
						   SECURITY_RESTRICTED_OPERATION);
	pin_search_path(s, false);
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "pg_governance: SPI_connect failed");
}

/*
 * Settings that make text forms of dates, times, intervals and bytea the
 * same in every session (legal hold subjects are stored and read under
 * them).  Returns the GUC nest level to pass to gov_fixed_formats_end.
 */
int
gov_fixed_formats_begin(void)
{
	int			nestlevel = NewGUCNestLevel();

	(void) set_config_option("DateStyle", "ISO, YMD", PGC_USERSET, PGC_S_SESSION,
							 GUC_ACTION_SAVE, true, 0, false);
	(void) set_config_option("TimeZone", "UTC", PGC_USERSET, PGC_S_SESSION,
							 GUC_ACTION_SAVE, true, 0, false);
	(void) set_config_option("IntervalStyle", "postgres", PGC_USERSET, PGC_S_SESSION,
							 GUC_ACTION_SAVE, true, 0, false);
	(void) set_config_option("bytea_output", "hex", PGC_USERSET, PGC_S_SESSION,
							 GUC_ACTION_SAVE, true, 0, false);
	(void) set_config_option("extra_float_digits", "1", PGC_USERSET, PGC_S_SESSION,
							 GUC_ACTION_SAVE, true, 0, false);
	return nestlevel;
}

void
gov_fixed_formats_end(int nestlevel)
{
	AtEOXact_GUC(true, nestlevel);
}

void
gov_spi_end(GovSpi *s)
{
	SPI_finish();
	if (s->nestlevel >= 0)
		AtEOXact_GUC(true, s->nestlevel);
	if (s->as_owner)
		SetUserIdAndSecContext(s->save_userid, s->save_sec);
}
