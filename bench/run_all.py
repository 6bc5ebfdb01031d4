"""Run every benchmark in bench/ and print their results (`make bench`).

Each benchmark is a script that measures itself against a baseline in the same run and prints
a JSON object as its last line, with at least "name", "ratio" and "goal".
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent


def main() -> int:
    results = []
    failed = False
    for script in sorted(HERE.glob("*.py")):
        if script.name == "run_all.py" or script.name.startswith("_"):
            continue
        print(f"== {script.name}", flush=True)
        proc = subprocess.run([sys.executable, str(script)], cwd=HERE.parent, capture_output=True, text=True)
        print(proc.stdout, end="")
        if proc.returncode != 0:
            print(proc.stderr[-2000:], file=sys.stderr)
            failed = True
            continue
        for line in reversed(proc.stdout.strip().splitlines()):
            if line.startswith("{"):
                result = json.loads(line)
                result.setdefault("name", script.stem)
                results.append(result)
                break
    print("\nbenchmark                      ratio    goal")
    for r in results:
        print(f"{r.get('name', '?'):<30} {r.get('ratio', float('nan')):>6.2f}  >= {r.get('goal', '?')}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
