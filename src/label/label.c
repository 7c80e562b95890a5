/*-------------------------------------------------------------------------
 *
 * label.c
 *	  The "governance" security label provider.  A label is parsed
 *	  completely when it is set (a closed grammar, not a prefix check), so
 *	  nothing invalid is ever stored:
 *
 *	  column:      category=<cat>[,<cat>...] ; subject ; anchor=<event> ; region
 *	  table/schema: policy=<name>
 *	  database:    policy=<name> ; region=<code>
 *	  tablespace:  region=<code>
 *
 * Items are separated by ";", each at most once.  References (categories,
 * policies) are checked against the catalog unless check_function_bodies
 * is off (pg_dump scripts restore labels before the policy rows) or in
 * binary upgrade; the guard then fails closed (GV011) until they resolve.
 * Changing a label needs governance_admin; every change is recorded in
 * governance.label_history and invalidates the compiled rules of the
 * tables it affects.
 *
 *-------------------------------------------------------------------------
 */
#include "pg_governance.h"

#include "access/htup_details.h"
#include "access/table.h"
#include "catalog/dependency.h"
#include "commands/dbcommands.h"
#include "commands/extension.h"
#include "catalog/namespace.h"
#include "catalog/objectaddress.h"
#include "catalog/pg_class.h"
#include "catalog/pg_database.h"
#include "catalog/pg_inherits.h"
#include "catalog/pg_namespace.h"
#include "catalog/pg_tablespace.h"
#include "catalog/pg_type.h"
#include "commands/seclabel.h"
#include "executor/spi.h"
#include "miscadmin.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/inval.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"
#include "utils/syscache.h"
#include "utils/typcache.h"

/*
 * label_parse
 *		Parse a label for an object of the given kind.  On failure return
 *		false with a palloc'd sentence saying what is wrong.
 */
bool
label_parse(const char *label, LabelTarget target, GovLabel *out, char **err)
{
	char	   *copy = pstrdup(label);
	char	   *item;
	char	   *next;
	int			n = 0;

	memset(out, 0, sizeof(GovLabel));
	if (*label == '\0')
	{
		*err = pstrdup("The label is empty; to remove a label, set it to NULL.");
		return false;
	}

	for (item = copy; item != NULL; item = next)
	{
		char	   *key;
		char	   *value = NULL;
		char	   *eq;
		char	   *end;

		n++;
		next = strchr(item, ';');
		if (next)
			*next++ = '\0';
		/* trim */
		while (*item == ' ' || *item == '\t' || *item == '\n')
			item++;
		end = item + strlen(item);
		while (end > item && (end[-1] == ' ' || end[-1] == '\t' || end[-1] == '\n'))
			*--end = '\0';
		if (*item == '\0')
		{
			*err = psprintf("Item %d is empty.", n);
			return false;
		}
		key = item;
		eq = strchr(item, '=');
		if (eq)
		{
			*eq = '\0';
			value = eq + 1;
			end = eq;
			while (end > key && (end[-1] == ' ' || end[-1] == '\t'))
				*--end = '\0';
			while (*value == ' ' || *value == '\t')
				value++;
			if (*value == '\0')
			{
				*err = psprintf("Item %d (\"%s\") has no value after \"=\".", n, key);
				return false;
			}
		}

		if (strcmp(key, "category") == 0 && target == LABEL_COLUMN)
		{
			char	   *cat;
			char	   *cnext;

			if (value == NULL || out->categories != NIL)
			{
				*err = value ? pstrdup("\"category\" appears twice; list every category in one item: category=a,b.")
					: pstrdup("\"category\" needs a value: category=<category>[,<category>...].");
				return false;
			}
			for (cat = value; cat != NULL; cat = cnext)
			{
				char	   *msg;
				int			pos;
				char	   *cend;

				cnext = strchr(cat, ',');
				if (cnext)
					*cnext++ = '\0';
				while (*cat == ' ')
					cat++;
				cend = cat + strlen(cat);
				while (cend > cat && cend[-1] == ' ')
					*--cend = '\0';
				if (!category_parse(cat, strlen(cat), &msg, &pos))
				{
					*err = psprintf("Invalid category \"%s\" at position %d: %s", cat, pos, msg);
					return false;
				}
				out->categories = lappend(out->categories, pstrdup(cat));
			}
		}
		else if (strcmp(key, "subject") == 0 && target == LABEL_COLUMN)
		{
			if (value != NULL || out->subject)
			{
				*err = pstrdup(value ? "\"subject\" takes no value." : "\"subject\" appears twice.");
				return false;
			}
			out->subject = true;
		}
		else if (strcmp(key, "anchor") == 0 && target == LABEL_COLUMN)
		{
			int			i;

			if (value == NULL || out->anchor)
			{
				*err = pstrdup(value ? "\"anchor\" appears twice." : "\"anchor\" needs an event: anchor=<event>.");
				return false;
			}
			for (i = 0; governance_anchor_events[i]; i++)
				if (strcmp(governance_anchor_events[i], value) == 0)
					break;
			if (governance_anchor_events[i] == NULL)
			{
				*err = psprintf("Unknown anchor event \"%s\"; events are created, account_closed, trial_ended, purpose_fulfilled, service_terminated, left_organization, transaction_completed.",
								value);
				return false;
			}
			out->anchor = pstrdup(value);
		}
		else if (strcmp(key, "region") == 0 && target == LABEL_COLUMN)
		{
			if (value != NULL || out->region_column)
			{
				*err = pstrdup(value ? "On a column, \"region\" takes no value: it marks the column that holds each row's region."
							   : "\"region\" appears twice.");
				return false;
			}
			out->region_column = true;
		}
		else if (strcmp(key, "region") == 0 &&
				 (target == LABEL_DATABASE || target == LABEL_TABLESPACE))
		{
			char		norm[REGION_MAX_LEN + 1];
			char	   *msg;
			int			pos;

			if (value == NULL || out->region)
			{
				*err = pstrdup(value ? "\"region\" appears twice." : "\"region\" needs a code: region=<ISO 3166 code>.");
				return false;
			}
			if (strlen(value) > REGION_MAX_LEN || !region_normalize(value, norm, &msg, &pos))
			{
				*err = psprintf("Invalid region \"%s\": %s", value,
								strlen(value) > REGION_MAX_LEN ? "too long." : msg);
				return false;
			}
			out->region = pstrdup(norm);
		}
		else if (strcmp(key, "policy") == 0 &&
				 (target == LABEL_TABLE || target == LABEL_SCHEMA || target == LABEL_DATABASE))
		{
			if (value == NULL || out->policy)
			{
				*err = pstrdup(value ? "\"policy\" appears twice." : "\"policy\" needs a name: policy=<name>.");
				return false;
			}
			out->policy = pstrdup(value);
		}
		else
		{
			static const char *const allowed[] = {
				[LABEL_COLUMN] = "category=<cat>[,<cat>...], subject, anchor=<event>, region",
				[LABEL_TABLE] = "policy=<name>",
				[LABEL_SCHEMA] = "policy=<name>",
				[LABEL_DATABASE] = "policy=<name>, region=<code>",
				[LABEL_TABLESPACE] = "region=<code>",
			};

			*err = psprintf("\"%s\" is not a label item for a %s; allowed: %s.",
							key, label_target_name(target), allowed[target]);
			return false;
		}
	}
	return true;
}

const char *
label_target_name(LabelTarget target)
{
	switch (target)
	{
		case LABEL_COLUMN:
			return "column";
		case LABEL_TABLE:
			return "table";
		case LABEL_SCHEMA:
			return "schema";
		case LABEL_DATABASE:
			return "database";
		case LABEL_TABLESPACE:
			return "tablespace";
	}
	return "object";
}

static void pg_attribute_noreturn()
label_error(const char *label, const char *object, const char *problem)
{
	ereport(ERROR,
			(errcode(ERRCODE_GV_INVALID_LABEL),
			 errmsg("invalid governance label \"%s\" for %s", label, object),
			 errdetail("%s", problem),
			 errhint("Column labels: category=<cat>[,<cat>...]; subject; anchor=<event>; region. Table and schema labels: policy=<name>. Database labels: policy=<name>; region=<code>. Tablespace labels: region=<code>.")));
}

static bool
role_is_admin(Oid role)
{
	Oid			admin = get_role_oid("governance_admin", true);

	return superuser_arg(role) || (OidIsValid(admin) && has_privs_of_role(role, admin));
}

/* the current user (the definer inside a wrapper function) */
bool
governance_is_admin(void)
{
	return role_is_admin(GetUserId());
}

/* the role that issued the command, even inside SECURITY DEFINER code */
bool
governance_caller_is_admin(void)
{
	return role_is_admin(GetOuterUserId());
}

/* does the registry know this category? (taxonomy or a policy's own) */
static bool
category_registered(const char *cat)
{
	Oid			argtypes[1] = {TEXTOID};
	Datum		args[1] = {CStringGetTextDatum(cat)};

	if (SPI_execute_with_args("SELECT 1 FROM governance.taxonomy WHERE category::text = $1 "
							  "UNION ALL SELECT 1 FROM governance.policy_category "
							  "WHERE category::text = $1 AND defined LIMIT 1",
							  1, argtypes, args, NULL, true, 1) != SPI_OK_SELECT)
		elog(ERROR, "could not look up category");
	return SPI_processed > 0;
}

static bool
policy_loaded(const char *name)
{
	Oid			argtypes[1] = {TEXTOID};
	Datum		args[1] = {CStringGetTextDatum(name)};

	if (SPI_execute_with_args("SELECT 1 FROM governance.policy WHERE name = $1",
							  1, argtypes, args, NULL, true, 1) != SPI_OK_SELECT)
		elog(ERROR, "could not look up policy");
	return SPI_processed > 0;
}

static void
check_label_references(const GovLabel *gl, const char *label, const char *object)
{
	ListCell   *lc;
	GovSpi		spi;

	gov_spi_begin(&spi, false);
	foreach(lc, gl->categories)
	{
		const char *cat = lfirst(lc);

		if (!category_registered(cat))
			label_error(label, object,
						psprintf("Category \"%s\" is not in the category registry (the taxonomy and the loaded policies' own categories); SELECT category FROM governance.categories lists them.",
								 cat));
	}
	if (gl->policy && !policy_loaded(gl->policy))
		label_error(label, object,
					psprintf("Policy \"%s\" is not loaded; SELECT name FROM governance.policies lists the loaded policies.",
							 gl->policy));
	gov_spi_end(&spi);
}

static bool
is_anchor_type(Oid typid)
{
	return typid == DATEOID || typid == TIMESTAMPOID || typid == TIMESTAMPTZOID;
}

bool
is_region_column_type(Oid typid)
{
	Oid			nsp = get_namespace_oid("governance", true);

	if (typid == TEXTOID || typid == VARCHAROID || typid == BPCHAROID)
		return true;
	return OidIsValid(nsp) &&
		typid == GetSysCacheOid2(TYPENAMENSP, Anum_pg_type_oid,
								 CStringGetDatum("region"), ObjectIdGetDatum(nsp));
}

/* Record one label change, as the owner of the governance schema. */
static void
record_label_history(const ObjectAddress *object, const char *identity,
					 const char *old_label, const char *new_label)
{
	GovSpi		spi;
	Oid			argtypes[7] = {OIDOID, OIDOID, INT4OID, TEXTOID, TEXTOID, TEXTOID, TEXTOID};
	Datum		args[7];
	char		nulls[7] = {' ', ' ', ' ', ' ', old_label ? ' ' : 'n', new_label ? ' ' : 'n', ' '};

	args[0] = ObjectIdGetDatum(object->classId);
	args[1] = ObjectIdGetDatum(object->objectId);
	args[2] = Int32GetDatum(object->objectSubId);
	args[3] = CStringGetTextDatum(identity);
	args[4] = old_label ? CStringGetTextDatum(old_label) : (Datum) 0;
	args[5] = new_label ? CStringGetTextDatum(new_label) : (Datum) 0;
	/* the role that asked, not the definer of a wrapper function */
	args[6] = CStringGetTextDatum(GetUserNameFromId(GetOuterUserId(), false));

	gov_spi_begin(&spi, true);
	if (SPI_execute_with_args("INSERT INTO governance.label_history "
							  "(classid, objid, objsubid, object, old_label, new_label, changed_by) "
							  "VALUES ($1, $2, $3, $4, $5, $6, $7)",
							  7, argtypes, args, nulls, false, 0) != SPI_OK_INSERT)
		elog(ERROR, "could not record the label change");
	gov_spi_end(&spi);
}

/*
 * Categories of one label followed by those of another not already there.
 * (list_concat_unique compares Nodes; these are C strings.)
 */
List *
label_merge_categories(List *cats, List *more)
{
	ListCell   *lc;

	foreach(lc, more)
	{
		ListCell   *c;
		bool		found = false;

		foreach(c, cats)
			if (strcmp(lfirst(c), lfirst(lc)) == 0)
				found = true;
		if (!found)
			cats = lappend(cats, lfirst(lc));
	}
	return cats;
}

/* Does the installed version of the extension have this table? */
bool
governance_has_relation(const char *name)
{
	Oid			nsp = get_namespace_oid("governance", true);

	return OidIsValid(nsp) && OidIsValid(get_relname_relid(name, nsp));
}

/*
 * governance_owner
 *		The owner of schema governance (the extension's owner, a superuser):
 *		catalog writes and guard DDL run as this role.
 */
Oid
governance_owner(void)
{
	Oid			nsp = get_namespace_oid("governance", false);
	HeapTuple	tup = SearchSysCache1(NAMESPACEOID, ObjectIdGetDatum(nsp));
	Oid			owner;

	if (!HeapTupleIsValid(tup))
		elog(ERROR, "cache lookup failed for namespace %u", nsp);
	owner = ((Form_pg_namespace) GETSTRUCT(tup))->nspowner;
	ReleaseSysCache(tup);
	return owner;
}

/*
 * Is this a restore's window: a pg_dump script (check_function_bodies off)
 * running before any policy of the database is back, or a binary upgrade?
 * Only then are label references left unchecked (they resolve later) and
 * label changes left out of label_history (the dump brings its rows).
 * In a database that has a policy loaded, check_function_bodies = off
 * relaxes only the reference checks.
 */
static bool
restore_window(void)
{
	GovSpi		spi;
	bool		empty;

	if (IsBinaryUpgrade)
		return true;
	if (check_function_bodies)
		return false;
	if (!OidIsValid(get_extension_oid("pg_governance", true)))
		return true;
	gov_spi_begin(&spi, true);
	if (SPI_execute("SELECT 1 FROM governance.policy LIMIT 1", true, 1) != SPI_OK_SELECT)
		elog(ERROR, "pg_governance: could not read governance.policy");
	empty = SPI_processed == 0;
	gov_spi_end(&spi);
	return empty;
}

/*
 * The database's label, kept in governance.database_label too: PostgreSQL
 * dumps database labels only with pg_dump --create, and this table is
 * dumped with the extension, so a restore without --create keeps the
 * binding and the region (guard_cache.c reads it when the label is gone).
 */
static void
mirror_database_label(const char *seclabel)
{
	GovSpi		spi;
	Oid			argtypes[1] = {TEXTOID};
	Datum		args[1];

	if (!governance_has_relation("database_label"))
		return;					/* an install of version 0.1 */
	gov_spi_begin(&spi, true);
	if (SPI_execute("DELETE FROM governance.database_label", false, 0) != SPI_OK_DELETE)
		elog(ERROR, "pg_governance: could not update governance.database_label");
	if (seclabel)
	{
		args[0] = CStringGetTextDatum(seclabel);
		if (SPI_execute_with_args("INSERT INTO governance.database_label (label) VALUES ($1)",
								  1, argtypes, args, NULL, false, 0) != SPI_OK_INSERT)
			elog(ERROR, "pg_governance: could not update governance.database_label");
	}
	gov_spi_end(&spi);
}

/* A tag on a table no policy governs does nothing yet: say so. */
static void
warn_if_ungoverned(Oid relid)
{
	if (guard_bound_policy(relid) == NULL)
		ereport(WARNING,
				(errcode(ERRCODE_WARNING),
				 errmsg("table %s is not governed: no policy is bound to it",
						get_rel_name(relid)),
				 errdetail("The tag is stored, but nothing is enforced until the table, its schema or the database is bound to a policy."),
				 errhint("Bind one with governance.bind(), a schema label \"policy=<name>\", or governance.bind_database().")));
}

/* the relation and its partitions must recompile their rules */
static void
invalidate_relation_tree(Oid relid)
{
	List	   *rels = find_all_inheritors(relid, NoLock, NULL);
	ListCell   *lc;

	foreach(lc, rels)
		CacheInvalidateRelcacheByRelid(lfirst_oid(lc));
}

/*
 * label_object_relabel
 *		Hook called by SECURITY LABEL FOR governance, before the label is
 *		stored.  Raises GV011 for anything that is not a valid label for the
 *		object, and 42501 for a caller that is not governance_admin.
 */
void
label_object_relabel(const ObjectAddress *object, const char *seclabel)
{
	LabelTarget target;
	char	   *identity = getObjectDescription(object, false);
	GovLabel	gl;
	char	   *err;
	char	   *old_label;

	switch (object->classId)
	{
		case RelationRelationId:
			{
				char		relkind = get_rel_relkind(object->objectId);

				if (relkind != RELKIND_RELATION && relkind != RELKIND_PARTITIONED_TABLE)
					ereport(ERROR,
							(errcode(ERRCODE_GV_INVALID_LABEL),
							 errmsg("governance labels are not supported on %s", identity),
							 errdetail("Only tables, partitioned tables and their columns, schemas, databases and tablespaces take governance labels."),
							 errhint("Label the underlying table instead.")));
				target = object->objectSubId != 0 ? LABEL_COLUMN : LABEL_TABLE;
				break;
			}
		case NamespaceRelationId:
			target = LABEL_SCHEMA;
			break;
		case DatabaseRelationId:
			target = LABEL_DATABASE;
			break;
		case TableSpaceRelationId:
			target = LABEL_TABLESPACE;
			break;
		default:
			ereport(ERROR,
					(errcode(ERRCODE_GV_INVALID_LABEL),
					 errmsg("governance labels are not supported on %s", identity),
					 errdetail("Only tables, their columns, schemas, databases and tablespaces take governance labels."),
					 errhint("Label a table, column, schema, database or tablespace.")));
	}

	if (!governance_is_admin())
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("permission denied to change the governance label of %s", identity),
				 errdetail("Changing governance labels requires membership in governance_admin."),
				 errhint("Ask an administrator to GRANT governance_admin, or to tag the column with governance.tag().")));

	if (target == LABEL_DATABASE && object->objectId != MyDatabaseId)
		ereport(ERROR,
				(errcode(ERRCODE_GV_INVALID_LABEL),
				 errmsg("the governance label of %s can only be set from inside that database", identity),
				 errdetail("Policies and regions are resolved in the database that holds the tables."),
				 errhint("Connect to that database and run the command there, or use governance.bind_database().")));

	if (seclabel != NULL)
	{
		if (!label_parse(seclabel, target, &gl, &err))
			label_error(seclabel, identity, err);

		if (target == LABEL_COLUMN && (gl.anchor || gl.region_column || gl.subject))
		{
			Oid			typid = get_atttype(object->objectId, object->objectSubId);

			/* the probes turn subjects into values of the column's type */
			if (gl.subject && (getBaseType(typid) >= FirstNormalObjectId ||
							   !OidIsValid(lookup_type_cache(getBaseType(typid), TYPECACHE_EQ_OPR)->eq_opr)))
				label_error(seclabel, identity,
							psprintf("A subject column must have a built-in type with equality (text, an integer, uuid ...), not %s.",
									 format_type_be(typid)));

			if (gl.anchor && !is_anchor_type(typid))
				label_error(seclabel, identity,
							psprintf("An anchor column must be of type date, timestamp or timestamptz, not %s.",
									 format_type_be(typid)));
			if (gl.region_column && !is_region_column_type(typid))
				label_error(seclabel, identity,
							psprintf("A region column must be of type text, varchar, char or governance.region, not %s.",
									 format_type_be(typid)));
		}
		if (target == LABEL_COLUMN && gl.categories == NIL && !gl.subject &&
			!gl.anchor && !gl.region_column)
			label_error(seclabel, identity, "A column label needs at least one item.");

		if (!OidIsValid(get_extension_oid("pg_governance", true)))
		{
			if (check_function_bodies && !IsBinaryUpgrade)
				ereport(ERROR,
						(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
						 errmsg("extension pg_governance is not installed in database %s",
								get_database_name(MyDatabaseId)),
						 errdetail("A governance label refers to the policies and categories of the extension in this database."),
						 errhint("Create the extension first: CREATE EXTENSION pg_governance;")));
		}
		else if (check_function_bodies && !IsBinaryUpgrade)
			check_label_references(&gl, seclabel, identity);
	}

	old_label = GetSecurityLabel(object, GOVERNANCE_PROVIDER);
	if ((old_label == NULL && seclabel == NULL) ||
		(old_label != NULL && seclabel != NULL && strcmp(old_label, seclabel) == 0))
		return;

	if (!OidIsValid(get_extension_oid("pg_governance", true)))
		return;					/* a pg_dump --create script, before CREATE EXTENSION */
	/* a restore (pg_dump script) brings the history rows along */
	if (!restore_window())
		record_label_history(object, identity, old_label, seclabel);
	if (target == LABEL_DATABASE)
	{
		mirror_database_label(seclabel);
		guard_validate_database_at_commit();
	}
	if (target == LABEL_COLUMN && seclabel != NULL && check_function_bodies)
		warn_if_ungoverned(object->objectId);

	if (target == LABEL_COLUMN || target == LABEL_TABLE)
		invalidate_relation_tree(object->objectId);
	else
		CacheInvalidateRelcacheAll();
}
