/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * lib/sysfs/report.h - formatting nvpoll_sysfs's messages for
 * nvp_sysfs_report() (private to lib/sysfs).
 */
#ifndef NVP_LIB_SYSFS_REPORT_H
#define NVP_LIB_SYSFS_REPORT_H

#include <nvpoll_sysfs/sysfs.h>

/* Report @fmt at NVP_LOG_ERR and return @err (a negative errno). */
int sysfs_error(int err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Report @fmt at @level. */
void sysfs_log(enum nvp_log_level level, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

#define sysfs_warn(...) sysfs_log(NVP_LOG_WARN, __VA_ARGS__)
#define sysfs_info(...) sysfs_log(NVP_LOG_INFO, __VA_ARGS__)
#define sysfs_debug(...) sysfs_log(NVP_LOG_DEBUG, __VA_ARGS__)

#endif /* NVP_LIB_SYSFS_REPORT_H */
