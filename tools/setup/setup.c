/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * nvpoll-setup - prepare a machine for nvpoll and show what is missing:
 * controllers and their drivers/IOMMU groups, hugepages, memlock, IOMMU.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <nvpoll/nvpoll.h>
#include <nvpoll_sysfs/drivers.h>
#include <nvpoll_sysfs/size.h>
#include <nvpoll_sysfs/sysfs.h>

#include "setup.h"

static void usage(FILE *f)
{
	fprintf(f,
		"Usage: " PROG " [OPTION]... status\n"
		"  or:  " PROG " [OPTION]... bind ADDRESS...\n"
		"  or:  " PROG " [OPTION]... unbind ADDRESS...\n"
		"  or:  " PROG " [OPTION]... hugepages SIZE\n"
		"Prepare this machine for nvpoll and show what it still needs.\n"
		"\n"
		"Commands:\n"
		"  status             list every NVMe controller (PCI address, vendor and device,\n"
		"                     NUMA node, driver, IOMMU group and whether it is viable,\n"
		"                     the other devices in the group, namespaces and whether\n"
		"                     any is mounted or in use); then hugepages per size and\n"
		"                     NUMA node, hugetlbfs mounts, the memlock limit, whether\n"
		"                     the IOMMU is on and no-IOMMU mode available, which\n"
		"                     drivers are loaded, and advice with the fixing commands\n"
		"  bind ADDRESS...    hand controllers to vfio-pci (IOMMU on, or no-IOMMU mode\n"
		"                     enabled) or else to uio_pci_generic; refuses a controller\n"
		"                     with a mounted or in-use namespace unless --force\n"
		"  unbind ADDRESS...  give controllers back to the kernel nvme driver\n"
		"  hugepages SIZE     reserve SIZE of hugepages (e.g. 1G, 512M; rounded up to\n"
		"                     whole pages) and mount hugetlbfs for that page size at\n"
		"                     /dev/hugepages if none is mounted; an existing larger\n"
		"                     reservation is kept unless --exact\n"
		"\n"
		"Options:\n"
		"  -j, --json             print JSON instead of text (same data)\n"
		"  -f, --force            bind even if a namespace is mounted or in use (its\n"
		"                         users get I/O errors)\n"
		"  -d, --driver DRIVER    bind to DRIVER (vfio-pci or uio_pci_generic) instead of\n"
		"                         choosing\n"
		"      --no-modprobe      do not load missing drivers; say which command would\n"
		"  -n, --node N           hugepages: reserve on NUMA node N only\n"
		"  -p, --page-size SIZE   hugepages: page size, 2M (default) or 1G\n"
		"  -x, --exact            hugepages: set the pool to exactly SIZE (may free pages;\n"
		"                         'hugepages 0 --exact' releases them all)\n"
		"  -v, --verbose          show each step the library takes\n"
		"  -h, --help             display this help and exit\n"
		"  -V, --version          output version information and exit\n"
		"\n"
		"ADDRESS is a PCI address such as 0000:00:04.0 or 00:04.0 of an NVMe\n"
		"controller; every ADDRESS is checked before any module is loaded. emu:\n"
		"controllers need no setup.\n"
		"\n"
		"bind and unbind load vfio-pci, uio_pci_generic or nvme with modprobe when they\n"
		"are missing (the library itself never does). They never turn on no-IOMMU\n"
		"mode, which lets the device write anywhere in memory: do that yourself with\n"
		"'modprobe vfio enable_unsafe_noiommu_mode=1'. bind, unbind and hugepages need\n"
		"root; status does not. Every error says what is wrong and which command\n"
		"fixes it.\n"
		"\n"
		"Exit status: 0 on success; 1 if something failed while running (the reason\n"
		"is printed on stderr); 2 for a usage or address error: a bad option, or an\n"
		"ADDRESS, NUMA node or page size this machine does not have (malformed, no\n"
		"such PCI function, not an NVMe controller).\n"
		"\n"
		"Examples:\n"
		"  " PROG " status\n"
		"  " PROG " hugepages 1G\n"
		"  " PROG " bind 0000:00:04.0 && hello_world 0000:00:04.0\n"
		"  " PROG " unbind 0000:00:04.0\n"
		"  " PROG " status --json | python3 -m json.tool\n");
}

/* Messages above this level are dropped (-v raises it). */
static enum nvp_log_level log_level = NVP_LOG_WARN;
static char sysfs_error[512];

/* Warnings (e.g. a slow hand-back) go to stderr; errors we print ourselves. */
static void print_message(enum nvp_log_level level, const char *msg)
{
	if (level == NVP_LOG_ERR || level > log_level)
		return;
	fprintf(stderr, PROG ": %s%s\n", level == NVP_LOG_WARN ? "warning: " : "", msg);
}

/* libnvpoll's messages (nvp_last_error() keeps its errors). */
static void log_sink(enum nvp_log_level level, const char *msg, void *arg)
{
	(void)arg;
	print_message(level, msg);
}

/*
 * nvpoll_sysfs's messages (nvpoll_sysfs/sysfs.h): this program links its
 * own copy of that library, which reports here rather than to libnvpoll's
 * log. An error is kept for sysfs_last_error().
 */
void nvp_sysfs_report(enum nvp_log_level level, const char *msg)
{
	if (level == NVP_LOG_ERR)
		snprintf(sysfs_error, sizeof(sysfs_error), "%s", msg);
	print_message(level, msg);
}

const char *sysfs_last_error(void)
{
	return sysfs_error;
}

/* The --driver argument: a kernel driver an access method binds. */
static const char *parse_driver(const char *arg)
{
	const struct nvp_access_method *m = nvp_access_method_by_kernel_driver(arg);

	if (!m) {
		fprintf(stderr, PROG ": --driver must be %s or %s, not '%s'\n",
			nvp_access_method(NVP_DRIVER_VFIO)->kernel_driver,
			nvp_access_method(NVP_DRIVER_UIO)->kernel_driver, arg);
		return NULL;
	}
	return m->kernel_driver;
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "force", no_argument, NULL, 'f' },
		{ "driver", required_argument, NULL, 'd' },
		{ "no-modprobe", no_argument, NULL, 'M' },
		{ "node", required_argument, NULL, 'n' },
		{ "page-size", required_argument, NULL, 'p' },
		{ "exact", no_argument, NULL, 'x' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	struct setup_opts o = { .node = -1 };
	const char *cmd;
	char *end;
	int opt;

	while ((opt = getopt_long(argc, argv, "jfd:n:p:xvhV", longopts, NULL)) != -1) {
		switch (opt) {
		case 'j':
			o.json = true;
			break;
		case 'f':
			o.force = true;
			break;
		case 'd':
			o.driver = parse_driver(optarg);
			if (!o.driver)
				return 2;
			break;
		case 'M':
			o.no_modprobe = true;
			break;
		case 'n':
			o.node = (int)strtol(optarg, &end, 10);
			if (end == optarg || *end || o.node < 0) {
				fprintf(stderr, PROG ": --node needs a NUMA node number, not '%s'\n", optarg);
				return 2;
			}
			break;
		case 'p':
			if (nvp_parse_size(optarg, &o.page_size) || !o.page_size ||
			    (o.page_size & (o.page_size - 1))) {
				fprintf(stderr, PROG ": --page-size needs a power of two such as 2M or 1G, not '%s'\n",
					optarg);
				return 2;
			}
			break;
		case 'x':
			o.exact = true;
			break;
		case 'v':
			log_level = log_level == NVP_LOG_WARN ? NVP_LOG_INFO : NVP_LOG_DEBUG;
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
	nvp_set_log(log_sink, NULL, log_level);
	if (optind >= argc) {
		fprintf(stderr, PROG ": missing command (status, bind, unbind or hugepages)\n"
			"Try '" PROG " --help' for more information.\n");
		return 2;
	}
	cmd = argv[optind++];
	if (!strcmp(cmd, "status")) {
		if (optind != argc) {
			fprintf(stderr, PROG ": status takes no arguments\n");
			return 2;
		}
		return cmd_status(&o);
	}
	if (!strcmp(cmd, "bind"))
		return cmd_bind(&o, argc - optind, argv + optind);
	if (!strcmp(cmd, "unbind"))
		return cmd_unbind(&o, argc - optind, argv + optind);
	if (!strcmp(cmd, "hugepages")) {
		if (argc - optind != 1) {
			fprintf(stderr, PROG ": hugepages takes one SIZE, e.g. " PROG " hugepages 1G\n");
			return 2;
		}
		return cmd_hugepages(&o, argv[optind]);
	}
	fprintf(stderr, PROG ": unknown command '%s' (status, bind, unbind or hugepages)\n"
		"Try '" PROG " --help' for more information.\n", cmd);
	return 2;
}
