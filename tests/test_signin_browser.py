"""Sign-in end to end: a real OpenID Connect provider, the real dashboard, real Chromium.

The provider is ``oidc-provider-mock`` (a real OIDC server on Authlib, run on a
loopback port in a thread), with the dashboard registered as a confidential client
and one user per graphguard role carrying a ``roles`` claim, plus one whose claim
maps to no role.  The dashboard is started by the real ``graphguard dashboard``
command (which writes Streamlit's ``[auth]`` secrets), and each user signs in through
the provider's own form in headless Chromium, sees their pages, is audited by name
and role, and signs out.  Screenshots go to ``tests/screenshots/``.
"""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from graphguard.access import Role
from graphguard.neo4j_local import free_port
from tests.browsing import chromium, wait_healthy

pytestmark = [
    pytest.mark.browser,
    # The provider runs in this process; its Authlib calls are its own business.
    pytest.mark.filterwarnings("ignore::DeprecationWarning:authlib.*"),
    pytest.mark.filterwarnings("ignore:authlib.jose module is deprecated"),
    pytest.mark.filterwarnings("ignore:The httpx module is deprecated"),
]

ROOT = Path(__file__).resolve().parents[1]
SHOTS = ROOT / "tests" / "screenshots"

ROLE_MAP = {f"gg-{role.value}": role.value for role in Role}
UNMAPPED = "visitor@elsewhere.example"


def user_of(role: Role) -> str:
    return f"{role.value.replace('_', '.')}@partnership.example"


def expected_pages(role: Role) -> set[str]:
    """The pages a role's row of the matrix gives it (dashboards/menu.py)."""
    sys.path.insert(0, str(ROOT / "dashboards"))
    try:
        from menu import pages_of
    finally:
        sys.path.remove(str(ROOT / "dashboards"))
    return set(pages_of(role))


@pytest.fixture(scope="module")
def provider() -> Iterator[str]:
    """A real OIDC provider on a loopback port, knowing one user per role."""
    from oidc_provider_mock import User, run_server_in_thread

    users = [
        User(
            sub=user_of(role),
            claims={
                "email": user_of(role),
                "name": role.spoken.title(),
                "roles": [f"gg-{role.value}"],
                **({"agency": "education"} if role is Role.PARTNER_PRACTITIONER else {}),
            },
        )
        for role in Role
    ]
    users.append(User(sub=UNMAPPED, claims={"email": UNMAPPED, "roles": ["staff"]}))
    with run_server_in_thread(
        free_port(), require_client_registration=True, user_claims=users
    ) as server:
        yield f"http://localhost:{server.server_port}"


def _register(provider: str, redirect_uri: str) -> tuple[str, str]:
    """Register the dashboard as a confidential client; its id and secret."""
    body = json.dumps({"redirect_uris": [redirect_uri]}).encode()
    request = urllib.request.Request(
        f"{provider}/oauth2/clients", body, {"Content-Type": "application/json"}
    )
    with urllib.request.urlopen(request, timeout=10) as answer:
        client = json.load(answer)
    return client["client_id"], client["client_secret"]


@pytest.fixture(scope="module")
def dashboard(provider: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """``graphguard dashboard`` on the demo town, signing people in with ``provider``."""
    home = tmp_path_factory.mktemp("signin-home")
    port = free_port()
    url = f"http://localhost:{port}"
    client_id, client_secret = _register(provider, f"{url}/oauth2callback")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("NEO4J_", "GRAPHGUARD_"))}
    env.update(
        GRAPHGUARD_HOME=str(home / "state"),
        GRAPHGUARD_DATASET=str(ROOT / "fixtures" / "demo"),
        GRAPHGUARD_OIDC_METADATA_URL=f"{provider}/.well-known/openid-configuration",
        GRAPHGUARD_OIDC_CLIENT_ID=client_id,
        GRAPHGUARD_OIDC_CLIENT_SECRET=client_secret,
        GRAPHGUARD_OIDC_ROLE_MAP=json.dumps(ROLE_MAP),
        PYTHONPATH=str(ROOT),
    )
    with _graphguard_dashboard(env, port, home) as log:
        yield {
            "url": url,
            "audit": home / "state" / "audit.jsonl",
            "log": log,
            "secret": client_secret,
        }


@contextlib.contextmanager
def _graphguard_dashboard(env: dict[str, str], port: int, home: Path) -> Iterator[Path]:
    """The real `graphguard dashboard --headless` command, serving; its log."""
    log = home / "dashboard.log"
    command = [sys.executable, "-m", "graphguard.cli", "dashboard", "--headless"]
    with log.open("wb") as output:
        process = subprocess.Popen(
            [*command, "--port", str(port)],
            env=env,
            cwd=home,
            stdout=output,
            stderr=subprocess.STDOUT,
        )
    try:
        wait_healthy(f"http://127.0.0.1:{port}", process, log)
        yield log
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()



@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    yield from chromium()


@contextlib.contextmanager
def _tab(browser: Any) -> Iterator[Any]:
    """A fresh browser profile: no cookie from another user's sign-in."""
    context = browser.new_context(viewport={"width": 1440, "height": 1000})
    tab = context.new_page()
    tab.set_default_timeout(60_000)
    try:
        yield tab
    finally:
        context.close()


def _settled(tab: Any) -> None:
    tab.wait_for_selector(
        '[data-testid="stApp"][data-test-script-state="notRunning"]', timeout=120_000
    )


def _sign_in(tab: Any, url: str, user: str) -> None:
    """Through the provider's own form, as a person would."""
    tab.goto(url)
    tab.get_by_role("button", name="Sign in").click()
    tab.wait_for_url("**/oauth2/authorize**")
    tab.locator('input[name="sub"]').fill(user)
    tab.get_by_role("button", name="Authorize", exact=True).click()
    tab.wait_for_url(f"{url}/**")


def _text(locator: Any) -> str:
    """What a person reads: without the zero-width spaces that keep an e-mail unlinked."""
    return str(locator.inner_text()).replace("\u200b", "")


def _pages(tab: Any) -> set[str]:
    """The menu's pages.  Streamlit folds a long menu ("View more") and shows none
    when there is only one page: then the one page is the one shown."""
    more = tab.locator('[data-testid="stSidebarNav"] button', has_text="more")
    if more.count():
        more.first.click()
    links = tab.locator('[data-testid="stSidebarNav"] a')
    titles = {text.strip() for text in links.all_inner_texts()}
    if not titles and not tab.get_by_role("button", name="Sign in").count():
        heading = tab.locator('[data-testid="stMain"] h1').first
        return {heading.inner_text().strip()} if heading.count() else set()
    return titles


def _audit(dashboard: dict[str, Any]) -> list[dict[str, Any]]:
    from graphguard.audit import read_audit

    return read_audit(dashboard["audit"])


def test_signed_out_visitor_sees_only_sign_in(browser: Any, dashboard: dict[str, Any]) -> None:
    with _tab(browser) as tab:
        tab.goto(dashboard["url"])
        tab.get_by_role("button", name="Sign in").wait_for()
        _settled(tab)
        SHOTS.mkdir(exist_ok=True)
        tab.screenshot(path=str(SHOTS / "signin-signed-out.png"))
        assert _pages(tab) == set()
        body = tab.locator("body").inner_text()
        assert "Overview" not in body and "young" not in body.lower()


@pytest.mark.parametrize("role", list(Role))
def test_each_role_signs_in_sees_its_pages_and_signs_out(
    browser: Any, dashboard: dict[str, Any], role: Role
) -> None:
    user = user_of(role)
    url = dashboard["url"]
    with _tab(browser) as tab:
        _sign_in(tab, url, user)
        tab.get_by_role("button", name="Sign out").wait_for()
        _settled(tab)
        shown = _pages(tab)
        if "Overview" in shown:  # drawn, not its loading placeholders
            tab.get_by_role("heading", name="Overview", exact=True).wait_for()
            _settled(tab)
            tab.wait_for_function("!document.querySelector('[data-testid=\"stSkeleton\"]')")
        tab.screenshot(path=str(SHOTS / f"signin-{role.value}.png"))
        sidebar = _text(tab.locator('[data-testid="stSidebar"]'))
        assert f"Signed in as {user} ({role.spoken}" in sidebar
        assert "Local single-user mode" not in _text(tab.locator("body"))
        lines = [x for x in _audit(dashboard) if x["user"] == user]
        assert [(x["event"], x["role"], x["via"]) for x in lines][:1] == [
            ("sign in", role.value, "oidc")
        ]
        assert all(x["role"] == role.value for x in lines)

        tab.get_by_role("button", name="Sign out").click()
        tab.get_by_role("button", name="End session").click()  # the provider's own page
        tab.get_by_role("button", name="Sign in").wait_for()
        assert not tab.get_by_text("Signed in as").count()
        events = [x["event"] for x in _audit(dashboard) if x["user"] == user]
        assert events[-1] == "sign out"
        tab.goto(url)  # the sign-in cookie is gone: a reload asks again
        tab.get_by_role("button", name="Sign in").wait_for()
    assert shown == expected_pages(role)


def test_user_with_no_mapped_role_is_refused(browser: Any, dashboard: dict[str, Any]) -> None:
    with _tab(browser) as tab:
        _sign_in(tab, dashboard["url"], UNMAPPED)
        tab.get_by_text("has no graphguard role", exact=False).wait_for()
        _settled(tab)
        tab.screenshot(path=str(SHOTS / "signin-refused.png"))
        assert not tab.locator('[data-testid="stSidebarNav"] a').count()  # no menu at all
        assert "Overview" not in tab.locator("body").inner_text()
    refusals = [x for x in _audit(dashboard) if x["user"] == UNMAPPED]
    assert [(x["event"], x["action"], x["role"]) for x in refusals] == [
        ("refused", "sign in", None)
    ]


def test_the_client_secret_stays_out_of_the_log_and_the_audit(dashboard: dict[str, Any]) -> None:
    secret = dashboard["secret"]
    assert secret not in dashboard["log"].read_text(errors="replace")
    audit_text = dashboard["audit"].read_text() if dashboard["audit"].exists() else ""
    assert secret not in audit_text


def test_local_mode_says_so_on_every_page(
    browser: Any, tmp_path_factory: pytest.TempPathFactory
) -> None:
    """The README's `graphguard dashboard`, no identity provider: the banner on each page."""
    from graphguard.audit import acting_user

    home = tmp_path_factory.mktemp("local-home")
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("NEO4J_", "GRAPHGUARD_"))}
    env.update(
        GRAPHGUARD_HOME=str(home / "state"), GRAPHGUARD_ROLE="disruption_team", PYTHONPATH=str(ROOT)
    )
    banner = f"Local single-user mode: you are {acting_user()} (disruption team); no sign-in"
    with _graphguard_dashboard(env, port, home), _tab(browser) as tab:
        for path, heading in (("", "Overview"), ("hubs", "Hubs"), ("timeline", "Timeline")):
            tab.goto(f"{url}/{path}")
            tab.get_by_role("heading", name=heading, exact=True).first.wait_for()
            _settled(tab)
            assert banner in _text(tab.locator('[data-testid="stMain"]')), path
            assert not tab.get_by_role("button", name="Sign in").count()
            if path == "hubs":
                tab.screenshot(path=str(SHOTS / "signin-local-mode.png"))
