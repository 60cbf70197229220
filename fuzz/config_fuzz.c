// SPDX-License-Identifier: MIT
// libFuzzer target for the xl config parser (dom0/config.c, config_syntax.c, devspec.c).
//
// Input: the config file text up to the first NUL byte; every further
// NUL-separated piece is one command-line override ("key=value") applied
// after it, as `xl create FILE key=value...` does.  A parsed config is
// then validated.
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../dom0/config.h"

static void cf_warn(void *opaque, const char *msg)
{
	(void)opaque, (void)msg;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t *nul = memchr(data, 0, size);
	size_t flen = nul ? (size_t)(nul - data) : size;
	struct sv_config cfg;
	char err[256];
	char *text;
	int r;

	/* The file text not NUL-terminated, in a buffer of exactly its length. */
	text = malloc(flen ? flen : 1);
	if (!text)
		abort();
	memcpy(text, data, flen);
	sv_config_init(&cfg);
	if (size && data[0] == '#')
		cfg.warn = cf_warn; /* else warnings collect in cfg.warnings */
	err[0] = 'x';
	r = sv_config_parse(&cfg, text, flen, "fuzz.cfg", err, sizeof(err));
	free(text);
	if (r != 0 && (r != -EINVAL && r != -ENOMEM))
		abort();
	if (r != 0 && !memchr(err, 0, sizeof(err)))
		abort(); /* err is always NUL-terminated */
	if (r == 0 && nul) {
		const uint8_t *p = nul + 1, *stop = data + size;

		while (p < stop) {
			const uint8_t *q = memchr(p, 0, (size_t)(stop - p));
			size_t n = q ? (size_t)(q - p) : (size_t)(stop - p);
			char *line = malloc(n + 1);

			if (!line)
				abort();
			memcpy(line, p, n);
			line[n] = '\0';
			r = sv_config_override(&cfg, line, err, sizeof(err));
			free(line);
			if (r != 0)
				break;
			p += n + 1;
		}
	}
	if (r == 0)
		(void)sv_config_validate(&cfg, err, sizeof(err));
	sv_config_free(&cfg);
	return 0;
}
