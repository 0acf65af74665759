"""Run every benchmark script in this folder, one after the other."""

import subprocess
import sys
from pathlib import Path

failed = []
for script in sorted(Path(__file__).parent.glob("*.py")):
    if script.name.startswith("_") or script.name == "results.py":  # results.py runs some of them itself
        continue
    print(f"== {script.stem}", flush=True)
    if subprocess.run([sys.executable, str(script)]).returncode != 0:
        failed.append(script.stem)
sys.exit(f"failed: {', '.join(failed)}" if failed else 0)
