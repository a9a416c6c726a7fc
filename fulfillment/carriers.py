"""The one carrier table: a carrier as a warehouse names it -> what each platform calls it,
and where its packages are tracked.

A warehouse writes "USPS", "Yamato Transport", "DHL Paket" or "Hermes/Evri"; each
platform wants its own word for the same carrier, and some want a code from a list:

- Shopify, `tracking_info.company`: a name from Shopify's "Supported tracking companies"
  (FulfillmentTrackingInfo.company, shopify.dev Admin API; also vendored verbatim in
  ShopifySharp's `FulfillmentTrackingInfo` doc comment). For a listed name Shopify builds
  the tracking link itself; any other text is kept as given, so an unlisted carrier goes
  under its own name with our URL. The three Japanese carriers come as "(EN)" and "(JA)"
  entries; a store selling to Japan gets the Japanese one.
- Amazon, confirmShipment `carrierCode`: a value of Amazon's CarrierCode list (the
  `CarrierCode` enumeration of the feeds schema amzn-base.xsd, as vendored by
  vhqtvn/amazon-mws-psr4; the Japanese carriers as `stores/platforms/amazon.py` already
  sends them, "Yamato Transport", "Sagawa Express", "Japan Post", which the xsd spells
  differently: UNVERIFIED against Amazon's current "Acceptable CarrierCode values" page,
  which we could not read). Anything not listed goes as "Other" with the name in
  `carrierName`, as the Orders API requires.
- TikTok Shop, `shipping_provider_id`: TikTok lists the providers of each order's
  delivery option (GET /logistics/202309/delivery_options/{id}/shipping_providers); ids
  differ by region and option, so the client always reads that list and picks the id
  named here (USPS 7117858858072016686 is the id of TikTok's own "Get Shipping Providers"
  example, FACTS.md; the sandbox serves it too), else the provider whose name matches.
  The names are the carriers' usual English names: UNVERIFIED beyond USPS, UPS and FedEx.
- WooCommerce, Shipment Tracking extension `tracking_provider`: a name of the
  extension's built-in provider list (its `get_providers()` table, as copied by WC
  Vendors Pro's `shipping_providers()`); a carrier the extension does not list goes as
  `custom_tracking_provider` + `custom_tracking_link`.

The tracking URL templates (`{number}` is replaced) are each carrier's public tracking
page; they are the fallback when the warehouse gave no URL, and the link for carriers a
platform does not know. Warehouse names are matched ignoring case, spaces and
punctuation, by the aliases below, then by the longest alias the name starts with
("FedEx Ground" is FedEx); a carrier we do not know keeps its name everywhere.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass, field
from functools import cache
from urllib.parse import quote

from stores.models import Platform

OTHER = "Other"  # Amazon's carrierCode for a carrier off its list


@dataclass(frozen=True)
class Carrier:
    key: str
    # The name people read (the tracking file, the order's timeline).
    name: str
    aliases: tuple[str, ...] = ()
    url_template: str = ""
    shopify: str = ""
    # Shopify names that depend on the store's site: (("JP", "Yamato (JA)"),).
    shopify_by_site: tuple[tuple[str, str], ...] = ()
    amazon: str = ""
    tiktok: str = ""
    tiktok_id: str = ""
    woocommerce: str = ""

    def tracking_url(self, number: str) -> str:
        if not self.url_template or not number:
            return ""
        return self.url_template.replace("{number}", quote(number.strip(), safe=""))


@dataclass(frozen=True)
class PlatformCarrier:
    """A carrier as one platform takes it: `name` always, `code` where the platform has a
    list of its own (Amazon's carrierCode, TikTok's provider id, WooCommerce's provider)."""

    name: str
    code: str = ""
    known: bool = field(default=True, compare=False)


CARRIERS: tuple[Carrier, ...] = (
    Carrier(
        "usps",
        "USPS",
        ("United States Postal Service", "US Postal Service", "U.S. Postal Service", "US Mail"),
        "https://tools.usps.com/go/TrackConfirmAction?tLabels={number}",
        shopify="USPS",
        amazon="USPS",
        tiktok="USPS",
        tiktok_id="7117858858072016686",
        woocommerce="USPS",
    ),
    Carrier(
        "ups",
        "UPS",
        ("United Parcel Service", "UPS Ground", "UPS Worldwide"),
        "https://www.ups.com/track?tracknum={number}",
        shopify="UPS",
        amazon="UPS",
        tiktok="UPS",
        woocommerce="UPS",
    ),
    Carrier(
        "fedex",
        "FedEx",
        ("Federal Express", "FedEx Ground", "FedEx Express", "FDX"),
        "https://www.fedex.com/fedextrack/?trknbr={number}",
        shopify="FedEx",
        amazon="FedEx",
        tiktok="FedEx",
        woocommerce="Fedex",
    ),
    Carrier(
        "ontrac",
        "OnTrac",
        ("On Trac",),
        "https://www.ontrac.com/tracking/?number={number}",
        shopify="OnTrac",
        amazon="OnTrac",
        tiktok="OnTrac",
        woocommerce="OnTrac",
    ),
    Carrier(
        "dhl_express",
        "DHL Express",
        ("DHL", "DHL Worldwide Express", "DHL International"),
        "https://www.dhl.com/global-en/home/tracking/tracking-express.html?submit=1&tracking-id={number}",
        shopify="DHL Express",
        amazon="DHL",
        tiktok="DHL Express",
        woocommerce="DHL Express",
    ),
    Carrier(
        "dhl_ecommerce",
        "DHL eCommerce",
        ("DHL eCommerce Solutions", "DHL Global Mail", "DHL eCommerce US", "DHL US"),
        "https://webtrack.dhlecs.com/?trackingnumber={number}",
        shopify="DHL eCommerce",
        amazon="DHL Global Mail",
        tiktok="DHL eCommerce",
        woocommerce="DHL US",
    ),
    Carrier(
        "dhl_paket",
        "DHL Paket",
        ("DHL Parcel Germany", "DHL Germany", "DHL Paket DE", "DHL Parcel DE", "DHL Intraship"),
        "https://www.dhl.de/de/privatkunden/pakete-empfangen/verfolgen.html?piececode={number}",
        shopify="DHL",
        amazon="DHL",
        tiktok="DHL",
        woocommerce="DHL Intraship (DE)",
    ),
    Carrier(
        "deutsche_post",
        "Deutsche Post",
        ("Deutsche Post DHL", "Warenpost"),
        "https://www.deutschepost.de/sendung/simpleQuery.html?form.sendungsnummer={number}",
        shopify="Deutsche Post",
        amazon="Deutsche Post",
        tiktok="Deutsche Post",
        woocommerce="Deutsche Post DHL",
    ),
    Carrier(
        "hermes_de",
        "Hermes",
        ("Hermes Germany", "Hermes DE", "Hermes Logistik Gruppe", "myHermes DE"),
        "https://www.myhermes.de/empfangen/sendungsverfolgung/sendungsinformation#{number}",
        shopify="Hermes",
        amazon="Hermes Logistik Gruppe",
        tiktok="Hermes",
        woocommerce="Hermes",
    ),
    Carrier(
        "evri",
        "Evri",
        ("Hermes/Evri", "Evri/Hermes", "Evri (Hermes)", "Hermes UK", "myHermes", "myHermes UK", "Hermes Evri"),
        "https://www.evri.com/track/parcel/{number}",
        shopify="Evri",
        tiktok="Evri",
    ),
    Carrier(
        "royal_mail",
        "Royal Mail",
        ("Royal Mail Tracked", "Royal Mail Tracked 24", "Royal Mail Tracked 48"),
        "https://www.royalmail.com/track-your-item#/tracking-results/{number}",
        shopify="Royal Mail",
        amazon="Royal Mail",
        tiktok="Royal Mail",
        woocommerce="Royal Mail",
    ),
    Carrier(
        "parcelforce",
        "Parcelforce",
        ("Parcelforce Worldwide", "Parcel Force"),
        "https://www.parcelforce.com/track-trace?trackNumber={number}",
        shopify="Parcelforce",
        amazon="Parcelforce",
        tiktok="Parcelforce",
        woocommerce="ParcelForce",
    ),
    Carrier(
        "yodel",
        "Yodel",
        ("Yodel Direct",),
        "https://www.yodel.co.uk/tracking/{number}",
        shopify="Yodel",
        amazon="Yodel",
        tiktok="Yodel",
    ),
    Carrier(
        "dpd",
        "DPD",
        ("DPD Germany", "DPD DE", "DPD Classic", "DPD Group"),
        "https://tracking.dpd.de/status/en_US/parcel/{number}",
        shopify="DPD",
        amazon="DPD",
        tiktok="DPD",
        woocommerce="DPD",
    ),
    Carrier(
        "dpd_uk",
        "DPD UK",
        ("DPD United Kingdom", "DPD Local"),
        "https://track.dpd.co.uk/parcels/{number}",
        shopify="DPD UK",
        amazon="DPD",
        tiktok="DPD UK",
        woocommerce="DPD.co.uk",
    ),
    Carrier(
        "gls",
        "GLS",
        ("General Logistics Systems", "GLS Germany", "GLS Group", "GLS Parcel"),
        "https://gls-group.com/track/{number}",
        shopify="GLS",
        amazon="GLS",
        tiktok="GLS",
    ),
    Carrier(
        "tnt",
        "TNT",
        ("TNT Express",),
        "https://www.tnt.com/express/en_gc/site/shipping-tools/tracking.html?searchType=con&cons={number}",
        shopify="TNT",
        amazon="TNT",
        tiktok="TNT",
        woocommerce="TNT Express (consignment)",
    ),
    Carrier(
        "colissimo",
        "Colissimo",
        ("La Poste", "La Poste Colissimo"),
        "https://www.laposte.fr/outils/suivre-vos-envois?code={number}",
        shopify="Colissimo",
        amazon="La Poste",
        tiktok="Colissimo",
        woocommerce="Colissimo",
    ),
    Carrier(
        "chronopost",
        "Chronopost",
        (),
        "https://www.chronopost.fr/tracking-no-cms/suivi-page?listeNumerosLT={number}",
        shopify="Chronopost",
        amazon="Chronopost",
        tiktok="Chronopost",
    ),
    Carrier(
        "poste_italiane",
        "Poste Italiane",
        ("Italian Post",),
        "https://www.poste.it/cerca/index.html#/risultati-spedizioni/{number}",
        shopify="Poste Italiane",
        amazon="Poste Italiane",
        tiktok="Poste Italiane",
    ),
    Carrier(
        "postnl",
        "PostNL",
        ("Post NL",),
        "https://jouw.postnl.nl/track-and-trace/{number}",
        shopify="PostNL",
        tiktok="PostNL",
        woocommerce="PostNL",
    ),
    Carrier(
        "canada_post",
        "Canada Post",
        ("Postes Canada", "Canada Post Corporation"),
        "https://www.canadapost-postescanada.ca/track-reperage/en#/search?searchFor={number}",
        shopify="Canada Post",
        amazon="Canada Post",
        tiktok="Canada Post",
        woocommerce="Canada Post",
    ),
    Carrier(
        "purolator",
        "Purolator",
        (),
        "https://www.purolator.com/en/shipping/tracker?pin={number}",
        shopify="Purolator",
        tiktok="Purolator",
        woocommerce="Purolator",
    ),
    Carrier(
        "australia_post",
        "Australia Post",
        ("AusPost", "Aus Post", "Australia Post eParcel"),
        "https://auspost.com.au/mypost/track/#/details/{number}",
        shopify="Australia Post",
        tiktok="Australia Post",
        woocommerce="Australia Post",
    ),
    Carrier(
        "yamato",
        "Yamato Transport",
        ("Yamato", "Kuroneko Yamato", "Yamato Unyu", "TA-Q-BIN", "TAQBIN", "ヤマト運輸", "クロネコヤマト"),
        "https://toi.kuronekoyamato.co.jp/cgi-bin/tneko?number00=1&number01={number}",
        shopify="Yamato (EN)",
        shopify_by_site=(("JP", "Yamato (JA)"),),
        amazon="Yamato Transport",
        tiktok="Yamato Transport",
    ),
    Carrier(
        "sagawa",
        "Sagawa Express",
        ("Sagawa", "SG Holdings", "佐川急便"),
        "https://k2k.sagawa-exp.co.jp/p/web/okurijosearch.do?okurijoNo={number}",
        shopify="Sagawa (EN)",
        shopify_by_site=(("JP", "Sagawa (JA)"),),
        amazon="Sagawa Express",
        tiktok="Sagawa Express",
    ),
    Carrier(
        "japan_post",
        "Japan Post",
        ("JP Post", "Nippon Post", "Japan Post EMS", "Yu-Pack", "Yupack", "Yu Packet", "日本郵便", "ゆうパック"),
        "https://trackings.post.japanpost.jp/services/srv/search/direct?reqCodeNo1={number}",
        shopify="Japan Post (EN)",
        shopify_by_site=(("JP", "Japan Post (JA)"),),
        amazon="Japan Post",
        tiktok="Japan Post",
    ),
    Carrier(
        "china_post",
        "China Post",
        ("China EMS", "ePacket", "China Post Air Mail"),
        "https://t.17track.net/en#nums={number}",
        shopify="China Post",
        tiktok="China Post",
    ),
    Carrier(
        "yunexpress",
        "YunExpress",
        ("Yun Express",),
        "https://www.yuntrack.com/parcelTracking?id={number}",
        shopify="YunExpress",
        tiktok="YunExpress",
    ),
    Carrier(
        "4px",
        "4PX",
        ("4PX Express", "4PX Worldwide Express"),
        "https://track.4px.com/#/result/0/{number}",
        shopify="4PX",
        tiktok="4PX",
    ),
    Carrier(
        "sf_express",
        "SF Express",
        ("SF", "Shunfeng", "SF International"),
        "https://www.sf-express.com/global/en/dynamic_function/waybill/#search/bill-number/{number}",
        shopify="SF Express",
        tiktok="SF Express",
    ),
)


def _normal(name: str) -> str:
    """Case, width, spaces and punctuation ignored: "Hermes/Evri" -> "hermesevri"."""
    folded = unicodedata.normalize("NFKC", name or "").casefold()
    return "".join(ch for ch in folded if ch.isalnum())


@cache
def _index() -> dict[str, Carrier]:
    index: dict[str, Carrier] = {}
    for carrier in CARRIERS:
        for name in (carrier.key, carrier.name, *carrier.aliases):
            index.setdefault(_normal(name), carrier)
    return index


MIN_PREFIX = 3


def carrier_for(name: str) -> Carrier:
    """The table's carrier for a warehouse's carrier name; an unknown one as itself (no
    platform names, no URL template), so it travels under the name the warehouse gave."""
    key = _normal(name)
    index = _index()
    if key in index:
        return index[key]
    prefixes = [alias for alias in index if len(alias) >= MIN_PREFIX and key.startswith(alias)]
    if key and prefixes:
        return index[max(prefixes, key=len)]
    return Carrier(key="", name=(name or "").strip())


def platform_carrier(carrier: Carrier, platform: str, *, site: str = "") -> PlatformCarrier:
    """What `platform` calls the carrier (for a store selling to `site`)."""
    name = carrier.name
    if platform == Platform.SHOPIFY:
        by_site = dict(carrier.shopify_by_site)
        chosen = by_site.get((site or "").upper()) or carrier.shopify
        return PlatformCarrier(name=chosen or name, known=bool(chosen))
    if platform == Platform.AMAZON:
        if carrier.amazon:
            return PlatformCarrier(name=carrier.amazon, code=carrier.amazon)
        return PlatformCarrier(name=name, code=OTHER, known=False)
    if platform == Platform.TIKTOK:
        return PlatformCarrier(name=carrier.tiktok or name, code=carrier.tiktok_id, known=bool(carrier.tiktok))
    if platform == Platform.WOOCOMMERCE:
        # The code is the extension's predefined provider; none means a custom provider.
        return PlatformCarrier(name=name, code=carrier.woocommerce, known=bool(carrier.woocommerce))
    return PlatformCarrier(name=name, known=bool(carrier.key))


def tracking_url(carrier: Carrier, number: str, given: str = "") -> str:
    """The warehouse's URL when it gave one, else the carrier's public tracking page."""
    return (given or "").strip() or carrier.tracking_url(number)
