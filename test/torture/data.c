/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * data.c - the data model: per-block patterns and, for every block of a
 * thread's region, the set of contents a read may return.
 *
 * Each written block holds a header (magic, LBA, generation, tag) and PRNG
 * bytes derived from all of them. The generation is the sequence number of
 * the write that put it there, and the tag is derived from the seed, the
 * thread, the controller and the namespace; so a wrong block says whether it
 * is zero, poison (a read that transferred nothing), misdirected (another
 * LBA), another thread's or namespace's, stale (an older generation) or torn.
 *
 * A block's model is a set of candidates: generations, or zeroes. A
 * successful write makes it {gen}; a failed one adds gen (the device may
 * have written some blocks and not others); Write Zeroes makes it {zero};
 * deallocate adds zero (or makes it anything when DLFEAT does not promise
 * zeroes). A successful read narrows the set to what it found.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "torture.h"

#define T_MAGIC		0x4e56505452545552ull	/* "NVPTRTUR" */
#define T_POISON	0x5a5a504f49534f4eull

uint64_t t_mix(uint64_t x)
{
	x += 0x9e3779b97f4a7c15ull;
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
	x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
	return x ^ (x >> 31);
}

uint64_t t_rand(struct t_thread *th)
{
	th->rng += 0x9e3779b97f4a7c15ull;
	return t_mix(th->rng);
}

uint64_t t_below(struct t_thread *th, uint64_t bound)
{
	return bound ? t_rand(th) % bound : 0;
}

bool t_chance(struct t_thread *th, unsigned int pct)
{
	return t_below(th, 100) < pct;
}

void t_region_init(struct t_region *rg, struct t_ns *ns, uint64_t base, uint64_t len,
		   uint64_t tag, bool zeroed)
{
	rg->ns = ns;
	rg->base = base;
	rg->len = len;
	rg->tag = tag;
	rg->blk = calloc(len, sizeof(*rg->blk));
	rg->busy = calloc(len, 1);
	if (!rg->blk || !rg->busy)
		t_fatal_setup("out of memory for the model of %" PRIu64 " blocks", len);
	for (uint64_t i = 0; i < len; i++) {
		if (zeroed)
			t_blk_set(&rg->blk[i], CAND_ZERO);
		else
			rg->blk[i].n = BLK_ANY;
	}
}

void t_region_free(struct t_region *rg)
{
	free(rg->blk);
	free(rg->busy);
	rg->blk = NULL;
	rg->busy = NULL;
}

bool t_range_free(const struct t_region *rg, uint64_t lba, uint64_t nlb)
{
	for (uint64_t i = 0; i < nlb; i++)
		if (rg->busy[lba - rg->base + i])
			return false;
	return true;
}

void t_range_busy(struct t_region *rg, uint64_t lba, uint64_t nlb, bool busy)
{
	memset(rg->busy + (lba - rg->base), busy, nlb);
}

void t_blk_set(struct t_blk *b, uint64_t v)
{
	b->n = 1;
	b->c[0] = v;
}

void t_blk_add(struct t_blk *b, uint64_t v)
{
	if (b->n == BLK_ANY)
		return;
	for (int i = 0; i < b->n; i++)
		if (b->c[i] == v)
			return;
	if (b->n == T_MAX_CAND) {
		b->n = BLK_ANY;
		return;
	}
	b->c[b->n++] = v;
}

bool t_blk_known(const struct t_region *rg, uint64_t lba, uint64_t *v)
{
	const struct t_blk *b = &rg->blk[lba - rg->base];

	if (b->n != 1)
		return false;
	*v = b->c[0];
	return true;
}

/* One block of pattern (gen != 0) or zeroes (gen == 0). */
static void pattern(uint8_t *dst, uint32_t bs, uint64_t tag, uint64_t lba, uint64_t gen)
{
	uint64_t hdr[4] = { T_MAGIC, lba, gen, tag };
	uint64_t s;

	if (!gen) {
		memset(dst, 0, bs);
		return;
	}
	memcpy(dst, hdr, sizeof(hdr));
	s = t_mix(tag ^ t_mix(lba ^ t_mix(gen)));
	for (uint32_t off = sizeof(hdr); off < bs; off += 8) {
		uint64_t z;

		s += 0x9e3779b97f4a7c15ull;
		z = (s ^ (s >> 31)) * 0xbf58476d1ce4e5b9ull;
		z ^= z >> 29;
		memcpy(dst + off, &z, 8);
	}
}

void t_fill_value(struct t_thread *th, const struct t_region *rg, uint64_t lba, uint64_t v,
		  uint8_t *dst)
{
	(void)th;
	pattern(dst, rg->ns->bs, rg->tag, lba, v);
}

/* Copy @len bytes at byte offset @off of the iovec stream to/from @p. */
static void iov_io(const struct iovec *iov, int iovcnt, size_t off, uint8_t *p, size_t len,
		   bool to_iov)
{
	for (int i = 0; i < iovcnt && len; i++) {
		size_t l = iov[i].iov_len;

		if (off >= l) {
			off -= l;
			continue;
		}
		size_t n = l - off < len ? l - off : len;

		if (to_iov)
			memcpy((uint8_t *)iov[i].iov_base + off, p, n);
		else
			memcpy(p, (uint8_t *)iov[i].iov_base + off, n);
		p += n;
		len -= n;
		off = 0;
	}
}

void t_fill(struct t_thread *th, const struct t_region *rg, uint64_t lba, uint32_t nlb,
	    uint64_t gen, const struct iovec *iov, int iovcnt)
{
	uint32_t bs = rg->ns->bs;

	for (uint32_t i = 0; i < nlb; i++) {
		pattern(th->scratch, bs, rg->tag, lba + i, gen);
		iov_io(iov, iovcnt, (size_t)i * bs, th->scratch, bs, true);
	}
}

void t_poison(const struct iovec *iov, int iovcnt, uint64_t seq)
{
	uint64_t w = T_POISON ^ seq;

	for (int i = 0; i < iovcnt; i++) {
		uint8_t *p = iov[i].iov_base;
		size_t n = iov[i].iov_len, k;

		for (k = 0; k + 8 <= n; k += 8)
			memcpy(p + k, &w, 8);
		for (; k < n; k++)
			p[k] = 0x5a;
	}
}

static bool is_zero(const uint8_t *p, size_t n)
{
	static const uint8_t zero[4096];

	while (n) {
		size_t k = n < sizeof(zero) ? n : sizeof(zero);

		if (memcmp(p, zero, k))
			return false;
		p += k;
		n -= k;
	}
	return true;
}

uint64_t t_tag(int thread, int ctrl, int ns)
{
	return t_mix(cfg.seed ^ t_mix((uint64_t)thread * 4099 + (uint64_t)ctrl * 67 + (uint64_t)ns + 1));
}

void t_hist_str(uint64_t seq, int thread, char *out, size_t len)
{
	const struct t_thread *th = thread >= 0 && thread < T_MAX_THREADS ? threads[thread] : NULL;
	const struct t_hist *h = th ? &th->hist[seq % T_HIST] : NULL;

	if (!h || h->seq != seq) {
		snprintf(out, len, "op #%" PRIu64 " of thread %d (no longer in the history)", seq,
			 thread);
		return;
	}
	snprintf(out, len, "op #%" PRIu64 " of thread %d: %s of %u blocks at LBA %" PRIu64
		 " (c%d ns%d q%u), %d element(s) from %p+%zu (%s), submitted at %" PRIu64 " ms, %s"
		 " (status 0x%04x) at %" PRIu64 " ms", seq, thread, t_kind_name(h->kind), h->nlb,
		 h->lba, h->ctrl, h->ns, h->qid, h->iovcnt, h->addr0, h->len0,
		 h->what ? h->what : "", h->t_sub, h->status < 0 ? "not completed" : "completed",
		 h->status < 0 ? 0 : (unsigned int)h->status, h->t_cpl);
}

static void cand_str(const struct t_blk *b, char *out, size_t len)
{
	size_t o = 0;

	if (b->n == BLK_ANY) {
		snprintf(out, len, "anything");
		return;
	}
	out[0] = 0;
	for (int i = 0; i < b->n && o < len; i++) {
		if (b->c[i] == CAND_ZERO)
			o += (size_t)snprintf(out + o, len - o, "%szeroes", i ? " or " : "");
		else
			o += (size_t)snprintf(out + o, len - o, "%sdata of op #%" PRIu64,
					      i ? " or " : "", b->c[i]);
	}
}

/* What a block that matches no candidate holds, in words. */
static void describe(struct t_thread *th, const struct t_region *rg, uint64_t lba,
		     const uint8_t *got, uint64_t seq, char *out, size_t len)
{
	uint32_t bs = rg->ns->bs;
	uint64_t hdr[4], p0;

	memcpy(hdr, got, sizeof(hdr));
	memcpy(&p0, got, 8);
	if (is_zero(got, bs)) {
		snprintf(out, len, "all zeroes");
	} else if (p0 == (T_POISON ^ seq)) {
		snprintf(out, len, "the read buffer's poison: the device transferred nothing "
			 "into this block, yet the read reported success");
	} else if ((p0 & 0xffffffff00000000ull) == (T_POISON & 0xffffffff00000000ull)) {
		snprintf(out, len, "poison of another read (0x%016" PRIx64 ")", p0);
	} else if (hdr[0] == T_MAGIC) {
		uint32_t off;

		if (hdr[3] != rg->tag) {
			char hs[400];

			for (int t = 0; t < cfg.threads; t++)
				for (int c = 0; c < nctrls; c++)
					for (int n = 0; n < ctrls[c].nns; n++)
						if (t_tag(t, c, n) == hdr[3]) {
							t_hist_str(hdr[2], t, hs, sizeof(hs));
							snprintf(out, len, "the data thread %d wrote to "
								 "LBA %" PRIu64 " of namespace %d of "
								 "controller %d [%s]", t, hdr[1], n, c, hs);
							return;
						}
			snprintf(out, len, "a block with an unknown tag 0x%016" PRIx64 " for LBA %"
				 PRIu64 ", generation %" PRIu64, hdr[3], hdr[1], hdr[2]);
			return;
		}
		if (hdr[1] != lba) {
			char hs[400];

			t_hist_str(hdr[2], th->idx, hs, sizeof(hs));
			snprintf(out, len, "data meant for LBA %" PRIu64 " (misdirected) [%s]", hdr[1], hs);
			return;
		}
		pattern(th->scratch, bs, rg->tag, lba, hdr[2]);
		for (off = 0; off < bs && got[off] == th->scratch[off]; off++)
			;
		{
			char hs[400];

			t_hist_str(hdr[2], th->idx, hs, sizeof(hs));
			if (off == bs)
				snprintf(out, len, "the intact data of a write the model does not "
					 "allow here (stale or unexpected) [%s]", hs);
			else
			{
				uint64_t w, want;
				uint32_t o8 = off & ~7u, zeros = 0;

				memcpy(&w, got + o8, 8);
				memcpy(&want, th->scratch + o8, 8);
				for (uint32_t k = o8; k < bs && !got[k]; k++)
					zeros++;
				snprintf(out, len, "the header of the right write but it differs from "
					 "its pattern at byte %u (torn or corrupt: word 0x%016" PRIx64
					 " instead of 0x%016" PRIx64 "%s%s; %u zero bytes follow) [%s]",
					 off, w, want, (w >> 32) == (T_POISON >> 32) ? ", read poison" : "",
					 w == T_MAGIC ? ", a block header" : "", zeros, hs);
			}
		}
	} else {
		snprintf(out, len, "unrecognised bytes %02x %02x %02x %02x %02x %02x %02x %02x",
			 got[0], got[1], got[2], got[3], got[4], got[5], got[6], got[7]);
	}
}

bool t_check_read(struct t_thread *th, struct t_region *rg, uint64_t lba, uint32_t nlb,
		  const struct iovec *iov, int iovcnt, uint64_t seq, char *why, size_t len)
{
	uint32_t bs = rg->ns->bs;
	uint8_t *got = th->scratch + 65536;

	for (uint32_t i = 0; i < nlb; i++) {
		struct t_blk *b = &rg->blk[lba + i - rg->base];
		uint64_t hdr[4], found = UINT64_MAX;

		iov_io(iov, iovcnt, (size_t)i * bs, got, bs, false);
		th->n_blocks_checked++;
		memcpy(hdr, got, sizeof(hdr));
		if (is_zero(got, bs)) {
			found = CAND_ZERO;
		} else if (hdr[0] == T_MAGIC && hdr[1] == lba + i && hdr[3] == rg->tag &&
			   hdr[2] != 0) {
			pattern(th->scratch, bs, rg->tag, lba + i, hdr[2]);
			if (!memcmp(th->scratch, got, bs))
				found = hdr[2];
		}
		if (b->n == BLK_ANY) {
			if (found != UINT64_MAX)
				t_blk_set(b, found);
			continue;
		}
		for (int k = 0; k < b->n; k++) {
			if (b->c[k] == found) {
				t_blk_set(b, found);
				found = UINT64_MAX - 1;
				break;
			}
		}
		if (found != UINT64_MAX - 1) {
			char want[160], have[700], ex[400] = "";

			cand_str(b, want, sizeof(want));
			describe(th, rg, lba + i, got, seq, have, sizeof(have));
			if (b->n >= 1 && b->n != BLK_ANY && b->c[0] != CAND_ZERO)
				t_hist_str(b->c[0], th->idx, ex, sizeof(ex));
			snprintf(why, len, "block %u of %u (LBA %" PRIu64 ", namespace %u of "
				 "controller %d): expected %s, found %s. Expected write: [%s]", i, nlb,
				 lba + i, rg->ns->info->nsid, rg->ns->c->idx, want, have, ex);
			return false;
		}
	}
	return true;
}
