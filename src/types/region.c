/*-------------------------------------------------------------------------
 *
 * region.c
 *	  The governance.region type: an ISO 3166-1 alpha-2 country code,
 *	  optionally followed by an ISO 3166-2 subdivision ("CN", "CN-SH",
 *	  "US-CA").  Input is normalised to upper case and the country must be
 *	  an officially assigned one (iso3166.c); subdivisions are checked for
 *	  form only, because their list changes far more often than countries.
 *
 * Stored as a varlena holding the normalised text.  '-' sorts below letters
 * and digits, so byte order keeps a country's subdivisions right after it.
 * Containment is by prefix: 'CN' @> 'CN-SH'.  Note that 'CN' does not
 * contain 'HK': Hong Kong, Macao and Taiwan have codes of their own, and
 * jurisdictions (policy files) say how they relate to mainland China.
 *
 *-------------------------------------------------------------------------
 */
#include "pg_governance.h"

#include "common/hashfn.h"
#include "libpq/pqformat.h"
#include "utils/builtins.h"

PG_FUNCTION_INFO_V1(region_in);
PG_FUNCTION_INFO_V1(region_out);
PG_FUNCTION_INFO_V1(region_recv);
PG_FUNCTION_INFO_V1(region_send);
PG_FUNCTION_INFO_V1(region_eq);
PG_FUNCTION_INFO_V1(region_ne);
PG_FUNCTION_INFO_V1(region_lt);
PG_FUNCTION_INFO_V1(region_le);
PG_FUNCTION_INFO_V1(region_gt);
PG_FUNCTION_INFO_V1(region_ge);
PG_FUNCTION_INFO_V1(region_cmp);
PG_FUNCTION_INFO_V1(region_hash);
PG_FUNCTION_INFO_V1(region_hash_extended);
PG_FUNCTION_INFO_V1(region_contains_op);
PG_FUNCTION_INFO_V1(region_contained_op);
PG_FUNCTION_INFO_V1(region_country);

static inline bool
is_ascii_alpha(char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z');
}

static inline bool
is_ascii_alnum(char c)
{
	return is_ascii_alpha(c) || (c >= '0' && c <= '9');
}

static char *
describe_char(const char *p)
{
	if (*p == '\0')
		return pstrdup("end of input");
	return psprintf("\"%s\"", pnstrdup(p, pg_mblen(p)));
}

/*
 * region_normalize
 *		Validate str and write its upper-case form (NUL-terminated, at most
 *		REGION_MAX_LEN characters) into out.  On failure return false with a
 *		palloc'd explanation and the 1-based position at fault.
 */
bool
region_normalize(const char *str, char *out, char **errmsg_out, int *errpos_out)
{
	int			i;
	int			sublen;

	for (i = 0; i < 2; i++)
	{
		if (!is_ascii_alpha(str[i]))
		{
			*errmsg_out = psprintf("Expected a two-letter ISO 3166-1 country code but found %s.",
								   describe_char(str + i));
			*errpos_out = i + 1;
			return false;
		}
		out[i] = pg_ascii_toupper((unsigned char) str[i]);
	}
	out[2] = '\0';
	if (!iso3166_country_exists(out))
	{
		*errmsg_out = psprintf("\"%s\" is not an ISO 3166-1 alpha-2 country code.", out);
		*errpos_out = 1;
		return false;
	}
	if (str[2] == '\0')
		return true;
	if (str[2] != '-')
	{
		*errmsg_out = psprintf("Expected \"-\" and an ISO 3166-2 subdivision, or end of input, but found %s.",
							   describe_char(str + 2));
		*errpos_out = 3;
		return false;
	}
	out[2] = '-';
	for (sublen = 0; str[3 + sublen] != '\0'; sublen++)
	{
		const char *p = str + 3 + sublen;

		if (sublen == 3 || !is_ascii_alnum(*p))
		{
			*errmsg_out = (sublen == 3)
				? pstrdup("An ISO 3166-2 subdivision code has at most 3 letters or digits.")
				: psprintf("Expected a letter or digit of the subdivision code but found %s.",
						   describe_char(p));
			*errpos_out = 4 + sublen;
			return false;
		}
		out[3 + sublen] = pg_ascii_toupper((unsigned char) *p);
	}
	if (sublen == 0)
	{
		*errmsg_out = pstrdup("Expected 1 to 3 letters or digits of an ISO 3166-2 subdivision after \"-\".");
		*errpos_out = 4;
		return false;
	}
	out[3 + sublen] = '\0';
	if (strncmp(out, "CN-", 3) == 0 &&
		!iso3166_cn_subdivision_exists(out + 3))
	{
		*errmsg_out = psprintf("\"%s\" is not an ISO 3166-2:CN subdivision (letter codes such as CN-SH, CN-GD, CN-HK; the numeric codes were withdrawn in 2017).",
							   out);
		*errpos_out = 4;
		return false;
	}
	return true;
}

/*
 * region_contains
 *		Is "inner" the region "outer" itself or a subdivision of it?
 */
bool
region_contains(const char *outer, const char *inner)
{
	size_t		olen = strlen(outer);

	if (strncmp(outer, inner, olen) != 0)
		return false;
	return inner[olen] == '\0' || inner[olen] == '-';
}

static text *
region_from_cstring(const char *str)
{
	char		norm[REGION_MAX_LEN + 1];
	char	   *msg;
	int			pos;

	if (!region_normalize(str, norm, &msg, &pos))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_TEXT_REPRESENTATION),
				 errmsg("invalid input syntax for type governance.region: \"%s\"", str),
				 errdetail("At position %d: %s", pos, msg),
				 errhint("A region is an ISO 3166-1 alpha-2 country code, optionally followed by an ISO 3166-2 subdivision, such as \"CN\" or \"CN-SH\".")));
	return cstring_to_text(norm);
}

Datum
region_in(PG_FUNCTION_ARGS)
{
	PG_RETURN_TEXT_P(region_from_cstring(PG_GETARG_CSTRING(0)));
}

Datum
region_out(PG_FUNCTION_ARGS)
{
	PG_RETURN_CSTRING(text_to_cstring(PG_GETARG_TEXT_PP(0)));
}

Datum
region_recv(PG_FUNCTION_ARGS)
{
	StringInfo	buf = (StringInfo) PG_GETARG_POINTER(0);
	int			nbytes;
	char	   *str = pq_getmsgtext(buf, buf->len - buf->cursor, &nbytes);

	PG_RETURN_TEXT_P(region_from_cstring(str));
}

Datum
region_send(PG_FUNCTION_ARGS)
{
	text	   *r = PG_GETARG_TEXT_PP(0);
	StringInfoData buf;

	pq_begintypsend(&buf);
	pq_sendtext(&buf, VARDATA_ANY(r), VARSIZE_ANY_EXHDR(r));
	PG_RETURN_BYTEA_P(pq_endtypsend(&buf));
}

static int
region_compare(text *a, text *b)
{
	int			alen = VARSIZE_ANY_EXHDR(a);
	int			blen = VARSIZE_ANY_EXHDR(b);
	int			r = memcmp(VARDATA_ANY(a), VARDATA_ANY(b), Min(alen, blen));

	if (r != 0)
		return r;
	return (alen > blen) - (alen < blen);
}

#define REGION_CMP_FUNC(name, expr) \
Datum \
name(PG_FUNCTION_ARGS) \
{ \
	int			r = region_compare(PG_GETARG_TEXT_PP(0), PG_GETARG_TEXT_PP(1)); \
	PG_RETURN_BOOL(expr); \
}

REGION_CMP_FUNC(region_eq, r == 0)
REGION_CMP_FUNC(region_ne, r != 0)
REGION_CMP_FUNC(region_lt, r < 0)
REGION_CMP_FUNC(region_le, r <= 0)
REGION_CMP_FUNC(region_gt, r > 0)
REGION_CMP_FUNC(region_ge, r >= 0)

Datum
region_cmp(PG_FUNCTION_ARGS)
{
	int			r = region_compare(PG_GETARG_TEXT_PP(0), PG_GETARG_TEXT_PP(1));

	PG_RETURN_INT32(r < 0 ? -1 : (r > 0 ? 1 : 0));
}

Datum
region_hash(PG_FUNCTION_ARGS)
{
	text	   *a = PG_GETARG_TEXT_PP(0);

	return hash_any((unsigned char *) VARDATA_ANY(a), VARSIZE_ANY_EXHDR(a));
}

Datum
region_hash_extended(PG_FUNCTION_ARGS)
{
	text	   *a = PG_GETARG_TEXT_PP(0);

	return hash_any_extended((unsigned char *) VARDATA_ANY(a),
							 VARSIZE_ANY_EXHDR(a), PG_GETARG_INT64(1));
}

/* a @> b: b is a or one of its subdivisions */
Datum
region_contains_op(PG_FUNCTION_ARGS)
{
	PG_RETURN_BOOL(region_contains(text_to_cstring(PG_GETARG_TEXT_PP(0)),
								   text_to_cstring(PG_GETARG_TEXT_PP(1))));
}

/* a <@ b: a is b or one of its subdivisions */
Datum
region_contained_op(PG_FUNCTION_ARGS)
{
	PG_RETURN_BOOL(region_contains(text_to_cstring(PG_GETARG_TEXT_PP(1)),
								   text_to_cstring(PG_GETARG_TEXT_PP(0))));
}

/* country(region): the ISO 3166-1 part, 'CN' for 'CN-SH' */
Datum
region_country(PG_FUNCTION_ARGS)
{
	text	   *a = PG_GETARG_TEXT_PP(0);

	PG_RETURN_TEXT_P(cstring_to_text_with_len(VARDATA_ANY(a), 2));
}
