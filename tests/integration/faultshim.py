"""The test side of the fault-injection shim (tests/fault/shim.c, control block layout in
tests/fault/faultctl.h): a file mapped shared by the test and by every process started with
LD_PRELOAD=libcoffer_fault.so and COFFER_FAULT_CTL=<file>. Arming and counting go through
aligned 64-bit loads and stores (ctypes over the mapping), so nothing restarts between fault
points and the server's threads never take a lock."""

import ctypes
import mmap
import os
from pathlib import Path

from conftest import REPO

CLASSES = ("write", "sync", "rename", "mkdir", "unlink", "trunc", "create")
KINDS = {"ENOSPC": 1, "EIO": 2, "short": 3}
# What the log must say for each kind (a short write is followed by ENOSPC).
STRERROR = {"ENOSPC": "No space left on device", "EIO": "Input/output error",
            "short": "No space left on device"}

MAGIC = 0x544C4643 | (1 << 32)
PREFIX_LEN = 256
SLOT_OFF = 8 + PREFIX_LEN
SLOT_WORDS = ("calls", "fail_at", "repeat", "kind", "fired")
SLOT_SIZE = 8 * len(SLOT_WORDS)
LAST_PATH_OFF = SLOT_OFF + SLOT_SIZE * len(CLASSES)
SIZE = LAST_PATH_OFF + PREFIX_LEN


def shim_path():
    """The built shim: COFFER_FAULT_SHIM (set by meson), else next to the default build."""
    p = os.environ.get("COFFER_FAULT_SHIM")
    if p:
        return p
    return str(REPO / "build" / "tests" / "fault" / "libcoffer_fault.so")


class FaultCtl:
    """One control block. prefix: only files under it count (the data dir and key file)."""

    def __init__(self, path, prefix):
        self.path = Path(path)
        data = bytearray(SIZE)
        data[0:8] = MAGIC.to_bytes(8, "little")
        p = str(prefix).encode()
        assert len(p) < PREFIX_LEN
        data[8:8 + len(p)] = p
        self.path.write_bytes(bytes(data))
        self._fd = os.open(self.path, os.O_RDWR)
        self._mm = mmap.mmap(self._fd, SIZE, mmap.MAP_SHARED)
        self._words = {}
        for i, cls in enumerate(CLASSES):
            for j, w in enumerate(SLOT_WORDS):
                off = SLOT_OFF + i * SLOT_SIZE + 8 * j
                self._words[cls, w] = ctypes.c_uint64.from_buffer(self._mm, off)

    def env(self):
        """Environment entries that put a process under this block."""
        return {"LD_PRELOAD": shim_path(), "COFFER_FAULT_CTL": str(self.path)}

    def calls(self, cls):
        return self._words[cls, "calls"].value

    def fired(self, cls):
        return self._words[cls, "fired"].value

    def counts(self):
        return {c: self.calls(c) for c in CLASSES}

    def last_path(self):
        raw = self._mm[LAST_PATH_OFF:LAST_PATH_OFF + PREFIX_LEN]
        return raw.split(b"\0", 1)[0].decode(errors="replace")

    def arm(self, cls, nth, kind, repeat=1):
        """Fail the nth call of cls from now (1 = the next one) with kind; repeat calls in a row.
        A short write needs repeat >= 2: half the bytes, then ENOSPC on the retry."""
        if kind == "short":
            repeat = max(repeat, 2)
        w = self._words
        w[cls, "fail_at"].value = 0
        w[cls, "kind"].value = KINDS[kind]
        w[cls, "repeat"].value = repeat
        w[cls, "fail_at"].value = self.calls(cls) + nth

    def disarm(self, cls):
        self._words[cls, "fail_at"].value = 0

    def disarm_all(self):
        for c in CLASSES:
            self.disarm(c)
