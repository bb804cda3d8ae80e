"""``python -m sagemaker_rt_c``: the ``sagemaker-rt-c`` command line."""

import sys

from .cli import main

if __name__ == "__main__":
    sys.exit(main())
