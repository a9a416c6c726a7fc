"""allauth, fitted to a portal whose members are known by their e-mail address.

Sign-in is by e-mail only, but Django's user model still has a username, which allauth
would fill in from the address's local part ("newbie") and then show in its messages
and mails. Here the username is the address itself (as for invited members and the
demo's users), every display of a user is the address, and mails name the platform by
`SITE_NAME` rather than by the host the request came to.
"""

from allauth.account.adapter import DefaultAccountAdapter
from django.conf import settings
from django.contrib.auth import get_user_model
from django.urls import reverse


def user_display(user) -> str:
    """ACCOUNT_USER_DISPLAY: "Successfully signed in as newbie@example.com."."""
    return user.email or user.get_username()


class AccountAdapter(DefaultAccountAdapter):
    def get_login_redirect_url(self, request):
        # Staff work in the admin; distributors in the portal.
        if request.user.is_staff and not hasattr(request.user, "membership"):
            return reverse("admin:index")
        return super().get_login_redirect_url(request)

    def populate_username(self, request, user) -> None:
        User = get_user_model()
        email = (user.email or "").strip().lower()
        limit = User._meta.get_field(User.USERNAME_FIELD).max_length
        free = not User.objects.filter(**{f"{User.USERNAME_FIELD}__iexact": email}).exists()
        if not user.get_username() and email and len(email) <= limit and free:
            setattr(user, User.USERNAME_FIELD, email)
        # An address too long for the column (or, oddly, taken as a username) gets allauth's own.
        super().populate_username(request, user)

    def send_mail(self, template_prefix: str, email: str, context: dict) -> None:
        super().send_mail(template_prefix, email, {"site_name": settings.SITE_NAME, **context})
