/*-------------------------------------------------------------------------
 *
 * category.c
 *	  The governance.category type: a data category written as a dotted
 *	  lowercase path ("personal.contact.phone").
 *
 * A category is stored as a varlena holding its text.  Because '.' sorts
 * below every character a segment may contain ([a-z0-9_]), plain byte order
 * of the text is also the hierarchical order (a parent sorts right before
 * its descendants), so comparison and hashing work on the bytes directly.
 *
 *-------------------------------------------------------------------------
 */
#include "pg_governance.h"

#include "common/hashfn.h"
#include "libpq/pqformat.h"
#include "utils/builtins.h"
#include "utils/varlena.h"

PG_FUNCTION_INFO_V1(category_in);
PG_FUNCTION_INFO_V1(category_out);
PG_FUNCTION_INFO_V1(category_recv);
PG_FUNCTION_INFO_V1(category_send);
PG_FUNCTION_INFO_V1(category_eq);
PG_FUNCTION_INFO_V1(category_ne);
PG_FUNCTION_INFO_V1(category_lt);
PG_FUNCTION_INFO_V1(category_le);
PG_FUNCTION_INFO_V1(category_gt);
PG_FUNCTION_INFO_V1(category_ge);
PG_FUNCTION_INFO_V1(category_cmp);
PG_FUNCTION_INFO_V1(category_hash);
PG_FUNCTION_INFO_V1(category_hash_extended);
PG_FUNCTION_INFO_V1(category_ancestor_of);
PG_FUNCTION_INFO_V1(category_descendant_of);
PG_FUNCTION_INFO_V1(category_parent);
PG_FUNCTION_INFO_V1(category_depth);

/*
 * category_parse
 *		Check that str[0..len) is a valid category.  On failure return false
 *		with a palloc'd explanation and the 1-based byte position at fault.
 */
bool
category_parse(const char *str, int len, char **errmsg_out, int *errpos_out)
{
	int			depth = 1;
	int			seglen = 0;
	int			i;

	if (len == 0)
	{
		*errmsg_out = pstrdup("A category cannot be empty.");
		*errpos_out = 1;
		return false;
	}
	if (len > CATEGORY_MAX_LEN)
	{
		*errmsg_out = psprintf("A category is at most %d characters long; this one has %d.",
							   CATEGORY_MAX_LEN, len);
		*errpos_out = CATEGORY_MAX_LEN + 1;
		return false;
	}

	for (i = 0; i < len; i++)
	{
		unsigned char c = (unsigned char) str[i];

		if (c == '.')
		{
			if (seglen == 0)
			{
				*errmsg_out = pstrdup("Expected a segment (a lowercase letter) but found \".\".");
				*errpos_out = i + 1;
				return false;
			}
			if (++depth > CATEGORY_MAX_DEPTH)
			{
				*errmsg_out = psprintf("A category has at most %d levels.",
									   CATEGORY_MAX_DEPTH);
				*errpos_out = i + 1;
				return false;
			}
			seglen = 0;
			continue;
		}

		if (seglen == 0 ? !(c >= 'a' && c <= 'z')
			: !((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_'))
		{
			*errmsg_out = (seglen == 0)
				? psprintf("Expected a lowercase letter to start a segment but found \"%s\".",
						   pnstrdup(str + i, pg_mblen(str + i)))
				: psprintf("Expected a lowercase letter, digit, \"_\" or \".\" but found \"%s\".",
						   pnstrdup(str + i, pg_mblen(str + i)));
			*errpos_out = i + 1;
			return false;
		}
		if (++seglen > CATEGORY_MAX_SEGMENT)
		{
			*errmsg_out = psprintf("A segment is at most %d characters long.",
								   CATEGORY_MAX_SEGMENT);
			*errpos_out = i + 1;
			return false;
		}
	}

	if (seglen == 0)
	{
		*errmsg_out = pstrdup("A category cannot end with \".\".");
		*errpos_out = len;
		return false;
	}
	return true;
}

/*
 * category_contains
 *		Is "desc" the category "ancestor" itself or one of its descendants?
 */
bool
category_contains(const char *ancestor, int alen, const char *desc, int dlen)
{
	if (alen > dlen || memcmp(ancestor, desc, alen) != 0)
		return false;
	return alen == dlen || desc[alen] == '.';
}

static text *
category_from_cstring(const char *str, int len)
{
	char	   *msg;
	int			pos;

	if (!category_parse(str, len, &msg, &pos))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_TEXT_REPRESENTATION),
				 errmsg("invalid input syntax for type governance.category: \"%s\"",
						pnstrdup(str, len)),
				 errdetail("At position %d: %s", pos, msg),
				 errhint("A category is a dotted path of lowercase segments, such as \"personal.contact.phone\".")));
	return cstring_to_text_with_len(str, len);
}

Datum
category_in(PG_FUNCTION_ARGS)
{
	char	   *str = PG_GETARG_CSTRING(0);

	PG_RETURN_TEXT_P(category_from_cstring(str, strlen(str)));
}

Datum
category_out(PG_FUNCTION_ARGS)
{
	text	   *cat = PG_GETARG_TEXT_PP(0);

	PG_RETURN_CSTRING(text_to_cstring(cat));
}

Datum
category_recv(PG_FUNCTION_ARGS)
{
	StringInfo	buf = (StringInfo) PG_GETARG_POINTER(0);
	int			nbytes;
	char	   *str = pq_getmsgtext(buf, buf->len - buf->cursor, &nbytes);

	PG_RETURN_TEXT_P(category_from_cstring(str, nbytes));
}

Datum
category_send(PG_FUNCTION_ARGS)
{
	text	   *cat = PG_GETARG_TEXT_PP(0);
	StringInfoData buf;

	pq_begintypsend(&buf);
	pq_sendtext(&buf, VARDATA_ANY(cat), VARSIZE_ANY_EXHDR(cat));
	PG_RETURN_BYTEA_P(pq_endtypsend(&buf));
}

static int
category_compare(text *a, text *b)
{
	int			alen = VARSIZE_ANY_EXHDR(a);
	int			blen = VARSIZE_ANY_EXHDR(b);
	int			r = memcmp(VARDATA_ANY(a), VARDATA_ANY(b), Min(alen, blen));

	if (r != 0)
		return r;
	return (alen > blen) - (alen < blen);
}

#define CATEGORY_CMP_FUNC(name, expr) \
Datum \
name(PG_FUNCTION_ARGS) \
{ \
	text	   *a = PG_GETARG_TEXT_PP(0); \
	text	   *b = PG_GETARG_TEXT_PP(1); \
	int			r = category_compare(a, b); \
	PG_FREE_IF_COPY(a, 0); \
	PG_FREE_IF_COPY(b, 1); \
	PG_RETURN_BOOL(expr); \
}

CATEGORY_CMP_FUNC(category_eq, r == 0)
CATEGORY_CMP_FUNC(category_ne, r != 0)
CATEGORY_CMP_FUNC(category_lt, r < 0)
CATEGORY_CMP_FUNC(category_le, r <= 0)
CATEGORY_CMP_FUNC(category_gt, r > 0)
CATEGORY_CMP_FUNC(category_ge, r >= 0)

Datum
category_cmp(PG_FUNCTION_ARGS)
{
	text	   *a = PG_GETARG_TEXT_PP(0);
	text	   *b = PG_GETARG_TEXT_PP(1);
	int			r = category_compare(a, b);

	PG_FREE_IF_COPY(a, 0);
	PG_FREE_IF_COPY(b, 1);
	PG_RETURN_INT32(r < 0 ? -1 : (r > 0 ? 1 : 0));
}

Datum
category_hash(PG_FUNCTION_ARGS)
{
	text	   *a = PG_GETARG_TEXT_PP(0);
	Datum		h = hash_any((unsigned char *) VARDATA_ANY(a), VARSIZE_ANY_EXHDR(a));

	PG_FREE_IF_COPY(a, 0);
	return h;
}

Datum
category_hash_extended(PG_FUNCTION_ARGS)
{
	text	   *a = PG_GETARG_TEXT_PP(0);
	Datum		h = hash_any_extended((unsigned char *) VARDATA_ANY(a),
									  VARSIZE_ANY_EXHDR(a), PG_GETARG_INT64(1));

	PG_FREE_IF_COPY(a, 0);
	return h;
}

/* a @> b: a is b or an ancestor of b */
Datum
category_ancestor_of(PG_FUNCTION_ARGS)
{
	text	   *a = PG_GETARG_TEXT_PP(0);
	text	   *b = PG_GETARG_TEXT_PP(1);

	PG_RETURN_BOOL(category_contains(VARDATA_ANY(a), VARSIZE_ANY_EXHDR(a),
									 VARDATA_ANY(b), VARSIZE_ANY_EXHDR(b)));
}

/* a <@ b: a is b or a descendant of b */
Datum
category_descendant_of(PG_FUNCTION_ARGS)
{
	text	   *a = PG_GETARG_TEXT_PP(0);
	text	   *b = PG_GETARG_TEXT_PP(1);

	PG_RETURN_BOOL(category_contains(VARDATA_ANY(b), VARSIZE_ANY_EXHDR(b),
									 VARDATA_ANY(a), VARSIZE_ANY_EXHDR(a)));
}

/* parent(category): the category one level up, NULL for a top-level one */
Datum
category_parent(PG_FUNCTION_ARGS)
{
	text	   *a = PG_GETARG_TEXT_PP(0);
	const char *s = VARDATA_ANY(a);
	int			len = VARSIZE_ANY_EXHDR(a);

	while (len > 0 && s[len - 1] != '.')
		len--;
	if (len == 0)
		PG_RETURN_NULL();
	PG_RETURN_TEXT_P(cstring_to_text_with_len(s, len - 1));
}

/* depth(category): the number of segments, 1 for a top-level category */
Datum
category_depth(PG_FUNCTION_ARGS)
{
	text	   *a = PG_GETARG_TEXT_PP(0);
	const char *s = VARDATA_ANY(a);
	int			len = VARSIZE_ANY_EXHDR(a);
	int			depth = 1;
	int			i;

	for (i = 0; i < len; i++)
		if (s[i] == '.')
			depth++;
	PG_RETURN_INT32(depth);
}
