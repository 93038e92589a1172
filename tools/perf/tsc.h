/* SPDX-License-Identifier: BSD-3-Clause */
/* TSC timing: one calibration against CLOCK_MONOTONIC, then no syscalls. */
#ifndef NVPOLL_PERF_TSC_H
#define NVPOLL_PERF_TSC_H

#include <stdbool.h>
#include <stdint.h>

#if defined(__x86_64__)
#include <x86intrin.h>

static inline uint64_t tsc_now(void)
{
	return __rdtsc();
}
#elif defined(__aarch64__)
/* arm64: the generic timer's virtual count (constant rate, EL0-readable);
 * the isb keeps it from being read before earlier instructions finish. */
static inline uint64_t tsc_now(void)
{
	uint64_t v;

	__asm__ __volatile__("isb; mrs %0, cntvct_el0" : "=r"(v) :: "memory");
	return v;
}
#else
#error "nvpoll-perf's timer (tools/perf/tsc.h) supports x86-64 and arm64"
#endif

/*
 * Measure the TSC rate over about @ms milliseconds of CLOCK_MONOTONIC.
 * Returns ticks per second, or 0 if the clock could not be read.
 */
uint64_t tsc_calibrate(unsigned int ms);

/* Whether /proc/cpuinfo says the TSC is invariant (constant_tsc, nonstop_tsc). */
bool tsc_is_invariant(void);

/* Conversions; @hz is the calibrated rate. */
static inline double tsc_to_us(uint64_t ticks, uint64_t hz)
{
	return (double)ticks * 1e6 / (double)hz;
}

static inline double tsc_to_ns(double ticks, uint64_t hz)
{
	return ticks * 1e9 / (double)hz;
}

static inline uint64_t tsc_from_sec(double sec, uint64_t hz)
{
	return (uint64_t)(sec * (double)hz);
}

#endif /* NVPOLL_PERF_TSC_H */
