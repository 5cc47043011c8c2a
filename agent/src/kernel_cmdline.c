// SPDX-License-Identifier: MIT
/* The kernel command line's words: see kernel_cmdline.h. */
#include <ctype.h>
#include <string.h>

#include "kernel_cmdline.h"

static void unquote(const char **s, size_t *len)
{
	if (*len >= 2 && (*s)[0] == '"' && (*s)[*len - 1] == '"') {
		(*s)++;
		*len -= 2;
	}
}

bool cmdline_next(const char **pos, struct cmdline_param *p)
{
	const char *w, *e, *eq;
	bool quoted = false;

	while (**pos && isspace((unsigned char)**pos))
		(*pos)++;
	if (!**pos)
		return false;
	for (w = e = *pos; *e && (quoted || !isspace((unsigned char)*e)); e++)
		if (*e == '"')
			quoted = !quoted;
	*pos = e;
	if (e - w == 2 && strncmp(w, "--", 2) == 0)
		return false;
	/* A word quoted as a whole ("a=b c") is the kernel's too. */
	if (*w == '"' && e - w >= 2 && e[-1] == '"') {
		w++;
		e--;
	}
	eq = memchr(w, '=', (size_t)(e - w));
	p->name = w;
	p->name_len = (size_t)((eq ? eq : e) - w);
	p->value = NULL;
	p->value_len = 0;
	if (eq) {
		p->value = eq + 1;
		p->value_len = (size_t)(e - eq - 1);
		unquote(&p->value, &p->value_len);
	}
	return true;
}

bool cmdline_param_is(const struct cmdline_param *p, const char *name)
{
	size_t i;

	for (i = 0; i < p->name_len; i++) {
		char a = p->name[i] == '-' ? '_' : p->name[i];
		char b = name[i] == '-' ? '_' : name[i];

		if (!name[i] || a != b)
			return false;
	}
	return name[i] == '\0';
}
