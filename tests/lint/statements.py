#!/usr/bin/env python3
# storage/ statements (storage/internal.h): every slot of enum sto_q_id is defined by exactly one
# STO_SQL/STO_SQL_UNIQUE in storage/*.c, so no two statements share a prepared-statement slot.
import glob
import re
import sys

root = sys.argv[1]
header = open(f"{root}/storage/internal.h").read()
body = header[header.index("enum sto_q_id"):header.index("STO_Q__COUNT")]
slots = re.findall(r"^\s+STO_Q_(\w+),", body, re.M)
defs = {}
for path in sorted(glob.glob(f"{root}/storage/*.c")):
    for m in re.finditer(r"STO_SQL(?:_UNIQUE)?\(\s*(\w+)\s*,", open(path).read()):
        defs.setdefault(m.group(1), []).append(path)
bad = [f"{s}: defined {len(defs.get(s, []))} times" for s in slots if len(defs.get(s, [])) != 1]
bad += [f"{d}: not a slot of enum sto_q_id" for d in defs if d not in slots]
for line in bad:
    print("statements:", line)
print("statements: ok" if not bad else "statements: FAILED")
sys.exit(1 if bad else 0)
