"""The [Authorize Now] forms, one per platform. Secrets never go into these forms' initial data."""

from django import forms
from django.conf import settings
from django.utils.translation import gettext_lazy as _

from distribution.money import CURRENCY_CHOICES

from .models import Platform
from .platforms.amazon import MARKETPLACES
from .platforms.shopify import is_shop_domain, normalize_shop_domain
from .platforms.woocommerce import CONNECT_AT_SHOP, CONNECT_WITH_KEYS, is_site_url, normalize_site_url


class StoreBaseForm(forms.Form):
    # Fields handed to the platform client only, never stored with the authorization.
    secret_fields: tuple[str, ...] = ()

    name = forms.CharField(label=_("Store name"), max_length=120)
    site = forms.CharField(
        label=_("Site"),
        min_length=2,
        max_length=2,
        help_text=_("The country the store sells to (two letters, e.g. US or JP); it decides which warehouses ship."),
        widget=forms.TextInput(attrs={"style": "text-transform:uppercase", "autocomplete": "country"}),
    )
    currency = forms.ChoiceField(label=_("Currency"), choices=CURRENCY_CHOICES)

    def __init__(self, *args, store=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.store = store

    def clean_site(self):
        site = self.cleaned_data["site"].strip().upper()
        if not site.isalpha():
            raise forms.ValidationError(_("Use a two-letter country code such as US or JP."))
        return site


class ShopifyStoreForm(StoreBaseForm):
    shop_domain = forms.CharField(
        label=_("Shopify shop domain"),
        max_length=255,
        help_text=_("Your shop's myshopify.com address, e.g. my-shop.myshopify.com."),
        widget=forms.TextInput(attrs={"placeholder": "my-shop.myshopify.com", "autocomplete": "off"}),
    )

    def __init__(self, *args, store=None, **kwargs):
        super().__init__(*args, store=store, **kwargs)
        if store is not None:
            # Re-authorizing keeps the shop.
            self.fields["shop_domain"].disabled = True
            self.fields["shop_domain"].initial = store.shop_domain

    def clean_shop_domain(self):
        domain = normalize_shop_domain(self.cleaned_data["shop_domain"])
        if not is_shop_domain(domain):
            raise forms.ValidationError(_("Enter the shop's myshopify.com domain, e.g. my-shop.myshopify.com."))
        return domain


class WooCommerceStoreForm(StoreBaseForm):
    """Approve our app at the shop (WooCommerce makes the keys and hands them to us), or paste
    keys made in WordPress under WooCommerce > Settings > Advanced > REST API (Read/Write)."""

    secret_fields = ("consumer_key", "consumer_secret")

    site_url = forms.CharField(
        label=_("WooCommerce site URL"),
        max_length=255,
        help_text=_("The shop's address, e.g. https://shop.example.com."),
        widget=forms.TextInput(attrs={"placeholder": "https://shop.example.com", "autocomplete": "url"}),
    )
    connect_with = forms.ChoiceField(
        label=_("How to connect"),
        choices=[
            (CONNECT_AT_SHOP, _("Approve access at my shop (WooCommerce creates the keys for us)")),
            (CONNECT_WITH_KEYS, _("Enter API keys I made myself")),
        ],
        initial=CONNECT_AT_SHOP,
        widget=forms.RadioSelect,
    )
    consumer_key = forms.CharField(
        label=_("Consumer key"),
        max_length=128,
        required=False,
        help_text=_("Only when entering keys yourself."),
        widget=forms.TextInput(attrs={"autocomplete": "off"}),
    )
    consumer_secret = forms.CharField(
        label=_("Consumer secret"),
        max_length=128,
        required=False,
        help_text=_("Only when entering keys yourself."),
        widget=forms.PasswordInput(attrs={"autocomplete": "off"}, render_value=False),
    )

    def __init__(self, *args, store=None, **kwargs):
        super().__init__(*args, store=store, **kwargs)
        # In development the shop is a sandbox one: an example address would send the seller's
        # browser to a host that does not answer, so the form names a sandbox shop that does.
        self.sandbox_site_url = f"{settings.SANDBOX_BASE_URL}/woocommerce/demo-woo" if settings.SANDBOX_ENABLED else ""
        if self.sandbox_site_url:
            site_url = self.fields["site_url"]
            site_url.widget.attrs["placeholder"] = self.sandbox_site_url
            site_url.help_text = _(
                "Development: a sandbox shop's address, e.g. %(url)s (any name after /woocommerce/ makes a new shop)."
            ) % {"url": self.sandbox_site_url}
        if store is not None:
            self.fields["site_url"].disabled = True
            self.fields["site_url"].initial = store.site_url

    def clean_site_url(self):
        url = normalize_site_url(self.cleaned_data["site_url"])
        if not is_site_url(url):
            raise forms.ValidationError(_("Enter the shop's address, e.g. https://shop.example.com."))
        return url

    def clean(self):
        data = super().clean()
        if data.get("connect_with") == CONNECT_WITH_KEYS:
            for name in ("consumer_key", "consumer_secret"):
                if not data.get(name):
                    self.add_error(name, _("Required when entering keys yourself."))
        else:
            # Approving at the shop: typed keys are not used, so they are not kept either.
            data["consumer_key"] = data["consumer_secret"] = ""
        return data


AMAZON_MARKETPLACE_CHOICES = [
    ("ATVPDKIKX0DER", _("Amazon US (amazon.com)")),
    ("A1VC38T7YXB528", _("Amazon Japan (amazon.co.jp)")),
    ("A2EUQ1WTGCTBG2", _("Amazon Canada (amazon.ca)")),
    ("A1F83G8C2ARO7P", _("Amazon UK (amazon.co.uk)")),
    ("A1PA6795UKMFR9", _("Amazon Germany (amazon.de)")),
    ("A39IBJ37TRP1C6", _("Amazon Australia (amazon.com.au)")),
]


class AmazonStoreForm(StoreBaseForm):
    """The marketplace decides the site and the currency; the seller consents in Seller Central."""

    marketplace_id = forms.ChoiceField(label=_("Marketplace"), choices=AMAZON_MARKETPLACE_CHOICES)

    def __init__(self, *args, store=None, **kwargs):
        super().__init__(*args, store=store, **kwargs)
        del self.fields["site"]
        del self.fields["currency"]
        if store is not None:
            self.fields["marketplace_id"].disabled = True
            self.fields["marketplace_id"].initial = store.marketplace_id

    def clean(self):
        data = super().clean()
        marketplace = data.get("marketplace_id")
        if marketplace in MARKETPLACES:
            data["site"], data["currency"] = MARKETPLACES[marketplace][0], MARKETPLACES[marketplace][1]
        return data


class TikTokStoreForm(StoreBaseForm):
    """The seller authorizes in TikTok Shop; the shop whose region is the site is connected."""


class OtherStoreForm(StoreBaseForm):
    """A store without an API: a name and a site; its orders come by importing a file."""


FORMS: dict[str, type[StoreBaseForm]] = {
    Platform.SHOPIFY: ShopifyStoreForm,
    Platform.WOOCOMMERCE: WooCommerceStoreForm,
    Platform.AMAZON: AmazonStoreForm,
    Platform.TIKTOK: TikTokStoreForm,
    Platform.OTHER: OtherStoreForm,
}


class PlatformChoiceForm(forms.Form):
    platform = forms.ChoiceField(label=_("Platform"))

    def __init__(self, *args, platforms, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["platform"].choices = platforms
