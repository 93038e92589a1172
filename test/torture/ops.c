/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * ops.c - the operation engine: random submissions (valid and invalid),
 * what the model says each call must return, completions and what they
 * may report, queue pairs, polling, quiescing, verification, and the
 * controller-failure phase.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "torture.h"

#define HUGE_2M		(2u << 20)
#define ST_HOST_ABORTED	NVP_STATUS(NVP_SCT_PATH, NVP_SC_HOST_ABORTED_CMD)
#define ST_HOST_PATH	NVP_STATUS(NVP_SCT_PATH, NVP_SC_HOST_PATH_ERROR)
#define ST_ABORT_REQ	NVP_STATUS(NVP_SCT_GENERIC, NVP_SC_ABORT_REQUESTED)
#define ST_MASK		0x0ffeu		/* SCT and SC only */

enum { CBA_NONE, CBA_SAME, CBA_SPLIT, CBA_OTHER, CBA_BAD, CBA_COUNT };

/* How a submission is built. */
struct t_req {
	int kind;
	bool want_split;
	bool from_cb;
	bool dying;		/* the qpair is inside nvp_qpair_free() */
	bool precise;		/* arm a fault that must hit exactly this command */
	bool verify;		/* verification read: whole chunk given */
	uint64_t lba;		/* for verify */
	uint32_t nlb;
	struct t_region *rg;	/* for verify */
};

static void io_cb(void *arg, const struct nvp_cqe *cpl);

/* ------------------------------------------------------------------------ */
/* Records                                                                  */
/* ------------------------------------------------------------------------ */

struct t_rec *t_rec_begin(struct t_thread *th, int kind, const struct t_ctrl *c, int ns,
			  uint16_t qid, uint64_t lba, uint64_t nlb)
{
	struct t_rec *r = &th->ring[th->ring_pos++ % T_RING];

	th->cur_seq = ++th->seq;
	memset(r, 0, sizeof(*r));
	r->seq = th->seq;
	r->t = t_ms();
	r->kind = (uint8_t)kind;
	r->ctrl = (int8_t)(c ? c->idx : -1);
	r->ns = (int8_t)ns;
	r->qid = qid;
	r->lba = lba;
	r->nlb = nlb;
	r->rc = 1;
	r->status = -1;
	th->n_calls[kind]++;
	return r;
}

void t_rec_note(struct t_rec *r, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(r->note, sizeof(r->note), fmt, ap);
	va_end(ap);
}

uint32_t t_rbit(int rc)
{
	switch (rc) {
	case 0: return RC_OK;
	case -EINVAL: return RC_EINVAL;
	case -ERANGE: return RC_ERANGE;
	case -EFAULT: return RC_EFAULT;
	case -EAGAIN: return RC_EAGAIN;
	case -ENXIO: return RC_ENXIO;
	case -ENODEV: return RC_ENODEV;
	case -EBUSY: return RC_EBUSY;
	case -ENOENT: return RC_ENOENT;
	case -EEXIST: return RC_EEXIST;
	case -ENOTSUP: return RC_ENOTSUP;
	case -ENOSPC: return RC_ENOSPC;
	case -ETIMEDOUT: return RC_ETIMEDOUT;
	case -EIO: return RC_EIO;
	case -ECANCELED: return RC_ECANCELED;
	case -EDEADLK: return RC_EDEADLK;
	default: return 1u << 31;	/* EOPNOTSUPP == ENOTSUP on Linux */
	}
}

void t_rset_str(uint32_t set, char *out, size_t len)
{
	static const struct { uint32_t bit; const char *name; } names[] = {
		{ RC_OK, "0" }, { RC_EINVAL, "EINVAL" }, { RC_ERANGE, "ERANGE" },
		{ RC_EFAULT, "EFAULT" }, { RC_EAGAIN, "EAGAIN" }, { RC_ENXIO, "ENXIO" },
		{ RC_ENODEV, "ENODEV" }, { RC_EBUSY, "EBUSY" }, { RC_ENOENT, "ENOENT" },
		{ RC_EEXIST, "EEXIST" }, { RC_ENOTSUP, "ENOTSUP" }, { RC_ENOSPC, "ENOSPC" },
		{ RC_ETIMEDOUT, "ETIMEDOUT" }, { RC_EIO, "EIO" }, { RC_ECANCELED, "ECANCELED" },
		{ RC_EDEADLK, "EDEADLK" },
	};
	size_t o = 0;

	out[0] = 0;
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]) && o < len; i++)
		if (set & names[i].bit)
			o += (size_t)snprintf(out + o, len - o, "%s%s", o ? " or " : "",
					      names[i].name);
}

void t_expect_rc(struct t_thread *th, struct t_rec *r, int rc, uint32_t want, const char *what)
{
	char ws[96];

	r->rc = rc;
	if (rc)
		th->n_refused++;
	if (t_rbit(rc) & want)
		return;
	t_rset_str(want, ws, sizeof(ws));
	t_violation(th, "%s returned %d (%s), expected %s; library said: %s", what, rc,
		    t_errname(rc), ws, rc ? nvp_last_error() : "(nothing: it succeeded)");
}

/* ------------------------------------------------------------------------ */
/* Command slots, arena                                                     */
/* ------------------------------------------------------------------------ */

static struct t_op *op_new(struct t_thread *th)
{
	struct t_op *op;
	uint16_t slot;

	if (!th->nfree)
		return NULL;
	slot = th->free_slots[--th->nfree];
	op = &th->ops[slot];
	memset(op, 0, sizeof(*op));
	op->slot = slot;
	return op;
}

static void op_put(struct t_thread *th, struct t_op *op)
{
	op->used = false;
	op->ar_len = 0;
	free(op->dsm);
	op->dsm = NULL;
	th->free_slots[th->nfree++] = op->slot;
}

static void *op_arg(struct t_thread *th, const struct t_op *op)
{
	return (void *)(uintptr_t)(((uint64_t)th->idx << 56) | ((uint64_t)op->slot << 40) |
				   (op->seq & 0xffffffffffull));
}

static bool ranges_overlap(size_t a, size_t al, size_t b, size_t bl)
{
	return a < b + bl && b < a + al;
}

/* Arena offsets in use; the registered mapping counts from 1 << 50. */
#define REG_BASE (1ull << 50)
static bool span_free(struct t_thread *th, size_t off, size_t len)
{
	for (uint32_t i = 0; i < T_MAX_OPS; i++) {
		const struct t_op *o = &th->ops[i];

		if (o->used && o->ar_len && ranges_overlap(off, len, o->ar_off, o->ar_len))
			return false;
	}
	for (int i = 0; i < T_WATCH; i++) {
		const struct t_watch *w = &th->watch[i];

		if (w->used && w->ar_len && ranges_overlap(off, len, w->ar_off, w->ar_len))
			return false;
	}
	return true;
}

/* A place in the arena for @len bytes, at an offset that crosses pages or 2 MiB. */
static bool arena_take(struct t_thread *th, size_t len, size_t *off)
{
	size_t al = th->arena_len;

	if (len + 8 > al)
		return false;
	for (int tries = 0; tries < 8; tries++) {
		size_t o;

		switch (t_below(th, 6)) {
		case 0:	/* page aligned */
			o = t_below(th, (al - len) / 4096 + 1) * 4096;
			break;
		case 1:	/* dword aligned anywhere */
			o = t_below(th, (al - len) / 4 + 1) * 4;
			break;
		case 2: {	/* across a 2 MiB line */
			size_t lines = al / HUGE_2M;
			size_t b = (1 + t_below(th, lines > 1 ? lines - 1 : 1)) * HUGE_2M;
			size_t back = 4 * t_below(th, (len < HUGE_2M ? len : HUGE_2M) / 4 + 1);

			o = b > back ? b - back : 0;
			break;
		}
		case 3:	/* block aligned */
			o = t_below(th, (al - len) / 512 + 1) * 512;
			break;
		default:	/* just before a page boundary */
			o = t_below(th, (al - len) / 4096 + 1) * 4096;
			o = o > 64 ? o - 4 * (1 + t_below(th, 15)) : o;
			break;
		}
		if (o + len + 4 > al)
			continue;
		if (span_free(th, o, len + 4)) {
			*off = o;
			return true;
		}
	}
	return false;
}

/* ------------------------------------------------------------------------ */
/* What the library must say about a payload                                */
/* ------------------------------------------------------------------------ */

struct seg {
	uint64_t iova, len;
};

#define MAX_SEGS 512

/* Bus segments of an iovec, as the library will see them; 0 or RC_EFAULT/RC_EINVAL. */
static uint32_t payload_segs(const struct iovec *iov, int iovcnt, struct seg *segs, int *nsegs)
{
	uint32_t err = 0;
	int n = 0;

	for (int i = 0; i < iovcnt; i++) {
		const uint8_t *va = iov[i].iov_base;
		size_t left = iov[i].iov_len;

		if (!left) {
			err |= RC_EINVAL;
			continue;
		}
		while (left) {
			uint64_t iova;
			size_t contig = 0, chunk;

			if (nvp_mem_translate(va, &iova, &contig) || !contig) {
				err |= RC_EFAULT;
				break;
			}
			chunk = contig < left ? contig : left;
			if (n && segs[n - 1].iova + segs[n - 1].len == iova) {
				segs[n - 1].len += chunk;
			} else {
				if (n == MAX_SEGS)
					return err | RC_EINVAL;
				segs[n].iova = iova;
				segs[n].len = chunk;
				n++;
			}
			va += chunk;
			left -= chunk;
		}
	}
	*nsegs = n;
	return err;
}

static bool prp_ok(const struct seg *s, int n, uint32_t ps)
{
	for (int i = 0; i < n; i++) {
		if (s[i].iova & 3)
			return false;
		if (i > 0 && (s[i].iova & (ps - 1)))
			return false;
		if (i + 1 < n && ((s[i].iova + s[i].len) & (ps - 1)))
			return false;
	}
	return true;
}

static bool sgl_ok(const struct t_ctrl *c, const struct seg *s, int n, bool allow_sgl)
{
	if (!allow_sgl || !c->info->sgl_supported)
		return false;
	if (c->byte_sgl)
		return true;
	for (int i = 0; i < n; i++)
		if ((s[i].iova | s[i].len) & 3)
			return false;
	return true;
}

/*
 * 0 if every command of the I/O (parts of @step bytes) can be described
 * with PRPs or an SGL; RC_EFAULT (not DMA memory) or RC_EINVAL otherwise.
 */
static uint32_t payload_verdict(const struct t_ctrl *c, const struct iovec *iov, int iovcnt,
				uint64_t total, uint64_t step, bool allow_sgl)
{
	static _Thread_local struct seg segs[MAX_SEGS], part[MAX_SEGS];
	uint32_t ps = c->info->page_size;
	int n = 0;
	uint32_t err = payload_segs(iov, iovcnt, segs, &n);

	if (err)
		return err;
	for (uint64_t off = 0; off < total; off += step) {
		uint64_t want = total - off < step ? total - off : step, skip = off;
		int i = 0, k = 0;

		while (i < n && skip >= segs[i].len)
			skip -= segs[i++].len;
		for (; i < n && want; i++) {
			uint64_t take = segs[i].len - skip;

			if (take > want)
				take = want;
			part[k].iova = segs[i].iova + skip;
			part[k].len = take;
			k++;
			want -= take;
			skip = 0;
		}
		if (!prp_ok(part, k, ps) && !sgl_ok(c, part, k, allow_sgl))
			return RC_EINVAL;
	}
	return 0;
}

static uint64_t iov_total(const struct iovec *iov, int iovcnt)
{
	uint64_t t = 0;

	for (int i = 0; i < iovcnt; i++)
		t += iov[i].iov_len;
	return t;
}

/*
 * -EAGAIN or not for a command needing @need request objects. CIDs retired
 * after a lost command (Abort found nothing) are not free but are not
 * outstanding either, until the next reset: the model does not know how
 * many of the commands that ended with Host Aborted were retired, so both
 * answers are right in between.
 */
static uint32_t want_free(const struct t_qp *tq, uint64_t need)
{
	uint32_t out = nvp_qpair_outstanding(tq->qp);
	uint64_t max = out > tq->num_reqs ? 0 : tq->num_reqs - out;
	uint64_t min = max > tq->maybe_retired ? max - tq->maybe_retired : 0;

	if (need > max)
		return RC_EAGAIN;
	if (need <= min)
		return RC_OK;
	return RC_OK | RC_EAGAIN;
}

bool t_ns_unusable(const struct t_ns *ns)
{
	return !ns->info->max_io_blocks || ns->info->md_size || !ns->info->active;
}

/* Expected result of nvp_read/write/readv/writev. */
static uint32_t want_rw(struct t_qp *tq, struct t_ns *ns, bool foreign, uint64_t lba, uint32_t nlb,
			bool null_cb, bool vec, const struct iovec *iov, int iovcnt,
			uint32_t *needed, bool *split)
{
	uint32_t arg = 0, l2 = 0;
	uint64_t step, parts, need;
	bool sp, toobig;

	*needed = 1;
	*split = false;
	if (null_cb)
		arg |= RC_EINVAL;
	if (!ns || foreign)
		arg |= RC_EINVAL;
	else if (t_ns_unusable(ns))
		arg |= RC_ENOTSUP;
	else if (nlb == 0)
		arg |= RC_EINVAL;
	else if (lba >= ns->nblocks || nlb > ns->nblocks - lba)
		arg |= RC_ERANGE;
	if (vec && (!iov || iovcnt <= 0))
		arg |= RC_EINVAL;
	else if (vec && ns && !foreign && iov_total(iov, iovcnt) != (uint64_t)nlb * ns->bs)
		arg |= RC_EINVAL;
	if (arg)
		return arg;
	step = ns->max_io;
	sp = nlb > step;
	parts = ((uint64_t)nlb + step - 1) / step;
	need = sp ? parts + 1 : 1;
	toobig = sp && need > tq->num_reqs;
	if (toobig)
		l2 |= RC_EINVAL;
	l2 |= payload_verdict(tq->c, iov, iovcnt, (uint64_t)nlb * ns->bs, step * ns->bs, true);
	*needed = (uint32_t)(need > UINT32_MAX ? UINT32_MAX : need);
	*split = sp;
	if (toobig)
		return l2;
	if (l2)
		return l2 | (want_free(tq, need) & RC_EAGAIN);
	return want_free(tq, need);
}

static uint32_t want_wz(struct t_qp *tq, struct t_ns *ns, bool foreign, uint64_t lba, uint32_t nlb,
			bool null_cb, uint32_t *needed, bool *split)
{
	uint32_t arg = 0;
	uint64_t parts, need;

	*needed = 1;
	*split = false;
	if (null_cb)
		arg |= RC_EINVAL;
	if (!ns || foreign)
		arg |= RC_EINVAL;
	else if (t_ns_unusable(ns))
		arg |= RC_ENOTSUP;
	else if (nlb == 0)
		arg |= RC_EINVAL;
	else if (lba >= ns->nblocks || nlb > ns->nblocks - lba)
		arg |= RC_ERANGE;
	else if (!ns->info->supports_write_zeroes)
		arg |= RC_ENOTSUP;
	if (arg)
		return arg;
	parts = ((uint64_t)nlb + 65535) / 65536;
	need = parts + (parts > 1);
	*needed = (uint32_t)(need > UINT32_MAX ? UINT32_MAX : need);
	*split = parts > 1;
	if (need > tq->num_reqs)
		return RC_EINVAL;
	return want_free(tq, need);
}

static uint32_t want_dsm(struct t_qp *tq, struct t_ns *ns, bool foreign,
			 const struct nvp_dsm_range *r, uint32_t n, bool null_cb)
{
	uint32_t arg = 0;

	if (null_cb)
		arg |= RC_EINVAL;
	if (!ns || foreign)
		return arg | RC_EINVAL;
	if (t_ns_unusable(ns) || !ns->info->supports_dsm)
		return arg | RC_ENOTSUP;
	if (!r || n == 0 || n > T_MAX_DSM) {
		arg |= RC_EINVAL;
	} else {
		for (uint32_t i = 0; i < n; i++) {
			if (r[i].nlb == 0)
				arg |= RC_EINVAL;
			else if (r[i].slba >= ns->nblocks || r[i].nlb > ns->nblocks - r[i].slba)
				arg |= RC_ERANGE;
		}
	}
	if (arg)
		return arg;
	return want_free(tq, 1);
}

static uint32_t want_simple(struct t_qp *tq, struct t_ns *ns, bool foreign, bool null_cb)
{
	uint32_t arg = 0;

	if (null_cb)
		arg |= RC_EINVAL;
	if (!ns || foreign)
		arg |= RC_EINVAL;
	else if (t_ns_unusable(ns))
		arg |= RC_ENOTSUP;
	if (arg)
		return arg;
	return want_free(tq, 1);
}

/* nvp_io_raw() with @buf/@len (buf may be NULL for passthrough). */
static uint32_t want_raw(struct t_qp *tq, bool null_cmd, bool null_cb, void *buf, size_t len)
{
	uint32_t arg = 0, l2 = 0;

	if (null_cmd || null_cb)
		arg |= RC_EINVAL;
	if (!buf != !len)	/* a buffer without a length, or the reverse */
		arg |= RC_EINVAL;
	if (len > tq->c->info->max_xfer_bytes)
		arg |= RC_EINVAL;
	if (arg)
		return arg;
	if (buf && len) {
		struct iovec iov = { .iov_base = buf, .iov_len = len };

		l2 |= payload_verdict(tq->c, &iov, 1, len, len, true);
	}
	if (l2)
		return l2 | (want_free(tq, 1) & RC_EAGAIN);
	return want_free(tq, 1);
}

/* ------------------------------------------------------------------------ */
/* Choosing ranges and buffers                                              */
/* ------------------------------------------------------------------------ */

static uint64_t log_uniform(struct t_thread *th, uint64_t max)
{
	unsigned int bits = 64 - (unsigned int)__builtin_clzll(max);
	uint64_t hi = 1ull << t_below(th, bits + 1);

	if (hi > max)
		hi = max;
	return 1 + t_below(th, hi);
}

static uint32_t pick_nlb(struct t_thread *th, const struct t_ns *ns, const struct t_region *rg,
			 bool want_split, uint64_t cap)
{
	uint64_t max = ns->max_op_blocks, m = ns->max_io ? ns->max_io : 1;

	if (rg->len < max)
		max = rg->len;
	if (cap < max)
		max = cap;
	if (!max)
		return 0;
	if (want_split && max > m)
		return (uint32_t)(m + 1 + t_below(th, (max < 4 * m ? max : 4 * m) - m));
	switch (t_below(th, 10)) {
	case 0: case 1: case 2:
		return (uint32_t)(1 + t_below(th, max < 8 ? max : 8));
	case 3: case 4: {
		static const int64_t d[] = { -1, 0, 1 };
		uint64_t base[] = { m, 2 * m, 3 * m, 65536, max };
		uint64_t v = base[t_below(th, 5)] + (uint64_t)d[t_below(th, 3)];

		return (uint32_t)(v < 1 ? 1 : v > max ? max : v);
	}
	default:
		return (uint32_t)log_uniform(th, max);
	}
}

/* A range of @nlb blocks in @rg that no command in flight touches. */
static bool pick_lba(struct t_thread *th, struct t_region *rg, uint32_t nlb, uint64_t *lba)
{
	if (nlb > rg->len)
		return false;
	for (int tries = 0; tries < 6; tries++) {
		uint64_t room = rg->len - nlb, o;

		switch (t_below(th, 8)) {
		case 0: o = 0; break;
		case 1: o = room; break;
		default: o = t_below(th, room + 1); break;
		}
		if (t_range_free(rg, rg->base + o, nlb)) {
			*lba = rg->base + o;
			return true;
		}
	}
	return false;
}

struct t_layout {
	struct iovec iov[T_MAX_IOV];
	int iovcnt;
	size_t ar_off, ar_len;
	bool uses_reg;
	int pool;		/* index in th->pool, -1 */
	const char *what;
};

/* Elements inside one arena span, not adjacent to each other. */
static bool layout_vec(struct t_thread *th, const struct t_ctrl *c, size_t total,
		       struct t_layout *L, bool prp_shape)
{
	uint32_t ps = c->info->page_size;
	size_t sizes[T_MAX_IOV], span = 0, off, pos;
	int n = 0;

	if (prp_shape) {
		/* first: dword offset r, ends on a page; middles whole pages; last the rest */
		size_t r = 4 * t_below(th, ps / 4), left = total, first = ps - r;

		if (first >= total || t_chance(th, 20)) {
			sizes[n++] = total;
			left = 0;
		} else {
			sizes[n++] = first;
			left -= first;
		}
		while (left && n < T_MAX_IOV - 1) {
			size_t pages = 1 + t_below(th, 4), l = pages * ps;

			if (l >= left || t_chance(th, 25))
				break;
			sizes[n++] = l;
			left -= l;
		}
		if (left)
			sizes[n++] = left;
		span = total + (size_t)n * 2 * ps + 2 * ps;
		if (!arena_take(th, span, &off))
			return false;
		L->ar_off = off;
		L->ar_len = span + 4;
		off = (off + ps - 1) & ~(size_t)(ps - 1);
		pos = off + (n == 1 ? 4 * t_below(th, ps / 4) : r);
		for (int i = 0; i < n; i++) {
			L->iov[i].iov_base = th->arena + pos;
			L->iov[i].iov_len = sizes[i];
			pos += sizes[i];
			pos = ((pos + ps - 1) & ~(size_t)(ps - 1)) + ps;	/* gap: one page */
		}
		L->what = "iovec (PRP shape)";
	} else {
		/* ragged: random lengths and offsets, dword or byte granular */
		bool bytes = c->byte_sgl && t_chance(th, 50);
		size_t gran = bytes ? 1 : 4, left = total;
		int want = 1 + (int)t_below(th, T_MAX_IOV - 1);

		while (left && n < want - 1) {
			size_t l = gran * (1 + t_below(th, (left / gran) < 3000 ? left / gran : 3000));

			if (l >= left)
				break;
			sizes[n++] = l;
			left -= l;
		}
		sizes[n++] = left;
		span = total + (size_t)n * 64 + 64;
		if (!arena_take(th, span, &off))
			return false;
		L->ar_off = off;
		L->ar_len = span + 4;
		pos = off + (bytes ? t_below(th, 4) : 0);
		for (int i = 0; i < n; i++) {
			L->iov[i].iov_base = th->arena + pos;
			L->iov[i].iov_len = sizes[i];
			pos += sizes[i] + gran * (1 + t_below(th, 8));	/* gap */
		}
		L->what = bytes ? "iovec (byte-ragged)" : "iovec (dword-ragged)";
	}
	if (pos > L->ar_off + span) {
		L->ar_len = 0;
		return false;
	}
	L->iovcnt = n;
	return true;
}

/* One buffer of @len bytes; @bad may pick memory the library must refuse. */
static bool layout_buf(struct t_thread *th, const struct t_ctrl *c, size_t len, bool bad,
		       struct t_layout *L, uint8_t *stackbuf, size_t stacklen, bool raw)
{
	size_t off;

	L->iovcnt = 1;
	L->pool = -1;
	L->iov[0].iov_len = len;
	if (bad) {
		/* for nvp_io_raw() a NULL buffer means "no data": not a bad one */
		switch (t_below(th, raw ? 4 : 5)) {
		case 0:
			L->iov[0].iov_base = th->heap + 4 * t_below(th, 64);
			L->what = "malloc() memory";
			return len <= 65536;
		case 1:
			if (len > stacklen)
				break;
			L->iov[0].iov_base = stackbuf;
			L->what = "stack memory";
			return true;
		case 2:
			L->iov[0].iov_base = th->unreg;
			L->what = "mmap()ed memory never registered";
			return len <= 65536;
		case 3:
			/* starts in the registered mapping, runs into the guard page */
			if (!th->reg_registered || len < 8 || len > th->reg_len)
				break;
			off = th->reg_len - 4 * (1 + t_below(th, (len - 4) / 4 < 1024 ? (len - 4) / 4 : 1024));
			if (off + len > th->reg_len + 4096 || !span_free(th, REG_BASE + off, len))
				break;
			L->iov[0].iov_base = th->reg + off;
			L->what = "registered memory running past its registration";
			return true;
		default:
			L->iov[0].iov_base = NULL;
			L->what = "NULL";
			return true;
		}
		L->iov[0].iov_base = th->heap;
		L->what = "malloc() memory";
		return len <= 65536;
	}
	if (th->reg_registered && len <= th->reg_len / 2 && t_chance(th, 12)) {
		for (int tries = 0; tries < 4; tries++) {
			off = 4 * t_below(th, (th->reg_len - len) / 4 + 1);
			if (span_free(th, REG_BASE + off, len + 4)) {
				L->iov[0].iov_base = th->reg + off;
				L->ar_off = REG_BASE + off;
				L->ar_len = len + 4;
				L->uses_reg = true;
				L->what = "registered memory";
				return true;
			}
		}
	}
	if (t_chance(th, 6)) {
		for (int i = 0; i < 8; i++) {
			struct t_buf *b = &th->pool[i];

			if (b->p && !b->users && b->len >= len) {
				L->iov[0].iov_base = b->p + 4 * t_below(th, (b->len - len) / 4 + 1);
				L->pool = i;
				L->what = "nvp_dma_alloc() buffer";
				return true;
			}
		}
	}
	if (!arena_take(th, len + 4, &off))
		return false;
	L->ar_off = off;
	L->ar_len = len + 4;
	L->what = "DMA arena";
	/* odd byte addresses: fine with byte-aligned SGLs, refused otherwise */
	if (t_chance(th, c->byte_sgl ? 8 : 2)) {
		off += 1 + t_below(th, 3);
		L->what = "DMA arena, odd address";
	}
	L->iov[0].iov_base = th->arena + off;
	return true;
}

static void layout_hold(struct t_thread *th, struct t_op *op, const struct t_layout *L)
{
	memcpy(op->iov, L->iov, sizeof(L->iov));
	op->iovcnt = L->iovcnt;
	op->ar_off = L->ar_off;
	op->ar_len = L->ar_len;
	op->uses_reg = L->uses_reg;
	if (L->uses_reg)
		th->reg_users++;
	if (L->pool >= 0)
		th->pool[L->pool].users++;
}

#define T_WATCH_MAGIC 0x5741544348454421ull	/* "WATCHED!" */

static void watch_fill(const struct t_watch *w)
{
	uint64_t v = T_WATCH_MAGIC ^ w->seq;

	for (int i = 0; i < w->iovcnt; i++) {
		uint8_t *p = w->iov[i].iov_base;

		for (size_t k = 0; k < w->iov[i].iov_len; k++)
			p[k] = (uint8_t)(v >> (8 * (k & 7)));
	}
}

static void watch_release(struct t_thread *th, struct t_watch *w)
{
	if (w->uses_reg)
		th->reg_users--;
	if (w->pool >= 0)
		th->pool[w->pool].users--;
	w->used = false;
}

/*
 * A read completed with an error after a timeout (or a controller failure):
 * the application owns its buffer again, so the device must never write
 * into it. Keep the buffer aside, filled with a pattern, and check later.
 */
static void watch_add(struct t_thread *th, struct t_op *op, uint16_t st)
{
	struct t_watch *w = NULL;

	for (int i = 0; i < T_WATCH && !w; i++)
		if (!th->watch[i].used)
			w = &th->watch[i];
	if (!w || !op->iovcnt)
		return;
	memset(w, 0, sizeof(*w));
	w->used = true;
	w->seq = op->seq;
	w->t = t_now_ns();
	w->status = st;
	memcpy(w->iov, op->iov, sizeof(w->iov));
	w->iovcnt = op->iovcnt;
	w->ar_off = op->ar_off;
	w->ar_len = op->ar_len;
	w->uses_reg = op->uses_reg;
	w->pool = -1;
	for (int i = 0; i < 8; i++)
		if (th->pool[i].users && (uint8_t *)op->iov[0].iov_base >= th->pool[i].p &&
		    (uint8_t *)op->iov[0].iov_base < th->pool[i].p + th->pool[i].len)
			w->pool = i;
	watch_fill(w);
	/* the buffer now belongs to the watch */
	op->uses_reg = false;
	op->ar_len = 0;
	op->iovcnt = 0;
}

/* Check watched buffers at least @age_ms old (all of them if @all). */
static void watch_check(struct t_thread *th, uint64_t age_ms, bool all)
{
	uint64_t now = t_now_ns();

	for (int i = 0; i < T_WATCH; i++) {
		struct t_watch *w = &th->watch[i];
		uint64_t v;
		size_t off = 0;

		if (!w->used || (!all && now - w->t < age_ms * 1000000ull))
			continue;
		v = T_WATCH_MAGIC ^ w->seq;
		for (int e = 0; e < w->iovcnt; e++) {
			const uint8_t *p = w->iov[e].iov_base;

			for (size_t k = 0; k < w->iov[e].iov_len; k++, off++) {
				if (p[k] == (uint8_t)(v >> (8 * (k & 7))))
					continue;
				t_violation(th, "read op #%" PRIu64 " completed with %s (0x%04x); %" PRIu64
					    " ms after its callback gave the buffer back, byte %zu of it "
					    "had been overwritten: the device still executed the command "
					    "after the library completed it", w->seq,
					    nvp_status_str(w->status), w->status, (now - w->t) / 1000000,
					    off);
			}
		}
		watch_release(th, w);
	}
}

static void layout_release(struct t_thread *th, struct t_op *op)
{
	if (op->uses_reg)
		th->reg_users--;
	for (int i = 0; i < 8; i++) {
		struct t_buf *b = &th->pool[i];

		if (b->users && op->iovcnt && (uint8_t *)op->iov[0].iov_base >= b->p &&
		    (uint8_t *)op->iov[0].iov_base < b->p + b->len)
			b->users--;
	}
	op->ar_len = 0;
}

/* ------------------------------------------------------------------------ */
/* Faults that must hit one command (precise)                                */
/* ------------------------------------------------------------------------ */

static uint8_t nvme_opc(const struct t_op *op)
{
	switch (op->kind) {
	case K_READ: case K_READV: case K_RAW_READ: return NVP_NVM_READ;
	case K_WRITE: case K_WRITEV: case K_RAW_WRITE: return NVP_NVM_WRITE;
	case K_COMPARE: return NVP_NVM_COMPARE;
	case K_WZ: return NVP_NVM_WRITE_ZEROES;
	case K_DSM: return NVP_NVM_DSM;
	default: return NVP_NVM_FLUSH;
	}
}

static uint16_t fault_status(struct t_thread *th)
{
	static const uint16_t st[] = {
		NVP_STATUS(NVP_SCT_MEDIA, NVP_SC_UNRECOVERED_READ_ERROR),
		NVP_STATUS(NVP_SCT_MEDIA, NVP_SC_WRITE_FAULTS),
		NVP_STATUS(NVP_SCT_GENERIC, NVP_SC_INTERNAL),
		NVP_STATUS(NVP_SCT_GENERIC, NVP_SC_NS_NOT_READY),
		NVP_STATUS(NVP_SCT_VENDOR, 0xc0),
		NVP_STATUS(NVP_SCT_VENDOR, 0xff),
	};
	uint16_t s = st[t_below(th, sizeof(st) / sizeof(st[0]))];

	if (NVP_STATUS_SCT(s) == NVP_SCT_VENDOR)
		s = NVP_STATUS(NVP_SCT_VENDOR, 0x80 + (th->idx * 8 + t_below(th, 8)) % 0x80);
	return t_chance(th, 50) ? (uint16_t)(s | NVP_STATUS_DNR_BIT) : s;
}

/*
 * Arm faults that hit exactly @op (already built, not yet submitted, and
 * certain to be accepted). Returns false if nothing was armed.
 */
static bool arm_precise(struct t_thread *th, struct t_op *op, struct t_ns *ns)
{
	struct t_ctrl *c = op->tq->c;
	uint32_t mask = cfg.fault_mask, types[3], nt = 0;
	bool lba = op->kind != K_FLUSH && op->kind != K_DSM;
	struct nvp_emu_fault f;
	struct t_rec *r;
	uint32_t prim;

	if (!c->is_emu || !mask || !t_fault_may_arm(th) || th->fbudget < 2)
		return false;
	if (lba && t_fault_overlaps(th, c->idx, op->tq->qid, ns->info->nsid, op->lba, op->nlb))
		return false;
	if (!lba && (op->kind == K_FLUSH ? op->tq->flushes : op->tq->dsms))
		return false;
	if (!lba && t_fault_overlaps(th, c->idx, op->tq->qid, ns->info->nsid, 0, 0))
		return false;
	/* a primary fault, sometimes with a second that must not change the outcome */
	for (int tries = 0; tries < 8 && !nt; tries++) {
		prim = 1u << t_below(th, 6);
		if (!(mask & prim))
			continue;
		if (prim == TF_UNKNOWN && !(op->tq->num_reqs & (op->tq->num_reqs - 1)))
			continue;	/* no CID index is out of range on this qpair */
		types[nt++] = prim;
	}
	if (!nt)
		return false;
	if (t_chance(th, 30)) {
		uint32_t sec = t_chance(th, 50) ? TF_DUP : TF_UNKNOWN;

		if ((mask & sec) && sec != types[0] &&
		    !(sec == TF_UNKNOWN && !(op->tq->num_reqs & (op->tq->num_reqs - 1))))
			types[nt++] = sec;
	}
	for (uint32_t i = 0; i < nt; i++) {
		int rc;

		memset(&f, 0, sizeof(f));
		f.count = 1;
		f.match = NVP_EMU_MATCH_IO | NVP_EMU_MATCH_QID | NVP_EMU_MATCH_NSID;
		f.qid = op->tq->qid;
		f.nsid = ns->info->nsid;
		if (lba) {
			f.match |= NVP_EMU_MATCH_LBA;
			f.slba = op->lba;
			f.nlb = op->nlb;
		} else {
			f.match |= NVP_EMU_MATCH_OPCODE;
			f.opcode = nvme_opc(op);
		}
		switch (types[i]) {
		case TF_STATUS:
			f.type = NVP_EMU_FAULT_STATUS;
			f.status = fault_status(th);
			break;
		case TF_DROP:
			f.type = NVP_EMU_FAULT_DROP;
			break;
		case TF_DELAY:
			f.type = NVP_EMU_FAULT_DELAY;
			f.delay_us = (uint32_t)(t_chance(th, 80) ? 100 + t_below(th, 20000) :
					  c->timeout_ms * 1000u + t_below(th, c->timeout_ms * 1000u));
			break;
		case TF_CQE:	/* executed, then a completion with chosen fields */
			f.type = NVP_EMU_FAULT_CQE;
			switch (t_below(th, 3)) {
			case 0:
				f.cqe_fields = NVP_EMU_CQE_STATUS;
				f.cqe_status = fault_status(th);
				break;
			case 1:
				f.cqe_fields = NVP_EMU_CQE_DW0 | NVP_EMU_CQE_DW1 | NVP_EMU_CQE_SQHD;
				f.cqe_dw0 = (uint32_t)t_rand(th);
				f.cqe_dw1 = (uint32_t)t_rand(th);
				f.cqe_sqhd = (uint16_t)t_rand(th);
				break;
			default:
				f.cqe_fields = NVP_EMU_CQE_SQID;
				f.cqe_sqid = (uint16_t)(op->tq->qid + 1 + t_below(th, 100));
				break;
			}
			break;
		case TF_UNKNOWN: {
			uint32_t mask2 = 1;

			while (mask2 < op->tq->num_reqs)
				mask2 <<= 1;
			f.type = NVP_EMU_FAULT_UNKNOWN_CID;
			f.cid = (uint16_t)(op->tq->num_reqs + t_below(th, mask2 - op->tq->num_reqs));
			f.cid = (uint16_t)(f.cid | (t_below(th, 65536 / mask2) * mask2));
			if (!f.cid)
				f.cid = (uint16_t)mask2;	/* 0 would mean the default 0xfffe */
			break;
		}
		default:
			f.type = NVP_EMU_FAULT_DUP_CID;
			break;
		}
		r = t_rec_begin(th, K_FAULT, c, ns->idx, op->tq->qid, f.slba, f.nlb);
		rc = nvp_emu_inject(c->ctrl, &f, sizeof(f));
		t_rec_note(r, "precise type %d st 0x%x delay %u cid %u", f.type, f.status,
			   f.delay_us, f.cid);
		t_expect_rc(th, r, rc, RC_OK | RC_ENOSPC, "nvp_emu_inject()");
		if (rc) {
			if (i == 0)
				return false;
			break;	/* the primary is armed; go on without the second */
		}
		th->n_faults++;
		th->fbudget--;
		switch (types[i]) {
		case TF_STATUS:
			op->exact = true;
			op->want_status = f.status;
			/* remembered so that nothing else is explained by it meanwhile */
			for (int k = 0; k < T_MAX_FAULTS; k++) {
				if (!th->faults[k].used) {
					th->faults[k].used = true;
					th->faults[k].ctrl = c->idx;
					th->faults[k].f = f;
					th->faults[k].seq = op->seq;
					break;
				}
			}
			break;
		case TF_DROP:
			op->want_drop = true;
			break;
		case TF_DELAY:
			op->want_delay_us = f.delay_us;
			break;
		case TF_CQE:
			if (f.cqe_fields & NVP_EMU_CQE_STATUS) {
				op->exact = true;	/* the command ran, but reports this */
				op->want_status = f.cqe_status;
			}
			if (f.cqe_fields & NVP_EMU_CQE_SQID)
				op->sqid_fault = true;
			break;
		default:
			break;
		}
	}
	op->carrier = true;
	th->n_precise++;
	return true;
}

/* ------------------------------------------------------------------------ */
/* Submitting                                                               */
/* ------------------------------------------------------------------------ */

static struct t_ns *pick_ns(struct t_thread *th, struct t_ctrl *c)
{
	return &c->ns[t_below(th, (uint64_t)c->nns)];
}

static struct t_ctrl *foreign_ctrl(struct t_thread *th, const struct t_ctrl *c)
{
	if (nctrls < 2)
		return NULL;
	for (int tries = 0; tries < 8; tries++) {
		struct t_ctrl *o = &ctrls[t_below(th, (uint64_t)nctrls)];

		if (o != c && o->ctrl && !o->dead)
			return o;
	}
	return NULL;
}

static void account_submit(struct t_thread *th, struct t_op *op, const char *what)
{
	struct t_qp *tq = op->tq;
	struct t_hist *h = &th->hist[op->seq % T_HIST];

	h->seq = op->seq;
	h->kind = op->kind;
	h->ctrl = (int8_t)tq->c->idx;
	h->ns = (int8_t)(op->rg ? op->rg->ns->idx : -1);
	h->qid = tq->qid;
	h->lba = op->lba;
	h->nlb = op->nlb;
	h->iovcnt = op->iovcnt;
	h->addr0 = op->iovcnt ? op->iov[0].iov_base : NULL;
	h->len0 = op->iovcnt ? op->iov[0].iov_len : 0;
	h->what = what;
	h->status = -1;
	h->t_sub = t_ms();

	op->used = true;
	th->inflight++;
	tq->nops++;
	tq->lo += op->split ? 2 : 1;
	tq->hi += op->needed;
	if (op->carrier)
		tq->carriers++;
	if (op->kind == K_FLUSH || op->kind == K_RAW_FLUSH_ALL)
		tq->flushes++;
	if (op->kind == K_DSM)
		tq->dsms++;
	if (op->rg) {
		if (op->kind == K_DSM) {
			for (uint32_t i = 0; i < op->ndsm; i++)
				t_range_busy(op->rg, op->dsm[i].slba, op->dsm[i].nlb, true);
		} else if (op->nlb) {
			t_range_busy(op->rg, op->lba, op->nlb, true);
		}
	}
}

static void account_done(struct t_thread *th, struct t_op *op)
{
	struct t_qp *tq = op->tq;

	th->inflight--;
	tq->nops--;
	tq->lo -= op->split ? 2 : 1;
	tq->hi -= op->needed;
	if (op->carrier)
		tq->carriers--;
	if (op->kind == K_FLUSH || op->kind == K_RAW_FLUSH_ALL)
		tq->flushes--;
	if (op->kind == K_DSM)
		tq->dsms--;
	if (op->rg) {
		if (op->kind == K_DSM) {
			for (uint32_t i = 0; i < op->ndsm; i++)
				t_range_busy(op->rg, op->dsm[i].slba, op->dsm[i].nlb, false);
		} else if (op->nlb) {
			t_range_busy(op->rg, op->lba, op->nlb, false);
		}
	}
	layout_release(th, op);
}

/*
 * A failed (removed) controller reaches a queue pair at its next poll:
 * before that, submissions are accepted (and end with Host Pathing
 * Error); after it, they are refused with -ENODEV.
 */
static uint32_t adjust_fatal(struct t_thread *th, struct t_qp *tq, uint32_t want, bool *seen_failed)
{
	*seen_failed = tq->poll_failed;
	if (!th->fatal || !tq->c->removal_expected)
		return want;
	if (tq->poll_failed)	/* arguments may still be checked first */
		return (want & ~(RC_OK | RC_EAGAIN)) | RC_ENODEV;
	return want | RC_ENODEV;
}

/*
 * Build and submit one command on @tq. Returns true if it was accepted.
 * Every refusal is checked against the model; an accepted command is in
 * flight until its callback.
 */
static bool submit_data(struct t_thread *th, struct t_qp *tq, const struct t_req *q)
{
	struct t_ctrl *c = tq->c;
	struct t_ns *ns = q->rg ? q->rg->ns : pick_ns(th, c);
	struct t_region *rg = q->rg ? q->rg : &th->rg[c->idx][ns->idx];
	int kind = q->kind;
	uint8_t stackbuf[4096];
	struct t_layout L;
	struct t_op *op;
	struct t_rec *r = NULL;
	uint32_t want = 0, nlb = 0, needed = 1;
	uint64_t lba = 0;
	bool split = false, bad_buf, seen_failed;
	struct nvp_sqe cmd;
	int rc = 0;

	if (!rg->len && kind != K_FLUSH && kind != K_RAW_FLUSH_ALL)
		return false;
	op = op_new(th);
	if (!op)
		return false;
	memset(&L, 0, sizeof(L));
	L.pool = -1;
	bad_buf = !q->verify && !q->dying && t_op_enabled(OC_INVALID) && t_chance(th, 3) &&
		  (kind == K_READ || kind == K_WRITE || kind == K_READV || kind == K_WRITEV ||
		   kind == K_RAW_READ || kind == K_RAW_WRITE);

	/* what, where */
	switch (kind) {
	case K_FLUSH:
	case K_RAW_FLUSH_ALL:
		break;
	case K_DSM: {
		uint32_t n = t_chance(th, 5) ? T_MAX_DSM : 1 + (uint32_t)t_below(th, 4);

		op->dsm = calloc(n, sizeof(*op->dsm));
		if (!op->dsm)
			goto skip;
		for (uint32_t i = 0; i < n && op->ndsm < n; i++) {
			uint32_t l = (uint32_t)log_uniform(th, rg->len < 4096 ? rg->len : 4096);
			uint64_t a;
			bool ok = pick_lba(th, rg, l, &a);

			for (uint32_t k = 0; ok && k < op->ndsm; k++)
				if (ranges_overlap(a, l, op->dsm[k].slba, op->dsm[k].nlb))
					ok = false;
			if (!ok)
				continue;
			op->dsm[op->ndsm].slba = a;
			op->dsm[op->ndsm].nlb = l;
			op->dsm[op->ndsm].cattr = (uint32_t)t_below(th, 16);
			op->ndsm++;
		}
		if (!op->ndsm)
			goto skip;
		break;
	}
	default: {
		uint64_t cap = T_NOLIMIT;

		if (kind == K_RAW_READ || kind == K_RAW_WRITE || kind == K_COMPARE ||
		    kind == K_RAW_BAD) {
			cap = ns->max_io ? ns->max_io : 1;
			if (cap > 65536)
				cap = 65536;
		}
		if (kind == K_WZ && t_chance(th, 20))
			cap = 65536 * 3;	/* splits at 65536 blocks */
		if (q->verify) {
			nlb = q->nlb;
			lba = q->lba;
		} else {
			nlb = pick_nlb(th, ns, rg, q->want_split, cap);
			if (kind == K_WZ && cap == 65536 * 3 && rg->len > 65536 && t_chance(th, 50))
				nlb = (uint32_t)(65536 + t_below(th, (rg->len < 3 * 65536 ? rg->len : 3 * 65536) - 65535));
			if (!nlb || !pick_lba(th, rg, nlb, &lba))
				goto skip;
		}
		if (kind == K_COMPARE) {
			uint64_t v;

			for (uint32_t i = 0; i < nlb; i++)
				if (!t_blk_known(rg, lba + i, &v))
					kind = K_RAW_READ;
		}
		break;
	}
	}
	op->kind = (uint8_t)kind;
	op->tq = tq;
	op->lba = lba;
	op->nlb = nlb;
	op->rg = kind == K_FLUSH || kind == K_RAW_FLUSH_ALL ? NULL : rg;
	r = t_rec_begin(th, kind, c, ns->idx, tq->qid, kind == K_DSM ? op->dsm[0].slba : lba,
			kind == K_DSM ? op->ndsm : nlb);
	op->seq = r->seq;
	op->gen = op->seq;

	/* buffer */
	if (kind == K_READ || kind == K_WRITE || kind == K_READV || kind == K_WRITEV ||
	    kind == K_RAW_READ || kind == K_RAW_WRITE || kind == K_COMPARE) {
		size_t len = (size_t)nlb * ns->bs;
		bool vec = kind == K_READV || kind == K_WRITEV;
		bool ok;

		if (vec && !bad_buf)
			ok = layout_vec(th, c, len, &L, !c->info->sgl_supported ?
					!t_chance(th, 10) : t_chance(th, 50));
		else
			ok = layout_buf(th, c, len, bad_buf, &L, stackbuf, sizeof(stackbuf),
					kind == K_RAW_READ || kind == K_RAW_WRITE || kind == K_COMPARE);
		if (!ok)
			goto skip;
		if (!bad_buf) {
			if (kind == K_WRITE || kind == K_WRITEV || kind == K_RAW_WRITE)
				t_fill(th, rg, lba, nlb, op->gen, L.iov, L.iovcnt);
			else if (kind == K_COMPARE) {
				for (uint32_t i = 0; i < nlb; i++) {
					uint64_t v = 0;

					t_blk_known(rg, lba + i, &v);
					t_fill(th, rg, lba + i, 1, v, &(struct iovec){
						(uint8_t *)L.iov[0].iov_base + (size_t)i * ns->bs,
						ns->bs }, 1);
				}
				if (t_chance(th, 40)) {
					uint8_t *p = L.iov[0].iov_base;

					p[t_below(th, len)] ^= (uint8_t)(1 + t_below(th, 255));
					op->cmp_corrupt = true;
				}
			} else {
				t_poison(L.iov, L.iovcnt, op->seq);
			}
		}
	}

	/* what the library must answer */
	switch (kind) {
	case K_READ: case K_WRITE: case K_READV: case K_WRITEV:
		want = want_rw(tq, ns, false, lba, nlb, false, kind == K_READV || kind == K_WRITEV,
			       L.iov, L.iovcnt, &needed, &split);
		break;
	case K_WZ:
		want = want_wz(tq, ns, false, lba, nlb, false, &needed, &split);
		break;
	case K_DSM:
		want = want_dsm(tq, ns, false, op->dsm, op->ndsm, false);
		break;
	case K_FLUSH:
		want = want_simple(tq, ns, false, false);
		break;
	default: /* raw */
		want = want_raw(tq, false, false, L.iov[0].iov_base, L.iov[0].iov_len);
		break;
	}
	if (q->dying)
		want = RC_ENXIO;	/* the contract: no submissions into a qpair being freed */
	want = adjust_fatal(th, tq, want, &seen_failed);
	op->needed = needed;
	op->split = split;
	op->cb_action = CBA_NONE;
	if (!q->verify && !q->dying && !th->fatal && t_op_enabled(OC_NEST) && t_chance(th, 12))
		op->cb_action = (uint8_t)(1 + t_below(th, CBA_COUNT - 1));
	if (q->precise && want == RC_OK && !bad_buf)
		arm_precise(th, op, ns);

	/* the call */
	th->cur_seq = op->seq;
	op->rs0 = tq->synced;
	t_rec_note(r, "%s%s%s%s", q->dying ? "[in free] " : q->from_cb ? "[in cb] " : "",
		   L.what ? L.what : "", split ? " split" : "", op->carrier ? " precise" : "");
	op->t0 = t_now_ns();
	switch (kind) {
	case K_READ:
		rc = nvp_read(tq->qp, ns->ns, L.iov[0].iov_base, lba, nlb,
			      (uint32_t)t_below(th, 4), io_cb, op_arg(th, op));
		break;
	case K_WRITE:
		rc = nvp_write(tq->qp, ns->ns, L.iov[0].iov_base, lba, nlb,
			       (uint32_t)t_below(th, 4), io_cb, op_arg(th, op));
		break;
	case K_READV:
		rc = nvp_readv(tq->qp, ns->ns, L.iov, L.iovcnt, lba, nlb, 0, io_cb, op_arg(th, op));
		break;
	case K_WRITEV:
		rc = nvp_writev(tq->qp, ns->ns, L.iov, L.iovcnt, lba, nlb,
				(uint32_t)t_below(th, 4), io_cb, op_arg(th, op));
		break;
	case K_WZ:
		rc = nvp_write_zeroes(tq->qp, ns->ns, lba, nlb, t_chance(th, 30) ? NVP_IO_FUA : 0,
				      io_cb, op_arg(th, op));
		break;
	case K_DSM:
		rc = nvp_deallocate(tq->qp, ns->ns, op->dsm, op->ndsm, io_cb, op_arg(th, op));
		break;
	case K_FLUSH:
		rc = nvp_flush(tq->qp, ns->ns, io_cb, op_arg(th, op));
		break;
	case K_RAW_FLUSH_ALL:
		memset(&cmd, 0, sizeof(cmd));
		cmd.opc = NVP_NVM_FLUSH;
		cmd.nsid = 0xffffffffu;
		rc = nvp_io_raw(tq->qp, &cmd, NULL, 0, io_cb, op_arg(th, op));
		break;
	default:
		memset(&cmd, 0, sizeof(cmd));
		cmd.opc = nvme_opc(op);
		cmd.nsid = ns->info->nsid;
		cmd.cdw10 = (uint32_t)lba;
		cmd.cdw11 = (uint32_t)(lba >> 32);
		cmd.cdw12 = nlb - 1;
		cmd.flags = (uint8_t)(t_below(th, 4) << 6);	/* PSDT: the library owns it */
		rc = nvp_io_raw(tq->qp, &cmd, L.iov[0].iov_base, L.iov[0].iov_len, io_cb,
				op_arg(th, op));
		break;
	}
	t_expect_rc(th, r, rc, want, t_kind_name(kind));
	if (rc) {
		if (op->carrier)
			t_violation(th, "a command the model required to be accepted (a fault is "
				    "armed for it) was refused");
		(void)seen_failed;
		free(op->dsm);
		op->dsm = NULL;
		th->free_slots[th->nfree++] = op->slot;
		return false;
	}
	if (bad_buf)
		t_violation(th, "%s with a buffer in %s was accepted", t_kind_name(kind), L.what);
	layout_hold(th, op, &L);
	account_submit(th, op, L.what);
	return true;
skip:
	if (r) {
		r->rc = 2;
		t_rec_note(r, "not submitted: no room in the buffers");
	}
	free(op->dsm);
	op->dsm = NULL;
	th->free_slots[th->nfree++] = op->slot;
	return false;
}

/* A raw command the device must refuse (and what it must say). */
static bool submit_raw_bad(struct t_thread *th, struct t_qp *tq)
{
	struct t_ctrl *c = tq->c;
	struct t_ns *ns = pick_ns(th, c);
	struct t_op *op = op_new(th);
	struct nvp_sqe cmd;
	struct t_layout L;
	struct t_rec *r;
	uint32_t want;
	bool seen;
	int rc, v;

	if (!op)
		return false;
	memset(&cmd, 0, sizeof(cmd));
	memset(&L, 0, sizeof(L));
	L.pool = -1;
	v = (int)t_below(th, c->is_emu ? 4 : 3);
	cmd.nsid = ns->info->nsid;
	cmd.opc = NVP_NVM_READ;
	switch (v) {
	case 0: {	/* past the end (across it, unless that is this thread's region) */
		uint32_t nlb = 1 + (uint32_t)t_below(th, 8);
		const struct t_region *own = &th->rg[c->idx][ns->idx];
		uint64_t lba = ns->nblocks - (t_below(th, nlb));

		if (own->base + own->len + 8 > ns->nblocks)
			lba = ns->nblocks + t_below(th, 4);

		cmd.cdw10 = (uint32_t)lba;
		cmd.cdw11 = (uint32_t)(lba >> 32);
		cmd.cdw12 = nlb - 1;
		if (!layout_buf(th, c, (size_t)nlb * ns->bs, false, &L, NULL, 0, true))
			goto skip;
		op->want_status = NVP_STATUS(NVP_SCT_GENERIC, NVP_SC_LBA_OUT_OF_RANGE);
		break;
	}
	case 1:		/* an inactive namespace */
		cmd.nsid = 999;
		if (!layout_buf(th, c, ns->bs, false, &L, NULL, 0, true))
			goto skip;
		op->want_status = NVP_STATUS(NVP_SCT_GENERIC, NVP_SC_INVALID_NS);
		break;
	case 2:		/* an opcode nobody implements */
		cmd.opc = 0x7e;
		op->want_status = NVP_STATUS(NVP_SCT_GENERIC, NVP_SC_INVALID_OPCODE);
		break;
	default:	/* hostile PRP passed through: address 0 is no DMA memory */
		if (!th->rg[c->idx][ns->idx].len ||
		    !pick_lba(th, &th->rg[c->idx][ns->idx], 1, &op->lba))
			goto skip;
		op->rg = &th->rg[c->idx][ns->idx];
		op->nlb = 1;
		cmd.cdw10 = (uint32_t)op->lba;
		cmd.cdw11 = (uint32_t)(op->lba >> 32);
		cmd.dptr.prp.prp1 = 0x10000000000ull * (1 + t_below(th, 64));
		op->want_status = NVP_STATUS(NVP_SCT_GENERIC, NVP_SC_DATA_XFER_ERROR);
		break;
	}
	op->kind = K_RAW_BAD;
	op->tq = tq;
	op->raw_opc = cmd.opc;
	op->raw_nsid = cmd.nsid;
	if (!op->rg) {
		op->lba = cmd.cdw10 | (uint64_t)cmd.cdw11 << 32;
		op->nlb = (cmd.cdw12 & 0xffff) + 1u;
	}
	op->seq = th->seq + 1;
	op->needed = 1;
	want = want_raw(tq, false, false, L.iovcnt ? L.iov[0].iov_base : NULL,
			L.iovcnt ? L.iov[0].iov_len : 0);
	want = adjust_fatal(th, tq, want, &seen);
	if (L.iovcnt)
		t_poison(L.iov, L.iovcnt, op->seq);
	r = t_rec_begin(th, K_RAW_BAD, c, ns->idx, tq->qid, cmd.cdw10 | (uint64_t)cmd.cdw11 << 32,
			(cmd.cdw12 & 0xffff) + 1u);
	t_rec_note(r, "opc 0x%02x nsid %u want %s", cmd.opc, cmd.nsid, nvp_status_str(op->want_status));
	op->t0 = t_now_ns();
	op->rs0 = tq->synced;
	rc = nvp_io_raw(tq->qp, &cmd, L.iovcnt ? L.iov[0].iov_base : NULL,
			L.iovcnt ? L.iov[0].iov_len : 0, io_cb, op_arg(th, op));
	t_expect_rc(th, r, rc, want, "nvp_io_raw() (bad command)");
	if (rc)
		goto skip;
	layout_hold(th, op, &L);
	account_submit(th, op, "raw, bad");
	return true;
skip:
	th->free_slots[th->nfree++] = op->slot;
	return false;
}

/* Calls the library must refuse: every argument class, for every call. */
static void submit_invalid(struct t_thread *th, struct t_qp *tq)
{
	struct t_ctrl *c = tq->c, *fc;
	struct t_ns *ns = pick_ns(th, c);
	struct t_region *rg = &th->rg[c->idx][ns->idx];
	struct nvp_qpair *qp = tq->qp;
	struct nvp_ns *nsp = ns->ns;
	uint8_t *buf = th->arena;
	uint64_t lba = rg->base;
	uint32_t nlb = 1, want, needed, ndsm = 1;
	struct iovec iov[4];
	int iovcnt = 1, fn, defect, rc = 0;
	uint32_t ioflags = 0;
	struct nvp_dsm_range dsm[T_MAX_DSM + 1];
	bool null_cb = false, foreign = false, null_qp = false, null_iov = false, split, seen;
	nvp_cmd_cb cb = io_cb;
	struct t_rec *r;
	char what[96];

	if (!rg->len)
		return;
	memset(dsm, 0, sizeof(dsm));
	dsm[0].slba = lba;
	dsm[0].nlb = 1;
	iov[0].iov_base = buf;
	iov[0].iov_len = ns->bs;
	fn = (int)t_below(th, 8);	/* which call */
	defect = (int)t_below(th, 13);	/* what is wrong with it */
	switch (defect) {
	case 0: null_qp = true; break;
	case 1: nsp = NULL; break;
	case 2:
		fc = foreign_ctrl(th, c);
		if (!fc)
			return;
		nsp = fc->ns[0].ns;
		foreign = true;
		break;
	case 3: null_cb = true; cb = NULL; break;
	case 4: nlb = 0; iov[0].iov_len = 0; dsm[0].nlb = 0; break;
	case 5:		/* past the end */
		lba = ns->nblocks - t_below(th, 4);
		nlb = 4 + (uint32_t)t_below(th, 4);
		dsm[0].slba = lba;
		dsm[0].nlb = nlb;
		break;
	case 6:		/* wraps 2^64 */
		lba = UINT64_MAX - t_below(th, 8);
		nlb = 16;
		dsm[0].slba = lba;
		dsm[0].nlb = nlb;
		break;
	case 7:		/* nlb up to 2^32 - 1 */
		nlb = UINT32_MAX - (uint32_t)t_below(th, 3) * (uint32_t)t_below(th, 0x10000);
		lba = t_chance(th, 50) ? 0 : ns->nblocks > nlb ? ns->nblocks - nlb : 0;
		dsm[0].slba = lba;
		dsm[0].nlb = nlb;
		break;
	case 8:		/* iovec problems / dsm range count */
		null_iov = t_chance(th, 30);
		iovcnt = null_iov ? 1 : (int)t_below(th, 3) - 1;	/* -1, 0, 1 */
		if (iovcnt == 1) {
			iov[0].iov_len = ns->bs + 4 * (1 + t_below(th, 8));	/* does not add up */
		}
		ndsm = t_chance(th, 50) ? 0 : T_MAX_DSM + 1;
		break;
	case 9:		/* a zero-length element among good ones */
		iovcnt = 3;
		iov[0].iov_base = buf;
		iov[0].iov_len = ns->bs;
		iov[1].iov_base = buf + 8192;
		iov[1].iov_len = 0;
		iov[2].iov_base = buf + 16384;
		iov[2].iov_len = 0;
		nlb = 1;
		ndsm = 2;
		dsm[1].slba = lba;
		dsm[1].nlb = 0;
		break;
	case 10:	/* split needing more requests than the qpair has, or nlb huge */
		nlb = (uint32_t)((uint64_t)(ns->max_io ? ns->max_io : 1) * (tq->num_reqs + 1) + 1);
		if (nlb > rg->len)
			nlb = (uint32_t)rg->len;
		break;
	case 12:	/* I/O flags the library does not know; a fused raw command */
		ioflags = 1u << (2 + t_below(th, 30));
		break;
	default:	/* NULL buffer / raw NULL command */
		iov[0].iov_base = NULL;
		break;
	}
	if (fn == 0 || fn == 1) {
		/* read/write use one buffer; make it big enough only when the model needs it */
		iov[0].iov_len = (size_t)nlb * ns->bs;
	}
	switch (fn) {
	case 0: case 1:
		want = null_qp ? RC_EINVAL :
		       want_rw(tq, nsp ? ns : NULL, foreign, lba, nlb, null_cb, false, iov, 1,
			       &needed, &split);
		if (defect == 11 && !(want & ~RC_EFAULT))
			want |= RC_EINVAL;	/* NULL: -EINVAL would be fair too */
		break;
	case 2: case 3:
		want = null_qp ? RC_EINVAL :
		       want_rw(tq, nsp ? ns : NULL, foreign, lba, nlb, null_cb, true,
			       null_iov ? NULL : iov, iovcnt, &needed, &split);
		if (defect == 11 && !(want & ~RC_EFAULT))
			want |= RC_EINVAL;
		break;
	case 4:
		want = null_qp ? RC_EINVAL :
		       want_wz(tq, nsp ? ns : NULL, foreign, lba, nlb, null_cb, &needed, &split);
		break;
	case 5:
		want = null_qp ? RC_EINVAL :
		       want_dsm(tq, nsp ? ns : NULL, foreign, null_iov ? NULL : dsm, ndsm, null_cb);
		break;
	case 6:
		want = null_qp ? RC_EINVAL : want_simple(tq, nsp ? ns : NULL, foreign, null_cb);
		break;
	default: {
		size_t len = defect == 10 ? (size_t)tq->c->info->max_xfer_bytes + 4096 : ns->bs;

		iov[0].iov_len = len;
		want = null_qp ? RC_EINVAL :
		       want_raw(tq, defect == 11, null_cb, defect == 11 ? buf : iov[0].iov_base, len);
		break;
	}
	}
	if (defect == 12 && fn != 5 && fn != 6 && !(want & ~(RC_OK | RC_EAGAIN)))
		want = RC_EINVAL;	/* flags (or FUSE) are checked before any resource */
	want = null_qp ? want : adjust_fatal(th, tq, want, &seen);
	if (want & RC_OK)
		return;		/* not a refusal after all (e.g. a valid edge) */
	if (want == RC_EAGAIN)
		return;
	r = t_rec_begin(th, K_CHECK, c, ns->idx, tq->qid, lba, nlb);
	snprintf(what, sizeof(what), "%s with defect %d", (const char *[]){ "nvp_read",
		 "nvp_write", "nvp_readv", "nvp_writev", "nvp_write_zeroes", "nvp_deallocate",
		 "nvp_flush", "nvp_io_raw" }[fn], defect);
	t_rec_note(r, "%s", what);
	switch (fn) {
	case 0:
		rc = nvp_read(null_qp ? NULL : qp, nsp, iov[0].iov_base, lba, nlb, ioflags, cb,
			      (void *)1);
		break;
	case 1:
		rc = nvp_write(null_qp ? NULL : qp, nsp, iov[0].iov_base, lba, nlb, ioflags, cb,
			       (void *)1);
		break;
	case 2:
		rc = nvp_readv(null_qp ? NULL : qp, nsp, null_iov ? NULL : iov, iovcnt, lba, nlb,
			       ioflags, cb, (void *)1);
		break;
	case 3:
		rc = nvp_writev(null_qp ? NULL : qp, nsp, null_iov ? NULL : iov, iovcnt, lba, nlb,
				ioflags, cb, (void *)1);
		break;
	case 4:
		rc = nvp_write_zeroes(null_qp ? NULL : qp, nsp, lba, nlb, ioflags, cb, (void *)1);
		break;
	case 5:
		rc = nvp_deallocate(null_qp ? NULL : qp, nsp, null_iov ? NULL : dsm, ndsm, cb,
				    (void *)1);
		break;
	case 6:
		rc = nvp_flush(null_qp ? NULL : qp, nsp, cb, (void *)1);
		break;
	default: {
		struct nvp_sqe cmd = { .opc = NVP_NVM_READ, .nsid = ns->info->nsid,
				       .cdw10 = (uint32_t)rg->base, .cdw11 = (uint32_t)(rg->base >> 32) };

		if (defect == 12)
			cmd.flags = (uint8_t)(1 + t_below(th, 3));	/* FUSE 01b..11b */

		rc = nvp_io_raw(null_qp ? NULL : qp, defect == 11 ? NULL : &cmd,
				defect == 11 ? buf : iov[0].iov_base, iov[0].iov_len, cb, (void *)1);
		break;
	}
	}
	t_expect_rc(th, r, rc, want, what);
}

/* ------------------------------------------------------------------------ */
/* Completions                                                              */
/* ------------------------------------------------------------------------ */

static const char *st_name(uint16_t st, char *buf, size_t len)
{
	snprintf(buf, len, "%s (SCT %u SC 0x%02x%s)", nvp_status_str(st), NVP_STATUS_SCT(st),
		 NVP_STATUS_SC(st), NVP_STATUS_DNR(st) ? " DNR" : "");
	return buf;
}

static void nested(struct t_thread *th, struct t_op *op);

static void op_complete(struct t_thread *th, struct t_op *op, const struct nvp_cqe *cpl)
{
	struct t_qp *tq = op->tq;
	struct t_ctrl *c = tq->c;
	uint16_t st = cpl->status & 0xfffe;
	bool err = NVP_CPL_IS_ERROR(cpl), ok_status;
	uint64_t el = t_now_ns() - op->t0;
	uint64_t to = (uint64_t)c->timeout_ms * 1000000ull;
	bool timed = c->timeout_ms && el + el / 50 + 1000000ull >= to;
	bool timeout_st = (st & ST_MASK) == ST_HOST_ABORTED || (st & ST_MASK) == ST_ABORT_REQ;
	/* a reset since submission: interrupted commands are posted again or end
	 * with Host Aborted Command (DNR clear); the device state before is lost */
	bool reset = atomic_load(&c->ev_started) != op->rs0;
	bool gave_up = (timeout_st && timed) || ((st & ST_MASK) == ST_HOST_ABORTED && reset);
	struct t_rec *r;
	char sb[96], why[600];

	r = t_rec_begin(th, op->kind, c, op->rg ? op->rg->ns->idx : -1, tq->qid, op->lba, op->nlb);
	th->n_calls[op->kind]--;	/* a completion, not a call */
	r->rc = 0;
	r->status = st;
	t_rec_note(r, "cpl of #%" PRIu64 " after %" PRIu64 " us%s%s%s", op->seq, el / 1000,
		   op->carrier ? " precise" : "", op->want_drop ? " drop" : "",
		   op->want_delay_us ? " delay" : "");
	th->cur_seq = op->seq;
	th->n_cpl++;
	if (err)
		th->n_cpl_err++;
	if ((nvp_status_to_errno(cpl->status) == 0) == err)
		t_violation(th, "nvp_status_to_errno(0x%04x) = %d disagrees with "
			    "NVP_CPL_IS_ERROR()", cpl->status, nvp_status_to_errno(cpl->status));
	if ((st & ST_MASK) == ST_HOST_ABORTED && reset && !timed && NVP_STATUS_DNR(st))
		t_violation(th, "op #%" PRIu64 " ended by a controller reset with Host Aborted "
			    "Command and DNR set; a reset must leave it retryable", op->seq);
	if ((st & ST_MASK) == ST_HOST_ABORTED && !tq->freeing && timed &&
	    tq->maybe_retired < tq->num_reqs)
		tq->maybe_retired++;
	if (cpl->sqid != tq->qid && !tq->freeing && !th->fatal && !reset && !op->sqid_fault)
		t_violation(th, "completion of op #%" PRIu64 " has SQID %u, the qpair is %u",
			    op->seq, cpl->sqid, tq->qid);

	if (tq->freeing) {
		/* a split I/O reports its first failing part, which may have failed before */
		ok_status = (st & ST_MASK) == ST_HOST_ABORTED ||
			    (op->split && (gave_up || t_fault_explains(th, op, st) ||
					   (op->exact && st == op->want_status)));
		if (!ok_status)
			t_violation(th, "op #%" PRIu64 " (%s) completed during nvp_qpair_free() with %s;"
				    " expected Host Aborted Command", op->seq, t_kind_name(op->kind),
				    st_name(st, sb, sizeof(sb)));
	} else if (th->fatal && c->removal_expected) {
		ok_status = !err || (st & ST_MASK) == ST_HOST_PATH ||
			    gave_up || t_fault_explains(th, op, st) ||
			    (op->kind == K_RAW_BAD && (st & ST_MASK) == (op->want_status & ST_MASK));
		if (!ok_status)
			t_violation(th, "op #%" PRIu64 " (%s) on a failing controller completed with %s",
				    op->seq, t_kind_name(op->kind), st_name(st, sb, sizeof(sb)));
	} else if (op->want_drop && !reset) {
		if ((st & ST_MASK) != ST_HOST_ABORTED || !timed)
			t_violation(th, "op #%" PRIu64 " (%s) had its completion dropped by the device;"
				    " expected Host Aborted Command after the %u ms timeout, got %s after"
				    " %" PRIu64 " ms", op->seq, t_kind_name(op->kind), c->timeout_ms,
				    st_name(st, sb, sizeof(sb)), el / 1000000);
		/* the clock is read every 64 polls of the qpair: the bound is loose,
		 * since the test polls a qpair rarely while it fills 48 MiB buffers */
		if (el > 20 * to + 10000000000ull)
			t_violation(th, "op #%" PRIu64 " (dropped completion) took %" PRIu64 " ms to "
				    "time out; io_timeout_ms is %u", op->seq, el / 1000000, c->timeout_ms);
		th->n_timeouts++;
	} else if (op->exact && !reset) {
		if (st != op->want_status && !gave_up)
			t_violation(th, "op #%" PRIu64 " (%s): an injected fault that matched only it "
				    "should have completed it with %s; got %s", op->seq,
				    t_kind_name(op->kind), st_name(op->want_status, why, sizeof(why)),
				    st_name(st, sb, sizeof(sb)));
		if (st == op->want_status)
			t_fault_explains(th, op, st);	/* consume it (STATUS faults) */
	} else if (op->kind == K_RAW_BAD) {
		if ((st & ST_MASK) != (op->want_status & ST_MASK) && !gave_up &&
		    !t_fault_explains(th, op, st))
			t_violation(th, "raw op #%" PRIu64 ": expected %s, got %s", op->seq,
				    st_name(op->want_status, why, sizeof(why)), st_name(st, sb, sizeof(sb)));
	} else if (op->kind == K_COMPARE) {
		uint16_t w = op->cmp_corrupt ? NVP_STATUS(NVP_SCT_MEDIA, NVP_SC_COMPARE_FAILURE) : 0;

		if ((st & ST_MASK) != w && !gave_up && !t_fault_explains(th, op, st))
			t_violation(th, "compare op #%" PRIu64 " of %u blocks at LBA %" PRIu64
				    " (buffer %s): expected %s, got %s", op->seq, op->nlb, op->lba,
				    op->cmp_corrupt ? "altered" : "equal to the model's data",
				    w ? st_name(w, why, sizeof(why)) : "success",
				    st_name(st, sb, sizeof(sb)));
	} else if (err && !gave_up && !(op->exact && st == op->want_status) &&
		   !t_fault_explains(th, op, st)) {
		t_violation(th, "op #%" PRIu64 " (%s of %u blocks at LBA %" PRIu64 "%s) failed with %s "
			    "after %" PRIu64 " ms; no injected fault, timeout or reset explains it",
			    op->seq, t_kind_name(op->kind), op->nlb, op->lba, op->split ? ", split" : "",
			    st_name(st, sb, sizeof(sb)), el / 1000000);
	}
	if (timeout_st && err) {
		th->n_timeouts++;
		if (cfg.verbose)
			fprintf(stderr, "torture: thread %d op #%" PRIu64 " (%s of %u at LBA %" PRIu64
				" q%u c%d) completed with 0x%04x after %" PRIu64 " ms%s%s (delay %u us)\n",
				th->idx, op->seq, t_kind_name(op->kind), op->nlb, op->lba, tq->qid,
				c->idx, st, el / 1000000, op->carrier ? " precise" : "",
				op->want_drop ? " drop" : "", op->want_delay_us);
	}
	if (op->want_delay_us && !err && !reset && el < (uint64_t)op->want_delay_us * 1000)
		t_violation(th, "op #%" PRIu64 " was held %u us by an injected delay but completed "
			    "after %" PRIu64 " us", op->seq, op->want_delay_us, el / 1000);

	/* a read given up on (also by nvp_qpair_free(), even during a reset):
	 * the device must not write its buffer any more */
	if (err && ((st & ST_MASK) == ST_HOST_ABORTED || (st & ST_MASK) == ST_HOST_PATH ||
		    (st & ST_MASK) == ST_ABORT_REQ) &&
	    (op->kind == K_READ || op->kind == K_READV || op->kind == K_RAW_READ))
		watch_add(th, op, st);

	/* the data model */
	switch (op->kind) {
	case K_READ: case K_READV: case K_RAW_READ:
		if (!err && !t_check_read(th, op->rg, op->lba, op->nlb, op->iov, op->iovcnt,
					  op->seq, why, sizeof(why)))
			t_violation(th, "read op #%" PRIu64 " (%u blocks at LBA %" PRIu64 "%s, %d "
				    "element(s)) completed with success but %s", op->seq, op->nlb,
				    op->lba, op->split ? ", split" : "", op->iovcnt, why);
		break;
	case K_WRITE: case K_WRITEV: case K_RAW_WRITE:
	case K_WZ: {
		uint64_t v = op->kind == K_WZ ? CAND_ZERO : op->gen;

		for (uint32_t i = 0; i < op->nlb; i++) {
			if (err)
				t_blk_add(&op->rg->blk[op->lba + i - op->rg->base], v);
			else
				t_blk_set(&op->rg->blk[op->lba + i - op->rg->base], v);
		}
		break;
	}
	case K_DSM: {
		const struct nvp_ns_info *ni = op->rg->ns->info;

		for (uint32_t k = 0; k < op->ndsm; k++) {
			for (uint32_t i = 0; i < op->dsm[k].nlb; i++) {
				struct t_blk *b = &op->rg->blk[op->dsm[k].slba + i - op->rg->base];

				if (!ni->deallocated_reads_zeroes)
					b->n = BLK_ANY;
				else if (!err && c->is_emu)
					t_blk_set(b, CAND_ZERO);	/* emu: DLFEAT 001b, punched */
				else
					t_blk_add(b, CAND_ZERO);
			}
		}
		break;
	}
	default:
		break;
	}
	if (th->hist[op->seq % T_HIST].seq == op->seq) {
		th->hist[op->seq % T_HIST].status = st;
		th->hist[op->seq % T_HIST].t_cpl = t_ms();
	}
	account_done(th, op);
	op_put(th, op);
}

static void io_cb(void *arg, const struct nvp_cqe *cpl)
{
	struct t_thread *th = tls;
	uint64_t a = (uintptr_t)arg;
	unsigned int tid = (unsigned int)(a >> 56), slot = (unsigned int)((a >> 40) & 0xffff);
	uint64_t seq = a & 0xffffffffffull;
	struct nvp_cqe copy = *cpl;
	struct t_op *op, saved;

	if (!th)
		t_violation(NULL, "a completion callback ran on a thread that never submitted "
			    "(arg %p)", arg);
	if (arg == (void *)1)
		t_violation(th, "a callback ran for a call the library refused (or should have)");
	if (tid != (unsigned int)th->idx)
		t_violation(th, "thread %d ran the callback of a command of thread %u (op #%" PRIu64
			    ")", th->idx, tid, seq);
	op = slot < T_MAX_OPS ? &th->ops[slot] : NULL;
	if (!op || !op->used || (op->seq & 0xffffffffffull) != seq) {
		const char *what = "never accepted";

		for (int i = 0; i < T_RING; i++) {
			const struct t_rec *r = &th->ring[i];

			if (r->seq == seq)
				what = r->rc ? "refused" : "already completed or never accepted";
		}
		t_violation(th, "callback for op #%" PRIu64 ", which is not in flight (%s): a "
			    "duplicate or unsolicited completion reached the application "
			    "(CID %u, status 0x%04x)", seq, what, cpl->cid, cpl->status);
	}
	saved = *op;
	th->cb_depth++;
	op_complete(th, op, cpl);
	if (saved.cb_action != CBA_NONE && th->cb_depth == 1) {
		th->n_nested++;
		nested(th, &saved);
	}
	th->cb_depth--;
	if (memcmp(&copy, cpl, sizeof(copy)))
		t_violation(th, "the completion passed to op #%" PRIu64 "'s callback changed while "
			    "the callback ran (status 0x%04x -> 0x%04x, sqid %u -> %u, cid %u -> %u, "
			    "dw0 0x%x -> 0x%x) after it submitted %s", seq, copy.status, cpl->status,
			    copy.sqid, cpl->sqid, copy.cid, cpl->cid, copy.dw0, cpl->dw0,
			    saved.cb_action == CBA_SPLIT ? "a split I/O" : "another command");
}

/* Submissions from inside a callback. */
static void nested(struct t_thread *th, struct t_op *done)
{
	struct t_qp *tq = done->tq, *other = NULL;
	struct t_req q = { .from_cb = true };
	static const int kinds[] = { K_READ, K_WRITE, K_WRITEV, K_READV, K_WZ, K_FLUSH };

	q.kind = kinds[t_below(th, 6)];
	if (th->freeing == tq && tq->freeing) {
		q.dying = true;
		q.kind = kinds[t_below(th, 6)];
		if (t_chance(th, 70)) {
			submit_data(th, tq, &q);
			return;
		}
		q.dying = false;
	}
	switch (done->cb_action) {
	case CBA_SPLIT:
		q.kind = t_chance(th, 50) ? K_READ : K_WRITE;
		q.want_split = true;
		/* fallthrough */
	case CBA_SAME:
		if (tq->qp && !tq->freeing)
			submit_data(th, tq, &q);
		break;
	case CBA_BAD:
		if (tq->qp && !tq->freeing)
			submit_invalid(th, tq);
		break;
	default:
		for (int i = 0; i < nctrls && !other; i++)
			for (int k = 0; k < T_QP_PER_CTRL; k++)
				if (th->qps[i][k].qp && &th->qps[i][k] != tq && !th->qps[i][k].freeing)
					other = &th->qps[i][k];
		if (other)
			submit_data(th, other, &q);
		break;
	}
}

/* ------------------------------------------------------------------------ */
/* Polling, quiescing, hangs                                                */
/* ------------------------------------------------------------------------ */

static void check_hangs(struct t_thread *th)
{
	uint64_t now = t_now_ns(), lim = (uint64_t)cfg.hang_ms * 1000000ull;

	for (uint32_t i = 0; i < T_MAX_OPS; i++) {
		struct t_op *op = &th->ops[i];

		if (op->used && now - op->t0 > lim)
			t_violation(th, "op #%" PRIu64 " (%s of %u blocks at LBA %" PRIu64 " on qpair %u "
				    "of controller %d) got no callback in %" PRIu64 " ms; "
				    "nvp_qpair_outstanding() = %u", op->seq, t_kind_name(op->kind),
				    op->nlb, op->lba, op->tq->qid, op->tq->c->idx,
				    (now - op->t0) / 1000000, nvp_qpair_outstanding(op->tq->qp));
	}
}

int t_poll(struct t_thread *th, struct t_qp *tq, uint32_t max)
{
	uint32_t started, done;
	enum nvp_qpair_conn cs;
	int rc;

	if (!tq->qp)
		return 0;
	/*
	 * A reset reaches this qpair at a poll that sees the controller's new
	 * generation, which moves some time after RESET_STARTED. Only a poll
	 * that began with every started reset done has certainly seen them all.
	 */
	started = atomic_load(&tq->c->ev_started);
	done = atomic_load(&tq->c->ev_done);
	rc = nvp_qpair_poll(tq->qp, max);
	if (rc < 0) {
		struct t_rec *r = t_rec_begin(th, K_POLL, tq->c, -1, tq->qid, 0, max);

		r->rc = rc;
		if (!th->fatal || !tq->c->removal_expected)
			t_violation(th, "nvp_qpair_poll() on qpair %u of controller %d returned %d "
				    "(%s): the controller failed, which nothing in this phase "
				    "should cause: %s", tq->qid, tq->c->idx, rc, t_errname(rc),
				    nvp_last_error());
		if (rc != -ENODEV)
			t_violation(th, "nvp_qpair_poll() of a removed controller returned %d (%s), "
				    "expected ENODEV", rc, t_errname(rc));
		if (tq->nops)
			t_violation(th, "nvp_qpair_poll() returned %d, but %u command(s) accepted "
				    "before still have no callback", rc, tq->nops);
		tq->poll_failed = true;
	}
	if (rc >= 0 && max && (uint32_t)rc > max)
		t_violation(th, "nvp_qpair_poll(max %u) processed %d completions", max, rc);
	/* a reset this poll caught up with gave retired CIDs back */
	if (started == done && started != tq->synced) {
		tq->synced = started;
		tq->maybe_retired = 0;
	}
	cs = nvp_qpair_conn_state(tq->qp);
	if (rc >= 0 && cs != NVP_QPAIR_CONNECTED && cs != NVP_QPAIR_RECONNECTING)
		t_violation(th, "nvp_qpair_conn_state() of qpair %u is %d after a poll that "
			    "returned %d", tq->qid, cs, rc);
	if (rc < 0 && cs != NVP_QPAIR_FAILED)
		t_violation(th, "nvp_qpair_conn_state() of qpair %u is %d after a poll that "
			    "returned %d", tq->qid, cs, rc);
	return rc;
}

static void check_bounds(struct t_thread *th, struct t_qp *tq)
{
	uint32_t out = nvp_qpair_outstanding(tq->qp);

	if (out < tq->lo)
		t_violation(th, "nvp_qpair_outstanding() on qpair %u is %u, but %u command(s) in "
			    "flight hold at least %u request objects", tq->qid, out, tq->nops, tq->lo);
}

void t_quiesce(struct t_thread *th, struct t_qp *tq)
{
	uint64_t next = t_now_ns() + 50000000ull;
	struct t_rec *r;
	uint32_t out;

	if (!tq->qp)
		return;
	while (tq->nops) {
		t_poll(th, tq, 0);
		if (t_now_ns() > next) {
			check_hangs(th);
			next = t_now_ns() + 50000000ull;
		}
	}
	r = t_rec_begin(th, K_QUIESCE, tq->c, -1, tq->qid, 0, 0);
	out = nvp_qpair_outstanding(tq->qp);
	r->rc = (int)out;
	if (out)
		t_violation(th, "qpair %u of controller %d: every callback has run, yet "
			    "nvp_qpair_outstanding() = %u (request objects not returned)", tq->qid,
			    tq->c->idx, out);
}

/* ------------------------------------------------------------------------ */
/* Queue pairs                                                              */
/* ------------------------------------------------------------------------ */

static uint32_t pick_qsize(struct t_thread *th, const struct t_ctrl *c)
{
	static const uint32_t sizes[] = { 2, 3, 4, 5, 8, 16, 17, 32, 33, 64, 100, 128, 256, 1000 };
	uint32_t max = c->info->max_queue_entries, v;

	if (max > 32768)
		max = 32768;
	if (c->info->max_xfer_bytes > (4u << 20) && max > 64)
		max = 64;	/* each request reserves list memory for the largest transfer */
	v = sizes[t_below(th, sizeof(sizes) / sizeof(sizes[0]))];
	if (t_chance(th, 5))
		v = max;
	return v > max ? max : v;
}

static struct t_qp *qp_alloc(struct t_thread *th, struct t_ctrl *c, struct t_qp *slot)
{
	struct nvp_qpair_opts o, *op = &o;
	struct nvp_qpair *qp = NULL;
	uint32_t want, qs, nr, maxq = c->info->max_queue_entries;
	int variant = (int)t_below(th, 10), rc;
	uint32_t rs0;
	bool bad = false, full;
	struct t_rec *r;
	char note[48];

	if (maxq > 32768)
		maxq = 32768;
	nvp_qpair_opts_init(c->ctrl, &o, sizeof(o));
	if (c->info->max_xfer_bytes > (4u << 20) && o.queue_size > 64) {
		o.queue_size = 64;
		o.num_requests = 63;
		o.max_completions = 32;
	}
	qs = o.queue_size;
	nr = o.num_requests;
	snprintf(note, sizeof(note), "defaults");
	switch (variant) {
	case 0:
		if (c->info->max_xfer_bytes > (4u << 20))
			break;
		op = NULL;
		snprintf(note, sizeof(note), "NULL opts");
		break;
	case 1: case 2: case 3: case 4:
		qs = pick_qsize(th, c);
		switch (t_below(th, 4)) {
		case 0: nr = 1; break;
		case 1: nr = qs - 1; break;
		case 2: nr = qs / 2 ? qs / 2 : 1; break;
		default: nr = 1 + (uint32_t)t_below(th, qs - 1); break;
		}
		o.queue_size = qs;
		o.num_requests = nr;
		o.max_completions = (uint32_t)t_below(th, qs + 1);
		o.numa_node = t_chance(th, 20) ? 0 : NVP_NUMA_ANY;
		snprintf(note, sizeof(note), "qs %u nr %u mc %u", qs, nr, o.max_completions);
		break;
	case 5:		/* an older, shorter opts struct: defaults follow its queue size */
		qs = pick_qsize(th, c);
		o.queue_size = qs;
		o.opts_size = offsetof(struct nvp_qpair_opts, num_requests);
		o.num_requests = 12345;	/* beyond its size: must be ignored */
		nr = qs - 1;
		snprintf(note, sizeof(note), "short opts qs %u", qs);
		break;
	case 6: case 7:
		if (!t_op_enabled(OC_INVALID))
			break;
		bad = true;
		switch (t_below(th, 10)) {
		case 0: o.queue_size = 0; break;
		case 1: o.queue_size = 1; break;
		case 2: o.queue_size = maxq + 1; break;
		case 3: o.queue_size = UINT32_MAX; break;
		case 4: o.num_requests = 0; break;
		case 5: o.num_requests = o.queue_size; break;
		case 6: o.num_requests = UINT32_MAX; break;
		case 7: o.numa_node = 4000; break;
		case 8: o.opts_size = 0; break;	/* never initialised */
		default: o.numa_node = -5; break;
		}
		snprintf(note, sizeof(note), "bad: size %zu qs %u nr %u node %d", o.opts_size,
			 o.queue_size, o.num_requests, o.numa_node);
		break;
	default:
		break;
	}
	pthread_mutex_lock(&c->qp_lock);
	full = c->qpairs_in_use >= c->info->num_io_queues;
	want = bad ? (RC_EINVAL | (full ? RC_EBUSY : 0)) : full ? RC_EBUSY : RC_OK;
	r = t_rec_begin(th, K_QP_ALLOC, c, -1, 0, 0, 0);
	t_rec_note(r, "%s", note);
	rs0 = atomic_load(&c->ev_started);
	rc = nvp_qpair_alloc(c->ctrl, op, &qp);
	if (!bad && !full && t_reset_since(c, rs0))
		want |= RC_EAGAIN | RC_ECANCELED;	/* the admin queue is busy resetting */
	t_expect_rc(th, r, rc, want, "nvp_qpair_alloc()");
	if (rc) {
		pthread_mutex_unlock(&c->qp_lock);
		return NULL;
	}
	memset(slot, 0, sizeof(*slot));
	slot->qp = qp;
	slot->c = c;
	slot->qid = nvp_qpair_id(qp);
	slot->queue_size = qs;
	slot->num_reqs = nr;
	slot->alloc_seq = th->seq;
	slot->synced = atomic_load(&c->ev_done);
	slot->target_depth = 1 + (uint32_t)t_below(th, nr < 64 ? nr + 2 : 64);
	r->qid = slot->qid;
	if (!slot->qid || slot->qid > c->info->num_io_queues || slot->qid >= 1024 ||
	    c->qid_used[slot->qid])
		t_violation(th, "nvp_qpair_alloc() gave queue ID %u (granted %u, in use: %s)",
			    slot->qid, c->info->num_io_queues,
			    slot->qid < 1024 && c->qid_used[slot->qid] ? "yes" : "no");
	c->qid_used[slot->qid] = true;
	c->qpairs_in_use++;
	pthread_mutex_unlock(&c->qp_lock);
	if (nvp_qpair_outstanding(qp))
		t_violation(th, "a new qpair has nvp_qpair_outstanding() = %u",
			    nvp_qpair_outstanding(qp));
	return slot;
}

struct t_qp *t_qp_get(struct t_thread *th, struct t_ctrl *c, bool alloc)
{
	struct t_qp *have[T_QP_PER_CTRL], *empty = NULL;
	int n = 0;

	for (int k = 0; k < T_QP_PER_CTRL; k++) {
		if (th->qps[c->idx][k].qp)
			have[n++] = &th->qps[c->idx][k];
		else if (!empty)
			empty = &th->qps[c->idx][k];
	}
	if (alloc && empty && (n == 0 || (t_op_enabled(OC_QPAIR) && t_chance(th, 2))))
		return qp_alloc(th, c, empty) ?: (n ? have[t_below(th, (uint64_t)n)] : NULL);
	return n ? have[t_below(th, (uint64_t)n)] : NULL;
}

void t_qp_free(struct t_thread *th, struct t_qp *tq, bool with_outstanding)
{
	struct t_ctrl *c = tq->c;
	struct t_rec *r;

	if (!with_outstanding || tq->carriers)
		t_quiesce(th, tq);
	if (tq->nops)
		th->n_free_busy++;
	pthread_mutex_lock(&c->qp_lock);
	r = t_rec_begin(th, K_QP_FREE, c, -1, tq->qid, 0, tq->nops);
	t_rec_note(r, "%u in flight", tq->nops);
	th->freeing = tq;
	tq->freeing = true;
	nvp_qpair_free(tq->qp);
	th->freeing = NULL;
	r->rc = 0;
	if (tq->nops) {
		for (uint32_t i = 0; i < T_MAX_OPS; i++)
			if (th->ops[i].used && th->ops[i].tq == tq)
				t_violation(th, "nvp_qpair_free() of qpair %u returned, but op #%" PRIu64
					    " (%s) never got its callback (%u missing)", tq->qid,
					    th->ops[i].seq, t_kind_name(th->ops[i].kind), tq->nops);
	}
	c->qid_used[tq->qid] = false;
	c->qpairs_in_use--;
	pthread_mutex_unlock(&c->qp_lock);
	memset(tq, 0, sizeof(*tq));
}

void t_free_all_qpairs(struct t_thread *th)
{
	for (int i = 0; i < nctrls; i++)
		for (int k = 0; k < T_QP_PER_CTRL; k++)
			if (th->qps[i][k].qp)
				t_qp_free(th, &th->qps[i][k], false);
}

/* ------------------------------------------------------------------------ */
/* Thread setup                                                             */
/* ------------------------------------------------------------------------ */

void t_thread_setup(struct t_thread *th)
{
	size_t arena = 8u << 20;
	long ps = sysconf(_SC_PAGESIZE);

	for (int i = 0; i < nctrls; i++) {
		for (int n = 0; n < ctrls[i].nns; n++) {
			struct t_ns *ns = &ctrls[i].ns[n];
			size_t need = 2 * (size_t)ns->max_op_blocks * ns->bs + (6u << 20);

			if (need > arena)
				arena = need;
			t_region_init(&th->rg[i][n], ns, ns->rbase[th->idx], ns->rlen[th->idx],
				      t_tag(th->idx, i, n), ctrls[i].is_emu);
		}
	}
	arena = (arena + HUGE_2M - 1) & ~(size_t)(HUGE_2M - 1);
	th->arena = nvp_dma_alloc(arena, HUGE_2M, NVP_NUMA_ANY);
	if (!th->arena)
		t_fatal_setup("nvp_dma_alloc(%zu MiB) for thread %d: %s", arena >> 20, th->idx,
			      nvp_last_error());
	th->arena_len = arena;
	th->reg_len = 4u << 20;
	th->reg = mmap(NULL, th->reg_len + (size_t)ps, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	th->unreg = mmap(NULL, 65536 + (size_t)ps, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	th->heap = malloc(65536 + 1024);
	th->scratch = malloc(2 * 65536);
	if (th->reg == MAP_FAILED || th->unreg == MAP_FAILED || !th->heap || !th->scratch)
		t_fatal_setup("out of memory in thread setup");
	th->pool[7].p = nvp_dma_alloc(65536, 4096, NVP_NUMA_ANY);	/* admin data */
	th->pool[7].len = 65536;
	th->pool[7].users = 1;
	if (!th->pool[7].p)
		t_fatal_setup("nvp_dma_alloc(64 KiB): %s", nvp_last_error());
	if (nvp_mem_register(th->reg, th->reg_len))
		t_fatal_setup("nvp_mem_register(4 MiB): %s", nvp_last_error());
	th->reg_registered = true;
	for (uint32_t i = 0; i < T_MAX_OPS; i++) {
		th->ops[i].slot = (uint16_t)i;
		th->free_slots[i] = (uint16_t)(T_MAX_OPS - 1 - i);
	}
	th->nfree = T_MAX_OPS;
}

void t_thread_teardown(struct t_thread *th)
{
	long ps = sysconf(_SC_PAGESIZE);

	if (th->reg_registered)
		nvp_mem_unregister(th->reg);
	munmap(th->reg, th->reg_len + (size_t)ps);
	munmap(th->unreg, 65536 + (size_t)ps);
	nvp_dma_free(th->arena);
	for (int i = 0; i < 8; i++)
		nvp_dma_free(th->pool[i].p);
	free(th->heap);
	free(th->scratch);
	for (int i = 0; i < nctrls; i++)
		for (int n = 0; n < ctrls[i].nns; n++)
			t_region_free(&th->rg[i][n]);
}

/* ------------------------------------------------------------------------ */
/* The main phase                                                           */
/* ------------------------------------------------------------------------ */

static void poll_some(struct t_thread *th)
{
	int i = (int)t_below(th, (uint64_t)nmain);

	for (int k = 0; k < T_QP_PER_CTRL; k++) {
		struct t_qp *tq = &th->qps[i][k];

		if (tq->qp && tq->nops) {
			t_poll(th, tq, t_chance(th, 30) ? (uint32_t)t_below(th, 4) : 0);
			if (tq->qp)
				check_bounds(th, tq);
		}
	}
}

static int pick_class(struct t_thread *th, bool emu)
{
	static const unsigned int w[OC_COUNT] = {
		[OC_RW] = 40, [OC_VEC] = 12, [OC_RAW] = 8, [OC_FLUSH] = 3, [OC_WZ] = 6,
		[OC_DSM] = 4, [OC_INVALID] = 8, [OC_QPAIR] = 2, [OC_ADMIN] = 2, [OC_MEM] = 2,
		[OC_FAULT] = 6, [OC_NEST] = 0,
	};
	unsigned int total = 0, x;

	for (int i = 0; i < OC_COUNT; i++)
		if (t_op_enabled((enum t_opclass)i) && (i != OC_FAULT || emu))
			total += w[i];
	if (!total)
		return -1;
	x = (unsigned int)t_below(th, total);
	for (int i = 0; i < OC_COUNT; i++) {
		if (!t_op_enabled((enum t_opclass)i) || (i == OC_FAULT && !emu))
			continue;
		if (x < w[i])
			return i;
		x -= w[i];
	}
	return -1;
}

static void step(struct t_thread *th)
{
	struct t_ctrl *c = &ctrls[t_below(th, (uint64_t)nmain)];
	struct t_qp *tq = t_qp_get(th, c, true);
	struct t_req q = { 0 };
	int oc;

	poll_some(th);
	if (!tq)
		return;
	if (tq->nops >= tq->target_depth) {
		t_poll(th, tq, 0);
		if (t_chance(th, 5))
			tq->target_depth = 1 + (uint32_t)t_below(th, tq->num_reqs + 1);
		return;
	}
	oc = pick_class(th, c->is_emu);
	switch (oc) {
	case OC_RW:
		q.kind = t_chance(th, 50) ? K_READ : K_WRITE;
		q.want_split = t_chance(th, 10);
		q.precise = t_op_enabled(OC_FAULT) && t_chance(th, 4);
		submit_data(th, tq, &q);
		break;
	case OC_VEC:
		q.kind = t_chance(th, 50) ? K_READV : K_WRITEV;
		q.precise = t_op_enabled(OC_FAULT) && t_chance(th, 4);
		submit_data(th, tq, &q);
		break;
	case OC_RAW:
		switch (t_below(th, 5)) {
		case 0: q.kind = K_RAW_READ; break;
		case 1: q.kind = K_RAW_WRITE; break;
		case 2:	/* Compare only where ONCS has it */
			q.kind = c->info->oncs & NVP_ONCS_COMPARE ? K_COMPARE : K_RAW_READ;
			break;
		case 3:	/* Flush of NSID FFFFFFFFh only with a volatile write cache */
			q.kind = c->info->vwc ? K_RAW_FLUSH_ALL : K_RAW_WRITE;
			break;
		default: submit_raw_bad(th, tq); return;
		}
		submit_data(th, tq, &q);
		break;
	case OC_FLUSH:
		q.kind = K_FLUSH;
		q.precise = t_op_enabled(OC_FAULT) && t_chance(th, 10);
		submit_data(th, tq, &q);
		break;
	case OC_WZ:
		q.kind = K_WZ;
		q.precise = t_op_enabled(OC_FAULT) && t_chance(th, 5);
		submit_data(th, tq, &q);
		break;
	case OC_DSM:
		q.kind = K_DSM;
		q.precise = t_op_enabled(OC_FAULT) && t_chance(th, 5);
		submit_data(th, tq, &q);
		break;
	case OC_INVALID:
		submit_invalid(th, tq);
		break;
	case OC_QPAIR:
		switch (t_below(th, 6)) {
		case 0: case 1:
			t_qp_free(th, tq, t_chance(th, 70));
			break;
		case 2: {
			struct t_rec *r = t_rec_begin(th, K_QP_FREE, NULL, -1, 0, 0, 0);

			t_rec_note(r, "NULL");
			nvp_qpair_free(NULL);
			r->rc = 0;
			break;
		}
		case 3: {
			struct nvp_qpair *qp = NULL;
			struct t_rec *r = t_rec_begin(th, K_QP_ALLOC, c, -1, 0, 0, 0);
			int rc;

			t_rec_note(r, "NULL arguments");
			rc = t_chance(th, 50) ? nvp_qpair_alloc(NULL, NULL, &qp) :
			     nvp_qpair_alloc(c->ctrl, NULL, NULL);
			t_expect_rc(th, r, rc, RC_EINVAL, "nvp_qpair_alloc(NULL...)");
			break;
		}
		case 4:
			t_quiesce(th, tq);
			break;
		default: {
			struct t_rec *r = t_rec_begin(th, K_POLL, c, -1, tq->qid, 0, 0);

			t_rec_note(r, "nvp_qpair_flush");
			nvp_qpair_flush(tq->qp);
			r->rc = 0;
			break;
		}
		}
		break;
	case OC_ADMIN:
		t_op_admin(th);
		break;
	case OC_MEM:
		t_op_mem(th);
		break;
	case OC_FAULT:
		t_op_fault_loose(th);
		break;
	default:
		break;
	}
	if (tq->qp && t_chance(th, 25))
		t_poll(th, tq, 0);
}

void t_main_phase(struct t_thread *th)
{
	uint64_t next = 0;

	while (!atomic_load_explicit(&t_stop, memory_order_relaxed)) {
		step(th);
		if (t_now_ns() > next) {
			check_hangs(th);
			watch_check(th, 1000, false);
			t_fault_may_arm(th);	/* acknowledge fault epochs */
			next = t_now_ns() + 50000000ull;
		}
	}
}

/* Wait until every watched buffer is @ms old, polling, then check them all. */
static void watch_finish(struct t_thread *th, uint64_t ms)
{
	uint64_t until = t_now_ns() + ms * 1000000ull;

	while (t_now_ns() < until)
		for (int i = 0; i < nctrls; i++)
			for (int k = 0; k < T_QP_PER_CTRL; k++)
				if (th->qps[i][k].qp && !th->qps[i][k].poll_failed)
					t_poll(th, &th->qps[i][k], 0);
	watch_check(th, 0, true);
}

void t_drain(struct t_thread *th)
{
	for (int i = 0; i < nctrls; i++)
		for (int k = 0; k < T_QP_PER_CTRL; k++)
			if (th->qps[i][k].qp)
				t_quiesce(th, &th->qps[i][k]);
	watch_finish(th, 500);
	/* keep at most one qpair per controller, so that everyone can verify */
	for (int i = 0; i < nctrls; i++)
		if (th->qps[i][0].qp && th->qps[i][1].qp)
			t_qp_free(th, &th->qps[i][1], false);
		else if (th->qps[i][1].qp)
			t_qp_free(th, &th->qps[i][1], false);
}

/* Read back every block of every region and compare with the model. */
void t_verify_all(struct t_thread *th)
{
	for (int i = 0; i < nmain; i++)
		t_verify_ctrl(th, &ctrls[i]);
}

void t_verify_ctrl(struct t_thread *th, struct t_ctrl *c)
{
	{
		int i = c->idx;
		struct t_qp *tq = th->qps[i][0].qp ? &th->qps[i][0] : NULL;
		uint64_t deadline = t_now_ns() + 60000000000ull;

		while (!tq) {
			struct t_qp *slot = &th->qps[i][0];
			struct nvp_qpair_opts o;
			struct nvp_qpair *qp;
			struct t_rec *r;
			int rc;

			nvp_qpair_opts_init(c->ctrl, &o, sizeof(o));
			if (o.queue_size > 64)
				o.queue_size = 64;
			o.num_requests = o.queue_size - 1;
			uint32_t rs0 = atomic_load(&c->ev_started);

			pthread_mutex_lock(&c->qp_lock);
			r = t_rec_begin(th, K_QP_ALLOC, c, -1, 0, 0, 0);
			rc = nvp_qpair_alloc(c->ctrl, &o, &qp);
			t_expect_rc(th, r, rc, c->qpairs_in_use >= c->info->num_io_queues ? RC_EBUSY :
				    t_reset_since(c, rs0) ? RC_OK | RC_EAGAIN | RC_ECANCELED : RC_OK,
				    "nvp_qpair_alloc() for verification");
			if (!rc) {
				memset(slot, 0, sizeof(*slot));
				slot->qp = qp;
				slot->c = c;
				slot->qid = nvp_qpair_id(qp);
				slot->queue_size = o.queue_size;
				slot->num_reqs = o.num_requests;
				slot->synced = atomic_load(&c->ev_done);
				c->qid_used[slot->qid] = true;
				c->qpairs_in_use++;
				tq = slot;
			}
			pthread_mutex_unlock(&c->qp_lock);
			if (!tq) {
				if (t_now_ns() > deadline)
					t_violation(th, "no queue pair on controller %d for 60 s", i);
				usleep(1000);
			}
		}
		for (int n = 0; n < c->nns; n++) {
			struct t_region *rg = &th->rg[i][n];
			uint64_t chunk = rg->ns->max_io ? rg->ns->max_io : 1;

			if (chunk > (th->arena_len / 2) / rg->ns->bs)
				chunk = (th->arena_len / 2) / rg->ns->bs;
			if (!rg->ns->max_io)
				continue;	/* every I/O is refused there */
			for (uint64_t lba = rg->base; lba < rg->base + rg->len;) {
				uint64_t n2 = rg->base + rg->len - lba < chunk ? rg->base + rg->len - lba : chunk;
				struct t_req q = { .kind = K_READ, .verify = true, .lba = lba,
						   .nlb = (uint32_t)n2, .rg = rg };

				if (submit_data(th, tq, &q))
					lba += n2;
				else
					t_poll(th, tq, 0);
				if (tq->nops > 8)
					t_quiesce(th, tq);
			}
			t_quiesce(th, tq);
		}
		t_qp_free(th, tq, false);
	}
}

/* ------------------------------------------------------------------------ */
/* Controller failure                                                       */
/* ------------------------------------------------------------------------ */

/*
 * Two controllers are killed while every thread has commands in flight on
 * them (four of them held in the device by a delay fault):
 *
 * - CSTS.CFS: the admin poller (the main thread) sees it and resets the
 *   controller. Every command still completes exactly once: posted again
 *   after the reset (success), or Host Aborted Command with DNR clear.
 *   The controller is not failed, the qpair reconnects and the data is
 *   what the model says.
 * - surprise removal: final. Each qpair's next poll completes what it holds
 *   (Host Pathing Error) and returns -ENODEV; from then on submissions,
 *   polls, admin commands and qpair allocation are refused with -ENODEV.
 */
void t_fatal_phase(struct t_thread *th, struct t_ctrl *c, bool removal, int base)
{
	struct t_qp *tq = &th->qps[c->idx][0];
	struct nvp_emu_fault f;
	uint64_t deadline, t0;
	uint32_t done0;
	bool refused = false;
	struct t_rec *r;
	int rc;

	pthread_mutex_lock(&c->qp_lock);
	{
		struct nvp_qpair_opts o;
		struct nvp_qpair *qp;

		nvp_qpair_opts_init(c->ctrl, &o, sizeof(o));
		o.queue_size = 64;
		o.num_requests = 63;
		r = t_rec_begin(th, K_QP_ALLOC, c, -1, 0, 0, 0);
		rc = nvp_qpair_alloc(c->ctrl, &o, &qp);
		t_expect_rc(th, r, rc, RC_OK, "nvp_qpair_alloc() on the controller to be killed");
		memset(tq, 0, sizeof(*tq));
		tq->qp = qp;
		tq->c = c;
		tq->qid = nvp_qpair_id(qp);
		tq->queue_size = 64;
		tq->num_reqs = 63;
		tq->synced = atomic_load(&c->ev_done);
		c->qid_used[tq->qid] = true;
		c->qpairs_in_use++;
	}
	pthread_mutex_unlock(&c->qp_lock);

	/* some commands held in the device, so they are in flight at the kill */
	memset(&f, 0, sizeof(f));
	f.type = NVP_EMU_FAULT_DELAY;
	f.count = 4;
	f.match = NVP_EMU_MATCH_IO | NVP_EMU_MATCH_QID;
	f.qid = tq->qid;
	f.delay_us = 30u * 1000 * 1000;
	r = t_rec_begin(th, K_FAULT, c, -1, tq->qid, 0, 0);
	t_rec_note(r, "hold 4 commands");
	t_expect_rc(th, r, nvp_emu_inject(c->ctrl, &f, sizeof(f)), RC_OK | RC_ENOSPC,
		    "nvp_emu_inject()");
	t0 = t_now_ns();
	while (t_now_ns() - t0 < 300000000ull) {
		struct t_req q = { .kind = (int[]){ K_READ, K_WRITE, K_WRITEV, K_WZ, K_DSM, K_FLUSH }
				   [t_below(th, 6)] };

		if (tq->nops < 24)
			submit_data(th, tq, &q);
		t_poll(th, tq, 0);
	}
	done0 = atomic_load(&c->ev_done);
	t_arrive(th, base + 1);		/* commands in flight */
	t_await(base + 2);		/* the main thread killed it */
	th->fatal = true;
	deadline = t_now_ns() + (uint64_t)(c->timeout_ms * 40 + 15000) * 1000000ull;
	if (!removal) {
		/* CSTS.CFS: a reset must bring everything back */
		while (atomic_load(&c->ev_done) == done0 || tq->nops) {
			struct t_req q = { .kind = (int[]){ K_READ, K_WRITE, K_READV, K_WZ, K_DSM,
							   K_FLUSH }[t_below(th, 6)] };

			if (t_now_ns() > deadline)
				t_violation(th, "controller %d reported CSTS.CFS %u ms ago: %u reset(s) "
					    "started, %u done, %u command(s) still without callback",
					    c->idx, c->timeout_ms * 40 + 15000,
					    atomic_load(&c->ev_started), atomic_load(&c->ev_done),
					    tq->nops);
			if (tq->nops < 24 && t_chance(th, 20))
				submit_data(th, tq, &q);
			t_poll(th, tq, 0);
		}
		if (atomic_load(&c->ev_done_err) || nvp_ctrl_is_failed(c->ctrl))
			t_violation(th, "the reset after CSTS.CFS failed (%u failed resets, failed: %d)",
				    atomic_load(&c->ev_done_err), nvp_ctrl_is_failed(c->ctrl));
		t_quiesce(th, tq);
		if (nvp_qpair_conn_state(tq->qp) != NVP_QPAIR_CONNECTED)
			t_violation(th, "qpair %u is not connected after the reset (state %d)", tq->qid,
				    nvp_qpair_conn_state(tq->qp));
		th->fatal = false;
		watch_finish(th, 300);
		t_verify_ctrl(th, c);	/* reads it all back, then frees the qpair */
		t_arrive(th, base + 3);
		return;
	}
	/* removal: final */
	while (!(tq->poll_failed && refused)) {
		struct t_req q = { .kind = (int[]){ K_READ, K_WRITE, K_READV, K_WZ, K_DSM, K_FLUSH }
				   [t_below(th, 6)] };

		if (t_now_ns() > deadline)
			t_violation(th, "controller %d was removed %u ms ago; the qpair has not "
				    "noticed (poll failed: %d, nvp_ctrl_is_failed: %d, %u commands "
				    "without callback)", c->idx, c->timeout_ms * 40 + 15000,
				    tq->poll_failed, nvp_ctrl_is_failed(c->ctrl), tq->nops);
		if (tq->nops < 32 || tq->poll_failed) {
			bool was_failed = tq->poll_failed;

			if (t_chance(th, 10) && t_op_enabled(OC_INVALID))
				submit_invalid(th, tq);
			else if (!submit_data(th, tq, &q) && was_failed)
				refused = true;
		}
		if (!tq->poll_failed)
			t_poll(th, tq, 0);
	}
	/* after the failure: everything is refused, nothing calls back */
	r = t_rec_begin(th, K_CHECK, c, -1, tq->qid, 0, 0);
	t_rec_note(r, "post-removal checks");
	if (!nvp_ctrl_is_failed(c->ctrl))
		t_violation(th, "the qpair failed but nvp_ctrl_is_failed() is false");
	if (nvp_qpair_outstanding(tq->qp))
		t_violation(th, "nvp_qpair_outstanding() = %u after the controller failed and every "
			    "callback ran", nvp_qpair_outstanding(tq->qp));
	rc = nvp_qpair_poll(tq->qp, 0);
	if (rc != -ENODEV)
		t_violation(th, "nvp_qpair_poll() again: %d (%s), expected ENODEV", rc, t_errname(rc));
	if (nvp_qpair_conn_state(tq->qp) != NVP_QPAIR_FAILED)
		t_violation(th, "nvp_qpair_conn_state() of a removed controller's qpair: %d",
			    nvp_qpair_conn_state(tq->qp));
	{
		uint8_t *buf = th->pool[7].p;
		struct nvp_sqe cmd = { .opc = NVP_ADMIN_IDENTIFY, .cdw10 = NVP_CNS_CTRL };
		struct nvp_qpair *qp2 = NULL;

		rc = nvp_get_log_page(c->ctrl, 0xffffffffu, NVP_LOG_SMART, buf, 512);
		if (rc != -ENODEV)
			t_violation(th, "nvp_get_log_page() on the removed controller: %d (%s), "
				    "expected ENODEV", rc, t_errname(rc));
		rc = nvp_admin_cmd_sync(c->ctrl, &cmd, buf, 4096, NULL);
		if (rc != -ENODEV)
			t_violation(th, "nvp_admin_cmd_sync() on the removed controller: %d (%s), "
				    "expected ENODEV", rc, t_errname(rc));
		rc = nvp_ctrl_process_admin(c->ctrl);
		if (rc != -ENODEV)
			t_violation(th, "nvp_ctrl_process_admin() on the removed controller: %d (%s)",
				    rc, t_errname(rc));
		rc = nvp_ctrl_reset(c->ctrl);
		if (rc != -ENODEV)
			t_violation(th, "nvp_ctrl_reset() of the removed controller: %d (%s), "
				    "expected ENODEV", rc, t_errname(rc));
		pthread_mutex_lock(&c->qp_lock);
		rc = nvp_qpair_alloc(c->ctrl, NULL, &qp2);
		pthread_mutex_unlock(&c->qp_lock);
		if (rc != -ENODEV)
			t_violation(th, "nvp_qpair_alloc() on the removed controller: %d (%s), "
				    "expected ENODEV", rc, t_errname(rc));
	}
	r->rc = 0;
	watch_finish(th, 300);
	t_qp_free(th, tq, false);
	th->fatal = false;
	t_arrive(th, base + 3);
}
