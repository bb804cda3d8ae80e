"""credential_process: botocore's results for working commands, clear bounded failures.

A working command gives the same credentials as botocore's ProcessProvider (same argument
splitting, environment, account id rules, refresh by running it again). A failing one
(status, time limit, output) raises CredentialRetrievalError from custom-process naming the
profile, within the time limit, and never shows the command's output or arguments.
"""

import json
import os
import sys
import textwrap
import time

import botocore.session
import pytest
from credfakes import iso, utc_in, write

from sagemaker_rt_c import exceptions
from sagemaker_rt_c.credentials import _providers
from sagemaker_rt_c.session import Session

SECRET = "processsecretvalue"


def script(tmp_path, body, name="creds.py"):
    path = tmp_path / name
    write(path, textwrap.dedent(body))
    return f"{sys.executable} {path}"


def configure(tmp_path, monkeypatch, command, extra=""):
    write(
        tmp_path / "config",
        f"[profile proc]\ncredential_process = {command}\nregion = eu-west-1\n{extra}",
    )
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "config"))


def outcome(session):
    try:
        creds = session.get_credentials()
        frozen = creds.get_frozen_credentials()
    except Exception as e:
        return ("error", type(e).__name__, str(e))
    return ("ok", creds.method, tuple(frozen), type(creds).__name__)


def both(monkeypatch):
    return (
        outcome(botocore.session.Session(profile="proc")),
        outcome(Session(profile_name="proc")),
    )


GOOD = f"""
    import json, sys
    out = {{"Version": 1, "AccessKeyId": "AKIDPROC", "SecretAccessKey": "{SECRET}",
           "SessionToken": "proctoken"}}
    out.update(json.loads(sys.argv[1]) if len(sys.argv) > 1 else {{}})
    print(json.dumps(out))
"""


@pytest.mark.differential
@pytest.mark.parametrize(
    "extra_output, extra_config",
    [
        ({}, ""),
        ({"AccountId": "111122223333"}, "aws_account_id = 999\n"),
        ({}, "aws_account_id = 444455556666\n"),
        ({"Expiration": iso(utc_in(3600))}, ""),
        ({"SessionToken": None}, ""),
    ],
)
def test_working_command_matches_botocore(tmp_path, monkeypatch, extra_output, extra_config):
    argument = json.dumps(json.dumps(extra_output))
    configure(tmp_path, monkeypatch, f"{script(tmp_path, GOOD)} {argument}", extra_config)
    theirs, ours = both(monkeypatch)
    assert ours == theirs and ours[0] == "ok"


@pytest.mark.differential
def test_arguments_are_split_like_botocore(tmp_path, monkeypatch):
    body = """
        import json, sys
        print(json.dumps({"Version": 1, "AccessKeyId": json.dumps(sys.argv[1:]),
                          "SecretAccessKey": "s"}))
    """
    command = f"{script(tmp_path, body)} \"two words\" 'single' back\\ slash"
    configure(tmp_path, monkeypatch, command)
    theirs, ours = both(monkeypatch)
    assert ours == theirs
    assert json.loads(ours[2][0]) == ["two words", "single", "back slash"]


def test_refresh_runs_the_command_again(tmp_path, monkeypatch):
    body = f"""
        import json, os
        path = {str(tmp_path / "count")!r}
        n = int(open(path).read()) + 1 if os.path.exists(path) else 1
        open(path, "w").write(str(n))
        print(json.dumps({{"Version": 1, "AccessKeyId": f"AKID{{n}}", "SecretAccessKey": "s",
                          "Expiration": {iso(utc_in(300))!r}}}))
    """
    configure(tmp_path, monkeypatch, script(tmp_path, body))
    creds = Session(profile_name="proc").get_credentials()
    assert type(creds).__name__ == "RefreshableCredentials"
    # Five minutes left: every use is in the mandatory window and runs the command again.
    assert creds.get_frozen_credentials().access_key == "AKID2"
    assert creds.get_frozen_credentials().access_key == "AKID3"


def error_of(tmp_path, monkeypatch, command, timeout=None):
    configure(tmp_path, monkeypatch, command)
    if timeout is not None:
        monkeypatch.setattr(_providers.ProcessProvider, "TIMEOUT", timeout)
    with pytest.raises(exceptions.CredentialRetrievalError) as info:
        Session(profile_name="proc").get_credentials()
    text = str(info.value)
    prefix = "Error when retrieving credentials from custom-process: credential_process for "
    assert text.startswith(prefix + 'profile "proc": '), text
    assert SECRET not in text and SECRET not in repr(info.value.__context__)
    assert info.value.__cause__ is None
    return text[len(prefix + 'profile "proc": ') :]


def test_exit_status_with_stderr(tmp_path, monkeypatch):
    body = """
        import sys
        sys.stderr.write("token expired, run login\\n")
        sys.exit(3)
    """
    detail = error_of(tmp_path, monkeypatch, script(tmp_path, body))
    assert detail == "the command exited with status 3: token expired, run login"


@pytest.mark.slow
def test_hanging_command_is_stopped(tmp_path, monkeypatch):
    body = f"""
        import os, time
        open({str(tmp_path / "pid")!r}, "w").write(str(os.getpid()))
        time.sleep(60)
    """
    t0 = time.monotonic()
    detail = error_of(tmp_path, monkeypatch, script(tmp_path, body), timeout=1)
    assert time.monotonic() - t0 < 4
    assert detail == "the command did not finish within 1 seconds and was stopped"
    pid = int((tmp_path / "pid").read_text())
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)


@pytest.mark.slow
def test_hanging_grandchild_holding_the_output(tmp_path, monkeypatch):
    t0 = time.monotonic()
    detail = error_of(tmp_path, monkeypatch, "sh -c 'sleep 30 & sleep 30'", timeout=1)
    assert time.monotonic() - t0 < 5
    assert "did not finish within 1 seconds" in detail


@pytest.mark.parametrize(
    "output, expected",
    [
        (f'{{"Version": 1, "AccessKeyId": "A", "SecretAccessKey": "{SECRET}"', "not valid JSON"),
        (f"AccessKeyId={SECRET}", "not valid JSON"),
        ("", "not valid JSON"),
        (f'["{SECRET}"]', "the output is not a JSON object"),
        (
            f'{{"Version": 2, "AccessKeyId": "A", "SecretAccessKey": "{SECRET}"}}',
            "Unsupported version '2' for credential process provider, supported versions: 1",
        ),
        (
            f'{{"AccessKeyId": "A", "SecretAccessKey": "{SECRET}"}}',
            "Unsupported version '<Version key not provided>' for credential process "
            "provider, supported versions: 1",
        ),
        (
            f'{{"Version": 1, "SecretAccessKey": "{SECRET}"}}',
            "Missing required key in response: 'AccessKeyId'",
        ),
        (
            '{"Version": 1, "AccessKeyId": "A"}',
            "Missing required key in response: 'SecretAccessKey'",
        ),
    ],
)
def test_bad_output(tmp_path, monkeypatch, output, expected):
    body = f"import sys; sys.stdout.write({output!r})"
    detail = error_of(tmp_path, monkeypatch, script(tmp_path, body))
    assert expected in detail


def test_output_not_utf8(tmp_path, monkeypatch):
    body = "import sys; sys.stdout.buffer.write(b'\\xff\\xfe' + b'secret')"
    assert error_of(tmp_path, monkeypatch, script(tmp_path, body)) == "the output is not UTF-8 text"


def test_missing_program_names_it_but_not_its_arguments(tmp_path, monkeypatch):
    command = f"{tmp_path}/no-such-tool --password {SECRET}"
    detail = error_of(tmp_path, monkeypatch, command)
    assert detail == f"'{tmp_path}/no-such-tool' could not be started: No such file or directory"


@pytest.mark.parametrize(
    "command, expected",
    [
        ("tool 'unbalanced", "the command cannot be parsed (No closing quotation)"),
        ("''", "the command is empty"),
        ("   ", "the command is empty"),
    ],
)
def test_unusable_command_lines(tmp_path, monkeypatch, command, expected):
    assert error_of(tmp_path, monkeypatch, command) == expected


@pytest.mark.differential
def test_messages_on_botocores_failures_keep_botocores_wording(tmp_path, monkeypatch):
    body = f"""
        import json
        print(json.dumps({{"Version": 2, "AccessKeyId": "A", "SecretAccessKey": "{SECRET}"}}))
    """
    configure(tmp_path, monkeypatch, script(tmp_path, body))
    theirs, ours = both(monkeypatch)
    assert theirs[1] == ours[1] == "CredentialRetrievalError"
    # Same sentence; ours says which profile's command it was.
    assert ours[2].endswith(theirs[2].split(": ", 1)[1])


def test_not_run_when_an_earlier_provider_wins(tmp_path, monkeypatch):
    body = f"open({str(tmp_path / 'ran')!r}, 'w').write('x')"
    configure(tmp_path, monkeypatch, script(tmp_path, body))
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIDENV")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "s")
    monkeypatch.setenv("AWS_PROFILE", "proc")
    assert Session().get_credentials().method == "env"
    assert not (tmp_path / "ran").exists()
