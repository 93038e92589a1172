/* SPDX-License-Identifier: BSD-3-Clause */
/* lib/sysfs/size.c - parsing sizes for emu: options, hugepage sizes and the tools. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <nvpoll_sysfs/size.h>

int nvp_parse_size(const char *s, uint64_t *out)
{
	unsigned long long v;
	unsigned int shift = 0;
	char *end;

	/*
	 * Digits first: strtoull() would skip white space and take a sign,
	 * so " -4096" would come back as 2^64 - 4096.
	 */
	if (!s || *s < '0' || *s > '9')
		return -EINVAL;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || end == s)
		return -EINVAL;
	switch (*end) {
	case 'k': case 'K': shift = 10; end++; break;
	case 'm': case 'M': shift = 20; end++; break;
	case 'g': case 'G': shift = 30; end++; break;
	case 't': case 'T': shift = 40; end++; break;
	default: break;
	}
	if (shift && (!strcmp(end, "iB") || !strcmp(end, "B")))
		end += strlen(end);
	if (*end || (shift && v > (UINT64_MAX >> shift)))
		return -EINVAL;
	*out = (uint64_t)v << shift;
	return 0;
}
