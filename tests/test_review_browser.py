"""The review app end to end in a real browser: Debian's headless Chromium driven by
Playwright (Playwright's own browser download is not available here), against the app served
by uvicorn on 127.0.0.1. Open the queue, open a call, play and seek from the timeline, the
transcript and the evidence, override a verdict, reload and see it kept beside the machine's.

Marked ``browser``: ``make test-fast`` leaves them out, ``make test`` and CI run them. CI
installs Debian's ``chromium``; without it these tests fail (they do not skip), so a missing
browser cannot pass unnoticed where they are run.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

import pytest

from review_helpers import (
    AGENT_START,
    FLAC,
    NAME_START,
    NOTICE_START,
    PURPOSE_START,
    QUESTION_START,
    WAV,
    build_out,
)

pytestmark = pytest.mark.browser

CHROMIUM = Path("/usr/bin/chromium")
SEEK_TOLERANCE_S = 0.1  # seconds between the click's target and where the player lands


@pytest.fixture(scope="module")
def server(tmp_path_factory) -> Iterator[tuple[str, Path]]:
    """The app over a fresh OUT, served by uvicorn in a thread. -> (base URL, OUT)."""
    import uvicorn

    from pipeline.review.app import create_app

    out = build_out(tmp_path_factory.mktemp("review_browser"))
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    config = uvicorn.Config(create_app(out), host="127.0.0.1", port=port, log_level="warning")
    srv = uvicorn.Server(config)
    thread = threading.Thread(target=srv.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not srv.started:
        if time.monotonic() > deadline or not thread.is_alive():
            pytest.fail("the review app did not start")
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}", out
    srv.should_exit = True
    thread.join(timeout=10)
    sock.close()


@pytest.fixture(scope="module")
def browser():
    if not CHROMIUM.exists():
        pytest.fail(f"{CHROMIUM} is missing: install Debian's chromium (apt-get install "
                    "chromium); the review app's browser tests need it")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(CHROMIUM), headless=True,
                              args=["--autoplay-policy=no-user-gesture-required"])
        yield b
        b.close()


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    pg = context.new_page()
    pg.set_default_timeout(20_000)
    problems: list[str] = []
    pg.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    pg.on("pageerror", lambda e: problems.append(str(e)))
    pg.problems = problems  # type: ignore[attr-defined]
    yield pg
    context.close()


def _wait_until(page, js: str, arg=None, timeout_s: float = 20.0) -> None:
    """Poll ``js`` (a function expression) until it returns true. ``page.wait_for_function``
    evaluates strings with ``eval``, which the app's Content-Security-Policy rightly blocks;
    ``page.evaluate`` runs through the DevTools protocol and is not affected."""
    deadline = time.monotonic() + timeout_s
    while not page.evaluate(js, arg):
        if time.monotonic() > deadline:
            state = page.evaluate("() => { const a = document.getElementById('player');"
                                  " return [a.readyState, a.currentTime, a.paused, "
                                  "a.error && a.error.message]; }")
            pytest.fail(f"timed out waiting for {js} (arg {arg}); player: {state}")
        time.sleep(0.05)


def _wait_for_metadata(page) -> float:
    _wait_until(page, "() => document.getElementById('player').readyState >= 1")
    return page.evaluate("document.getElementById('player').duration")


def _track_seeks(page) -> None:
    """Record where the player lands after each completed seek (the ``seeked`` event)."""
    page.evaluate("() => { window.__seeks = []; document.getElementById('player')"
                  ".addEventListener('seeked', e => window.__seeks.push(e.target.currentTime));"
                  " }")


def _assert_seeked(page, target: float) -> None:
    """The player completed a seek to ``target`` seconds (it needs range requests for that)."""
    _wait_until(page, "([t, tol]) => window.__seeks.length > 0"
                " && Math.abs(window.__seeks[window.__seeks.length - 1] - t) <= tol",
                [target, SEEK_TOLERANCE_S])
    landed = page.evaluate("() => window.__seeks.splice(0).pop()")
    assert abs(landed - target) <= SEEK_TOLERANCE_S


def test_queue_call_page_play_seek_override_and_reload(server, page):
    base, out = server
    page.goto(base + "/")
    rows = page.locator("table.queue tbody tr")
    assert rows.first.get_attribute("data-file") == FLAC  # the flagged call comes first
    assert page.locator("#count-flagged").inner_text() == "1"
    page.locator("a.call-link", has_text=FLAC).click()
    page.wait_for_url(f"{base}/call/{FLAC}")
    assert page.locator("h1.file").inner_text() == FLAC

    duration = _wait_for_metadata(page)
    assert abs(duration - 53.42) < 0.2
    _track_seeks(page)

    # play: the audio element plays and time advances
    page.evaluate("document.getElementById('player').play()")
    _wait_until(page, "() => document.getElementById('player').currentTime > 0.3")
    page.evaluate("document.getElementById('player').pause()")

    # seek from the evidence highlighted in the transcript
    name_mark = page.locator(".transcript mark.ev-name")
    assert name_mark.inner_text().startswith("Marike van Meijel")
    name_mark.click()
    _assert_seeked(page, NAME_START)
    page.locator(".transcript mark.ev-notice").click()
    _assert_seeked(page, NOTICE_START)
    page.locator(".transcript mark.ev-purpose").click()
    _assert_seeked(page, PURPOSE_START)
    # ... from the role timeline (the agent's first turn)
    page.locator("rect.turn.role-AGENT").first.click()
    _assert_seeked(page, AGENT_START)
    # ... from a transcript segment and an evidence button of a decision
    page.locator("li.seg").nth(4).click()
    _assert_seeked(page, 39.6)
    page.locator("#d-agent_first button.ev-name").click()
    _assert_seeked(page, NAME_START)
    page.evaluate("document.getElementById('player').pause()")

    # override a verdict, with a comment and the reviewer's name
    block = page.locator("#d-notice_before_agent")
    block.locator("select.value").select_option("no")
    assert block.locator("select.action").input_value() == "override"  # set by choosing
    block.locator("input.comment-input").fill("the notice is cut off before the end")
    page.fill("#reviewer", "Ann de Vries")
    page.click("#save")
    page.wait_for_url(f"{base}/call/{FLAC}?saved=1")
    assert "Saved 1 review" in page.locator(".flash.ok").inner_text()

    # reload: the human verdict is kept, next to the machine's
    page.reload()
    block = page.locator("#d-notice_before_agent")
    assert block.locator(".human-value").inner_text() == "no"
    assert block.locator(".machine-value").inner_text() == "yes"
    assert block.locator(".reviewer").inner_text() == "Ann de Vries"
    assert "cut off" in block.locator("q.comment").inner_text()
    assert page.input_value("#reviewer") == "Ann de Vries"  # remembered for the next save

    page.goto(base + "/?state=reviewed")
    assert page.locator("table.queue tbody tr").first.get_attribute("data-file") == FLAC
    assert page.problems == []  # no script errors, no Content-Security-Policy violations


def test_stereo_mulaw_call_plays_and_seeks(server, page):
    base, _ = server
    page.goto(f"{base}/call/{quote(WAV)}")
    duration = _wait_for_metadata(page)
    assert abs(duration - 43.65) < 0.2
    _track_seeks(page)
    page.locator("rect.turn.role-CALLER").first.click()
    _assert_seeked(page, 6.9)
    # a click on the timeline's background seeks proportionally
    box = page.locator("#timeline").bounding_box()
    page.mouse.click(box["x"] + box["width"] * 0.5, box["y"] + box["height"] - 3)
    _assert_seeked(page, duration * 0.5)
    # the caller's question about recording, from its decision's evidence and the transcript
    page.locator("#d-agent_knows_recording button.ev-question").first.click()
    _assert_seeked(page, QUESTION_START)
    page.locator(".transcript mark.ev-caller_notice").first.click()
    _assert_seeked(page, 20.5)
    # several purposes are typed; typing one sets the action to override
    block = page.locator("#d-notice_purpose")
    block.locator("input.value").fill("training;quality")
    block.locator("input.value").dispatch_event("change")
    assert block.locator("select.action").input_value() == "override"
    assert page.problems == []
