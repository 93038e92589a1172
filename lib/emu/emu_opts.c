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

/* Short enough that any message ending in it fits nvp_error()'s 512 bytes. */
#define EMU_VALID_OPTS                                                              \
	"valid options: ns=SIZE[:BLOCK[:PATH]] (up to 16), file=PATH, mdts=0..15, "  \
	"qpairs=1..511, mqes=2..65536, lat_us=N, serial=TEXT, sgl|dbbuf|vwc=0|1, "   \
	"cmb=SIZE, cpu=N, raw=PATH (tests); e.g. emu:ns=1G:4096,ns=64M:512,qpairs=8"

/* User text quoted in a message: clipped, so the advice after it is never cut. */
struct emu_clip {
	char s[48];
};

static const char *emu_clip(const char *text, struct emu_clip *c)
{
	if (strlen(text) <= 40)
		return text;
	snprintf(c->s, sizeof(c->s), "%.37s...", text);
	return c->s;
}

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

/*
 * A decimal number in [min, max]. Digits only: strtoull() alone would skip
 * white space, take a sign (" -1" is 2^64 - 1) and, with base 0, read
 * "010" as eight.
 */
static int emu_parse_uint(const char *s, uint64_t min, uint64_t max, uint64_t *out)
{
	char *end;
	unsigned long long v;

	if (*s < '0' || *s > '9')
		return -EINVAL;
	errno = 0;
	v = strtoull(s, &end, 10);
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

/*
 * Above any user address space (57-bit virtual addresses): such a
 * namespace could never be mapped, so it is a typo, not a big disk.
 */
#define EMU_MAX_NS_BYTES (1ull << 56)

/*
 * ns=SIZE[:BLOCK[:PATH]]; PATH is the rest, so it may contain colons. The
 * message names the part that is wrong.
 */
static int emu_parse_ns(const char *spec, struct emu_ns_opts *ns)
{
	char val[PATH_MAX + 64];
	char *size, *bs, *path = NULL;
	struct emu_clip c1, c2;
	uint64_t v;

	if (strlen(spec) >= sizeof(val))
		return nvp_error(-EINVAL, "emu: bad namespace \"ns=%s\": PATH is longer than %d characters; " EMU_VALID_OPTS,
				 emu_clip(spec, &c1), PATH_MAX - 1);
	strcpy(val, spec);
	size = val;
	bs = strchr(val, ':');
	if (bs) {
		*bs++ = '\0';
		path = strchr(bs, ':');
		if (path)
			*path++ = '\0';
	}
	ns->block_size = 4096;
	if (bs && *bs) {
		if (nvp_parse_size(bs, &v) || v < 512 || v > 65536 || (v & (v - 1)))
			return nvp_error(-EINVAL, "emu: bad namespace \"ns=%s\": BLOCK \"%s\" is not a power of two from 512 to 65536 (the block size, e.g. 512 or 4096); " EMU_VALID_OPTS,
					 emu_clip(spec, &c1), emu_clip(bs, &c2));
		ns->block_size = (uint32_t)v;
	}
	ns->path[0] = '\0';
	if (path && *path) {
		if (strlen(path) >= sizeof(ns->path))
			return nvp_error(-EINVAL, "emu: bad namespace \"ns=%s\": PATH is longer than %d characters; " EMU_VALID_OPTS,
					 emu_clip(spec, &c1), PATH_MAX - 1);
		strcpy(ns->path, path);
	}
	ns->size = 0;
	if (!*size) {
		/* Size may only be left out when a file gives it. */
		if (!ns->path[0])
			return nvp_error(-EINVAL, "emu: bad namespace \"ns=%s\": SIZE may be empty only when PATH names an existing file (ns=:%u:/var/tmp/ns1.img); give a size, e.g. ns=64M:%u; " EMU_VALID_OPTS,
					 emu_clip(spec, &c1), ns->block_size, ns->block_size);
		return 0;
	}
	if (nvp_parse_size(size, &ns->size))
		return nvp_error(-EINVAL, "emu: bad namespace \"ns=%s\": SIZE \"%s\" is not a byte count (digits with an optional K/M/G/T suffix, no sign or spaces, e.g. 64M or 1G); " EMU_VALID_OPTS,
				 emu_clip(spec, &c1), emu_clip(size, &c2));
	if (!ns->size)
		return nvp_error(-EINVAL, "emu: bad namespace \"ns=%s\": SIZE is 0; a namespace needs at least one block, e.g. ns=64M:%u; " EMU_VALID_OPTS,
				 emu_clip(spec, &c1), ns->block_size);
	if (ns->size > EMU_MAX_NS_BYTES)
		return nvp_error(-EINVAL, "emu: bad namespace \"ns=%s\": SIZE %s is above 2^56 bytes, more than any address space can map; give a smaller size; " EMU_VALID_OPTS,
				 emu_clip(spec, &c1), emu_clip(size, &c2));
	if (ns->size % ns->block_size)
		return nvp_error(-EINVAL, "emu: bad namespace \"ns=%s\": SIZE %llu is not a multiple of BLOCK %u; round it, e.g. ns=%lluK:%u; " EMU_VALID_OPTS,
				 emu_clip(spec, &c1), (unsigned long long)ns->size, ns->block_size,
				 (unsigned long long)((ns->size / ns->block_size + 1) * ns->block_size / 1024),
				 ns->block_size);
	return 0;
}

/* Options that may be given once; ns= repeats, file= once per namespace. */
static const char *const emu_once[] = {
	"mdts", "qpairs", "mqes", "lat_us", "cpu", "serial", "sgl", "dbbuf", "vwc", "raw",
	"cmb",
};

/* cmb=SIZE: whole MiB (CMBSZ.SZU is 1 MiB, as QEMU's cmb_size_mb), 0 = none. */
static int emu_parse_cmb(const char *val, uint64_t *out)
{
	struct emu_clip c1;
	uint64_t v;

	if (nvp_parse_size(val, &v) || (v & ((1ull << 20) - 1)) || v > (1ull << 30))
		return nvp_error(-EINVAL, "emu: bad cmb=%s: give the Controller Memory Buffer size in whole MiB up to 1G (e.g. cmb=16M), or 0 for none; " EMU_VALID_OPTS,
				 emu_clip(val, &c1));
	*out = v;
	return 0;
}

int nvp_emu_parse_opts(const char *spec, struct emu_opts *o)
{
	char *copy, *save = NULL, *tok;
	struct emu_clip c1;
	bool ns_given = false, file_given = false;
	unsigned int seen = 0;
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
		return nvp_error(-ENOMEM, "emu: out of memory parsing \"%s\"", emu_clip(spec, &c1));

	for (tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		char *val = strchr(tok, '=');
		uint64_t v;

		if (!val) {
			ret = nvp_error(-EINVAL, "emu: option \"%s\" has no value; " EMU_VALID_OPTS,
					emu_clip(tok, &c1));
			break;
		}
		*val++ = '\0';
		for (unsigned int k = 0; k < sizeof(emu_once) / sizeof(emu_once[0]); k++) {
			if (strcmp(tok, emu_once[k]))
				continue;
			if (seen & (1u << k))
				ret = nvp_error(-EINVAL, "emu: %s= is given twice; give each option once (only ns= repeats); " EMU_VALID_OPTS,
						tok);
			seen |= 1u << k;
		}
		if (ret)
			break;
		if (!strcmp(tok, "ns")) {
			if (!ns_given) {
				if (file_given) {
					ret = nvp_error(-EINVAL, "emu: file= comes before the first ns=, which replaces the default namespace file= would back; put file= after the ns= it backs, or use ns=SIZE:BLOCK:PATH; " EMU_VALID_OPTS);
					break;
				}
				o->nr_ns = 0;
				ns_given = true;
			}
			if (o->nr_ns == EMU_MAX_NS) {
				ret = nvp_error(-EINVAL, "emu: more than %d namespaces; " EMU_VALID_OPTS,
						EMU_MAX_NS);
				break;
			}
			ret = emu_parse_ns(val, &o->ns[o->nr_ns]);
			if (ret)
				break;
			o->nr_ns++;
		} else if (!strcmp(tok, "file")) {
			struct emu_ns_opts *ns = &o->ns[o->nr_ns - 1];

			if (!*val || strlen(val) >= sizeof(ns->path)) {
				ret = nvp_error(-EINVAL, "emu: bad file=\"%s\": give a path of 1 to %d characters; " EMU_VALID_OPTS,
						emu_clip(val, &c1), PATH_MAX - 1);
				break;
			}
			if (ns->path[0]) {
				ret = nvp_error(-EINVAL, "emu: namespace %u already has a backing file (%s); give it once, as ns=SIZE:BLOCK:PATH or as file=PATH after its ns=; " EMU_VALID_OPTS,
						o->nr_ns, emu_clip(ns->path, &c1));
				break;
			}
			file_given = true;
			strcpy(ns->path, val);
		} else if (!strcmp(tok, "cmb")) {
			ret = emu_parse_cmb(val, &o->cmb_bytes);
			if (ret)
				break;
		} else if (!strcmp(tok, "mdts")) {
			if (emu_parse_uint(val, 0, 15, &v)) {
				ret = nvp_error(-EINVAL, "emu: bad mdts=%s (0 = no limit, else 2^N 4 KiB pages, N <= 15); " EMU_VALID_OPTS,
						emu_clip(val, &c1));
				break;
			}
			o->mdts = (uint8_t)v;
		} else if (!strcmp(tok, "qpairs")) {
			if (emu_parse_uint(val, 1, EMU_MAX_QPAIRS, &v)) {
				ret = nvp_error(-EINVAL, "emu: bad qpairs=%s (1..511 I/O queue pairs); " EMU_VALID_OPTS,
						emu_clip(val, &c1));
				break;
			}
			o->qpairs = (uint32_t)v;
		} else if (!strcmp(tok, "mqes")) {
			if (emu_parse_uint(val, 2, 65536, &v)) {
				ret = nvp_error(-EINVAL, "emu: bad mqes=%s (queue entries, not 0's based); " EMU_VALID_OPTS,
						emu_clip(val, &c1));
				break;
			}
			o->mqes = (uint32_t)v;
		} else if (!strcmp(tok, "lat_us")) {
			if (emu_parse_uint(val, 0, 60000000, &v)) {
				ret = nvp_error(-EINVAL, "emu: bad lat_us=%s (0..60000000); " EMU_VALID_OPTS,
						emu_clip(val, &c1));
				break;
			}
			o->lat_us = (uint32_t)v;
		} else if (!strcmp(tok, "cpu")) {
			if (emu_parse_uint(val, 0, CPU_SETSIZE - 1, &v)) {
				ret = nvp_error(-EINVAL, "emu: bad cpu=%s (a CPU number, 0..%d); " EMU_VALID_OPTS,
						emu_clip(val, &c1), CPU_SETSIZE - 1);
				break;
			}
			o->cpu = (int)v;
		} else if (!strcmp(tok, "raw")) {
			if (!*val || strlen(val) >= sizeof(o->raw)) {
				ret = nvp_error(-EINVAL, "emu: bad raw=\"%s\": give the path of a raw data file, 1 to %d characters; " EMU_VALID_OPTS,
						emu_clip(val, &c1), PATH_MAX - 1);
				break;
			}
			strcpy(o->raw, val);
		} else if (!strcmp(tok, "serial")) {
			size_t n = strlen(val);

			for (size_t i = 0; i < n; i++)
				if (val[i] < 0x20 || val[i] > 0x7e)
					n = 0;
			if (n == 0 || n > 20) {
				ret = nvp_error(-EINVAL, "emu: bad serial=\"%s\" (1..20 printable ASCII characters); " EMU_VALID_OPTS,
						emu_clip(val, &c1));
				break;
			}
			strcpy(o->serial, val);
		} else if (!strcmp(tok, "sgl") || !strcmp(tok, "dbbuf") || !strcmp(tok, "vwc")) {
			bool *b = !strcmp(tok, "sgl") ? &o->sgl :
				  !strcmp(tok, "dbbuf") ? &o->dbbuf : &o->vwc;

			if (emu_parse_bool(val, b)) {
				ret = nvp_error(-EINVAL, "emu: bad %s=%s (0 or 1); " EMU_VALID_OPTS, tok,
						emu_clip(val, &c1));
				break;
			}
		} else {
			ret = nvp_error(-EINVAL, "emu: unknown option \"%s\"; " EMU_VALID_OPTS,
					emu_clip(tok, &c1));
			break;
		}
	}
	free(copy);
	return ret;
}
