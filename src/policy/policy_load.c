/*-------------------------------------------------------------------------
 *
 * policy_load.c
 *	  SQL entry points that load policies: load_policy(text),
 *	  load_policy_file(path), load_bundled_policy(name), the install-time
 *	  taxonomy load, and the helpers that SQL needs from C (duration check,
 *	  relcache invalidation).
 *
 * Data path: YAML text -> yaml_parse_tree (yaml_tree.c) -> policy_validate
 * (policy_schema.c) -> JSON -> governance._store_policy (SQL, via SPI) ->
 * catalog.  Nothing is written until the whole document has been
 * validated, and the write is one statement, so a failed load changes
 * nothing.  A load that changed something invalidates every relcache
 * entry, so that every session recompiles its rules on its next statement.
 *
 *-------------------------------------------------------------------------
 */
#include "pg_governance.h"

#include "access/xact.h"
#include "utils/snapmgr.h"

#include <sys/stat.h>

#include "catalog/pg_authid.h"
#include "catalog/pg_inherits.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "funcapi.h"
#include "mb/pg_wchar.h"
#include "miscadmin.h"
#include "storage/fd.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/inval.h"

PG_FUNCTION_INFO_V1(governance_load_policy);
PG_FUNCTION_INFO_V1(governance_load_policy_file);
PG_FUNCTION_INFO_V1(governance_load_bundled_policy);
PG_FUNCTION_INFO_V1(governance_bundled_policies);
PG_FUNCTION_INFO_V1(governance_load_taxonomy);
PG_FUNCTION_INFO_V1(governance_invalidate_all);
PG_FUNCTION_INFO_V1(governance_is_iso8601_duration);

/* where "make install" puts the bundled policy files */
static char *
bundled_policy_dir(void)
{
	char		sharepath[MAXPGPATH];

	get_share_path(my_exec_path, sharepath);
	return psprintf("%s/extension/pg_governance", sharepath);
}

/* Read a whole server-side file, refusing anything over the size limit. */
static char *
read_policy_file(const char *path, size_t *len_out)
{
	struct stat st;
	FILE	   *f;
	char	   *buf;
	size_t		nread;

	if (stat(path, &st) != 0)
		ereport(ERROR,
				(errcode_for_file_access(),
				 errmsg("could not open policy file \"%s\": %m", path),
				 errhint("Give an absolute path on the database server.")));
	if (!S_ISREG(st.st_mode))
		ereport(ERROR,
				(errcode(ERRCODE_WRONG_OBJECT_TYPE),
				 errmsg("policy file \"%s\" is not a regular file", path),
				 errdetail("Policies are read from ordinary files."),
				 errhint("Give the path of a .yaml file.")));
	if (st.st_size > YAML_MAX_BYTES)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("policy file \"%s\" is too large", path),
				 errdetail("It has %lld bytes; a policy has at most %d.",
						   (long long) st.st_size, YAML_MAX_BYTES),
				 errhint("Check that the right file was given.")));

	f = AllocateFile(path, PG_BINARY_R);
	if (f == NULL)
		ereport(ERROR,
				(errcode_for_file_access(),
				 errmsg("could not open policy file \"%s\": %m", path),
				 errhint("The file must be readable by the database server's operating system user.")));
	buf = palloc(st.st_size + 1);
	nread = fread(buf, 1, st.st_size, f);
	if (ferror(f))
		ereport(ERROR,
				(errcode_for_file_access(),
				 errmsg("could not read policy file \"%s\": %m", path)));
	FreeFile(f);
	buf[nread] = '\0';
	*len_out = nread;
	return buf;
}

/* The base taxonomy's categories, as a List of C strings. */
static List *
fetch_taxonomy(void)
{
	List	   *result = NIL;
	uint64		i;

	if (SPI_execute("SELECT category::text FROM governance.taxonomy", true, 0) != SPI_OK_SELECT)
		elog(ERROR, "could not read governance.taxonomy");
	for (i = 0; i < SPI_processed; i++)
		result = lappend(result, SPI_getvalue(SPI_tuptable->vals[i],
											  SPI_tuptable->tupdesc, 1));
	return result;
}

/*
 * load_policy_document
 *		Parse, validate and store one policy; returns its name.
 */
static text *
load_policy_document(const char *data, size_t len, const char *origin)
{
	YNode	   *root;
	char	   *json;
	Datum		args[3];
	Oid			argtypes[3] = {TEXTOID, TEXTOID, TEXTOID};
	char		nulls[3] = {' ', ' ', origin ? ' ' : 'n'};
	bool		isnull;
	text	   *name;
	bool		changed;
	GovSpi		spi;

	/*
	 * The tree and the JSON live in SPI's procedure context, so SPI_finish
	 * frees them all at once; only the name is copied out.
	 */
	gov_spi_begin(&spi, false);
	root = yaml_parse_tree(data, len, origin);
	json = policy_validate(root, origin, false, fetch_taxonomy());

	args[0] = CStringGetTextDatum(json);
	args[1] = PointerGetDatum(cstring_to_text_with_len(data, len));
	args[2] = origin ? CStringGetTextDatum(origin) : (Datum) 0;
	if (SPI_execute_with_args("SELECT name, changed FROM governance._store_policy($1::jsonb, $2, $3)",
							  3, argtypes, args, nulls, false, 1) != SPI_OK_SELECT ||
		SPI_processed != 1)
		elog(ERROR, "could not store the policy");
	changed = DatumGetBool(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 2, &isnull));
	name = (text *) DatumGetPointer(SPI_datumTransfer(SPI_getbinval(SPI_tuptable->vals[0],
																	 SPI_tuptable->tupdesc, 1,
																	 &isnull),
													   false, -1));
	gov_spi_end(&spi);

	/*
	 * Compiled rules of every governed table may depend on this policy;
	 * so may which tables block rows (a rule that gained a maximum): their
	 * guards are brought in line with the new rules at once.
	 */
	if (changed)
	{
		CacheInvalidateRelcacheAll();
		CommandCounterIncrement();
		/* (the rules are read again under a snapshot that sees this load) */
		PushCopiedSnapshot(GetActiveSnapshot());
		UpdateActiveSnapshotCommandId();
		guard_sync_all();
		PopActiveSnapshot();
	}
	return name;
}

/*
 * Text given to load_policy arrives in the database encoding; the parser
 * wants UTF-8.
 */
static char *
text_to_utf8(text *t, size_t *len_out)
{
	char	   *s = text_to_cstring(t);
	char	   *u = (char *) pg_do_encoding_conversion((unsigned char *) s, strlen(s),
													   GetDatabaseEncoding(), PG_UTF8);

	*len_out = strlen(u);
	return u;
}

Datum
governance_load_policy(PG_FUNCTION_ARGS)
{
	size_t		len;
	char	   *data = text_to_utf8(PG_GETARG_TEXT_PP(0), &len);

	PG_RETURN_TEXT_P(load_policy_document(data, len, NULL));
}

Datum
governance_load_policy_file(PG_FUNCTION_ARGS)
{
	char	   *path = text_to_cstring(PG_GETARG_TEXT_PP(0));
	Oid			caller = GetOuterUserId();	/* not the definer */
	size_t		len;
	char	   *data;
	const char *base;

	if (!superuser_arg(caller) && !has_privs_of_role(caller, ROLE_PG_READ_SERVER_FILES))
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("permission denied to read policy file \"%s\"", path),
				 errdetail("Reading server-side files needs superuser or pg_read_server_files."),
				 errhint("Use governance.load_policy() with the file's contents instead.")));
	if (!is_absolute_path(path))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("policy file path \"%s\" is not absolute", path),
				 errdetail("Relative paths would depend on the server's data directory."),
				 errhint("Give an absolute path.")));
	data = read_policy_file(path, &len);
	base = strrchr(path, '/');
	PG_RETURN_TEXT_P(load_policy_document(data, len, base ? base + 1 : path));
}

/* Bundled names are plain file stems: no path can be smuggled in. */
static void
check_bundled_name(const char *name)
{
	const char *p;

	for (p = name; *p; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '-' || *p == '_' ||
			  (*p == '.' && p != name)))
			break;
	if (*p != '\0' || p == name || strstr(name, "..") != NULL || strcmp(name, "taxonomy") == 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("\"%s\" is not the name of a bundled policy", name),
				 errdetail("Bundled policy names are lowercase letters, digits, \"-\", \"_\" and \".\"."),
				 errhint("SELECT governance.bundled_policies() lists them.")));
}

Datum
governance_load_bundled_policy(PG_FUNCTION_ARGS)
{
	char	   *name = text_to_cstring(PG_GETARG_TEXT_PP(0));
	char	   *path;
	char	   *file;
	size_t		len;
	char	   *data;

	check_bundled_name(name);
	file = psprintf("%s.yaml", name);
	path = psprintf("%s/%s", bundled_policy_dir(), file);
	if (access(path, R_OK) != 0)
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_OBJECT),
				 errmsg("bundled policy \"%s\" does not exist", name),
				 errdetail("There is no readable file \"%s\".", path),
				 errhint("SELECT governance.bundled_policies() lists them.")));
	data = read_policy_file(path, &len);
	PG_RETURN_TEXT_P(load_policy_document(data, len, file));
}

Datum
governance_bundled_policies(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	char	   *dir = bundled_policy_dir();
	DIR		   *d;
	struct dirent *de;

	InitMaterializedSRF(fcinfo, MAT_SRF_USE_EXPECTED_DESC);
	d = AllocateDir(dir);
	while ((de = ReadDir(d, dir)) != NULL)
	{
		size_t		n = strlen(de->d_name);
		Datum		value;
		bool		isnull = false;

		if (n <= 5 || strcmp(de->d_name + n - 5, ".yaml") != 0 ||
			strcmp(de->d_name, "taxonomy.yaml") == 0)
			continue;
		value = PointerGetDatum(cstring_to_text_with_len(de->d_name, n - 5));
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, &value, &isnull);
	}
	FreeDir(d);
	return (Datum) 0;
}

/*
 * governance_load_taxonomy
 *		Install-time: load policies/taxonomy.yaml into governance.taxonomy.
 */
Datum
governance_load_taxonomy(PG_FUNCTION_ARGS)
{
	char	   *path = psprintf("%s/taxonomy.yaml", bundled_policy_dir());
	size_t		len;
	char	   *data = read_policy_file(path, &len);
	YNode	   *root = yaml_parse_tree(data, len, "taxonomy.yaml");
	char	   *json = policy_validate(root, "taxonomy.yaml", true, NIL);
	Oid			argtypes[1] = {TEXTOID};
	Datum		args[1] = {CStringGetTextDatum(json)};
	int			ret;
	uint64		n;
	GovSpi		spi;

	gov_spi_begin(&spi, false);
	ret = SPI_execute_with_args("INSERT INTO governance.taxonomy (category, description, description_zh) "
								"SELECT c->>'name', c->>'description', c->>'description_zh' "
								"FROM jsonb_array_elements($1::jsonb -> 'categories') c "
								"ON CONFLICT (category) DO UPDATE SET description = EXCLUDED.description, "
								"description_zh = EXCLUDED.description_zh, builtin = true",
								1, argtypes, args, NULL, false, 0);
	if (ret != SPI_OK_INSERT)
		elog(ERROR, "could not load the taxonomy");
	n = SPI_processed;
	gov_spi_end(&spi);
	PG_RETURN_INT32((int32) n);
}

Datum
governance_invalidate_all(PG_FUNCTION_ARGS)
{
	CacheInvalidateRelcacheAll();
	PG_RETURN_VOID();
}

Datum
governance_is_iso8601_duration(PG_FUNCTION_ARGS)
{
	PG_RETURN_BOOL(iso8601_duration_valid(text_to_cstring(PG_GETARG_TEXT_PP(0))));
}

PG_FUNCTION_INFO_V1(governance_invalidate_relation);
PG_FUNCTION_INFO_V1(governance_load_library);
PG_FUNCTION_INFO_V1(governance_is_admin_fn);

/* a relation and its partitions recompile their rules (holds changed) */
Datum
governance_invalidate_relation(PG_FUNCTION_ARGS)
{
	List	   *rels = find_all_inheritors(PG_GETARG_OID(0), NoLock, NULL);
	ListCell   *lc;

	foreach(lc, rels)
		CacheInvalidateRelcacheByRelid(lfirst_oid(lc));
	PG_RETURN_VOID();
}

/* Calling any function of the library loads it: wrappers call this one. */
Datum
governance_load_library(PG_FUNCTION_ARGS)
{
	PG_RETURN_VOID();
}

Datum
governance_is_admin_fn(PG_FUNCTION_ARGS)
{
	PG_RETURN_BOOL(governance_caller_is_admin());
}
