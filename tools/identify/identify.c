/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * nvpoll-identify - attach to a controller and print its Identify
 * Controller data, every namespace's Identify Namespace data with the LBA
 * formats, and the SMART / Health Information log. Field names follow the
 * NVMe Base and NVM Command Set specifications. With --discover, ask an
 * NVMe/TCP discovery controller which subsystems it offers instead, and
 * print its Discovery Log Page as nvme-cli's 'nvme discover' does.
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <nvpoll/fabrics.h>
#include <nvpoll/nvpoll.h>

#include "addr.h"
#include "emit.h"

#define PROG "nvpoll-identify"
#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

static void usage(FILE *f)
{
	fprintf(f,
		"Usage: " PROG " [OPTION]... ADDRESS\n"
		"  or:  " PROG " --discover [--hostnqn NQN] [--json] tcp://HOST[:PORT]\n"
		"Attach to an NVMe controller with nvpoll and print what it says about itself:\n"
		"Identify Controller, each active namespace's Identify Namespace data with its\n"
		"LBA formats, and the SMART / Health Information log page.\n"
		"\n"
		"ADDRESS is a PCI address (0000:00:04.0 or 00:04.0; see nvpoll-setup status),\n"
		"emu: with options for the built-in emulated controller (e.g. emu:ns=64M:512),\n"
		"or an NVMe/TCP subsystem: tcp://HOST[:PORT]/SUBNQN, or SPDK's transport ID\n"
		"(\"trtype:TCP adrfam:IPv4 traddr:HOST trsvcid:PORT subnqn:NQN\").\n"
		"\n"
		"With --discover, ask the NVMe/TCP discovery controller at HOST (port 4420\n"
		"unless given) which subsystems it offers, and print each entry of its\n"
		"Discovery Log Page as 'nvme discover' does: transport, address family,\n"
		"subsystem type, port, trsvcid, subnqn, traddr. Each NVM subsystem's entry\n"
		"is reachable as tcp://TRADDR:TRSVCID/SUBNQN. Needs no privileges.\n"
		"\n"
		"Options:\n"
		"  -d, --discover list the subsystems of the NVMe/TCP target at ADDRESS\n"
		"                 (tcp://HOST[:PORT], or an SPDK transport ID with trtype:TCP)\n"
		"      --hostnqn NQN\n"
		"                 with --discover: the host NQN to connect with (default:\n"
		"                 /etc/nvme/hostnqn, else one derived from /etc/machine-id)\n"
		"  -j, --json     print JSON (the same data; keys are nvme-cli's where it has\n"
		"                 the field, as in 'nvme id-ctrl -o json' (psds, lbafs/ds,\n"
		"                 host_read_commands, controller_busy_time, ...), else the\n"
		"                 spec's field names in lower case; bit fields also as\n"
		"                 <key>_decoded lists)\n"
		"  -h, --help     display this help and exit\n"
		"  -V, --version  output version information and exit\n"
		"\n"
		"The controller is taken from its kernel driver (nvme) for the duration and\n"
		"given back before exit; Ctrl-C is held off until then. Namespaces that are\n"
		"mounted or in use are refused. Set NVP_LOG=debug to see every attach step,\n"
		"NVP_DRIVER=vfio|noiommu|uio to force an access method.\n"
		"\n"
		"Exit status: 0 on success; 1 if attaching the controller or a command\n"
		"failed (the reason is printed); 2 for a usage or address error: a bad\n"
		"option, or an ADDRESS that is malformed, names no PCI function or one\n"
		"that is not an NVMe controller, or has bad emu: options or a namespace\n"
		"file that cannot be opened or created; with --discover, an ADDRESS that is\n"
		"not tcp://HOST[:PORT] or that names a subsystem.\n"
		"\n"
		"Examples:\n"
		"  " PROG " 0000:00:04.0\n"
		"  " PROG " --json emu:ns=64M:4096,ns=64M:512\n"
		"  " PROG " --discover tcp://192.168.1.10\n");
}

static long double u128_value(const uint8_t le[16])
{
	long double v = 0;

	for (int i = 15; i >= 0; i--)
		v = v * 256 + le[i];
	return v;
}

/*
 * The controller's data is little-endian: each structure is converted to
 * CPU order once, here, and printed from the copy. Byte arrays (strings,
 * 128-bit counters read byte by byte, IDs) need no conversion.
 */
#define LE16(f) ((f) = nvp_le16_to_cpu(f))
#define LE32(f) ((f) = nvp_le32_to_cpu(f))
#define LE64(f) ((f) = nvp_le64_to_cpu(f))

/* A 128-bit counter stays a byte array, low byte first (emit_u128() and
 * u128_value() read it so); its two 64-bit halves go through the same
 * conversion as every other field. */
static void u128_fix(uint8_t v[16])
{
	uint64_t half[2];

	memcpy(half, v, 16);
	for (int h = 0; h < 2; h++) {
		uint64_t x = nvp_le64_to_cpu(half[h]);

		for (int i = 0; i < 8; i++)
			v[8 * h + i] = (uint8_t)(x >> (8 * i));
	}
}

static void id_ctrl_to_cpu(struct nvp_id_ctrl *id)
{
	LE16(id->vid); LE16(id->ssvid); LE16(id->cntlid); LE32(id->ver); LE32(id->rtd3r);
	LE32(id->rtd3e); LE32(id->oaes); LE32(id->ctratt); LE16(id->rrls); LE16(id->crdt1);
	LE16(id->crdt2); LE16(id->crdt3); LE16(id->oacs); LE16(id->wctemp); LE16(id->cctemp);
	LE16(id->mtfa); LE32(id->hmpre); LE32(id->hmmin); LE32(id->rpmbs); LE16(id->edstt);
	LE16(id->kas); LE16(id->hctma); LE16(id->mntmt); LE16(id->mxtmt); LE32(id->sanicap);
	LE32(id->hmminds); LE16(id->hmmaxd); LE16(id->nsetidmax); LE16(id->endgidmax);
	LE32(id->anagrpmax); LE32(id->nanagrpid); LE32(id->pels); LE16(id->domainid);
	LE16(id->maxcmd); LE32(id->nn); LE16(id->oncs); LE16(id->fuses); LE16(id->awun);
	LE16(id->awupf); LE16(id->acwu); LE16(id->ocfs); LE32(id->sgls); LE32(id->mnan);
	LE32(id->maxcna);
	u128_fix(id->tnvmcap);
	u128_fix(id->unvmcap);
	for (unsigned int i = 0; i < ARRAY_SIZE(id->psd); i++) {
		LE16(id->psd[i].mp); LE32(id->psd[i].enlat); LE32(id->psd[i].exlat);
		LE16(id->psd[i].idlp); LE16(id->psd[i].actp);
	}
}

static void id_ns_to_cpu(struct nvp_id_ns *id)
{
	LE64(id->nsze); LE64(id->ncap); LE64(id->nuse); LE16(id->nawun); LE16(id->nawupf);
	LE16(id->nacwu); LE16(id->nabsn); LE16(id->nabo); LE16(id->nabspf); LE16(id->noiob);
	LE16(id->npwg); LE16(id->npwa); LE16(id->npdg); LE16(id->npda); LE16(id->nows);
	LE16(id->mssrl); LE32(id->mcl); LE32(id->anagrpid); LE16(id->nvmsetid); LE16(id->endgid);
	for (unsigned int i = 0; i < ARRAY_SIZE(id->lbaf); i++)
		LE16(id->lbaf[i].ms);
	u128_fix(id->nvmcap);
}

/* SMART's temperature is unaligned (the structure is packed): by value. */
static void smart_to_cpu(struct nvp_smart_log *s)
{
	s->temperature = nvp_le16_to_cpu(s->temperature);
	s->warning_temp_time = nvp_le32_to_cpu(s->warning_temp_time);
	s->critical_comp_time = nvp_le32_to_cpu(s->critical_comp_time);
	for (unsigned int i = 0; i < ARRAY_SIZE(s->temp_sensor); i++)
		s->temp_sensor[i] = nvp_le16_to_cpu(s->temp_sensor[i]);
	s->thm_temp1_trans_count = nvp_le32_to_cpu(s->thm_temp1_trans_count);
	s->thm_temp2_trans_count = nvp_le32_to_cpu(s->thm_temp2_trans_count);
	s->thm_temp1_total_time = nvp_le32_to_cpu(s->thm_temp1_total_time);
	s->thm_temp2_total_time = nvp_le32_to_cpu(s->thm_temp2_total_time);
	u128_fix(s->data_units_read);
	u128_fix(s->data_units_written);
	u128_fix(s->host_reads);
	u128_fix(s->host_writes);
	u128_fix(s->ctrl_busy_time);
	u128_fix(s->power_cycles);
	u128_fix(s->power_on_hours);
	u128_fix(s->unsafe_shutdowns);
	u128_fix(s->media_errors);
	u128_fix(s->num_err_log_entries);
}

/* Temperatures are in Kelvin on the wire; 0 means not reported. */
static void emit_kelvin(struct emit *e, const char *key, const char *label, unsigned int k)
{
	if (k == 0)
		emit_uint_text(e, key, label, 0, "0 (not reported)");
	else
		emit_uint_text(e, key, label, k, "%d °C (%u K)", (int)k - 273, k);
}

/* -------------------------------------------------------------------- */
/* Identify Controller                                                   */
/* -------------------------------------------------------------------- */

static const char *const cmic_bits[] = {
	"Multiple Ports", "Multiple Controllers", "SR-IOV Virtual Function",
	"Asymmetric Namespace Access Reporting",
};
static const char *const oaes_bits[] = {
	[8] = "Namespace Attribute Notices", [9] = "Firmware Activation Notices",
	[11] = "ANA Change Notices", [12] = "Predictable Latency Event Aggregate Log Change Notices",
	[13] = "LBA Status Information Alert Notices", [14] = "Endurance Group Event Aggregate Log Change Notices",
	[15] = "Normal NVM Subsystem Shutdown Event Notices", [27] = "Zone Descriptor Changed Notices",
	[31] = "Discovery Log Page Change Notification",
};
static const char *const oacs_bits[] = {
	"Security Send/Receive", "Format NVM", "Firmware Commit/Image Download",
	"Namespace Management", "Device Self-test", "Directives", "NVMe-MI Send/Receive",
	"Virtualization Management", "Doorbell Buffer Config", "Get LBA Status",
	"Command and Feature Lockdown",
};
static const char *const lpa_bits[] = {
	"SMART/Health Log per Namespace", "Commands Supported and Effects Log",
	"Extended Data for Get Log Page", "Telemetry Log", "Persistent Event Log",
	"Supported Log Pages Log", "Telemetry Data Area 4",
};
static const char *const oncs_bits[] = {
	"Compare", "Write Uncorrectable", "Dataset Management", "Write Zeroes",
	"Save/Select in Features", "Reservations", "Timestamp", "Verify", "Copy",
};
static const char *const fuses_bits[] = { "Compare and Write" };
static const char *const fna_bits[] = {
	"Format Applies to All Namespaces", "Secure Erase Applies to All Namespaces",
	"Cryptographic Erase Supported", "Format Supported per Namespace",
};
static const char *const vwc_bits[] = {
	"Volatile Write Cache Present", "Flush NSID FFFFFFFFh Supported",
	"Flush NSID FFFFFFFFh Behavior Reported",
};
static const char *const sgls_bits[] = {
	[0] = "SGLs Supported (no alignment)", [1] = "SGLs Supported (dword alignment)",
	[2] = "Keyed SGL Data Block", [16] = "SGL Bit Bucket",
	[17] = "Byte Aligned Contiguous Metadata", [18] = "SGL Longer Than Data",
	[19] = "MPTR SGL Single Descriptor", [20] = "Address as Offset",
	[21] = "Transport SGL Data Block",
};

static const char *cntrltype_name(uint8_t t)
{
	switch (t) {
	case 0: return "not reported";
	case 1: return "I/O controller";
	case 2: return "Discovery controller";
	case 3: return "Administrative controller";
	default: return "reserved";
	}
}

/* A 128-bit byte count, with a readable size in text. */
static void emit_capacity(struct emit *e, const char *key, const char *label, const uint8_t v[16])
{
	char suffix[48], size[32];

	emit_human_bytes(u128_value(v), size, sizeof(size));
	if (u128_value(v) == 0)
		snprintf(suffix, sizeof(suffix), " (not reported)");
	else
		snprintf(suffix, sizeof(suffix), " bytes (%s)", size);
	emit_u128(e, key, label, v, suffix);
}

static void emit_power_states(struct emit *e, const struct nvp_id_ctrl *id)
{
	/* Keys as nvme-cli's "nvme id-ctrl -o json" writes them. */
	emit_arr_begin(e, "psds", "Power State Descriptors");
	for (unsigned int i = 0; i <= id->npss && i < ARRAY_SIZE(id->psd); i++) {
		const struct nvp_power_state *ps = &id->psd[i];
		/* MXPS (flags bit 0) selects 0.0001 W units instead of 0.01 W. */
		double scale = (ps->flags & 1) ? 0.0001 : 0.01;
		char title[16];

		snprintf(title, sizeof(title), "PS%u", i);
		emit_row_begin(e, NULL, title);
		emit_uint(e, "ps", NULL, i);
		emit_uint_text(e, "max_power", "MP", ps->mp, "%.4g W", ps->mp * scale);
		emit_uint(e, "max_power_scale", "MXPS", ps->flags & 1);
		emit_uint(e, "non-operational_state", "NOPS", (ps->flags >> 1) & 1);
		emit_uint_text(e, "entry_lat", "ENLAT", ps->enlat, "%u us", ps->enlat);
		emit_uint_text(e, "exit_lat", "EXLAT", ps->exlat, "%u us", ps->exlat);
		emit_uint(e, "read_tput", "RRT", ps->rrt & 0x1f);
		emit_uint(e, "read_lat", "RRL", ps->rrl & 0x1f);
		emit_uint(e, "write_tput", "RWT", ps->rwt & 0x1f);
		emit_uint(e, "write_lat", "RWL", ps->rwl & 0x1f);
		/* IPS and APWS bits 7:6 are the scale: 0 not reported, 1 0.0001 W, 2 0.01 W. */
		emit_uint(e, "idle_power", NULL, ps->idlp);
		emit_uint(e, "idle_scale", NULL, (ps->ips >> 6) & 3);
		emit_uint(e, "active_power", NULL, ps->actp);
		emit_uint(e, "active_power_work", NULL, ps->apws & 7);
		emit_uint(e, "active_scale", NULL, (ps->apws >> 6) & 3);
		emit_row_end(e);
	}
	emit_arr_end(e);
}

static void emit_id_ctrl(struct emit *e, const struct nvp_ctrl_info *info,
			 const struct nvp_id_ctrl *id)
{
	unsigned int mpsmin = 4096u << NVP_CAP_MPSMIN(info->cap);
	char size[32];

	emit_obj_begin(e, "id_ctrl", "Identify Controller");
	emit_hex(e, "vid", "VID (PCI Vendor ID)", id->vid, 4);
	emit_hex(e, "ssvid", "SSVID (Subsystem Vendor ID)", id->ssvid, 4);
	emit_fixed_str(e, "sn", "SN (Serial Number)", id->sn, sizeof(id->sn));
	emit_fixed_str(e, "mn", "MN (Model Number)", id->mn, sizeof(id->mn));
	emit_fixed_str(e, "fr", "FR (Firmware Revision)", id->fr, sizeof(id->fr));
	emit_uint(e, "rab", "RAB (Arbitration Burst)", id->rab);
	emit_hex(e, "ieee", "IEEE (OUI)",
		 (uint32_t)id->ieee[2] << 16 | (uint32_t)id->ieee[1] << 8 | id->ieee[0], 6);
	emit_flags(e, "cmic", "CMIC", id->cmic, 2, cmic_bits, ARRAY_SIZE(cmic_bits));
	if (id->mdts == 0) {
		emit_uint_text(e, "mdts", "MDTS (Max Data Transfer)", 0, "0 (no limit)");
	} else {
		emit_human_bytes((long double)mpsmin * (1ull << (id->mdts < 32 ? id->mdts : 31)),
			    size, sizeof(size));
		emit_uint_text(e, "mdts", "MDTS (Max Data Transfer)", id->mdts,
			       "%u (%s at CAP.MPSMIN %u KiB)", id->mdts, size, mpsmin / 1024);
	}
	emit_uint(e, "cntlid", "CNTLID (Controller ID)", id->cntlid);
	if (id->ver)
		emit_uint_text(e, "ver", "VER (Version)", id->ver, "0x%08x (NVMe %u.%u.%u)",
			       id->ver, id->ver >> 16, (id->ver >> 8) & 0xff, id->ver & 0xff);
	else
		emit_uint_text(e, "ver", "VER (Version)", 0, "0 (not reported; before NVMe 1.2)");
	emit_uint_text(e, "rtd3r", "RTD3R (RTD3 Resume Latency)", id->rtd3r, "%u us", id->rtd3r);
	emit_uint_text(e, "rtd3e", "RTD3E (RTD3 Entry Latency)", id->rtd3e, "%u us", id->rtd3e);
	emit_flags(e, "oaes", "OAES (Async Events)", id->oaes, 8, oaes_bits, ARRAY_SIZE(oaes_bits));
	emit_hex(e, "ctratt", "CTRATT (Controller Attributes)", id->ctratt, 8);
	emit_uint_text(e, "cntrltype", "CNTRLTYPE (Controller Type)", id->cntrltype, "%u (%s)",
		       id->cntrltype, cntrltype_name(id->cntrltype));
	emit_flags(e, "oacs", "OACS (Optional Admin Cmds)", id->oacs, 4, oacs_bits,
		   ARRAY_SIZE(oacs_bits));
	emit_uint_text(e, "acl", "ACL (Abort Command Limit)", id->acl, "%u (%u commands)",
		       id->acl, id->acl + 1u);
	emit_uint_text(e, "aerl", "AERL (Async Event Req Limit)", id->aerl, "%u (%u requests)",
		       id->aerl, id->aerl + 1u);
	emit_uint_text(e, "frmw", "FRMW (Firmware Updates)", id->frmw,
		       "0x%02x (slots: %u%s%s)", id->frmw, (id->frmw >> 1) & 7,
		       (id->frmw & 1) ? ", slot 1 read only" : "",
		       (id->frmw & 0x10) ? ", activation without reset" : "");
	emit_flags(e, "lpa", "LPA (Log Page Attributes)", id->lpa, 2, lpa_bits, ARRAY_SIZE(lpa_bits));
	emit_uint_text(e, "elpe", "ELPE (Error Log Entries)", id->elpe, "%u (%u entries)",
		       id->elpe, id->elpe + 1u);
	emit_uint_text(e, "npss", "NPSS (Power States)", id->npss, "%u (states: %u)",
		       id->npss, id->npss + 1u);
	emit_hex(e, "apsta", "APSTA (Autonomous PS)", id->apsta, 2);
	emit_kelvin(e, "wctemp", "WCTEMP (Warning Temp)", id->wctemp);
	emit_kelvin(e, "cctemp", "CCTEMP (Critical Temp)", id->cctemp);
	emit_capacity(e, "tnvmcap", "TNVMCAP (Total NVM Capacity)", id->tnvmcap);
	emit_capacity(e, "unvmcap", "UNVMCAP (Unalloc NVM Capacity)", id->unvmcap);
	emit_uint_text(e, "kas", "KAS (Keep Alive Support)", id->kas, "%u (x100 ms)", id->kas);
	emit_uint_text(e, "sqes", "SQES (SQ Entry Size)", id->sqes,
		       "0x%02x (required %u, max %u bytes)", id->sqes, 1u << (id->sqes & 0xf),
		       1u << (id->sqes >> 4));
	emit_uint_text(e, "cqes", "CQES (CQ Entry Size)", id->cqes,
		       "0x%02x (required %u, max %u bytes)", id->cqes, 1u << (id->cqes & 0xf),
		       1u << (id->cqes >> 4));
	emit_uint(e, "maxcmd", "MAXCMD (Max Outstanding)", id->maxcmd);
	emit_uint(e, "nn", "NN (Number of Namespaces)", id->nn);
	emit_flags(e, "oncs", "ONCS (Optional NVM Cmds)", id->oncs, 4, oncs_bits,
		   ARRAY_SIZE(oncs_bits));
	emit_flags(e, "fuses", "FUSES (Fused Operations)", id->fuses, 4, fuses_bits,
		   ARRAY_SIZE(fuses_bits));
	emit_flags(e, "fna", "FNA (Format NVM Attributes)", id->fna, 2, fna_bits,
		   ARRAY_SIZE(fna_bits));
	emit_flags(e, "vwc", "VWC (Volatile Write Cache)", id->vwc, 2, vwc_bits,
		   ARRAY_SIZE(vwc_bits));
	emit_uint(e, "awun", "AWUN (Atomic Write Unit)", id->awun);
	emit_uint(e, "awupf", "AWUPF (Atomic Write Power Fail)", id->awupf);
	emit_flags(e, "sgls", "SGLS (SGL Support)", id->sgls, 8, sgls_bits, ARRAY_SIZE(sgls_bits));
	emit_uint(e, "mnan", "MNAN (Max Number of Alloc NS)", id->mnan);
	emit_fixed_str(e, "subnqn", "SUBNQN (Subsystem NQN)", id->subnqn, sizeof(id->subnqn));
	emit_power_states(e, id);
	emit_obj_end(e);
}

/* -------------------------------------------------------------------- */
/* Identify Namespace                                                    */
/* -------------------------------------------------------------------- */

static const char *const nsfeat_bits[] = {
	"Thin Provisioning", "NAWUN/NAWUPF/NACWU Defined", "Deallocated Error",
	"NGUID/EUI64 Never Reused", "Optimal Performance Fields",
};
static const char *const nmic_bits[] = { "May Be Attached to Multiple Controllers" };

static const char *rp_name(unsigned int rp)
{
	static const char *const names[] = { "Best", "Better", "Good", "Degraded" };

	return names[rp & 3];
}

static const char *dlfeat_read_name(uint8_t dlfeat)
{
	switch (dlfeat & 7) {
	case 0: return "read value not reported";
	case 1: return "reads 00h";
	case 2: return "reads FFh";
	default: return "reserved";
	}
}

static void hex_bytes(const uint8_t *b, size_t n, char *buf, size_t len)
{
	size_t o = 0;

	buf[0] = '\0';
	for (size_t i = 0; i < n && o + 3 <= len; i++)
		o += (size_t)snprintf(buf + o, len - o, "%02x", b[i]);
}

static void emit_lba_formats(struct emit *e, const struct nvp_id_ns *id)
{
	unsigned int in_use = NVP_ID_NS_FLBAS_INDEX(id->flbas);

	/* Keys as nvme-cli's "nvme id-ns -o json" writes them. */
	emit_arr_begin(e, "lbafs", "LBA Formats");
	for (unsigned int i = 0; i <= id->nlbaf && i < ARRAY_SIZE(id->lbaf); i++) {
		const struct nvp_lbaf *f = &id->lbaf[i];
		char title[16];

		snprintf(title, sizeof(title), "LBAF %-2u", i);
		emit_row_begin(e, NULL, title);
		emit_uint(e, "lbaf", NULL, i);
		emit_uint(e, "ms", "MS", f->ms);
		emit_uint_text(e, "ds", "LBADS", f->lbads, "%-2u (%u bytes)", f->lbads,
			       f->lbads < 32 ? 1u << f->lbads : 0);
		emit_uint_text(e, "rp", "RP", f->rp & 3, "%u (%s)", f->rp & 3, rp_name(f->rp));
		if (e->json)
			emit_uint(e, "in_use", NULL, i == in_use);	/* 0 or 1, as nvme-cli */
		else if (i == in_use)
			fputs("  <- in use", e->out);
		emit_row_end(e);
	}
	emit_arr_end(e);
}

/*
 * Metadata and protection information as the library reads them (the
 * guard from the NVM command set Identify Namespace, which the raw fields
 * above do not show): derived keys, not nvme-cli's.
 */
static void emit_md(struct emit *e, const struct nvp_ns_info *ni)
{
	const char *layout = !ni->md_size ? "none" : ni->md_extended ? "extended" : "separate";

	emit_uint(e, "md_size", "Metadata per block (bytes)", ni->md_size);
	emit_str_text(e, "md_layout", "Metadata layout", layout, "%s", !ni->md_size ? "none" :
		      ni->md_extended ? "extended LBAs (after each block's data)" :
		      "separate buffer (metadata pointer)");
	emit_uint_text(e, "pi_type", "Protection information", ni->pi_type,
		       ni->pi_type ? "type %u" : "none", ni->pi_type);
	if (ni->pi_type) {
		emit_str(e, "pi_location", "PI location in the metadata",
			 ni->pi_first ? "first" : "last");
		emit_uint_text(e, "pi_guard_bits", "PI guard", ni->pi_guard_bits, "%u-bit (%s)",
			       ni->pi_guard_bits, ni->pi_guard_bits == 64 ? "CRC-64/NVME" :
			       "CRC-16/T10-DIF");
		emit_uint(e, "pi_size", "PI size (bytes)", ni->pi_size);
	}
}

/* Zoned namespaces: what nvp_ns_zns_info() holds (ZNS Identify CNS 05h/06h). */
static void emit_zns(struct emit *e, const struct nvp_ns *ns)
{
	const struct nvp_ns_info *ni = nvp_ns_get_info(ns);
	const struct nvp_zns_info *z = nvp_ns_zns_info(ns);
	char size[32];

	emit_uint_text(e, "csi", "CSI (Command Set)", ni->csi, "%u (%s)", ni->csi,
		       ni->csi == NVP_CSI_ZNS ? "Zoned Namespace" :
		       ni->csi == NVP_CSI_NVM ? "NVM" : "not supported by nvpoll");
	if (!z) {
		if (ni->zoned)
			emit_null(e, "zns", "Zoned", "ZNS Identify Namespace not read");
		return;
	}
	emit_obj_begin(e, "zns", "Zoned Namespace (ZNS Identify)");
	emit_human_bytes((long double)z->zone_size * ni->block_size, size, sizeof(size));
	emit_uint_text(e, "zone_size", "Zone size (ZSZE)", z->zone_size, "%llu blocks (%s)",
		       (unsigned long long)z->zone_size, size);
	emit_uint(e, "num_zones", "Zones", z->num_zones);
	/* 0 = no limit, as in struct nvp_zns_info; MAR/MOR on the wire are 0's based. */
	emit_uint_text(e, "max_open", "Max open zones (MOR+1)", z->max_open, "%u%s",
		       z->max_open, z->max_open ? "" : " (no limit)");
	emit_uint_text(e, "max_active", "Max active zones (MAR+1)", z->max_active, "%u%s",
		       z->max_active, z->max_active ? "" : " (no limit)");
	emit_uint_text(e, "zasl", "ZASL (Zone Append Size Limit)", z->zasl, "%u (%s)", z->zasl,
		       z->zasl ? "2^n minimum pages" : "the transfer limit");
	emit_uint(e, "max_append_bytes", "Largest Zone Append (bytes)", z->max_append_bytes);
	emit_bool(e, "cross_zone_read", "Reads across zone boundaries", z->cross_zone_read);
	emit_hex(e, "zoc", "ZOC (Zone Operation Chars)", z->zoc, 4);
	emit_hex(e, "ozcs", "OZCS (Optional Zoned Cmds)", z->ozcs, 4);
	emit_obj_end(e);
}

static void emit_id_ns(struct emit *e, const struct nvp_ns *ns, const struct nvp_id_ns *id)
{
	const struct nvp_ns_info *ni = nvp_ns_get_info(ns);
	unsigned int fmt = NVP_ID_NS_FLBAS_INDEX(id->flbas);
	uint32_t lba_size = fmt < 64 && id->lbaf[fmt].lbads < 32 ? 1u << id->lbaf[fmt].lbads : 0;
	char title[64], hex[40], size[32];

	snprintf(title, sizeof(title), "Identify Namespace %u", ni->nsid);
	emit_obj_begin(e, NULL, title);
	emit_uint(e, "nsid", "NSID", ni->nsid);
	emit_human_bytes((long double)id->nsze * lba_size, size, sizeof(size));
	emit_uint_text(e, "nsze", "NSZE (Namespace Size)", id->nsze, "%llu blocks (%s)",
		       (unsigned long long)id->nsze, size);
	emit_human_bytes((long double)id->ncap * lba_size, size, sizeof(size));
	emit_uint_text(e, "ncap", "NCAP (Namespace Capacity)", id->ncap, "%llu blocks (%s)",
		       (unsigned long long)id->ncap, size);
	emit_human_bytes((long double)id->nuse * lba_size, size, sizeof(size));
	emit_uint_text(e, "nuse", "NUSE (Namespace Utilization)", id->nuse, "%llu blocks (%s)",
		       (unsigned long long)id->nuse, size);
	emit_flags(e, "nsfeat", "NSFEAT (Features)", id->nsfeat, 2, nsfeat_bits,
		   ARRAY_SIZE(nsfeat_bits));
	emit_uint_text(e, "nlbaf", "NLBAF (Number of LBA Formats)", id->nlbaf, "%u (formats: %u)",
		       id->nlbaf, id->nlbaf + 1u);
	/* FLBAS bit 4 only says where metadata goes when the format has some. */
	emit_uint_text(e, "flbas", "FLBAS (Formatted LBA Size)", id->flbas,
		       "0x%02x (format %u, %s)", id->flbas, fmt,
		       fmt < 64 && !id->lbaf[fmt].ms ? "no metadata" :
		       (id->flbas & 0x10) ? "metadata at the end of each LBA" :
		       "metadata in a separate buffer");
	emit_hex(e, "mc", "MC (Metadata Capabilities)", id->mc, 2);
	emit_hex(e, "dpc", "DPC (Data Protection Caps)", id->dpc, 2);
	emit_uint_text(e, "dps", "DPS (Data Protection Settings)", id->dps, "0x%02x (%s)",
		       id->dps, (id->dps & 7) ? "protection information enabled" : "no protection information");
	emit_flags(e, "nmic", "NMIC (Multi-path / Sharing)", id->nmic, 2, nmic_bits,
		   ARRAY_SIZE(nmic_bits));
	emit_uint_text(e, "dlfeat", "DLFEAT (Dealloc Features)", id->dlfeat,
		       "0x%02x (deallocated blocks: %s%s%s)", id->dlfeat, dlfeat_read_name(id->dlfeat),
		       (id->dlfeat & 8) ? "; Write Zeroes can deallocate" : "",
		       (id->dlfeat & 16) ? "; guard field is CRC of the read value" : "");
	emit_uint(e, "noiob", "NOIOB (Optimal IO Boundary)", id->noiob);
	hex_bytes(id->nguid, sizeof(id->nguid), hex, sizeof(hex));
	emit_str(e, "nguid", "NGUID", hex);
	hex_bytes(id->eui64, sizeof(id->eui64), hex, sizeof(hex));
	emit_str(e, "eui64", "EUI64", hex);
	emit_lba_formats(e, id);
	/* Derived, for scripts that do not want to decode FLBAS themselves. */
	emit_uint(e, "lba_size", "LBA size in use (bytes)", lba_size);
	emit_uint(e, "size_bytes", "Size (NSZE x LBA size)", id->nsze * lba_size);
	emit_zns(e, ns);
	emit_md(e, ni);
	emit_obj_end(e);
}

/* -------------------------------------------------------------------- */
/* SMART / Health Information                                            */
/* -------------------------------------------------------------------- */

static const char *const crit_warn_bits[] = {
	"Available Spare Below Threshold", "Temperature Threshold", "NVM Subsystem Reliability Degraded",
	"Media Read Only", "Volatile Memory Backup Failed", "Persistent Memory Region Read Only",
};

static void emit_counter(struct emit *e, const char *key, const char *label, const uint8_t v[16],
			 const char *unit)
{
	emit_u128(e, key, label, v, unit);
}

/* Data units are thousands of 512-byte units. */
static void emit_data_units(struct emit *e, const char *key, const char *label, const uint8_t v[16])
{
	char suffix[48], size[32];

	emit_human_bytes(u128_value(v) * 512000.0L, size, sizeof(size));
	snprintf(suffix, sizeof(suffix), " (%s)", size);
	emit_u128(e, key, label, v, suffix);
}

static void emit_smart(struct emit *e, const struct nvp_smart_log *s)
{
	uint16_t temp;

	memcpy(&temp, &s->temperature, sizeof(temp));	/* unaligned on the wire */
	emit_obj_begin(e, "smart", "SMART / Health Information (Log Page 02h)");
	emit_flags(e, "critical_warning", "Critical Warning", s->critical_warning, 2,
		   crit_warn_bits, ARRAY_SIZE(crit_warn_bits));
	emit_kelvin(e, "temperature", "Composite Temperature", temp);
	if (temp && e->json)
		emit_int(e, "temperature_celsius", NULL, (int)temp - 273);
	emit_uint_text(e, "avail_spare", "Available Spare", s->avail_spare, "%u%%", s->avail_spare);
	emit_uint_text(e, "spare_thresh", "Available Spare Threshold", s->spare_thresh, "%u%%",
		       s->spare_thresh);
	emit_uint_text(e, "percent_used", "Percentage Used", s->percent_used, "%u%%", s->percent_used);
	emit_hex(e, "endurance_grp_critical_warning_summary", "Endurance Group Critical Warning",
		 s->endu_grp_crit_warn, 2);
	emit_data_units(e, "data_units_read", "Data Units Read", s->data_units_read);
	emit_data_units(e, "data_units_written", "Data Units Written", s->data_units_written);
	emit_counter(e, "host_read_commands", "Host Read Commands", s->host_reads, "");
	emit_counter(e, "host_write_commands", "Host Write Commands", s->host_writes, "");
	emit_counter(e, "controller_busy_time", "Controller Busy Time", s->ctrl_busy_time,
		     " minutes");
	emit_counter(e, "power_cycles", "Power Cycles", s->power_cycles, "");
	emit_counter(e, "power_on_hours", "Power On Hours", s->power_on_hours, " hours");
	emit_counter(e, "unsafe_shutdowns", "Unsafe Shutdowns", s->unsafe_shutdowns, "");
	emit_counter(e, "media_errors", "Media and Data Integrity Errors", s->media_errors, "");
	emit_counter(e, "num_err_log_entries", "Number of Error Log Entries",
		     s->num_err_log_entries, "");
	emit_uint_text(e, "warning_temp_time", "Warning Temperature Time", s->warning_temp_time,
		       "%u minutes", s->warning_temp_time);
	emit_uint_text(e, "critical_comp_time", "Critical Temperature Time",
		       s->critical_comp_time, "%u minutes", s->critical_comp_time);
	for (unsigned int i = 0; i < ARRAY_SIZE(s->temp_sensor); i++) {
		char key[32], label[32];

		if (!s->temp_sensor[i])
			continue;	/* not implemented */
		snprintf(key, sizeof(key), "temperature_sensor_%u", i + 1);
		snprintf(label, sizeof(label), "Temperature Sensor %u", i + 1);
		emit_kelvin(e, key, label, s->temp_sensor[i]);
	}
	emit_uint(e, "thm_temp1_trans_count", "Thermal Mgmt T1 Transitions", s->thm_temp1_trans_count);
	emit_uint(e, "thm_temp2_trans_count", "Thermal Mgmt T2 Transitions", s->thm_temp2_trans_count);
	emit_uint_text(e, "thm_temp1_total_time", "Thermal Mgmt T1 Total Time",
		       s->thm_temp1_total_time, "%u s", s->thm_temp1_total_time);
	emit_uint_text(e, "thm_temp2_total_time", "Thermal Mgmt T2 Total Time",
		       s->thm_temp2_total_time, "%u s", s->thm_temp2_total_time);
	emit_obj_end(e);
}

/* -------------------------------------------------------------------- */

static void emit_attachment(struct emit *e, const struct nvp_ctrl_info *info)
{
	emit_obj_begin(e, "attachment", "Controller");
	emit_str(e, "address", "Address", info->addr);
	emit_str(e, "access", "Access method", nvp_driver_name(info->driver));
	if (info->numa_node >= 0)
		emit_int(e, "numa_node", "NUMA node", info->numa_node);
	else
		emit_null(e, "numa_node", "NUMA node", "unknown");
	emit_hex(e, "cap", "CAP", info->cap, 16);
	emit_uint(e, "mqes", "CAP.MQES+1 (queue entries)", info->max_queue_entries);
	emit_uint_text(e, "page_size", "Page size (CC.MPS)", info->page_size, "%u bytes",
		       info->page_size);
	emit_uint_text(e, "max_xfer_bytes", "Max transfer per command", info->max_xfer_bytes,
		       "%u bytes", info->max_xfer_bytes);
	emit_uint(e, "io_queues", "I/O queues granted", info->num_io_queues);
	emit_bool(e, "shadow_doorbells", "Shadow doorbells in use", info->shadow_doorbells);
	emit_bool(e, "sgl_in_use", "SGLs used for I/O", info->sgl_supported);
	emit_obj_end(e);
}

static int identify(struct nvp_ctrl *ctrl, struct emit *e)
{
	const struct nvp_ctrl_info *info = nvp_ctrl_get_info(ctrl);
	struct nvp_smart_log *smart;
	int rc = 0;

	struct nvp_id_ctrl idc = *nvp_ctrl_identify(ctrl);
	struct nvp_id_ns idn;

	emit_attachment(e, info);
	id_ctrl_to_cpu(&idc);
	emit_id_ctrl(e, info, &idc);

	emit_arr_begin(e, "namespaces", NULL);
	for (struct nvp_ns *ns = nvp_ctrl_first_ns(ctrl); ns; ns = nvp_ctrl_next_ns(ctrl, ns)) {
		idn = *nvp_ns_identify(ns);
		id_ns_to_cpu(&idn);
		emit_id_ns(e, ns, &idn);
	}
	emit_arr_end(e);

	smart = nvp_dma_alloc(sizeof(*smart), 0, info->numa_node);
	if (!smart) {
		fprintf(stderr, PROG ": cannot allocate DMA memory for the SMART log: %s\n",
			nvp_last_error()[0] ? nvp_last_error() : strerror(errno));
		emit_null(e, "smart", "SMART", "not read");
		return 1;
	}
	rc = nvp_get_log_page(ctrl, 0xffffffffu, NVP_LOG_SMART, smart, sizeof(*smart));
	if (rc) {
		fprintf(stderr, PROG ": Get Log Page (SMART / Health Information) failed: %s\n",
			nvp_last_error()[0] ? nvp_last_error() : strerror(-rc));
		emit_null(e, "smart", "SMART", "not read");
	} else {
		smart_to_cpu(smart);
		emit_smart(e, smart);
	}
	nvp_dma_free(smart);
	return rc ? 1 : 0;
}

/* TREQ as nvme-cli prints it. */
static const char *treq_str(uint8_t treq, char *buf, size_t len)
{
	static const char *const secure[] = { "not specified", "required", "not required",
					      "reserved" };

	snprintf(buf, len, "%s%s", secure[treq & NVP_TREQ_SECURE_MASK],
		 (treq & NVP_TREQ_SQFLOW_DISABLE) ? ", sq flow control disable supported" : "");
	return buf;
}

/* EFLAGS bits 0..2 as nvme-cli names them. */
static const char *eflags_str(uint16_t eflags, char *buf, size_t len)
{
	static const char *const names[] = { "duplicate discovery information",
					     "explicit discovery connections",
					     "no cdc connectivity" };
	size_t at = 0;

	buf[0] = '\0';
	for (unsigned int i = 0; i < ARRAY_SIZE(names); i++)
		if (eflags & (1u << i))
			at += (size_t)snprintf(buf + at, len - at, "%s%s", at ? ", " : "", names[i]);
	if (eflags >> ARRAY_SIZE(names))
		snprintf(buf + at, len - at, "%s0x%x", at ? ", " : "", eflags);
	else if (!eflags)
		snprintf(buf, len, "none");
	return buf;
}

/*
 * --discover: the Discovery Log Page, one block per entry in 'nvme
 * discover''s layout, or JSON with its keys ("records").
 */
static int discover(const char *addr, const char *hostnqn, bool json)
{
	struct nvp_discovery_entry *d;
	uint32_t n;
	char treq[80], eflags[128];
	int rc = nvp_discover(addr, hostnqn, &d, &n);

	if (rc) {
		fprintf(stderr, PROG ": discovery at %s failed: %s\n", addr,
			nvp_last_error()[0] ? nvp_last_error() : strerror(-rc));
		return rc == -EINVAL ? TOOL_EXIT_USAGE : TOOL_EXIT_FAILURE;
	}
	if (json) {
		struct emit e;

		emit_init(&e, stdout, true);
		emit_uint(&e, "numrec", NULL, n);
		emit_arr_begin(&e, "records", NULL);
		for (uint32_t i = 0; i < n; i++) {
			emit_obj_begin(&e, NULL, NULL);
			emit_str(&e, "trtype", NULL, nvp_trtype_str(d[i].trtype));
			emit_str(&e, "adrfam", NULL, nvp_adrfam_str(d[i].adrfam));
			emit_str(&e, "subtype", NULL, nvp_subtype_str(d[i].subtype));
			emit_str(&e, "treq", NULL, treq_str(d[i].treq, treq, sizeof(treq)));
			emit_uint(&e, "portid", NULL, d[i].portid);
			emit_str(&e, "trsvcid", NULL, d[i].trsvcid);
			emit_str(&e, "subnqn", NULL, d[i].subnqn);
			emit_str(&e, "traddr", NULL, d[i].traddr);
			emit_uint(&e, "cntlid", NULL, d[i].cntlid);
			emit_uint(&e, "asqsz", NULL, d[i].asqsz);
			emit_str(&e, "eflags", NULL, eflags_str(d[i].eflags, eflags, sizeof(eflags)));
			emit_obj_end(&e);
		}
		emit_arr_end(&e);
		emit_finish(&e);
	} else {
		printf("\nDiscovery Log Number of Records %u\n", n);
		for (uint32_t i = 0; i < n; i++) {
			printf("=====Discovery Log Entry %u======\n", i);
			printf("trtype:  %s\n", nvp_trtype_str(d[i].trtype));
			printf("adrfam:  %s\n", nvp_adrfam_str(d[i].adrfam));
			printf("subtype: %s\n", nvp_subtype_str(d[i].subtype));
			printf("treq:    %s\n", treq_str(d[i].treq, treq, sizeof(treq)));
			printf("portid:  %u\n", d[i].portid);
			printf("trsvcid: %s\n", d[i].trsvcid);
			printf("subnqn:  %s\n", d[i].subnqn);
			printf("traddr:  %s\n", d[i].traddr);
			printf("cntlid:  %u\n", d[i].cntlid);
			printf("asqsz:   %u\n", d[i].asqsz);
			printf("eflags:  %s\n", eflags_str(d[i].eflags, eflags, sizeof(eflags)));
		}
	}
	nvp_discovery_free(d);
	return fflush(stdout) ? TOOL_EXIT_FAILURE : TOOL_EXIT_OK;
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "discover", no_argument, NULL, 'd' },
		{ "hostnqn", required_argument, NULL, 'H' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	struct nvp_ctrl *ctrl = NULL;
	sigset_t block, old;
	bool json = false, disc = false;
	const char *hostnqn = NULL;
	struct emit e;
	int opt, rc, status;

	while ((opt = getopt_long(argc, argv, "djhV", longopts, NULL)) != -1) {
		switch (opt) {
		case 'j':
			json = true;
			break;
		case 'd':
			disc = true;
			break;
		case 'H':
			hostnqn = optarg;
			break;
		case 'h':
			usage(stdout);
			return 0;
		case 'V':
			printf(PROG " %d.%d.%d\n", NVP_VERSION_MAJOR, NVP_VERSION_MINOR,
			       NVP_VERSION_PATCH);
			return 0;
		default:
			fprintf(stderr, "Try '" PROG " --help' for more information.\n");
			return 2;
		}
	}
	if (optind != argc - 1) {
		fprintf(stderr, PROG ": %s\nTry '" PROG " --help' for more information.\n",
			optind == argc ? (disc ? "missing ADDRESS (tcp://HOST[:PORT])" :
					  "missing ADDRESS (a PCI address such as 0000:00:04.0, or emu:)")
				       : "only one ADDRESS at a time");
		return 2;
	}
	if (hostnqn && !disc) {
		fprintf(stderr, PROG ": --hostnqn only goes with --discover\n"
			"Try '" PROG " --help' for more information.\n");
		return 2;
	}
	if (disc)
		return discover(argv[optind], hostnqn, json);

	/*
	 * Check the address first: attach looks for an access method before
	 * it looks at the device, and would blame the IOMMU for a typo, an
	 * absent function or a network card. Those are usage errors.
	 */
	if (tool_check_address(argv[optind])) {
		fprintf(stderr, PROG ": cannot attach %s: %s\n", argv[optind], nvp_last_error());
		return TOOL_EXIT_USAGE;
	}

	/*
	 * Hold off Ctrl-C and friends while the controller is ours: dying
	 * in between would leave it on vfio-pci with /dev/nvmeXnY gone.
	 */
	sigemptyset(&block);
	sigaddset(&block, SIGINT);
	sigaddset(&block, SIGTERM);
	sigaddset(&block, SIGHUP);
	sigaddset(&block, SIGQUIT);
	sigprocmask(SIG_BLOCK, &block, &old);

	rc = nvp_ctrl_attach(argv[optind], NULL, &ctrl);
	if (rc) {
		fprintf(stderr, PROG ": cannot attach %s: %s\n", argv[optind],
			nvp_last_error()[0] ? nvp_last_error() : strerror(-rc));
		sigprocmask(SIG_SETMASK, &old, NULL);
		return tool_attach_status(argv[optind], rc);
	}
	emit_init(&e, stdout, json);
	status = identify(ctrl, &e);
	emit_finish(&e);

	rc = nvp_ctrl_detach(ctrl);
	if (rc) {
		fprintf(stderr, PROG ": detaching %s failed: %s\n", argv[optind],
			nvp_last_error()[0] ? nvp_last_error() : strerror(-rc));
		status = 1;
	}
	sigprocmask(SIG_SETMASK, &old, NULL);
	return status;
}
