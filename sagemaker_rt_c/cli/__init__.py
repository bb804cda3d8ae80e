"""``sagemaker-rt-c`` (also ``python -m sagemaker_rt_c``): the command line.

Commands: ``invoke`` (one call), ``batch`` (a file of records, resumable), ``presign`` (a
presigned URL), ``serve`` (the local endpoint) and ``demo``. ``main(argv)`` parses and runs
one and returns the exit status (``_common`` documents the codes). Nothing in
``sagemaker_rt_c/__init__.py`` imports this package.
"""

import argparse
import sys

from . import _common
from ._common import EXIT_CODES_HELP

__all__ = ["main", "build_parser"]

_DESCRIPTION = """\
Amazon SageMaker Runtime from the command line, through sagemaker_rt_c's client: one
inference (invoke), a file of records with resume after any interruption (batch), a
presigned URL (presign), a local endpoint to try it all without an AWS account (serve,
demo). Credentials and region come from the options, then the environment and the
AWS config files, as boto3 finds them."""

# Each module has HELP (one line), add_parser(commands) and run(args).
_COMMANDS = ("invoke", "batch", "presign", "serve", "demo")


def build_parser(command=None):
    """The parser; only ``command``'s options are defined (all of them when None): building
    ``serve``'s imports the local endpoint (~40 ms), which ``invoke`` has no use for."""
    import importlib

    from .._about import __version__

    parser = argparse.ArgumentParser(
        prog=_common.PROG,
        description=_DESCRIPTION,
        epilog=EXIT_CODES_HELP + "\n\nRun 'sagemaker-rt-c COMMAND --help' for a command's options.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    commands.required = True
    for name in _COMMANDS:
        module = importlib.import_module(f".{name}", __name__)
        if command is None or name == command:
            sub = module.add_parser(commands)
            sub.set_defaults(_run=module.run, _parser=sub)
        else:
            commands.add_parser(name, help=module.HELP)
    return parser


def _command(argv):
    """The command argparse will run: the first argument that is not an option."""
    for arg in argv:
        if not arg.startswith("-"):
            return arg if arg in _COMMANDS else None
    return None


def main(argv=None):
    """Run the command line on ``argv`` (default: ``sys.argv[1:]``); return the exit status."""
    if argv is None:
        argv = sys.argv[1:]
    parser = build_parser(_command(argv))
    try:
        args = parser.parse_args(argv)
    except SystemExit as e:  # --help, --version (0) and usage errors (2)
        return e.code if isinstance(e.code, int) else (0 if e.code is None else 2)
    try:
        return args._run(args)
    except _common.CliError as e:
        e.report(args._parser.prog)
        return e.code
    except KeyboardInterrupt:
        print(f"{_common.PROG}: interrupted", file=sys.stderr)
        return _common.EXIT_INTERRUPTED
    except BrokenPipeError:
        # The reader of stdout went away (| head): no traceback at exit either.
        import os

        try:
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, sys.stdout.fileno())
        except (OSError, ValueError):
            pass
        return _common.EXIT_FAILED
