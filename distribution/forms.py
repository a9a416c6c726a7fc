from django import forms
from django.utils.translation import gettext_lazy as _

from .errors import ApplicationError
from .models import Distributor, Role


class DateInput(forms.DateInput):
    """The portal's one date widget: the browser's own date picker. Its value travels as
    ISO 8601 (YYYY-MM-DD) whatever the language; the browser shows the date its own way."""

    input_type = "date"

    def __init__(self, attrs=None):
        super().__init__(attrs, format="%Y-%m-%d")


INVITABLE_ROLES = [
    (Role.ADMIN, Role.ADMIN.label),
    (Role.OPERATOR, Role.OPERATOR.label),
    (Role.FINANCE, Role.FINANCE.label),
]


class DistributorSignupForm(forms.Form):
    """Extra fields on allauth's sign-up: the company that becomes the Distributor."""

    company_name = forms.CharField(label=_("Company name"), max_length=200)
    contact_person = forms.CharField(label=_("Contact person"), max_length=120)
    phone = forms.CharField(label=_("Phone"), max_length=40)
    country = forms.CharField(
        label=_("Country"),
        max_length=2,
        min_length=2,
        help_text=_("Two-letter ISO code, e.g. US, JP, DE."),
        widget=forms.TextInput(attrs={"autocomplete": "country", "style": "text-transform:uppercase"}),
    )

    def clean_country(self):
        code = self.cleaned_data["country"].strip().upper()
        if not code.isalpha():
            raise forms.ValidationError(_("Use a two-letter ISO code such as US, JP or DE."))
        return code

    def signup(self, request, user):
        from .services import distributor_register

        try:
            distributor_register(
                user=user,
                company_name=self.cleaned_data["company_name"],
                contact_person=self.cleaned_data["contact_person"],
                phone=self.cleaned_data["phone"],
                country=self.cleaned_data["country"],
            )
        except ApplicationError as exc:  # pragma: no cover - guarded by the form's own validation
            raise forms.ValidationError(str(exc)) from exc


class DistributorProfileForm(forms.ModelForm):
    class Meta:
        model = Distributor
        fields = ["company_name", "contact_person", "phone", "country"]


class InviteForm(forms.Form):
    email = forms.EmailField(label=_("E-mail"))
    role = forms.ChoiceField(label=_("Role"), choices=INVITABLE_ROLES)


class RoleForm(forms.Form):
    role = forms.ChoiceField(label=_("Role"), choices=INVITABLE_ROLES)


class InvitationSignupForm(forms.Form):
    password1 = forms.CharField(label=_("Password"), widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}))
    password2 = forms.CharField(
        label=_("Password (again)"), widget=forms.PasswordInput(attrs={"autocomplete": "new-password"})
    )

    def clean(self):
        data = super().clean()
        if data.get("password1") and data.get("password1") != data.get("password2"):
            raise forms.ValidationError(_("The two passwords differ."))
        return data
