// SPDX-License-Identifier: BSD-3-Clause
#include <math.h>

#include "zipf.h"

/* log1p(x) / x, continuous at 0 */
static double helper1(double x)
{
	if (fabs(x) > 1e-8)
		return log1p(x) / x;
	return 1 - x * (0.5 - x * (1.0 / 3 - 0.25 * x));
}

/* expm1(x) / x, continuous at 0 */
static double helper2(double x)
{
	if (fabs(x) > 1e-8)
		return expm1(x) / x;
	return 1 + x * 0.5 * (1 + x / 3 * (1 + 0.25 * x));
}

/* h(x) = x^-theta, the unnormalised density */
static double zipf_h(const struct zipf *z, double x)
{
	return exp(-z->theta * log(x));
}

/* H(x) = integral of h from 1 to x: (x^(1-theta) - 1) / (1 - theta), or log x */
static double zipf_h_integral(const struct zipf *z, double x)
{
	double log_x = log(x);

	return helper2((1 - z->theta) * log_x) * log_x;
}

static double zipf_h_integral_inverse(const struct zipf *z, double x)
{
	double t = x * (1 - z->theta);

	if (t < -1)
		t = -1;	/* rounding can push it just past the pole */
	return exp(helper1(t) * x);
}

int zipf_init(struct zipf *z, uint64_t n, double theta)
{
	if (!n || !(theta > 0) || !isfinite(theta))
		return -1;
	z->n = n;
	z->theta = theta;
	z->h_integral_x1 = zipf_h_integral(z, 1.5) - 1;
	z->h_integral_n = zipf_h_integral(z, (double)n + 0.5);
	z->s = 2 - zipf_h_integral_inverse(z, zipf_h_integral(z, 2.5) - zipf_h(z, 2));
	return 0;
}

uint64_t zipf_next(const struct zipf *z, struct rng *r)
{
	for (;;) {
		double u = z->h_integral_n +
			   rng_double(r) * (z->h_integral_x1 - z->h_integral_n);
		double x = zipf_h_integral_inverse(z, u);
		double kd = floor(x + 0.5);
		uint64_t k;

		if (kd < 1)
			kd = 1;
		else if (kd > (double)z->n)
			kd = (double)z->n;
		k = (uint64_t)kd;
		if (kd - x <= z->s || u >= zipf_h_integral(z, kd + 0.5) - zipf_h(z, kd))
			return k;
	}
}
