/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * lib/tcp/addr.c - NVMe/TCP addresses (both spellings) and the host's
 * NQN and ID (addr.h).
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>

#include "tcp/addr.h"
#include "util/log.h"

#define TCP_SCHEME "tcp://"

static int copy_field(char *dst, size_t cap, const char *src, size_t len, const char *what,
		      const char *text)
{
	if (len == 0)
		return nvp_error(-EINVAL, "NVMe/TCP address '%s': the %s is empty", text, what);
	if (len >= cap)
		return nvp_error(-EINVAL, "NVMe/TCP address '%s': the %s is %zu bytes, at most %zu",
				 text, what, len, cap - 1);
	memcpy(dst, src, len);
	dst[len] = '\0';
	return 0;
}

static int check_port(const char *port, const char *text)
{
	char *end;
	unsigned long v;

	errno = 0;
	v = strtoul(port, &end, 10);
	if (!isdigit((unsigned char)port[0]) || *end || errno || v == 0 || v > 65535)
		return nvp_error(-EINVAL, "NVMe/TCP address '%s': port '%s' is not 1..65535 "
				 "(the NVMe/TCP default is 4420)", text, port);
	return 0;
}

static int check_nqn(const char *nqn, const char *text)
{
	if (strncmp(nqn, "nqn.", 4) != 0)
		return nvp_error(-EINVAL, "NVMe/TCP address '%s': subsystem NQN '%s' does not "
				 "start with \"nqn.\"", text, nqn);
	for (const char *c = nqn; *c; c++)
		if (!isgraph((unsigned char)*c))
			return nvp_error(-EINVAL, "NVMe/TCP address '%s': the subsystem NQN holds "
					 "a space or control character", text);
	return 0;
}

/* "tcp://HOST[:PORT][/SUBNQN]", HOST possibly "[v6]". */
static int parse_url(const char *text, struct nvp_tcp_addr *a)
{
	const char *h = text + strlen(TCP_SCHEME), *slash, *port = NULL, *hend;
	int rc;

	slash = strchr(h, '/');
	hend = slash ? slash : h + strlen(h);
	if (*h == '[') {
		const char *close = memchr(h, ']', (size_t)(hend - h));

		if (!close)
			return nvp_error(-EINVAL, "NVMe/TCP address '%s': '[' without ']' around "
					 "the IPv6 address", text);
		rc = copy_field(a->host, sizeof(a->host), h + 1, (size_t)(close - h - 1), "host",
				text);
		if (rc)
			return rc;
		a->family = 6;
		if (close + 1 < hend) {
			if (close[1] != ':')
				return nvp_error(-EINVAL, "NVMe/TCP address '%s': expected ':PORT' "
						 "after ']'", text);
			port = close + 2;
		}
	} else {
		const char *colon = memchr(h, ':', (size_t)(hend - h));

		if (colon && memchr(colon + 1, ':', (size_t)(hend - colon - 1)))
			return nvp_error(-EINVAL, "NVMe/TCP address '%s': an IPv6 address goes in "
					 "brackets, tcp://[ADDR]:PORT/NQN", text);
		rc = copy_field(a->host, sizeof(a->host), h,
				(size_t)((colon ? colon : hend) - h), "host", text);
		if (rc)
			return rc;
		if (colon)
			port = colon + 1;
	}
	if (port) {
		rc = copy_field(a->port, sizeof(a->port), port, (size_t)(hend - port), "port", text);
		if (rc || (rc = check_port(a->port, text)))
			return rc;
	}
	if (slash && slash[1]) {
		rc = copy_field(a->subnqn, sizeof(a->subnqn), slash + 1, strlen(slash + 1),
				"subsystem NQN", text);
		if (rc || (rc = check_nqn(a->subnqn, text)))
			return rc;
	}
	return 0;
}

/* SPDK's "key:value key:value ..." (keys case-insensitive, values as given). */
static int parse_trid(const char *text, struct nvp_tcp_addr *a)
{
	static const char *const keys[] = { "trtype", "adrfam", "traddr", "trsvcid", "subnqn" };
	bool seen[5] = { false };
	char adrfam[8] = "";
	const char *p = text;
	int rc;

	while (*p) {
		const char *key, *colon, *val, *end;
		size_t klen, vlen;
		int k;

		while (isspace((unsigned char)*p))
			p++;
		if (!*p)
			break;
		key = p;
		end = p;
		while (*end && !isspace((unsigned char)*end))
			end++;
		colon = memchr(key, ':', (size_t)(end - key));
		if (!colon)
			return nvp_error(-EINVAL, "transport ID '%s': '%.*s' is not key:value", text,
					 (int)(end - key), key);
		klen = (size_t)(colon - key);
		val = colon + 1;
		vlen = (size_t)(end - val);
		for (k = 0; k < 5; k++)
			if (strlen(keys[k]) == klen && strncasecmp(keys[k], key, klen) == 0)
				break;
		if (k == 5)
			return nvp_error(-EINVAL, "transport ID '%s': unknown key '%.*s' (known: "
					 "trtype adrfam traddr trsvcid subnqn)", text, (int)klen, key);
		if (seen[k])
			return nvp_error(-EINVAL, "transport ID '%s': '%s' given twice", text, keys[k]);
		seen[k] = true;
		switch (k) {
		case 0:
			if (vlen != 3 || strncasecmp(val, "tcp", 3) != 0)
				return nvp_error(-EINVAL, "transport ID '%s': trtype '%.*s' is not "
						 "TCP, the only fabric nvpoll speaks", text,
						 (int)vlen, val);
			break;
		case 1:
			rc = copy_field(adrfam, sizeof(adrfam), val, vlen, "adrfam", text);
			if (rc)
				return rc;
			if (strcasecmp(adrfam, "ipv4") == 0)
				a->family = 4;
			else if (strcasecmp(adrfam, "ipv6") == 0)
				a->family = 6;
			else
				return nvp_error(-EINVAL, "transport ID '%s': adrfam '%s' is not IPv4 "
						 "or IPv6", text, adrfam);
			break;
		case 2:
			rc = copy_field(a->host, sizeof(a->host), val, vlen, "traddr", text);
			if (rc)
				return rc;
			break;
		case 3:
			rc = copy_field(a->port, sizeof(a->port), val, vlen, "trsvcid", text);
			if (rc || (rc = check_port(a->port, text)))
				return rc;
			break;
		default:
			rc = copy_field(a->subnqn, sizeof(a->subnqn), val, vlen, "subnqn", text);
			if (rc || (rc = check_nqn(a->subnqn, text)))
				return rc;
			break;
		}
		p = end;
	}
	if (!seen[2])
		return nvp_error(-EINVAL, "transport ID '%s' has no traddr", text);
	if (a->family == 4 && strchr(a->host, ':'))
		return nvp_error(-EINVAL, "transport ID '%s': adrfam IPv4 but traddr '%s' is an "
				 "IPv6 address", text, a->host);
	return 0;
}

/* A transport ID: the first key is one of SPDK's, and trtype says TCP. */
static bool looks_like_trid(const char *text)
{
	const char *t = text;

	while (isspace((unsigned char)*t))
		t++;
	for (;;) {
		if (strncasecmp(t, "trtype:", 7) == 0)
			return strncasecmp(t + 7, "tcp", 3) == 0 &&
			       (!t[10] || isspace((unsigned char)t[10]));
		t = strpbrk(t, " \t");
		if (!t)
			return false;
		while (isspace((unsigned char)*t))
			t++;
	}
}

int nvp_tcp_addr_parse(const char *text, struct nvp_tcp_addr *out)
{
	int rc;

	if (!text || !out)
		return -ENOENT;
	memset(out, 0, sizeof(*out));
	snprintf(out->port, sizeof(out->port), "%u", NVP_TCP_PORT_DEFAULT);
	if (strncasecmp(text, TCP_SCHEME, strlen(TCP_SCHEME)) == 0)
		rc = parse_url(text, out);
	else if (looks_like_trid(text))
		rc = parse_trid(text, out);
	else
		return -ENOENT;
	if (rc)
		return rc;
	if (!out->subnqn[0])
		snprintf(out->subnqn, sizeof(out->subnqn), "%s", NVP_DISCOVERY_NQN);
	return 0;
}

/* ---- the host's identity ------------------------------------------------ */

/* The first line of @path into @buf, without the newline; false if absent. */
static bool read_line(const char *path, char *buf, size_t cap)
{
	FILE *f = fopen(path, "re");
	bool ok;

	if (!f)
		return false;
	ok = fgets(buf, (int)cap, f) != NULL;
	fclose(f);
	if (!ok)
		return false;
	buf[strcspn(buf, "\r\n")] = '\0';
	return true;
}

static int parse_uuid(const char *s, uint8_t out[16])
{
	int n = 0;

	for (const char *c = s; *c && n < 32; c++) {
		if (*c == '-')
			continue;
		if (!isxdigit((unsigned char)*c))
			return -EINVAL;
		out[n / 2] = (uint8_t)((n % 2 ? out[n / 2] : 0) << 4 |
				       (isdigit((unsigned char)*c) ? *c - '0' :
					tolower((unsigned char)*c) - 'a' + 10));
		n++;
	}
	return n == 32 ? 0 : -EINVAL;
}

static uint64_t fnv1a64(uint64_t h, const char *s)
{
	for (; *s; s++)
		h = (h ^ (uint8_t)*s) * 0x100000001b3ull;
	return h;
}

/*
 * A stable UUID for this machine that does not reveal its machine-id
 * (which systemd says not to expose): two salted hashes of it, marked as a
 * version 8 (application-defined) UUID.
 */
static void machine_uuid(uint8_t u[16])
{
	char id[128];
	uint64_t a, b;

	if (read_line("/etc/machine-id", id, sizeof(id)) && id[0]) {
		a = fnv1a64(0xcbf29ce484222325ull, "nvpoll host id A");
		a = fnv1a64(a, id);
		b = fnv1a64(0x84222325cbf29ce4ull, "nvpoll host id B");
		b = fnv1a64(b, id);
		for (int i = 0; i < 8; i++) {
			u[i] = (uint8_t)(a >> (56 - 8 * i));
			u[8 + i] = (uint8_t)(b >> (56 - 8 * i));
		}
	} else if (getrandom(u, 16, 0) != 16) {
		memset(u, 0x5a, 16);
	}
	u[6] = (uint8_t)((u[6] & 0x0f) | 0x80);	/* version 8 */
	u[8] = (uint8_t)((u[8] & 0x3f) | 0x80);	/* RFC 9562 variant */
}

static void format_uuid(const uint8_t u[16], char out[37])
{
	snprintf(out, 37, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x",
		 u[0], u[1], u[2], u[3], u[4], u[5], u[6], u[7], u[8], u[9], u[10], u[11], u[12],
		 u[13], u[14], u[15]);
}

int nvp_tcp_host_identity(char *hostnqn, uint8_t hostid[16], const char *etc_dir)
{
	char path[512], line[NVP_NQN_MAX + 2], text[37];
	uint8_t derived[16];
	bool have_id;

	machine_uuid(derived);
	snprintf(path, sizeof(path), "%s/hostid", etc_dir);
	have_id = read_line(path, line, sizeof(line));
	if (have_id && parse_uuid(line, hostid))
		return nvp_error(-EINVAL, "%s holds '%s', not a UUID; fix or remove it (nvme-cli "
				 "writes it with 'nvme gen-hostnqn' companions)", path, line);
	if (!have_id)
		memcpy(hostid, derived, 16);

	snprintf(path, sizeof(path), "%s/hostnqn", etc_dir);
	if (read_line(path, line, sizeof(line)) && line[0]) {
		if (strncmp(line, "nqn.", 4) != 0 || strlen(line) > NVP_NQN_MAX)
			return nvp_error(-EINVAL, "%s holds '%s', not an NQN of at most %d bytes; "
					 "fix it (nvme gen-hostnqn) or remove it", path, line,
					 NVP_NQN_MAX);
		memcpy(hostnqn, line, strlen(line) + 1);
		return 0;
	}
	format_uuid(hostid, text);
	snprintf(hostnqn, NVP_NQN_MAX + 1, "nqn.2014-08.org.nvmexpress:uuid:%s", text);
	return 0;
}
