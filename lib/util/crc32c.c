/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * lib/util/crc32c.c - CRC32C: the CPU's instructions where it has them, a
 * slice-by-8 table otherwise. The digests of NVMe/TCP cover every byte a
 * connection moves, so the hardware path matters (about 8 bytes per cycle
 * against about 1 for the table).
 */
#include <pthread.h>
#include <string.h>

#include "util/crc32c.h"

#if defined(__aarch64__)
#include <sys/auxv.h>
#ifndef HWCAP_CRC32
#define HWCAP_CRC32 (1 << 7)
#endif
#endif

#define CRC32C_POLY_REFLECTED 0x82f63b78u

/* slice-by-8: table[k][b] is the CRC of byte b followed by k zero bytes. */
static uint32_t crc_table[8][256];
static pthread_once_t crc_once = PTHREAD_ONCE_INIT;
static uint32_t (*crc_update)(uint32_t, const void *, size_t);
static const char *crc_name;

static void build_table(void)
{
	for (uint32_t b = 0; b < 256; b++) {
		uint32_t c = b;

		for (int i = 0; i < 8; i++)
			c = (c >> 1) ^ ((c & 1) ? CRC32C_POLY_REFLECTED : 0);
		crc_table[0][b] = c;
	}
	for (uint32_t b = 0; b < 256; b++)
		for (int k = 1; k < 8; k++)
			crc_table[k][b] = (crc_table[k - 1][b] >> 8) ^
					  crc_table[0][crc_table[k - 1][b] & 0xff];
}

static inline uint64_t load_le64(const uint8_t *p)
{
	uint64_t v = 0;

	/* Byte by byte so it is right on either byte order (the compiler
	 * turns this into one load on little-endian). */
	for (int i = 7; i >= 0; i--)
		v = (v << 8) | p[i];
	return v;
}

static uint32_t update_table(uint32_t c, const void *buf, size_t len)
{
	const uint8_t *p = buf;

	for (; len >= 8; len -= 8, p += 8) {
		uint64_t v = load_le64(p) ^ c;

		c = crc_table[7][v & 0xff] ^ crc_table[6][(v >> 8) & 0xff] ^
		    crc_table[5][(v >> 16) & 0xff] ^ crc_table[4][(v >> 24) & 0xff] ^
		    crc_table[3][(v >> 32) & 0xff] ^ crc_table[2][(v >> 40) & 0xff] ^
		    crc_table[1][(v >> 48) & 0xff] ^ crc_table[0][v >> 56];
	}
	while (len--)
		c = (c >> 8) ^ crc_table[0][(c ^ *p++) & 0xff];
	return c;
}

#if defined(__x86_64__)
__attribute__((target("sse4.2")))
static uint32_t update_sse42(uint32_t c, const void *buf, size_t len)
{
	const uint8_t *p = buf;
	uint64_t c64 = c;

	for (; len >= 8; len -= 8, p += 8) {
		uint64_t v;

		memcpy(&v, p, sizeof(v));
		c64 = __builtin_ia32_crc32di(c64, v);
	}
	c = (uint32_t)c64;
	while (len--)
		c = __builtin_ia32_crc32qi(c, *p++);
	return c;
}
#elif defined(__aarch64__)
__attribute__((target("+crc")))
static uint32_t update_armv8(uint32_t c, const void *buf, size_t len)
{
	const uint8_t *p = buf;

	for (; len >= 8; len -= 8, p += 8) {
		uint64_t v;

		memcpy(&v, p, sizeof(v));
		c = __builtin_aarch64_crc32cx(c, v);
	}
	while (len--)
		c = __builtin_aarch64_crc32cb(c, *p++);
	return c;
}
#endif

static void choose(void)
{
	build_table();
	crc_update = update_table;
	crc_name = "table";
#if defined(__x86_64__)
	if (__builtin_cpu_supports("sse4.2")) {
		crc_update = update_sse42;
		crc_name = "sse4.2";
	}
#elif defined(__aarch64__)
	if (getauxval(AT_HWCAP) & HWCAP_CRC32) {
		crc_update = update_armv8;
		crc_name = "armv8-crc";
	}
#endif
}

uint32_t nvp_crc32c_update(uint32_t state, const void *buf, size_t len)
{
	pthread_once(&crc_once, choose);
	return crc_update(state, buf, len);
}

uint32_t nvp_crc32c_update_table(uint32_t state, const void *buf, size_t len)
{
	pthread_once(&crc_once, choose);
	return update_table(state, buf, len);
}

const char *nvp_crc32c_impl(void)
{
	pthread_once(&crc_once, choose);
	return crc_name;
}
