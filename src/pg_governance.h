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
#include "nodes/primnodes.h"
#include "access/attnum.h"
#include "datatype/timestamp.h"
#include "access/htup.h"
#include "access/tupdesc.h"
#include "utils/array.h"

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
#define GUARD_REGION_MEMO		8	/* region values remembered per relation */

extern bool region_normalize(const char *str, char *out, char **errmsg_out,
							 int *errpos_out);
extern bool region_contains(const char *outer, const char *inner);

/* iso3166.c */
extern bool iso3166_country_exists(const char *code);
extern bool iso3166_cn_subdivision_exists(const char *code);

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

/* guard_cache.c: compiled rules per relation */
typedef struct GuardRule
{
	char	   *rule_id;
	char	   *source;
	char	   *category;		/* the column's category the rule matched */
} GuardRule;

typedef struct GuardLoc
{
	GuardRule	rule;
	char	   *column;			/* the tagged column that brought the rule in */
	char	   *jurisdiction;
	List	   *include;		/* char *: normalised region codes */
	List	   *exclude;
} GuardLoc;

typedef struct GuardMin
{
	GuardRule	rule;
	char	   *column;			/* the tagged column that brought the rule in */
	char	   *anchor;			/* anchor event */
	AttrNumber	anchor_attno;
	Oid			anchor_typid;
	char	   *anchor_column;
	Interval   *minimum;	/* NULL: a parameter left to the law, unset */
	char	   *param;			/* parameter name, or NULL */
} GuardMin;

/*
 * A retention rule with an anchor, as the lifecycle reads it (lifecycle.c):
 * one per rule that covers a tagged column of the relation, whether or not
 * the relation has the anchor column (anchor_attno invalid: reported).
 */
typedef enum LifeAction
{
	LIFE_KEEP,					/* a minimum only: nothing ends */
	LIFE_BLOCK,
	LIFE_ANONYMIZE,
	LIFE_DELETE
} LifeAction;

typedef struct GuardLife
{
	GuardRule	rule;
	int			ordinal;		/* the rule's place in the policy file */
	List	   *columns;		/* char *: tagged columns the rule covers */
	List	   *column_cats;	/* char *: the category matched, per column */
	char	   *anchor;			/* anchor event */
	AttrNumber	anchor_attno;	/* InvalidAttrNumber: the table lacks it */
	Oid			anchor_typid;
	char	   *anchor_column;
	bool		has_min;
	Interval   *minimum;		/* NULL with has_min: a parameter not set */
	char	   *min_param;
	bool		has_max;
	Interval   *maximum;		/* NULL with has_max: a parameter not set */
	char	   *max_param;
	LifeAction	action;
} GuardLife;

typedef struct GuardColumn
{
	AttrNumber	attnum;
	char	   *name;
	Oid			typid;
	List	   *categories;		/* char *: as tagged */
	List	   *effective;		/* char *: with the policy's implies: */
	char	   *anchor;
	bool		subject;
	bool		region;
	GuardRule  *never_store;	/* first never_store rule, or NULL */
} GuardColumn;

typedef struct GuardRel
{
	Oid			relid;			/* hash key */
	bool		valid;
	bool		stale;			/* invalidated while being built */
	uint32		generation;
	MemoryContext cxt;
	char	   *relname;		/* qualified, quoted */
	bool		governed;		/* has tagged columns */
	char	   *policy;			/* bound policy, or NULL (not governed) */
	const char *bound_by;
	char	   *fail_closed;	/* why writes are refused (GV011), or NULL */
	bool		restore_window; /* ... because no policy is loaded yet */
	int			ncols;
	GuardColumn *cols;			/* tagged columns */
	AttrNumber	region_attno;
	Oid			region_typid;
	AttrNumber	subject_attno;
	Oid			subject_typid;
	int32		subject_typmod;
	List	   *localizations;	/* GuardLoc * */
	List	   *minimums;		/* GuardMin * with an anchor column */
	List	   *lifecycle;		/* GuardLife *, in policy order */
	bool		blocking;		/* some anchored rule can block rows */
	bool		blocking_writes;	/* ... and this database's version blocks (GV006) */
	bool		restricted;		/* has a governance_restricted policy (restrict.c) */
	TimestampTz cut_now;		/* blocking.c: the instant of cuts, 0 for none */
	int			ncuts;
	struct BlockCut *cuts;		/* per anchor column that blocks, in cxt */
	List	   *held_subjects;	/* char *, as placed */
	List	   *hold_ids;		/* char * */
	Datum	   *held_values;	/* the held subjects as the subject column's base type */
	bool	   *held_ok;		/* ... false where the text is no such value */
	FmgrInfo	held_eq;		/* that type's equality */
	Oid			subject_collation;
	char	   *storage_region;
	char	   *storage_region_from;
	GuardLoc   *storage_violation;	/* the table is stored outside this rule */
	bool		region_unknown; /* no region column, no storage region */
	GuardLoc   *null_region_violation;	/* a NULL region column value: storage's */
	bool		null_region_unknown;	/* ... and no storage region */

	/*
	 * Region column values, byte for byte as stored (keyed by guard.c's
	 * region_key), already found inside every localization rule: a table
	 * holds few distinct regions, so most rows skip parsing and the
	 * jurisdiction walk.  Rebuilt (emptied) with the entry.
	 */
	int			nregions;
	int			next_region;	/* round-robin slot to replace */
	uint64		region_key[GUARD_REGION_MEMO];

	/*
	 * The relation's CHECK constraints that call the guard, parsed and
	 * planned once (guard_prepare.c), with the conbin text they came from.
	 */
	bool		checks_known;
	int			nchecks;
	char	  **check_bin;
	FuncExpr  **check_expr;
} GuardRel;

extern GuardRel *guard_get(Oid relid);
extern bool subject_value(const char *text, Oid input, Oid ioparam, int32 typmod,
						  Datum *out);
extern GuardRel *guard_lookup(Oid relid);
extern GuardColumn *guard_column(GuardRel *g, AttrNumber attnum);
extern bool guard_region_allowed(const GuardLoc *loc, const char *region);
extern List *guard_ancestors(Oid relid);
extern char *guard_bound_policy(Oid relid);
extern char *guard_bound_policy_in_schema(Oid relid, Oid nspid);
extern char *guard_bound_policy_under(Oid relid, Oid newparent);
extern char *guard_tablespace_region(Oid spcid);
struct GovLabel;
extern char *guard_column_type_problem(const char *colname, Oid typid,
									   const struct GovLabel *gl);

/* guard.c */
extern void guard_probe(Oid relid, const char *what);
extern Datum governance_guard_row(PG_FUNCTION_ARGS);
extern Datum governance_guard_delete(PG_FUNCTION_ARGS);
struct ExprState;
extern struct ExprState *guard_check_state(Oid relid, FuncExpr *expr);

/* guard_validate.c */
extern void guard_validate_rows(Oid relid, const char *what);
extern void guard_validate_tree(Oid relid, const char *what);
extern void guard_validate_schema(Oid nspid, const char *what);
extern void guard_validate_database_at_commit(void);
extern List *guard_tagged_tables(Oid nspid);

/* guard_drop.c */
extern void guard_drop_init(void);
extern List *guard_take_dropped_guards(void);
extern List *guard_take_dropped_tables(void);

/* guard_prepare.c */
extern void guard_prepare_init(void);

/* guard_attach.c */
extern void guard_sync(Oid relid);
extern void guard_sync_command(Oid relid, const char *command_tag);
extern void guard_sync_all(void);
extern bool guard_in_sync(void);
extern bool guard_own_policy_ddl(void);
extern bool guard_relation_governed(Oid relid);
extern bool guard_relation_plain(Oid relid);
extern bool guard_is_trigger_function(Oid funcid);
extern void guard_exec(const char *sql);
extern void guard_prepare_attach(Oid parentid, Oid childid);
extern void guard_note_detached(Oid partid);
extern void guard_forget_detached(void);
extern void guard_forget_pending(void);

/* lifecycle.c: the retention lifecycle of a governed table's rows */
extern Interval *life_end_period(const GuardLife *l);
extern bool life_destroys(const GuardLife *l);
extern bool life_column_period(GuardRel *g, AttrNumber attno, Interval *out,
							   GuardLife **by);
extern Datum life_cutoff(const Interval *period, Oid typid);
extern void life_set_now(TimestampTz now);
extern TimestampTz life_now(void);
extern const char *life_anchor_type_name(Oid typid);
extern Oid	life_anchor_base_type(Oid typid);
extern bool life_decides_over(const GuardLife *d, const GuardLife *e);
extern const char *life_problem(GuardRel *g, const GuardLife *l);
extern const char *life_action_name(LifeAction a);
extern bool life_anchor_before(Datum value, Datum cutoff, Oid typid);

/* blocking.c: rows whose residence has ended, hidden by row security */
extern void blocking_init(void);

/* run_delete.c: a run's batch DELETE without the guard's row trigger */
extern void run_delete_init(void);
extern void run_delete_arm(Oid relid, const char *sql, uint32 generation);
extern void run_delete_disarm(void);

/* run_bound.c: where a retention batch ends, from the anchor's index */
extern bool run_bound_from_index(Oid relid, AttrNumber attno, Oid typid, bool has_lo, Datum lo,
								 bool lo_inclusive, Datum cutoff, int n, bool live_only,
								 bool *found, Datum *bound);
extern void blocking_sync(Oid relid, bool governed);
extern void blocking_check_write(GuardRel *g, HeapTuple tup, TupleDesc desc,
								 const char *what);
extern GuardLife *blocking_row_rule(GuardRel *g, HeapTuple tup, TupleDesc desc);
extern void blocking_error(GuardRel *g, GuardLife *by, const char *what) pg_attribute_noreturn();
extern void blocking_job_begin(Oid relid);
extern void blocking_job_end(void);
extern bool blocking_is_own_policy_name(const char *name);
extern bool blocking_installed(void);
extern bool blocking_policy_reads(Oid relid, const char *colname);
extern bool blocking_sees(Oid relid);
extern int	blocking_exec_depth(void);
extern bool blocking_restricted_sound(Oid relid, List *parts);
extern Node *blocking_analysed_expression(Oid relid, const char *text);

/* src/subjects/restrict.c: erased subjects' kept rows, blocked */
#define RESTRICTED_POLICY	"governance_restricted"
typedef struct RestrictPart
{
	int64		id;				/* restricted_rows.restriction */
	List	   *columns;		/* char *: the key columns, by name */
} RestrictPart;
extern List *restrict_parts(Oid relid);
extern List *restrict_wanted(Oid relid);
extern void restrict_remember(Oid relid);
extern bool restrict_pending_for(Oid relid);
extern bool restrict_involves(Oid relid);
extern char *restrict_expression(Oid relid, List *parts);
extern void restrict_check_ancestors(Oid relid, List *parts);
extern RestrictPart *restrict_choose(Oid relid);
extern int64 restrict_new_id(void);
extern void restrict_forget_orphans(void);
extern ArrayType *restrict_key(int nkeys, Oid *types, Datum *values, bool *nulls);
extern void restrict_store(Oid relid, int64 id, ArrayType *key, const char *reason, bool forget);
extern void restrict_apply(Oid relid, RestrictPart *part);
extern void restrict_check_write(GuardRel *g, HeapTuple tup, TupleDesc desc, const char *what);
extern bool restrict_reads_column(Oid relid, const char *colname);
extern void restrict_probe(Oid relid, const char *what);
extern void restrict_prune(Oid relid);

/* run.c */
extern void retention_forget_run(void);
extern Oid	relation_owner(Oid relid);

/* sharing_log.c: the hash-chained sharing log */
typedef struct ShareEvent
{
	const char *policy;
	const char *recipient;		/* as given: a named recipient or "class:<class>" */
	Datum		categories;		/* governance.category[] */
	const char *purpose;
	const char *subject;		/* NULL: no subject (anonymized data) */
	const char *destination;	/* normalised region code, or NULL (home) */
	const char *legal_basis;	/* NULL: none */
	const char *rule_id;		/* the rule(s) that allowed it */
	bool		personal;		/* false: anonymized data, not personal information */
} ShareEvent;
extern int64 sharing_log_append(const ShareEvent *ev);

/* privileged.c: the extension's own SQL, search_path pinned */
typedef struct GovSpi
{
	Oid			save_userid;
	int			save_sec;
	int			nestlevel;
	bool		as_owner;
} GovSpi;

extern void gov_spi_begin(GovSpi *s, bool as_owner);
extern void gov_spi_begin_own(GovSpi *s, bool as_owner);
extern void gov_spi_begin_as(GovSpi *s, Oid role);
extern void gov_spi_end(GovSpi *s);
extern int	gov_fixed_formats_begin(void);
extern void gov_fixed_formats_end(int nestlevel);

/* module.c */
extern bool governance_allow_destructive_ddl;
extern int	governance_retention_lock_wait;
extern void _PG_init(void);

/* guard_cache.c: policy helpers the sharing engine shares with the guard */
extern List *text_array_to_list(Datum arr);
extern List *implied_closure(List *cats, List *implies_from, List *implies_to);
extern const char *rule_covers(List *rule_cats, List *cats);
extern bool region_in_jurisdiction(const char *region, List *include, List *exclude);
extern char *guard_database_policy(void);

/* policy_schema.c: the controlled vocabulary */
extern bool governance_vocabulary_has(const char *kind, const char *value,
									  char **suggestion);
extern char *governance_vocabulary_list(const char *kind);

/* sharing/decide.c: the sharing decision engine */
typedef struct ShareRequest
{
	const char *recipient;		/* a named recipient, or "class:<class>" */
	List	   *categories;		/* char * */
	const char *purpose;
	const char *subject;		/* NULL: none given */
	const char *destination;	/* normalised region code, NULL: home */
	const char *legal_basis;	/* NULL: none */
	const char *policy;			/* NULL: the database's */
	bool		lock_consent;	/* share: lock the consent used until commit */
} ShareRequest;

typedef struct ShareDecision
{
	bool		allowed;
	int			sqlstate;		/* when refused: GV004, 42704 or 22023 */
	char	   *policy;			/* the policy that decided */
	char	   *rule_id;		/* the rule(s) that allowed, or the one that refused */
	char	   *reason;
	char	   *source;			/* the clause(s) behind rule_id */
	char	   *hint;			/* what would make it allowed, or NULL */
	bool		personal;		/* false: only anonymized data */
} ShareDecision;

extern void share_decide(const ShareRequest *req, ShareDecision *d);

/* label.c: the "governance" label provider and its grammar */
typedef enum LabelTarget
{
	LABEL_COLUMN,
	LABEL_TABLE,
	LABEL_SCHEMA,
	LABEL_DATABASE,
	LABEL_TABLESPACE
} LabelTarget;

typedef struct GovLabel
{
	List	   *categories;		/* char *, column labels */
	bool		subject;
	char	   *anchor;			/* anchor event, or NULL */
	bool		region_column;
	char	   *policy;			/* table/schema/database binding, or NULL */
	char	   *region;			/* database/tablespace region, normalised */
} GovLabel;

struct ObjectAddress;
extern bool label_parse(const char *label, LabelTarget target, GovLabel *out,
						char **err);
extern const char *label_target_name(LabelTarget target);
extern bool governance_is_admin(void);
extern bool governance_caller_is_admin(void);
extern Oid	governance_owner(void);
extern bool governance_has_relation(const char *name);
extern List *label_merge_categories(List *cats, List *more);
extern bool is_region_column_type(Oid typid);
extern void label_object_relabel(const struct ObjectAddress *object,
								 const char *seclabel);

#endif							/* PG_GOVERNANCE_H */
