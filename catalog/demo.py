"""Demo catalog: three warehouses with their shipping methods and rate cards, the user
guide's product and 55 more.

Idempotent and deterministic: rows are found by their codes and created only when
missing (a re-run never resets stock that demo orders may have reserved), and the
generated products come from a fixed random seed. Each method gets two rate cards: last
year's (ended on 1 January) and this year's (in force, open-ended). The document and image files are
made here in code (a one-page PDF, a small PNG), so the repository holds no binaries.
"""

import random
import struct
import zlib
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from django.core.files.base import ContentFile
from django.utils import timezone

from distribution.money import quantize

from . import services
from .models import Category, Document, Item, Product, RateCard, ShippingMethod, Warehouse

SEED = 2026
WAREHOUSES = [
    # code, name, country, sites, address, opening hours, handling fee (USD), number in the Item ID,
    # self-pickup fee (USD), handling fee per extra piece (USD)
    (
        "US-CA",
        "Los Angeles warehouse",
        "US",
        "US",
        "1200 Harbor Logistics Way, Ontario, CA 91761, United States",
        "Mon–Fri 08:00–17:00 (PT)",
        "1.20",
        "01",
        "2.00",
        "0.30",
    ),
    (
        "DE-FRA",
        "Frankfurt warehouse",
        "DE",
        "DE,FR,IT,ES,NL,BE,AT,PL,SE,GB",
        "Cargo Strasse 12, 65451 Kelsterbach, Germany",
        "Mon–Fri 09:00–17:00 (CET)",
        "1.50",
        "02",
        "2.50",
        "0.40",
    ),
    (
        "JP-TYO",
        "Tokyo warehouse",
        "JP",
        "JP",
        "4-1 Logistics Park, Koto-ku, Tokyo 135-0064, Japan",
        "Mon–Sat 09:00–18:00 (JST)",
        "1.30",
        "03",
        "1.80",
        "0.35",
    ),
]
GUIDE_PRODUCT = {
    "code": "LS228800001",
    "name": "SNOWTOX CRYSTAL TREATMENT SERUM",
    "brand": "SNOWTOX",
    "category": "Skin care",
    "description": (
        "A lightweight brightening serum with niacinamide and glacier water. "
        "Apply two drops morning and evening on clean skin."
    ),
    "attributes": {"volume": "30 ml", "shelf life": "36 months", "origin": "South Korea"},
    "hs_code": "330499",
    "declared_value": Decimal("8.00"),
    "weight_grams": 120,
    "length_cm": Decimal("4.5"),
    "width_cm": Decimal("4.5"),
    "height_cm": Decimal("12.0"),
    "cloud_drive_url": "https://drive.example.com/s/snowtox-crystal-serum",
    "cloud_drive_access_code": "SN28",
}
# The user guide's own example (step 4): the same product in the US and the JP warehouse.
# Item ID, warehouse, price, stock, packed weight (g), packed length × width × height (cm).
GUIDE_ITEMS = [
    ("LS228800001-01-01", "US-CA", Decimal("12.80"), 240, 145, ("5.0", "5.0", "13.0")),
    ("LS228800001-01-02", "DE-FRA", Decimal("13.40"), 120, 145, ("5.0", "5.0", "13.0")),
    ("LS228800001-01-03", "JP-TYO", Decimal("13.10"), 180, 150, ("5.5", "5.5", "13.5")),
]
CATALOG = {
    "Skin care": (
        "SNOWTOX",
        ["Hydrating Toner", "Vitamin C Essence", "Night Repair Cream", "Clay Mask", "Sun Gel SPF50"],
    ),
    "Hair care": ("KIYOMI", ["Argan Hair Oil", "Scalp Shampoo", "Silk Conditioner", "Curl Cream"]),
    "Body care": ("NORDLYS", ["Body Lotion", "Hand Cream", "Shower Oil", "Foot Balm"]),
    "Makeup": ("AURELIA", ["Cushion Foundation", "Matte Lip Tint", "Brow Pencil", "Setting Powder"]),
    "Home & kitchen": ("VERDANT", ["Bamboo Cutting Board", "Glass Storage Jar", "Silicone Lid Set", "Coffee Dripper"]),
    "Electronics accessories": ("PIXELHOME", ["USB-C Cable 2 m", "Wireless Charger", "Phone Stand", "Cable Organizer"]),
}
EXTRA_PRODUCTS = 55


def pdf_bytes(lines: list[str]) -> bytes:
    """A valid one-page PDF showing `lines` (ASCII) in Helvetica."""

    def escape(text: str) -> str:
        return text.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")

    text = "BT /F1 14 Tf 72 760 Td 20 TL " + " ".join(f"({escape(line)}) Tj T*" for line in lines) + " ET"
    stream = text.encode("latin-1", "replace")
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Resources << /Font << /F1 4 0 R >> >> "
        b"/Contents 5 0 R >>",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
        b"<< /Length " + str(len(stream)).encode() + b" >>\nstream\n" + stream + b"\nendstream",
    ]
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += f"{number} 0 obj\n".encode() + body + b"\nendobj\n"
    xref = len(out)
    out += f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode()
    out += b"".join(f"{offset:010d} 00000 n \n".encode() for offset in offsets)
    out += f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n".encode()
    return bytes(out)


def png_bytes(rgb: tuple[int, int, int], size: int = 96) -> bytes:
    """A solid-colour square PNG with a lighter diagonal band (so it is visibly an image)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    light = bytes(min(255, c + 70) for c in rgb)
    rows = b"".join(
        b"\x00" + b"".join(light if abs(x - y) < size // 8 else bytes(rgb) for x in range(size)) for y in range(size)
    )
    header = struct.pack(">IIBBBBB", size, size, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(rows, 9)) + chunk(b"IEND", b"")


def _warehouses() -> dict[str, Warehouse]:
    result = {}
    for code, name, country, sites, address, hours, fee, _number, pickup_fee, extra_piece_fee in WAREHOUSES:
        warehouse, _created = Warehouse.objects.get_or_create(
            code=code,
            defaults={
                "name": name,
                "country": country,
                "sites": sites,
                "address": address,
                "opening_hours": hours,
                "handling_fee": Decimal(fee),
                "self_pickup_fee": Decimal(pickup_fee),
                "handling_fee_per_extra_piece": Decimal(extra_piece_fee),
            },
        )
        # Warehouses seeded before the self-pickup fee (or the fee per extra piece) existed get it once.
        Warehouse.objects.filter(pk=warehouse.pk, self_pickup_fee=0).update(self_pickup_fee=Decimal(pickup_fee))
        Warehouse.objects.filter(pk=warehouse.pk, handling_fee_per_extra_piece=0).update(
            handling_fee_per_extra_piece=Decimal(extra_piece_fee)
        )
        result[code] = warehouse
    return result


def _product(fields: dict) -> Product:
    fields = dict(fields)
    category, _created = Category.objects.get_or_create(name=fields.pop("category"))
    product, _created = Product.objects.get_or_create(
        code=fields.pop("code"), defaults={**fields, "category": category}
    )
    return product


def _item(product: Product, item_id: str, warehouse: Warehouse, price: Decimal, stock: int, **extra) -> None:
    if Item.objects.filter(item_id=item_id).exists():
        return
    item = Item(
        item_id=item_id,
        product=product,
        warehouse=warehouse,
        price=price,
        weight_grams=extra.pop("weight_grams", product.weight_grams or 100),
        stock_on_hand=stock,
        **extra,
    )
    services.item_save(item=item, reference="demo data")


def _document(product: Product, doc_type: str, title: str, valid_until=None) -> None:
    if product.documents.filter(doc_type=doc_type).exists():
        return
    lines = [
        title,
        f"Product: {product.name}",
        f"Product code: {product.code}",
        "Demo document - not a real certificate.",
    ]
    services.document_create(
        product=product,
        doc_type=doc_type,
        title=title,
        valid_until=valid_until,
        file=ContentFile(pdf_bytes(lines), name=f"{product.code}-{doc_type}.pdf"),
    )


def _images(product: Product, colours: list[tuple[int, int, int]]) -> None:
    if product.images.exists():
        return
    for position, colour in enumerate(colours):
        services.product_image_add(
            product=product,
            file=ContentFile(png_bytes(colour), name=f"{product.code}-{position + 1}.png"),
            alt_text=product.name,
            position=position,
        )


# --- logistics ------------------------------------------------------------------------------------
# Prices in USD (what the platform charges distributors, whatever the carrier bills the
# warehouse), shaped like the carriers' 2026 retail tables. A zone is (name, country,
# regions, postcode prefixes, price factor on the method's rows); a row is (up to g, first
# g, first price, step g, step price, minimum charge).

US_WEST = "CA,NV,AZ,OR,WA,UT,ID"
US_ZONES = [
    ("Zones 1–4 (West)", "US", US_WEST, "", "1.00"),
    ("Zones 5–8 (rest of the contiguous US)", "US", "", "", "1.30"),
]
USPS_ZONES = [*US_ZONES, ("Alaska, Hawaii, Puerto Rico", "US", "AK,HI,PR", "", "1.85")]
# Japanese postcodes: 1, 2 and 30–37 are Kanto (Tokyo, Kanagawa, Chiba, Saitama, Ibaraki,
# Tochigi, Gunma); 00 and 04–09 Hokkaido; 80–89 Kyushu; 90 Okinawa.
JP_ZONES = [
    ("Kanto", "JP", "", "1,2,30,31,32,33,34,35,36,37", "1.00"),
    ("Honshu and Shikoku", "JP", "", "", "1.12"),
    ("Hokkaido", "JP", "", "00,04,05,06,07,08,09", "1.55"),
    ("Kyushu", "JP", "", "80,81,82,83,84,85,86,87,88,89", "1.25"),
    ("Okinawa", "JP", "", "90", "1.95"),
]
# The North Sea islands (Sylt, Föhr, Norderney, Borkum, Helgoland) cost more to reach.
DE_ZONES = [
    ("Germany", "DE", "", "", "1.00"),
    ("North Sea islands", "DE", "", "25980,25938,26548,26757,27498", "1.60"),
]
EU_FACTORS = {"NL": "1.00", "BE": "1.00", "AT": "1.00", "FR": "1.05", "PL": "1.10", "IT": "1.15", "ES": "1.15"}
DHL_INTL_ZONES = [
    (country, country, "", "", factor) for country, factor in {**EU_FACTORS, "SE": "1.25", "GB": "1.45"}.items()
]
DPD_ZONES = [("DE", "DE", "", "", "1.00"), *((c, c, "", "", EU_FACTORS[c]) for c in ("NL", "BE", "AT", "FR"))]


def _flat(*bands: tuple[int, str]) -> list[tuple]:
    """Rows of one price per weight band (Japanese carriers price by size band)."""
    return [(grams, grams, price, 0, "0", "0") for grams, price in bands]


@dataclass(frozen=True)
class DemoMethod:
    code: str
    carrier: str
    service: str
    countries: str
    zones: list[tuple]
    rows: list[tuple]
    eta: tuple[int, int]
    divisor: int = 5000
    fuel: str = "0"
    excluded: str = ""


NOT_CONTIGUOUS = "US-AK,US-HI,US-PR"
SHIPPING_METHODS = {
    "US-CA": [
        DemoMethod(
            "USPS_GROUND_ADVANTAGE",
            "USPS",
            "Ground Advantage",
            "US",
            USPS_ZONES,
            [(500, 100, "4.80", 100, "0.45", "4.80"), (5000, 500, "6.60", 500, "0.95", "0")]
            + [(31500, 5000, "15.15", 500, "0.55", "0")],
            eta=(2, 5),
            divisor=6000,
        ),
        DemoMethod(
            "UPS_GROUND",
            "UPS",
            "Ground",
            "US",
            US_ZONES,
            [(5000, 500, "9.85", 500, "0.85", "9.85"), (68000, 5000, "17.50", 1000, "1.10", "0")],
            eta=(1, 5),
            fuel="16.25",
            excluded=NOT_CONTIGUOUS,
        ),
        DemoMethod(
            "FEDEX_HOME_DELIVERY",
            "FedEx",
            "Home Delivery",
            "US",
            US_ZONES,
            [(5000, 500, "9.55", 500, "0.90", "9.55"), (68000, 5000, "17.65", 1000, "1.08", "0")],
            eta=(1, 5),
            fuel="16.75",
            excluded=NOT_CONTIGUOUS,
        ),
    ],
    "JP-TYO": [
        DemoMethod(
            "YAMATO_TAQBIN",
            "Yamato Transport",
            "TA-Q-BIN",
            "JP",
            JP_ZONES,
            _flat((2000, "6.40"), (5000, "8.30"), (10000, "10.30"), (15000, "12.40"), (20000, "14.70")),
            eta=(1, 2),
            divisor=6000,
        ),
        DemoMethod(
            "JAPANPOST_YUPACK",
            "Japan Post",
            "Yu-Pack",
            "JP",
            JP_ZONES,
            _flat((2000, "6.10"), (5000, "7.90"), (10000, "9.90"), (15000, "11.90"), (25000, "15.60")),
            eta=(1, 3),
            divisor=6000,
        ),
        DemoMethod(
            "SAGAWA_HIKYAKU",
            "Sagawa Express",
            "Hikyaku Express",
            "JP",
            JP_ZONES,
            _flat((2000, "6.60"), (5000, "8.50"), (10000, "10.70"), (20000, "14.90"), (30000, "18.50")),
            eta=(1, 2),
            divisor=6000,
        ),
    ],
    "DE-FRA": [
        DemoMethod(
            "DHL_PAKET",
            "DHL",
            "Paket",
            "DE",
            DE_ZONES,
            _flat((2000, "5.20"), (5000, "6.40"), (10000, "9.10"), (31500, "13.90")),
            eta=(1, 2),
        ),
        DemoMethod(
            "DHL_PAKET_INTL",
            "DHL",
            "Paket International",
            "FR,IT,ES,NL,BE,AT,PL,SE,GB",
            DHL_INTL_ZONES,
            [(31500, 1000, "14.50", 500, "0.75", "14.50")],
            eta=(3, 6),
            fuel="7.50",
        ),
        DemoMethod(
            "DPD_CLASSIC",
            "DPD",
            "Classic",
            "DE,FR,NL,BE,AT",
            DPD_ZONES,
            [(31500, 1000, "6.90", 500, "0.20", "6.90")],
            eta=(1, 4),
            divisor=6000,
            fuel="5.00",
        ),
    ],
}
# Last year's card: the prices before this year's general rate increase.
LAST_YEAR_FACTOR = Decimal("0.95")
LAST_YEAR_FUEL_OFFSET = Decimal("1.50")


def _zone_specs(zones: list[tuple], rows: list[tuple], factor: Decimal) -> list[services.ZoneSpec]:
    def price(value: str, zone_factor: str) -> Decimal:
        return quantize(Decimal(value) * Decimal(zone_factor) * factor, "USD")

    return [
        services.ZoneSpec(
            name=name,
            country=country,
            regions=regions,
            postcode_prefixes=prefixes,
            rows=tuple(
                services.RowSpec(
                    max_grams=up_to,
                    first_grams=first,
                    first_price=price(first_price, zone_factor),
                    step_grams=step,
                    step_price=price(step_price, zone_factor),
                    min_charge=price(minimum, zone_factor),
                )
                for up_to, first, first_price, step, step_price, minimum in rows
            ),
        )
        for name, country, regions, prefixes, zone_factor in zones
    ]


def _rate_cards(method: ShippingMethod, demo: DemoMethod) -> None:
    if method.rate_cards.exists():
        return
    this_year = timezone.make_aware(datetime(timezone.localdate().year, 1, 1))
    last_year = this_year.replace(year=this_year.year - 1)
    fuel = Decimal(demo.fuel)
    services.rate_card_create(
        method=method,
        currency="USD",
        fuel_surcharge_percent=max(fuel - LAST_YEAR_FUEL_OFFSET, Decimal(0)),
        effective_from=last_year,
        effective_to=this_year,
        zones=_zone_specs(demo.zones, demo.rows, LAST_YEAR_FACTOR),
        note="Demo: last year's prices",
    )
    services.rate_card_create(
        method=method,
        currency="USD",
        fuel_surcharge_percent=fuel,
        effective_from=this_year,
        zones=_zone_specs(demo.zones, demo.rows, Decimal(1)),
        note="Demo: this year's prices",
    )


def _shipping(warehouses: dict[str, Warehouse]) -> None:
    for code, methods in SHIPPING_METHODS.items():
        for demo in methods:
            method, _created = ShippingMethod.objects.get_or_create(
                warehouse=warehouses[code],
                code=demo.code,
                defaults={
                    "carrier": demo.carrier,
                    "service": demo.service,
                    "countries": demo.countries,
                    "excluded_regions": demo.excluded,
                    "eta_min_days": demo.eta[0],
                    "eta_max_days": demo.eta[1],
                    "volumetric_divisor": demo.divisor,
                },
            )
            _rate_cards(method, demo)


def _generated_products(rng: random.Random) -> list[dict]:
    categories = list(CATALOG.items())
    products = []
    for n in range(EXTRA_PRODUCTS):
        category, (brand, names) = categories[n % len(categories)]
        base = names[(n // len(categories)) % len(names)]
        edition = ["", " Plus", " Mini", " Pro", " Travel Size"][(n // (len(categories) * len(names))) % 5]
        products.append(
            {
                "code": f"LS2288{n + 2:05d}",
                "name": f"{brand} {base}{edition}".upper(),
                "brand": brand,
                "category": category,
                "description": f"{base} by {brand}. Demo product for the distribution platform.",
                "attributes": {"pieces per carton": str(rng.choice([12, 24, 48]))},
                "hs_code": rng.choice(["330499", "330510", "340130", "392410", "854442", "850440"]),
                "declared_value": Decimal(rng.randint(150, 2500)) / 100,
                "weight_grams": rng.randint(40, 900),
                "length_cm": Decimal(rng.randint(30, 250)) / 10,
                "width_cm": Decimal(rng.randint(30, 150)) / 10,
                "height_cm": Decimal(rng.randint(10, 150)) / 10,
            }
        )
    return products


def seed(stdout) -> None:
    rng = random.Random(SEED)
    today = timezone.localdate()
    warehouses = _warehouses()
    numbers = {code: number for code, *_rest, number, _pickup_fee, _extra_piece_fee in WAREHOUSES}

    guide = _product(GUIDE_PRODUCT)
    for item_id, code, price, stock, grams, (length, width, height) in GUIDE_ITEMS:
        _item(
            guide,
            item_id,
            warehouses[code],
            price,
            stock,
            barcode=f"880{item_id[-2:]}2288000010",
            variant_attributes={"volume": "30 ml"},
            weight_grams=grams,
        )
        # Set once (items seeded before dimensions existed get them too); staff edits stay.
        Item.objects.filter(item_id=item_id, length_cm__isnull=True, width_cm__isnull=True).update(
            length_cm=Decimal(length), width_cm=Decimal(width), height_cm=Decimal(height)
        )
    _shipping(warehouses)
    _document(guide, Document.Type.CERTIFICATE, "Cosmetic product safety certificate", today + timedelta(days=365))
    _document(guide, Document.Type.TEST_REPORT, "Heavy metals test report", today + timedelta(days=20))
    _document(guide, Document.Type.MSDS, "Material safety data sheet")
    _images(guide, [(40, 110, 170), (120, 170, 210)])

    codes = list(warehouses)
    for n, fields in enumerate(_generated_products(rng)):
        product = _product(fields)
        chosen = sorted(rng.sample(codes, rng.choice([1, 2, 2, 3, 3, 3])), key=lambda c: numbers[c])
        variants = 2 if n % 6 == 0 else 1
        base_price = Decimal(rng.randint(250, 4500)) / 100
        for variant in range(1, variants + 1):
            for code in chosen:
                markup = {"US-CA": Decimal("1.00"), "DE-FRA": Decimal("1.06"), "JP-TYO": Decimal("1.04")}[code]
                stock = 0 if rng.random() < 0.1 else rng.randint(5, 600)
                _item(
                    product,
                    f"{product.code}-{variant:02d}-{numbers[code]}",
                    warehouses[code],
                    (base_price * markup + variant - 1).quantize(Decimal("0.01")),
                    stock,
                    barcode=f"69{rng.randint(10**10, 10**11 - 1)}",
                    variant_attributes={"variant": f"{variant:02d}"} if variants > 1 else {},
                )
        if n % 7 == 0:
            _document(
                product,
                Document.Type.CERTIFICATE,
                "Certificate of conformity",
                today + timedelta(days=rng.randint(-30, 400)),
            )
        if n % 5 == 0:
            Product.objects.filter(pk=product.pk, cloud_drive_url="").update(
                cloud_drive_url=f"https://drive.example.com/s/{product.code.lower()}",
                cloud_drive_access_code=f"{n:04d}",
            )
        if n % 4 == 0:
            _images(product, [(rng.randint(30, 180), rng.randint(30, 180), rng.randint(30, 180))])

    stdout.write(
        f"Catalog: {Warehouse.objects.count()} warehouses, {Product.objects.count()} products, "
        f"{Item.objects.count()} items (guide example: LS228800001-01-01 in US-CA, LS228800001-01-03 in JP-TYO), "
        f"{ShippingMethod.objects.count()} shipping methods, {RateCard.objects.count()} rate cards."
    )
