#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""Check which layer includes what, and what the tools link.

  test/check_layers.py [SOURCE_DIR]   check the tree; exit 1 listing violations
  test/check_layers.py --self-test    check a small tree with known violations;
                                      exit 1 unless every one is reported

The table below is the one in docs/architecture.md ("Layers and what may
include what"); change both together.

Every #include in lib/, include/, tools/ and examples/ is classified by
what it names: a folder of lib/ ("nvme/nvme.h" -> nvme), a public header
(<nvpoll/...> -> nvpoll), nvpoll_sysfs's headers (<nvpoll_sysfs/...>), a
relative path (resolved, then classified the same way), or a header next to
the file (a bare "name.h"). Anything else is a system or third-party header
and is not checked. A folder may include only what its row allows.

The tools' CMakeLists.txt are checked too: no lib/ include directory, and
only the libraries their row allows (the shared nvpoll; nvpoll_sysfs for
nvpoll-setup; the static library only for the fio engine).
"""
import os
import re
import shutil
import sys
import tempfile

# Folders of lib/ (each a layer or a piece of one).
LIB_DIRS = {"api", "dev", "emu", "mem", "nvme", "pci", "sysfs", "tcp", "uio", "util", "vfio"}
PUBLIC = "nvpoll"          # include/nvpoll/*.h
SYSFS_API = "nvpoll_sysfs"  # lib/sysfs/include/nvpoll_sysfs/*.h

# What each folder may include besides system headers and the headers next
# to it. The first matching prefix wins.
ALLOWED = [
    # Public headers: only each other (they are installed alone).
    ("include/nvpoll", {PUBLIC}),
    # nvpoll_sysfs: self-contained, so the tools can link it without the rest.
    ("lib/sysfs", {PUBLIC, SYSFS_API}),
    # The old name of size parsing, kept for lib/emu: it only forwards.
    ("lib/util/size.h", {PUBLIC, SYSFS_API}),
    ("lib/util", {PUBLIC, "util"}),
    ("lib/mem", {PUBLIC, "util", "mem"}),
    ("lib/pci", {PUBLIC, SYSFS_API, "util", "pci"}),
    ("lib/dev", {PUBLIC, SYSFS_API, "util", "pci", "dev"}),
    ("lib/vfio", {PUBLIC, SYSFS_API, "util", "mem", "pci", "dev", "vfio"}),
    ("lib/uio", {PUBLIC, SYSFS_API, "util", "mem", "pci", "dev", "uio"}),
    # The emulated controller sits below the driver, like hardware: it
    # never sees the NVMe layer's types (nor VFIO, uio or PCI).
    ("lib/emu", {PUBLIC, "util", "mem", "dev", "emu"}),
    # The NVMe layer drives any device through lib/dev alone, or a
    # controller over NVMe/TCP through lib/tcp (tcp.c).
    ("lib/nvme", {PUBLIC, "util", "mem", "dev", "nvme", "tcp"}),
    # NVMe/TCP: sockets and PDUs; no device, no DMA memory.
    ("lib/tcp", {PUBLIC, "util", "tcp"}),
    # Public entry points that join layers.
    ("lib/api", {PUBLIC} | LIB_DIRS),
    # Tools: the public API; nvpoll-setup also nvpoll_sysfs.
    ("tools/setup", {PUBLIC, SYSFS_API, "tools/common"}),
    ("tools/bench", {PUBLIC, "tools/common", "tools/perf"}),
    ("tools", {PUBLIC, "tools/common"}),
    ("examples", {PUBLIC}),
]

# Tool folders whose headers other tools use by bare name (a helper library's
# include directory), e.g. nvpoll-overhead and the perf helpers.
SHARED_TOOL_DIRS = ["tools/common", "tools/perf"]

# Headers a tool takes from a third-party tree on its include path.
THIRD_PARTY = {"tools/fio": {"fio.h", "optgroup.h"}}

# Libraries each tool folder may link (target names in its CMakeLists.txt).
TOOL_LIBS = {"nvpoll", "nvpoll_perf_helpers", "nvpoll_setup_helpers"}
TOOL_LIBS_EXTRA = {"tools/setup": {"nvpoll_sysfs"}, "tools/fio": {"nvpoll_static"}}
INTERNAL_LIBS = {"nvpoll_static", "nvpoll_obj", "nvpoll_sysfs", "nvpoll_sysfs_obj"}

INCLUDE_RE = re.compile(r'^\s*#\s*include\s*([<"])([^>"]+)[>"]', re.M)
SOURCE_EXT = (".c", ".h", ".cc", ".cpp")


def rule_for(rel_file):
    """The row for a file: the first whose prefix (a file or a folder) matches."""
    for prefix, allowed in ALLOWED:
        if rel_file == prefix or rel_file.startswith(prefix + "/"):
            return prefix, allowed
    return None, None


def classify(root, rel_file, kind, name):
    """What an include names: a layer, nvpoll, nvpoll_sysfs, a local header,
    tools/common, or None for a system header."""
    here = os.path.dirname(rel_file)
    if name.startswith("."):
        target = os.path.normpath(os.path.join(here, name))
        parts = target.split(os.sep)
        if parts[:2] == ["include", PUBLIC]:
            return PUBLIC
        if parts[:4] == ["lib", "sysfs", "include", SYSFS_API]:
            return SYSFS_API
        if parts[0] == "lib" and len(parts) > 2 and parts[1] in LIB_DIRS:
            return parts[1]
        for d in SHARED_TOOL_DIRS:
            if os.path.dirname(target) == d and d != here:
                return d
        if os.path.dirname(target) == here:
            return "local"
        return "outside:" + target
    first = name.split("/", 1)[0]
    if "/" in name:
        if first == PUBLIC:
            return PUBLIC
        if first == SYSFS_API:
            return SYSFS_API
        if first in LIB_DIRS:
            return first
        return None  # <sys/mman.h>, <linux/vfio.h>, <libmount/libmount.h>
    if kind == '"':
        if os.path.exists(os.path.join(root, here, name)):
            return "local"
        if here.startswith("tools/"):
            for d in SHARED_TOOL_DIRS:
                if os.path.exists(os.path.join(root, d, name)):
                    return d
        for prefix, names in THIRD_PARTY.items():
            if here.startswith(prefix) and name in names:
                return "local"
        return "unknown:" + name
    return None  # <stdio.h>, <cmocka.h>, <pciaccess.h>


def check_includes(root):
    errors = []
    for top in ("include", "lib", "tools", "examples"):
        for dirpath, _, files in os.walk(os.path.join(root, top)):
            for f in sorted(files):
                if not f.endswith(SOURCE_EXT):
                    continue
                path = os.path.join(dirpath, f)
                rel = os.path.relpath(path, root)
                prefix, allowed = rule_for(rel)
                if prefix is None:
                    errors.append(f"{rel}: no row for its folder in the layer table "
                                  "(test/check_layers.py, docs/architecture.md)")
                    continue
                text = open(path, encoding="utf-8", errors="replace").read()
                for m in INCLUDE_RE.finditer(text):
                    kind, name = m.group(1), m.group(2)
                    what = classify(root, rel, kind, name)
                    if what is None or what == "local" or what in allowed:
                        continue
                    line = text.count("\n", 0, m.start()) + 1
                    inc = f"{kind}{name}{'>' if kind == '<' else kind}"
                    if what.startswith("unknown:"):
                        why = "no such header next to it" + \
                              (" or in " + " or ".join(SHARED_TOOL_DIRS)
                               if rel.startswith("tools/") else "")
                    elif what.startswith("outside:"):
                        why = f"a relative path out of its folder ({what[8:]})"
                    else:
                        why = (f"{prefix} may include only "
                               f"{', '.join(sorted(allowed))} (and its own headers)")
                    errors.append(f"{rel}:{line}: #include {inc}: {why}")
    return errors


def cmake_words(text):
    text = re.sub(r"#.*", "", text)  # comments
    return text


def check_tool_cmake(root):
    errors = []
    tools = os.path.join(root, "tools")
    for dirpath, _, files in os.walk(tools):
        if "CMakeLists.txt" not in files:
            continue
        path = os.path.join(dirpath, "CMakeLists.txt")
        rel_dir = os.path.relpath(dirpath, root)
        text = cmake_words(open(path, encoding="utf-8").read())
        rel = os.path.relpath(path, root)
        for m in re.finditer(r"\$\{(?:PROJECT_SOURCE_DIR|CMAKE_SOURCE_DIR)\}/lib\b[^\s)]*", text):
            errors.append(f"{rel}: {m.group(0)}: tools get no lib/ include directory "
                          "(they use <nvpoll/...> and, nvpoll-setup, nvpoll_sysfs)")
        allowed = TOOL_LIBS | TOOL_LIBS_EXTRA.get(rel_dir, set())
        for lib in sorted(INTERNAL_LIBS):
            if re.search(r"(?<![\w:-])" + re.escape(lib) + r"(?![\w-])", text) and lib not in allowed:
                errors.append(f"{rel}: links {lib}: {rel_dir} may link only "
                              f"{', '.join(sorted(allowed))}")
    return errors


def check(root):
    return check_includes(root) + check_tool_cmake(root)


def self_test():
    """A tree with one violation of each kind; every one must be reported."""
    tmp = tempfile.mkdtemp(prefix="nvp-layers.")
    try:
        def put(rel, text):
            path = os.path.join(tmp, rel)
            os.makedirs(os.path.dirname(path), exist_ok=True)
            with open(path, "w", encoding="utf-8") as f:
                f.write(text)

        put("include/nvpoll/nvpoll.h", "#include <stdint.h>\n")
        put("lib/util/log.h", "#include <nvpoll/nvpoll.h>\n")
        put("lib/nvme/ok.c", '#include "nvme/nvme.h"\n#include "dev/device.h"\n#include <sys/mman.h>\n')
        put("lib/nvme/bad.c", '#include "vfio/vfio.h"\n')                  # 1
        put("lib/nvme/rel.c", '#include "../emu/emu.h"\n')                 # 2
        put("lib/emu/bad.c", '#include "nvme/nvme.h"\n')                   # 3
        put("lib/sysfs/bad.c", '#include "util/log.h"\n#include "report.h"\n')  # 4
        put("lib/sysfs/report.h", "\n")
        put("include/nvpoll/bad.h", '#include "util/log.h"\n')             # 5
        put("tools/common/addr.h", "\n")
        put("tools/identify/identify.c",
            '#include <nvpoll/nvpoll.h>\n#include "addr.h"\n#include "pci/pci.h"\n')  # 6
        put("tools/perf/perf.c", '#include <nvpoll_sysfs/pci.h>\n#include "nothere.h"\n')  # 7, 8
        put("tools/setup/setup.c", '#include <nvpoll_sysfs/pci.h>\n')
        put("tools/perf/hist.h", "\n")
        put("tools/bench/overhead.c", '#include "hist.h"\n#include "addr.h"\n')
        put("tools/fio/engine.c", '#include "fio.h"\n#include "hist.h"\n')  # 12
        put("tools/perf/CMakeLists.txt",
            "target_include_directories(x PRIVATE ${PROJECT_SOURCE_DIR}/lib)\n"  # 9
            "target_link_libraries(x PRIVATE nvpoll_static)\n")                   # 10
        put("tools/setup/CMakeLists.txt", "target_link_libraries(s PRIVATE nvpoll_sysfs nvpoll)\n")
        put("lib/newlayer/x.c", "\n")                                       # 11
        expected = [
            "lib/nvme/bad.c:1: #include \"vfio/vfio.h\"",
            "lib/nvme/rel.c:1: #include \"../emu/emu.h\"",
            "lib/emu/bad.c:1: #include \"nvme/nvme.h\"",
            "lib/sysfs/bad.c:1: #include \"util/log.h\"",
            "include/nvpoll/bad.h:1: #include \"util/log.h\"",
            "tools/identify/identify.c:3: #include \"pci/pci.h\"",
            "tools/perf/perf.c:1: #include <nvpoll_sysfs/pci.h>",
            "tools/perf/perf.c:2: #include \"nothere.h\"",
            "tools/perf/CMakeLists.txt: ${PROJECT_SOURCE_DIR}/lib",
            "tools/perf/CMakeLists.txt: links nvpoll_static",
            "lib/newlayer/x.c: no row",
            "tools/fio/engine.c:2: #include \"hist.h\"",
        ]
        errors = check(tmp)
        missing = [e for e in expected if not any(x.startswith(e) for x in errors)]
        extra = [x for x in errors if not any(x.startswith(e) for e in expected)]
        for e in errors:
            print("reported: " + e)
        for e in missing:
            print("FAIL: not reported: " + e, file=sys.stderr)
        for e in extra:
            print("FAIL: reported but allowed: " + e, file=sys.stderr)
        if missing or extra:
            sys.exit(1)
        print(f"self-test: all {len(expected)} violations reported, nothing else")
    finally:
        shutil.rmtree(tmp)


def main():
    if sys.argv[1:] == ["--self-test"]:
        self_test()
        return
    if len(sys.argv) > 2 or (len(sys.argv) == 2 and sys.argv[1].startswith("-")):
        sys.exit(__doc__)
    root = sys.argv[1] if len(sys.argv) == 2 else \
        os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    errors = check(root)
    for e in errors:
        print("FAIL: " + e, file=sys.stderr)
    if errors:
        print(f"{len(errors)} layer violation(s); the table is in docs/architecture.md "
              "(\"Layers and what may include what\")", file=sys.stderr)
        sys.exit(1)
    print("every #include and every tool's link follows the layer table")


if __name__ == "__main__":
    main()
