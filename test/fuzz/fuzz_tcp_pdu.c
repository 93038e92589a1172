/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * test/fuzz/fuzz_tcp_pdu.c - libFuzzer target: a hostile NVMe/TCP target.
 * The input is the byte stream a controller sends back on a connection;
 * nvp_tcp_exec() runs one command against it through a socketpair, so the
 * real receive path (header checks, digests, C2HData placement, R2T
 * answers, Terminate Requests) parses it.
 *
 * The command must end without a crash, without writing outside its
 * buffer (ASan, plus guard bytes checked here), and with 0 only when a
 * completion for its own CID arrived.
 *
 * Input layout: u8 mode: bit 0 header digests, bit 1 data digests, bit 2 a
 * write (else a read), bits 5:3 the transfer size (512 << n bytes, 0 = no
 * data), bit 6 in-capsule write; then the controller's bytes.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "tcp/conn.h"

#define GUARD 64
#define FUZZ_CID 0x1234

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t buf[GUARD + 65536 + GUARD];
	struct nvp_tcp_conn c;
	struct nvp_sqe cmd = { .opc = 0x02, .cid = FUZZ_CID, .nsid = 1 };
	struct nvp_cqe cpl;
	uint8_t mode;
	uint32_t len;
	int sv[2], rc;
	bool is_write;

	if (size < 1 || size > 200000)
		return 0;
	mode = data[0];
	is_write = mode & 4;
	len = (mode >> 3) & 7 ? 512u << ((mode >> 3) & 7) : 0;
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sv))
		return 0;
	/* The stream must fit the socket buffer: the writer is not polled. */
	{
		int big = 1 << 20;

		setsockopt(sv[1], SOL_SOCKET, SO_SNDBUF, &big, sizeof(big));
		setsockopt(sv[0], SOL_SOCKET, SO_RCVBUF, &big, sizeof(big));
		setsockopt(sv[0], SOL_SOCKET, SO_SNDBUF, &big, sizeof(big));
	}
	if (write(sv[1], data + 1, size - 1) != (ssize_t)(size - 1)) {
		close(sv[0]);
		close(sv[1]);
		return 0;
	}
	shutdown(sv[1], SHUT_WR);	/* the target says no more after this */

	memset(&c, 0, sizeof(c));
	c.fd = sv[0];
	strcpy(c.peer, "fuzz");
	c.p.hdgst = mode & 1;
	c.p.ddgst = mode & 2;
	c.p.maxh2cdata = 4096;
	c.p.max_data = 1u << 20;
	c.incapsule_max = (mode & 64) ? 65536 : 0;
	memset(buf, 0xee, sizeof(buf));
	if (is_write)
		cmd.opc = 0x01;
	rc = nvp_tcp_exec(&c, &cmd, is_write ? buf + GUARD : NULL, is_write ? len : 0,
			  is_write ? NULL : buf + GUARD, is_write ? 0 : len, &cpl, 200);
	for (size_t i = 0; i < sizeof(buf); i++)
		if ((i < GUARD || i >= GUARD + (is_write ? 0 : len)) && buf[i] != 0xee)
			abort();	/* written outside the command's buffer */
	if (rc == 0 && cpl.cid != FUZZ_CID)
		abort();		/* success for another command */
	if (rc == 0 && c.fd < 0)
		abort();
	nvp_tcp_conn_close(&c);
	close(sv[1]);
	return 0;
}
