/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * lib/util/crc32c.h - CRC32C (Castagnoli), the NVMe/TCP header and data
 * digest (and iSCSI's): reflected polynomial 0x82F63B78, initial value and
 * final XOR 0xFFFFFFFF.
 *
 * Hardware where the CPU has it (x86-64 SSE4.2 crc32, arm64 CRC32C
 * instructions), chosen once at first use; a slice-by-8 table otherwise.
 */
#ifndef NVP_LIB_UTIL_CRC32C_H
#define NVP_LIB_UTIL_CRC32C_H

#include <stddef.h>
#include <stdint.h>

/* The running state before any byte, and what turns a state into a CRC. */
#define NVP_CRC32C_INIT 0xffffffffu

/**
 * nvp_crc32c_update() - feed @len bytes into a running CRC32C state.
 * @state: NVP_CRC32C_INIT, or what the previous call returned.
 * @buf: the bytes. @len: how many.
 *
 * Return: the new state; the CRC of everything fed is its complement
 * (nvp_crc32c_final()).
 */
uint32_t nvp_crc32c_update(uint32_t state, const void *buf, size_t len);

static inline uint32_t nvp_crc32c_final(uint32_t state)
{
	return state ^ 0xffffffffu;
}

/* The CRC32C of one buffer. */
static inline uint32_t nvp_crc32c(const void *buf, size_t len)
{
	return nvp_crc32c_final(nvp_crc32c_update(NVP_CRC32C_INIT, buf, len));
}

/* Which implementation nvp_crc32c_update() uses: "sse4.2", "armv8-crc" or "table". */
const char *nvp_crc32c_impl(void);

/* The table version, always available (the tests compare the two). */
uint32_t nvp_crc32c_update_table(uint32_t state, const void *buf, size_t len);

#endif /* NVP_LIB_UTIL_CRC32C_H */
