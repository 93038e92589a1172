/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * lib/util/opts.h - ABI-stable options structs: one way to take a caller's.
 *
 * Every public options struct starts with a size_t opts_size that says how
 * much of the struct the caller's header knew. An older, shorter struct is
 * copied as far as it goes over the defaults; a newer, longer one up to what
 * this library knows.
 */
#ifndef NVP_LIB_UTIL_OPTS_H
#define NVP_LIB_UTIL_OPTS_H

#include <errno.h>
#include <stddef.h>
#include <string.h>

#include "util/log.h"

/* Larger than any options struct will ever be: an uninitialised size. */
#define NVP_OPTS_SIZE_MAX 4096

/**
 * nvp_opts_overlay() - copy the caller's options over the defaults.
 * @out: our struct, already holding the defaults; its opts_size is set to
 *       @out_size.
 * @out_size: sizeof(*@out).
 * @in: the caller's struct (not NULL), starting with its size_t opts_size.
 * @what: the struct's name for the message ("nvp_ctrl_opts").
 * @init_fn: the function that initialises it ("nvp_ctrl_opts_init").
 *
 * Return: the bytes taken from @in (fields at or past it keep their
 * defaults), or -EINVAL when opts_size is 0 or absurd: the struct was not
 * initialised with @init_fn, so its other fields are garbage too.
 */
static inline int nvp_opts_overlay(void *out, size_t out_size, const void *in, const char *what,
				   const char *init_fn)
{
	size_t in_size, n;

	memcpy(&in_size, in, sizeof(in_size));
	if (in_size < sizeof(size_t) || in_size > NVP_OPTS_SIZE_MAX)
		return nvp_error(-EINVAL, "%s.opts_size is %zu; initialise the options with "
				 "%s(&opts, sizeof(opts)) before setting fields", what, in_size,
				 init_fn);
	n = in_size < out_size ? in_size : out_size;
	memcpy(out, in, n);
	memcpy(out, &out_size, sizeof(out_size));
	return (int)n;
}

#endif /* NVP_LIB_UTIL_OPTS_H */
