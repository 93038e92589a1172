/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * nvpoll_sysfs/size.h - sizes as people write them ("64M", "1GiB", "4096"):
 * emu: options, hugepage sizes, the tools' options. Part of nvpoll_sysfs
 * (see sysfs.h).
 */
#ifndef NVPOLL_SYSFS_SIZE_H
#define NVPOLL_SYSFS_SIZE_H

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

#endif /* NVPOLL_SYSFS_SIZE_H */
