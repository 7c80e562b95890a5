/*-------------------------------------------------------------------------
 *
 * yaml_tree.c
 *	  Turns a YAML document into a small tree of mappings, sequences and
 *	  scalars, each remembering its line and column, using libyaml's event
 *	  API.  The tree is what policy_schema.c validates.
 *
 * Hostile input is refused here, before anything grows: documents larger
 * than YAML_MAX_BYTES, nesting deeper than YAML_MAX_DEPTH, more than
 * YAML_MAX_NODES nodes, anchors and aliases (the "billion laughs" attack
 * needs them, and policies do not), explicit tags, complex keys, duplicate
 * keys, and more than one document.  libyaml allocates with malloc, so
 * the parser is always released before an error is raised.
 *
 *-------------------------------------------------------------------------
 */
#include "pg_governance.h"

#include <yaml.h>

#include "mb/pg_wchar.h"

typedef struct TreeBuilder
{
	YNode	   *stack[YAML_MAX_DEPTH + 1];
	int			depth;
	int			nodes;
	YNode	   *root;
	int			documents;
	/* first error, raised after the parser is released */
	char	   *error;
	int			err_line;
	int			err_col;
} TreeBuilder;

static YNode *
ynode_new(YNodeKind kind, const yaml_mark_t *mark)
{
	YNode	   *n = palloc0(sizeof(YNode));

	n->kind = kind;
	n->line = (int) mark->line + 1;
	n->col = (int) mark->column + 1;
	return n;
}

static void
ynode_append(YNode *parent, YNode *child)
{
	if (parent->n == parent->cap)
	{
		parent->cap = parent->cap ? parent->cap * 2 : 8;
		parent->items = parent->items
			? repalloc(parent->items, sizeof(YNode *) * parent->cap)
			: palloc(sizeof(YNode *) * parent->cap);
	}
	parent->items[parent->n++] = child;
}

static void
builder_fail(TreeBuilder *b, const yaml_mark_t *mark, const char *msg)
{
	if (b->error == NULL)
	{
		b->error = pstrdup(msg);
		b->err_line = (int) mark->line + 1;
		b->err_col = (int) mark->column + 1;
	}
}

/*
 * Attach a finished node to the open container (or make it the root).
 * In a mapping, items alternate key, value; keys must be unique scalars.
 */
static void
builder_attach(TreeBuilder *b, YNode *node, const yaml_mark_t *mark)
{
	YNode	   *parent;

	if (b->depth == 0)
	{
		b->root = node;
		return;
	}
	parent = b->stack[b->depth - 1];
	if (parent->kind == YN_MAP && parent->n % 2 == 0)
	{
		int			i;

		if (node->kind != YN_SCALAR)
		{
			builder_fail(b, mark, "a mapping key must be a plain scalar");
			return;
		}
		for (i = 0; i < parent->n; i += 2)
			if (strcmp(parent->items[i]->value, node->value) == 0)
			{
				builder_fail(b, mark, psprintf("duplicate key \"%s\" (first at line %d)",
											   node->value, parent->items[i]->line));
				return;
			}
	}
	ynode_append(parent, node);
}

static void
builder_event(TreeBuilder *b, yaml_event_t *ev)
{
	const yaml_mark_t *mark = &ev->start_mark;
	YNode	   *node;

	switch (ev->type)
	{
		case YAML_DOCUMENT_START_EVENT:
			if (++b->documents > 1)
				builder_fail(b, mark, "a policy file holds exactly one YAML document");
			break;
		case YAML_ALIAS_EVENT:
			builder_fail(b, mark, "YAML aliases are not allowed in a policy (they can expand without bound)");
			break;
		case YAML_SCALAR_EVENT:
		case YAML_MAPPING_START_EVENT:
		case YAML_SEQUENCE_START_EVENT:
			{
				const yaml_char_t *anchor;
				const yaml_char_t *tag;
				bool		implicit;

				if (ev->type == YAML_SCALAR_EVENT)
				{
					anchor = ev->data.scalar.anchor;
					tag = ev->data.scalar.tag;
					implicit = ev->data.scalar.plain_implicit || ev->data.scalar.quoted_implicit;
				}
				else if (ev->type == YAML_MAPPING_START_EVENT)
				{
					anchor = ev->data.mapping_start.anchor;
					tag = ev->data.mapping_start.tag;
					implicit = ev->data.mapping_start.implicit;
				}
				else
				{
					anchor = ev->data.sequence_start.anchor;
					tag = ev->data.sequence_start.tag;
					implicit = ev->data.sequence_start.implicit;
				}
				if (anchor != NULL)
				{
					builder_fail(b, mark, "YAML anchors are not allowed in a policy");
					break;
				}
				if (tag != NULL && !implicit)
				{
					builder_fail(b, mark, psprintf("YAML tag \"%s\" is not allowed in a policy",
												   (const char *) tag));
					break;
				}
				if (++b->nodes > YAML_MAX_NODES)
				{
					builder_fail(b, mark, psprintf("a policy has at most %d YAML nodes",
												   YAML_MAX_NODES));
					break;
				}
				if (ev->type == YAML_SCALAR_EVENT)
				{
					node = ynode_new(YN_SCALAR, mark);
					node->value = pnstrdup((const char *) ev->data.scalar.value,
										   ev->data.scalar.length);
					node->len = (int) ev->data.scalar.length;
					node->plain = (ev->data.scalar.style == YAML_PLAIN_SCALAR_STYLE);
					if ((size_t) node->len != strlen(node->value))
					{
						builder_fail(b, mark, "a scalar contains a NUL character");
						break;
					}
					builder_attach(b, node, mark);
					break;
				}
				if (b->depth >= YAML_MAX_DEPTH)
				{
					builder_fail(b, mark, psprintf("nesting deeper than %d levels",
												   YAML_MAX_DEPTH));
					break;
				}
				node = ynode_new(ev->type == YAML_MAPPING_START_EVENT ? YN_MAP : YN_SEQ,
								 mark);
				builder_attach(b, node, mark);
				b->stack[b->depth++] = node;
				break;
			}
		case YAML_MAPPING_END_EVENT:
		case YAML_SEQUENCE_END_EVENT:
			if (b->depth > 0)
				b->depth--;
			break;
		default:
			break;
	}
}

/*
 * yaml_parse_tree
 *		Parse a UTF-8 YAML document into a tree allocated in the current
 *		memory context.  "origin" names the file in messages (NULL for text
 *		given to load_policy, whose positions are line:column).
 */
YNode *
yaml_parse_tree(const char *data, size_t len, const char *origin)
{
	yaml_parser_t parser;
	yaml_event_t event;
	TreeBuilder b;
	volatile bool done = false;

	if (len > YAML_MAX_BYTES)
		ereport(ERROR,
				(errcode(ERRCODE_GV_INVALID_POLICY),
				 errmsg("policy %s is too large", origin ? origin : "text"),
				 errdetail("It has %zu bytes; a policy has at most %d.", len, YAML_MAX_BYTES),
				 errhint("Split the document, or check that the right file was given.")));

	/* libyaml would also refuse bad UTF-8, but we can say where it is */
	{
		int			valid = pg_encoding_verifymbstr(PG_UTF8, data, (int) len);

		if ((size_t) valid < len)
		{
			int			line = 1;
			int			col = 1;
			int			i;

			for (i = 0; i < valid; i++)
			{
				if (data[i] == '\n')
				{
					line++;
					col = 1;
				}
				else if ((data[i] & 0xC0) != 0x80)
					col++;
			}
			policy_error_at(origin, line, col,
							"the document is not valid UTF-8 (or contains a NUL byte)",
							"Policies are UTF-8 text.",
							"Convert the file to UTF-8, e.g. with iconv.");
		}
	}

	memset(&b, 0, sizeof(b));
	if (!yaml_parser_initialize(&parser))
		elog(ERROR, "could not initialize the YAML parser");
	yaml_parser_set_input_string(&parser, (const unsigned char *) data, len);
	yaml_parser_set_encoding(&parser, YAML_UTF8_ENCODING);

	PG_TRY();
	{
		while (!done && b.error == NULL)
		{
			if (!yaml_parser_parse(&parser, &event))
			{
				b.error = psprintf("YAML syntax error: %s%s%s",
								   parser.problem ? parser.problem : "unknown problem",
								   parser.context ? " " : "",
								   parser.context ? parser.context : "");
				b.err_line = (int) parser.problem_mark.line + 1;
				b.err_col = (int) parser.problem_mark.column + 1;
				break;
			}
			builder_event(&b, &event);
			done = (event.type == YAML_STREAM_END_EVENT);
			yaml_event_delete(&event);
		}
	}
	PG_FINALLY();
	{
		yaml_parser_delete(&parser);
	}
	PG_END_TRY();

	if (b.error != NULL)
		policy_error_at(origin, b.err_line, b.err_col, b.error,
						"The document is not a well-formed policy YAML document.",
						"The policy format is described in the README of pg_governance, section \"Policy files\".");
	if (b.root == NULL)
		policy_error_at(origin, 1, 1, "the document is empty",
						"A policy file holds one YAML mapping.",
						"The policy format is described in the README of pg_governance, section \"Policy files\".");
	return b.root;
}

/*
 * policy_error_at
 *		Raise GV010 naming origin:line:column (or line:column for text).
 */
void
policy_error_at(const char *origin, int line, int col, const char *msg,
				const char *detail, const char *hint)
{
	char	   *where = origin
		? psprintf("%s:%d:%d", origin, line, col)
		: psprintf("%d:%d", line, col);

	ereport(ERROR,
			(errcode(ERRCODE_GV_INVALID_POLICY),
			 errmsg("invalid policy at %s: %s", where, msg),
			 detail ? errdetail("%s", detail) : 0,
			 hint ? errhint("%s", hint) : 0));
}
