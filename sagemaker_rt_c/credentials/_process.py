"""``credential_process``: run the profile's command and read the credentials it prints.

As in botocore, the command line is split with ``shlex`` (no shell), run with the caller's
environment and standard input, and its standard output must be a JSON object with
``Version`` 1, ``AccessKeyId``, ``SecretAccessKey`` and optionally ``SessionToken``,
``Expiration`` and ``AccountId``.

Unlike botocore (which waits forever, and lets ``json``'s exception, holding the output,
escape), every failure is a ``CredentialRetrievalError`` from ``custom-process`` whose message
starts with ``credential_process for profile "<name>":`` and never contains the output:

* the command cannot be started (not found, not executable);
* it runs longer than the time limit: it is killed;
* it exits with a non-zero status (its standard error, trimmed, is in the message, as in
  botocore);
* its output is not UTF-8, not JSON, or not a JSON object;
* ``Version`` is not 1, or a required key is missing (botocore's wording).
"""

__all__ = ["run_credential_process"]

_STDERR_LIMIT = 2000


def _error(provider, profile_name, detail):
    from ..exceptions import CredentialRetrievalError

    return CredentialRetrievalError(
        provider=provider,
        error_msg=f'credential_process for profile "{profile_name}": {detail}',
    )


def _trim(stderr):
    text = stderr.decode("utf-8", "replace").strip()
    if len(text) > _STDERR_LIMIT:
        text = text[:_STDERR_LIMIT] + "..."
    return text


def run_credential_process(command, profile_name, provider, timeout, popen=None):
    """Run ``command`` and return its parsed JSON object (Version and keys checked)."""
    import json
    import shlex
    import subprocess

    if popen is None:
        popen = subprocess.Popen
    try:
        args = shlex.split(command)
    except ValueError as e:
        raise _error(provider, profile_name, f"the command cannot be parsed ({e})") from None
    if not args or not args[0]:
        raise _error(provider, profile_name, "the command is empty")
    try:
        process = popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    except OSError as e:
        # The message names the program only: arguments may hold secrets.
        reason = e.strerror or type(e).__name__
        raise _error(
            provider, profile_name, f"{args[0]!r} could not be started: {reason}"
        ) from None
    try:
        stdout, stderr = process.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        try:
            process.communicate(timeout=1)
        except subprocess.TimeoutExpired:
            # A grandchild still holds the pipes: stop reading them.
            for stream in (process.stdout, process.stderr):
                if stream is not None:
                    stream.close()
            process.wait()
        raise _error(
            provider,
            profile_name,
            f"the command did not finish within {timeout} seconds and was stopped",
        ) from None
    if process.returncode != 0:
        raise _error(
            provider,
            profile_name,
            f"the command exited with status {process.returncode}: {_trim(stderr)}",
        )
    try:
        parsed = json.loads(stdout.decode("utf-8"))
    except UnicodeDecodeError:
        raise _error(provider, profile_name, "the output is not UTF-8 text") from None
    except ValueError as e:
        # json's message has a position, never the document.
        raise _error(provider, profile_name, f"the output is not valid JSON ({e})") from None
    if not isinstance(parsed, dict):
        raise _error(provider, profile_name, "the output is not a JSON object")
    version = parsed.get("Version", "<Version key not provided>")
    if version != 1:
        raise _error(
            provider,
            profile_name,
            f"Unsupported version '{version}' for credential process provider, supported "
            "versions: 1",
        )
    for key in ("AccessKeyId", "SecretAccessKey"):
        if key not in parsed:
            raise _error(provider, profile_name, f"Missing required key in response: '{key}'")
    return parsed
