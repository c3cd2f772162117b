"""The suite's order (tests/conftest.py): the modules of the tests marked `long` come first, each module's tests
together and in their own order, so that under two workers no multi-minute test is started last."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_a_module_with_a_long_test_is_collected_before_the_modules_named_before_it() -> None:
    short, long = "tests/browser/test_headed.py", "tests/packs/sera/test_writes.py"  # test_writes holds a `long` test
    done = subprocess.run([sys.executable, "-m", "pytest", "--collect-only", "-q", "-p", "no:cacheprovider", short,
                           long], capture_output=True, text=True, cwd=ROOT, timeout=120, check=False)  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    ids = [line for line in done.stdout.splitlines() if "::" in line]
    files = [i.split("::")[0] for i in ids]
    first_short = files.index(short)
    assert set(files[:first_short]) == {long} and set(files[first_short:]) == {short}
    writes = [i.split("::")[1] for i in ids if i.startswith(long)]
    source = (ROOT / long).read_text()
    assert writes == sorted(writes, key=lambda name: source.index(f"def {name}("))  # the module's own order
