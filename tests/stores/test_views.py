"""[Platform Authorization] > [Platform Store Authorization]: the page, its forms and actions."""

from datetime import timedelta
from urllib.parse import parse_qsl, urlsplit

import pytest
from django.urls import reverse
from django.utils import timezone

from stores.models import Platform, Store, StoreAuthorization, StoreEvent
from stores.services import store_transition
from tests.distribution.factories import owner_of
from tests.orders.factories import StorePullStateFactory
from tests.sandbox_helpers import ShopifySandbox
from tests.stores.factories import StoreFactory

# Not reverse() at import: resolving URLs during collection would import the URLconf while
# DEBUG is still on, and mount DEBUG-only patterns for the whole session.
LIST = "/stores/"


def test_store_list_url_is_where_the_menu_points():
    assert reverse("stores:store_list") == LIST


@pytest.fixture
def me(db):
    return owner_of()


@pytest.fixture
def browser(client, me):
    client.force_login(me.user)
    return client


@pytest.mark.django_db
def test_store_list_shows_status_badges_reasons_and_last_pull(browser, me):
    # given stores in several states
    StoreFactory(distributor=me.distributor, name="Good Store", shop_domain="good.myshopify.com")
    revoked = StoreFactory(distributor=me.distributor, name="Gone Store", status=Store.Status.REVOKED)
    Store.objects.filter(pk=revoked.pk).update(status_reason="Shopify no longer accepts the access token")
    pulled = StoreFactory(distributor=me.distributor, name="Pulled Store")
    StorePullStateFactory(
        store=pulled, last_pull_at=timezone.now() - timedelta(minutes=3), last_result="ok", last_order_count=12
    )
    StoreFactory(name="Someone else's store")
    # when
    html = browser.get(LIST).content.decode()
    # then
    assert "Good Store" in html and "good.myshopify.com" in html
    assert "text-bg-success" in html and "Authorized" in html
    assert "text-bg-danger" in html and "Revoked" in html
    assert "Shopify no longer accepts the access token" in html
    assert "Never pulled" in html
    assert "12 orders" in html
    assert "Someone else" not in html
    assert ">Authorize Now</button>" in html


@pytest.mark.django_db
def test_store_list_offers_the_platforms_that_can_be_authorized(browser):
    html = browser.get(LIST).content.decode()
    assert '<option value="shopify"' in html
    assert '<option value="woocommerce"' in html
    assert '<option value="other"' in html


@pytest.mark.django_db
def test_store_list_offers_sync_now_for_authorized_stores_with_an_api(browser, me):
    # given an authorized API store, an expired one and one without an API
    live = StoreFactory(distributor=me.distributor, name="Live Store")
    expired = StoreFactory(distributor=me.distributor, name="Lapsed Store", status=Store.Status.EXPIRED)
    offline = StoreFactory(distributor=me.distributor, name="Market", platform=Platform.OTHER, shop_domain="")
    # when
    html = browser.get(LIST).content.decode()
    # then only the first can be synced, by a POST to the orders app's [Sync now]
    sync_now = reverse("orders:sync_now", args=[live.pk])
    assert f'action="{sync_now}"' in html and html.count('data-testid="sync-now"') == 1
    assert reverse("orders:sync_now", args=[expired.pk]) not in html
    assert reverse("orders:sync_now", args=[offline.pk]) not in html


@pytest.mark.django_db
def test_store_list_sync_now_queues_a_pull_and_shows_the_sync_page(browser, me):
    from orders.models import PullRun

    store = StoreFactory(distributor=me.distributor, name="Live Store")
    response = browser.post(reverse("orders:sync_now", args=[store.pk]))
    assert response.status_code == 302 and response["Location"] == reverse("orders:sync")
    run = PullRun.objects.get(store=store)
    assert (run.trigger, run.status, run.requested_by) == (PullRun.Trigger.MANUAL, PullRun.Status.QUEUED, me.user)


@pytest.mark.django_db
def test_store_list_query_count_does_not_grow_with_stores(browser, me, django_assert_num_queries):
    StoreFactory(distributor=me.distributor)
    # session, user, membership + distributor, stores
    with django_assert_num_queries(4) as one:
        assert browser.get(LIST).status_code == 200
    StoreFactory.create_batch(6, distributor=me.distributor)
    with django_assert_num_queries(len(one.captured_queries)):
        assert browser.get(LIST).status_code == 200


@pytest.mark.django_db
def test_store_authorize_other_platform_saves_a_store_without_api(browser, me):
    # given [Authorize Now] on "Other platform (no API)"
    form = browser.get(reverse("stores:authorize"), {"platform": "other"})
    assert form.status_code == 200
    assert "no API" in form.content.decode()
    # when the form is saved
    response = browser.post(
        reverse("stores:authorize") + "?platform=other", {"name": "Market Stall JP", "site": "jp", "currency": "JPY"}
    )
    # then the store is there, authorized, with orders by import
    assert response.status_code == 302 and response["Location"] == LIST
    store = Store.objects.get(distributor=me.distributor)
    assert (store.platform, store.name, store.site, store.currency) == ("other", "Market Stall JP", "JP", "JPY")
    assert store.status == Store.Status.AUTHORIZED
    assert store.credentials == {}
    assert "Orders by import" in browser.get(LIST).content.decode()


@pytest.mark.django_db
def test_store_authorize_form_errors_are_shown(browser):
    response = browser.post(
        reverse("stores:authorize") + "?platform=shopify",
        {"name": "", "site": "USA", "currency": "USD", "shop_domain": "not a shop"},
    )
    assert response.status_code == 400
    html = response.content.decode()
    assert "myshopify.com domain" in html
    assert not StoreAuthorization.objects.exists()


@pytest.mark.django_db
def test_store_authorize_without_a_known_platform_goes_back_to_the_list(browser):
    response = browser.get(reverse("stores:authorize"), {"platform": "myspace"})
    assert response.status_code == 302 and response["Location"] == LIST
    assert browser.post(reverse("stores:authorize") + "?platform=myspace", {}).status_code == 404


@pytest.mark.django_db
def test_store_authorize_shopify_redirects_to_the_consent_page_with_a_state(browser, me, settings):
    settings.SHOPIFY_API_BASE = "https://{shop}"
    response = browser.post(
        reverse("stores:authorize") + "?platform=shopify",
        {"name": "Acme US", "site": "US", "currency": "USD", "shop_domain": "Acme-Shop"},
    )
    assert response.status_code == 302
    location = urlsplit(response["Location"])
    assert (location.scheme, location.netloc, location.path) == (
        "https",
        "acme-shop.myshopify.com",
        "/admin/oauth/authorize",
    )
    query = dict(parse_qsl(location.query))
    assert query["redirect_uri"] == "http://testserver" + reverse("stores:authorize_callback")
    pending = StoreAuthorization.objects.get(state=query["state"])
    assert pending.distributor == me.distributor
    assert pending.form_data["shop_domain"] == "acme-shop.myshopify.com"
    assert not Store.objects.exists()  # nothing is saved before the platform says yes


@pytest.mark.django_db
def test_store_authorize_callback_with_an_unknown_state_shows_why(browser):
    response = browser.get(
        reverse("stores:authorize_callback"), {"state": "nope", "code": "x", "shop": "a.myshopify.com"}
    )
    assert response.status_code == 302
    page = browser.get(LIST).content.decode()
    assert "The store was not authorized" in page and "unknown state" in page


@pytest.mark.django_db
def test_store_disable_and_remove_keep_the_row(browser, me):
    store = StoreFactory(distributor=me.distributor, name="Old Shop", credentials={"access_token": "shpat_x"})
    # disable
    assert browser.post(reverse("stores:disable", args=[store.pk])).status_code == 302
    store.refresh_from_db()
    assert store.status == Store.Status.DISABLED
    assert "Disabled by" in store.status_reason
    # remove, after a confirmation page
    confirm = browser.get(reverse("stores:remove", args=[store.pk]))
    assert "orders are kept" in confirm.content.decode()
    assert browser.post(reverse("stores:remove", args=[store.pk])).status_code == 302
    store.refresh_from_db()
    assert store.removed_at is not None and store.credentials == {}
    assert f'data-store="{store.pk}"' not in browser.get(LIST).content.decode()
    assert browser.get(reverse("stores:remove", args=[store.pk])).status_code == 404
    assert list(StoreEvent.objects.filter(store=store).values_list("to_status", flat=True)) == ["disabled"]


@pytest.mark.django_db
def test_the_tracking_email_to_the_buyer_is_turned_on_and_off_per_store(browser, me):
    shopify = StoreFactory(distributor=me.distributor, name="Acme Shopify")
    amazon = StoreFactory(distributor=me.distributor, platform=Platform.AMAZON, shop_domain="", external_key="a1")
    theirs = StoreFactory(distributor=owner_of().distributor, shop_domain="theirs.myshopify.com")
    page = browser.get(LIST).content.decode()
    assert page.count('data-testid="notify-buyer"') == 1  # Amazon tells its buyers itself
    assert "Tracking e-mail to the buyer:" in page and "Turn on" in page
    # on
    browser.post(reverse("stores:notify_buyer", args=[shopify.pk]), {"notify_buyer": "on"})
    shopify.refresh_from_db()
    assert shopify.notify_buyer is True
    page = browser.get(LIST).content.decode()
    assert "will e-mail the buyers of “Acme Shopify” their tracking" in page and "Turn off" in page
    # off again
    browser.post(reverse("stores:notify_buyer", args=[shopify.pk]), {"notify_buyer": "off"})
    shopify.refresh_from_db()
    assert shopify.notify_buyer is False
    # a platform that notifies by itself, and another distributor's store
    browser.post(reverse("stores:notify_buyer", args=[amazon.pk]), {"notify_buyer": "on"})
    amazon.refresh_from_db()
    assert amazon.notify_buyer is False
    assert "tells the buyer about the tracking itself" in browser.get(LIST).content.decode()
    assert browser.post(reverse("stores:notify_buyer", args=[theirs.pk]), {"notify_buyer": "on"}).status_code == 404
    theirs.refresh_from_db()
    assert theirs.notify_buyer is False


@pytest.mark.django_db
def test_store_enable_is_for_stores_without_api(browser, me):
    other = StoreFactory(distributor=me.distributor, platform=Platform.OTHER, shop_domain="", external_key="")
    shopify = StoreFactory(distributor=me.distributor)
    for store in (other, shopify):
        browser.post(reverse("stores:disable", args=[store.pk]))
    browser.post(reverse("stores:enable", args=[other.pk]))
    browser.post(reverse("stores:enable", args=[shopify.pk]))
    other.refresh_from_db()
    shopify.refresh_from_db()
    assert other.status == Store.Status.AUTHORIZED
    assert shopify.status == Store.Status.DISABLED  # an API store re-authorizes instead


@pytest.mark.django_db
def test_store_reauthorize_keeps_the_shop_domain(browser, me, settings):
    settings.SHOPIFY_API_BASE = "https://{shop}"
    store = StoreFactory(distributor=me.distributor, shop_domain="kept.myshopify.com", status=Store.Status.REVOKED)
    page = browser.get(reverse("stores:reauthorize", args=[store.pk])).content.decode()
    assert "kept.myshopify.com" in page and "disabled" in page
    response = browser.post(
        reverse("stores:reauthorize", args=[store.pk]),
        {"name": store.name, "site": "US", "currency": "USD", "shop_domain": "hijack.myshopify.com"},
    )
    assert response.status_code == 302
    assert urlsplit(response["Location"]).netloc == "kept.myshopify.com"
    assert StoreAuthorization.objects.get().store == store


@pytest.mark.django_db
def test_store_actions_are_refused_to_a_suspended_distributor(browser, me):
    from distribution.models import Distributor

    store = StoreFactory(distributor=me.distributor)
    Distributor.objects.filter(pk=me.distributor.pk).update(status=Distributor.Status.SUSPENDED)
    assert browser.post(reverse("stores:disable", args=[store.pk])).status_code == 403
    store.refresh_from_db()
    assert store.status == Store.Status.AUTHORIZED


@pytest.mark.django_db
def test_store_transition_refuses_an_illegal_move():
    from distribution.errors import ApplicationError

    store = StoreFactory(status=Store.Status.DISABLED)
    with pytest.raises(ApplicationError):
        store_transition(store=store, to_status=Store.Status.EXPIRED, reason="token")
    assert not StoreEvent.objects.filter(store=store).exists()


@pytest.mark.django_db(transaction=True)
def test_store_authorize_shopify_through_the_pages_and_the_sandbox(client, live_server, settings):
    # given a distributor on the page, and Shopify's sandbox as Shopify
    settings.SHOPIFY_API_BASE = f"{live_server.url}/sandbox/shopify/{{shop}}"
    sandbox = ShopifySandbox(live_server.url)
    me = owner_of()
    client.force_login(me.user)
    # when the form is saved, the sandbox's consent page is approved, and the callback returns
    response = client.post(
        reverse("stores:authorize") + "?platform=shopify",
        {"name": "Sandbox US", "site": "US", "currency": "USD", "shop_domain": "pages-test"},
    )
    params = sandbox.consent(response["Location"])
    back = client.get(reverse("stores:authorize_callback"), params)
    # then the list shows the authorized store
    assert back.status_code == 302 and back["Location"] == LIST
    html = client.get(LIST).content.decode()
    assert "The store “Sandbox US” is authorized." in html
    assert "pages-test.myshopify.com" in html
    store = Store.objects.get(distributor=me.distributor)
    assert store.status == Store.Status.AUTHORIZED and store.credentials["access_token"].startswith("shpat_")


@pytest.mark.django_db
def test_platforms_whose_app_is_not_configured_are_not_offered(browser, me, settings):
    # given production without a Shopify app (no client id / secret)
    settings.SHOPIFY_CLIENT_ID = ""
    # then the list does not offer Shopify, and authorizing one is refused with the reason
    html = browser.get(LIST).content.decode()
    assert '<option value="shopify"' not in html
    assert '<option value="woocommerce"' in html and '<option value="amazon"' in html
    response = browser.post(
        reverse("stores:authorize") + "?platform=shopify",
        {"name": "S", "site": "US", "currency": "USD", "shop_domain": "unset-app.myshopify.com"},
    )
    assert response.status_code == 400
    assert "platform staff must configure SHOPIFY_CLIENT_ID" in response.content.decode()
    assert not StoreAuthorization.objects.exists()
