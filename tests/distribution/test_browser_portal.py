"""A new distributor signs up in a real browser and opens every item of the navigation."""

import re

import pytest
from django.core import mail

from distribution.models import Distributor
from distribution.navigation import MENU

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _leaf_items():
    for item in MENU:
        if item.children:
            for child in item.children:
                yield item, child
        else:
            yield None, item


def test_signup_then_open_every_navigation_item(page, live_server):
    # given a visitor on the sign-up page
    page.goto("/accounts/signup/")
    page.fill("input[name=email]", "browser@example.com")
    page.fill("input[name=password1]", "Browser-pass-2026")
    page.fill("input[name=password2]", "Browser-pass-2026")
    page.fill("input[name=company_name]", "Browser Test Trading")
    page.fill("input[name=contact_person]", "Ada Browser")
    page.fill("input[name=phone]", "+1 646 555 0101")
    page.fill("input[name=country]", "US")
    page.click("form button[type=submit]")
    # then the e-mail confirmation is asked for
    page.wait_for_url(re.compile(r"/accounts/confirm-email/"))
    assert Distributor.objects.filter(company_name="Browser Test Trading").exists()
    link = re.search(r"https?://[^/]+(/accounts/confirm-email/[^\s]+)", mail.outbox[-1].body).group(1)

    # when the link is followed and confirmed, and the user logs in
    page.goto(link)
    page.click("form button[type=submit]")
    page.goto("/accounts/login/")
    page.fill("input[name=login]", "browser@example.com")
    page.fill("input[name=password]", "Browser-pass-2026")
    page.click("form button[type=submit]")
    page.wait_for_url(f"{live_server.url}/")
    assert "Browser Test Trading" in page.content()

    # then every navigation item opens its page, through the menu itself
    opened = []
    for parent, item in _leaf_items():
        if parent is not None:
            page.get_by_role("button", name=str(parent.label)).or_(
                page.locator("a.dropdown-toggle", has_text=str(parent.label))
            ).first.click()
        page.locator(f'a[data-nav="{item.url_name}"]').click()
        page.wait_for_load_state()
        heading = page.locator("main h1").first.inner_text()
        assert heading, f"{item.label} has no heading"
        assert "Not allowed" not in heading and "Not found" not in heading
        opened.append(str(item.label))
    assert "Platform Store Authorization" in opened and "Balance Management" in opened
    assert len(opened) == sum(1 for _ in _leaf_items())


def test_menu_collapses_on_a_phone(page, live_server, django_user_model):
    from tests.distribution.factories import owner_of

    me = owner_of(email="phone@example.com")
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto("/accounts/login/")
    page.fill("input[name=login]", "phone@example.com")
    page.fill("input[name=password]", "pass-word-2026")
    page.click("form button[type=submit]")
    page.wait_for_url(f"{live_server.url}/")
    assert not page.locator('a[data-nav="orders:order_list"]').is_visible()
    page.click("button.navbar-toggler")
    page.locator('a[data-nav="orders:order_list"]').click()
    page.wait_for_url(f"{live_server.url}/orders/")
    assert me.distributor.company_name
