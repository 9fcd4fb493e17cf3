"""The run log's admin in a real headless browser: Chromium from the system
packages, driven by Selenium, against Django's live test server."""

import os
import shutil

import pytest
from django.contrib.auth.models import User
from django.utils import timezone

from eventx_signals.models import ReceiverRun

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
CHROMEDRIVER = shutil.which("chromedriver")

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def browser(tmp_path):
    if not (CHROMIUM and CHROMEDRIVER):
        why = "needs Chromium and ChromeDriver (Debian: apt install chromium chromium-driver)"
        if os.environ.get("EVENTX_TEST_REQUIRE_SERVICES"):
            pytest.fail(why)
        pytest.skip(why)
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in (
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
        f"--user-data-dir={tmp_path / 'profile'}",
    ):
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    driver.implicitly_wait(5)
    yield driver
    driver.quit()


def a_run(receiver, status, **fields):
    now = timezone.now()
    return ReceiverRun.objects.create(
        signal="shop.signals.order_paid",
        sender="shop.Order",
        receiver=receiver,
        backend="default",
        status=status,
        started_at=now,
        finished_at=now,
        duration_ms=12.5,
        **fields,
    )


def test_an_admin_filters_failures_and_opens_a_traceback(browser, live_server):
    from selenium.webdriver.common.by import By

    User.objects.create_superuser("admin", "admin@example.com", "s3cret-pass")
    a_run("shop.receivers.send_receipt", "succeeded")
    a_run(
        "shop.receivers.charge_card",
        "failed",
        error_type="builtins.ValueError",
        error_message="card declined",
        traceback='Traceback (most recent call last):\n  File "shop/receivers.py", line 7\n'
        "ValueError: card declined",
    )

    browser.get(f"{live_server.url}/admin/login/?next=/admin/eventx_signals/receiverrun/")
    browser.find_element(By.NAME, "username").send_keys("admin")
    browser.find_element(By.NAME, "password").send_keys("s3cret-pass")
    browser.find_element(By.CSS_SELECTOR, "input[type=submit]").click()

    # The list shows both runs; the status filter narrows it to the failure.
    assert "send_receipt" in browser.find_element(By.ID, "result_list").text
    browser.find_element(By.LINK_TEXT, "failed").click()
    listing = browser.find_element(By.ID, "result_list").text
    assert "charge_card" in listing and "send_receipt" not in listing
    assert "status__exact=failed" in browser.current_url

    # One run's page shows its traceback, read-only.
    browser.find_element(By.CSS_SELECTOR, "#result_list tbody tr th a").click()
    traceback = browser.find_element(By.CSS_SELECTOR, "pre.eventx-traceback").text
    assert "ValueError: card declined" in traceback
    assert not browser.find_elements(By.NAME, "_save")  # nothing to change
