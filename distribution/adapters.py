from allauth.account.adapter import DefaultAccountAdapter
from django.urls import reverse


class AccountAdapter(DefaultAccountAdapter):
    def get_login_redirect_url(self, request):
        # Staff work in the admin; distributors in the portal.
        if request.user.is_staff and not hasattr(request.user, "membership"):
            return reverse("admin:index")
        return super().get_login_redirect_url(request)
