/* SPDX-License-Identifier: BSD-3-Clause */
/* lib/util/size.h - sizes as people write them ("64M", "1GiB", "4096"). */
#ifndef NVP_LIB_UTIL_SIZE_H
#define NVP_LIB_UTIL_SIZE_H

#include <stdint.h>

/**
 * nvp_parse_size() - parse a decimal byte count with an optional binary
 * suffix: K, M, G or T (also KB/KiB...), case-insensitive.
 * @s: the text.
 * @out: out: bytes.
 *
 * The text must start with a digit: no white space, no sign. The number is
 * decimal ("010" is ten).
 *
 * Return: 0, or -EINVAL for anything else (sign, space, junk, a value that
 * does not fit 64 bits after the suffix).
 */
int nvp_parse_size(const char *s, uint64_t *out);

#endif /* NVP_LIB_UTIL_SIZE_H */
