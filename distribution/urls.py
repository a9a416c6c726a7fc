from django.conf import settings
from django.contrib import admin
from django.urls import include, path
from django.utils.translation import gettext_lazy as _

from . import views

admin.site.site_header = _("Distribution platform — staff console")
admin.site.site_title = _("Distribution staff")
admin.site.index_title = _("Operations")

portal_patterns = (
    [
        path("", views.HomeView.as_view(), name="home"),
        path("account/profile/", views.ProfileView.as_view(), name="profile"),
        path("account/members/", views.MemberListView.as_view(), name="member_list"),
        path("account/members/<int:membership_id>/role/", views.MemberRoleView.as_view(), name="member_role"),
        path("account/members/<int:membership_id>/remove/", views.MemberRemoveView.as_view(), name="member_remove"),
        path(
            "account/invitations/<int:invitation_id>/revoke/",
            views.InvitationRevokeView.as_view(),
            name="invitation_revoke",
        ),
    ],
    "portal",
)

urlpatterns = [
    path("", include(portal_patterns)),
    path("healthz/", views.healthz, name="healthz"),
    path("invitations/<str:token>/", views.InvitationAcceptView.as_view(), name="invitation_accept"),
    path("catalog/", include("catalog.urls")),
    path("stores/", include("stores.urls")),
    path("mapping/", include("mapping.urls")),
    path("orders/", include("orders.urls")),
    path("finance/", include("finance.urls")),
    path("fulfillment/", include("fulfillment.urls")),
    # Signed by the platform, not behind a login: the webhook handlers verify each request.
    path("webhooks/warehouse/", include("fulfillment.webhook_urls")),
    path("webhooks/", include("orders.webhook_urls")),
    path("accounts/", include("allauth.urls")),
    path("i18n/", include("django.conf.urls.i18n")),
    path("admin/", admin.site.urls),
]

# The emulated outside world: only for the demo and the tests, never in production.
if settings.SANDBOX_ENABLED:
    urlpatterns.append(path("sandbox/", include("sandbox.urls")))

# Uploaded files (order files with buyers' addresses, payment proofs, documents) are never
# served from MEDIA_ROOT, not even in development: each is served by a view that checks
# who is asking (catalog documents and images, the finance proof view for staff).
