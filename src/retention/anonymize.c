/*-------------------------------------------------------------------------
 *
 * anonymize.c
 *	  Anonymization of one value at a time, for the retention action
 *	  "anonymize": governance.anonymize(value, category, typmod, seed).
 *
 *	  The result is a deterministic function of (value, category, seed):
 *	  every byte it draws comes from HMAC-SHA-256 keyed with the seed, over
 *	  the category and the value.  The caller (run.c) builds the seed from a
 *	  secret nonce of the run and the row's ctid, so the result cannot be
 *	  traced back to the value without the nonce, and two rows draw
 *	  different bytes.  Each category keeps the shape its columns are
 *	  usually checked against (a mainland mobile number stays one, an ID
 *	  number keeps a valid check digit, an e-mail keeps its domain), and
 *	  the result always fits the column's typmod.  docs/anonymization.md
 *	  lists the rules; sql/anonymize.sql tests them.
 *
 *	  This file owns the rules, the byte stream they draw from and the
 *	  fitting to typmods; choosing rows, seeds and retries is run.c's.
 *
 *-------------------------------------------------------------------------
 */
#include "pg_governance.h"

#include <ctype.h>
#include <float.h>
#include <math.h>
#include <sys/socket.h>

#include "catalog/pg_type.h"
#include "common/hmac.h"
#include "common/sha2.h"
#include "mb/pg_wchar.h"
#include "utils/builtins.h"
#include "utils/date.h"
#include "utils/datetime.h"
#include "utils/inet.h"
#include "utils/jsonb.h"
#include "utils/lsyscache.h"
#include "utils/numeric.h"
#include "utils/timestamp.h"
#include "utils/uuid.h"

PG_FUNCTION_INFO_V1(governance_anonymize);

/* what a text value is anonymized as, from its category */
typedef enum AnonShape
{
	SHAPE_GENERIC,
	SHAPE_PHONE,
	SHAPE_ID_NUMBER,
	SHAPE_EMAIL,
	SHAPE_NAME,
	SHAPE_ADDRESS,
	SHAPE_IP,
	SHAPE_MAC,
	SHAPE_CARD,
	SHAPE_AMOUNT
} AnonShape;

/* categories with a shape of their own; descendants share it */
static const struct
{
	const char *category;
	AnonShape	shape;
}			anon_shapes[] =
{
	{"personal.contact.phone", SHAPE_PHONE},
	{"personal.identity.id_number", SHAPE_ID_NUMBER},
	{"personal.contact.email", SHAPE_EMAIL},
	{"personal.name", SHAPE_NAME},
	{"personal.contact.address", SHAPE_ADDRESS},
	{"payment.billing_address", SHAPE_ADDRESS},
	{"device.ip_address", SHAPE_IP},
	{"device.mac_address", SHAPE_MAC},
	{"payment.instrument_number", SHAPE_CARD},
	{"payment.bank_account", SHAPE_CARD},
	{"payment.transaction", SHAPE_AMOUNT},
};

#define ANON_PREFIX			"anon-"
#define ANON_PREFIX_LEN		5
#define ANON_HEX_GENERIC	16		/* 64 bits */
#define ANON_HEX_EMAIL		10		/* 40 bits, as in anon-3f9a1c2e7b@... */
#define ANON_HEX_TAG		8		/* names, addresses, JSON strings */
#define ANON_HEX_MIN		4		/* fewer, and the prefix is dropped */

/* the message is versioned, so that a later rule change cannot collide */
#define ANON_CONTEXT		"pg_governance anonymize v1"

/*
 * A stream of pseudo-random bytes: PRK = HMAC(seed, context, category,
 * value), then blocks HMAC(PRK, counter) as needed, in the manner of HKDF's
 * expand step.
 */
typedef struct AnonStream
{
	uint8		prk[PG_SHA256_DIGEST_LENGTH];
	uint32		counter;
	uint8		block[PG_SHA256_DIGEST_LENGTH];
	int			used;
} AnonStream;

static const char hexdigits[] = "0123456789abcdef";

/* ------------------------------------------------------------------------
 * The byte stream
 * ------------------------------------------------------------------------
 */

static void
anon_hmac(const uint8 *key, size_t keylen, const uint8 *const *parts,
		  const size_t *lens, int nparts, uint8 *out)
{
	pg_hmac_ctx *ctx = pg_hmac_create(PG_SHA256);
	int			i;

	if (ctx == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_OUT_OF_MEMORY),
				 errmsg("out of memory")));
	if (pg_hmac_init(ctx, key, keylen) < 0)
		elog(ERROR, "could not initialize HMAC: %s", pg_hmac_error(ctx));
	for (i = 0; i < nparts; i++)
		if (pg_hmac_update(ctx, parts[i], lens[i]) < 0)
			elog(ERROR, "could not compute HMAC: %s", pg_hmac_error(ctx));
	if (pg_hmac_final(ctx, out, PG_SHA256_DIGEST_LENGTH) < 0)
		elog(ERROR, "could not finish HMAC: %s", pg_hmac_error(ctx));
	pg_hmac_free(ctx);
}

static void
anon_stream_init(AnonStream *s, const char *seed, int seedlen,
				 const char *cat, int catlen, const uint8 *value, size_t len)
{
	static const uint8 zero = 0;
	const uint8 *parts[4];
	size_t		lens[4];

	/* NUL separators: neither the context nor a category contains one */
	parts[0] = (const uint8 *) ANON_CONTEXT;
	lens[0] = sizeof(ANON_CONTEXT);
	parts[1] = (const uint8 *) cat;
	lens[1] = catlen;
	parts[2] = &zero;
	lens[2] = 1;
	parts[3] = value;
	lens[3] = len;
	anon_hmac((const uint8 *) seed, seedlen, parts, lens, 4, s->prk);
	s->counter = 0;
	s->used = PG_SHA256_DIGEST_LENGTH;
}

static uint8
anon_byte(AnonStream *s)
{
	if (s->used == PG_SHA256_DIGEST_LENGTH)
	{
		uint8		ctr[4];
		const uint8 *parts[1] = {ctr};
		size_t		lens[1] = {sizeof(ctr)};

		ctr[0] = (uint8) (s->counter >> 24);
		ctr[1] = (uint8) (s->counter >> 16);
		ctr[2] = (uint8) (s->counter >> 8);
		ctr[3] = (uint8) s->counter;
		s->counter++;
		anon_hmac(s->prk, sizeof(s->prk), parts, lens, 1, s->block);
		s->used = 0;
	}
	return s->block[s->used++];
}

static uint64
anon_uint64(AnonStream *s)
{
	uint64		v = 0;
	int			i;

	for (i = 0; i < 8; i++)
		v = (v << 8) | anon_byte(s);
	return v;
}

/* uniform in [0, n), n > 0, without modulo bias */
static uint64
anon_below(AnonStream *s, uint64 n)
{
	uint64		limit = PG_UINT64_MAX - PG_UINT64_MAX % n;
	uint64		v;

	do
		v = anon_uint64(s);
	while (v >= limit);
	return v % n;
}

static char
anon_digit(AnonStream *s)
{
	return (char) ('0' + anon_below(s, 10));
}

static void
anon_hex(AnonStream *s, StringInfo buf, int n)
{
	while (n > 0)
	{
		uint8		b = anon_byte(s);

		appendStringInfoChar(buf, hexdigits[b >> 4]);
		if (--n > 0)
		{
			appendStringInfoChar(buf, hexdigits[b & 0x0f]);
			n--;
		}
	}
}

/*
 * The bytes the stream is keyed on: a varlena's data, a fixed-length
 * value's bytes, a pass-by-value one in big-endian order (the same on
 * every platform).
 */
static const uint8 *
anon_value_bytes(Oid typid, Datum value, size_t *len)
{
	int16		typlen;
	bool		typbyval;

	get_typlenbyval(typid, &typlen, &typbyval);
	if (typlen == -1)
	{
		struct varlena *v = PG_DETOAST_DATUM_PACKED(value);

		*len = VARSIZE_ANY_EXHDR(v);
		return (const uint8 *) VARDATA_ANY(v);
	}
	if (typlen == -2)
	{
		*len = strlen(DatumGetCString(value));
		return (const uint8 *) DatumGetCString(value);
	}
	if (typbyval)
	{
		uint8	   *out = palloc(typlen);
		uint64		v = (uint64) value;
		int			i;

		for (i = typlen - 1; i >= 0; i--, v >>= 8)
			out[i] = (uint8) v;
		*len = typlen;
		return out;
	}
	*len = typlen;
	return (const uint8 *) DatumGetPointer(value);
}

/* ------------------------------------------------------------------------
 * Text: fitting to a length
 * ------------------------------------------------------------------------
 */

static int
anon_chars(const char *s, int len)
{
	return pg_mbstrlen_with_len(s, len);
}

/*
 * prefix + hex, at most limit characters (-1: no limit): as many hex digits
 * as wanted and fit; with fewer than ANON_HEX_MIN room, hex alone.
 */
static void
anon_tag(AnonStream *s, StringInfo buf, const char *prefix, int want,
		 int limit)
{
	int			plen = anon_chars(prefix, strlen(prefix));

	if (limit < 0 || limit >= plen + want)
	{
		appendStringInfoString(buf, prefix);
		anon_hex(s, buf, want);
	}
	else if (limit >= plen + ANON_HEX_MIN)
	{
		appendStringInfoString(buf, prefix);
		anon_hex(s, buf, limit - plen);
	}
	else
		anon_hex(s, buf, Min(want, limit));
}

static void
anon_text_generic(AnonStream *s, StringInfo buf, int limit)
{
	anon_tag(s, buf, ANON_PREFIX, ANON_HEX_GENERIC, limit);
}

/* ------------------------------------------------------------------------
 * Text: digit strings (phone, card, ID number)
 * ------------------------------------------------------------------------
 */

static int
anon_count_digits(const char *str)
{
	int			n = 0;

	for (; *str; str++)
		if (*str >= '0' && *str <= '9')
			n++;
	return n;
}

/*
 * Replace the digits of str, in place, except the first head and the last
 * tail; if there are too few for that, every digit.  Other characters
 * (spaces, dashes, "+") stay where they are.
 */
static void
anon_replace_digits(AnonStream *s, char *str, int head, int tail)
{
	int			n = anon_count_digits(str);
	int			i = 0;

	if (n < head + tail + 1)
		head = tail = 0;
	for (; *str; str++)
	{
		if (*str < '0' || *str > '9')
			continue;
		if (i >= head && i < n - tail)
			*str = anon_digit(s);
		i++;
	}
}

/* the idx-th digit of str (0-based), or NULL */
static char *
anon_nth_digit(char *str, int idx)
{
	for (; *str; str++)
		if (*str >= '0' && *str <= '9' && idx-- == 0)
			return str;
	return NULL;
}

/*
 * A mainland mobile number, 1[3-9] and nine more digits, perhaps after
 * 86 or 0086, keeps operator prefix and last four; anything else keeps
 * its first three and last four digits.
 */
static bool
anon_phone(AnonStream *s, char *str)
{
	char		digits[16];
	int			n = 0;
	int			cc = -1;
	const char *p;

	for (p = str; *p; p++)
		if (*p >= '0' && *p <= '9')
		{
			if (n < (int) sizeof(digits))
				digits[n] = *p;
			n++;
		}
	if (n == 0)
		return false;
	if (n == 11)
		cc = 0;
	else if (n == 13 && strncmp(digits, "86", 2) == 0)
		cc = 2;
	else if (n == 15 && strncmp(digits, "0086", 4) == 0)
		cc = 4;
	if (cc >= 0 && digits[cc] == '1' && digits[cc + 1] >= '3')
		anon_replace_digits(s, str, cc + 3, 4);
	else
		anon_replace_digits(s, str, 3, 4);
	return true;
}

static bool
anon_luhn_valid(const char *str)
{
	int			n = anon_count_digits(str);
	int			sum = 0;
	int			pos = 0;
	const char *p;

	if (n < 2)
		return false;
	for (p = str + strlen(str) - 1; p >= str; p--)
	{
		int			d;

		if (*p < '0' || *p > '9')
			continue;
		d = *p - '0';
		if (pos++ % 2 == 1)
			d = d * 2 > 9 ? d * 2 - 9 : d * 2;
		sum += d;
	}
	return sum % 10 == 0;
}

/*
 * A card or account number keeps its first six (issuer) and last four
 * digits; one that passed the Luhn check still passes it, by choosing the
 * last replaced digit.
 */
static bool
anon_card(AnonStream *s, char *str)
{
	int			n = anon_count_digits(str);
	bool		luhn = anon_luhn_valid(str);
	char	   *fix;
	int			d;

	if (n == 0)
		return false;
	anon_replace_digits(s, str, 6, 4);
	if (!luhn || n < 11)
		return true;
	fix = anon_nth_digit(str, n - 5);
	for (d = 0; d < 10; d++)
	{
		*fix = (char) ('0' + d);
		if (anon_luhn_valid(str))
			break;
	}
	return true;
}

/* month and day of a day of a common year, 0..364 */
static void
anon_month_day(int doy, int *month, int *day)
{
	static const int mdays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
	int			m = 0;

	while (doy >= mdays[m])
		doy -= mdays[m++];
	*month = m + 1;
	*day = doy + 1;
}

/* ISO 7064 MOD 11-2 check character of the first 17 digits */
static char
anon_id_check(const char *id)
{
	static const int weights[] = {7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2};
	int			sum = 0;
	int			i;

	for (i = 0; i < 17; i++)
		sum += (id[i] - '0') * weights[i];
	return "10X98765432"[sum % 11];
}

/*
 * A resident ID number: 18 characters (region 6, birth date 8, sequence 3,
 * check) or the old 15 digits (region 6, birth date 6, sequence 3).  The
 * region and the birth year stay; month and day (a date of a common year,
 * so valid in any year), the sequence and the check character are new.
 */
static bool
anon_id_number(AnonStream *s, char *str)
{
	int			len = strlen(str);
	int			datepos;
	int			i;
	int			month;
	int			day;

	for (i = 0; i < len; i++)
		if ((str[i] < '0' || str[i] > '9') &&
			!(len == 18 && i == 17 && (str[i] == 'X' || str[i] == 'x')))
			return false;
	if (len == 18)
		datepos = 10;
	else if (len == 15)
		datepos = 8;
	else
		return false;

	anon_month_day((int) anon_below(s, 365), &month, &day);
	str[datepos] = (char) ('0' + month / 10);
	str[datepos + 1] = (char) ('0' + month % 10);
	str[datepos + 2] = (char) ('0' + day / 10);
	str[datepos + 3] = (char) ('0' + day % 10);
	for (i = datepos + 4; i < datepos + 7; i++)
		str[i] = anon_digit(s);
	if (len == 18)
	{
		char		check = anon_id_check(str);

		str[17] = (check == 'X' && str[17] == 'x') ? 'x' : check;
	}
	return true;
}

/* ------------------------------------------------------------------------
 * Text: e-mail, name, address, network addresses
 * ------------------------------------------------------------------------
 */

/*
 * anon-<hex>@domain.  Shorter hex if the typmod asks; then hex alone
 * before the domain.  The original fitted, so local part + "@" + domain
 * always does; only a typmod narrower than the original gives up the
 * domain (generic text).
 */
static bool
anon_email(AnonStream *s, const char *str, StringInfo buf, int limit)
{
	const char *at = strrchr(str, '@');
	int			dchars;
	int			room;

	if (at == NULL || at == str || at[1] == '\0')
		return false;
	dchars = anon_chars(at, strlen(at));	/* with the "@" */
	room = limit < 0 ? -1 : limit - dchars;
	if (room >= 0 && room < 1)
		return false;
	anon_tag(s, buf, ANON_PREFIX, ANON_HEX_EMAIL, room);
	appendStringInfoString(buf, at);
	return true;
}

static bool
anon_is_ascii(const char *str)
{
	for (; *str; str++)
		if (IS_HIGHBIT_SET(*str))
			return false;
	return true;
}

/* 匿名<hex> for a name written in CJK (UTF-8 databases), else anon-<hex> */
static void
anon_name(AnonStream *s, const char *str, StringInfo buf, int limit)
{
	const char *prefix = ANON_PREFIX;

	if (GetDatabaseEncoding() == PG_UTF8 && !anon_is_ascii(str))
		prefix = "\xe5\x8c\xbf\xe5\x90\x8d";	/* 匿名 */
	anon_tag(s, buf, prefix, ANON_HEX_TAG, limit);
}

/* just after the first of the marks found in str, or NULL */
static const char *
anon_after_first(const char *str, const char *const *marks)
{
	const char *cut = NULL;

	for (; *marks; marks++)
	{
		const char *hit = strstr(str, *marks);

		if (hit && (cut == NULL || hit + strlen(*marks) < cut))
			cut = hit + strlen(*marks);
	}
	return cut;
}

/*
 * The coarse part of an address: a Chinese one (UTF-8 databases) up to
 * its first 市 (city), else its first 省 or 区 (province, region); any
 * other, its last comma-separated part (city or country).  A new tag with
 * the hex makes it distinct.
 */
static bool
anon_address(AnonStream *s, const char *str, StringInfo buf, int limit)
{
	const char *cut = NULL;
	const char *last;
	int			want;

	if (GetDatabaseEncoding() == PG_UTF8)
	{
		static const char *const cities[] = {"\xe5\xb8\x82", NULL};	/* 市 */
		static const char *const regions[] = {"\xe7\x9c\x81", "\xe5\x8c\xba", NULL}; /* 省 区 */

		cut = anon_after_first(str, cities);
		if (cut == NULL)
			cut = anon_after_first(str, regions);
	}
	if (cut != NULL && *cut != '\0')
	{
		int			pchars = anon_chars(str, cut - str);

		for (want = ANON_HEX_TAG; want >= ANON_HEX_MIN; want--)
			if (limit < 0 || pchars + ANON_PREFIX_LEN + want <= limit)
			{
				appendBinaryStringInfo(buf, str, cut - str);
				anon_tag(s, buf, ANON_PREFIX, want, -1);
				return true;
			}
		return false;
	}

	last = strrchr(str, ',');
	if (last == NULL)
		return false;
	last++;
	while (*last == ' ')
		last++;
	if (*last == '\0')
		return false;
	for (want = ANON_HEX_TAG; want >= ANON_HEX_MIN; want--)
		if (limit < 0 ||
			ANON_PREFIX_LEN + want + 2 + anon_chars(last, strlen(last)) <= limit)
		{
			anon_tag(s, buf, ANON_PREFIX, want, -1);
			appendStringInfo(buf, ", %s", last);
			return true;
		}
	return false;
}

/* the host part of an IPv4 address (from bit 24) or IPv6 (from bit 48) */
static void
anon_ip_bytes(AnonStream *s, unsigned char *addr, int family, int upto_bits)
{
	int			keep = family == PGSQL_AF_INET ? 3 : 6;
	int			nbytes = family == PGSQL_AF_INET ? 4 : 16;
	int			i;

	for (i = keep; i < nbytes; i++)
	{
		int			bits = upto_bits - i * 8;	/* of this byte to fill */
		uint8		b = anon_byte(s);

		if (bits >= 8)
			addr[i] = b;
		else if (bits <= 0)
			addr[i] = 0;
		else
			addr[i] = b & (uint8) (0xff << (8 - bits));
	}
}

/*
 * Dotted-quad IPv4, perhaps with /bits: the last number is replaced by
 * one with as many digits (so the length stays); IPv6 through the server's
 * own parser, keeping the /48.
 */
static bool
anon_ip_text(AnonStream *s, char *str, StringInfo buf, int limit)
{
	unsigned char addr[16];
	char		out[64];
	int			bits;
	int			parts = 0;
	int			ndig = 0;
	char	   *last = str;
	char	   *p;

	for (p = str;; p++)
	{
		if (*p >= '0' && *p <= '9')
		{
			if (ndig++ == 0)
				last = p;
			continue;
		}
		if (ndig == 0 || ndig > 3 || atoi(last) > 255)
			break;
		parts++;
		if (*p == '.' && parts < 4)
		{
			ndig = 0;
			continue;
		}
		if (parts == 4 && (*p == '\0' || *p == '/'))
		{
			int			lo = ndig == 1 ? 0 : ndig == 2 ? 10 : 100;
			int			hi = ndig == 1 ? 9 : ndig == 2 ? 99 : 255;
			char		num[4];

			snprintf(num, sizeof(num), "%d", lo + (int) anon_below(s, hi - lo + 1));
			memcpy(last, num, ndig);
			appendStringInfoString(buf, str);
			return true;
		}
		break;
	}

	if (strchr(str, ':') == NULL)
		return false;
	bits = pg_inet_net_pton(PGSQL_AF_INET6, str, addr, sizeof(addr));
	if (bits < 0)
		return false;
	anon_ip_bytes(s, addr, PGSQL_AF_INET6, 128);
	if (pg_inet_net_ntop(PGSQL_AF_INET6, addr, bits, out, sizeof(out)) == NULL)
		return false;
	if (limit >= 0 && (int) strlen(out) > limit)
		return false;
	appendStringInfoString(buf, out);
	return true;
}

/*
 * A MAC address of 12 or 16 hex digits with any of : - . between them
 * keeps its first six digits (the OUI); the case follows the original.
 */
static bool
anon_mac_text(AnonStream *s, char *str)
{
	int			n = 0;
	bool		upper = false;
	char	   *p;

	for (p = str; *p; p++)
	{
		if (isxdigit((unsigned char) *p))
		{
			n++;
			if (*p >= 'A' && *p <= 'F')
				upper = true;
		}
		else if (*p != ':' && *p != '-' && *p != '.')
			return false;
	}
	if (n != 12 && n != 16)
		return false;
	n = 0;
	for (p = str; *p; p++)
	{
		char		c;

		if (!isxdigit((unsigned char) *p) || n++ < 6)
			continue;
		c = hexdigits[anon_byte(s) & 0x0f];
		*p = upper ? pg_toupper((unsigned char) c) : c;
	}
	return true;
}

/* ------------------------------------------------------------------------
 * Numbers
 * ------------------------------------------------------------------------
 */

/*
 * A decimal number as text keeps its sign, its leading zeros, its decimal
 * point and its number of digits; the first significant digit is a new
 * 1-9, the ones after it new 0-9.  Zero gets a last digit 1-9.  Text
 * without digits (NaN, Infinity) stays.
 */
static char *
anon_decimal_text(AnonStream *s, const char *in)
{
	char	   *out = pstrdup(in);
	char	   *p;
	char	   *lastdig = NULL;
	bool		significant = false;

	for (p = out; *p; p++)
	{
		if (*p < '0' || *p > '9')
			continue;
		lastdig = p;
		if (significant)
			*p = anon_digit(s);
		else if (*p != '0')
		{
			*p = (char) ('1' + anon_below(s, 9));
			significant = true;
		}
	}
	if (!significant && lastdig != NULL)
		*lastdig = (char) ('1' + anon_below(s, 9));
	return out;
}

/*
 * An integer from the hash: with the sign of the original, anywhere in the
 * type's range (never 0); payment.transaction keeps the number of digits.
 */
static int64
anon_integer(AnonStream *s, int64 v, int64 min, int64 max, bool magnitude)
{
	bool		neg = v < 0;
	uint64		absv = neg ? (uint64) 0 - (uint64) v : (uint64) v;
	uint64		top = neg ? (uint64) 0 - (uint64) min : (uint64) max;
	uint64		lo = 1;
	uint64		hi = top;
	uint64		r;

	if (magnitude)
	{
		uint64		p = 1;

		while (absv / p >= 10)
			p *= 10;
		lo = p == 1 ? 0 : p;
		/* p * 10 - 1 overflows only past 10^19, beyond every range here */
		hi = (p > top / 10) ? top : p * 10 - 1;
	}
	r = lo + anon_below(s, hi - lo + 1);
	return neg ? (int64) ((uint64) 0 - r) : (int64) r;
}

/* a float of the same sign and power of ten */
static double
anon_float(AnonStream *s, double v, double maxval)
{
	double		a = fabs(v);
	double		p;
	double		mmax;
	double		frac;

	if (isnan(v) || isinf(v))
		return v;
	if (a == 0)
		return (double) (1 + anon_below(s, 9)) / 10;
	p = pow(10, floor(log10(a)));
	mmax = Min(10.0, maxval / p);
	frac = (double) (anon_uint64(s) >> 11) / (double) (UINT64CONST(1) << 53);
	return (v < 0 ? -1 : 1) * p * (1 + (mmax - 1) * frac);
}

static Datum
anon_numeric(AnonStream *s, Datum value, int32 typmod)
{
	char	   *in = DatumGetCString(DirectFunctionCall1(numeric_out, value));

	return DirectFunctionCall3(numeric_in,
							   CStringGetDatum(anon_decimal_text(s, in)),
							   ObjectIdGetDatum(InvalidOid),
							   Int32GetDatum(typmod));
}

/* ------------------------------------------------------------------------
 * Dates: the year only
 * ------------------------------------------------------------------------
 */

static DateADT
anon_date(DateADT d)
{
	int			year;
	int			month;
	int			day;
	int			jd;

	if (DATE_NOT_FINITE(d))
		return d;
	j2date(d + POSTGRES_EPOCH_JDATE, &year, &month, &day);
	jd = date2j(year, 1, 1);
	/* 1 January 4714 BC is before the first date there is */
	if (!IS_VALID_JULIAN(year, 1, 1))
		jd = DATETIME_MIN_JULIAN;
	return jd - POSTGRES_EPOCH_JDATE;
}

/* a timestamp is read and written as UTC, so timestamptz is too */
static Timestamp
anon_timestamp(Timestamp ts)
{
	struct pg_tm tm;
	fsec_t		fsec;
	Timestamp	result;

	if (TIMESTAMP_NOT_FINITE(ts))
		return ts;
	if (timestamp2tm(ts, NULL, &tm, &fsec, NULL, NULL) != 0)
		ereport(ERROR,
				(errcode(ERRCODE_DATETIME_VALUE_OUT_OF_RANGE),
				 errmsg("timestamp out of range")));
	tm.tm_mon = 1;
	tm.tm_mday = 1;
	tm.tm_hour = 0;
	tm.tm_min = 0;
	tm.tm_sec = 0;
	if (tm2timestamp(&tm, 0, NULL, &result) != 0 || !IS_VALID_TIMESTAMP(result))
		result = MIN_TIMESTAMP;
	return result;
}

/* ------------------------------------------------------------------------
 * JSON: structure and keys stay, strings and numbers are replaced
 * ------------------------------------------------------------------------
 */

static Jsonb *
anon_jsonb(AnonStream *s, Jsonb *jb)
{
	JsonbIterator *it = JsonbIteratorInit(&jb->root);
	JsonbParseState *state = NULL;
	JsonbValue	v;
	JsonbValue *res = NULL;
	JsonbIteratorToken r;

	while ((r = JsonbIteratorNext(&it, &v, false)) != WJB_DONE)
	{
		if ((r == WJB_VALUE || r == WJB_ELEM) && v.type == jbvString)
		{
			StringInfoData buf;

			initStringInfo(&buf);
			anon_tag(s, &buf, ANON_PREFIX, ANON_HEX_TAG, -1);
			v.val.string.val = buf.data;
			v.val.string.len = buf.len;
		}
		else if ((r == WJB_VALUE || r == WJB_ELEM) && v.type == jbvNumeric)
			v.val.numeric =
				DatumGetNumeric(anon_numeric(s, NumericGetDatum(v.val.numeric), -1));
		res = pushJsonbValue(&state, r,
							 (r == WJB_KEY || r == WJB_VALUE || r == WJB_ELEM ||
							  r == WJB_BEGIN_ARRAY) ? &v : NULL);
	}
	return JsonbValueToJsonb(res);
}

/* ------------------------------------------------------------------------
 * Dispatch
 * ------------------------------------------------------------------------
 */

static AnonShape
anon_shape(const char *cat, int catlen)
{
	int			i;

	for (i = 0; i < (int) lengthof(anon_shapes); i++)
		if (category_contains(anon_shapes[i].category,
							  strlen(anon_shapes[i].category), cat, catlen))
			return anon_shapes[i].shape;
	return SHAPE_GENERIC;
}

/*
 * text, varchar, bpchar.  limit is the typmod's length in characters, or
 * -1; a bpchar comes without its padding and is padded again at the end.
 */
static text *
anon_text(AnonStream *s, text *t, AnonShape shape, Oid typid, int limit)
{
	char	   *str = text_to_cstring(t);
	StringInfoData buf;
	bool		done = false;

	if (typid == BPCHAROID)
	{
		int			len = strlen(str);

		while (len > 0 && str[len - 1] == ' ')
			str[--len] = '\0';
	}

	initStringInfo(&buf);
	switch (shape)
	{
		case SHAPE_PHONE:
			if ((done = anon_phone(s, str)))
				appendStringInfoString(&buf, str);
			break;
		case SHAPE_ID_NUMBER:
			if ((done = anon_id_number(s, str)))
				appendStringInfoString(&buf, str);
			break;
		case SHAPE_CARD:
			if ((done = anon_card(s, str)))
				appendStringInfoString(&buf, str);
			break;
		case SHAPE_MAC:
			if ((done = anon_mac_text(s, str)))
				appendStringInfoString(&buf, str);
			break;
		case SHAPE_EMAIL:
			done = anon_email(s, str, &buf, limit);
			break;
		case SHAPE_NAME:
			anon_name(s, str, &buf, limit);
			done = true;
			break;
		case SHAPE_ADDRESS:
			done = anon_address(s, str, &buf, limit);
			break;
		case SHAPE_IP:
			done = anon_ip_text(s, str, &buf, limit);
			break;
		case SHAPE_GENERIC:
		case SHAPE_AMOUNT:
			break;
	}
	if (!done)
	{
		resetStringInfo(&buf);
		anon_text_generic(s, &buf, limit);
	}

	if (typid == BPCHAROID && limit > 0)
	{
		int			n = anon_chars(buf.data, buf.len);

		for (; n < limit; n++)
			appendStringInfoChar(&buf, ' ');
	}
	return cstring_to_text_with_len(buf.data, buf.len);
}

static inet *
anon_inet(AnonStream *s, inet *in, bool is_cidr)
{
	inet	   *out = palloc0(sizeof(inet));
	int			maxbits;

	ip_family(out) = ip_family(in);
	ip_bits(out) = ip_bits(in);
	memcpy(ip_addr(out), ip_addr(in), ip_addrsize(in));
	maxbits = ip_maxbits(in);
	/* a cidr's host bits are zero; its network bits past /24 or /48 change */
	anon_ip_bytes(s, ip_addr(out), ip_family(out),
				  is_cidr ? ip_bits(in) : maxbits);
	SET_INET_VARSIZE(out);
	return out;
}

static void
anon_unsupported(Oid typid) pg_attribute_noreturn();

static void
anon_unsupported(Oid typid)
{
	ereport(ERROR,
			(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
			 errmsg("cannot anonymize a value of type %s", format_type_be(typid)),
			 errdetail("Anonymization supports text, character varying, character, smallint, integer, bigint, numeric, real, double precision, date, timestamp, timestamp with time zone, boolean, uuid, bytea, json, jsonb, inet, cidr, macaddr and macaddr8."),
			 errhint("A retention run blocks the rows it cannot anonymize; change the rule's action to block or delete, or the column's type.")));
}

/*
 * governance.anonymize(value anyelement, category, typmod integer,
 *						 seed text) RETURNS anyelement
 */
Datum
governance_anonymize(PG_FUNCTION_ARGS)
{
	Datum		value = PG_GETARG_DATUM(0);
	text	   *cat = PG_GETARG_TEXT_PP(1);
	int32		typmod = PG_GETARG_INT32(2);
	text	   *seed = PG_GETARG_TEXT_PP(3);
	Oid			argtype = get_fn_expr_argtype(fcinfo->flinfo, 0);
	Oid			typid;
	const uint8 *bytes;
	size_t		len;
	AnonStream	s;
	AnonShape	shape;

	if (!OidIsValid(argtype))
		elog(ERROR, "could not determine the type of the value to anonymize");
	typid = getBaseType(argtype);

	/* no hashing for these */
	switch (typid)
	{
		case BOOLOID:
			PG_RETURN_DATUM(value);
		case DATEOID:
			PG_RETURN_DATEADT(anon_date(DatumGetDateADT(value)));
		case TIMESTAMPOID:
			PG_RETURN_TIMESTAMP(anon_timestamp(DatumGetTimestamp(value)));
		case TIMESTAMPTZOID:
			PG_RETURN_TIMESTAMPTZ(anon_timestamp(DatumGetTimestampTz(value)));
		case TEXTOID:
		case VARCHAROID:
		case BPCHAROID:
		case INT2OID:
		case INT4OID:
		case INT8OID:
		case NUMERICOID:
		case FLOAT4OID:
		case FLOAT8OID:
		case UUIDOID:
		case BYTEAOID:
		case JSONOID:
		case JSONBOID:
		case INETOID:
		case CIDROID:
		case MACADDROID:
		case MACADDR8OID:
			break;
		default:
			anon_unsupported(typid);
	}

	bytes = anon_value_bytes(typid, value, &len);
	anon_stream_init(&s, VARDATA_ANY(seed), VARSIZE_ANY_EXHDR(seed),
					 VARDATA_ANY(cat), VARSIZE_ANY_EXHDR(cat), bytes, len);
	shape = anon_shape(VARDATA_ANY(cat), VARSIZE_ANY_EXHDR(cat));

	switch (typid)
	{
		case TEXTOID:
		case VARCHAROID:
		case BPCHAROID:
			PG_RETURN_TEXT_P(anon_text(&s, DatumGetTextPP(value), shape, typid,
									   typmod >= VARHDRSZ ? typmod - VARHDRSZ : -1));
		case INT2OID:
			PG_RETURN_INT16((int16) anon_integer(&s, DatumGetInt16(value),
												 PG_INT16_MIN, PG_INT16_MAX,
												 shape == SHAPE_AMOUNT));
		case INT4OID:
			PG_RETURN_INT32((int32) anon_integer(&s, DatumGetInt32(value),
												 PG_INT32_MIN, PG_INT32_MAX,
												 shape == SHAPE_AMOUNT));
		case INT8OID:
			PG_RETURN_INT64(anon_integer(&s, DatumGetInt64(value),
										 PG_INT64_MIN, PG_INT64_MAX,
										 shape == SHAPE_AMOUNT));
		case NUMERICOID:
			PG_RETURN_DATUM(anon_numeric(&s, value, typmod));
		case FLOAT4OID:
			PG_RETURN_FLOAT4((float4) anon_float(&s, DatumGetFloat4(value), FLT_MAX));
		case FLOAT8OID:
			PG_RETURN_FLOAT8(anon_float(&s, DatumGetFloat8(value), DBL_MAX));
		case UUIDOID:
			{
				pg_uuid_t  *u = palloc(sizeof(pg_uuid_t));
				int			i;

				for (i = 0; i < UUID_LEN; i++)
					u->data[i] = anon_byte(&s);
				u->data[6] = (u->data[6] & 0x0f) | 0x40;	/* version 4 */
				u->data[8] = (u->data[8] & 0x3f) | 0x80;	/* RFC 4122 variant */
				PG_RETURN_UUID_P(u);
			}
		case BYTEAOID:
			{
				bytea	   *b = palloc(VARHDRSZ + len);
				size_t		i;

				for (i = 0; i < len; i++)
					((uint8 *) VARDATA(b))[i] = anon_byte(&s);
				SET_VARSIZE(b, VARHDRSZ + len);
				PG_RETURN_BYTEA_P(b);
			}
		case JSONBOID:
			PG_RETURN_JSONB_P(anon_jsonb(&s, DatumGetJsonbP(value)));
		case JSONOID:
			{
				Datum		jb = DirectFunctionCall1(jsonb_in,
													 CStringGetDatum(text_to_cstring(DatumGetTextPP(value))));
				Jsonb	   *res = anon_jsonb(&s, DatumGetJsonbP(jb));
				char	   *out = DatumGetCString(DirectFunctionCall1(jsonb_out,
																	  JsonbPGetDatum(res)));

				PG_RETURN_TEXT_P(cstring_to_text(out));
			}
		case INETOID:
		case CIDROID:
			PG_RETURN_INET_P(anon_inet(&s, DatumGetInetPP(value), typid == CIDROID));
		case MACADDROID:
			{
				macaddr    *m = palloc(sizeof(macaddr));

				*m = *(macaddr *) DatumGetPointer(value);
				m->d = anon_byte(&s);
				m->e = anon_byte(&s);
				m->f = anon_byte(&s);
				PG_RETURN_MACADDR_P(m);
			}
		case MACADDR8OID:
			{
				macaddr8   *m = palloc(sizeof(macaddr8));

				*m = *(macaddr8 *) DatumGetPointer(value);
				m->d = anon_byte(&s);
				m->e = anon_byte(&s);
				m->f = anon_byte(&s);
				m->g = anon_byte(&s);
				m->h = anon_byte(&s);
				PG_RETURN_MACADDR8_P(m);
			}
	}
	anon_unsupported(typid);
}
