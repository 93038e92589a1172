/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * test/fuzz/fuzz_addr.c - libFuzzer target: the text parsers an address
 * goes through, with no device behind them:
 *   nvp_pci_parse_addr()  "DDDD:BB:DD.F" / "BB:DD.F"   (lib/pci)
 *   nvp_emu_parse_opts()  "emu:ns=1G:4096,..."         (lib/emu)
 *   nvp_parse_size()      "64M", "1GiB"                (lib/util)
 *
 * Beyond "no crash, no sanitizer report", what a parser accepts must obey
 * its documented rules; a breach abort()s so libFuzzer reports it.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "emu/emu.h"
#include "pci/pci.h"
#include "util/log.h"
#include "util/size.h"

#define CHECK(cond)                                                                 \
	do {                                                                        \
		if (!(cond)) {                                                      \
			fprintf(stderr, "fuzz_addr: %s:%d: %s\n", __FILE__, __LINE__, #cond); \
			abort();                                                    \
		}                                                                   \
	} while (0)

static void check_pci(const char *s)
{
	struct nvp_pci_addr a, b;
	char canon[NVP_PCI_ADDR_STRLEN], again[NVP_PCI_ADDR_STRLEN];

	if (nvp_pci_parse_addr(s, &a, canon))
		return;
	/* Accepted: in range, and the canonical form parses to the same. */
	CHECK(a.dev <= 0x1f && a.func <= 7 && a.domain <= 0xffff);
	CHECK(strlen(canon) == 12);
	CHECK(nvp_pci_parse_addr(canon, &b, again) == 0);
	CHECK(!memcmp(&a, &b, sizeof(a)) && !strcmp(canon, again));
}

static void check_size(const char *s)
{
	uint64_t v, w;
	char buf[32];

	if (nvp_parse_size(s, &v))
		return;
	/* Accepted: it starts with a digit (no sign, no space) ... */
	CHECK(s[0] >= '0' && s[0] <= '9');
	/* ... and the value prints and parses back to itself. */
	snprintf(buf, sizeof(buf), "%llu", (unsigned long long)v);
	CHECK(nvp_parse_size(buf, &w) == 0 && w == v);
}

static void check_emu(const char *s)
{
	struct emu_opts o;

	if (nvp_emu_parse_opts(s, &o)) {
		/* Every refusal says what is valid. */
		CHECK(strstr(nvp_last_error(), "valid options") ||
		      strstr(nvp_last_error(), "out of memory"));
		return;
	}
	CHECK(o.nr_ns >= 1 && o.nr_ns <= EMU_MAX_NS);
	for (unsigned int i = 0; i < o.nr_ns; i++) {
		uint32_t bs = o.ns[i].block_size;

		CHECK(bs >= 512 && bs <= 65536 && !(bs & (bs - 1)));
		CHECK(o.ns[i].size % bs == 0 && o.ns[i].size <= (1ull << 56));
		CHECK(o.ns[i].size || o.ns[i].path[0]);
		CHECK(strlen(o.ns[i].path) < sizeof(o.ns[i].path));
	}
	CHECK(o.mdts <= 15);
	CHECK(o.qpairs >= 1 && o.qpairs <= EMU_MAX_QPAIRS);
	CHECK(o.mqes >= 2 && o.mqes <= 65536);
	CHECK(o.lat_us <= 60000000);
	CHECK(o.cpu >= -1 && o.cpu < 1024);
	CHECK(strlen(o.serial) >= 1 && strlen(o.serial) <= 20);
	for (const char *p = o.serial; *p; p++)
		CHECK(*p >= 0x20 && *p <= 0x7e);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s;

	if (size > 4 * 4096 + 256)
		return 0;	/* longer than any path-bearing address */
	s = malloc(size + 1);
	if (!s)
		return 0;
	memcpy(s, data, size);
	s[size] = '\0';
	check_pci(s);
	check_size(s);
	check_emu(s);
	free(s);
	return 0;
}
