"""`make demo` runs `sagemaker-rt-c demo` (sagemaker_rt_c/cli/demo.py); this file only points
there, for whoever looks in demo/ first. The local endpoint it used to carry is the package's
own now: sagemaker_rt_c.local (`sagemaker-rt-c serve`).

    python demo/demo.py [--workdir DIR]     # the same as: sagemaker-rt-c demo [--workdir DIR]
"""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from sagemaker_rt_c.cli import main  # noqa: E402

if __name__ == "__main__":
    sys.exit(main(["demo", *sys.argv[1:]]))
