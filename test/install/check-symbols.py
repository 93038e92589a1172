#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""Check the exported ABI of libnvpoll.so against the public headers.

  check-symbols.py LIBNVPOLL_SO INCLUDE_DIR

Fails when:
  - the soname is not libnvpoll.so.0;
  - a defined dynamic symbol does not start with nvp_ (a leak from the
    library's internals or a static dependency);
  - an nvp_ symbol is exported but no public header declares it with
    NVP_API (internal helper made visible by mistake);
  - a function a public header declares with NVP_API is not exported
    (missing from the build, or hidden by the version script);
  - an exported symbol is not versioned NVPOLL_* (the version script was
    not applied).
"""
import glob
import os
import re
import subprocess
import sys

EXPECTED_SONAME = "libnvpoll.so.0"


def readelf(*args):
    return subprocess.run(["readelf", "-W", *args], check=True,
                          capture_output=True, text=True).stdout


def soname(lib):
    m = re.search(r"\(SONAME\)\s+Library soname: \[([^\]]+)\]", readelf("-d", lib))
    return m.group(1) if m else None


def exported_symbols(lib):
    """{name: version} for every symbol the library defines for others."""
    syms = {}
    for line in readelf("--dyn-syms", lib).splitlines():
        # Num: Value Size Type Bind Vis Ndx Name[@version]
        f = line.split()
        if len(f) < 8 or not f[0].rstrip(":").isdigit():
            continue
        typ, bind, vis, ndx, name = f[3], f[4], f[5], f[6], f[7]
        if ndx == "UND" or bind not in ("GLOBAL", "WEAK") or vis != "DEFAULT":
            continue
        base, _, version = name.partition("@")
        # The version node itself (NVPOLL_0.1) is an ABS symbol, not code.
        if ndx == "ABS" and typ == "OBJECT" and base.startswith("NVPOLL_"):
            continue
        syms[base] = version.lstrip("@")
    return syms


def declared_api(include_dir):
    """{name: header} for every NVP_API declaration in the public headers."""
    api = {}
    for header in sorted(glob.glob(os.path.join(include_dir, "nvpoll", "*.h"))):
        text = open(header, encoding="utf-8").read()
        text = re.sub(r"/\*.*?\*/", " ", text, flags=re.S)   # comments
        text = re.sub(r"^\s*#.*$", " ", text, flags=re.M)   # the NVP_API #define
        # NVP_API <return type> [*]name( ... ; the name is the identifier
        # right before the first "(" of the declaration.
        for m in re.finditer(r"\bNVP_API\b([^;(]*?)\b([A-Za-z_]\w*)\s*\(", text):
            api[m.group(2)] = os.path.basename(header)
    return api


def main():
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    lib, include_dir = sys.argv[1], sys.argv[2]
    errors = []

    name = soname(lib)
    if name != EXPECTED_SONAME:
        errors.append(f"soname is {name!r}, expected {EXPECTED_SONAME!r}")

    exported = exported_symbols(lib)
    declared = declared_api(include_dir)
    if not declared:
        errors.append(f"no NVP_API declarations found under {include_dir}/nvpoll")

    for sym in sorted(exported):
        if not sym.startswith("nvp_"):
            errors.append(f"exported symbol without the nvp_ prefix: {sym}")
        elif sym not in declared:
            errors.append(f"exported but not declared NVP_API in a public header: {sym}")
        if not exported[sym].startswith("NVPOLL_"):
            errors.append(f"exported symbol {sym} has version {exported[sym] or 'none'}, "
                          "expected NVPOLL_* from lib/nvpoll.map")
    for sym in sorted(declared):
        if sym not in exported:
            errors.append(f"declared NVP_API in {declared[sym]} but not exported: {sym}")

    print(f"{lib}: soname {name}, {len(exported)} exported symbols, "
          f"{len(declared)} NVP_API declarations")
    for sym in sorted(exported):
        print(f"  {sym}@{exported[sym]}")
    if errors:
        for e in errors:
            print("FAIL: " + e, file=sys.stderr)
        sys.exit(1)
    print("every exported symbol is public API and every public function is exported")


if __name__ == "__main__":
    main()
