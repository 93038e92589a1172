/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * lib/util/log.h - library messages.
 *
 * Quiet by default. Every failure path calls nvp_error() once, at the place
 * that knows what went wrong, with a message that says what to do next.
 */
#ifndef NVP_LIB_UTIL_LOG_H
#define NVP_LIB_UTIL_LOG_H

#include <nvpoll/nvpoll.h>

/**
 * nvp_log() - emit a message at @level (dropped cheaply when filtered).
 * @level: severity.
 * @fmt: printf format; one line, no trailing newline.
 */
void nvp_log(enum nvp_log_level level, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/**
 * nvp_error() - record and log an error, and return it.
 * @err: a negative errno.
 * @fmt: printf format: what went wrong and what to do.
 *
 * The message also becomes nvp_last_error() for this thread.
 *
 * Return: @err, so callers can write `return nvp_error(-EBUSY, "...");`.
 */
int nvp_error(int err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/**
 * nvp_error_fast() - record a constant error message without formatting or
 * logging, for expected hot-path conditions such as -EAGAIN.
 * @err: a negative errno.
 * @msg: a string literal.
 *
 * Return: @err.
 */
int nvp_error_fast(int err, const char *msg);

#define nvp_warn(...) nvp_log(NVP_LOG_WARN, __VA_ARGS__)
#define nvp_info(...) nvp_log(NVP_LOG_INFO, __VA_ARGS__)
#define nvp_debug(...) nvp_log(NVP_LOG_DEBUG, __VA_ARGS__)

#endif /* NVP_LIB_UTIL_LOG_H */
