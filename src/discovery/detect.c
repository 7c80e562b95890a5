/*-------------------------------------------------------------------------
 *
 * detect.c
 *	  The value detectors of PII discovery (governance.suggest_tags): does
 *	  one text value have the shape of a kind of personal or enterprise
 *	  identifier, and does it pass that kind's check?
 *
 *	  - mainland mobile numbers: 11 digits on an operator segment of the
 *		MIIT numbering plan (optionally +86 / 0086 / 86, groups 3-4-4);
 *	  - resident identity numbers (GB 11643-1999): 18 characters, a province
 *		code, a real birth date not in the future, the ISO 7064 MOD 11-2
 *		check character (0-9 or X);
 *	  - unified social credit codes (GB 32100-2015): 18 characters of the
 *		31-character alphabet, the registration-authority and type codes, a
 *		6-digit division code, the MOD 31 check character;
 *	  - bank card numbers: 16 to 19 digits (optionally in groups), an issuer
 *		digit, the Luhn check;
 *	  - e-mail addresses, IPv4 / IPv6 addresses, MAC addresses (syntax).
 *
 *	  governance._value_kinds(text) returns a bit mask: the low byte says
 *	  which kinds the value is (check passed), the next byte which kinds it
 *	  has the shape of but fails the check of (evidence text only: such
 *	  values never count for a kind).  The bits are DETECT_* below and are
 *	  decoded by src/discovery/discovery.sql.
 *
 *	  Pure functions of the value and today's date (a birth date in the
 *	  future is not one): no catalog access, no allocation beyond the
 *	  detoasted argument.
 *
 *-------------------------------------------------------------------------
 */
#include "pg_governance.h"

#include "access/xact.h"
#include "utils/builtins.h"
#include "utils/date.h"
#include "utils/datetime.h"
#include "utils/timestamp.h"

PG_FUNCTION_INFO_V1(governance_value_kinds);

#define DETECT_PHONE	0x01
#define DETECT_ID		0x02
#define DETECT_USCC		0x04
#define DETECT_CARD		0x08
#define DETECT_EMAIL	0x10
#define DETECT_IP		0x20
#define DETECT_MAC		0x40
#define DETECT_SHAPE_SHIFT	8

/* longest value looked at: anything longer is none of the kinds */
#define DETECT_MAX_LEN	320

static inline bool
is_digit(char c)
{
	return c >= '0' && c <= '9';
}

static inline bool
is_hex(char c)
{
	return is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

/*
 * Copy the digits of s into out, allowing single blanks or hyphens between
 * groups; false on any other character or when more than max digits.
 */
static bool
collect_digits(const char *s, int len, char *out, int max, int *ndigits)
{
	int			n = 0;
	bool		prev_sep = true;	/* no separator first */

	for (int i = 0; i < len; i++)
	{
		char		c = s[i];

		if (is_digit(c))
		{
			if (n >= max)
				return false;
			out[n++] = c;
			prev_sep = false;
		}
		else if ((c == ' ' || c == '-') && !prev_sep)
			prev_sep = true;
		else
			return false;
	}
	if (prev_sep && len > 0)
		return false;			/* trailing separator */
	*ndigits = n;
	return true;
}

/*
 * Mainland mobile segments (MIIT numbering plan, allocations up to 2019:
 * 190, 192, 196, 197 were the last to be issued).  The third digit is
 * checked where a second digit has unallocated neighbours: 14[5-9],
 * 15[0-35-9], 16[2567], 17[0-8], 19[0-35-9]; 13x and 18x are allocated
 * whole.  14[0-4] are 13-digit machine-to-machine numbers, not these.
 */
static bool
mobile_segment(const char *d)
{
	char		b = d[1],
				c = d[2];

	if (d[0] != '1')
		return false;
	switch (b)
	{
		case '3':
		case '8':
			return true;
		case '4':
			return c >= '5' && c <= '9';
		case '5':
			return c != '4';
		case '6':
			return c == '2' || c == '5' || c == '6' || c == '7';
		case '7':
			return c != '9';
		case '9':
			return c != '4';
		default:
			return false;
	}
}

/* 0: not the shape; DETECT_PHONE: a mobile number; -1: shape, bad segment */
static int
detect_phone(const char *s, int len)
{
	char		d[16];
	int			n;

	/* country code: +86, 0086, or 86 followed by a separator */
	if (len > 3 && s[0] == '+' && s[1] == '8' && s[2] == '6')
	{
		s += 3;
		len -= 3;
	}
	else if (len > 4 && strncmp(s, "0086", 4) == 0)
	{
		s += 4;
		len -= 4;
	}
	else if (len > 3 && s[0] == '8' && s[1] == '6' && (s[2] == ' ' || s[2] == '-'))
	{
		s += 3;
		len -= 3;
	}
	if (len > 0 && (s[0] == ' ' || s[0] == '-'))
	{
		s++;
		len--;
	}
	if (len < 11 || len > 13)
		return 0;
	if (!collect_digits(s, len, d, 11, &n) || n != 11 || d[0] != '1')
		return 0;
	return mobile_segment(d) ? DETECT_PHONE : -1;
}

/* province-level codes of GB/T 2260 that resident numbers start with */
static bool
province_code(int p)
{
	return (p >= 11 && p <= 15) || (p >= 21 && p <= 23) ||
		(p >= 31 && p <= 37) || (p >= 41 && p <= 46) ||
		(p >= 50 && p <= 54) || (p >= 61 && p <= 65) ||
		p == 81 || p == 82 ||	/* Hong Kong, Macao residence permits */
		p == 83;				/* Taiwan residence permits */
}

static int
today_yyyymmdd(void)
{
	struct pg_tm tm;
	fsec_t		fsec;
	int			tz;

	if (timestamp2tm(GetCurrentTransactionStartTimestamp(), &tz, &tm, &fsec,
					 NULL, NULL) != 0)
		return 99991231;
	return tm.tm_year * 10000 + tm.tm_mon * 100 + tm.tm_mday;
}

static bool
valid_birth_date(const char *d)
{
	int			y = 0,
				m,
				day,
				mdays;

	for (int i = 0; i < 4; i++)
		y = y * 10 + (d[i] - '0');
	m = (d[4] - '0') * 10 + (d[5] - '0');
	day = (d[6] - '0') * 10 + (d[7] - '0');
	if (y < 1900 || m < 1 || m > 12 || day < 1)
		return false;
	mdays = day_tab[isleap(y)][m - 1];
	if (day > mdays)
		return false;
	return y * 10000 + m * 100 + day <= today_yyyymmdd();
}

/* 0: not the shape; DETECT_ID: a resident number; -1: shape, fails a check */
static int
detect_resident_id(const char *s, int len)
{
	static const int weights[17] = {7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2};
	static const char check[] = "10X98765432";
	int			sum = 0;
	char		last;

	if (len != 18)
		return 0;
	for (int i = 0; i < 17; i++)
		if (!is_digit(s[i]))
			return 0;
	last = s[17] == 'x' ? 'X' : s[17];
	if (!is_digit(last) && last != 'X')
		return 0;
	for (int i = 0; i < 17; i++)
		sum += (s[i] - '0') * weights[i];
	if (check[sum % 11] != last)
		return -1;
	if (!province_code((s[0] - '0') * 10 + (s[1] - '0')) || !valid_birth_date(s + 6))
		return -1;
	return DETECT_ID;
}

/* GB 32100-2015 alphabet: digits and the capitals but I, O, S, V, Z */
static int
uscc_value(char c)
{
	static const char alphabet[] = "0123456789ABCDEFGHJKLMNPQRTUWXY";
	const char *p;

	if (c >= 'a' && c <= 'z')
		c -= 'a' - 'A';
	if (c == '\0')
		return -1;
	p = strchr(alphabet, c);
	return p ? (int) (p - alphabet) : -1;
}

/* 0: not the shape; DETECT_USCC: a credit code; -1: shape, fails a check */
static int
detect_uscc(const char *s, int len)
{
	static const int weights[17] = {1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28};
	int			sum = 0;
	int			v[18];
	bool		letter = false;
	char		first;

	if (len != 18)
		return 0;
	for (int i = 0; i < 18; i++)
	{
		v[i] = uscc_value(s[i]);
		if (v[i] < 0)
			return 0;
		if (v[i] >= 10)
			letter = true;
	}
	/* the division code (characters 3-8) is six digits */
	for (int i = 2; i < 8; i++)
		if (v[i] >= 10)
			return 0;
	for (int i = 0; i < 17; i++)
		sum += v[i] * weights[i];
	/*
	 * Registration authority (1-9, A, N, Y) and type (1-9): an 18-digit
	 * number whose check happens to hold is a credit code only with these.
	 */
	first = s[0] >= 'a' ? s[0] - ('a' - 'A') : s[0];
	if ((31 - sum % 31) % 31 != v[17])
		return letter ? -1 : 0;
	if (!(is_digit(first) && first != '0') && first != 'A' && first != 'N' && first != 'Y')
		return -1;
	if (!is_digit(s[1]) || s[1] == '0')
		return -1;
	return DETECT_USCC;
}

/* 0: not the shape; DETECT_CARD: a card number; -1: shape, fails Luhn */
static int
detect_card(const char *s, int len)
{
	char		d[20];
	int			n,
				sum = 0;

	if (len < 16 || len > 23)
		return 0;
	if (!collect_digits(s, len, d, 19, &n) || n < 16 || n > 19)
		return 0;
	/* issuer: 2-6 (the card schemes, UnionPay 62) or 9 (domestic debit) */
	if (!((d[0] >= '2' && d[0] <= '6') || d[0] == '9'))
		return 0;
	for (int i = n - 1, k = 0; i >= 0; i--, k++)
	{
		int			x = d[i] - '0';

		if (k % 2 == 1)
		{
			x *= 2;
			if (x > 9)
				x -= 9;
		}
		sum += x;
	}
	return sum % 10 == 0 ? DETECT_CARD : -1;
}

static bool
email_local_char(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || is_digit(c) ||
		c >= 0x80 || strchr("!#$%&'*+/=?^_`{|}~-", c) != NULL;
}

static bool
domain_label_char(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || is_digit(c) ||
		c == '-' || c >= 0x80;
}

/* local@domain: a dot-atom local part, two or more labels, a letter TLD */
static bool
detect_email(const char *s, int len)
{
	const char *at = memchr(s, '@', len);
	int			llen,
				dlen,
				label = 0,
				labels = 0;
	const char *d;
	bool		tld_letters = true; /* the current label has no digit or hyphen */

	if (at == NULL || len > 254)
		return false;
	llen = at - s;
	d = at + 1;
	dlen = len - llen - 1;
	if (llen < 1 || llen > 64 || dlen < 3 || memchr(d, '@', dlen) != NULL)
		return false;
	for (int i = 0; i < llen; i++)
	{
		if (s[i] == '.')
		{
			if (i == 0 || i == llen - 1 || s[i - 1] == '.')
				return false;
		}
		else if (!email_local_char((unsigned char) s[i]))
			return false;
	}
	for (int i = 0; i <= dlen; i++)
	{
		if (i == dlen || d[i] == '.')
		{
			if (label == 0 || label > 63 || d[i - 1] == '-' || d[i - label] == '-')
				return false;
			labels++;
			label = 0;
			if (i < dlen)
				tld_letters = true;	/* a new label starts */
			continue;
		}
		if (!domain_label_char((unsigned char) d[i]))
			return false;
		if (is_digit(d[i]) || d[i] == '-')
			tld_letters = false;
		label++;
	}
	/* tld_letters describes the last label: the top-level domain */
	return labels >= 2 && tld_letters;
}

/* dotted quad, each part 0-255 without leading zeros */
static bool
parse_ipv4(const char *s, int len)
{
	int			parts = 0,
				i = 0;

	while (parts < 4)
	{
		int			v = 0,
					digits = 0;

		while (i < len && is_digit(s[i]) && digits < 4)
		{
			v = v * 10 + (s[i] - '0');
			digits++;
			i++;
		}
		if (digits == 0 || digits > 3 || v > 255 ||
			(digits > 1 && s[i - digits] == '0'))
			return false;
		parts++;
		if (parts < 4)
		{
			if (i >= len || s[i] != '.')
				return false;
			i++;
		}
	}
	return i == len;
}

/*
 * RFC 4291 text form: eight groups of 1-4 hex digits, one "::" standing
 * for one or more zero groups, an IPv4 tail for the last two; an optional
 * zone ("%eth0") is accepted after it.
 */
static bool
parse_ipv6(const char *s, int len)
{
	int			groups = 0,
				i = 0;
	bool		gap = false;
	const char *zone = memchr(s, '%', len);

	if (zone != NULL)
	{
		if (zone == s + len - 1)
			return false;
		len = zone - s;
	}
	if (len < 2)
		return false;
	if (s[0] == ':')
	{
		if (s[1] != ':')
			return false;
		gap = true;
		i = 2;
		if (i == len)
			return true;		/* "::" */
	}
	while (i < len)
	{
		int			start = i,
					digits = 0;

		while (i < len && is_hex(s[i]) && digits <= 4)
		{
			i++;
			digits++;
		}
		if (i < len && s[i] == '.')
		{
			/* IPv4 tail: counts as two groups, must end the address */
			if (!parse_ipv4(s + start, len - start))
				return false;
			groups += 2;
			i = len;
			break;
		}
		if (digits == 0 || digits > 4)
			return false;
		groups++;
		if (i == len)
			break;
		if (s[i] != ':')
			return false;
		i++;
		if (i < len && s[i] == ':')
		{
			if (gap)
				return false;
			gap = true;
			i++;
			if (i == len)
				break;
		}
		else if (i == len)
			return false;		/* a single trailing colon */
	}
	return gap ? groups <= 7 : groups == 8;
}

/*
 * EUI-48 or EUI-64 in groups of two hex digits, one separator throughout
 * (00:1a:2b:3c:4d:5e, 00-1A-2B-3C-4D-5E), or in groups of four with dots
 * (001a.2b3c.4d5e); twelve bare hex digits are not taken (hashes, numbers).
 */
static bool
detect_mac(const char *s, int len)
{
	if (len == 17 || len == 23)
	{
		char		sep = s[2];

		if (sep != ':' && sep != '-')
			return false;
		for (int i = 0; i < len; i++)
		{
			if (i % 3 == 2)
			{
				if (s[i] != sep)
					return false;
			}
			else if (!is_hex(s[i]))
				return false;
		}
		return true;
	}
	if (len == 14)
	{
		for (int i = 0; i < 14; i++)
		{
			if (i % 5 == 4)
			{
				if (s[i] != '.')
					return false;
			}
			else if (!is_hex(s[i]))
				return false;
		}
		return true;
	}
	return false;
}

static int
value_kinds(const char *s, int len)
{
	int			kinds = 0;
	int			r;

	/* leading and trailing blanks are not part of the value */
	while (len > 0 && (s[0] == ' ' || s[0] == '\t'))
	{
		s++;
		len--;
	}
	while (len > 0 && (s[len - 1] == ' ' || s[len - 1] == '\t'))
		len--;
	if (len < 2 || len > DETECT_MAX_LEN)
		return 0;

	/* values that start with a digit or '+': the numbers */
	if (is_digit(s[0]) || s[0] == '+' || is_hex(s[0]))
	{
		if ((r = detect_phone(s, len)) != 0)
			kinds |= r > 0 ? DETECT_PHONE : DETECT_PHONE << DETECT_SHAPE_SHIFT;
		if ((r = detect_resident_id(s, len)) != 0)
			kinds |= r > 0 ? DETECT_ID : DETECT_ID << DETECT_SHAPE_SHIFT;
		if ((r = detect_uscc(s, len)) != 0)
			kinds |= r > 0 ? DETECT_USCC : DETECT_USCC << DETECT_SHAPE_SHIFT;
		if ((r = detect_card(s, len)) != 0)
			kinds |= r > 0 ? DETECT_CARD : DETECT_CARD << DETECT_SHAPE_SHIFT;
		if (parse_ipv4(s, len))
			kinds |= DETECT_IP;
		if (detect_mac(s, len))
			kinds |= DETECT_MAC;
	}
	else if (uscc_value(s[0]) >= 0 && (r = detect_uscc(s, len)) != 0)
		kinds |= r > 0 ? DETECT_USCC : DETECT_USCC << DETECT_SHAPE_SHIFT;
	if (memchr(s, ':', len) != NULL && !(kinds & DETECT_MAC) && parse_ipv6(s, len))
		kinds |= DETECT_IP;
	if (memchr(s, '@', len) != NULL && detect_email(s, len))
		kinds |= DETECT_EMAIL;
	return kinds;
}

/*
 * governance._value_kinds(text) RETURNS int: the kinds a value is, and
 * those whose shape it has but whose check it fails (see the head comment).
 */
Datum
governance_value_kinds(PG_FUNCTION_ARGS)
{
	text	   *t = PG_GETARG_TEXT_PP(0);
	int			len = VARSIZE_ANY_EXHDR(t);

	if (len > DETECT_MAX_LEN + 64)
		PG_RETURN_INT32(0);
	PG_RETURN_INT32(value_kinds(VARDATA_ANY(t), len));
}
