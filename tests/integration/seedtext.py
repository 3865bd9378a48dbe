"""The seeds: the blog posts and guides whose commands the test_seed_*.py tests replay.

A seed lives in the shared seed directory next to the repository
(<repo>/../shared/seeds/NNN_<hash>.txt); what a test runs from it (a script, a shell
session) is also vendored under tests/integration/seeds/, because CI machines may
not have ../shared/. seed_source() decides which one a test runs:

- the shared seed exists: the text is extracted from it, and the vendored copy must be
  identical to it (the test fails otherwise, so the copy cannot drift);
- it does not: the vendored copy is used. The test runs either way; it never skips.
"""

import shlex
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
SHARED_SEEDS = REPO.parent / "shared" / "seeds"
VENDORED = HERE / "seeds"


def shared_seed(number):
    """The shared seed NNN_*.txt, or None when this machine has none."""
    found = sorted(SHARED_SEEDS.glob(f"{number}_*.txt")) if SHARED_SEEDS.is_dir() else []
    assert len(found) <= 1, found
    return found[0] if found else None


def seed_source(number, vendored_name, extract):
    """What the test runs: extract(seed text) when the shared seed exists (asserting that
    tests/integration/seeds/<vendored_name> is identical), else the vendored copy."""
    vendored = (VENDORED / vendored_name).read_text(encoding="utf-8")
    seed = shared_seed(number)
    if seed is None:
        return vendored
    extracted = extract(seed.read_text(encoding="utf-8"))
    assert vendored == extracted, (
        f"tests/integration/seeds/{vendored_name} differs from what {seed} contains; "
        f"update the vendored copy from the seed")
    return extracted


def section(text, heading, next_heading=None):
    """The text from the markdown heading line `heading` up to `next_heading` (or the end)."""
    start = text.index(f"\n{heading}\n")
    end = text.index(f"\n{next_heading}\n", start) if next_heading else len(text)
    return text[start:end]


def fenced_file(text, name, lang):
    """The code block that follows 'File: `name`', with a final newline."""
    start = text.index(f"```{lang}\n", text.index(f"File: `{name}`")) + len(f"```{lang}\n")
    return text[start:text.index("\n```", start)] + "\n"


def fenced_blocks(text, lang="bash"):
    """The contents of every ```lang block in text, joined by newlines (one session)."""
    blocks, pos = [], 0
    while (start := text.find(f"```{lang}\n", pos)) >= 0:
        start += len(f"```{lang}\n")
        end = text.index("\n```", start)
        blocks.append(text[start:end])
        pos = end + 4
    return "\n".join(blocks) + "\n"


def _complete(cmd):
    """Whether a shell command is complete: no trailing backslash, no open quote."""
    if cmd.endswith("\\"):
        return False
    try:
        shlex.split(cmd)
    except ValueError:
        return False
    return True


def session(text, prompt="$ "):
    """Splits a shell session into (command, output lines): a line starting with prompt
    starts a command, which goes on while it ends in a backslash or has an open quote;
    the lines after it up to the next prompt are its output."""
    steps, lines, i = [], text.splitlines(), 0
    while i < len(lines):
        if not lines[i].startswith(prompt):
            i += 1
            continue
        cmd = lines[i][len(prompt):]
        i += 1
        while not _complete(cmd) and i < len(lines):
            cmd += "\n" + lines[i]
            i += 1
        out = []
        while i < len(lines) and not lines[i].startswith(prompt):
            out.append(lines[i])
            i += 1
        steps.append((cmd, out))
    return steps


def prompt_lines(text, prompt="$ "):
    """Only the prompted lines of a plain-text guide and their backslash continuations,
    one logical command per step, joined by newlines (the guide's commands, verbatim)."""
    out, lines, i = [], text.splitlines(), 0
    while i < len(lines):
        if lines[i].startswith(prompt):
            cmd = [lines[i]]
            while cmd[-1].endswith("\\") and i + 1 < len(lines):
                i += 1
                cmd.append(lines[i])
            out.append("\n".join(cmd))
        i += 1
    return "\n".join(out) + "\n"
