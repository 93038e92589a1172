/* SPDX-License-Identifier: BSD-3-Clause */
/* lib/emu/emu_opts.c - parsing "emu:ns=1G:4096,mdts=7,..." addresses. */
#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "emu/emu.h"
#include "util/log.h"
#include "util/size.h"

#define EMU_VALID_OPTS                                                              \
	"valid options (comma separated): ns=SIZE[:BLOCK[:PATH]] (repeatable, up to " \
	"16), file=PATH, mdts=0..15, qpairs=1..511, mqes=2..65536 (entries), "       \
	"lat_us=N, serial=TEXT (<=20 chars), sgl=0|1, dbbuf=0|1, vwc=0|1, cpu=N; "          \
	"e.g. emu:ns=1G:4096,ns=64M:512:/tmp/ns2.img,qpairs=8"

static void emu_opts_defaults(struct emu_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->nr_ns = 1;
	o->ns[0].size = 1ull << 30;
	o->ns[0].block_size = 4096;
	o->mdts = 7;
	o->qpairs = 64;
	o->mqes = 1024;
	strcpy(o->serial, "NVPEMU0001");
	o->sgl = true;
	o->dbbuf = true;
	o->vwc = true;
	o->cpu = -1;
}

/* "1G", "64M", "512k", "4096", "2GiB": binary multiples. */
static int emu_parse_uint(const char *s, uint64_t min, uint64_t max, uint64_t *out)
{
	char *end;
	unsigned long long v;

	if (!*s || *s == '-')
		return -EINVAL;
	errno = 0;
	v = strtoull(s, &end, 0);
	if (errno || *end || v < min || v > max)
		return -EINVAL;
	*out = v;
	return 0;
}

static int emu_parse_bool(const char *s, bool *out)
{
	if (!strcmp(s, "1") || !strcmp(s, "on") || !strcmp(s, "yes")) {
		*out = true;
		return 0;
	}
	if (!strcmp(s, "0") || !strcmp(s, "off") || !strcmp(s, "no")) {
		*out = false;
		return 0;
	}
	return -EINVAL;
}

/* ns=SIZE[:BLOCK[:PATH]]; PATH is the rest, so it may contain colons. */
static int emu_parse_ns(char *val, struct emu_ns_opts *ns)
{
	char *bs = strchr(val, ':');
	char *path = NULL;
	uint64_t v;

	if (bs) {
		*bs++ = '\0';
		path = strchr(bs, ':');
		if (path)
			*path++ = '\0';
	}
	ns->size = 0;
	if (*val && nvp_parse_size(val, &ns->size))
		return -EINVAL;
	ns->block_size = 4096;
	if (bs && *bs) {
		if (nvp_parse_size(bs, &v) || v < 512 || v > 65536 || (v & (v - 1)))
			return -EINVAL;
		ns->block_size = (uint32_t)v;
	}
	ns->path[0] = '\0';
	if (path && *path) {
		if (strlen(path) >= sizeof(ns->path))
			return -EINVAL;
		strcpy(ns->path, path);
	}
	/* Size may only be left out when a file gives it. */
	if (!ns->size && !ns->path[0])
		return -EINVAL;
	if (ns->size % ns->block_size)
		return -EINVAL;
	return 0;
}

int nvp_emu_parse_opts(const char *spec, struct emu_opts *o)
{
	char *copy, *save = NULL, *tok;
	bool ns_given = false;
	int ret = 0;

	emu_opts_defaults(o);
	if (!spec)
		return 0;
	if (!strncmp(spec, "emu:", 4))
		spec += 4;
	else if (!strcmp(spec, "emu"))
		spec += 3;
	copy = strdup(spec);
	if (!copy)
		return nvp_error(-ENOMEM, "emu: out of memory parsing \"%s\"", spec);

	for (tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		char *val = strchr(tok, '=');
		uint64_t v;

		if (!val) {
			ret = nvp_error(-EINVAL, "emu: option \"%s\" has no value; " EMU_VALID_OPTS,
					tok);
			break;
		}
		*val++ = '\0';
		if (!strcmp(tok, "ns")) {
			if (!ns_given) {
				o->nr_ns = 0;
				ns_given = true;
			}
			if (o->nr_ns == EMU_MAX_NS) {
				ret = nvp_error(-EINVAL, "emu: more than %d namespaces; " EMU_VALID_OPTS,
						EMU_MAX_NS);
				break;
			}
			if (emu_parse_ns(val, &o->ns[o->nr_ns])) {
				ret = nvp_error(-EINVAL,
						"emu: bad namespace \"ns=%s\": SIZE is bytes with an optional K/M/G/T suffix and a multiple of BLOCK (a power of two, 512..65536); SIZE may be empty only with a PATH; " EMU_VALID_OPTS,
						val);
				break;
			}
			o->nr_ns++;
		} else if (!strcmp(tok, "file")) {
			struct emu_ns_opts *ns = &o->ns[o->nr_ns - 1];

			if (!*val || strlen(val) >= sizeof(ns->path)) {
				ret = nvp_error(-EINVAL, "emu: bad file=\"%s\"; " EMU_VALID_OPTS, val);
				break;
			}
			strcpy(ns->path, val);
		} else if (!strcmp(tok, "mdts")) {
			if (emu_parse_uint(val, 0, 15, &v)) {
				ret = nvp_error(-EINVAL, "emu: bad mdts=%s (0 = no limit, else 2^N 4 KiB pages, N <= 15); " EMU_VALID_OPTS,
						val);
				break;
			}
			o->mdts = (uint8_t)v;
		} else if (!strcmp(tok, "qpairs")) {
			if (emu_parse_uint(val, 1, EMU_MAX_QPAIRS, &v)) {
				ret = nvp_error(-EINVAL, "emu: bad qpairs=%s; " EMU_VALID_OPTS, val);
				break;
			}
			o->qpairs = (uint32_t)v;
		} else if (!strcmp(tok, "mqes")) {
			if (emu_parse_uint(val, 2, 65536, &v)) {
				ret = nvp_error(-EINVAL, "emu: bad mqes=%s (queue entries, not 0's based); " EMU_VALID_OPTS,
						val);
				break;
			}
			o->mqes = (uint32_t)v;
		} else if (!strcmp(tok, "lat_us")) {
			if (emu_parse_uint(val, 0, 60000000, &v)) {
				ret = nvp_error(-EINVAL, "emu: bad lat_us=%s (0..60000000); " EMU_VALID_OPTS,
						val);
				break;
			}
			o->lat_us = (uint32_t)v;
		} else if (!strcmp(tok, "cpu")) {
			if (emu_parse_uint(val, 0, CPU_SETSIZE - 1, &v)) {
				ret = nvp_error(-EINVAL, "emu: bad cpu=%s (a CPU number); " EMU_VALID_OPTS,
						val);
				break;
			}
			o->cpu = (int)v;
		} else if (!strcmp(tok, "serial")) {
			size_t n = strlen(val);

			for (size_t i = 0; i < n; i++)
				if (val[i] < 0x20 || val[i] > 0x7e)
					n = 0;
			if (n == 0 || n > 20) {
				ret = nvp_error(-EINVAL, "emu: bad serial=\"%s\" (1..20 printable ASCII characters); " EMU_VALID_OPTS,
						val);
				break;
			}
			strcpy(o->serial, val);
		} else if (!strcmp(tok, "sgl") || !strcmp(tok, "dbbuf") || !strcmp(tok, "vwc")) {
			bool *b = !strcmp(tok, "sgl") ? &o->sgl :
				  !strcmp(tok, "dbbuf") ? &o->dbbuf : &o->vwc;

			if (emu_parse_bool(val, b)) {
				ret = nvp_error(-EINVAL, "emu: bad %s=%s (0 or 1); " EMU_VALID_OPTS, tok,
						val);
				break;
			}
		} else {
			ret = nvp_error(-EINVAL, "emu: unknown option \"%s\"; " EMU_VALID_OPTS, tok);
			break;
		}
	}
	free(copy);
	return ret;
}
