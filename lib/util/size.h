/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * lib/util/size.h - size parsing lives in nvpoll_sysfs, shared with the
 * tools (nvpoll_sysfs/size.h); this name stays for the library's own
 * sources that include it.
 */
#ifndef NVP_LIB_UTIL_SIZE_H
#define NVP_LIB_UTIL_SIZE_H

#include <nvpoll_sysfs/size.h>

#endif /* NVP_LIB_UTIL_SIZE_H */
