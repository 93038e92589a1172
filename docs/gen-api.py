#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""Generate the API reference (docs/api/*.md) from the public headers.

  docs/gen-api.py            rewrite docs/api/ from include/nvpoll/*.h
  docs/gen-api.py --check    exit 1 (with a diff) if docs/api/ is stale
  docs/gen-api.py --out DIR  write into DIR instead of docs/api/

The headers carry kernel-doc comments (/** name() - summary, @param: ...,
Return: ...), each followed by the declaration it documents. This script
needs only the Python standard library, so the reference can be rebuilt and
checked anywhere the library builds. The reference is committed, so it can
be read on the web without building anything; ctest runs --check so it can
never fall behind the headers.
"""
import argparse
import difflib
import os
import re
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
INCLUDE = os.path.join(ROOT, "include", "nvpoll")
REGENERATE = "python3 docs/gen-api.py"

# Headers rendered in full (every kernel-doc item with its declaration) and
# headers rendered as an index of their types (the wire structures are the
# NVMe spec's; the header itself is the reference for their fields).
FULL = {"nvpoll.h": "nvpoll.md", "emu.h": "emu.md", "zns.h": "zns.md", "pi.h": "pi.md",
        "fabrics.h": "fabrics.md"}
INDEX = {"spec.h": "spec.md", "spec_fabrics.h": "spec_fabrics.md"}

BANNER = re.compile(r"/\* -{20,} \*/\n/\*\s*(.*?)\s*\*/\n/\* -{20,} \*/")
KDOC = re.compile(r"/\*\*(.*?)\*/", re.S)
PLAIN = re.compile(r"^/\*(?!\*)(.*?)\*/", re.S | re.M)
KDOC_TITLE = re.compile(
    r"^(?:(?P<kind>struct|enum|union|typedef)\s+)?(?P<name>[A-Za-z_]\w*)(?P<call>\(\))?"
    r"\s*-\s*(?P<summary>.*)$", re.S)


def comment_lines(body):
    """The text of a /* */ comment, without the leading ' * ' of each line."""
    lines = body.split("\n")
    out = []
    for line in lines:
        line = line.rstrip()
        m = re.match(r"^\s*\*(?: |$)?(.*)$", line)
        out.append(m.group(1) if m else line.strip())
    while out and not out[0].strip():
        out.pop(0)
    while out and not out[-1].strip():
        out.pop()
    return out


def declaration_after(text, pos):
    """The declaration starting at pos: a #define (with continuations), or C
    up to the ';' that ends it at brace depth 0. Returns (decl, end)."""
    m = re.compile(r"\s*").match(text, pos)
    start = m.end()
    if text.startswith("#define", start):
        end = start
        while True:
            nl = text.find("\n", end)
            if nl < 0:
                nl = len(text)
            if not text[end:nl].rstrip().endswith("\\"):
                return text[start:nl], nl
            end = nl + 1
    depth = 0
    i = start
    while i < len(text):
        c = text[i]
        if text.startswith("/*", i):
            i = text.find("*/", i) + 2
            continue
        if c == "{":
            depth += 1
        elif c == "}":
            depth -= 1
        elif c == ";" and depth == 0:
            return text[start:i + 1], i + 1
        i += 1
    return text[start:], len(text)


def tidy_declaration(decl):
    """Functions and typedefs on one line (parameters wrapped one per line
    when long), without the NVP_API export marker; types verbatim."""
    decl = decl.replace("NVP_API ", "")
    if decl.startswith("#define") or re.match(r"(struct|enum|union)\s+\w+\s*\{", decl):
        return decl.expandtabs(8)
    flat = re.sub(r"\s+", " ", decl).replace("( ", "(").replace(" )", ")")
    close = flat.rfind(")")
    if len(flat) <= 80 or close < 0:
        return flat
    # The parameter list is the parenthesis that closes last (for a
    # function-pointer typedef, not the first one).
    depth, open_ = 0, -1
    for i in range(close, -1, -1):
        depth += {")": 1, "(": -1}.get(flat[i], 0)
        if depth == 0:
            open_ = i
            break
    head, inner, tail = flat[:open_], flat[open_ + 1:close], flat[close + 1:]
    pad = " " * (len(head) + 1)
    return head + "(" + (",\n" + pad).join(p.strip() for p in inner.split(",")) + ")" + tail


def anchor(heading):
    """GitHub's anchor for a heading."""
    a = heading.strip().lower()
    a = re.sub(r"[^\w\- ]", "", a)
    return a.replace(" ", "-")


class Item:
    def __init__(self, kind, name, summary, params, body, decl, line):
        self.kind, self.name, self.summary = kind, name, summary
        self.params, self.body, self.decl, self.line = params, body, decl, line

    @property
    def title(self):
        if self.kind == "function":
            return self.name + "()"
        if self.kind in ("struct", "enum", "union", "typedef"):
            return f"{self.kind} {self.name}"
        return self.name


def parse_kdoc(body):
    """(kind, name, summary, [(param, text)], [body lines]) of a kernel-doc
    comment."""
    lines = comment_lines(body)
    if len(lines) == 1 or not lines:
        first, rest = (lines[0] if lines else ""), []
    else:
        first, rest = lines[0], lines[1:]
    # The summary may continue on the next lines up to the first @param or
    # blank line.
    while rest and rest[0].strip() and not rest[0].lstrip().startswith("@"):
        first += " " + rest.pop(0).strip()
    m = KDOC_TITLE.match(first.strip())
    if not m:
        return None
    kind = m.group("kind") or ("function" if m.group("call") else "macro")
    params = []
    while rest and (rest[0].lstrip().startswith("@") or
                    (params and rest[0].startswith((" ", "\t")) and rest[0].strip())):
        line = rest.pop(0)
        pm = re.match(r"^\s*@(\w+|\.\.\.):\s*(.*)$", line)
        if pm:
            params.append([pm.group(1), pm.group(2).strip()])
        else:
            params[-1][1] += " " + line.strip()
    while rest and not rest[0].strip():
        rest.pop(0)
    return kind, m.group("name"), m.group("summary").strip(), params, rest


def parse_header(path):
    """The header's intro and a list of ('section', title) / ('item', Item) /
    ('note', lines, decl) in file order."""
    text = open(path, encoding="utf-8").read()
    events = []
    for m in BANNER.finditer(text):
        events.append((m.start(), m.end(), "section", m.group(1)))
    for m in KDOC.finditer(text):
        events.append((m.start(), m.end(), "kdoc", m.group(1)))
    for m in PLAIN.finditer(text):
        if any(s <= m.start() < e for s, e, _, _ in events):
            continue
        events.append((m.start(), m.end(), "plain", m.group(1)))
    events.sort()

    intro = []
    out = []
    consumed = 0
    for start, end, what, body in events:
        if start < consumed:
            continue      # inside a declaration already taken
        line = text.count("\n", 0, start) + 1
        if what == "section":
            out.append(("section", body))
            consumed = end
        elif what == "kdoc":
            parsed = parse_kdoc(body)
            decl, consumed = declaration_after(text, end)
            if parsed is None:
                continue
            kind, name, summary, params, rest = parsed
            out.append(("item", Item(kind, name, summary, params, rest,
                                     tidy_declaration(decl), line)))
        else:
            lines = comment_lines(body)
            if lines and lines[0].startswith("SPDX-License-Identifier"):
                continue
            if not intro and not out and line < 5:
                intro = lines
                consumed = end
                continue
            # A plain comment documents what follows it up to a blank line
            # (a group of #defines, a declaration) or nothing (a note).
            following = text[end:]
            m = re.match(r"[ \t]*\n((?:[^\n]+\n)*)", following)
            decl = ""
            if m and m.group(1).strip() and not m.group(1).lstrip().startswith(("/*", "#endif", "#ifdef", "}")):
                block = m.group(1)
                if re.match(r"\s*(struct|enum|union)\b[^;]*\{", block):
                    block, _ = declaration_after(text, end)
                decl = block.rstrip()
            consumed = end + (len(m.group(0)) if decl and m else 0)
            out.append(("note", lines, decl, line))
    return intro, out


def escape(s):
    """Markdown-escape prose outside `code`: a lone * would start emphasis."""
    parts = s.split("`")
    for i in range(0, len(parts), 2):
        parts[i] = parts[i].replace("*", "\\*").replace("<", "&lt;")
    return "`".join(parts)


def linkify(s, known, here):
    """Escape prose, turn name() references into links to their entries and
    @param into emphasis."""
    def fn(m):
        name = m.group(1)
        if name in known:
            page = known[name]
            target = "" if page == here else page
            return f"[{name}()]({target}#{anchor(name + '()')})"
        return m.group(0)
    s = escape(s)
    s = re.sub(r"(?<![\w`\[])(\w+)\(\)", fn, s)
    s = re.sub(r"(?<![\w`])@(\w+)", r"*\1*", s)
    return s


def render_text(lines, known, here):
    """Kernel-doc prose to Markdown: paragraphs, '- ' lists (continuation
    lines indented past the bullet stay in the item), 'Return:'."""
    out = []
    bullet_indent = None     # indent of the list item being continued
    for line in lines:
        stripped = line.strip()
        indent = len(line) - len(line.lstrip())
        if not stripped:
            out.append("")
            bullet_indent = None
            continue
        text = linkify(stripped, known, here)
        if stripped.startswith("Return:"):
            if out and out[-1]:
                out.append("")
            out.append("**Return:**" + text[len("Return:"):])
            bullet_indent = None
        elif stripped.startswith("- "):
            nested = bullet_indent is not None and indent > bullet_indent
            if bullet_indent is None and out and out[-1]:
                out.append("")     # a list must not run into a paragraph
            out.append(("  " if nested else "") + text)
            if not nested:
                bullet_indent = indent
        elif bullet_indent is not None and indent > bullet_indent:
            out.append("  " + text)
        else:
            bullet_indent = None
            out.append(text)
    return out


def render_full(header, intro, entries, known, here):
    md = [f"# {header}", "",
          f"<!-- Generated by docs/gen-api.py from include/nvpoll/{header}; "
          f"do not edit. Regenerate: {REGENERATE} -->", ""]
    md += render_text(intro[1:] if intro and intro[0].startswith("nvpoll/") else intro,
                      known, here)
    md.append("")
    # Table of contents by section.
    md.append("## Contents")
    md.append("")
    section = None
    for e in entries:
        if e[0] == "section":
            section = e[1]
            md.append(f"- [{section}](#{anchor(section)})")
        elif e[0] == "item":
            it = e[1]
            bullet = "  - " if section else "- "
            summary = re.sub(r"@(\w+)", r"*\1*", escape(it.summary))
            md.append(f"{bullet}[{it.title}](#{anchor(it.title)}) — {summary}")
    md.append("")
    for e in entries:
        if e[0] == "section":
            md += [f"## {e[1]}", ""]
        elif e[0] == "note":
            _, lines, decl, line = e
            if len(lines) > 2:
                md += ["```text"] + lines + ["```", ""]
            else:
                md += render_text(lines, known, here) + [""]
            if decl:
                md += ["```c", decl.expandtabs(8), "```", ""]
        else:
            it = e[1]
            md += [f"### {it.title}", "",
                   linkify(it.summary[0].upper() + it.summary[1:], known, here), "",
                   "```c", it.decl, "```", ""]
            if it.params:
                label = {"function": "Parameters", "typedef": "Parameters",
                         "enum": "Values"}.get(it.kind, "Members")
                md += [f"**{label}:**", ""]
                for name, desc in it.params:
                    md.append(f"- `{name}`: {linkify(desc, known, here)}")
                md.append("")
            if it.body:
                md += render_text(it.body, known, here) + [""]
            md += [f"<sub>[include/nvpoll/{header}:{it.line}]"
                   f"(../../include/nvpoll/{header}#L{it.line})</sub>", ""]
    return "\n".join(line.rstrip() for line in md).rstrip() + "\n"


def declared_names(decl):
    """Types and macros a code block declares, for the index."""
    names = []
    for m in re.finditer(r"^(struct|enum|union)\s+(\w+)\s*\{", decl, re.M):
        names.append(f"{m.group(1)} {m.group(2)}")
    for m in re.finditer(r"^#define\s+(\w+)(\()?", decl, re.M):
        names.append(m.group(1) + ("()" if m.group(2) else ""))
    for m in re.finditer(r"^typedef\b.*?(\w+)\s*;", decl, re.M):
        names.append(m.group(1))
    for m in re.finditer(r"^static inline\b[^(]*?(\w+)\(", decl, re.M):
        names.append(m.group(1) + "()")
    return names


def source_link(header, line):
    return f"[{line}](../../include/nvpoll/{header}#L{line})"


def render_index(header, intro, entries):
    md = [f"# {header}", "",
          f"<!-- Generated by docs/gen-api.py from include/nvpoll/{header}; "
          f"do not edit. Regenerate: {REGENERATE} -->", ""]
    md += [line.strip() for line in (intro[1:] if intro and intro[0].startswith("nvpoll/")
                                     else intro)]
    md += ["", "This page indexes the header; the field-by-field layout is in "
           f"[include/nvpoll/{header}](../../include/nvpoll/{header}), "
           "where each structure carries a static assertion on its size and key offsets.", ""]
    for e in entries:
        if e[0] == "section":
            md += ["", f"## {e[1]}", "", "| Declares | What | Line |", "|---|---|---|"]
        elif e[0] == "note":
            _, lines, decl, line = e
            names = declared_names(decl)
            if not names:
                continue
            what = " ".join(s.strip() for s in lines).replace("|", "\\|")
            shown = ", ".join(f"`{n}`" for n in names[:6])
            if len(names) > 6:
                shown += f" and {len(names) - 6} more"
            md.append(f"| {shown} | {what} | {source_link(header, line)} |")
        elif e[0] == "item":
            it = e[1]
            md.append(f"| `{it.title}` | {it.summary} | {source_link(header, it.line)} |")
    return "\n".join(line.rstrip() for line in md).rstrip() + "\n"


def generate():
    """{file name: content} for docs/api/."""
    parsed = {h: parse_header(os.path.join(INCLUDE, h))
              for h in sorted(set(FULL) | set(INDEX))
              if os.path.exists(os.path.join(INCLUDE, h))}
    known = {}
    for h, page in FULL.items():
        if h in parsed:
            for e in parsed[h][1]:
                if e[0] == "item" and e[1].kind == "function":
                    known[e[1].name] = page
    pages = {}
    for h, (intro, entries) in parsed.items():
        if h in FULL:
            pages[FULL[h]] = render_full(h, intro, entries, known, FULL[h])
        else:
            pages[INDEX[h]] = render_index(h, intro, entries)
    undocumented = sorted(set(INDEX) | set(FULL))
    unknown = sorted(f for f in os.listdir(INCLUDE) if f.endswith(".h") and f not in undocumented)
    for f in unknown:
        print(f"warning: include/nvpoll/{f} is not in docs/gen-api.py's FULL or INDEX",
              file=sys.stderr)
    return pages


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", default=os.path.join(ROOT, "docs", "api"),
                    help="output directory (default docs/api)")
    ap.add_argument("--check", action="store_true",
                    help="compare with the output directory instead of writing")
    args = ap.parse_args()
    pages = generate()
    if args.check:
        stale = False
        for name, content in sorted(pages.items()):
            path = os.path.join(args.out, name)
            old = open(path, encoding="utf-8").read() if os.path.exists(path) else ""
            if old != content:
                stale = True
                sys.stdout.writelines(difflib.unified_diff(
                    old.splitlines(True), content.splitlines(True),
                    f"docs/api/{name} (committed)", f"docs/api/{name} (from headers)"))
        if stale:
            print(f"\ndocs/api is out of date with include/nvpoll/*.h. Regenerate it "
                  f"from the source tree with:\n    {REGENERATE}\nand commit the result.",
                  file=sys.stderr)
            return 1
        print(f"docs/api is up to date ({', '.join(sorted(pages))})")
        return 0
    os.makedirs(args.out, exist_ok=True)
    for name, content in sorted(pages.items()):
        with open(os.path.join(args.out, name), "w", encoding="utf-8") as f:
            f.write(content)
        print(f"wrote {os.path.relpath(os.path.join(args.out, name), ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
