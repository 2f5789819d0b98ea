"""semiparam works without torch: importing it (and every non-torch layer) loads no torch."""

import subprocess
import sys


def test_import_semiparam_does_not_import_torch():
    code = ("import sys, semiparam, semiparam.links, semiparam.index, semiparam.policy, "
            "semiparam.simulate; print('torch' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True)
    assert out.stdout.strip() == "False"
