"""The live board under production settings: ``DEBUG`` off, collected static files, the
Content-Security-Policy on and secure cookies, in Chromium.

The scenarios are the live board's own (``live_scenarios``, which ``test_board_live`` runs too);
what changes is the board they run against and that every browser context watches its console:
any Content-Security-Policy violation fails the test.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, BrowserContext, ConsoleMessage

from tests.e2e import live_scenarios
from tests.e2e.conftest import Stack, board_environment, start_signaling
from tests.e2e.live_scenarios import OpenBoard
from tests.support.processes import ROOT, BoardProcess, free_port

pytestmark = pytest.mark.webrtc

CSP_WORDS = "Content Security Policy"


def production_environment(database: Path, signaling_port: int, static: Path) -> dict[str, str]:
    return {
        **board_environment(database, signaling_port),
        "DEBUG": "false",
        "ALLOWED_HOSTS": "127.0.0.1",
        "STATIC_ROOT": str(static),
        "SECRET_KEY": "e2e-production-django-secret-key-" + "p" * 40,
    }


@pytest.fixture(scope="module")
def static_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """``collectstatic`` once: with DEBUG off whitenoise serves only collected files."""
    static = tmp_path_factory.mktemp("static")
    env = production_environment(static / "unused.sqlite3", 1, static)
    subprocess.run(
        [sys.executable, "manage.py", "collectstatic", "--noinput", "-v", "0"],
        cwd=ROOT,
        env=env,
        check=True,
        timeout=120,
    )
    return static


@pytest.fixture
def stack(
    seeded_database: tuple[Path, dict[str, Any]], static_root: Path, tmp_path: Path
) -> Iterator[Stack]:
    """As the live board's ``stack``, with the board under production settings."""
    template, seed = seeded_database
    database = tmp_path / "db.sqlite3"
    shutil.copy(template, database)
    board_port = free_port()
    signaling = start_signaling(f"http://127.0.0.1:{board_port}")
    env = production_environment(database, signaling.port, static_root)
    board = BoardProcess(board_port, env, threads=4)
    stack = Stack(board_port=board_port, signaling=signaling, board=board, sprint=seed["sprint"])
    try:
        board.wait_ready()
        yield stack
    finally:
        board.stop()
        stack.signaling.stop()


class ConsoleWatchedBrowser:
    """The browser, with every new context's console watched for policy violations."""

    def __init__(self, browser: Browser) -> None:
        self.browser = browser
        self.violations: list[str] = []

    def new_context(self, **options: Any) -> BrowserContext:
        context = self.browser.new_context(**options)
        context.on("console", self._console)
        return context

    def _console(self, message: ConsoleMessage) -> None:
        if CSP_WORDS in message.text:
            self.violations.append(f"{message.type}: {message.text}")


@pytest.fixture(scope="module")
def browser(browser: Browser) -> ConsoleWatchedBrowser:
    """The suite's browser, watched: this module's scenarios (and ``open_board``) get it."""
    return ConsoleWatchedBrowser(browser)


@pytest.fixture(autouse=True)
def _no_policy_violation(browser: ConsoleWatchedBrowser) -> Iterator[None]:
    browser.violations.clear()
    yield
    assert browser.violations == [], "Content-Security-Policy violations in the console"


def test_the_live_board_is_served_with_the_policy(stack: Stack, open_board: Any) -> None:
    page = open_board("demo")  # live: the signaling websocket is allowed by connect-src
    response = page.request.get(f"{stack.base}/sprints/{stack.sprint}/")
    policy = response.headers["content-security-policy"]
    assert "script-src 'self';" in policy
    assert f"connect-src 'self' {stack.signaling.ws_url};" in policy


def test_an_inline_script_is_refused_and_the_watch_reports_it(
    stack: Stack, open_board: Any, browser: ConsoleWatchedBrowser
) -> None:
    """The watch itself: a violation reaches it (and would fail a scenario)."""
    page = open_board("demo", wait_live=False)
    with page.expect_console_message(lambda message: CSP_WORDS in message.text):
        page.evaluate(
            """() => {
                const script = document.createElement("script");
                script.textContent = "window.inlineRan = true";
                document.head.append(script);
            }"""
        )
    assert page.evaluate("() => window.inlineRan === undefined")
    assert any("inline script" in violation for violation in browser.violations)
    browser.violations.clear()


def test_two_tabs_see_each_others_presence(stack: Stack, open_board: OpenBoard) -> None:
    live_scenarios.presence(stack, open_board)


def test_drag_is_shown_live_then_persisted(stack: Stack, open_board: OpenBoard) -> None:
    live_scenarios.drag_shown_live_then_persisted(stack, open_board)


def test_keyboard_move_reaches_the_other_tab(stack: Stack, open_board: OpenBoard) -> None:
    live_scenarios.keyboard_move_reaches_the_other_tab(stack, open_board)


def test_task_edited_through_the_api_appears_in_both_tabs(
    stack: Stack, open_board: OpenBoard
) -> None:
    live_scenarios.task_edited_through_the_api(stack, open_board)


def test_edit_dialog_saves_and_the_other_tab_follows(stack: Stack, open_board: OpenBoard) -> None:
    live_scenarios.edit_dialog_saves(stack, open_board)
