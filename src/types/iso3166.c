/*-------------------------------------------------------------------------
 *
 * iso3166.c
 *	  The officially assigned ISO 3166-1 alpha-2 country codes (249 of them),
 *	  which governance.region accepts.  User-assigned codes (XA-XZ, AA, QM-QZ,
 *	  ZZ) and exceptional reservations (UK, EU, XK) are not countries and are
 *	  refused.  For China, whose policies exclude Hong Kong, Macao and Taiwan
 *	  from "mainland China", the subdivision codes of ISO 3166-2:CN too: an
 *	  unchecked code (the pre-2017 CN-91 for Hong Kong, say) would pass as
 *	  mainland.
 *
 *-------------------------------------------------------------------------
 */
#include "pg_governance.h"

/* sorted, so that bsearch can find a code */
static const char *const iso3166_alpha2[] = {
	"AD", "AE", "AF", "AG", "AI", "AL", "AM", "AO", "AQ", "AR", "AS", "AT",
	"AU", "AW", "AX", "AZ", "BA", "BB", "BD", "BE", "BF", "BG", "BH", "BI",
	"BJ", "BL", "BM", "BN", "BO", "BQ", "BR", "BS", "BT", "BV", "BW", "BY",
	"BZ", "CA", "CC", "CD", "CF", "CG", "CH", "CI", "CK", "CL", "CM", "CN",
	"CO", "CR", "CU", "CV", "CW", "CX", "CY", "CZ", "DE", "DJ", "DK", "DM",
	"DO", "DZ", "EC", "EE", "EG", "EH", "ER", "ES", "ET", "FI", "FJ", "FK",
	"FM", "FO", "FR", "GA", "GB", "GD", "GE", "GF", "GG", "GH", "GI", "GL",
	"GM", "GN", "GP", "GQ", "GR", "GS", "GT", "GU", "GW", "GY", "HK", "HM",
	"HN", "HR", "HT", "HU", "ID", "IE", "IL", "IM", "IN", "IO", "IQ", "IR",
	"IS", "IT", "JE", "JM", "JO", "JP", "KE", "KG", "KH", "KI", "KM", "KN",
	"KP", "KR", "KW", "KY", "KZ", "LA", "LB", "LC", "LI", "LK", "LR", "LS",
	"LT", "LU", "LV", "LY", "MA", "MC", "MD", "ME", "MF", "MG", "MH", "MK",
	"ML", "MM", "MN", "MO", "MP", "MQ", "MR", "MS", "MT", "MU", "MV", "MW",
	"MX", "MY", "MZ", "NA", "NC", "NE", "NF", "NG", "NI", "NL", "NO", "NP",
	"NR", "NU", "NZ", "OM", "PA", "PE", "PF", "PG", "PH", "PK", "PL", "PM",
	"PN", "PR", "PS", "PT", "PW", "PY", "QA", "RE", "RO", "RS", "RU", "RW",
	"SA", "SB", "SC", "SD", "SE", "SG", "SH", "SI", "SJ", "SK", "SL", "SM",
	"SN", "SO", "SR", "SS", "ST", "SV", "SX", "SY", "SZ", "TC", "TD", "TF",
	"TG", "TH", "TJ", "TK", "TL", "TM", "TN", "TO", "TR", "TT", "TV", "TW",
	"TZ", "UA", "UG", "UM", "US", "UY", "UZ", "VA", "VC", "VE", "VG", "VI",
	"VN", "VU", "WF", "WS", "YE", "YT", "ZA", "ZM", "ZW",
};

static int
iso3166_compare(const void *key, const void *elem)
{
	return strcmp((const char *) key, *(const char *const *) elem);
}

bool
iso3166_country_exists(const char *code)
{
	return bsearch(code, iso3166_alpha2, lengthof(iso3166_alpha2),
				   sizeof(iso3166_alpha2[0]), iso3166_compare) != NULL;
}

/* ISO 3166-2:CN (letter codes since 2017), sorted */
static const char *const iso3166_cn_subdivisions[] = {
	"AH", "BJ", "CQ", "FJ", "GD", "GS", "GX", "GZ", "HA", "HB", "HE", "HI",
	"HK", "HL", "HN", "JL", "JS", "JX", "LN", "MO", "NM", "NX", "QH", "SC",
	"SD", "SH", "SN", "SX", "TJ", "TW", "XJ", "XZ", "YN", "ZJ"
};

/* Is code (upper case, after "CN-") a subdivision of China? */
bool
iso3166_cn_subdivision_exists(const char *code)
{
	return bsearch(code, iso3166_cn_subdivisions, lengthof(iso3166_cn_subdivisions),
				   sizeof(iso3166_cn_subdivisions[0]), iso3166_compare) != NULL;
}
