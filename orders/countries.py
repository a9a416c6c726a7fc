"""ISO 3166-1 countries: alpha-2, alpha-3 and English short name, plus common other names.

Order files name the destination country by ISO code (JP, JPN) or English name (Japan,
United States); `country_code` turns any of them into the alpha-2 code we store.
"""

import unicodedata

_TABLE = """
AD AND Andorra|AE ARE United Arab Emirates|AF AFG Afghanistan|AG ATG Antigua and Barbuda|AI AIA Anguilla
AL ALB Albania|AM ARM Armenia|AO AGO Angola|AQ ATA Antarctica|AR ARG Argentina|AS ASM American Samoa
AT AUT Austria|AU AUS Australia|AW ABW Aruba|AX ALA Aland Islands|AZ AZE Azerbaijan
BA BIH Bosnia and Herzegovina|BB BRB Barbados|BD BGD Bangladesh|BE BEL Belgium|BF BFA Burkina Faso
BG BGR Bulgaria|BH BHR Bahrain|BI BDI Burundi|BJ BEN Benin|BL BLM Saint Barthelemy|BM BMU Bermuda
BN BRN Brunei Darussalam|BO BOL Bolivia|BQ BES Bonaire, Sint Eustatius and Saba|BR BRA Brazil|BS BHS Bahamas
BT BTN Bhutan|BV BVT Bouvet Island|BW BWA Botswana|BY BLR Belarus|BZ BLZ Belize|CA CAN Canada
CC CCK Cocos (Keeling) Islands|CD COD Congo, Democratic Republic of the|CF CAF Central African Republic
CG COG Congo|CH CHE Switzerland|CI CIV Cote d'Ivoire|CK COK Cook Islands|CL CHL Chile|CM CMR Cameroon
CN CHN China|CO COL Colombia|CR CRI Costa Rica|CU CUB Cuba|CV CPV Cabo Verde|CW CUW Curacao
CX CXR Christmas Island|CY CYP Cyprus|CZ CZE Czechia|DE DEU Germany|DJ DJI Djibouti|DK DNK Denmark
DM DMA Dominica|DO DOM Dominican Republic|DZ DZA Algeria|EC ECU Ecuador|EE EST Estonia|EG EGY Egypt
EH ESH Western Sahara|ER ERI Eritrea|ES ESP Spain|ET ETH Ethiopia|FI FIN Finland|FJ FJI Fiji
FK FLK Falkland Islands|FM FSM Micronesia|FO FRO Faroe Islands|FR FRA France|GA GAB Gabon
GB GBR United Kingdom|GD GRD Grenada|GE GEO Georgia|GF GUF French Guiana|GG GGY Guernsey|GH GHA Ghana
GI GIB Gibraltar|GL GRL Greenland|GM GMB Gambia|GN GIN Guinea|GP GLP Guadeloupe|GQ GNQ Equatorial Guinea
GR GRC Greece|GS SGS South Georgia and the South Sandwich Islands|GT GTM Guatemala|GU GUM Guam
GW GNB Guinea-Bissau|GY GUY Guyana|HK HKG Hong Kong|HM HMD Heard Island and McDonald Islands|HN HND Honduras
HR HRV Croatia|HT HTI Haiti|HU HUN Hungary|ID IDN Indonesia|IE IRL Ireland|IL ISR Israel|IM IMN Isle of Man
IN IND India|IO IOT British Indian Ocean Territory|IQ IRQ Iraq|IR IRN Iran|IS ISL Iceland|IT ITA Italy
JE JEY Jersey|JM JAM Jamaica|JO JOR Jordan|JP JPN Japan|KE KEN Kenya|KG KGZ Kyrgyzstan|KH KHM Cambodia
KI KIR Kiribati|KM COM Comoros|KN KNA Saint Kitts and Nevis|KP PRK North Korea|KR KOR South Korea|KW KWT Kuwait
KY CYM Cayman Islands|KZ KAZ Kazakhstan|LA LAO Laos|LB LBN Lebanon|LC LCA Saint Lucia|LI LIE Liechtenstein
LK LKA Sri Lanka|LR LBR Liberia|LS LSO Lesotho|LT LTU Lithuania|LU LUX Luxembourg|LV LVA Latvia|LY LBY Libya
MA MAR Morocco|MC MCO Monaco|MD MDA Moldova|ME MNE Montenegro|MF MAF Saint Martin (French part)|MG MDG Madagascar
MH MHL Marshall Islands|MK MKD North Macedonia|ML MLI Mali|MM MMR Myanmar|MN MNG Mongolia|MO MAC Macao
MP MNP Northern Mariana Islands|MQ MTQ Martinique|MR MRT Mauritania|MS MSR Montserrat|MT MLT Malta|MU MUS Mauritius
MV MDV Maldives|MW MWI Malawi|MX MEX Mexico|MY MYS Malaysia|MZ MOZ Mozambique|NA NAM Namibia|NC NCL New Caledonia
NE NER Niger|NF NFK Norfolk Island|NG NGA Nigeria|NI NIC Nicaragua|NL NLD Netherlands|NO NOR Norway|NP NPL Nepal
NR NRU Nauru|NU NIU Niue|NZ NZL New Zealand|OM OMN Oman|PA PAN Panama|PE PER Peru|PF PYF French Polynesia
PG PNG Papua New Guinea|PH PHL Philippines|PK PAK Pakistan|PL POL Poland|PM SPM Saint Pierre and Miquelon
PN PCN Pitcairn|PR PRI Puerto Rico|PS PSE Palestine|PT PRT Portugal|PW PLW Palau|PY PRY Paraguay|QA QAT Qatar
RE REU Reunion|RO ROU Romania|RS SRB Serbia|RU RUS Russia|RW RWA Rwanda|SA SAU Saudi Arabia|SB SLB Solomon Islands
SC SYC Seychelles|SD SDN Sudan|SE SWE Sweden|SG SGP Singapore|SH SHN Saint Helena|SI SVN Slovenia
SJ SJM Svalbard and Jan Mayen|SK SVK Slovakia|SL SLE Sierra Leone|SM SMR San Marino|SN SEN Senegal|SO SOM Somalia
SR SUR Suriname|SS SSD South Sudan|ST STP Sao Tome and Principe|SV SLV El Salvador|SX SXM Sint Maarten (Dutch part)
SY SYR Syria|SZ SWZ Eswatini|TC TCA Turks and Caicos Islands|TD TCD Chad|TF ATF French Southern Territories
TG TGO Togo|TH THA Thailand|TJ TJK Tajikistan|TK TKL Tokelau|TL TLS Timor-Leste|TM TKM Turkmenistan|TN TUN Tunisia
TO TON Tonga|TR TUR Turkey|TT TTO Trinidad and Tobago|TV TUV Tuvalu|TW TWN Taiwan|TZ TZA Tanzania|UA UKR Ukraine
UG UGA Uganda|UM UMI United States Minor Outlying Islands|US USA United States|UY URY Uruguay|UZ UZB Uzbekistan
VA VAT Holy See|VC VCT Saint Vincent and the Grenadines|VE VEN Venezuela|VG VGB Virgin Islands (British)
VI VIR Virgin Islands (U.S.)|VN VNM Viet Nam|VU VUT Vanuatu|WF WLF Wallis and Futuna|WS WSM Samoa|YE YEM Yemen
YT MYT Mayotte|ZA ZAF South Africa|ZM ZMB Zambia|ZW ZWE Zimbabwe
"""
# Names people write that are not the ISO short name above.
_ALIASES = {
    "united states of america": "US",
    "america": "US",
    "u.s.": "US",
    "u.s.a.": "US",
    "uk": "GB",
    "great britain": "GB",
    "britain": "GB",
    "england": "GB",
    "scotland": "GB",
    "wales": "GB",
    "northern ireland": "GB",
    "korea": "KR",
    "republic of korea": "KR",
    "korea, republic of": "KR",
    "russian federation": "RU",
    "vietnam": "VN",
    "czech republic": "CZ",
    "holland": "NL",
    "the netherlands": "NL",
    "ivory coast": "CI",
    "cape verde": "CV",
    "swaziland": "SZ",
    "macau": "MO",
    "hong kong sar": "HK",
    "brunei": "BN",
    "turkiye": "TR",
    "vatican": "VA",
    "vatican city": "VA",
    "democratic republic of the congo": "CD",
    "republic of the congo": "CG",
    "iran, islamic republic of": "IR",
    "lao people's democratic republic": "LA",
    "moldova, republic of": "MD",
    "tanzania, united republic of": "TZ",
    "bolivia, plurinational state of": "BO",
    "venezuela, bolivarian republic of": "VE",
    "syrian arab republic": "SY",
    "micronesia, federated states of": "FM",
    "palestine, state of": "PS",
    "taiwan, province of china": "TW",
    "uae": "AE",
}


def _key(text: str) -> str:
    folded = unicodedata.normalize("NFKD", text.replace("\u2019", "'")).encode("ascii", "ignore").decode()
    return " ".join(folded.strip().lower().split())


def _build() -> tuple[dict[str, str], dict[str, str], dict[str, str]]:
    alpha2, lookup, names = {}, {}, {}
    for entry in "|".join(line for line in _TABLE.strip().splitlines()).split("|"):
        code, code3, name = entry.strip().split(" ", 2)
        alpha2[code] = code
        lookup[code3] = code
        lookup[_key(name)] = code
        names[code] = name
    lookup.update({_key(alias): code for alias, code in _ALIASES.items()})
    return alpha2, lookup, names


_ALPHA2, _LOOKUP, COUNTRY_NAMES = _build()


def country_code(value) -> str | None:
    """'JP', 'jpn', 'Japan', 'United States of America' -> 'JP' / 'US'; None if unknown."""
    text = str(value or "").strip()
    if not text:
        return None
    upper = text.upper()
    if upper in _ALPHA2:
        return upper
    if upper in _LOOKUP:
        return _LOOKUP[upper]
    return _LOOKUP.get(_key(text))
