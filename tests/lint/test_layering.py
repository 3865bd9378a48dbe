#!/usr/bin/env python3
"""Negative cases for layering.py: a tiny tree with one violation each must fail, and a clean
one must pass."""
import os
import subprocess
import sys
import tempfile

LINT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "layering.py")

def tree(files):
    d = tempfile.mkdtemp(prefix="layering-")
    for rel, text in files.items():
        os.makedirs(os.path.join(d, os.path.dirname(rel)), exist_ok=True)
        with open(os.path.join(d, rel), "w") as f:
            f.write(text)
    os.makedirs(os.path.join(d, "ops"), exist_ok=True)
    if "ops/optable.def" not in files:
        open(os.path.join(d, "ops", "optable.def"), "w").write(
            "OP(X, S3, GET, NULL, 0, NULL, NULL, 0, NONE, 0, ops_x, ops_no_stream)\n")
    return d

def run(files):
    d = tree(files)
    # an empty debt list next to a copy of the lint, so the real list is not consulted
    lint = os.path.join(d, "layering.py")
    open(lint, "w").write(open(LINT).read())
    p = subprocess.run([sys.executable, lint, d], capture_output=True, text=True)
    return p.returncode, p.stdout

clean = {
    "s3/a.h": "int s3_a(void);\n",
    "s3/a.c": '#include "s3/a.h"\nint s3_a(void)\n{\n    return 1;\n}\n',
    "ops/x.c": '#include "s3/a.h"\nint ops_x(void)\n{\n    return s3_a();\n}\n',
}
cases = {
    "clean": (clean, 0, "ok"),
    "cycle": ({
        "s3/a.h": "int s3_a(void);\n", "s3/b.h": "int s3_b(void);\n",
        "s3/a.c": '#include "s3/b.h"\nint s3_a(void)\n{\n    return s3_b();\n}\n',
        "s3/b.c": '#include "s3/a.h"\nint s3_b(void)\n{\n    return s3_a();\n}\n',
    }, 1, "cycle: s3/a.c -> s3/b.c -> s3/a.c"),
    "upward": ({
        "ops/o.h": "int ops_o(void);\n",
        "object/p.c": '#include "ops/o.h"\nint obj_p(void)\n{\n    return 0;\n}\n',
    }, 1, "upward or sideways arrow object/ -> ops/"),
    "library": ({"s3/q.c": "#include <microhttpd.h>\n"}, 1, "s3/ must not use microhttpd"),
    "handler exports": (dict(clean, **{
        "ops/x.c": 'int ops_x(void)\n{\n    return 0;\n}\nint ops_helper(void)\n{\n    return 1;\n}\n',
    }), 1, "handler file exports ops_helper()"),
}
failed = 0
for name, (files, want_rc, want_text) in cases.items():
    rc, out = run(files)
    ok = rc == want_rc and want_text in out
    print(("ok  " if ok else "FAIL"), name, "" if ok else f"(rc {rc}): {out.strip()}")
    failed += not ok
print(f"{len(cases) - failed} passed, {failed} failed")
sys.exit(1 if failed else 0)
