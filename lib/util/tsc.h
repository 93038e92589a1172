/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * lib/util/tsc.h - a cheap monotonic tick for timeouts on the I/O path.
 *
 * In a guest under TCG the kernel clocksource is often not the TSC, and
 * clock_gettime() then becomes a real syscall; the poll loop must not pay
 * that. Ticks are converted to time with a rate calibrated once.
 */
#ifndef NVP_LIB_UTIL_TSC_H
#define NVP_LIB_UTIL_TSC_H

#include <stdint.h>
#include <time.h>

#if defined(__x86_64__) || defined(__i386__)
#include <x86intrin.h>
/* nvp_ticks() - the current tick (TSC on x86). */
static inline uint64_t nvp_ticks(void)
{
	return __rdtsc();
}
#elif defined(__aarch64__)
/* nvp_ticks() - the current tick: arm64's generic timer (virtual count),
 * constant rate, readable at EL0 as Linux's vDSO does. */
static inline uint64_t nvp_ticks(void)
{
	uint64_t v;

	__asm__ __volatile__("mrs %0, cntvct_el0" : "=r"(v));
	return v;
}
#else
static inline uint64_t nvp_ticks(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}
#endif

/**
 * nvp_ticks_per_ms() - ticks per millisecond, calibrated on first use.
 *
 * Calibration takes about 20 ms once per process; thread-safe.
 */
uint64_t nvp_ticks_per_ms(void);

/** nvp_monotonic_ms() - CLOCK_MONOTONIC in milliseconds (slow paths). */
uint64_t nvp_monotonic_ms(void);

/** nvp_monotonic_us() - CLOCK_MONOTONIC in microseconds (slow paths). */
uint64_t nvp_monotonic_us(void);

#endif /* NVP_LIB_UTIL_TSC_H */
