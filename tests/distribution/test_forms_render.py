"""Every portal form is drawn by one library (django-crispy-forms with its Bootstrap 5 pack):
each visible field has a label tied to it, errors show as Bootstrap's invalid-feedback under
their field, and every date field is the browser's own date picker, whose value is ISO 8601
whatever the page's language."""

import re
from html.parser import HTMLParser

import pytest
from django.urls import reverse

from stores.forms import FORMS
from stores.models import Platform
from tests.distribution.factories import InvitationFactory, UserFactory, owner_of
from tests.orders.factories import OrderFactory, OrderLineFactory
from tests.stores.factories import StoreFactory

pytestmark = pytest.mark.django_db

NOT_FIELDS = {"hidden", "submit", "button", "reset", "image"}


class Controls(HTMLParser):
    """The page's form controls, and the ids its <label for=...> elements name."""

    def __init__(self):
        super().__init__()
        self.controls: list[dict] = []
        self.label_for: set[str] = set()
        self._open_labels = 0

    def handle_starttag(self, tag, attrs):
        attrs = {name: value or "" for name, value in attrs}
        if tag == "label":
            self._open_labels += 1
            if attrs.get("for"):
                self.label_for.add(attrs["for"])
        elif tag in {"input", "select", "textarea"}:
            if tag == "input" and attrs.get("type", "text") in NOT_FIELDS:
                return
            self.controls.append({"tag": tag, "in_label": self._open_labels > 0, **attrs})

    def handle_endtag(self, tag):
        if tag == "label" and self._open_labels:
            self._open_labels -= 1


def controls_of(html: str) -> Controls:
    parser = Controls()
    parser.feed(html)
    return parser


def unlabelled(html: str) -> list[str]:
    """The visible fields that no label names (label[for], aria-label or aria-labelledby)."""
    page = controls_of(html)
    return [
        control.get("name") or control["tag"]
        for control in page.controls
        if not (
            control["in_label"]
            or control.get("id") in page.label_for
            or control.get("aria-label", "").strip()
            or control.get("aria-labelledby")
        )
    ]


def field(html: str, name: str) -> dict:
    matches = [control for control in controls_of(html).controls if control.get("name") == name]
    assert matches, f"no field {name!r} on the page"
    return matches[0]


def error_under(html: str, name: str) -> str:
    """The text of the invalid-feedback block that belongs to the field named `name`."""
    control = field(html, name)
    assert "is-invalid" in control.get("class", "").split(), f"{name} is not marked invalid"
    match = re.search(rf'<div id="{control["id"]}_error" class="invalid-feedback">(.*?)</div>', html, re.S)
    assert match, f"no invalid-feedback for {name}"
    return re.sub(r"<[^>]+>|\s+", " ", match.group(1)).strip()


@pytest.fixture
def owner():
    return owner_of(email="forms-owner@example.com")


@pytest.fixture
def signed_in(client, owner):
    client.force_login(owner.user)
    return client


@pytest.fixture
def store(owner):
    return StoreFactory(distributor=owner.distributor, name="Forms US", platform=Platform.SHOPIFY)


PORTAL_PAGES = [
    ("portal:profile", {}),
    ("portal:member_list", {}),
    ("mapping:mapping_add", {}),
    ("mapping:mapping_list", {}),
    ("mapping:import", {}),
    ("orders:order_list", {}),
    ("orders:import", {}),
    ("orders:sync", {}),
    ("finance:topup", {}),
    ("finance:balance", {}),
    ("catalog:product_list", {}),
    ("stores:store_list", {}),
    ("account_change_password", {}),
    ("account_email", {}),
] + [("stores:authorize", {"platform": platform}) for platform in FORMS]


@pytest.mark.parametrize("url_name, query", PORTAL_PAGES, ids=lambda v: v if isinstance(v, str) else "")
def test_forms_render_every_portal_field_with_its_label(signed_in, store, url_name, query):
    # when
    response = signed_in.get(reverse(url_name), query)
    # then
    assert response.status_code == 200
    html = response.content.decode()
    assert controls_of(html).controls, "the page has no field to check"
    assert unlabelled(html) == []


@pytest.mark.parametrize("url_name", ["account_login", "account_signup", "account_reset_password"])
def test_forms_render_the_entrance_pages_with_labels(client, url_name):
    html = client.get(reverse(url_name)).content.decode()
    assert unlabelled(html) == []
    # allauth's own form goes through the portal's partial: Bootstrap classes, labels shown
    assert 'class="form-label' in html and "form-control" in html


def test_forms_render_the_invitation_page_with_labels_and_its_errors(client):
    invitation = InvitationFactory()
    url = reverse("invitation_accept", kwargs={"token": invitation.token})
    assert unlabelled(client.get(url).content.decode()) == []
    refused = client.post(url, {"password1": "123", "password2": ""}).content.decode()
    assert error_under(refused, "password2") == "This field is required."


def test_forms_render_the_order_page_with_labels(signed_in, store, owner):
    order = OrderFactory(distributor=owner.distributor, store=store)
    OrderLineFactory(order=order, item_code="LS228800001-01-01", store_sku="SERUM-US", quantity=1)
    html = signed_in.get(reverse("orders:order_detail", args=[order.pk])).content.decode()
    assert unlabelled(html) == []


def test_forms_render_a_required_field_with_one_mark(client):
    html = client.get(reverse("account_signup")).content.decode()
    label = re.search(r'<label[^>]*for="id_company_name"[^>]*>(.*?)</label>', html, re.S).group(1)
    assert "Company name" in label and label.count('class="asteriskField"') == 1


def test_forms_render_signup_errors_as_invalid_feedback_under_the_field(client):
    # when
    response = client.post(reverse("account_signup"), {"email": "new@example.com", "country": "1A"})
    # then
    html = response.content.decode()
    assert "two-letter ISO code" in error_under(html, "country")
    assert error_under(html, "company_name") == "This field is required."
    assert unlabelled(html) == []


def test_forms_render_woocommerce_key_errors_under_the_key_fields(signed_in):
    # given the seller chose to enter keys but typed none
    data = {"name": "Woo", "site": "US", "currency": "USD", "site_url": "https://shop.example.com"}
    # when
    response = signed_in.post(reverse("stores:authorize") + "?platform=woocommerce", {**data, "connect_with": "keys"})
    # then
    html = response.content.decode()
    assert response.status_code == 400
    assert error_under(html, "consumer_key") == "Required when entering keys yourself."
    assert error_under(html, "consumer_secret") == "Required when entering keys yourself."
    # the choice is a list of radio buttons, each a Bootstrap form-check with its own label
    radios = [c for c in controls_of(html).controls if c.get("name") == "connect_with"]
    assert len(radios) == 2 and all(c["class"].split().count("form-check-input") == 1 for c in radios)
    assert html.count('<div class="form-check">') >= 2


def test_forms_render_mapping_topup_and_profile_errors_as_invalid_feedback(signed_in, store):
    mapping = signed_in.post(reverse("mapping:mapping_add"), {"store": store.pk, "store_sku": "", "item_id": ""})
    assert error_under(mapping.content.decode(), "item_id") == "This field is required."

    topup = signed_in.post(reverse("finance:topup"), {"currency": "USD", "method": "alipay"})
    html = topup.content.decode()
    assert error_under(html, "amount") == "This field is required."
    assert error_under(html, "proof") == "This field is required."

    profile = signed_in.post(reverse("portal:profile"), {"company_name": "", "country": "US"})
    assert error_under(profile.content.decode(), "company_name") == "This field is required."


def test_forms_render_the_sync_page_with_labelled_date_boxes_per_store(signed_in, owner, store):
    # given two stores with an API
    other = StoreFactory(distributor=owner.distributor, name="Forms JP", site="JP", currency="JPY")
    # when
    html = signed_in.get(reverse("orders:sync")).content.decode()
    # then each row has its own From and To date boxes, each with a visible label
    dates = [c for c in controls_of(html).controls if c.get("name") in {"date_from", "date_to"}]
    assert len(dates) == 4 and {c["type"] for c in dates} == {"date"}
    assert len({c["id"] for c in dates}) == 4
    for shop in (store, other):
        label = re.search(rf'<label\s+for="sync{shop.pk}_date_from"[^>]*>\s*(\w+)', html)
        assert label and label.group(1) == "From"
    assert unlabelled(html) == []


def test_forms_render_a_refused_sync_range_beside_the_store_it_was_for(signed_in, owner, store):
    response = signed_in.post(reverse("orders:sync_now", args=[store.pk]), {"date_from": "", "date_to": "2026-01-31"})
    assert response.status_code == 400
    html = response.content.decode()
    assert "Give the first day of the range too." in html
    assert field(html, "date_to")["value"] == "2026-01-31"


@pytest.mark.parametrize("language", ["en", "zh-hans"])
def test_forms_render_date_filters_as_date_pickers_with_iso_values(signed_in, store, language):
    # when a filtered list is opened in either language
    query = {"date_from": "2026-01-02", "date_to": "2026-01-31"}
    orders = signed_in.get(reverse("orders:order_list"), query, HTTP_ACCEPT_LANGUAGE=language).content.decode()
    balance = signed_in.get(reverse("finance:balance"), query, HTTP_ACCEPT_LANGUAGE=language).content.decode()
    # then the browser gets date inputs with ISO values, which it shows in its own format
    for html in (orders, balance):
        assert f'<html lang="{language}">' in html
        for name, value in query.items():
            date = field(html, name)
            assert (date["type"], date["value"]) == ("date", value)
            assert date["id"] in controls_of(html).label_for


def test_forms_render_the_woocommerce_sandbox_address_in_development(signed_in, settings):
    # given the sandbox stands in for the platforms
    settings.SANDBOX_ENABLED = True
    settings.SANDBOX_BASE_URL = "http://127.0.0.1:8000/sandbox"
    # when
    html = signed_in.get(reverse("stores:authorize"), {"platform": "woocommerce"}).content.decode()
    # then the form names a sandbox shop that answers, not an example host
    sandbox_shop = "http://127.0.0.1:8000/sandbox/woocommerce/demo-woo"
    assert field(html, "site_url")["placeholder"] == sandbox_shop
    assert f"<code>{sandbox_shop}</code>" in html
    assert "shop.example.com" not in html


def test_forms_render_the_woocommerce_example_address_without_the_sandbox(signed_in, settings):
    settings.SANDBOX_ENABLED = False
    html = signed_in.get(reverse("stores:authorize"), {"platform": "woocommerce"}).content.decode()
    assert field(html, "site_url")["placeholder"] == "https://shop.example.com"
    assert "/sandbox/" not in html


def test_forms_render_a_resend_link_after_signup_that_sends_a_new_link(client, outbox, settings):
    # given a new sign-up waiting for its confirmation
    settings.ACCOUNT_EMAIL_CONFIRMATION_COOLDOWN = 0
    signup = {
        "email": "resend@example.com",
        "password1": "a-long-Password-2026",
        "password2": "a-long-Password-2026",
        "company_name": "Resend Trading",
        "contact_person": "Ann",
        "phone": "+1 415 555 0100",
        "country": "US",
    }
    page = client.post(reverse("account_signup"), signup, follow=True).content.decode()
    assert len(outbox) == 1
    # when the verify page's "Send the link again" is followed: signing in again
    link = re.search(r'href="([^"]+)"[^>]*data-testid="resend-by-login"', page)
    assert link and link.group(1) == reverse("account_login")
    response = client.post(link.group(1), {"login": signup["email"], "password": signup["password1"]})
    # then a second link is on its way and the verify page is shown again
    assert reverse("account_email_verification_sent") in response["Location"]
    assert len(outbox) == 2 and outbox[1].to == ["resend@example.com"]


def test_forms_render_a_resend_button_for_a_signed_in_user_that_sends_a_new_link(client, outbox, settings):
    # given a signed-in user whose address is not confirmed, on an expired confirmation link
    settings.ACCOUNT_EMAIL_CONFIRMATION_COOLDOWN = 0
    user = UserFactory(email="later@example.com")
    user.emailaddress_set.update(verified=False)
    client.force_login(user)
    page = client.get(reverse("account_confirm_email", args=["not-a-key"])).content.decode()
    assert "This confirmation link has expired or is not valid." in page
    # when its resend form is posted as the page has it
    resend = page[page.index("resend-verification") :]
    form = re.search(r'<form method="post" action="([^"]+)">(.*?)</form>', resend, re.S)
    assert form and form.group(1) == reverse("account_email")
    fields = dict(re.findall(r'<input type="hidden" name="(email)" value="([^"]*)"', form.group(2)))
    assert fields == {"email": "later@example.com"} and 'name="action_send"' in form.group(2)
    client.post(form.group(1), {**fields, "action_send": ""})
    # then a new link is sent to that address
    assert len(outbox) == 1 and outbox[0].to == ["later@example.com"]
