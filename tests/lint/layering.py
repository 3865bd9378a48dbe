#!/usr/bin/env python3
"""Layering lint (STYLE.md 3.1), from the #include lines of every source file:
- arrows point down only: server -> ops -> object -> storage, crypto; ops and object -> s3;
  server -> upstream -> storage, s3 (the upstream blob backend, chosen by server/main.c);
  everything -> common (a folder may include only itself and the folders below it);
- storage/, crypto/, common/ and s3/ include neither libmicrohttpd nor each other's
  forbidden libraries;
- the include graph between source files has no cycle;
- no ops/ handler file is included by another file (handlers are no library for each other).
Prints every violation and exits 1 if there is any."""
import os
import re
import sys

root = sys.argv[1]
# Which folders each folder may include (itself always).
ALLOWED = {
    "common": set(),
    "crypto": {"common"},
    "storage": {"common"},
    "s3": {"common", "crypto"},
    "upstream": {"common", "crypto", "storage", "s3"},
    "object": {"common", "crypto", "storage", "s3"},
    "ops": {"common", "crypto", "storage", "s3", "object"},
    "server": {"common", "crypto", "storage", "s3", "object", "ops", "upstream"},
}
# Libraries a folder must not use.
FORBIDDEN_LIBS = {
    "common": ["microhttpd", "libxml/", "openssl/", "sqlite3"],
    "crypto": ["microhttpd", "libxml/", "sqlite3"],
    "storage": ["microhttpd", "libxml/", "openssl/"],
    "s3": ["microhttpd", "sqlite3"],
    "object": ["microhttpd", "libxml/"],
    "upstream": ["microhttpd", "sqlite3"],
}

inc_re = re.compile(r'^\s*#\s*include\s*([<"])([^>"]+)[>"]')
files = {}
for d in ALLOWED:
    for dirpath, _, names in os.walk(os.path.join(root, d)):
        for n in names:
            if n.endswith((".c", ".h", ".def")):
                rel = os.path.relpath(os.path.join(dirpath, n), root)
                files[rel] = os.path.join(dirpath, n)

fail = []
graph = {}
for rel, path in sorted(files.items()):
    folder = rel.split("/")[0]
    edges = []
    with open(path, encoding="utf-8", errors="replace") as f:
        for ln, line in enumerate(f, 1):
            m = inc_re.match(line)
            if not m:
                continue
            target = m.group(2)
            if m.group(1) == "<":
                for lib in FORBIDDEN_LIBS.get(folder, []):
                    if target.startswith(lib):
                        fail.append(f"{rel}:{ln}: {folder}/ must not use {lib}")
                continue
            tfolder = target.split("/")[0]
            if tfolder in ALLOWED and tfolder != folder and tfolder not in ALLOWED[folder]:
                fail.append(f"{rel}:{ln}: upward or sideways arrow {folder}/ -> {tfolder}/ "
                            f"({target})")
            if target.endswith(".c"):
                fail.append(f"{rel}:{ln}: includes a .c file ({target})")
            if target in files:
                edges.append(target)
    graph[rel] = edges

# Handler files: ops/*.c that define a handler named in the operation table.
defs = open(os.path.join(root, "ops", "optable.def"), encoding="utf-8").read()
handlers = set(re.findall(r", (ops_[a-z0-9_]+), ops_[a-z_]+\)", defs))
for rel, path in files.items():
    if not (rel.startswith("ops/") and rel.endswith(".c")):
        continue
    text = open(path, encoding="utf-8").read()
    if any(re.search(r"^cof_err %s\(" % h, text, re.M) for h in handlers):
        header = rel[:-2] + ".h"
        for other, edges in graph.items():
            if header in edges and other != rel:
                fail.append(f"{other}: includes handler header {header} "
                            "(shared code belongs in a module below the handlers)")

# Dependencies between implementation files: A.c depends on B.c when A.c uses a function that
# B.c defines, declared in a header A.c includes (directly or through other headers). This sees
# through shared headers such as a folder's internal.h, which a plain include graph would not,
# and it counts only what A.c really uses of a header that declares many things.
decl_re = re.compile(r"^(?:[A-Za-z_][\w \t\*]*?[\s\*])([a-z_][a-z0-9_]*)\s*\(", re.M)
def_re = re.compile(r"^(?!static)(?:[A-Za-z_][\w \t\*]*?[\s\*])([a-z_][a-z0-9_]*)\s*\([^;{]*\)\s*\{",
                    re.M)
noise_re = re.compile(r'/\*.*?\*/|//[^\n]*|"(?:\\.|[^"\\])*"', re.S)
defined_in = {}
for rel, path in files.items():
    if rel.endswith(".c"):
        for name in def_re.findall(open(path, encoding="utf-8").read()):
            defined_in.setdefault(name, set()).add(rel)
declared = {}
for rel, path in files.items():
    if rel.endswith((".h", ".def")):
        declared[rel] = set(decl_re.findall(open(path, encoding="utf-8").read()))
def headers_of(rel, seen):
    for h in graph.get(rel, []):
        if h.endswith(".h") and h not in seen:
            seen.add(h)
            headers_of(h, seen)
    return seen
deps = {}
for rel in files:
    if not rel.endswith(".c"):
        continue
    used = set(re.findall(r"\b([a-z_][a-z0-9_]*)\b",
                          noise_re.sub(" ", open(files[rel], encoding="utf-8").read())))
    deps[rel] = sorted({o for h in headers_of(rel, set()) for n in declared.get(h, ()) & used
                        for o in defined_in.get(n, ())} - {rel})
graph = deps

# Cycle check (iterative DFS over the implementation-file graph).
WHITE, GREY, BLACK = 0, 1, 2
color = {f: WHITE for f in graph}
for start in sorted(graph):
    if color[start] != WHITE:
        continue
    stack = [(start, iter(graph[start]))]
    path = [start]
    color[start] = GREY
    while stack:
        node, it = stack[-1]
        nxt = next(it, None)
        if nxt is None:
            color[node] = BLACK
            stack.pop()
            path.pop()
            continue
        if color.get(nxt, BLACK) == GREY:
            cyc = path[path.index(nxt):] + [nxt]
            fail.append("include cycle: " + " -> ".join(cyc))
        elif color.get(nxt) == WHITE:
            color[nxt] = GREY
            stack.append((nxt, iter(graph[nxt])))
            path.append(nxt)

# Handler files export nothing but their handlers (and stream structs the table names).
for rel, path in files.items():
    if not (rel.startswith("ops/") and rel.endswith(".c")):
        continue
    names = def_re.findall(open(path, encoding="utf-8").read())
    if not any(n in handlers for n in names):
        continue
    for n in names:
        if n not in handlers:
            fail.append(f"{rel}: handler file exports {n}() to other files")

# Known debt, paid down by moving shared code below the handlers: listed violations are
# reported but tolerated; a listed one that is gone must be removed from the list.
debt_path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "layering-debt.txt")
debt = set()
if os.path.exists(debt_path):
    debt = {l.strip() for l in open(debt_path, encoding="utf-8") if l.strip() and not l.startswith("#")}
if "--write-debt" in sys.argv:
    with open(debt_path, "w", encoding="utf-8") as f:
        f.write("# Layering violations still to remove (tests/lint/layering.py). Shrinks only.\n")
        for line in sorted(set(fail)):
            f.write(line + "\n")
    sys.exit(0)
new = sorted(set(fail) - debt)
gone = sorted(debt - set(fail))
for line in new:
    print("layering:", line)
for line in gone:
    print("layering: fixed, remove from layering-debt.txt:", line)
print(f"layering: {len(set(fail) & debt)} known violations left in layering-debt.txt")
if new or gone:
    sys.exit(1)
if not fail:
    print(f"layering: ok ({len(files)} files, "
          f"{sum(len(e) for e in graph.values())} dependencies between .c files, no cycle)")
