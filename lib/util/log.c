/* SPDX-License-Identifier: BSD-3-Clause */
/* lib/util/log.c - the log sink, level filter and per-thread last error. */
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "util/log.h"

/* Sink and level are read without a lock: a torn update can only route
 * one message to the previous sink. Level -1 means "not initialised yet". */
static nvp_log_fn log_fn;
static void *log_arg;
static _Atomic int log_level = -1;

static __thread char last_error[512];
/* Set by nvp_error_fast(): a literal, so the hot path copies nothing. */
static __thread const char *last_error_fast;

static const char *const level_names[] = { "error", "warning", "info", "debug" };

static void stderr_sink(enum nvp_log_level level, const char *msg, void *arg)
{
	(void)arg;
	fprintf(stderr, "nvpoll %s: %s\n", level_names[level], msg);
}

/* NVP_LOG=err|warn|info|debug enables the stderr sink when none is set. */
static int env_level(void)
{
	const char *e = getenv("NVP_LOG");

	if (!e || !*e)
		return -2; /* quiet */
	for (int i = NVP_LOG_ERR; i <= NVP_LOG_DEBUG; i++)
		if (!strncasecmp(e, level_names[i], 3))
			return i;
	return NVP_LOG_WARN;
}

static int current_level(void)
{
	int lvl = atomic_load_explicit(&log_level, memory_order_relaxed);

	if (lvl == -1) {
		lvl = env_level();
		atomic_store_explicit(&log_level, lvl, memory_order_relaxed);
	}
	return lvl;
}

void nvp_set_log(nvp_log_fn fn, void *arg, enum nvp_log_level max_level)
{
	log_fn = fn;
	log_arg = arg;
	atomic_store(&log_level, fn ? (int)max_level : env_level());
}

static void emit(enum nvp_log_level level, const char *msg)
{
	if ((int)level > current_level())
		return;
	if (log_fn)
		log_fn(level, msg, log_arg);
	else
		stderr_sink(level, msg, NULL);
}

void nvp_log(enum nvp_log_level level, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	if ((int)level > current_level())
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	emit(level, msg);
}

int nvp_error(int err, const char *fmt, ...)
{
	char msg[sizeof(last_error)];
	va_list ap;

	/* Format aside: callers often pass nvp_last_error() as an argument. */
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	memcpy(last_error, msg, sizeof(msg));
	last_error_fast = NULL;
	emit(NVP_LOG_ERR, last_error);
	return err;
}

int nvp_error_fast(int err, const char *msg)
{
	last_error_fast = msg;
	return err;
}

const char *nvp_last_error(void)
{
	return last_error_fast ? last_error_fast : last_error;
}
