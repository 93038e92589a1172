// SPDX-License-Identifier: BSD-3-Clause
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "tsc.h"

static uint64_t mono_ns(void)
{
	struct timespec ts;

	if (clock_gettime(CLOCK_MONOTONIC, &ts))
		return 0;
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/*
 * Bracket each clock read with TSC reads and keep the tightest bracket, so a
 * preemption between the two reads does not skew the rate.
 */
static int tsc_mono_pair(uint64_t *tsc, uint64_t *ns)
{
	uint64_t best = UINT64_MAX;

	for (int i = 0; i < 5; i++) {
		uint64_t t0 = tsc_now(), n = mono_ns(), t1 = tsc_now();

		if (!n)
			return -1;
		if (t1 - t0 < best) {
			best = t1 - t0;
			*tsc = t0 + (t1 - t0) / 2;
			*ns = n;
		}
	}
	return 0;
}

uint64_t tsc_calibrate(unsigned int ms)
{
	uint64_t tsc0 = 0, ns0 = 0, tsc1 = 0, ns1 = 0;
	struct timespec nap = { .tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000L };

	if (tsc_mono_pair(&tsc0, &ns0))
		return 0;
	nanosleep(&nap, NULL);
	if (tsc_mono_pair(&tsc1, &ns1) || ns1 <= ns0 || tsc1 <= tsc0)
		return 0;
	return (uint64_t)((double)(tsc1 - tsc0) * 1e9 / (double)(ns1 - ns0));
}

bool tsc_is_invariant(void)
{
#if defined(__aarch64__)
	return true;	/* the generic timer runs at a constant rate by definition */
#endif
	char line[16384];
	bool constant = false, nonstop = false;
	FILE *f = fopen("/proc/cpuinfo", "r");

	if (!f)
		return false;
	while (fgets(line, sizeof(line), f)) {
		if (strncmp(line, "flags", 5))
			continue;
		constant = strstr(line, " constant_tsc") != NULL;
		nonstop = strstr(line, " nonstop_tsc") != NULL;
		break;
	}
	fclose(f);
	return constant && nonstop;
}
