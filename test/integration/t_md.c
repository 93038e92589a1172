// SPDX-License-Identifier: BSD-3-Clause
/*
 * t_md.c - metadata and end-to-end protection information: the *_ext
 * calls on every namespace with metadata the given controllers have
 * (extended LBAs and separate buffers, PI types 1-3, first/last, 16- and
 * 64-bit guards), PRACT on writes and reads, each PRCHK check catching its
 * own corruption, splits above MDTS, page-crossing buffers and iovecs,
 * several threads. A controller without such namespaces makes each test
 * SKIP with the reason.
 *
 * Every test checks data (pattern_fill(): LBA, seed, checksum per block),
 * the metadata bytes outside the PI (a pattern per LBA and seed) and the PI
 * itself (nvp_pi_verify() on the host: guard, application and reference
 * tags), so a shifted, stale or unprotected block is told apart.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "itest.h"

#define APPTAG 0x1234u
#define TYPE3_REFTAG 0x5a5a5au

/* ---- namespaces ---------------------------------------------------------- */

/* Namespaces of every given controller with metadata (@pi: and PI). */
static int md_namespaces(struct nvp_ns **out, int max, bool pi)
{
	int n = 0;

	for (int k = 0; k < itest_cfg.num_addrs && k < ITEST_MAX_DEVS; k++) {
		struct itest_dev *d = itest_dev(k);

		if (!d)
			continue;
		for (int i = 0; i < d->num_ns && n < max; i++) {
			const struct nvp_ns_info *ni = nvp_ns_get_info(d->ns[i]);

			if (ni->md_size && (!pi || ni->pi_type))
				out[n++] = d->ns[i];
		}
	}
	if (!n)
		itest_skipf("no namespace with %s on %s%s", pi ? "protection information" :
			    "metadata", itest_cfg.addr[0], itest_cfg.num_addrs > 1 ?
			    " or the second controller" : "");
	return n;
}

static struct itest_dev *dev_of(struct nvp_ns *ns)
{
	for (int k = 0; k < itest_cfg.num_addrs && k < ITEST_MAX_DEVS; k++) {
		struct itest_dev *d = itest_dev(k);

		for (int i = 0; d && i < d->num_ns; i++)
			if (d->ns[i] == ns)
				return d;
	}
	return NULL;
}

static const char *layout(const struct nvp_ns_info *ni)
{
	static __thread char s[96];

	snprintf(s, sizeof(s), "nsid %u %u+%u %s PI type %u %s %u-bit", ni->nsid,
		 ni->block_size, ni->md_size, ni->md_extended ? "ext" : "sep", ni->pi_type,
		 ni->pi_first ? "first" : "last", ni->pi_guard_bits);
	return s;
}

/*
 * Added to type 2 reference tags: md_split_iovec sets it so that the tags
 * of one command wrap around (32 or 48 bits) inside a split.
 */
static uint64_t type2_bias;

/* The reference tag of @lba's block: type 1 must be the LBA; 2 any; 3 fixed. */
static uint64_t reftag_for(const struct nvp_ns_info *ni, uint64_t lba)
{
	uint64_t mask = ni->pi_guard_bits == 64 ? (1ull << 48) - 1 : 0xffffffffull;

	if (ni->pi_type == 3)
		return TYPE3_REFTAG;
	if (ni->pi_type == 2)
		return (lba * 3 + 7 + type2_bias) & mask;
	return lba & mask;
}

/* ---- buffers: data, metadata, PI ----------------------------------------- */

struct mdbuf {
	uint8_t *data;		/* nlb * xfer (+ offset) */
	uint8_t *md;		/* separate metadata, or NULL */
	uint8_t *data_base, *md_base;
	uint32_t xfer;		/* bytes per block in @data */
	uint32_t nlb;
	bool md_moves;
};

static void mdbuf_free(struct mdbuf *b)
{
	nvp_dma_free(b->data_base);
	nvp_dma_free(b->md_base);
	memset(b, 0, sizeof(*b));
}

/*
 * Buffers for @nlb blocks: @pract_plain: PRACT on a namespace whose
 * metadata is only the PI, so nothing but data moves. @off: the data's
 * offset into its first page (dword multiple).
 */
static bool mdbuf_alloc(struct mdbuf *b, const struct nvp_ns_info *ni, uint32_t nlb,
			bool pract_plain, size_t off)
{
	memset(b, 0, sizeof(*b));
	b->nlb = nlb;
	b->md_moves = !pract_plain;
	b->xfer = ni->block_size + (ni->md_extended && b->md_moves ? ni->md_size : 0);
	b->data_base = nvp_dma_alloc((size_t)nlb * b->xfer + off, 4096, NVP_NUMA_ANY);
	if (!b->data_base)
		return false;
	b->data = b->data_base + off;
	if (!ni->md_extended && b->md_moves) {
		/* Offset too, so the MPTR is not always page aligned. */
		b->md_base = nvp_dma_alloc((size_t)nlb * ni->md_size + 8, 4096, NVP_NUMA_ANY);
		if (!b->md_base) {
			mdbuf_free(b);
			return false;
		}
		b->md = b->md_base + 8;
	}
	return true;
}

static uint8_t *blk_data(const struct nvp_ns_info *ni, const struct mdbuf *b, uint32_t i)
{
	(void)ni;
	return b->data + (size_t)i * b->xfer;
}

static uint8_t *blk_md(const struct nvp_ns_info *ni, const struct mdbuf *b, uint32_t i)
{
	if (!b->md_moves)
		return NULL;
	return ni->md_extended ? b->data + (size_t)i * b->xfer + ni->block_size :
				 b->md + (size_t)i * ni->md_size;
}

/* Where the PI sits in a block's metadata. */
static uint32_t pi_off(const struct nvp_ns_info *ni)
{
	return ni->pi_first ? 0 : ni->md_size - ni->pi_size;
}

static uint8_t md_byte(uint64_t lba, uint32_t k, uint64_t seed)
{
	return (uint8_t)((lba * 131 + k * 7 + seed) ^ (seed >> 17));
}

/*
 * Data pattern in every block; metadata pattern in every metadata byte;
 * then, with PI, the PI generated on the host over both (apptag APPTAG,
 * reference tags from reftag_for()).
 */
static bool mdbuf_fill(const struct nvp_ns_info *ni, struct mdbuf *b, uint64_t lba,
		       uint64_t seed)
{
	for (uint32_t i = 0; i < b->nlb; i++) {
		uint8_t *m = blk_md(ni, b, i);

		pattern_fill(blk_data(ni, b, i), lba + i, 1, ni->block_size, seed);
		for (uint32_t k = 0; m && k < ni->md_size; k++)
			m[k] = md_byte(lba + i, k, seed);
	}
	if (ni->pi_type && b->md_moves) {
		struct nvp_pi_format f;

		if (nvp_pi_format_from_ns(&f, ni) ||
		    nvp_pi_generate(&f, b->data, ni->md_extended ? NULL : b->md, b->nlb, APPTAG,
				    reftag_for(ni, lba))) {
			itest_failf(__FILE__, __LINE__, "PI generation: %s", nvp_last_error());
			return false;
		}
	}
	return true;
}

/*
 * Check what mdbuf_fill() wrote (or, with @pi_by_ctrl, what the controller
 * generated: the non-PI metadata bytes as written, the PI verified).
 */
static bool mdbuf_check(const struct nvp_ns_info *ni, const struct mdbuf *b, uint64_t lba,
			uint64_t seed, const char *what)
{
	char why[160];

	for (uint32_t i = 0; i < b->nlb; i++) {
		const uint8_t *m = blk_md(ni, b, i);

		if (pattern_check(blk_data(ni, b, i), lba + i, 1, ni->block_size, seed, why,
				  sizeof(why)) >= 0) {
			itest_failf(__FILE__, __LINE__, "%s (%s): data of LBA %llu: %s", what,
				    layout(ni), (unsigned long long)(lba + i), why);
			return false;
		}
		for (uint32_t k = 0; m && k < ni->md_size; k++) {
			if (ni->pi_type && k >= pi_off(ni) && k < pi_off(ni) + ni->pi_size)
				continue;
			if (m[k] != md_byte(lba + i, k, seed)) {
				itest_failf(__FILE__, __LINE__, "%s (%s): metadata byte %u of LBA "
					    "%llu is 0x%02x, wrote 0x%02x", what, layout(ni), k,
					    (unsigned long long)(lba + i), m[k],
					    md_byte(lba + i, k, seed));
				return false;
			}
		}
	}
	if (ni->pi_type && b->md_moves) {
		struct nvp_pi_format f;
		struct nvp_pi_error e;
		int rc;

		nvp_pi_format_from_ns(&f, ni);
		rc = nvp_pi_verify(&f, b->data, ni->md_extended ? NULL : b->md, lba, b->nlb,
				   NVP_PI_CHECK_GUARD | NVP_PI_CHECK_APPTAG | NVP_PI_CHECK_REFTAG,
				   APPTAG, 0xffff, reftag_for(ni, lba), &e);
		if (rc) {
			itest_failf(__FILE__, __LINE__, "%s (%s): PI on the host: %s", what,
				    layout(ni), nvp_last_error());
			return false;
		}
	}
	return true;
}

static void opts_for(struct nvp_io_opts *o, const struct nvp_ns_info *ni, const struct mdbuf *b,
		     uint64_t lba, uint32_t pi)
{
	nvp_io_opts_init(o, sizeof(*o));
	o->md = b->md;
	o->pi = pi;
	if (ni->pi_type) {
		o->apptag = APPTAG;
		o->apptag_mask = 0xffff;
		o->reftag = reftag_for(ni, lba);
	}
}

#define ALL_CHECKS (NVP_PI_CHECK_GUARD | NVP_PI_CHECK_APPTAG | NVP_PI_CHECK_REFTAG)

/* Every check the controller takes: type 3 has no reference tag to check. */
static uint32_t all_checks(const struct nvp_ns_info *ni)
{
	return !ni->pi_type ? 0 : ni->pi_type == 3 ? ALL_CHECKS & ~NVP_PI_CHECK_REFTAG :
						   ALL_CHECKS;
}

static uint64_t next_seed(void)
{
	static atomic_ullong counter;

	return itest_cfg.seed ^ (atomic_fetch_add(&counter, 1) + 1) * 0x9e3779b97f4a7c15ull;
}

/*
 * Write @nlb blocks at @lba with host metadata/PI (checked by the
 * controller when it has PI), read them back with every check, compare.
 */
static bool roundtrip(struct nvp_qpair *qp, struct nvp_ns *ns, uint64_t lba, uint32_t nlb,
		      size_t off, const char *what)
{
	const struct nvp_ns_info *ni = nvp_ns_get_info(ns);
	uint32_t checks = all_checks(ni);
	struct mdbuf w, r;
	struct nvp_io_opts o;
	struct io_cpl c;
	uint64_t seed = next_seed();
	bool ok = false;
	int rc;

	if (!mdbuf_alloc(&w, ni, nlb, false, off) || !mdbuf_alloc(&r, ni, nlb, false, off)) {
		itest_failf(__FILE__, __LINE__, "out of DMA memory for %u blocks", nlb);
		mdbuf_free(&w);
		return false;
	}
	if (!mdbuf_fill(ni, &w, lba, seed))
		goto out;
	memset(r.data, 0x5a, (size_t)nlb * r.xfer);
	if (r.md)
		memset(r.md, 0x5a, (size_t)nlb * ni->md_size);
	opts_for(&o, ni, &w, lba, checks);
	rc = ext_sync(qp, ns, true, w.data, lba, nlb, &o, &c);
	if (rc) {
		itest_failf(__FILE__, __LINE__, "%s (%s): write_ext %u blocks at %llu: %d (%s) %s "
			    "%s", what, layout(ni), nlb, (unsigned long long)lba, rc,
			    itest_errname(rc), c.status ? nvp_status_str(c.status) : "",
			    nvp_last_error());
		goto out;
	}
	opts_for(&o, ni, &r, lba, checks);
	rc = ext_sync(qp, ns, false, r.data, lba, nlb, &o, &c);
	if (rc) {
		itest_failf(__FILE__, __LINE__, "%s (%s): read_ext %u blocks at %llu: %d (%s) %s",
			    what, layout(ni), nlb, (unsigned long long)lba, rc, itest_errname(rc),
			    c.status ? nvp_status_str(c.status) : "");
		goto out;
	}
	ok = mdbuf_check(ni, &r, lba, seed, what);
out:
	mdbuf_free(&w);
	mdbuf_free(&r);
	return ok;
}

/* ---- tests ---------------------------------------------------------------- */

void test_md_info(void)
{
	struct nvp_ns *mds[ITEST_MAX_NS * ITEST_MAX_DEVS];
	struct nvp_qpair *qp = NULL;
	uint8_t *buf = NULL;
	int n = md_namespaces(mds, ITEST_MAX_NS * ITEST_MAX_DEVS, false);

	for (int i = 0; i < n; i++) {
		const struct nvp_ns_info *ni = nvp_ns_get_info(mds[i]);
		struct io_cpl c;

		itest_notef("%s", layout(ni));
		if (ni->pi_type) {
			CHECKF(ni->pi_type <= 3, "%s: PI type", layout(ni));
			CHECKF((ni->pi_guard_bits == 16 && ni->pi_size == 8) ||
			       (ni->pi_guard_bits == 64 && ni->pi_size == 16),
			       "%s: guard %u bits, PI %u bytes", layout(ni), ni->pi_guard_bits,
			       ni->pi_size);
			CHECKF(ni->md_size >= ni->pi_size, "%s", layout(ni));
		} else {
			CHECK(!ni->pi_size && !ni->pi_guard_bits && !ni->pi_first);
		}
		CHECK(ni->max_io_blocks >= 1);
		/* Plain calls refuse it, and say where to go. */
		qp = qpair_alloc_default(dev_of(mds[i]));
		CHECK(qp);
		buf = nvp_dma_alloc(ni->block_size, 4096, NVP_NUMA_ANY);
		CHECK(buf);
		CHECK_RC(io_sync(qp, mds[i], IO_READ, buf, 0, 1, 0, &c), -ENOTSUP);
		CHECKF(strstr(nvp_last_error(), "nvp_read_ext"), "message: %s",
		       nvp_last_error());
		CHECK_RC(io_sync(qp, mds[i], IO_WRITE, buf, 0, 1, 0, &c), -ENOTSUP);
		nvp_dma_free(buf);
		buf = NULL;
		nvp_qpair_free(qp);
		qp = NULL;
	}
out:
	nvp_dma_free(buf);
	nvp_qpair_free(qp);
}

void test_md_roundtrip(void)
{
	struct nvp_ns *mds[ITEST_MAX_NS * ITEST_MAX_DEVS];
	struct nvp_qpair *qp = NULL;
	int n = md_namespaces(mds, ITEST_MAX_NS * ITEST_MAX_DEVS, false);

	for (int i = 0; i < n; i++) {
		const struct nvp_ns_info *ni = nvp_ns_get_info(mds[i]);
		uint32_t m = ni->max_io_blocks;
		uint32_t sizes[] = { 1, 3, m, m + 1, 2 * m + 3 };
		uint64_t lba = 16;

		qp = qpair_alloc_default(dev_of(mds[i]));
		CHECK(qp);
		for (size_t k = 0; k < sizeof(sizes) / sizeof(sizes[0]); k++) {
			if (itest_cfg.quick && k == 3)
				continue;
			CHECKF(lba + sizes[k] <= ni->num_blocks, "%s too small", layout(ni));
			CHECK(roundtrip(qp, mds[i], lba, sizes[k], 0, "roundtrip"));
			lba += sizes[k] + 5;
		}
		/* The last block of the namespace. */
		CHECK(roundtrip(qp, mds[i], ni->num_blocks - 1, 1, 0, "last block"));
		nvp_qpair_free(qp);
		qp = NULL;
	}
out:
	nvp_qpair_free(qp);
}

void test_md_split_iovec(void)
{
	struct nvp_ns *mds[ITEST_MAX_NS * ITEST_MAX_DEVS];
	struct nvp_qpair *qp = NULL;
	struct mdbuf w = { 0 }, r = { 0 };
	int n = md_namespaces(mds, ITEST_MAX_NS * ITEST_MAX_DEVS, false);

	for (int i = 0; i < n; i++) {
		const struct nvp_ns_info *ni = nvp_ns_get_info(mds[i]);
		uint32_t nlb = ni->max_io_blocks * 2 + 1;
		uint64_t lba = 1000, seed = next_seed();
		uint32_t checks = all_checks(ni);
		struct nvp_io_opts o;
		struct iovec iov[2];
		size_t total, cut;

		if (lba + nlb > ni->num_blocks)
			lba = 0;
		qp = qpair_alloc_default(dev_of(mds[i]));
		CHECK(qp);
		/* Buffers that start 8 bytes before a page end: every part crosses. */
		CHECK(roundtrip(qp, mds[i], lba, nlb, 4096 - 8, "page-crossing split"));
		/*
		 * Type 2: tags that wrap to 0 inside the second part of the split.
		 * The library cuts the command at the wrap (QEMU 7.2 would fail a
		 * command whose tags wrap); data, metadata and PI stay in step.
		 */
		if (ni->pi_type == 2) {
			uint64_t mask = ni->pi_guard_bits == 64 ? (1ull << 48) - 1 : 0xffffffffull;
			bool ok;

			type2_bias = (mask - ni->max_io_blocks - 2) - (lba * 3 + 7);
			ok = roundtrip(qp, mds[i], lba, nlb, 0, "reference tags wrapping in a split");
			/* And within what would be one command. */
			type2_bias = (mask - 1) - (lba * 3 + 7);
			ok = ok && roundtrip(qp, mds[i], lba, 4, 0, "reference tags wrapping");
			type2_bias = 0;
			CHECK(ok);
		}
		/* An iovec cut at a page boundary, as PRPs allow, above MDTS. */
		CHECK(mdbuf_alloc(&w, ni, nlb, false, 0) && mdbuf_alloc(&r, ni, nlb, false, 0));
		CHECK(mdbuf_fill(ni, &w, lba, seed));
		total = (size_t)nlb * w.xfer;
		cut = total > 8192 ? 8192 : 4096;
		iov[0] = (struct iovec){ w.data, cut };
		iov[1] = (struct iovec){ w.data + cut, total - cut };
		opts_for(&o, ni, &w, lba, checks);
		CHECK_RC(extv_sync(qp, mds[i], true, iov, 2, lba, nlb, &o, NULL), 0);
		iov[0] = (struct iovec){ r.data, cut };
		iov[1] = (struct iovec){ r.data + cut, total - cut };
		opts_for(&o, ni, &r, lba, checks);
		CHECK_RC(extv_sync(qp, mds[i], false, iov, 2, lba, nlb, &o, NULL), 0);
		CHECK(mdbuf_check(ni, &r, lba, seed, "iovec split"));
		/* A wrong total is refused before anything moves. */
		iov[1].iov_len -= 4;
		CHECK_RC(extv_sync(qp, mds[i], false, iov, 2, lba, nlb, &o, NULL), -EINVAL);
		mdbuf_free(&w);
		mdbuf_free(&r);
		nvp_qpair_free(qp);
		qp = NULL;
	}
out:
	mdbuf_free(&w);
	mdbuf_free(&r);
	nvp_qpair_free(qp);
}

#define MD_THREADS 4

struct md_worker {
	pthread_t tid;
	struct nvp_ns *ns;
	uint64_t lba;
	bool ok;
};

static void *md_worker_main(void *arg)
{
	struct md_worker *wk = arg;
	struct nvp_qpair *qp = NULL;
	int rounds = itest_cfg.quick ? 4 : 16;

	if (nvp_qpair_alloc(dev_of(wk->ns)->ctrl, NULL, &qp)) {
		itest_failf(__FILE__, __LINE__, "qpair alloc in thread: %s", nvp_last_error());
		return NULL;
	}
	wk->ok = true;
	for (int k = 0; k < rounds && wk->ok; k++)
		wk->ok = roundtrip(qp, wk->ns, wk->lba + (uint64_t)k * 8, 1 + k % 8, 0, "thread");
	nvp_qpair_free(qp);
	return NULL;
}

void test_md_threads(void)
{
	struct nvp_ns *mds[ITEST_MAX_NS * ITEST_MAX_DEVS];
	struct md_worker wk[MD_THREADS];
	int n = md_namespaces(mds, ITEST_MAX_NS * ITEST_MAX_DEVS, false), started;

	if (!n)
		return;
	/* One namespace per thread where there are several, disjoint ranges. */
	for (started = 0; started < MD_THREADS; started++) {
		struct md_worker *w = &wk[started];

		*w = (struct md_worker){ .ns = mds[started % n],
					 .lba = 2000 + (uint64_t)started * 256 };
		if (w->lba + 256 > nvp_ns_get_info(w->ns)->num_blocks)
			w->lba = (uint64_t)started * 160;
		if (pthread_create(&w->tid, NULL, md_worker_main, w)) {
			itest_failf(__FILE__, __LINE__, "pthread_create failed");
			break;
		}
	}
	for (int i = 0; i < started; i++) {
		pthread_join(wk[i].tid, NULL);
		if (!wk[i].ok)
			itest_failf(__FILE__, __LINE__, "thread %d (%s) failed", i,
				    layout(nvp_ns_get_info(wk[i].ns)));
	}
}

void test_md_bad_opts(void)
{
	struct nvp_ns *mds[ITEST_MAX_NS * ITEST_MAX_DEVS];
	struct nvp_qpair *qp = NULL;
	struct mdbuf b = { 0 };
	uint8_t *extra = NULL;
	int n = md_namespaces(mds, ITEST_MAX_NS * ITEST_MAX_DEVS, false);

	for (int i = 0; i < n; i++) {
		const struct nvp_ns_info *ni = nvp_ns_get_info(mds[i]);
		struct nvp_io_opts o;

		qp = qpair_alloc_default(dev_of(mds[i]));
		CHECK(qp);
		CHECK(mdbuf_alloc(&b, ni, 2, false, 0));
		extra = nvp_dma_alloc(2 * ni->md_size + 64, 4096, NVP_NUMA_ANY);
		CHECK(extra);
		opts_for(&o, ni, &b, 0, 0);
		/* Metadata buffer where none travels, or none where one must. */
		o.md = ni->md_extended ? extra : NULL;
		CHECK_RC(ext_sync(qp, mds[i], true, b.data, 0, 2, &o, NULL), -EINVAL);
		CHECKF(strstr(nvp_last_error(), "md"), "message: %s", nvp_last_error());
		opts_for(&o, ni, &b, 0, 0);
		/* Unknown PI bits; PI bits without PI. */
		o.pi = 1u << 7;
		CHECK_RC(ext_sync(qp, mds[i], false, b.data, 0, 2, &o, NULL), -EINVAL);
		if (!ni->pi_type) {
			o.pi = NVP_PI_CHECK_GUARD;
			CHECK_RC(ext_sync(qp, mds[i], false, b.data, 0, 2, &o, NULL), -EINVAL);
		} else {
			/* A reference tag wider than the PI's. */
			o.pi = 0;
			o.reftag = ni->pi_guard_bits == 64 ? 1ull << 48 : 1ull << 32;
			CHECK_RC(ext_sync(qp, mds[i], false, b.data, 0, 2, &o, NULL), -EINVAL);
		}
		/* An options struct never initialised. */
		memset(&o, 0, sizeof(o));
		CHECK_RC(ext_sync(qp, mds[i], false, b.data, 0, 2, &o, NULL), -EINVAL);
		/* Unknown I/O flags. */
		opts_for(&o, ni, &b, 0, 0);
		o.flags = 1u << 20;
		CHECK_RC(ext_sync(qp, mds[i], false, b.data, 0, 2, &o, NULL), -EINVAL);
		/* Counts and ranges at their edges. */
		opts_for(&o, ni, &b, 0, 0);
		CHECK_RC(ext_sync(qp, mds[i], false, b.data, 0, 0, &o, NULL), -EINVAL);
		CHECK_RC(ext_sync(qp, mds[i], false, b.data, ni->num_blocks - 1, 2, &o, NULL),
			 -ERANGE);
		CHECK_RC(ext_sync(qp, mds[i], false, b.data, ni->num_blocks, 1, &o, NULL),
			 -ERANGE);
		CHECK_RC(ext_sync(qp, mds[i], false, b.data, 1, UINT32_MAX, &o, NULL), -ERANGE);
		CHECK_RC(ext_sync(qp, mds[i], false, b.data, UINT64_MAX, 1, &o, NULL), -ERANGE);
		/* The queue pair still works. */
		CHECK(roundtrip(qp, mds[i], 3, 2, 0, "after refusals"));
		mdbuf_free(&b);
		nvp_dma_free(extra);
		extra = NULL;
		nvp_qpair_free(qp);
		qp = NULL;
	}
out:
	mdbuf_free(&b);
	nvp_dma_free(extra);
	nvp_qpair_free(qp);
}

void test_pi_pract(void)
{
	struct nvp_ns *pis[ITEST_MAX_NS * ITEST_MAX_DEVS];
	struct nvp_qpair *qp = NULL;
	struct mdbuf w = { 0 }, r = { 0 };
	int n = md_namespaces(pis, ITEST_MAX_NS * ITEST_MAX_DEVS, true);

	for (int i = 0; i < n; i++) {
		const struct nvp_ns_info *ni = nvp_ns_get_info(pis[i]);
		bool plain = ni->md_size == ni->pi_size;
		uint32_t nlb = ni->max_io_blocks + 2;	/* split too */
		uint64_t lba = 300, seed = next_seed();
		struct nvp_io_opts o;

		if (lba + nlb > ni->num_blocks)
			lba = 0;
		qp = qpair_alloc_default(dev_of(pis[i]));
		CHECK(qp);
		/* 1. PRACT write: the controller generates PI from the tags. */
		CHECK(mdbuf_alloc(&w, ni, nlb, plain, 0));
		CHECK(mdbuf_fill(ni, &w, lba, seed));
		if (!plain) {
			/* Whatever the buffer's PI says, the controller's replaces it. */
			for (uint32_t k = 0; k < nlb; k++)
				memset(blk_md(ni, &w, k) + pi_off(ni), 0xee, ni->pi_size);
		}
		opts_for(&o, ni, &w, lba, NVP_PI_PRACT);
		CHECK_RC(ext_sync(qp, pis[i], true, w.data, lba, nlb, &o, NULL), 0);
		/* Read it whole (no PRACT): the PI must be right for data and tags. */
		CHECK(mdbuf_alloc(&r, ni, nlb, false, 0));
		opts_for(&o, ni, &r, lba, all_checks(ni));
		CHECK_RC(ext_sync(qp, pis[i], false, r.data, lba, nlb, &o, NULL), 0);
		/* Data, the metadata written around the PI, and the PI itself. */
		CHECK(mdbuf_check(ni, &r, lba, seed, "PRACT write"));
		mdbuf_free(&w);
		mdbuf_free(&r);

		/* 2. Host PI written; PRACT read with checks. */
		CHECK(mdbuf_alloc(&w, ni, nlb, false, 0));
		seed = next_seed();
		CHECK(mdbuf_fill(ni, &w, lba, seed));
		opts_for(&o, ni, &w, lba, all_checks(ni));
		CHECK_RC(ext_sync(qp, pis[i], true, w.data, lba, nlb, &o, NULL), 0);
		CHECK(mdbuf_alloc(&r, ni, nlb, plain, 0));
		opts_for(&o, ni, &r, lba, NVP_PI_PRACT | all_checks(ni));
		CHECK_RC(ext_sync(qp, pis[i], false, r.data, lba, nlb, &o, NULL), 0);
		if (plain) {
			char why[160];

			/* The easy path: a plain data buffer, PI stripped. */
			CHECKF(pattern_check(r.data, lba, nlb, ni->block_size, seed, why,
					     sizeof(why)) < 0, "%s: %s", layout(ni), why);
		} else {
			CHECK(mdbuf_check(ni, &r, lba, seed, "PRACT read"));
		}
		mdbuf_free(&w);
		mdbuf_free(&r);
		nvp_qpair_free(qp);
		qp = NULL;
	}
out:
	mdbuf_free(&w);
	mdbuf_free(&r);
	nvp_qpair_free(qp);
}

/* Corrupt one PI field of block @k: its guard, apptag or reftag. */
static void corrupt(const struct nvp_ns_info *ni, struct mdbuf *b, uint32_t k, uint32_t check)
{
	uint8_t *pi = blk_md(ni, b, k) + pi_off(ni);
	unsigned int g = ni->pi_guard_bits == 64 ? 8 : 2;

	if (check == NVP_PI_CHECK_GUARD)
		pi[0] ^= 0x40;
	else if (check == NVP_PI_CHECK_APPTAG)
		pi[g + 1] ^= 0x01;
	else
		pi[g + 2 + (ni->pi_guard_bits == 64 ? 5 : 3)] ^= 0x02;
}

void test_pi_checks(void)
{
	static const struct {
		uint32_t check;
		uint8_t sc;
	} cases[] = {
		{ NVP_PI_CHECK_GUARD, 0x82 },
		{ NVP_PI_CHECK_APPTAG, 0x83 },
		{ NVP_PI_CHECK_REFTAG, 0x84 },
	};
	struct nvp_ns *pis[ITEST_MAX_NS * ITEST_MAX_DEVS];
	struct nvp_qpair *qp = NULL;
	struct mdbuf w = { 0 }, r = { 0 };
	int n = md_namespaces(pis, ITEST_MAX_NS * ITEST_MAX_DEVS, true);

	for (int i = 0; i < n; i++) {
		const struct nvp_ns_info *ni = nvp_ns_get_info(pis[i]);
		uint64_t lba = 500;

		qp = qpair_alloc_default(dev_of(pis[i]));
		CHECK(qp);
		for (size_t c = 0; c < sizeof(cases) / sizeof(cases[0]); c++) {
			uint32_t check = cases[c].check, others = all_checks(ni) & ~check;
			uint64_t seed = next_seed();
			struct nvp_io_opts o;
			struct nvp_pi_format f;
			struct nvp_pi_error e;
			struct io_cpl cpl;

			CHECK(mdbuf_alloc(&w, ni, 4, false, 0) && mdbuf_alloc(&r, ni, 4, false, 0));
			CHECK(mdbuf_fill(ni, &w, lba, seed));
			if (!(all_checks(ni) & check)) {
				/* Type 3: the library refuses what the controller would. */
				opts_for(&o, ni, &r, lba, check);
				CHECK_RC(ext_sync(qp, pis[i], false, r.data, lba, 4, &o, NULL),
					 -EINVAL);
				CHECKF(strstr(nvp_last_error(), "type 3"), "message: %s",
				       nvp_last_error());
				mdbuf_free(&w);
				mdbuf_free(&r);
				continue;
			}
			corrupt(ni, &w, 2, check);
			/* With the check on, the controller refuses the write. */
			opts_for(&o, ni, &w, lba, check);
			CHECK_RC(ext_sync(qp, pis[i], true, w.data, lba, 4, &o, &cpl), -EBADMSG);
			CHECKF(NVP_STATUS_SCT(cpl.status) == 2 && NVP_STATUS_SC(cpl.status) ==
			       cases[c].sc, "%s: write with %s check: %s", layout(ni),
			       nvp_pi_check_name(check), nvp_status_str(cpl.status));
			/* Without checks it is stored as it is, as by media corruption. */
			opts_for(&o, ni, &w, lba, 0);
			CHECK_RC(ext_sync(qp, pis[i], true, w.data, lba, 4, &o, NULL), 0);
			/* Its own check catches it on read ... */
			opts_for(&o, ni, &r, lba, check);
			CHECK_RC(ext_sync(qp, pis[i], false, r.data, lba, 4, &o, &cpl), -EBADMSG);
			CHECKF(NVP_STATUS_SCT(cpl.status) == 2 && NVP_STATUS_SC(cpl.status) ==
			       cases[c].sc, "%s: read with %s check: %s", layout(ni),
			       nvp_pi_check_name(check), nvp_status_str(cpl.status));
			/* ... the other two do not mind ... */
			opts_for(&o, ni, &r, lba, others);
			CHECK_RC(ext_sync(qp, pis[i], false, r.data, lba, 4, &o, NULL), 0);
			/* ... and the host names the block and the check. */
			CHECK_RC(nvp_pi_format_from_ns(&f, ni), 0);
			CHECK_RC(nvp_pi_verify(&f, r.data, r.md, lba, 4, ALL_CHECKS, APPTAG, 0xffff,
					       reftag_for(ni, lba), &e), -EBADMSG);
			CHECKF(e.lba == lba + 2 && e.check == check,
			       "%s: host verify found LBA %llu %s, corrupted LBA %llu %s",
			       layout(ni), (unsigned long long)e.lba, nvp_pi_check_name(e.check),
			       (unsigned long long)(lba + 2), nvp_pi_check_name(check));
			mdbuf_free(&w);
			mdbuf_free(&r);
			lba += 8;
		}
		/* Repaired, the range reads clean with every check. */
		CHECK(roundtrip(qp, pis[i], 500, 24, 0, "after corruption"));
		nvp_qpair_free(qp);
		qp = NULL;
	}
out:
	mdbuf_free(&w);
	mdbuf_free(&r);
	nvp_qpair_free(qp);
}

/* The *_ext calls on namespaces without metadata: as the plain ones. */
void test_md_ext_plain(void)
{
	struct itest_dev *d = itest_dev(0);
	struct nvp_qpair *qp = NULL;
	uint8_t *w = NULL, *r = NULL, *md = NULL;
	struct nvp_ns *ns = NULL;
	const struct nvp_ns_info *ni;
	struct nvp_io_opts o;
	uint64_t seed = next_seed(), lba = 77;
	uint32_t nlb;
	char why[160];

	CHECK(d);
	for (int i = 0; i < d->num_ns && !ns; i++)
		if (!nvp_ns_get_info(d->ns[i])->md_size)
			ns = d->ns[i];
	if (!ns) {
		itest_skipf("every namespace of %s has metadata", d->addr);
		return;
	}
	ni = nvp_ns_get_info(ns);
	nlb = ni->max_io_blocks + 3;	/* split too */
	qp = qpair_alloc_default(d);
	CHECK(qp);
	w = nvp_dma_alloc((size_t)nlb * ni->block_size, 4096, NVP_NUMA_ANY);
	r = nvp_dma_alloc((size_t)nlb * ni->block_size, 4096, NVP_NUMA_ANY);
	md = nvp_dma_alloc(4096, 4096, NVP_NUMA_ANY);
	CHECK(w && r && md);
	pattern_fill(w, lba, nlb, ni->block_size, seed);
	CHECK_RC(ext_sync(qp, ns, true, w, lba, nlb, NULL, NULL), 0);
	nvp_io_opts_init(&o, sizeof(o));
	o.flags = NVP_IO_FUA;
	CHECK_RC(ext_sync(qp, ns, false, r, lba, nlb, &o, NULL), 0);
	CHECKF(pattern_check(r, lba, nlb, ni->block_size, seed, why, sizeof(why)) < 0, "%s",
	       why);
	/* Written with the plain call, read with _ext, and the other way round. */
	memset(r, 0, (size_t)nlb * ni->block_size);
	CHECK_RC(io_sync(qp, ns, IO_READ, r, lba, nlb, 0, NULL), 0);
	CHECKF(pattern_check(r, lba, nlb, ni->block_size, seed, why, sizeof(why)) < 0, "%s",
	       why);
	/* Nothing a namespace without metadata cannot take. */
	o.md = md;
	CHECK_RC(ext_sync(qp, ns, false, r, lba, 1, &o, NULL), -EINVAL);
	o.md = NULL;
	o.pi = NVP_PI_PRACT;
	CHECK_RC(ext_sync(qp, ns, false, r, lba, 1, &o, NULL), -EINVAL);
out:
	nvp_dma_free(w);
	nvp_dma_free(r);
	nvp_dma_free(md);
	nvp_qpair_free(qp);
}
