"""Every portal URL that takes an object id answers 404 for another tenant's object.

The URL patterns are discovered from the resolver and each `<model>_id` parameter is
filled with a fresh object of that model belonging to another distributor, so views
added later are covered without editing this test (only a factory is needed).
"""

import pytest
from django.apps import apps
from django.urls import reverse

from distribution.models import Distributor, Role
from distribution.tenancy import PortalView, get_for_tenant_or_404, scope, tenant_path
from tests.distribution.factories import MembershipFactory, owner_of
from tests.factories import FACTORIES_BY_MODEL
from tests.portal_urls import PUBLIC_URL_NAMES, portal_urls


def _model_for_param(param: str):
    assert param.endswith("_id"), f"portal URL parameter {param!r} must be named <model>_id"
    wanted = param[: -len("_id")].replace("_", "")
    matches = [m for m in apps.get_models() if m._meta.model_name == wanted]
    assert len(matches) == 1, f"no single model named {wanted!r} for URL parameter {param!r}"
    return matches[0]


def _other_tenant_object(model, other: Distributor):
    factory = FACTORIES_BY_MODEL.get(model)
    assert factory is not None, f"add a factory for {model.__name__} to tests/factories.FACTORIES_BY_MODEL"
    path = tenant_path(model)
    if path == "distributor":
        return factory(distributor=other)
    return factory(**{path: other})


def test_portal_urls_are_portal_views_or_declared_public():
    offenders = [
        u.name
        for u in portal_urls()
        if u.name not in PUBLIC_URL_NAMES and not (u.view_class and issubclass(u.view_class, PortalView))
    ]
    assert offenders == []


@pytest.mark.django_db
def test_every_portal_url_with_an_object_id_answers_404_for_another_tenant(client):
    # given a full-access member of one distributor and objects of another
    me = owner_of()
    other = owner_of().distributor
    client.force_login(me.user)
    with_ids = [u for u in portal_urls() if u.params and u.name not in PUBLIC_URL_NAMES]
    assert len(with_ids) >= 3, "the discovery found too few URLs to mean anything"

    checked = []
    for url in with_ids:
        models = {p: _model_for_param(p) for p in url.params}
        if all(tenant_path(m) is None for m in models.values()):
            continue  # shared rows (the catalog): every distributor may open them
        kwargs = {
            p: (_other_tenant_object(m, other) if tenant_path(m) else FACTORIES_BY_MODEL[m]()).pk
            for p, m in models.items()
        }
        path = reverse(url.name, kwargs=kwargs)
        # when
        allowed = set(url.view_class.http_method_names) & {"get", "post"}
        for method in sorted(m for m in allowed if hasattr(url.view_class, m)):
            response = getattr(client, method)(path)
            # then
            assert response.status_code == 404, f"{method.upper()} {path} ({url.name}) -> {response.status_code}"
            checked.append((method, url.name))
    assert checked


@pytest.mark.django_db
def test_scope_filters_by_the_models_tenant_path():
    me = owner_of()
    other = owner_of()
    from distribution.models import Membership

    assert list(scope(Membership.objects.all(), me.distributor)) == [me]
    with pytest.raises(Exception) as excinfo:
        get_for_tenant_or_404(Membership.objects.all(), me.distributor, pk=other.pk)
    assert excinfo.type.__name__ == "Http404"


ROLE_CASES = [
    # (role, url name, expected status)
    (Role.OPERATOR, "finance:balance", 403),
    (Role.OPERATOR, "portal:member_list", 403),
    (Role.OPERATOR, "orders:order_list", 200),
    (Role.OPERATOR, "stores:store_list", 200),
    (Role.OPERATOR, "mapping:mapping_list", 200),
    (Role.FINANCE, "finance:balance", 200),
    # Finance members read the orders (what was paid for); they change none of them
    # (tests/orders/test_roles.py). They used to have no orders section at all.
    (Role.FINANCE, "orders:order_list", 200),
    (Role.FINANCE, "stores:store_list", 403),
    (Role.FINANCE, "catalog:product_list", 403),
    (Role.ADMIN, "finance:balance", 200),
    (Role.ADMIN, "portal:member_list", 200),
    (Role.OWNER, "orders:order_list", 200),
]


@pytest.mark.django_db
@pytest.mark.parametrize(("role", "url_name", "status"), ROLE_CASES)
def test_role_opens_only_its_sections(client, role, url_name, status):
    distributor = owner_of().distributor
    member = (
        distributor.memberships.get() if role == Role.OWNER else MembershipFactory(distributor=distributor, role=role)
    )
    client.force_login(member.user)
    assert client.get(reverse(url_name)).status_code == status


@pytest.mark.django_db
def test_operator_menu_hides_finance(client):
    member = MembershipFactory(role=Role.OPERATOR)
    client.force_login(member.user)
    html = client.get(reverse("portal:home")).content.decode()
    assert "Balance Management" not in html
    assert "Product Mapping" in html


@pytest.mark.django_db
def test_suspended_distributor_reads_but_cannot_act(client):
    me = owner_of()
    Distributor.objects.filter(pk=me.distributor.pk).update(status=Distributor.Status.SUSPENDED)
    client.force_login(me.user)
    page = client.get(reverse("portal:member_list"))
    assert page.status_code == 200
    assert "suspended" in page.content.decode()
    response = client.post(reverse("portal:member_list"), {"email": "new@example.com", "role": "operator"})
    assert response.status_code == 403
    assert not me.distributor.invitations.exists()


@pytest.mark.django_db
def test_user_without_distributor_gets_403_and_staff_go_to_admin(client):
    from tests.distribution.factories import UserFactory

    plain = UserFactory()
    client.force_login(plain)
    assert client.get(reverse("portal:home")).status_code == 403
    staff = UserFactory(is_staff=True)
    client.force_login(staff)
    response = client.get(reverse("portal:home"))
    assert response.status_code == 302 and response["Location"] == reverse("admin:index")


@pytest.mark.django_db
def test_anonymous_is_sent_to_login(client):
    response = client.get(reverse("orders:order_list"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("account_login"))
