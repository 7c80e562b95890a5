/*-------------------------------------------------------------------------
 *
 * policy_schema.c
 *	  The policy YAML schema (README.md, section "Policy files") as data, and the walker
 *	  that checks a parsed document (yaml_tree.c) against it and writes the
 *	  validated policy out as JSON for the catalog (policy_load.c).
 *
 * Every mapping has a MapSpec listing its keys; anything else is refused
 * with the nearest valid key as a hint.  References (categories,
 * jurisdictions, recipients, parameters) are resolved against the names
 * the document itself declares plus the base taxonomy, so a policy means
 * the same thing whatever else is loaded.  Every error is GV010 naming
 * file:line:column.
 *
 *-------------------------------------------------------------------------
 */
#include "pg_governance.h"

#include <limits.h>

#include "lib/stringinfo.h"
#include "mb/pg_wchar.h"
#include "utils/builtins.h"
#include "utils/json.h"
#include "utils/varlena.h"

/* ---------------------------------------------------------------- vocab */

static const char *const vocab_recipient_class[] = {
	"affiliate", "processor", "third_party", "partner", "sdk", "government",
	"complainant", "successor", "public", "research", NULL
};
static const char *const vocab_purpose[] = {
	"service_provision", "troubleshooting", "customer_support",
	"fraud_prevention", "payment_processing", "third_party_offering",
	"marketing", "real_name_verification", "login", "account_linking",
	"qr_scanning", "survey", "sms_delivery", "content_compliance_review",
	"complaint_handling", "legal_compliance", "merger_acquisition",
	"research", "security_monitoring", NULL
};
static const char *const vocab_legal_basis[] = {
	"consent", "customer_direction", "contract_necessity", "legal_obligation",
	"national_security", "public_interest", "criminal_investigation",
	"vital_interests", "self_disclosed", "lawfully_public",
	"public_health_emergency", "news_reporting", NULL
};
const char *const governance_anchor_events[] = {
	"created", "account_closed", "trial_ended", "purpose_fulfilled",
	"service_terminated", "left_organization", "transaction_completed", NULL
};
static const char *const vocab_cross_border[] = {
	"forbidden", "consent", "authorization", "legal_basis", NULL
};
static const char *const vocab_action[] = {"block", "anonymize", "delete", NULL};
/* how several retention rules combine, as a policy states it */
static const char *const vocab_principle[] = {"longest_wins", "block_when_impossible", NULL};
static const char *const vocab_effect[] = {"allow", "deny", NULL};
static const char *const vocab_consent[] = {"required", "not_required", NULL};
static const char *const vocab_request[] = {
	"access", "correction", "deletion", "export", "withdraw_consent",
	"close_account", "explanation", "complaint", "copy", "restrict_processing",
	NULL
};
static const char *const vocab_days[] = {"calendar", "working", NULL};
/* grounds on which a subject's request need not be answered (the exemptions of
 * GB/T 35273 that privacy statements such as 21Vianet 2020 repeat) */
static const char *const vocab_exemption[] = {
	"legal_obligation", "national_security", "public_interest",
	"criminal_investigation", "abuse_of_rights", "vital_interests",
	"harm_to_others", "trade_secret", NULL
};
static const char *const vocab_notify[] = {"subjects", "authority", "customers", NULL};
static const char *const vocab_channel[] = {"email", "sms", "phone", "notice", "push", "letter", NULL};
static const char *const vocab_minors_requires[] = {"guardian_consent", "not_directed_at_minors", NULL};
static const char *const vocab_language[] = {"zh", "en", "zh-en", NULL};

/* ---------------------------------------------------------------- schema */

typedef enum FieldType
{
	FT_TEXT,					/* non-empty string */
	FT_NAME,					/* non-empty string, short enough for a key */
	FT_IDENT,					/* [a-z][a-z0-9_.-]* */
	FT_POLICY_NAME,				/* [a-z0-9][a-z0-9_.-]* */
	FT_DATE,					/* YYYY-MM-DD */
	FT_BOOL,
	FT_INT,
	FT_DURATION,				/* ISO 8601 */
	FT_NULLABLE_DURATION,		/* ISO 8601 or null */
	FT_PERIOD,					/* ISO 8601 or {parameter: name} */
	FT_NEW_CATEGORY,			/* a category being defined */
	FT_CATEGORY,				/* a reference to a known category */
	FT_REGION,
	FT_JURISDICTION,			/* a reference to a declared jurisdiction */
	FT_DESTINATION,				/* a jurisdiction, or a region code */
	FT_RECIPIENT,				/* a reference to a declared recipient */
	FT_PARAMETER,				/* a reference to a declared parameter */
	FT_ENUM,					/* one of vocab */
	FT_MAP,
	FT_LIST
} FieldType;

struct MapSpec;

typedef struct FieldSpec
{
	const char *key;
	FieldType	type;
	bool		required;
	const char *const *vocab;	/* FT_ENUM, or FT_LIST of FT_ENUM */
	const struct MapSpec *map;	/* FT_MAP, or FT_LIST of FT_MAP */
	FieldType	elem;			/* FT_LIST: element type */
} FieldSpec;

typedef struct SchemaCtx SchemaCtx;
typedef void (*MapCheck) (SchemaCtx *ctx, YNode *map);

typedef struct MapSpec
{
	const char *what;			/* "a retention rule", for messages */
	const FieldSpec *fields;	/* terminated by key == NULL */
	MapCheck	check;			/* cross-field rules, or NULL */
} MapSpec;

struct SchemaCtx
{
	const char *origin;
	StringInfoData out;			/* the JSON being written */
	bool		is_taxonomy;
	List	   *taxonomy;		/* char *: the base taxonomy's categories */
	List	   *categories;		/* char *: categories the document defines */
	List	   *jurisdictions;	/* char * */
	List	   *recipients;		/* char * */
	List	   *parameters;		/* char * */
	List	   *rule_ids;		/* char * */
	List	   *seen_names;		/* names seen in the current list */
};

#define F(k, t, r)				{k, t, r, NULL, NULL, FT_TEXT}
#define F_ENUM(k, v, r)			{k, FT_ENUM, r, v, NULL, FT_TEXT}
#define F_MAP(k, m, r)			{k, FT_MAP, r, NULL, m, FT_TEXT}
#define F_LIST(k, e, r)			{k, FT_LIST, r, NULL, NULL, e}
#define F_LIST_ENUM(k, v, r)	{k, FT_LIST, r, v, NULL, FT_ENUM}
#define F_LIST_MAP(k, m, r)		{k, FT_LIST, r, NULL, m, FT_MAP}
#define F_END					{NULL, FT_TEXT, false, NULL, NULL, FT_TEXT}

static void check_retention_rule(SchemaCtx *ctx, YNode *map);
static void check_sharing_rule(SchemaCtx *ctx, YNode *map);
static void check_category_def(SchemaCtx *ctx, YNode *map);
static void check_rule_id(SchemaCtx *ctx, YNode *map);
static void check_exemption(SchemaCtx *ctx, YNode *map);

static const FieldSpec policy_header_fields[] = {
	F("name", FT_POLICY_NAME, true),
	F("version", FT_TEXT, true),
	F("title", FT_TEXT, true),
	F("controller", FT_TEXT, true),
	F("effective_date", FT_DATE, false),
	F_ENUM("language", vocab_language, false),
	F("seed", FT_TEXT, false),
	F("home_jurisdiction", FT_DESTINATION, false),
	F_END
};
static const MapSpec policy_header_spec = {"the policy header", policy_header_fields, NULL};

static const FieldSpec category_fields[] = {
	F("name", FT_NEW_CATEGORY, true),
	F("description", FT_TEXT, true),
	F("description_zh", FT_TEXT, false),
	F_LIST("implies", FT_CATEGORY, false),
	F("source", FT_TEXT, true),
	F_END
};
static const MapSpec category_spec = {"a category", category_fields, check_category_def};

static const FieldSpec taxonomy_category_fields[] = {
	F("name", FT_NEW_CATEGORY, true),
	F("description", FT_TEXT, true),
	F("description_zh", FT_TEXT, true),
	F_END
};
static const MapSpec taxonomy_category_spec = {"a taxonomy category", taxonomy_category_fields, check_category_def};

static const FieldSpec sensitive_fields[] = {
	F_LIST("categories", FT_CATEGORY, true),
	F("source", FT_TEXT, true),
	F_END
};
static const MapSpec sensitive_spec = {"the sensitive list", sensitive_fields, NULL};

static const FieldSpec jurisdiction_fields[] = {
	F("name", FT_IDENT, true),
	F_LIST("include", FT_REGION, true),
	F_LIST("exclude", FT_REGION, false),
	F("source", FT_TEXT, false),
	F("note", FT_TEXT, false),
	F_END
};
static const MapSpec jurisdiction_spec = {"a jurisdiction", jurisdiction_fields, NULL};

static const FieldSpec parameter_fields[] = {
	F("name", FT_IDENT, true),
	F("default", FT_NULLABLE_DURATION, true),
	F("description", FT_TEXT, true),
	F("source", FT_TEXT, true),
	F_END
};
static const MapSpec parameter_spec = {"a parameter", parameter_fields, NULL};

static const FieldSpec recipient_fields[] = {
	F("name", FT_NAME, true),
	F_ENUM("class", vocab_recipient_class, true),
	F("provider", FT_TEXT, false),
	F("description", FT_TEXT, false),
	F_LIST("categories", FT_CATEGORY, true),
	F_LIST_ENUM("purposes", vocab_purpose, true),
	F_LIST("destinations", FT_DESTINATION, false),
	F("source", FT_TEXT, true),
	F("note", FT_TEXT, false),
	F_END
};
static const MapSpec recipient_spec = {"a recipient", recipient_fields, NULL};

static const FieldSpec cross_border_fields[] = {
	F_ENUM("condition", vocab_cross_border, true),
	F_LIST_ENUM("legal_bases", vocab_legal_basis, false),
	F_LIST("safeguards", FT_IDENT, false),
	F("note", FT_TEXT, false),
	F_END
};
static const MapSpec cross_border_spec = {"a cross-border condition", cross_border_fields, NULL};

static const FieldSpec localization_fields[] = {
	F("id", FT_IDENT, true),
	F_LIST("categories", FT_CATEGORY, true),
	F("jurisdiction", FT_JURISDICTION, true),
	F_MAP("cross_border", &cross_border_spec, false),
	F("source", FT_TEXT, true),
	F("note", FT_TEXT, false),
	F_END
};
static const MapSpec localization_spec = {"a localization rule", localization_fields, check_rule_id};

static const FieldSpec retention_fields[] = {
	F("id", FT_IDENT, true),
	F_LIST("categories", FT_CATEGORY, true),
	F("never_store", FT_BOOL, false),
	F_ENUM("anchor", governance_anchor_events, false),
	F("minimum", FT_PERIOD, false),
	F("maximum", FT_PERIOD, false),
	F_ENUM("action", vocab_action, false),
	F_ENUM("principle", vocab_principle, false),
	F("source", FT_TEXT, true),
	F("note", FT_TEXT, false),
	F_END
};
static const MapSpec retention_spec = {"a retention rule", retention_fields, check_retention_rule};

static const FieldSpec sharing_fields[] = {
	F("id", FT_IDENT, true),
	F_ENUM("effect", vocab_effect, false),
	F_LIST("recipients", FT_RECIPIENT, false),
	F_LIST_ENUM("recipient_classes", vocab_recipient_class, false),
	F_LIST_ENUM("purposes", vocab_purpose, false),
	F_LIST("categories", FT_CATEGORY, false),
	F_LIST("destinations", FT_DESTINATION, false),
	F_ENUM("consent", vocab_consent, false),
	F_LIST_ENUM("legal_bases", vocab_legal_basis, false),
	F("source", FT_TEXT, true),
	F("note", FT_TEXT, false),
	F_END
};
static const MapSpec sharing_spec = {"a sharing rule", sharing_fields, check_sharing_rule};

static const FieldSpec exemption_fields[] = {
	F_ENUM("ground", vocab_exemption, true),
	F("source", FT_TEXT, true),
	F("note", FT_TEXT, false),
	F_END
};
static const MapSpec exemption_spec = {"an exemption", exemption_fields, check_exemption};

static const FieldSpec subject_rights_fields[] = {
	F("id", FT_IDENT, true),
	F_LIST_ENUM("requests", vocab_request, true),
	F("deadline", FT_DURATION, true),
	F_ENUM("days", vocab_days, false),
	F_LIST_MAP("exemptions", &exemption_spec, false),
	F("source", FT_TEXT, true),
	F("note", FT_TEXT, false),
	F_END
};
static const MapSpec subject_rights_spec = {"a subject-rights rule", subject_rights_fields, check_rule_id};

static const FieldSpec breach_fields[] = {
	F("id", FT_IDENT, true),
	F("deadline", FT_DURATION, false),
	F_LIST_ENUM("notify", vocab_notify, true),
	F_LIST_ENUM("channels", vocab_channel, false),
	F("source", FT_TEXT, true),
	F("note", FT_TEXT, false),
	F_END
};
static const MapSpec breach_spec = {"a breach rule", breach_fields, check_rule_id};

static const FieldSpec minors_fields[] = {
	F("id", FT_IDENT, true),
	F("age_of_consent", FT_INT, true),
	F_ENUM("requires", vocab_minors_requires, true),
	F_LIST("categories", FT_CATEGORY, false),
	F("source", FT_TEXT, true),
	F("note", FT_TEXT, false),
	F_END
};
static const MapSpec minors_spec = {"a minors rule", minors_fields, check_rule_id};

static const FieldSpec rules_fields[] = {
	F_LIST_MAP("localization", &localization_spec, false),
	F_LIST_MAP("retention", &retention_spec, false),
	F_LIST_MAP("sharing", &sharing_spec, false),
	F_LIST_MAP("subject_rights", &subject_rights_spec, false),
	F_LIST_MAP("breach", &breach_spec, false),
	F_LIST_MAP("minors", &minors_spec, false),
	F_END
};
static const MapSpec rules_spec = {"the rules", rules_fields, NULL};

static const FieldSpec unenforceable_fields[] = {
	F("source", FT_TEXT, true),
	F("reason", FT_TEXT, true),
	F_END
};
static const MapSpec unenforceable_spec = {"an unenforceable clause", unenforceable_fields, NULL};

static const FieldSpec policy_fields[] = {
	F_MAP("policy", &policy_header_spec, true),
	F_LIST_MAP("categories", &category_spec, false),
	F_MAP("sensitive", &sensitive_spec, false),
	F_LIST_MAP("jurisdictions", &jurisdiction_spec, false),
	F_LIST_MAP("parameters", &parameter_spec, false),
	F_LIST_MAP("recipients", &recipient_spec, false),
	F_MAP("rules", &rules_spec, true),
	F_LIST_MAP("unenforceable", &unenforceable_spec, false),
	F_END
};
static const MapSpec policy_spec = {"a policy", policy_fields, NULL};

static const FieldSpec taxonomy_header_fields[] = {
	F("version", FT_TEXT, true),
	F_END
};
static const MapSpec taxonomy_header_spec = {"the taxonomy header", taxonomy_header_fields, NULL};

static const FieldSpec taxonomy_fields[] = {
	F_MAP("taxonomy", &taxonomy_header_spec, true),
	F_LIST_MAP("categories", &taxonomy_category_spec, true),
	F_END
};
static const MapSpec taxonomy_spec = {"the taxonomy", taxonomy_fields, NULL};

/* ---------------------------------------------------------------- helpers */

static void schema_walk_map(SchemaCtx *ctx, YNode *node, const MapSpec *spec);

static void schema_error(SchemaCtx *ctx, YNode *at, const char *hint,
						 const char *fmt,...) pg_attribute_printf(4, 5) pg_attribute_noreturn();

static void
schema_error(SchemaCtx *ctx, YNode *at, const char *hint, const char *fmt,...)
{
	va_list		args;
	StringInfoData msg;

	initStringInfo(&msg);
	for (;;)
	{
		int			needed;

		va_start(args, fmt);
		needed = appendStringInfoVA(&msg, fmt, args);
		va_end(args);
		if (needed == 0)
			break;
		enlargeStringInfo(&msg, needed);
	}
	policy_error_at(ctx->origin, at->line, at->col, msg.data,
					"The policy was not loaded; nothing was changed.",
					hint ? hint : "The policy format is described in the README of pg_governance, section \"Policy files\".");
}

static bool
list_has_string(List *list, const char *s)
{
	ListCell   *lc;

	foreach(lc, list)
		if (strcmp((const char *) lfirst(lc), s) == 0)
			return true;
	return false;
}

/*
 * The controlled vocabulary, for the sharing engine and consent records
 * (sharing/decide.c): is value a word of vocabulary kind ("purpose",
 * "recipient_class", "legal_basis")?  With a suggestion for a typo.
 */
static const char *const *
vocabulary(const char *kind)
{
	if (strcmp(kind, "purpose") == 0)
		return vocab_purpose;
	if (strcmp(kind, "recipient_class") == 0)
		return vocab_recipient_class;
	if (strcmp(kind, "legal_basis") == 0)
		return vocab_legal_basis;
	elog(ERROR, "pg_governance: no vocabulary \"%s\"", kind);
	return NULL;				/* keep compiler quiet */
}

static char *nearest_hint(const char *s, const char *const *vocab, List *list);
static char *vocab_list(const char *const *vocab);

bool
governance_vocabulary_has(const char *kind, const char *value, char **suggestion)
{
	const char *const *vocab = vocabulary(kind);
	int			i;

	for (i = 0; vocab[i]; i++)
		if (strcmp(vocab[i], value) == 0)
			return true;
	if (suggestion)
		*suggestion = nearest_hint(value, vocab, NIL);
	return false;
}

/* the words of a vocabulary, for hints */
char *
governance_vocabulary_list(const char *kind)
{
	return vocab_list(vocabulary(kind));
}

/* "Did you mean ...?" from the candidates closest to s, or NULL */
static char *
nearest_hint(const char *s, const char *const *vocab, List *list)
{
	const char *best = NULL;
	int			best_d = INT_MAX;
	int			slen = strlen(s);
	ListCell   *lc;
	int			i;

	/* varstr_levenshtein refuses strings over 255 bytes; such typos get no hint */
	if (slen > 255)
		return NULL;
	for (i = 0; vocab && vocab[i]; i++)
	{
		int			d = varstr_levenshtein(s, slen, vocab[i], strlen(vocab[i]), 1, 1, 1, false);

		if (d < best_d)
			best_d = d, best = vocab[i];
	}
	foreach(lc, list)
	{
		const char *c = lfirst(lc);
		int			d;

		if (strlen(c) > 255)
			continue;
		d = varstr_levenshtein(s, slen, c, strlen(c), 1, 1, 1, false);

		if (d < best_d)
			best_d = d, best = c;
	}
	if (best == NULL || best_d > Max(2, slen / 3))
		return NULL;
	return psprintf("Did you mean \"%s\"?", best);
}

static char *
vocab_list(const char *const *vocab)
{
	StringInfoData buf;
	int			i;

	initStringInfo(&buf);
	for (i = 0; vocab[i]; i++)
		appendStringInfo(&buf, "%s%s", i ? ", " : "", vocab[i]);
	return buf.data;
}

static const char *
node_kind_name(YNode *node)
{
	switch (node->kind)
	{
		case YN_MAP:
			return "a mapping";
		case YN_SEQ:
			return "a list";
		default:
			return "a scalar";
	}
}

static bool
scalar_is_null(YNode *node)
{
	return node->kind == YN_SCALAR && node->plain &&
		(node->len == 0 || strcmp(node->value, "null") == 0 ||
		 strcmp(node->value, "~") == 0 || strcmp(node->value, "Null") == 0 ||
		 strcmp(node->value, "NULL") == 0);
}

static void
expect_scalar(SchemaCtx *ctx, YNode *node, const char *what)
{
	if (node->kind != YN_SCALAR)
		schema_error(ctx, node, NULL, "expected %s but found %s", what, node_kind_name(node));
	if (scalar_is_null(node) || node->len == 0)
		schema_error(ctx, node, NULL, "expected %s but found an empty value", what);
}

/*
 * Names are catalog keys (primary keys, label values): a name of any
 * length would fail as an index row, so they are bounded here, with a
 * position, like every other schema error.
 */
#define POLICY_NAME_MAX_CHARS	200

static void
check_name_length(SchemaCtx *ctx, YNode *node)
{
	int			chars = pg_mbstrlen_with_len(node->value, strlen(node->value));

	if (chars > POLICY_NAME_MAX_CHARS)
		schema_error(ctx, node,
					 "Names are at most 200 characters; put longer text in description: or source:.",
					 "name too long (%d characters)", chars);
}

static bool
ident_valid(const char *s, bool digit_first)
{
	const char *p;

	if (!((s[0] >= 'a' && s[0] <= 'z') || (digit_first && s[0] >= '0' && s[0] <= '9')))
		return false;
	for (p = s + 1; *p; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') ||
			  *p == '_' || *p == '.' || *p == '-'))
			return false;
	return (p - s) <= NAMEDATALEN;
}

/*
 * iso8601_duration_valid
 *		P[nY][nM][nW][nD][T[nH][nM][nS]] with at least one component, and at
 *		least one after T.  Numbers are whole (fractions are not needed by
 *		any policy and make period arithmetic ambiguous).
 */
bool
iso8601_duration_valid(const char *s)
{
	static const char date_units[] = "YMWD";
	static const char time_units[] = "HMS";
	const char *units = date_units;
	const char *p = s;
	int			last = -1;
	bool		any = false;
	bool		any_time = false;
	bool		in_time = false;

	if (*p++ != 'P')
		return false;
	while (*p)
	{
		const char *digits = p;
		const char *u;

		if (*p == 'T' && !in_time)
		{
			in_time = true;
			units = time_units;
			last = -1;
			p++;
			continue;
		}
		while (*p >= '0' && *p <= '9')
			p++;
		if (p == digits || p - digits > 6 || *p == '\0')
			return false;
		u = strchr(units, *p);
		if (u == NULL || (u - units) <= last)
			return false;
		last = u - units;
		any = true;
		if (in_time)
			any_time = true;
		p++;
	}
	return any && (!in_time || any_time);
}

/* ---------------------------------------------------------------- JSON */

static void
emit_key(SchemaCtx *ctx, const char *key, bool *first)
{
	if (!*first)
		appendStringInfoChar(&ctx->out, ',');
	*first = false;
	escape_json(&ctx->out, key);
	appendStringInfoChar(&ctx->out, ':');
}

/* ---------------------------------------------------------------- values */

static void
check_category_ref(SchemaCtx *ctx, YNode *node)
{
	char	   *msg;
	int			pos;
	char	   *hint;

	if (!category_parse(node->value, node->len, &msg, &pos))
		schema_error(ctx, node, NULL, "invalid category \"%s\": %s", node->value, msg);
	if (list_has_string(ctx->categories, node->value) ||
		list_has_string(ctx->taxonomy, node->value))
		return;
	hint = nearest_hint(node->value, NULL, ctx->categories);
	if (hint == NULL)
		hint = nearest_hint(node->value, NULL, ctx->taxonomy);
	schema_error(ctx, node, hint ? hint : "Use a category of policies/taxonomy.yaml or define it under categories:.",
				 "unknown category \"%s\"", node->value);
}

static void
walk_value(SchemaCtx *ctx, YNode *node, const FieldSpec *f, FieldType type)
{
	switch (type)
	{
		case FT_TEXT:
			expect_scalar(ctx, node, "a text");
			escape_json(&ctx->out, node->value);
			break;
		case FT_NAME:
			expect_scalar(ctx, node, "a name");
			check_name_length(ctx, node);
			escape_json(&ctx->out, node->value);
			break;
		case FT_IDENT:
		case FT_POLICY_NAME:
			expect_scalar(ctx, node, "a name");
			check_name_length(ctx, node);
			if (!ident_valid(node->value, type == FT_POLICY_NAME))
				schema_error(ctx, node,
							 type == FT_POLICY_NAME
							 ? "Policy names are lowercase letters, digits, \"_\", \".\" and \"-\", starting with a letter or digit."
							 : "Names are lowercase letters, digits, \"_\", \".\" and \"-\", starting with a letter.",
							 "invalid name \"%s\"", node->value);
			escape_json(&ctx->out, node->value);
			break;
		case FT_DATE:
			{
				static const int mdays[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
				int			y,
							m,
							d;
				char		extra;
				bool		leap;
				const char *v;

				expect_scalar(ctx, node, "a date");
				v = node->value;
				/* strictly DDDD-DD-DD: sscanf alone would accept spaces and signs */
				if (node->len != 10 || v[4] != '-' || v[7] != '-' ||
					strspn(v, "0123456789") != 4 || strspn(v + 5, "0123456789") != 2 ||
					strspn(v + 8, "0123456789") != 2 ||
					sscanf(v, "%4d-%2d-%2d%c", &y, &m, &d, &extra) != 3 || y < 1900 || y > 2999 || m < 1 || m > 12 ||
					d < 1 || d > mdays[m - 1])
					schema_error(ctx, node, "Write dates as YYYY-MM-DD, a real calendar date.",
								 "invalid date \"%s\"", node->value);
				leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
				if (m == 2 && d == 29 && !leap)
					schema_error(ctx, node, "Write dates as YYYY-MM-DD, a real calendar date.",
								 "invalid date \"%s\": %d is not a leap year", node->value, y);
				escape_json(&ctx->out, node->value);
				break;
			}
		case FT_BOOL:
			expect_scalar(ctx, node, "true or false");
			if (strcmp(node->value, "true") == 0)
				appendStringInfoString(&ctx->out, "true");
			else if (strcmp(node->value, "false") == 0)
				appendStringInfoString(&ctx->out, "false");
			else
				schema_error(ctx, node, NULL, "expected true or false but found \"%s\"", node->value);
			break;
		case FT_INT:
			{
				const char *p;

				expect_scalar(ctx, node, "a whole number");
				for (p = node->value; *p; p++)
					if (*p < '0' || *p > '9' || p - node->value > 5)
						schema_error(ctx, node, NULL, "expected a whole number but found \"%s\"", node->value);
				/* normalised, so that "014" is written as JSON 14 */
				appendStringInfo(&ctx->out, "%d", atoi(node->value));
				break;
			}
		case FT_NULLABLE_DURATION:
			if (scalar_is_null(node))
			{
				appendStringInfoString(&ctx->out, "null");
				break;
			}
			/* FALLTHROUGH */
		case FT_DURATION:
			expect_scalar(ctx, node, "an ISO 8601 duration");
			if (!iso8601_duration_valid(node->value))
				schema_error(ctx, node, "Durations are ISO 8601, such as P6M, P30D, P3Y or PT72H.",
							 "invalid ISO 8601 duration \"%s\"", node->value);
			escape_json(&ctx->out, node->value);
			break;
		case FT_PERIOD:
			if (node->kind == YN_MAP)
			{
				YNode	   *val;

				if (node->n != 2 || strcmp(node->items[0]->value, "parameter") != 0)
					schema_error(ctx, node, "A period is a duration such as P6M, or {parameter: name}.",
								 "expected a duration or {parameter: <name>}");
				val = node->items[1];
				expect_scalar(ctx, val, "a parameter name");
				if (!list_has_string(ctx->parameters, val->value))
				{
					char	   *hint = nearest_hint(val->value, NULL, ctx->parameters);

					schema_error(ctx, val, hint ? hint : "Declare the parameter under parameters:.",
								 "unknown parameter \"%s\"", val->value);
				}
				appendStringInfoString(&ctx->out, "{\"parameter\":");
				escape_json(&ctx->out, val->value);
				appendStringInfoChar(&ctx->out, '}');
				break;
			}
			walk_value(ctx, node, f, FT_DURATION);
			break;
		case FT_NEW_CATEGORY:
			{
				char	   *msg;
				int			pos;

				expect_scalar(ctx, node, "a category name");
				if (!category_parse(node->value, node->len, &msg, &pos))
					schema_error(ctx, node, NULL, "invalid category \"%s\": %s", node->value, msg);
				escape_json(&ctx->out, node->value);
				break;
			}
		case FT_CATEGORY:
			expect_scalar(ctx, node, "a category");
			check_category_ref(ctx, node);
			escape_json(&ctx->out, node->value);
			break;
		case FT_REGION:
			{
				char		norm[REGION_MAX_LEN + 1];
				char	   *msg;
				int			pos;

				expect_scalar(ctx, node, "a region code");
				if (node->len > REGION_MAX_LEN ||
					!region_normalize(node->value, norm, &msg, &pos))
					schema_error(ctx, node, "Regions are ISO 3166 codes such as CN, HK or CN-SH.",
								 "invalid region \"%s\"", node->value);
				escape_json(&ctx->out, norm);
				break;
			}
		case FT_JURISDICTION:
			expect_scalar(ctx, node, "a jurisdiction");
			if (!list_has_string(ctx->jurisdictions, node->value))
			{
				char	   *hint = nearest_hint(node->value, NULL, ctx->jurisdictions);

				schema_error(ctx, node, hint ? hint : "Declare it under jurisdictions:.",
							 "unknown jurisdiction \"%s\"", node->value);
			}
			escape_json(&ctx->out, node->value);
			break;
		case FT_DESTINATION:
			{
				char		norm[REGION_MAX_LEN + 1];
				char	   *msg;
				int			pos;

				expect_scalar(ctx, node, "a jurisdiction or region");
				if (list_has_string(ctx->jurisdictions, node->value))
				{
					escape_json(&ctx->out, node->value);
					break;
				}
				if (node->len <= REGION_MAX_LEN &&
					node->value[0] >= 'A' && node->value[0] <= 'Z' &&
					region_normalize(node->value, norm, &msg, &pos))
				{
					escape_json(&ctx->out, norm);
					break;
				}
				msg = nearest_hint(node->value, NULL, ctx->jurisdictions);
				schema_error(ctx, node, msg ? msg : "Use a jurisdiction declared under jurisdictions:, or an ISO 3166 region code in upper case.",
							 "unknown jurisdiction or region \"%s\"", node->value);
			}
			break;
		case FT_RECIPIENT:
			expect_scalar(ctx, node, "a recipient");
			if (!list_has_string(ctx->recipients, node->value))
			{
				char	   *hint = nearest_hint(node->value, NULL, ctx->recipients);

				schema_error(ctx, node, hint ? hint : "Declare the recipient under recipients:, or use recipient_classes:.",
							 "unknown recipient \"%s\"", node->value);
			}
			escape_json(&ctx->out, node->value);
			break;
		case FT_PARAMETER:
			expect_scalar(ctx, node, "a parameter");
			if (!list_has_string(ctx->parameters, node->value))
				schema_error(ctx, node, "Declare the parameter under parameters:.",
							 "unknown parameter \"%s\"", node->value);
			escape_json(&ctx->out, node->value);
			break;
		case FT_ENUM:
			expect_scalar(ctx, node, "a word of the vocabulary");
			{
				int			i;

				for (i = 0; f->vocab[i]; i++)
					if (strcmp(f->vocab[i], node->value) == 0)
						break;
				if (f->vocab[i] == NULL)
				{
					char	   *hint = nearest_hint(node->value, f->vocab, NIL);

					schema_error(ctx, node,
								 hint ? hint : psprintf("Valid values: %s.", vocab_list(f->vocab)),
								 "\"%s\" is not a valid value for \"%s\"", node->value, f->key);
				}
			}
			escape_json(&ctx->out, node->value);
			break;
		case FT_MAP:
			schema_walk_map(ctx, node, f->map);
			break;
		case FT_LIST:
			{
				int			i;
				List	   *saved = ctx->seen_names;

				if (node->kind != YN_SEQ)
					schema_error(ctx, node, NULL, "expected a list for \"%s\" but found %s",
								 f->key, node_kind_name(node));
				ctx->seen_names = NIL;
				appendStringInfoChar(&ctx->out, '[');
				for (i = 0; i < node->n; i++)
				{
					if (i > 0)
						appendStringInfoChar(&ctx->out, ',');
					walk_value(ctx, node->items[i], f, f->elem);
				}
				appendStringInfoChar(&ctx->out, ']');
				ctx->seen_names = saved;
				break;
			}
	}
}

static YNode *
map_get(YNode *map, const char *key)
{
	int			i;

	for (i = 0; i < map->n; i += 2)
		if (strcmp(map->items[i]->value, key) == 0)
			return map->items[i + 1];
	return NULL;
}

static void
schema_walk_map(SchemaCtx *ctx, YNode *node, const MapSpec *spec)
{
	const FieldSpec *f;
	bool		first = true;
	int			i;

	if (node->kind != YN_MAP)
		schema_error(ctx, node, NULL, "expected %s (a mapping) but found %s",
					 spec->what, node_kind_name(node));

	/* unknown keys first, so that a typo is reported as such */
	for (i = 0; i < node->n; i += 2)
	{
		YNode	   *key = node->items[i];

		for (f = spec->fields; f->key; f++)
			if (strcmp(f->key, key->value) == 0)
				break;
		if (f->key == NULL)
		{
			const char *names[64];
			int			n = 0;
			char	   *hint;

			for (f = spec->fields; f->key && n < 63; f++)
				names[n++] = f->key;
			names[n] = NULL;
			hint = nearest_hint(key->value, names, NIL);
			schema_error(ctx, key,
						 hint ? psprintf("%s Valid keys of %s: %s.", hint, spec->what, vocab_list(names))
						 : psprintf("Valid keys of %s: %s.", spec->what, vocab_list(names)),
						 "unknown key \"%s\" in %s", key->value, spec->what);
		}
	}

	appendStringInfoChar(&ctx->out, '{');
	for (f = spec->fields; f->key; f++)
	{
		YNode	   *val = map_get(node, f->key);

		if (val == NULL)
		{
			if (f->required)
				schema_error(ctx, node, NULL, "%s lacks the required key \"%s\"", spec->what, f->key);
			continue;
		}
		emit_key(ctx, f->key, &first);
		walk_value(ctx, val, f, f->type);
	}
	appendStringInfoChar(&ctx->out, '}');

	/* names unique within their list (categories, jurisdictions, ...) */
	{
		YNode	   *name = map_get(node, "name");

		if (name != NULL && name->kind == YN_SCALAR)
		{
			if (list_has_string(ctx->seen_names, name->value))
				schema_error(ctx, name, NULL, "duplicate name \"%s\" in %s list",
							 name->value, spec->what);
			ctx->seen_names = lappend(ctx->seen_names, name->value);
		}
	}

	if (spec->check)
		spec->check(ctx, node);
}

/* ---------------------------------------------------------------- checks */

static void
check_rule_id(SchemaCtx *ctx, YNode *map)
{
	YNode	   *id = map_get(map, "id");

	if (list_has_string(ctx->rule_ids, id->value))
		schema_error(ctx, id, "Every rule id is unique within its policy.",
					 "duplicate rule id \"%s\"", id->value);
	ctx->rule_ids = lappend(ctx->rule_ids, id->value);
}

/* a ground listed twice in one rule's exemptions is a slip in the document */
static void
check_exemption(SchemaCtx *ctx, YNode *map)
{
	YNode	   *ground = map_get(map, "ground");

	if (list_has_string(ctx->seen_names, ground->value))
		schema_error(ctx, ground, "List each ground once per rule.",
					 "duplicate exemption ground \"%s\"", ground->value);
	ctx->seen_names = lappend(ctx->seen_names, ground->value);
}

static void
check_retention_rule(SchemaCtx *ctx, YNode *map)
{
	YNode	   *never = map_get(map, "never_store");
	YNode	   *minimum = map_get(map, "minimum");
	YNode	   *maximum = map_get(map, "maximum");
	YNode	   *anchor = map_get(map, "anchor");
	YNode	   *action = map_get(map, "action");
	YNode	   *principle = map_get(map, "principle");

	check_rule_id(ctx, map);
	if (principle != NULL)
	{
		if (never || minimum || maximum || anchor || action)
			schema_error(ctx, map, "A principle rule has only id, categories, principle and source.",
						 "a retention principle cannot also have a period, anchor, action or never_store");
		return;
	}
	if (never != NULL && strcmp(never->value, "true") == 0)
	{
		if (minimum || maximum || anchor || action)
			schema_error(ctx, map, "A never_store rule has only id, categories, never_store and source.",
						 "a never_store rule cannot also have a period, anchor or action");
		return;
	}
	if (minimum == NULL && maximum == NULL)
		schema_error(ctx, map, "Give never_store: true, a principle, or an anchor with minimum and/or maximum.",
					 "a retention rule needs never_store, minimum or maximum");
	if (anchor == NULL)
		schema_error(ctx, map, "The anchor is the event that starts the clock, such as created or account_closed.",
					 "a retention rule with a period needs an anchor");
	if (maximum != NULL && action == NULL)
		schema_error(ctx, map, "Say what happens when the maximum is reached: block, anonymize or delete.",
					 "a retention rule with a maximum needs an action");
	if (maximum == NULL && action != NULL)
		schema_error(ctx, action, "An action applies when the maximum period ends.",
					 "a retention rule with an action needs a maximum");
}

static void
check_sharing_rule(SchemaCtx *ctx, YNode *map)
{
	check_rule_id(ctx, map);
	if (map_get(map, "recipients") == NULL && map_get(map, "recipient_classes") == NULL)
		schema_error(ctx, map, "Name the recipients, the recipient classes, or both.",
					 "a sharing rule needs recipients or recipient_classes");
}

static void
check_category_def(SchemaCtx *ctx, YNode *map)
{
	YNode	   *name = map_get(map, "name");
	int			len = name->len;

	/* the parent must be known, so that the registry stays a tree */
	while (len > 0 && name->value[len - 1] != '.')
		len--;
	if (len > 0)
	{
		char	   *parent = pnstrdup(name->value, len - 1);

		if (!list_has_string(ctx->taxonomy, parent) &&
			!list_has_string(ctx->categories, parent))
			schema_error(ctx, name, "Define the parent category first.",
						 "category \"%s\" has no known parent \"%s\"", name->value, parent);
	}
	if (!ctx->is_taxonomy || !list_has_string(ctx->categories, name->value))
		ctx->categories = lappend(ctx->categories, name->value);
}

/* ---------------------------------------------------------------- entry */

/*
 * Collect the names a section declares, before validation, so that rules
 * may refer to recipients or parameters declared further down.
 */
static List *
collect_names(YNode *root, const char *section)
{
	YNode	   *seq = map_get(root, section);
	List	   *names = NIL;
	int			i;

	if (seq == NULL || seq->kind != YN_SEQ)
		return NIL;
	for (i = 0; i < seq->n; i++)
	{
		YNode	   *name;

		if (seq->items[i]->kind != YN_MAP)
			continue;
		name = map_get(seq->items[i], "name");
		if (name != NULL && name->kind == YN_SCALAR)
			names = lappend(names, name->value);
	}
	return names;
}

/*
 * policy_validate
 *		Check a parsed document against the policy schema (or, with
 *		is_taxonomy, the taxonomy schema) and return it as JSON text.
 *		"taxonomy" lists the categories of the base taxonomy.
 */
char *
policy_validate(YNode *root, const char *origin, bool is_taxonomy, List *taxonomy)
{
	SchemaCtx	ctx;

	memset(&ctx, 0, sizeof(ctx));
	ctx.origin = origin;
	ctx.is_taxonomy = is_taxonomy;
	ctx.taxonomy = taxonomy;
	initStringInfo(&ctx.out);

	if (root->kind != YN_MAP)
		schema_error(&ctx, root, NULL, "expected %s (a mapping) at the top level but found %s",
					 is_taxonomy ? "the taxonomy" : "a policy", node_kind_name(root));
	if (!is_taxonomy)
	{
		ctx.jurisdictions = collect_names(root, "jurisdictions");
		ctx.recipients = collect_names(root, "recipients");
		ctx.parameters = collect_names(root, "parameters");
		ctx.categories = NIL;	/* filled in order by check_category_def */
		/* a category may be used before its definition in the file */
		{
			List	   *defs = collect_names(root, "categories");
			ListCell   *lc;

			foreach(lc, defs)
			{
				char	   *msg;
				int			pos;
				const char *c = lfirst(lc);

				if (category_parse(c, strlen(c), &msg, &pos))
					ctx.taxonomy = lappend(list_copy(ctx.taxonomy), (void *) c);
			}
		}
	}
	schema_walk_map(&ctx, root, is_taxonomy ? &taxonomy_spec : &policy_spec);
	return ctx.out.data;
}
