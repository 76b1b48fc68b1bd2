/*
 * A growing string with a limit set where it is created.  URLs, table
 * cells and messages are assembled here instead of with sprintf or strcat:
 * an append that would pass the limit, or that cannot allocate, marks the
 * buffer bad and later appends do nothing, so a caller checks once at the
 * end instead of after every piece.
 */
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"

void
cli_buf_init(struct cli_buf *b, size_t max)
{
	b->p = NULL;
	b->len = 0;
	b->cap = 0;
	b->max = max;
	b->bad = false;
}

void
cli_buf_addn(struct cli_buf *b, const char *s, size_t n)
{
	size_t need, cap;
	char *p;

	if (b->bad)
		return;
	if (n > b->max || b->len > b->max - n) {
		b->bad = true;
		return;
	}
	need = b->len + n + 1;
	if (need > b->cap) {
		cap = b->cap == 0 ? 64 : b->cap;
		while (cap < need)
			cap *= 2;
		p = realloc(b->p, cap);
		if (p == NULL) {
			b->bad = true;
			return;
		}
		b->p = p;
		b->cap = cap;
	}
	memcpy(b->p + b->len, s, n);
	b->len += n;
	b->p[b->len] = '\0';
}

void
cli_buf_add(struct cli_buf *b, const char *s)
{
	cli_buf_addn(b, s, strlen(s));
}

const char *
cli_buf_str(const struct cli_buf *b)
{
	return b->p != NULL ? b->p : "";
}

void
cli_buf_free(struct cli_buf *b)
{
	if (b == NULL)
		return;
	free(b->p);
	b->p = NULL;
	b->len = 0;
	b->cap = 0;
}
