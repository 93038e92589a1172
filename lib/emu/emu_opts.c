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
	"valid options: ns=SIZE[:BLOCK[+MS][:ext][:piN][:first]][:PATH] (up to 16), " \
	"file=, mdts=, qpairs=, mqes=, lat_us=, serial=, sgl|dbbuf|vwc|cmds=0|1, "     \
	"cpu=, msrc|mssrl|mcl|acwu=, zoned=ZSIZE[/ZCAP], zone_open=, zone_active=, "  \
	"zasl=, cmb=, raw= (docs/emu.md); e.g. emu:ns=1G:4096,ns=64M:512,qpairs=8"

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
	/* Copy limits and the compare-and-write unit: QEMU 7.2's defaults for
	 * Copy (MSRC 127, MSSRL 128, MCL 128); ACWU 63 (64 blocks). */
	o->msrc = 127;
	o->mssrl = 128;
	o->mcl = 128;
	o->acwu = 63;
	o->cmds = true;
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

/* True if @w is @prefix followed by one or more digits and nothing else. */
static bool emu_word_num(const char *w, const char *prefix)
{
	size_t n = strlen(prefix);

	if (strncmp(w, prefix, n) || !w[n])
		return false;
	for (w += n; *w; w++)
		if (*w < '0' || *w > '9')
			return false;
	return true;
}

/*
 * Metadata words after BLOCK: ext|sep (layout), pi0..pi3 (PI type),
 * first|last (PI location), pif0|pif2 (PI format). Each once; the first
 * word that is none of these (nor piN/pifN with another number) starts
 * PATH. Return: 1 if @w is one (applied), 0 if not, or -EINVAL with a
 * message.
 */
static int emu_parse_md_word(const char *spec, const char *w, struct emu_ns_opts *ns,
			     unsigned int *seen)
{
	static const char *const words[] = { "ext", "sep", "first", "last", "pif0", "pif2" };
	struct emu_clip c1, c2;
	unsigned int bit;

	if (emu_word_num(w, "pi")) {
		if (w[2] > '3' || w[3])
			return nvp_error(-EINVAL, "emu: bad namespace \"ns=%s\": \"%s\" is not a protection information type; give pi0, pi1, pi2 or pi3; " EMU_VALID_OPTS,
					 emu_clip(spec, &c1), emu_clip(w, &c2));
		bit = 1u << 1;
		if (*seen & bit)
			return nvp_error(-EINVAL, "emu: bad namespace \"ns=%s\": the PI type is given twice; give one of pi0..pi3 once; " EMU_VALID_OPTS,
					 emu_clip(spec, &c1));
		*seen |= bit;
		ns->pi = (uint8_t)(w[2] - '0');
		return 1;
	}
	if (emu_word_num(w, "pif") && strcmp(w, "pif0") && strcmp(w, "pif2"))
		return nvp_error(-EINVAL, "emu: bad namespace \"ns=%s\": \"%s\" is not a PI format emu implements; give pif0 (16-bit guard) or pif2 (64-bit guard); " EMU_VALID_OPTS,
				 emu_clip(spec, &c1), emu_clip(w, &c2));
	for (unsigned int k = 0; k < 6; k++) {
		static const char *const what[] = { "the layout (ext|sep)",
						    "the PI location (first|last)",
						    "the PI format (pif0|pif2)" };

		if (strcmp(w, words[k]))
			continue;
		bit = k < 2 ? 1u << 0 : k < 4 ? 1u << 2 : 1u << 3;
		if (*seen & bit)
			return nvp_error(-EINVAL, "emu: bad namespace \"ns=%s\": %s is given twice; give each of ext|sep, first|last and pif0|pif2 once at most; " EMU_VALID_OPTS,
					 emu_clip(spec, &c1), what[k / 2]);
		*seen |= bit;
		if (k < 2)
			ns->ext = k == 0;
		else if (k < 4)
			ns->pi_first = k == 2;
		else
			ns->pif = k == 5 ? 2 : 0;
		return 1;
	}
	return 0;
}

/* The metadata words' constraints, as QEMU's nvme-ns enforces them. */
static int emu_check_md(const char *spec, const struct emu_ns_opts *ns, unsigned int seen)
{
	struct emu_clip c1;

	if (ns->pi && ns->ms < 8)
		return nvp_error(-EINVAL, "emu: bad namespace \"ns=%s\": pi%u needs at least 8 bytes of metadata per block for its tuple; give BLOCK+MS, e.g. ns=64M:4096+8:pi%u; " EMU_VALID_OPTS,
				 emu_clip(spec, &c1), ns->pi, ns->pi);
	if ((seen & 1u) && !ns->ms)
		return nvp_error(-EINVAL, "emu: bad namespace \"ns=%s\": ext|sep chooses where metadata goes, but there is none; give BLOCK+MS, e.g. ns=64M:512+8:ext; " EMU_VALID_OPTS,
				 emu_clip(spec, &c1));
	if (ns->pif && ns->pi && ns->ms < 16)
		return nvp_error(-EINVAL, "emu: bad namespace \"ns=%s\": pif2 (the 64-bit guard) needs at least 16 bytes of metadata per block for its tuple; give BLOCK+MS, e.g. ns=64M:4096+16:pi1:pif2; " EMU_VALID_OPTS,
				 emu_clip(spec, &c1));
	if ((seen & 8u) && !ns->pi)
		return nvp_error(-EINVAL, "emu: bad namespace \"ns=%s\": pif0|pif2 chooses the PI format, but the namespace has no PI; add pi1..pi3, e.g. ns=64M:4096+16:pi1:pif2; " EMU_VALID_OPTS,
				 emu_clip(spec, &c1));
	if ((seen & 4u) && !ns->pi)
		return nvp_error(-EINVAL, "emu: bad namespace \"ns=%s\": first|last places protection information, but the namespace has none; add pi1..pi3, e.g. ns=64M:4096+16:pi1:first; " EMU_VALID_OPTS,
				 emu_clip(spec, &c1));
	return 0;
}

/*
 * ns=SIZE[:BLOCK[+MS][:ext|sep][:piN][:first|last]][:PATH]; PATH is the
 * rest, so it may contain colons. The message names the part that is wrong.
 */
static int emu_parse_ns(const char *spec, struct emu_ns_opts *ns)
{
	char val[PATH_MAX + 64];
	char *size, *bs, *path = NULL, *ms;
	struct emu_clip c1, c2;
	unsigned int md_seen = 0;
	uint64_t v;
	int ret;

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
	ns->ms = 0;
	ns->ext = false;
	ns->pi = 0;
	ns->pi_first = false;
	ns->pif = 0;
	while (path) {
		char *next = strchr(path, ':');
		int r;

		if (next)
			*next = '\0';
		r = emu_parse_md_word(spec, path, ns, &md_seen);
		if (r < 0)
			return r;
		if (!r) {
			if (next)
				*next = ':';	/* PATH starts here and keeps its colons */
			break;
		}
		path = next ? next + 1 : NULL;
	}
	if (bs && (ms = strchr(bs, '+'))) {
		*ms++ = '\0';
		if (emu_parse_uint(ms, 0, EMU_MAX_MS, &v))
			return nvp_error(-EINVAL, "emu: bad namespace \"ns=%s\": MS \"%s\" is not a metadata size from 0 to %d bytes per block (BLOCK+MS, e.g. 4096+8); " EMU_VALID_OPTS,
					 emu_clip(spec, &c1), emu_clip(ms, &c2), EMU_MAX_MS);
		ns->ms = (uint16_t)v;
	}
	ret = emu_check_md(spec, ns, md_seen);
	if (ret)
		return ret;
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
	"msrc", "mssrl", "mcl", "acwu", "cmds",
	"zasl",
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

/*
 * zoned=ZSIZE[/ZCAP] for the namespace of the last ns=: zone size and
 * capacity in bytes, whole blocks, ZCAP <= ZSIZE (default ZSIZE), and the
 * namespace whole zones.
 */
static int emu_parse_zoned(char *val, struct emu_ns_opts *ns, unsigned int nsid)
{
	char *cap = strchr(val, '/');
	struct emu_clip c1;
	uint64_t zs, zc;

	if (cap)
		*cap++ = '\0';
	if (nvp_parse_size(val, &zs) || zs == 0 || zs % ns->block_size)
		return nvp_error(-EINVAL, "emu: bad zoned=%s for namespace %u: ZSIZE must be a byte count that is a whole number of %u-byte blocks, e.g. zoned=4M/3M; " EMU_VALID_OPTS,
				 emu_clip(val, &c1), nsid, ns->block_size);
	zc = zs;
	if (cap && (nvp_parse_size(cap, &zc) || zc == 0 || zc % ns->block_size || zc > zs))
		return nvp_error(-EINVAL, "emu: bad zoned=.../%s for namespace %u: ZCAP must be whole %u-byte blocks, more than 0 and at most ZSIZE; " EMU_VALID_OPTS,
				 emu_clip(cap, &c1), nsid, ns->block_size);
	if (zs / ns->block_size > 0xffffffffull)
		return nvp_error(-EINVAL, "emu: zoned=%s for namespace %u: a zone of more than 2^32 blocks is not supported; give a smaller ZSIZE; " EMU_VALID_OPTS,
				 emu_clip(val, &c1), nsid);
	if (ns->size && (ns->size % zs || ns->size / zs > 65536))
		return nvp_error(-EINVAL, "emu: namespace %u of %llu bytes is not a whole number of %llu-byte zones (1 to 65536 of them); make SIZE a multiple of ZSIZE; " EMU_VALID_OPTS,
				 nsid, (unsigned long long)ns->size, (unsigned long long)zs);
	ns->zone_size = zs;
	ns->zone_cap = zc;
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
		} else if (!strcmp(tok, "zoned")) {
			if (!ns_given || o->ns[o->nr_ns - 1].zone_size) {
				ret = nvp_error(-EINVAL, "emu: zoned= must follow the ns= it makes zoned, once per namespace; " EMU_VALID_OPTS);
				break;
			}
			ret = emu_parse_zoned(val, &o->ns[o->nr_ns - 1], o->nr_ns);
			if (ret)
				break;
		} else if (!strcmp(tok, "zone_open") || !strcmp(tok, "zone_active")) {
			struct emu_ns_opts *ns = &o->ns[o->nr_ns - 1];
			bool open = !strcmp(tok, "zone_open");

			if (!ns_given || !ns->zone_size) {
				ret = nvp_error(-EINVAL, "emu: %s= must follow the zoned= of its namespace; " EMU_VALID_OPTS,
						tok);
				break;
			}
			if (emu_parse_uint(val, 0, 65536, &v)) {
				ret = nvp_error(-EINVAL, "emu: bad %s=%s (most zones %s at once, 0 = no limit); " EMU_VALID_OPTS,
						tok, emu_clip(val, &c1), open ? "open" : "active");
				break;
			}
			if (open)
				ns->max_open = (uint32_t)v;
			else
				ns->max_active = (uint32_t)v;
			if (ns->max_open && ns->max_active && ns->max_open > ns->max_active) {
				ret = nvp_error(-EINVAL, "emu: zone_open=%u is more than zone_active=%u: an open zone is active too; " EMU_VALID_OPTS,
						ns->max_open, ns->max_active);
				break;
			}
		} else if (!strcmp(tok, "zasl")) {
			if (emu_parse_uint(val, 0, 15, &v)) {
				ret = nvp_error(-EINVAL, "emu: bad zasl=%s (Zone Append limit: 0 = MDTS, else 2^N 4 KiB pages, N <= 15); " EMU_VALID_OPTS,
						emu_clip(val, &c1));
				break;
			}
			o->zasl = (uint8_t)v;
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
		} else if (!strcmp(tok, "msrc") || !strcmp(tok, "mssrl") || !strcmp(tok, "mcl") ||
			   !strcmp(tok, "acwu")) {
			/* Identify's own widths; MSRC and ACWU are 0's based. */
			bool zb = !strcmp(tok, "msrc") || !strcmp(tok, "acwu");
			uint64_t max = !strcmp(tok, "msrc") ? 255 : !strcmp(tok, "mcl") ? UINT32_MAX :
				       65535;

			if (emu_parse_uint(val, zb ? 0 : 1, max, &v)) {
				ret = nvp_error(-EINVAL, "emu: bad %s=%s (%s..%llu%s); " EMU_VALID_OPTS,
						tok, emu_clip(val, &c1), zb ? "0" : "1",
						(unsigned long long)max, zb ? ", 0's based" : "");
				break;
			}
			if (!strcmp(tok, "msrc"))
				o->msrc = (uint8_t)v;
			else if (!strcmp(tok, "mssrl"))
				o->mssrl = (uint16_t)v;
			else if (!strcmp(tok, "mcl"))
				o->mcl = (uint32_t)v;
			else
				o->acwu = (uint16_t)v;
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
		} else if (!strcmp(tok, "sgl") || !strcmp(tok, "dbbuf") || !strcmp(tok, "vwc") ||
			   !strcmp(tok, "cmds")) {
			bool *b = !strcmp(tok, "sgl") ? &o->sgl :
				  !strcmp(tok, "dbbuf") ? &o->dbbuf :
				  !strcmp(tok, "vwc") ? &o->vwc : &o->cmds;

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
	if (!ret && o->zasl && o->mdts && o->zasl > o->mdts)
		ret = nvp_error(-EINVAL, "emu: zasl=%u is above mdts=%u: an append moves no more than any command; " EMU_VALID_OPTS,
				o->zasl, o->mdts);
	return ret;
}
