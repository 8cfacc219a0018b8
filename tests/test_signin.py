"""Sign-in configuration, local single-user mode, and the dashboard's gate (AppTest).

The real sign-in, through a real OpenID Connect provider in a real browser, is in
``tests/test_signin_browser.py``; here AppTest's ``user`` stands in for ``st.user``.
"""

from __future__ import annotations

import json
import os
import stat
import tomllib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from streamlit.testing.v1 import AppTest

from graphguard import access
from graphguard.audit import read_audit
from graphguard.cli import main
from graphguard.errors import RefusedError, UsageError
from graphguard.settings import Settings, get_settings
from graphguard.signin import (
    COOKIE_SECRET_FILE,
    SECRETS_FILE,
    check_local_address,
    sign_in,
    write_streamlit_secrets,
)

ROOT = Path(__file__).resolve().parents[1]
APP = ROOT / "dashboards" / "app.py"
DEMO = ROOT / "fixtures" / "demo"
ROLE_MAP = {f"gg-{role.value}": role.value for role in access.Role}
PROVIDER = {
    "GRAPHGUARD_OIDC_METADATA_URL": "http://127.0.0.1:9/.well-known/openid-configuration",
    "GRAPHGUARD_OIDC_CLIENT_ID": "graphguard-dashboard",
    "GRAPHGUARD_OIDC_CLIENT_SECRET": "client-secret-never-shown",
    "GRAPHGUARD_OIDC_ROLE_MAP": json.dumps(ROLE_MAP),
}


@pytest.fixture
def provider(home: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """Sign-in configured (an identity provider nobody needs to reach here)."""
    for name, value in PROVIDER.items():
        monkeypatch.setenv(name, value)
    get_settings.cache_clear()
    yield home
    get_settings.cache_clear()


def _settings(**values: Any) -> Settings:
    return Settings(**values)


# ------------------------------------------------------------------------ configuration


def test_no_provider_is_local_mode(home: Path) -> None:
    assert sign_in(get_settings()) is None


@pytest.mark.parametrize(
    ("missing", "named"),
    [
        ("GRAPHGUARD_OIDC_CLIENT_ID", "GRAPHGUARD_OIDC_CLIENT_ID"),
        ("GRAPHGUARD_OIDC_CLIENT_SECRET", "GRAPHGUARD_OIDC_CLIENT_SECRET"),
        ("GRAPHGUARD_OIDC_ROLE_MAP", "GRAPHGUARD_OIDC_ROLE_MAP"),
    ],
)
def test_incomplete_sign_in_is_one_line_naming_the_setting(
    provider: Path, monkeypatch: pytest.MonkeyPatch, missing: str, named: str
) -> None:
    monkeypatch.delenv(missing)
    get_settings.cache_clear()
    with pytest.raises(UsageError, match=named) as caught:
        sign_in(get_settings())
    assert "\n" not in str(caught.value)


def test_redirect_uri_must_be_the_callback(provider: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GRAPHGUARD_OIDC_REDIRECT_URI", "https://graphguard.example/")
    get_settings.cache_clear()
    with pytest.raises(UsageError, match="/oauth2callback"):
        sign_in(get_settings())


def test_secrets_file_is_private_and_says_what_settings_say(provider: Path) -> None:
    config = sign_in(get_settings(), port=8765)
    assert config is not None
    path = write_streamlit_secrets(config, get_settings())
    assert path == provider / SECRETS_FILE
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    auth = tomllib.loads(path.read_text())["auth"]
    assert auth["client_id"] == "graphguard-dashboard"
    assert auth["client_secret"] == "client-secret-never-shown"
    assert auth["server_metadata_url"] == PROVIDER["GRAPHGUARD_OIDC_METADATA_URL"]
    assert auth["redirect_uri"] == "http://localhost:8765/oauth2callback"
    assert auth["client_kwargs"] == {"scope": "openid profile email"}
    assert len(auth["cookie_secret"]) >= 64
    assert "client-secret-never-shown" not in repr(config)


def test_generated_cookie_secret_is_kept_between_starts(provider: Path) -> None:
    first = sign_in(get_settings())
    second = sign_in(get_settings())
    assert first is not None and second is not None
    assert first.cookie_secret == second.cookie_secret
    assert stat.S_IMODE((provider / COOKIE_SECRET_FILE).stat().st_mode) == 0o600


def test_cookie_secret_readable_by_others_is_refused(provider: Path) -> None:
    sign_in(get_settings())
    (provider / COOKIE_SECRET_FILE).chmod(0o644)
    with pytest.raises(RefusedError, match="other users"):
        sign_in(get_settings())


def test_client_secret_from_a_file(
    provider: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    secret = tmp_path / "client-secret"
    secret.write_text("from-the-mounted-file\n")
    monkeypatch.delenv("GRAPHGUARD_OIDC_CLIENT_SECRET")
    monkeypatch.setenv("GRAPHGUARD_OIDC_CLIENT_SECRET_FILE", str(secret))
    get_settings.cache_clear()
    config = sign_in(get_settings())
    assert config is not None and config.client_secret == "from-the-mounted-file"
    secret.unlink()
    with pytest.raises(RefusedError, match=r"CLIENT_SECRET_FILE .* cannot be read"):
        sign_in(get_settings())


@pytest.mark.parametrize("address", ["0.0.0.0", "::", "", "192.168.1.20", "graphguard.example"])
def test_local_mode_refuses_every_address_but_loopback(address: str) -> None:
    with pytest.raises(UsageError, match=r"127\.0\.0\.1 only"):
        check_local_address(address)


@pytest.mark.parametrize("address", ["127.0.0.1", "127.0.0.2", "::1", "localhost"])
def test_local_mode_takes_loopback(address: str) -> None:
    check_local_address(address)


# ------------------------------------------------------------------------------ command


@pytest.fixture
def exec_seen(monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    seen: dict[str, Any] = {}

    def fake_exec(program: str, command: list[str], env: dict[str, str]) -> None:
        seen.update(program=program, command=command, env=env)
        raise SystemExit(0)  # exec never returns

    monkeypatch.setattr(os, "execvpe", fake_exec)
    return seen


def test_local_dashboard_refuses_a_public_address(home: Path, exec_seen: dict[str, Any]) -> None:
    result = CliRunner().invoke(main, ["dashboard", str(DEMO), "--address", "0.0.0.0"])
    assert result.exit_code == 2, result.output
    assert "127.0.0.1 only" in result.output and "Traceback" not in result.output
    assert len(result.output.strip().splitlines()) == 1
    assert not exec_seen  # Streamlit never started


def test_local_dashboard_reads_no_secrets_file(home: Path, exec_seen: dict[str, Any]) -> None:
    result = CliRunner().invoke(main, ["dashboard", str(DEMO), "--headless"])
    assert result.exit_code == 0, result.output
    assert "local single-user mode" in result.output
    files = exec_seen["command"][exec_seen["command"].index("--secrets.files") + 1]
    assert not Path(files).exists()


def test_signed_in_dashboard_gets_its_secrets_file_and_any_address(
    provider: Path, exec_seen: dict[str, Any]
) -> None:
    result = CliRunner().invoke(
        main, ["dashboard", str(DEMO), "--headless", "--address", "0.0.0.0", "--port", "8611"]
    )
    assert result.exit_code == 0, result.output
    command = exec_seen["command"]
    assert command[command.index("--server.address") + 1] == "0.0.0.0"
    secrets_file = Path(command[command.index("--secrets.files") + 1])
    assert secrets_file == provider / SECRETS_FILE
    assert "redirect_uri" in secrets_file.read_text()
    secret = PROVIDER["GRAPHGUARD_OIDC_CLIENT_SECRET"]
    assert secret not in " ".join(command) and secret not in result.output
    assert "GRAPHGUARD_OIDC_CLIENT_SECRET" not in exec_seen["env"]  # only in the file


# ------------------------------------------------------------------------------ the gate


def _app(user: dict[str, Any] | None = None) -> AppTest:
    at = AppTest.from_file(str(APP), default_timeout=120)
    if user is not None:
        at.user = user
    return at.run()


def _signed_in(role: access.Role, email: str = "sam@partnership.example") -> dict[str, Any]:
    return {"is_logged_in": True, "email": email, "roles": [f"gg-{role.value}"]}


def _literal(markdown: str) -> str:
    """Markdown made literal by ``wording.plain`` read back as the text it shows."""
    return markdown.replace("\u200b", "").replace("\\", "")


def _texts(at: AppTest) -> str:
    return _literal(" ".join(str(e.value) for e in (*at.markdown, *at.info, *at.error, *at.title)))


def test_local_mode_says_so_on_every_page(home: Path) -> None:
    at = _app()
    assert not at.exception
    user = access.cli_identity().user
    expected = f"Local single-user mode: you are {user} (analyst); no sign-in"
    assert [_literal(i.value) for i in at.info][:1] == [expected]
    for page in ("hubs", "timeline", "cypher"):
        at.switch_page(f"views/{page}.py")
        at.run()
        assert not at.exception
        assert expected in [_literal(i.value) for i in at.info], page


def test_local_mode_banner_names_the_settings_role(
    home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GRAPHGUARD_ROLE", "police_liaison")
    get_settings.cache_clear()
    at = _app()
    assert "(police liaison); no sign-in" in _literal(at.info[0].value)


def test_local_mode_refuses_a_public_server_address(home: Path) -> None:
    from streamlit import config

    config.set_option("server.address", "0.0.0.0")
    try:
        at = _app()
    finally:
        config.set_option("server.address", None)
    assert not at.exception
    assert "serves 127.0.0.1 only" in _literal(at.error[0].value)
    assert not at.info  # no banner, no page
    assert "Overview" not in _texts(at)


def test_signed_out_visitor_sees_only_the_sign_in_button(provider: Path) -> None:
    at = _app()
    assert not at.exception
    assert [b.label for b in at.button] == ["Sign in"]
    assert "Overview" not in _texts(at) and "young" not in _texts(at).lower()
    assert not read_audit(provider / "audit.jsonl")


def test_sign_in_without_streamlit_auth_says_how_to_start(provider: Path) -> None:
    at = _app()
    at.button[0].click()
    at.run()
    assert "start the dashboard with `graphguard dashboard`" in _literal(at.error[0].value)


@pytest.mark.parametrize("role", list(access.Role))
def test_signed_in_user_is_audited_with_their_role(provider: Path, role: access.Role) -> None:
    at = _app(_signed_in(role))
    assert not at.exception
    assert f"Signed in as **sam@partnership.example** ({role.spoken})" in _texts(at)
    sidebar = " ".join(str(e.value) for e in (*at.sidebar.markdown, *at.sidebar.caption))
    assert _literal(sidebar).count("sam@partnership.example") == 1  # the sidebar names them once
    assert "Sign out" in [b.label for b in at.sidebar.button]
    assert not any("Local single-user mode" in i.value for i in at.info)
    lines = [line for line in read_audit(provider / "audit.jsonl") if line["event"] == "sign in"]
    assert [(x["user"], x["role"], x["via"]) for x in lines] == [
        ("sam@partnership.example", role.value, "oidc")
    ]
    at.run()  # a rerun is the same session: signed in once
    assert len([x for x in read_audit(provider / "audit.jsonl") if x["event"] == "sign in"]) == 1


def test_sign_out_is_audited(provider: Path) -> None:
    at = _app(_signed_in(access.Role.DISRUPTION_TEAM))
    next(b for b in at.sidebar.button if b.label == "Sign out").click()
    at.run()
    lines = read_audit(provider / "audit.jsonl")
    events = [(x["event"], x["role"]) for x in lines if x["event"].startswith("sign")]
    assert events == [("sign in", "disruption_team"), ("sign out", "disruption_team")]
    assert lines[-1]["event"] == "sign out"  # nothing shown after it


def test_user_with_no_mapped_role_is_refused_and_audited(provider: Path) -> None:
    at = _app({"is_logged_in": True, "email": "visitor@elsewhere.example", "roles": ["staff"]})
    assert not at.exception
    assert "visitor@elsewhere.example has no graphguard role" in _literal(at.error[0].value)
    assert [b.label for b in at.button] == ["Sign out"]
    assert "Overview" not in _texts(at)
    (line,) = read_audit(provider / "audit.jsonl")
    assert line["event"] == "refused" and line["action"] == "sign in"
    assert (line["user"], line["role"], line["via"]) == ("visitor@elsewhere.example", None, "oidc")


def test_page_audit_lines_name_the_signed_in_user(provider: Path) -> None:
    at = _app(_signed_in(access.Role.ANALYST, "ana@partnership.example"))
    at.switch_page("views/disruption.py")
    at.run()
    assert not at.exception
    lines = read_audit(provider / "audit.jsonl")
    page_lines = [x for x in lines if x["event"] not in ("sign in",)]
    assert page_lines, "the disruption planner audits what it shows"
    assert {(x["user"], x["role"], x["via"]) for x in page_lines} == {
        ("ana@partnership.example", "analyst", "oidc")
    }
