"""The console in a real browser: Debian's Chromium, driven by Playwright, against the demo.

One flow, in the order the tests run (they share one demo, one browser and the state the
flow builds): an officer signs in with the keyboard alone, writes a bulletin read aloud,
the ward leader approves it, the officer schedules it to one zone; the leader sends an
emergency to the other zone (review, then Confirm from the keyboard) and cancels it while
a second tab's progress view updates by itself; the broadcast page and the dashboard show
the simulated agents confirm the bulletin; the evaluator sees only their ward, is refused
every change, and downloads the report as CSV and PDF. Every page reached is checked with
axe-core and for unlabelled controls, and photographed at 1280 and 390 px
(tests/support/browser.py): docs/screenshots/ with WARDCAST_UPDATE_SCREENSHOTS=1.
"""

from __future__ import annotations

import csv
import io
import json
import re
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, expect, sync_playwright

from tests.support.browser import CHROMIUM, PageCheck, launch_args, new_context, sign_in
from tests.support.demo_process import ROOT, RunningDemo, running_demo

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.integration,
    pytest.mark.timeout(240),
    pytest.mark.skipif(not CHROMIUM.exists(), reason="Debian's chromium is not installed"),
]

WARD, WARD_TZ = "00037", ZoneInfo("Asia/Ho_Chi_Minh")
ZONE, OTHER_ZONE = "ven-song", "pho-co"  # demo-to-001/002 and demo-to-003
ZONE_DEVICES = ("demo-to-001", "demo-to-002")
WAIT_MS = 60_000  # a loaded 2-core machine: conditions, generously
VI = json.loads((ROOT / "controller/console/locales/vi.json").read_text(encoding="utf-8"))
BULLETIN_TITLE = "Lịch tiêm phòng dại cho chó mèo"
BULLETIN_TEXT = "Sáng thứ bảy, tổ dân phố tổ chức tiêm phòng dại cho chó mèo tại nhà văn hóa."
EMERGENCY_HEADLINE = "Diễn tập: nước lên"
# Long enough to be still playing when it is cancelled (espeak-ng: some 25 s).
EMERGENCY_TEXT = (
    "Diễn tập phòng chống lụt bão. Nước sông Hồng đang lên nhanh. Bà con khu phố cổ chú ý "
    "theo dõi thông báo, chuẩn bị di chuyển người già và trẻ em lên tầng cao, kê cao đồ "
    "đạc, ngắt điện khi nước vào nhà. Lực lượng xung kích của phường có mặt tại các điểm "
    "tập kết. Đây là tin diễn tập, xin bà con bình tĩnh làm theo hướng dẫn."
)


def t(key: str) -> str:
    """A console text as a Vietnamese reader sees it (the pages' default language)."""
    text: str = VI[key]
    return text


@dataclass
class Flow:
    """What one test leaves for the next, and the run's page checks."""

    demo: RunningDemo
    browser: Browser
    check: PageCheck
    contexts: dict[str, BrowserContext] = field(default_factory=dict)
    bulletin_id: str = ""
    broadcast_id: str = ""

    def page_as(self, who: str) -> Page:
        """A tab signed in as ``who`` (officer, leader, evaluator, admin), one session each."""
        if who not in self.contexts:
            context = new_context(self.browser, WAIT_MS)
            self.contexts[who] = context
            page = context.new_page()
            names = {"officer": "can-bo", "leader": "chu-tich", "evaluator": "thanh-tra"}
            variable = who.upper()
            sign_in(page, self.demo.base, names.get(who, who), self.demo.password(variable))
            return page
        return self.contexts[who].new_page()

    def url(self, path: str) -> str:
        """The demo's address of a console path."""
        return f"{self.demo.base}{path}"


@pytest.fixture(scope="module")
def flow(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Flow]:
    """One demo, one browser, for the whole module (each takes seconds to start)."""
    started = time.monotonic()
    folder = tmp_path_factory.mktemp("console-browser")
    with running_demo(folder) as demo, sync_playwright() as p:
        browser = p.chromium.launch(**launch_args())
        try:
            yield Flow(demo, browser, PageCheck.for_run(folder))
        finally:
            browser.close()
    print(f"\nconsole browser tests: {time.monotonic() - started:.0f} s with the demo")


def test_sign_in_with_the_keyboard_alone(flow: Flow) -> None:
    context = new_context(flow.browser, WAIT_MS)
    page = context.new_page()
    page.goto(flow.url("/bulletins"))  # not signed in: to sign-in, and back after it
    expect(page).to_have_url(re.compile(r"/login\?next="))
    flow.check(page, "login")
    for _ in range(30):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.id") == "f-username":
            break
    else:
        pytest.fail("Tab never reached the username field")
    page.keyboard.type("can-bo")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.id") == "f-password"
    page.keyboard.type(flow.demo.password("OFFICER"))
    page.keyboard.press("Enter")
    expect(page).to_have_url(flow.url("/bulletins"))
    expect(page.locator("#new-bulletin")).to_be_visible()
    flow.contexts["officer"] = context


def test_officer_writes_leader_approves_officer_schedules_to_a_zone(flow: Flow) -> None:
    officer = flow.page_as("officer")
    officer.goto(flow.url("/bulletins"))
    officer.click("#new-bulletin")
    officer.fill("#f-title", BULLETIN_TITLE)
    officer.fill("#f-text", BULLETIN_TEXT)
    flow.check(officer, "bulletin-new")
    officer.click("#prepare")
    expect(officer.locator(".notice")).to_have_text(t("done.bulletin_prepared"))
    found = re.search(r"/bulletins/([^/?#]+)(\?|$)", officer.url)
    assert found is not None, officer.url
    flow.bulletin_id = found[1]
    expect(officer.locator("#clip-player")).to_be_attached()
    officer.goto(flow.url(f"/bulletins/{flow.bulletin_id}/edit"))
    flow.check(officer, "bulletin-edit")
    officer.goto(flow.url(f"/bulletins/{flow.bulletin_id}"))
    officer.click("#submit-approval")
    expect(officer.locator(".notice")).to_have_text(t("done.bulletin_submitted"))
    flow.check(officer, "bulletin")
    officer.goto(flow.url("/bulletins"))
    flow.check(officer, "bulletins")

    leader = flow.page_as("leader")
    leader.goto(flow.url("/approvals"))
    flow.check(leader, "approvals")
    leader.click(f"a[href='/approvals/{flow.bulletin_id}'] >> nth=0")
    flow.check(leader, "approval-review")
    leader.click("#approve")
    expect(leader.locator(".notice")).to_have_text(t("done.bulletin_approved"))

    # Queued into the programme's first session for the coming week…
    officer.goto(flow.url(f"/schedule?ward={WARD}"))
    first = officer.locator("#f-q_session option:not([value=''])").first.get_attribute("value")
    assert first, "the demo ward's programme has no session"
    officer.select_option("#f-q_session", first)
    officer.select_option("#f-q_bulletin", flow.bulletin_id)
    officer.fill("#f-q_last", (datetime.now(WARD_TZ) + timedelta(days=6)).strftime("%Y-%m-%d"))
    officer.click("#queue-submit")
    expect(officer.locator(".notice")).to_have_text(t("done.queued"))
    expect(officer.locator("#queue-title")).to_be_visible()
    # …and a one-off broadcast to one zone, some seconds ahead on the ward's clock.
    officer.select_option("#f-b_bulletin", flow.bulletin_id)
    officer.check("#f-b_where-zones")
    officer.check(f"input[name=b_zones][value={ZONE}]")
    start = datetime.now(WARD_TZ) + timedelta(seconds=25)
    officer.fill("#f-b_start", start.strftime("%Y-%m-%dT%H:%M:%S"))
    officer.click("#broadcast-submit")
    expect(officer.locator(".notice")).to_have_text(t("done.broadcast_scheduled"))
    cancel = officer.locator("button[id^='cancel-']").first
    flow.broadcast_id = (cancel.get_attribute("id") or "").removeprefix("cancel-")
    assert flow.broadcast_id
    flow.check(officer, "schedule")


def test_an_emergency_is_confirmed_from_the_keyboard_and_cancelled_while_watched(
    flow: Flow,
) -> None:
    leader = flow.page_as("leader")
    leader.goto(flow.url("/emergency"))
    leader.check(f"input[name=zones][value={OTHER_ZONE}]")
    leader.fill("#f-headline", EMERGENCY_HEADLINE)
    leader.fill("#f-text", EMERGENCY_TEXT)
    leader.check("input[name=drill][value=yes]")
    flow.check(leader, "emergency")
    leader.click("#emergency-review")
    expect(leader.locator("#emergency-confirm")).to_be_visible()
    flow.check(leader, "emergency-review")
    # Step two from the keyboard alone: Tab to Confirm, Enter.
    for _ in range(60):
        leader.keyboard.press("Tab")
        if leader.evaluate("document.activeElement.id") == "emergency-confirm":
            break
    else:
        pytest.fail("Tab never reached the emergency's Confirm button")
    leader.keyboard.press("Enter")
    expect(leader).to_have_url(re.compile(r"/emergency/[^/]+$"))
    emergency_url = leader.url.split("?")[0]
    # The view must change by itself: a mark set now is lost if the page reloads.
    leader.evaluate("window.stillHere = true")
    progress = leader.locator("#progress")
    expect(progress).to_contain_text(t("stage.playing"), timeout=WAIT_MS)
    flow.check(leader, "emergency-progress")

    other = flow.page_as("leader")
    other.goto(f"{emergency_url}/cancel")
    flow.check(other, "emergency-cancel")
    other.click("#emergency-cancel-confirm")
    expect(other.locator(".notice")).to_have_text(t("done.emergency_cancelled"))
    # The first tab, untouched, shows the stop arrive.
    expect(progress).to_contain_text(t("emergency.state.cancelled"), timeout=WAIT_MS)
    expect(progress).to_contain_text(t("stage.stopped"), timeout=WAIT_MS)
    assert leader.evaluate("window.stillHere === true"), "the progress view reloaded"
    other.close()


def test_the_other_pages_while_the_broadcast_waits(flow: Flow) -> None:
    officer = flow.page_as("officer")
    officer.goto(flow.url("/account/password"))
    flow.check(officer, "password")
    admin = flow.page_as("admin")
    for path, name in (
        ("/admin/users", "admin-users"),
        ("/admin/users/new", "admin-user-new"),
        ("/admin/users/can-bo", "admin-user-edit"),
        ("/admin/devices", "admin-devices"),
        ("/admin/devices/demo-to-003/revoke", "admin-device-revoke"),
        ("/admin/devices/demo-to-003/placement", "admin-device-place"),
    ):
        admin.goto(flow.url(path))
        flow.check(admin, name)
    admin.goto(flow.url("/admin/devices"))
    admin.fill("#f-device_id", "demo-to-099")
    admin.fill("#f-name", "Loa chợ Hàng Bạc")
    admin.click("form[method=post][action='/admin/devices'] button[type=submit]")
    expect(admin.locator("#code")).to_be_visible()
    flow.check(admin, "admin-device-code")


def test_the_broadcast_page_and_dashboard_show_the_agents_confirm(flow: Flow) -> None:
    assert flow.broadcast_id, "the scheduling step did not run"
    officer = flow.page_as("officer")
    officer.goto(flow.url("/broadcasts"))
    expect(officer.locator(f"a[href='/broadcasts/{flow.broadcast_id}']")).to_be_visible()
    flow.check(officer, "broadcasts")
    officer.goto(flow.url(f"/broadcasts/{flow.broadcast_id}"))
    officer.evaluate("window.stillHere = true")
    current = officer.locator("#progress [aria-current=step]")
    expect(current).to_have_text(t("bstatus.done"), timeout=90_000)
    rows = officer.locator("#progress tbody tr")
    expect(rows).to_have_count(len(ZONE_DEVICES))
    for device in ZONE_DEVICES:
        row = rows.filter(has_text=device)
        expect(row).to_contain_text(t("tstate.completed"))
    flow.check(officer, "broadcast")

    officer.goto(flow.url("/"))
    # Both over: the bulletin played, the emergency was stopped (no longer "playing now";
    # both stay listed among today's broadcasts, by their titles).
    expect(officer.locator("#playing-now")).not_to_contain_text(EMERGENCY_HEADLINE)
    expect(officer.locator("#playing-now")).not_to_contain_text(BULLETIN_TITLE)
    expect(officer.locator("#playing-now")).to_contain_text(t("dashboard.nothing_playing"))
    for device in ZONE_DEVICES:
        # The dashboard's row of each device: online, with the volume of its confirmed play.
        row = officer.locator("#live tbody tr").filter(has_text=device)
        expect(row.locator("td").nth(5)).not_to_have_text("—")
    flow.check(officer, "dashboard")


def test_the_evaluator_sees_only_their_ward_changes_nothing_and_exports_the_report(
    flow: Flow,
) -> None:
    page = flow.page_as("evaluator")
    page.goto(flow.url("/reports"))
    assert page.locator("#f-ward option").evaluate_all("os => os.map(o => o.value)") == [WARD]
    expect(page.locator("#export-csv")).to_be_visible()
    flow.check(page, "reports")
    with page.expect_download() as got:
        page.click("#export-csv")
    assert got.value.suggested_filename.endswith(".csv")
    text = Path(got.value.path()).read_text(encoding="utf-8-sig")
    rows = list(csv.reader(io.StringIO(text), delimiter=";"))  # as Excel reads it in Vietnam
    assert ["Mã", WARD] in rows, text[:2000]
    with page.expect_download() as got:
        page.click("#export-pdf")
    assert Path(got.value.path()).read_bytes().startswith(b"%PDF")

    # Another ward's report is refused beside the field; the numbers are not shown.
    answer = page.goto(flow.url("/reports?ward=20326"))
    assert answer is not None and answer.status == 422
    expect(page.locator("#e-ward")).to_have_text(t("reports.ward_missing"))
    expect(page.locator("#export-csv")).to_have_count(0)

    page.goto(flow.url("/evidence"))
    flow.check(page, "evidence")
    page.goto(flow.url("/devices"))
    flow.check(page, "devices")
    page.goto(flow.url(f"/devices/{ZONE_DEVICES[0]}"))
    flow.check(page, "device")

    # A form that changes something: the 403 page, whether posted to (with this
    # session's own CSRF token, so only the role refuses it) or opened.
    posted = page.evaluate(
        """async () => {
            const token = document.querySelector('input[name=csrf_token]').value;
            const body = new URLSearchParams({csrf_token: token, ward: '00037',
                b_bulletin: 'x', b_where: 'ward', b_start: '2030-01-01T08:00'});
            return (await fetch('/schedule/broadcast', {method: 'POST', body})).status;
        }"""
    )
    assert posted == 403
    answer = page.goto(flow.url("/bulletins/new"))
    assert answer is not None and answer.status == 403
    expect(page.locator(".error-text")).to_have_text(t("error.forbidden"))
    flow.check(page, "forbidden")


def test_every_page_passes_axe_and_has_its_screenshots(flow: Flow) -> None:
    assert not flow.check.problems, "accessibility problems:\n" + "\n".join(flow.check.problems)
    for name in flow.check.shots:
        assert (flow.check.folder / name).stat().st_size < 200_000, name  # the repo stays small
    # What docs/console.md lists is what the run photographs, and README shows shots we have.
    doc = (ROOT / "docs/console.md").read_text(encoding="utf-8")
    listed = doc.split("The pages photographed:", 1)[1].split("\n\n", 1)[0]
    pages = {name.rsplit("-", 1)[0] for name in flow.check.shots}
    assert set(re.findall(r"`([a-z-]+)`", listed)) == pages
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    shown = re.findall(r"docs/screenshots/([\w-]+\.png)", readme)
    assert shown and set(shown) <= set(flow.check.shots), shown
    assert all((ROOT / "docs/screenshots" / name).exists() for name in shown)
