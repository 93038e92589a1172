/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * test/unit/emu_raw_file.h - build the raw device data files of
 * emu:raw=PATH (format: lib/emu/emu_raw.c, docs/emu.md). Shared by the
 * unit tests and the fuzz targets.
 */
#ifndef NVP_TEST_EMU_RAW_FILE_H
#define NVP_TEST_EMU_RAW_FILE_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <nvpoll/spec.h>

#define RAW_IDENTIFY	1
#define RAW_LOG		2
#define RAW_REG		3
#define RAW_ANY_NSID	1u

struct raw_file {
	uint8_t *buf;
	size_t len, cap;
};

static inline int raw_put(struct raw_file *f, const void *p, size_t n)
{
	if (f->len + n > f->cap) {
		size_t cap = f->cap ? f->cap : 8192;
		uint8_t *b;

		while (cap < f->len + n)
			cap *= 2;
		b = realloc(f->buf, cap);
		if (!b)
			return -1;
		f->buf = b;
		f->cap = cap;
	}
	memcpy(f->buf + f->len, p, n);
	f->len += n;
	return 0;
}

static inline int raw_init(struct raw_file *f)
{
	memset(f, 0, sizeof(*f));
	return raw_put(f, "NVPEMUR1", 8);
}

/* One record; the header little-endian, @data as the device would send it. */
static inline int raw_add(struct raw_file *f, uint8_t type, uint8_t id, uint16_t flags,
			  uint32_t nsid, const void *data, uint32_t len)
{
	uint16_t le_flags = nvp_cpu_to_le16(flags);
	uint32_t le_nsid = nvp_cpu_to_le32(nsid), le_len = nvp_cpu_to_le32(len);
	uint8_t hdr[12];

	hdr[0] = type;
	hdr[1] = id;
	memcpy(hdr + 2, &le_flags, 2);
	memcpy(hdr + 4, &le_nsid, 4);
	memcpy(hdr + 8, &le_len, 4);
	return raw_put(f, hdr, sizeof(hdr)) || raw_put(f, data, len) ? -1 : 0;
}

/* Write the file to a new temporary path (in @path, 64 bytes); 0 on success. */
static inline int raw_write(const struct raw_file *f, char *path)
{
	const char *dir = getenv("TMPDIR");
	int fd;

	snprintf(path, 64, "%s/nvp-raw-XXXXXX", dir && strlen(dir) < 40 ? dir : "/tmp");
	fd = mkstemp(path);
	if (fd < 0)
		return -1;
	if (write(fd, f->buf, f->len) != (ssize_t)f->len) {
		close(fd);
		unlink(path);
		return -1;
	}
	return close(fd);
}

static inline void raw_free(struct raw_file *f)
{
	free(f->buf);
	memset(f, 0, sizeof(*f));
}

#endif /* NVP_TEST_EMU_RAW_FILE_H */
