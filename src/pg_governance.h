/*-------------------------------------------------------------------------
 *
 * pg_governance.h
 *	  Private header of the pg_governance extension: SQLSTATEs of class GV,
 *	  the on-disk layout of the category and region types, and the entry
 *	  points that one file of src/ offers to the others.
 *
 *-------------------------------------------------------------------------
 */
#ifndef PG_GOVERNANCE_H
#define PG_GOVERNANCE_H

#include "postgres.h"
#include "fmgr.h"
#include "nodes/pg_list.h"

/*
 * SQLSTATE class GV (spec section 6).  GV000 is the class itself, so that
 * PL/pgSQL's WHEN SQLSTATE 'GV000' catches every governance error.
 */
#define ERRCODE_GV_LOCALIZATION		MAKE_SQLSTATE('G','V','0','0','1')
#define ERRCODE_GV_NEVER_STORE		MAKE_SQLSTATE('G','V','0','0','2')
#define ERRCODE_GV_RETENTION		MAKE_SQLSTATE('G','V','0','0','3')
#define ERRCODE_GV_SHARING_REFUSED	MAKE_SQLSTATE('G','V','0','0','4')
#define ERRCODE_GV_LEGAL_HOLD		MAKE_SQLSTATE('G','V','0','0','5')
#define ERRCODE_GV_BLOCKED			MAKE_SQLSTATE('G','V','0','0','6')
#define ERRCODE_GV_INVALID_POLICY	MAKE_SQLSTATE('G','V','0','1','0')
#define ERRCODE_GV_INVALID_LABEL	MAKE_SQLSTATE('G','V','0','1','1')

#define GOVERNANCE_PROVIDER		"governance"

/* category.c: dotted lowercase path, stored as a varlena of its text */
#define CATEGORY_MAX_DEPTH		16
#define CATEGORY_MAX_SEGMENT	63
#define CATEGORY_MAX_LEN		255

extern bool category_parse(const char *str, int len, char **errmsg_out,
						   int *errpos_out);
extern bool category_contains(const char *ancestor, int alen,
							  const char *desc, int dlen);

/* region.c: ISO 3166-1 alpha-2 country, optional ISO 3166-2 subdivision */
#define REGION_MAX_LEN			6	/* "CC-XXX" */

extern bool region_normalize(const char *str, char *out, char **errmsg_out,
							 int *errpos_out);
extern bool region_contains(const char *outer, const char *inner);

/* iso3166.c */
extern bool iso3166_country_exists(const char *code);

/* yaml_tree.c: a YAML document as a tree of positioned nodes */
#define YAML_MAX_BYTES			(1024 * 1024)
#define YAML_MAX_DEPTH			32
#define YAML_MAX_NODES			100000

typedef enum YNodeKind
{
	YN_SCALAR,
	YN_MAP,
	YN_SEQ
} YNodeKind;

typedef struct YNode
{
	YNodeKind	kind;
	int			line;			/* 1-based */
	int			col;			/* 1-based */
	char	   *value;			/* YN_SCALAR: NUL-terminated text */
	int			len;
	bool		plain;			/* YN_SCALAR: unquoted (so "null" means null) */
	int			n;				/* YN_SEQ: items; YN_MAP: 2 x pairs (key, value) */
	int			cap;
	struct YNode **items;
} YNode;

extern YNode *yaml_parse_tree(const char *data, size_t len, const char *origin);
extern void policy_error_at(const char *origin, int line, int col,
							const char *msg, const char *detail,
							const char *hint) pg_attribute_noreturn();

/* policy_schema.c: the policy YAML schema and its validator */
extern const char *const governance_anchor_events[];
extern bool iso8601_duration_valid(const char *s);
extern char *policy_validate(YNode *root, const char *origin, bool is_taxonomy,
							 List *taxonomy);

/* module.c */
extern bool governance_allow_destructive_ddl;
extern void _PG_init(void);

/* label.c */
struct ObjectAddress;
extern void label_object_relabel(const struct ObjectAddress *object,
								 const char *seclabel);

#endif							/* PG_GOVERNANCE_H */
