/* SPDX-License-Identifier: BSD-3-Clause */
/* lib/util/tsc.c - tick rate calibration. */
#include <pthread.h>
#include <time.h>

#include "util/tsc.h"

static uint64_t ticks_per_ms;
static pthread_once_t calibrate_once = PTHREAD_ONCE_INIT;

uint64_t nvp_monotonic_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

uint64_t nvp_monotonic_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000 + (uint64_t)ts.tv_nsec / 1000;
}

static uint64_t monotonic_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static void calibrate(void)
{
	const struct timespec nap = { .tv_sec = 0, .tv_nsec = 20 * 1000 * 1000 };
	uint64_t t0 = monotonic_ns(), c0 = nvp_ticks();
	uint64_t t1, c1;

	nanosleep(&nap, NULL);
	t1 = monotonic_ns();
	c1 = nvp_ticks();
	ticks_per_ms = (c1 - c0) * 1000000ull / (t1 > t0 ? t1 - t0 : 1);
	if (!ticks_per_ms)
		ticks_per_ms = 1;
}

uint64_t nvp_ticks_per_ms(void)
{
	pthread_once(&calibrate_once, calibrate);
	return ticks_per_ms;
}
