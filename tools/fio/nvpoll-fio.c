/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * nvpoll-fio.so - an external fio ioengine that drives NVMe controllers
 * through nvpoll.
 *
 *   fio --thread --ioengine=external:/path/nvpoll-fio.so \
 *       --filename=0000\:01\:00.0 --nsid=1 --rw=randread --bs=4k --iodepth=32 ...
 *
 * The file name is a controller address as nvp_ctrl_attach() takes it, with
 * fio's own escaping of ':' ("emu\:ns=1G\:4096", "tcp\://10.0.0.2/nqn.x\:y" for
 * NVMe/TCP). Each address is attached
 * once per process and shared by every job and file that names it
 * (reference counted by job); each fio thread gets its own queue pair on
 * each controller it uses. queue() posts commands, commit() rings the
 * doorbells (nvp_qpair_flush()), getevents() polls (nvp_qpair_poll()).
 * I/O buffers are nvpoll DMA memory (the iomem_alloc hook). See docs/fio.md.
 *
 * fio's structures are compiled in from the source of the fio version that
 * loads this engine (tools/fio/fetch-fio-src.sh); setup() and init() refuse
 * to run under another version.
 */
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "fio.h"
#include "optgroup.h"

#include <nvpoll/nvpoll.h>

#ifndef NVP_FIO_BUILT_FOR
#error "NVP_FIO_BUILT_FOR (the fio version string of the headers) must be defined"
#endif

#define NVP_FIO_EXPORT __attribute__((visibility("default")))

/* What fio looks up in the engine (dlsym "ioengine"); defined at the end. */
NVP_FIO_EXPORT extern struct ioengine_ops ioengine;

/* How often the first thread to notice runs nvp_ctrl_process_admin(). */
#define NVP_FIO_ADMIN_INTERVAL_NS (100ull * 1000 * 1000)
/* Polls between two looks at the clock in getevents(). */
#define NVP_FIO_CLOCK_EVERY 256

/* ------------------------------------------------------------------------ */
/* Engine options (--nsid, --fua)                                           */
/* ------------------------------------------------------------------------ */

struct nvp_fio_options {
	/* fio treats an option at offset 0 as one without storage. */
	void *pad;
	unsigned int nsid;
	unsigned int fua;
};

static struct fio_option nvp_fio_opts[] = {
	{
		.name = "nsid",
		.lname = "nvpoll namespace ID",
		.type = FIO_OPT_INT,
		.off1 = offsetof(struct nvp_fio_options, nsid),
		.def = "0",
		.help = "Namespace to use (0: the first active namespace)",
		.category = FIO_OPT_C_ENGINE,
		.group = FIO_OPT_G_INVALID,
	},
	{
		.name = "fua",
		.lname = "nvpoll Force Unit Access",
		.type = FIO_OPT_BOOL,
		.off1 = offsetof(struct nvp_fio_options, fua),
		.def = "0",
		.help = "Set Force Unit Access on writes",
		.category = FIO_OPT_C_ENGINE,
		.group = FIO_OPT_G_INVALID,
	},
	{
		.name = NULL,
	},
};

/* ------------------------------------------------------------------------ */
/* Controllers: one attach per address per process, shared by jobs          */
/* ------------------------------------------------------------------------ */

struct nvp_fio_ctrl {
	struct nvp_fio_ctrl *next;
	char *addr;
	struct nvp_ctrl *ctrl;
	/* Jobs (struct thread_data) holding this controller; it is detached
	 * when the last one lets go. */
	struct thread_data **holders;
	unsigned int nholders;
	unsigned int cap;
	/* CLOCK_MONOTONIC ns when nvp_ctrl_process_admin() is next due. */
	_Atomic uint64_t admin_due;
};

static pthread_mutex_t nvp_fio_lock = PTHREAD_MUTEX_INITIALIZER;
static struct nvp_fio_ctrl *nvp_fio_ctrls;

/* "01:00.0" and "0000:01:00.0" are one function: key PCI addresses by
 * their full form, everything else (emu:...) by the string as written. */
static void nvp_fio_norm_addr(const char *addr, char *out, size_t len)
{
	unsigned int bus, dev, fn;
	char tail;

	if (sscanf(addr, "%2x:%2x.%1x%c", &bus, &dev, &fn, &tail) == 3 &&
	    strlen(addr) == 7)
		snprintf(out, len, "0000:%s", addr);
	else
		snprintf(out, len, "%s", addr);
}

static bool nvp_fio_holds(const struct nvp_fio_ctrl *c, const struct thread_data *td)
{
	for (unsigned int i = 0; i < c->nholders; i++)
		if (c->holders[i] == td)
			return true;
	return false;
}

/*
 * The controller for @addr, attached if nobody in this process has it yet,
 * and held for @td until nvp_fio_ctrl_release_all(td). NULL with a message
 * (nvpoll's own) on failure.
 */
static struct nvp_fio_ctrl *nvp_fio_ctrl_get(struct thread_data *td, const char *addr)
{
	char key[256];
	struct nvp_fio_ctrl *c;

	nvp_fio_norm_addr(addr, key, sizeof(key));
	pthread_mutex_lock(&nvp_fio_lock);
	for (c = nvp_fio_ctrls; c; c = c->next)
		if (!strcmp(c->addr, key))
			break;
	if (!c) {
		struct nvp_ctrl *ctrl;
		int rc = nvp_ctrl_attach(key, NULL, &ctrl);

		if (rc) {
			log_err("nvpoll: cannot attach %s: %s\n", key, nvp_last_error());
			td_vmsg(td, -rc, nvp_last_error(), "nvp_ctrl_attach");
			pthread_mutex_unlock(&nvp_fio_lock);
			return NULL;
		}
		c = calloc(1, sizeof(*c));
		if (c)
			c->addr = strdup(key);
		if (!c || !c->addr) {
			free(c);
			nvp_ctrl_detach(ctrl);
			log_err("nvpoll: out of memory\n");
			td_verror(td, ENOMEM, "calloc");
			pthread_mutex_unlock(&nvp_fio_lock);
			return NULL;
		}
		c->ctrl = ctrl;
		c->next = nvp_fio_ctrls;
		nvp_fio_ctrls = c;
	}
	if (!nvp_fio_holds(c, td)) {
		if (c->nholders == c->cap) {
			unsigned int cap = c->cap ? 2 * c->cap : 4;
			struct thread_data **h = realloc(c->holders, cap * sizeof(*h));

			if (!h) {
				log_err("nvpoll: out of memory\n");
				td_verror(td, ENOMEM, "realloc");
				pthread_mutex_unlock(&nvp_fio_lock);
				return NULL;
			}
			c->holders = h;
			c->cap = cap;
		}
		c->holders[c->nholders++] = td;
	}
	pthread_mutex_unlock(&nvp_fio_lock);
	return c;
}

static void nvp_fio_ctrl_unlink(struct nvp_fio_ctrl *c)
{
	struct nvp_fio_ctrl **pp;

	for (pp = &nvp_fio_ctrls; *pp; pp = &(*pp)->next)
		if (*pp == c) {
			*pp = c->next;
			break;
		}
	if (nvp_ctrl_detach(c->ctrl))
		log_err("nvpoll: detach %s: %s\n", c->addr, nvp_last_error());
	free(c->holders);
	free(c->addr);
	free(c);
}

/* @td lets go of every controller it holds; the last holder detaches. */
static void nvp_fio_ctrl_release_all(struct thread_data *td)
{
	struct nvp_fio_ctrl *c, *next;

	pthread_mutex_lock(&nvp_fio_lock);
	for (c = nvp_fio_ctrls; c; c = next) {
		next = c->next;
		for (unsigned int i = 0; i < c->nholders; i++)
			if (c->holders[i] == td) {
				c->holders[i] = c->holders[--c->nholders];
				break;
			}
		if (!c->nholders)
			nvp_fio_ctrl_unlink(c);
	}
	pthread_mutex_unlock(&nvp_fio_lock);
}

/*
 * Jobs that never got to cleanup() (fio gave up before starting them):
 * give their controllers back to the kernel when fio exits. An atexit
 * handler, not a destructor: at exit it runs before this object's
 * destructors, among them the nvpoll library's own teardown of its DMA
 * heap, which a detach still needs. (When fio unloads the engine instead,
 * every job that held a controller has been cleaned up already.)
 */
static void nvp_fio_exit(void)
{
	pthread_mutex_lock(&nvp_fio_lock);
	while (nvp_fio_ctrls)
		nvp_fio_ctrl_unlink(nvp_fio_ctrls);
	pthread_mutex_unlock(&nvp_fio_lock);
}

__attribute__((constructor)) static void nvp_fio_load(void)
{
	atexit(nvp_fio_exit);
}

static uint64_t nvp_fio_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* Health checks and asynchronous events need nvp_ctrl_process_admin()
 * every health_check_ms from some thread: whichever I/O thread finds it
 * due takes it. */
static void nvp_fio_ctrl_admin(struct nvp_fio_ctrl *c, uint64_t now)
{
	uint64_t due = atomic_load_explicit(&c->admin_due, memory_order_relaxed);

	if (now < due)
		return;
	if (!atomic_compare_exchange_strong(&c->admin_due, &due,
					    now + NVP_FIO_ADMIN_INTERVAL_NS))
		return;
	nvp_ctrl_process_admin(c->ctrl);
}

/* ------------------------------------------------------------------------ */
/* Per-thread state                                                          */
/* ------------------------------------------------------------------------ */

/* A queue pair of this thread on one controller. */
struct nvp_fio_qp {
	struct nvp_fio_ctrl *c;
	struct nvp_qpair *qp;
	uint32_t per_io;	/* requests the largest I/O takes */
};

/* A fio file of this thread: a namespace, through one of the queue pairs. */
struct nvp_fio_file {
	struct nvp_fio_qp *q;
	struct nvp_ns *ns;
	uint32_t nsid;
	uint32_t block_size;
	unsigned int shift;
	bool flush;		/* volatile write cache: Flush means something */
	bool dsm;
};

struct nvp_fio_td;

/* One per io_u (io_u->mmap_data), for the callback and errdetails(). */
struct nvp_fio_iou {
	struct io_u *io_u;
	struct nvp_fio_td *t;
	char msg[200];		/* why it failed, for errdetails() */
};

struct nvp_fio_td {
	struct thread_data *td;
	struct nvp_fio_qp *qps;
	unsigned int nqps;
	struct nvp_fio_file *files;
	unsigned int nfiles;
	uint32_t io_flags;	/* NVP_IO_FUA for writes */
	/* Completed, not yet handed to fio: a ring of at most iodepth. */
	struct io_u **done;
	unsigned int done_cap, done_head, done_count;
	/* What the last getevents() returned, for event(). */
	struct io_u **events;
	unsigned int loops;
	bool draining;
};

static void nvp_fio_push_done(struct nvp_fio_td *t, struct io_u *io_u)
{
	if (t->draining)
		return;
	if (t->done_count == t->done_cap) {
		/* Cannot happen: fio has at most iodepth io_us. */
		log_err("nvpoll: completion ring overflow\n");
		return;
	}
	t->done[(t->done_head + t->done_count) % t->done_cap] = io_u;
	t->done_count++;
}

/* The status as text for logs: "Invalid Field in Command (SCT 0h SC 2h)". */
static void nvp_fio_status_msg(char *buf, size_t len, const char *what, uint16_t status)
{
	snprintf(buf, len, "%s: NVMe status %s (SCT %xh SC %02xh%s)", what,
		 nvp_status_str(status), (status >> 9) & 0x7, (status >> 1) & 0xff,
		 (status & 0x8000) ? ", DNR" : "");
}

static void nvp_fio_cb(void *arg, const struct nvp_cqe *cpl)
{
	struct nvp_fio_iou *u = arg;
	struct io_u *io_u = u->io_u;

	if (NVP_CPL_IS_ERROR(cpl)) {
		int err = -nvp_status_to_errno(cpl->status);

		nvp_fio_status_msg(u->msg, sizeof(u->msg), io_ddir_name(io_u->ddir), cpl->status);
		io_u->error = err ? err : EIO;
	} else {
		io_u->error = 0;
		io_u->resid = 0;
	}
	nvp_fio_push_done(u->t, io_u);
}

/* ------------------------------------------------------------------------ */
/* Setup: the files are controller addresses                                 */
/* ------------------------------------------------------------------------ */

static bool nvp_fio_usable(struct thread_data *td)
{
	if (strcmp(fio_version_string, NVP_FIO_BUILT_FOR)) {
		log_err("nvpoll: this engine was built against %s's headers but is loaded by %s; "
			"rebuild it (tools/fio/fetch-fio-src.sh, then cmake)\n",
			NVP_FIO_BUILT_FOR, fio_version_string);
		td_verror(td, EINVAL, "nvpoll version check");
		return false;
	}
	if (!td->o.use_thread) {
		log_err("nvpoll: --thread is required: each fio job must be a thread of one "
			"process, which owns the controllers; add --thread (or thread=1 in the "
			"job file)\n");
		td_verror(td, EINVAL, "nvpoll needs --thread");
		return false;
	}
	return true;
}

/* The namespace @f names (--nsid, or the first active one). */
static struct nvp_ns *nvp_fio_pick_ns(struct thread_data *td, struct nvp_fio_ctrl *c,
				      const char *fname)
{
	struct nvp_fio_options *o = td->eo;
	struct nvp_ns *ns;
	char msg[200];

	if (o && o->nsid) {
		ns = nvp_ctrl_get_ns(c->ctrl, o->nsid);
		if (!ns) {
			snprintf(msg, sizeof(msg), "%s has no active namespace %u", fname, o->nsid);
			log_err("nvpoll: %s\n", msg);
			td_vmsg(td, ENOENT, msg, "nvpoll nsid");
		}
		return ns;
	}
	ns = nvp_ctrl_first_ns(c->ctrl);
	if (!ns) {
		snprintf(msg, sizeof(msg), "%s has no active namespace", fname);
		log_err("nvpoll: %s\n", msg);
		td_vmsg(td, ENOENT, msg, "nvpoll nsid");
	}
	return ns;
}

/* Attach (or share) the controller of @f and tell fio the namespace size. */
static int nvp_fio_size_file(struct thread_data *td, struct fio_file *f)
{
	struct nvp_fio_ctrl *c = nvp_fio_ctrl_get(td, f->file_name);
	struct nvp_ns *ns;

	if (!c)
		return 1;
	ns = nvp_fio_pick_ns(td, c, f->file_name);
	if (!ns)
		return 1;
	f->real_file_size = nvp_ns_get_info(ns)->size_bytes;
	f->filetype = FIO_TYPE_BLOCK;
	fio_file_set_size_known(f);
	return 0;
}

/* Runs before the job's thread starts (in fio's main thread unless
 * create_serialize=0): attaches the controllers and sizes the files. */
static int nvp_fio_setup(struct thread_data *td)
{
	struct fio_file *f;
	unsigned int i;

	if (!nvp_fio_usable(td))
		return 1;
	for_each_file(td, f, i)
		if (nvp_fio_size_file(td, f)) {
			/* fio reaps this job without cleanup(): let go now. */
			nvp_fio_ctrl_release_all(td);
			return 1;
		}
	return 0;
}

static int nvp_fio_get_file_size(struct thread_data *td, struct fio_file *f)
{
	if (fio_file_size_known(f))
		return 0;
	if (!nvp_fio_usable(td))
		return 1;
	return nvp_fio_size_file(td, f);
}

/* ------------------------------------------------------------------------ */
/* init / cleanup: queue pairs of this thread                                */
/* ------------------------------------------------------------------------ */

static unsigned long long nvp_fio_max_bs(const struct thread_data *td)
{
	unsigned long long m = 0;

	for (int d = 0; d < DDIR_RWDIR_CNT; d++)
		if (td->o.max_bs[d] > m)
			m = td->o.max_bs[d];
	return m;
}

/* The block size must divide every size and offset fio will use. */
static int nvp_fio_check_blocks(struct thread_data *td, const char *fname, uint32_t block_size)
{
	char msg[256];

	for (int d = 0; d < DDIR_RWDIR_CNT; d++) {
		unsigned long long v[] = { td->o.min_bs[d], td->o.max_bs[d], td->o.ba[d] };

		if (!td->o.min_bs[d])
			continue;
		for (unsigned int k = 0; k < 3; k++) {
			if (v[k] && v[k] % block_size == 0)
				continue;
			if (!v[k] && k == 2)
				continue;
			snprintf(msg, sizeof(msg),
				 "%s: %s %s %llu is not a multiple of the namespace's %u-byte blocks",
				 fname, io_ddir_name(d), k == 2 ? "blockalign" : "block size",
				 v[k], block_size);
			log_err("nvpoll: %s\n", msg);
			td_vmsg(td, EINVAL, msg, "nvpoll block size");
			return 1;
		}
	}
	if (td->o.bs_unaligned && block_size > 1) {
		snprintf(msg, sizeof(msg), "%s: bs_unaligned cannot be used: I/O is in %u-byte blocks",
			 fname, block_size);
		log_err("nvpoll: %s\n", msg);
		td_vmsg(td, EINVAL, msg, "nvpoll block size");
		return 1;
	}
	return 0;
}

static struct nvp_fio_qp *nvp_fio_qp_for(struct nvp_fio_td *t, struct nvp_fio_ctrl *c)
{
	for (unsigned int i = 0; i < t->nqps; i++)
		if (t->qps[i].c == c)
			return &t->qps[i];
	t->qps[t->nqps].c = c;
	return &t->qps[t->nqps++];
}

static void nvp_fio_drain(struct nvp_fio_td *t)
{
	t->draining = true;
	for (unsigned int i = 0; i < t->nqps; i++)
		while (t->qps[i].qp && nvp_qpair_outstanding(t->qps[i].qp))
			if (nvp_qpair_poll(t->qps[i].qp, 0) < 0)
				break;
}

static void nvp_fio_cleanup(struct thread_data *td)
{
	struct nvp_fio_td *t = td->io_ops_data;

	if (t) {
		nvp_fio_drain(t);
		/* nvp_qpair_free() completes what is still outstanding (a
		 * failed controller) once the device can no longer touch it. */
		for (unsigned int i = 0; i < t->nqps; i++)
			nvp_qpair_free(t->qps[i].qp);
		free(t->qps);
		free(t->files);
		free(t->done);
		free(t->events);
		free(t);
		td->io_ops_data = NULL;
	}
	nvp_fio_ctrl_release_all(td);
}

static int nvp_fio_alloc_qps(struct nvp_fio_td *t)
{
	struct thread_data *td = t->td;

	for (unsigned int i = 0; i < t->nqps; i++) {
		struct nvp_fio_qp *q = &t->qps[i];
		const struct nvp_ctrl_info *ci = nvp_ctrl_get_info(q->c->ctrl);
		struct nvp_qpair_opts qo;
		/* iodepth I/Os in flight, each taking per_io requests, must fit;
		 * when the queue cannot hold them all, queue() says busy. */
		uint64_t want = (uint64_t)td->o.iodepth * q->per_io;
		uint64_t max_req = ci->max_queue_entries - 1;
		int rc;

		nvp_qpair_opts_init(q->c->ctrl, &qo, sizeof(qo));
		if (want > max_req)
			want = max_req;
		if (want + 1 > qo.queue_size)
			qo.queue_size = (uint32_t)want + 1;
		qo.num_requests = qo.queue_size - 1;
		if (q->per_io > qo.num_requests) {
			char msg[256];

			snprintf(msg, sizeof(msg),
				 "%s: an I/O of the largest block size takes %u commands, more than "
				 "the %u a queue of this controller holds; use a smaller bs",
				 q->c->addr, q->per_io, qo.num_requests);
			log_err("nvpoll: %s\n", msg);
			td_vmsg(td, EINVAL, msg, "nvpoll queue size");
			return 1;
		}
		rc = nvp_qpair_alloc(q->c->ctrl, &qo, &q->qp);
		if (rc) {
			log_err("nvpoll: %s: cannot create a queue pair for this job: %s\n",
				q->c->addr, nvp_last_error());
			td_vmsg(td, -rc, nvp_last_error(), "nvp_qpair_alloc");
			return 1;
		}
	}
	return 0;
}

/* Runs in the job's own thread, which then owns its queue pairs. */
static int nvp_fio_init(struct thread_data *td)
{
	struct nvp_fio_options *o = td->eo;
	struct nvp_fio_td *t;
	struct fio_file *f;
	unsigned int i;
	unsigned long long max_bs = nvp_fio_max_bs(td);

	if (td->io_ops != &ioengine) {
		/* A different layout of struct thread_data would put io_ops
		 * elsewhere: the headers are not the loading fio's. */
		log_err("nvpoll: fio's thread data does not match the headers this engine was "
			"built with; rebuild it against the installed fio\n");
		return 1;
	}
	if (!nvp_fio_usable(td))
		return 1;

	t = calloc(1, sizeof(*t));
	if (!t)
		goto oom;
	td->io_ops_data = t;
	t->td = td;
	t->io_flags = o && o->fua ? NVP_IO_FUA : 0;
	t->done_cap = td->o.iodepth ? td->o.iodepth : 1;
	t->done = calloc(t->done_cap, sizeof(*t->done));
	t->events = calloc(t->done_cap, sizeof(*t->events));
	t->nfiles = td->o.nr_files;
	t->files = calloc(t->nfiles ? t->nfiles : 1, sizeof(*t->files));
	t->qps = calloc(t->nfiles ? t->nfiles : 1, sizeof(*t->qps));
	if (!t->done || !t->events || !t->files || !t->qps)
		goto oom;

	for_each_file(td, f, i) {
		struct nvp_fio_file *nf = &t->files[i];
		struct nvp_fio_ctrl *c = nvp_fio_ctrl_get(td, f->file_name);
		const struct nvp_ns_info *ni;
		uint64_t max_io_bytes, parts;

		if (!c)
			return 1;
		nf->ns = nvp_fio_pick_ns(td, c, f->file_name);
		if (!nf->ns)
			return 1;
		ni = nvp_ns_get_info(nf->ns);
		if (ni->md_size || !ni->max_io_blocks) {
			char msg[256];

			snprintf(msg, sizeof(msg), "%s namespace %u cannot be used: %s", f->file_name,
				 ni->nsid, ni->md_size ? "it is formatted with metadata"
						       : "its block is larger than a command may move");
			log_err("nvpoll: %s\n", msg);
			td_vmsg(td, ENOTSUP, msg, "nvpoll namespace");
			return 1;
		}
		if (nvp_fio_check_blocks(td, f->file_name, ni->block_size))
			return 1;
		nf->nsid = ni->nsid;
		nf->block_size = ni->block_size;
		nf->shift = (unsigned int)__builtin_ctz(ni->block_size);
		nf->flush = ni->supports_flush;
		nf->dsm = ni->supports_dsm;
		nf->q = nvp_fio_qp_for(t, c);
		/* A split I/O takes one request per part and one for itself. */
		max_io_bytes = (uint64_t)ni->max_io_blocks * ni->block_size;
		parts = (max_bs + max_io_bytes - 1) / max_io_bytes;
		if (parts > 1)
			parts++;
		if (parts < 1)
			parts = 1;
		if (parts > nf->q->per_io)
			nf->q->per_io = (uint32_t)parts;
	}
	if (nvp_fio_alloc_qps(t))
		return 1;
	return 0;
oom:
	log_err("nvpoll: out of memory\n");
	td_verror(td, ENOMEM, "calloc");
	return 1;
}

/* ------------------------------------------------------------------------ */
/* Memory: nvpoll DMA memory for fio's I/O buffers                           */
/* ------------------------------------------------------------------------ */

static int nvp_fio_iomem_alloc(struct thread_data *td, size_t total_mem)
{
	struct nvp_fio_td *t = td->io_ops_data;
	int node = NVP_NUMA_ANY;

	if (t && t->nqps)
		node = nvp_ctrl_numa_node(t->qps[0].c->ctrl);
	td->orig_buffer = nvp_dma_alloc(total_mem, 0, node);
	if (!td->orig_buffer) {
		log_err("nvpoll: cannot allocate %zu bytes of DMA memory for the I/O buffers: %s\n",
			total_mem, nvp_last_error());
		td_vmsg(td, ENOMEM, nvp_last_error(), "nvp_dma_alloc");
		return 1;
	}
	return 0;
}

static void nvp_fio_iomem_free(struct thread_data *td)
{
	struct nvp_fio_td *t = td->io_ops_data;

	/* No command may still be moving data to or from the buffers. */
	if (t)
		nvp_fio_drain(t);
	nvp_dma_free(td->orig_buffer);
	td->orig_buffer = NULL;
}

static int nvp_fio_io_u_init(struct thread_data *td, struct io_u *io_u)
{
	struct nvp_fio_iou *u = calloc(1, sizeof(*u));

	if (!u)
		return 1;
	u->io_u = io_u;
	u->t = td->io_ops_data;
	io_u->mmap_data = u;
	return 0;
}

static void nvp_fio_io_u_free(struct thread_data *td, struct io_u *io_u)
{
	(void)td;
	free(io_u->mmap_data);
	io_u->mmap_data = NULL;
}

/* ------------------------------------------------------------------------ */
/* The data path                                                             */
/* ------------------------------------------------------------------------ */

static int nvp_fio_submit(struct nvp_fio_td *t, struct nvp_fio_file *nf, struct io_u *io_u)
{
	struct nvp_fio_iou *u = io_u->mmap_data;
	struct nvp_qpair *qp = nf->q->qp;
	uint64_t lba = io_u->offset >> nf->shift;
	uint64_t nlb = io_u->xfer_buflen >> nf->shift;

	switch (io_u->ddir) {
	case DDIR_READ:
	case DDIR_WRITE:
	case DDIR_TRIM:
		if ((io_u->offset | io_u->xfer_buflen) & (nf->block_size - 1) || !nlb) {
			snprintf(u->msg, sizeof(u->msg),
				 "%s offset %llu length %llu is not in whole %u-byte blocks",
				 io_ddir_name(io_u->ddir), io_u->offset, io_u->xfer_buflen,
				 nf->block_size);
			return -EINVAL;
		}
		break;
	default:
		break;
	}
	switch (io_u->ddir) {
	case DDIR_READ:
		if (nlb > UINT32_MAX)
			return -EINVAL;
		return nvp_read(qp, nf->ns, io_u->xfer_buf, lba, (uint32_t)nlb, 0, nvp_fio_cb, u);
	case DDIR_WRITE:
		if (nlb > UINT32_MAX)
			return -EINVAL;
		return nvp_write(qp, nf->ns, io_u->xfer_buf, lba, (uint32_t)nlb, t->io_flags,
				 nvp_fio_cb, u);
	case DDIR_TRIM: {
		struct nvp_dsm_range r[4];
		uint32_t n = 0;

		while (nlb && n < 4) {
			uint32_t part = nlb > UINT32_MAX ? UINT32_MAX : (uint32_t)nlb;

			r[n].cattr = 0;
			r[n].nlb = part;
			r[n].slba = lba;
			lba += part;
			nlb -= part;
			n++;
		}
		if (nlb)
			return -EINVAL;
		return nvp_deallocate(qp, nf->ns, r, n, nvp_fio_cb, u);
	}
	case DDIR_SYNC:
	case DDIR_DATASYNC:
	case DDIR_SYNC_FILE_RANGE:
		return nvp_flush(qp, nf->ns, nvp_fio_cb, u);
	default:
		snprintf(u->msg, sizeof(u->msg), "fio direction %s is not supported",
			 io_ddir_name(io_u->ddir));
		return -EINVAL;
	}
}

static enum fio_q_status nvp_fio_queue(struct thread_data *td, struct io_u *io_u)
{
	struct nvp_fio_td *t = td->io_ops_data;
	struct nvp_fio_file *nf = &t->files[io_u->file->fileno];
	struct nvp_fio_iou *u = io_u->mmap_data;
	int rc;

	fio_ro_check(td, io_u);
	u->msg[0] = 0;
	if (ddir_sync(io_u->ddir) && !nf->flush) {
		/* No volatile write cache: every completed write is already
		 * durable, and there is nothing to flush (as Linux does). */
		io_u->error = 0;
		return FIO_Q_COMPLETED;
	}
	rc = nvp_fio_submit(t, nf, io_u);
	if (rc == -EAGAIN) {
		/* Out of requests: reap what is done (getevents() hands those
		 * to fio) and try once more before telling fio to wait. */
		nvp_qpair_poll(nf->q->qp, 0);
		rc = nvp_fio_submit(t, nf, io_u);
		if (rc == -EAGAIN)
			return FIO_Q_BUSY;
	}
	if (rc) {
		if (!u->msg[0])
			snprintf(u->msg, sizeof(u->msg), "%s", nvp_last_error());
		if (!u->msg[0])
			snprintf(u->msg, sizeof(u->msg), "%s", strerror(-rc));
		io_u->error = -rc;
		td_vmsg(td, io_u->error, u->msg, "nvpoll submit");
		return FIO_Q_COMPLETED;
	}
	return FIO_Q_QUEUED;
}

static int nvp_fio_commit(struct thread_data *td)
{
	struct nvp_fio_td *t = td->io_ops_data;

	for (unsigned int i = 0; i < t->nqps; i++)
		nvp_qpair_flush(t->qps[i].qp);
	return 0;
}

static int nvp_fio_getevents(struct thread_data *td, unsigned int min, unsigned int max,
			     const struct timespec *timeout)
{
	struct nvp_fio_td *t = td->io_ops_data;
	unsigned int got = 0;
	uint64_t deadline = 0;
	bool polled = false;
	int err = 0;

	if (timeout)
		deadline = nvp_fio_now_ns() + (uint64_t)timeout->tv_sec * 1000000000ull +
			   (uint64_t)timeout->tv_nsec;
	for (;;) {
		uint32_t outstanding = 0;

		while (got < max && t->done_count) {
			struct io_u *io_u = t->done[t->done_head];

			/* fio's own report of a failed I/O has only strerror():
			 * put nvpoll's words into td->verror first (fio keeps
			 * the first). Only now, as fio is about to see this
			 * io_u: for an error fio treats as non-fatal
			 * (continue_on_error), it clears td->error again. */
			if (io_u->error) {
				struct nvp_fio_iou *u = io_u->mmap_data;

				td_vmsg(td, io_u->error, u->msg, "nvpoll I/O");
			}
			t->events[got++] = io_u;
			t->done_head = (t->done_head + 1) % t->done_cap;
			t->done_count--;
		}
		/* min 0: one poll, then whatever it found. */
		if (got >= max || (got >= min && (min || polled)))
			break;
		for (unsigned int i = 0; i < t->nqps; i++) {
			int rc = nvp_qpair_poll(t->qps[i].qp, 0);

			if (rc < 0 && !err)
				err = rc;
			outstanding += nvp_qpair_outstanding(t->qps[i].qp);
		}
		polled = true;
		if (err && !outstanding && !t->done_count) {
			/* The controller failed or is gone, and nothing more
			 * will complete. */
			if (got)
				break;
			log_err("nvpoll: %s\n", nvp_last_error());
			td_vmsg(td, -err, nvp_last_error(), "nvp_qpair_poll");
			return err;
		}
		if (++t->loops % NVP_FIO_CLOCK_EVERY == 0) {
			uint64_t now = nvp_fio_now_ns();

			for (unsigned int i = 0; i < t->nqps; i++)
				nvp_fio_ctrl_admin(t->qps[i].c, now);
			if (deadline && now >= deadline && !t->done_count)
				break;
		}
	}
	return (int)got;
}

static struct io_u *nvp_fio_event(struct thread_data *td, int event)
{
	struct nvp_fio_td *t = td->io_ops_data;

	return t->events[event];
}

static char *nvp_fio_errdetails(struct io_u *io_u)
{
	struct nvp_fio_iou *u = io_u->mmap_data;
	char *s = NULL;

	/* fio prints and frees it. */
	if (asprintf(&s, "nvpoll: %s", u && u->msg[0] ? u->msg : strerror((int)io_u->error)) < 0)
		return NULL;
	return s;
}

static int nvp_fio_open_file(struct thread_data *td, struct fio_file *f)
{
	struct nvp_fio_td *t = td->io_ops_data;

	/* The controller was attached in setup() or init(): nothing to open. */
	if (!t || f->fileno < 0 || (unsigned int)f->fileno >= t->nfiles || !t->files[f->fileno].ns) {
		log_err("nvpoll: %s was not set up by the engine\n", f->file_name);
		td_verror(td, EINVAL, "nvpoll open");
		return 1;
	}
	return 0;
}

static int nvp_fio_close_file(struct thread_data *td, struct fio_file *f)
{
	(void)td;
	(void)f;
	return 0;
}

static int nvp_fio_invalidate(struct thread_data *td, struct fio_file *f)
{
	/* No page cache between fio and the device. */
	(void)td;
	(void)f;
	return 0;
}

NVP_FIO_EXPORT struct ioengine_ops ioengine = {
	.name = "nvpoll",
	.version = FIO_IOOPS_VERSION,
	/* FIO_NO_OFFLOAD: io_submit_mode=offload would call queue() from fio's
	 * worker threads, which do not own the queue pairs. */
	.flags = FIO_DISKLESSIO | FIO_NODISKUTIL | FIO_NOEXTEND | FIO_MEMALIGN | FIO_RAWIO |
		 FIO_NO_OFFLOAD,
	.setup = nvp_fio_setup,
	.init = nvp_fio_init,
	.cleanup = nvp_fio_cleanup,
	.queue = nvp_fio_queue,
	.commit = nvp_fio_commit,
	.getevents = nvp_fio_getevents,
	.event = nvp_fio_event,
	.errdetails = nvp_fio_errdetails,
	.open_file = nvp_fio_open_file,
	.close_file = nvp_fio_close_file,
	.invalidate = nvp_fio_invalidate,
	.get_file_size = nvp_fio_get_file_size,
	.iomem_alloc = nvp_fio_iomem_alloc,
	.iomem_free = nvp_fio_iomem_free,
	.io_u_init = nvp_fio_io_u_init,
	.io_u_free = nvp_fio_io_u_free,
	.option_struct_size = sizeof(struct nvp_fio_options),
	.options = nvp_fio_opts,
};
