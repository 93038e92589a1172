#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""CTest check of nvpoll-identify against the emulated controller.

Runs the tool in JSON and text form on an emu: controller with two 64 MiB
namespaces (4096- and 512-byte LBAs) and checks what it reports, plus the
usage/error paths. Exits non-zero with the reason on the first mismatch.
"""
import json
import subprocess
import sys

ADDR = "emu:ns=64M:4096,ns=64M:512"
EXPECT_SERIAL = "NVPEMU0001"
EXPECT_MODEL = "nvpoll emulated controller"
EXPECT_NS = [(1, 4096), (2, 512)]  # (nsid, LBA size), 64 MiB each


def run(tool, *args):
    p = subprocess.run([tool, *args], capture_output=True, text=True, timeout=60)
    return p.returncode, p.stdout, p.stderr


def check(cond, msg):
    if not cond:
        print("FAIL: " + msg)
        sys.exit(1)


def main():
    tool = sys.argv[1]

    rc, out, err = run(tool, "--json", ADDR)
    check(rc == 0, f"--json {ADDR} exited {rc}: {err.strip()}")
    data = json.loads(out)
    ctrl = data["id_ctrl"]
    check(ctrl["sn"] == EXPECT_SERIAL, f"SN is {ctrl['sn']!r}, expected {EXPECT_SERIAL!r}")
    check(ctrl["mn"] == EXPECT_MODEL, f"MN is {ctrl['mn']!r}, expected {EXPECT_MODEL!r}")
    check(ctrl["nn"] == 2, f"NN is {ctrl['nn']}, expected 2")
    check(ctrl["ver"] == 0x10400, f"VER is {ctrl['ver']:#x}, expected 0x10400")
    check("Write Zeroes" in ctrl["oncs_decoded"], f"ONCS decoded {ctrl['oncs_decoded']}")
    check(ctrl["mdts"] == 7, f"MDTS is {ctrl['mdts']}, expected 7")
    namespaces = data["namespaces"]
    check(len(namespaces) == len(EXPECT_NS), f"{len(namespaces)} namespaces, expected 2")
    for ns, (nsid, lba_size) in zip(namespaces, EXPECT_NS):
        check(ns["nsid"] == nsid, f"namespace {ns['nsid']}, expected {nsid}")
        in_use = [f for f in ns["lbafs"] if f["in_use"] == 1]
        check(len(in_use) == 1, f"nsid {nsid}: {len(in_use)} LBA formats in use")
        size = 1 << in_use[0]["ds"]
        check(size == lba_size, f"nsid {nsid}: LBA size {size}, expected {lba_size}")
        check(ns["nsze"] * size == 64 << 20,
              f"nsid {nsid}: NSZE {ns['nsze']} x {size} != 64 MiB")
        check(ns["lba_size"] == size and ns["size_bytes"] == 64 << 20,
              f"nsid {nsid}: derived lba_size/size_bytes disagree with NSZE/LBADS")
    # nvme-cli's key names ("nvme id-ctrl/id-ns/smart-log -o json") where it
    # has the same field, so scripts written for it work.
    psd = ctrl["psds"][0]
    for key in ("max_power", "max_power_scale", "non-operational_state", "entry_lat",
                "exit_lat", "read_tput", "read_lat", "write_tput", "write_lat",
                "idle_power", "idle_scale", "active_power", "active_power_work",
                "active_scale"):
        check(key in psd, f"psds[0] lacks nvme-cli's {key!r}: {sorted(psd)}")
    check("psd" not in ctrl, "id_ctrl still has 'psd' beside 'psds'")
    for ns in namespaces:
        for f in ns["lbafs"]:
            check(sorted(f) == ["ds", "in_use", "lbaf", "ms", "rp"],
                  f"an LBA format has keys {sorted(f)}, not nvme-cli's lbaf/ms/ds/rp/in_use")
        check("lbaf" not in ns, "a namespace still has 'lbaf' beside 'lbafs'")
    smart = data["smart"]
    for key in ("critical_warning", "temperature", "avail_spare", "spare_thresh",
                "percent_used", "endurance_grp_critical_warning_summary",
                "data_units_read", "data_units_written", "host_read_commands",
                "host_write_commands", "controller_busy_time", "power_cycles",
                "power_on_hours", "unsafe_shutdowns", "media_errors",
                "num_err_log_entries", "warning_temp_time", "critical_comp_time",
                "thm_temp1_trans_count", "thm_temp2_trans_count",
                "thm_temp1_total_time", "thm_temp2_total_time"):
        check(key in smart, f"SMART lacks nvme-cli's {key!r}")
    for old in ("host_reads", "host_writes", "ctrl_busy_time"):
        check(old not in smart, f"SMART still has {old!r}")
    check(smart["temperature"] > 273, f"SMART temperature {smart['temperature']} K")
    check(smart["avail_spare"] == 100, f"SMART available spare {smart['avail_spare']}")
    check(smart["power_cycles"] == 1, f"SMART power cycles {smart['power_cycles']}")

    rc, out, err = run(tool, ADDR)
    check(rc == 0, f"text {ADDR} exited {rc}: {err.strip()}")
    for want in ("SN (Serial Number)", EXPECT_SERIAL, "Identify Namespace 2",
                 "LBADS 9  (512 bytes)", "<- in use", "Composite Temperature",
                 "°C", "Data Units Read"):
        check(want in out, f"text output lacks {want!r}")
    # The emulated formats carry no metadata: FLBAS must not place any.
    check("(format 0, no metadata)" in out, "FLBAS of a format without metadata not "
          "described as 'no metadata'")
    check("separate buffer" not in out and "end of each LBA" not in out,
          "text output places metadata for a format that has none")

    # A zoned namespace: its command set and ZNS properties (0 = no limit).
    zaddr = "emu:ns=16M:4096,ns=64M:4096,zoned=4M/3M,zone_open=6,zasl=3"
    rc, out, err = run(tool, "--json", zaddr)
    check(rc == 0, f"--json {zaddr} exited {rc}: {err.strip()}")
    nss = json.loads(out)["namespaces"]
    check(nss[0]["csi"] == 0 and "zns" not in nss[0], f"nsid 1 is not zoned: {nss[0]}")
    z = nss[1].get("zns")
    check(nss[1]["csi"] == 2 and z is not None, f"nsid 2 is zoned: {nss[1]}")
    want = {"zone_size": 1024, "num_zones": 16, "max_open": 6, "max_active": 0,
            "zasl": 3, "max_append_bytes": 32768, "cross_zone_read": False}
    for key, val in want.items():
        check(z.get(key) == val, f"zns {key} is {z.get(key)!r}, expected {val!r}")
    rc, out, err = run(tool, zaddr)
    check(rc == 0, f"text {zaddr} exited {rc}: {err.strip()}")
    for want_text in ("CSI (Command Set)                2 (Zoned Namespace)",
                      "1024 blocks (4.0 MiB)", "Max active zones (MAR+1)       0 (no limit)"):
        check(want_text in out, f"zoned text output lacks {want_text!r}")
    # Without zoned namespaces the controller offers no command sets: no zns key.
    check(all("zns" not in ns for ns in namespaces), "a conventional namespace has 'zns'")
    # Metadata and protection information, per namespace, in both forms.
    md_addr = "emu:ns=16M:512+8:ext:pi1,ns=16M:4096+16:pi3:first,ns=16M:4096+8"
    md_expect = [  # md_size, md_layout, pi_type, pi_location, pi_guard_bits, pi_size
        (8, "extended", 1, "last", 16, 8),
        (16, "separate", 3, "first", 16, 8),
        (8, "separate", 0, None, None, None),
    ]
    rc, out, err = run(tool, "--json", md_addr)
    check(rc == 0, f"--json {md_addr} exited {rc}: {err.strip()}")
    for ns, want in zip(json.loads(out)["namespaces"], md_expect):
        got = (ns["md_size"], ns["md_layout"], ns["pi_type"], ns.get("pi_location"),
               ns.get("pi_guard_bits"), ns.get("pi_size"))
        check(got == want, f"nsid {ns['nsid']}: metadata/PI {got}, expected {want}")
    rc, out, err = run(tool, md_addr)
    check(rc == 0, f"text {md_addr} exited {rc}: {err.strip()}")
    for want in ("extended LBAs (after each block's data)", "type 1", "type 3",
                 "16-bit (CRC-16/T10-DIF)", "PI location in the metadata"):
        check(want in out, f"text output lacks {want!r}")
    rc, out, err = run(tool, "--json", ADDR)
    for ns in json.loads(out)["namespaces"]:
        check(ns["md_size"] == 0 and ns["md_layout"] == "none" and ns["pi_type"] == 0
              and "pi_location" not in ns, f"nsid {ns['nsid']}: metadata where none is")

    rc, out, _ = run(tool, "--version")
    check(rc == 0 and out.strip() == "nvpoll-identify 0.1.0", f"--version printed {out!r}")
    rc, out, _ = run(tool, "--help")
    check(rc == 0 and out.startswith("Usage: nvpoll-identify"), "--help")
    rc, _, err = run(tool)
    check(rc == 2 and "missing ADDRESS" in err, f"no address: exit {rc}, {err!r}")
    rc, _, err = run(tool, "emu:bogus=1")
    check(rc == 2 and "cannot attach emu:bogus=1" in err and "valid options" in err,
          f"bad emu option: exit {rc}, {err!r}")
    rc, _, err = run(tool, "not-an-address")
    check(rc == 2 and "is not a PCI address" in err, f"bad address: exit {rc}, {err!r}")
    rc, _, err = run(tool, "0000:ff:1f.7")
    check(rc == 2 and "no PCI function 0000:ff:1f.7" in err, f"absent device: exit {rc}, {err!r}")
    print("nvpoll-identify: emu checks passed")


if __name__ == "__main__":
    main()
