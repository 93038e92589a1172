/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Zipf-distributed ranks by rejection-inversion (Hoermann and Derflinger,
 * 1996): constant setup and expected constant time per draw for any
 * exponent > 0 and any number of elements, with no table of size n.
 */
#ifndef NVPOLL_PERF_ZIPF_H
#define NVPOLL_PERF_ZIPF_H

#include <stdint.h>

#include "rng.h"

struct zipf {
	uint64_t n;
	double theta;
	double h_integral_x1;
	double h_integral_n;
	double s;
};

/* Prepare draws over ranks 1..@n with exponent @theta. Returns -1 if invalid. */
int zipf_init(struct zipf *z, uint64_t n, double theta);

/* A rank in 1..n; rank 1 is the most frequent. */
uint64_t zipf_next(const struct zipf *z, struct rng *r);

#endif /* NVPOLL_PERF_ZIPF_H */
