"""The site's two languages: Vietnamese (the default) and English, every string of the pages, and the catalogue's
own bilingual fields.

The language is chosen by ``?lang=vi|en`` (the switch link; the choice is then remembered in the ``data_lang``
cookie) or else by that cookie; without either the page is in Vietnamese.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime, timedelta, timezone
from typing import Any, Literal

Lang = Literal["vi", "en"]
LANGS: tuple[Lang, ...] = ("vi", "en")
DEFAULT: Lang = "vi"
COOKIE = "data_lang"
COOKIE_MAX_AGE = 365 * 24 * 3600
CITY_ZONE = timezone(timedelta(hours=7), "ICT")  # Asia/Ho_Chi_Minh: no daylight saving time


def as_lang(value: str | None) -> Lang | None:
    if value == "vi":
        return "vi"
    if value == "en":
        return "en"
    return None


def choose(asked: str | None, remembered: str | None) -> tuple[Lang, bool]:
    """The page's language, and whether to (re)write the cookie (the visitor switched)."""
    wanted = as_lang(asked)
    if wanted is not None:
        return wanted, wanted != as_lang(remembered)
    return as_lang(remembered) or DEFAULT, False


STRINGS: dict[str, dict[Lang, str]] = {
    "site.title": {"vi": "Dữ liệu mở TP. Hồ Chí Minh", "en": "Ho Chi Minh City Open Data"},
    "site.tagline": {
        "vi": "Tìm, truy vấn và tải về dữ liệu của thành phố",
        "en": "Find, query and download the city's data",
    },
    "nav.datasets": {"vi": "Bộ dữ liệu", "en": "Datasets"},
    "nav.api": {"vi": "API", "en": "API"},
    "nav.switch": {"vi": "English", "en": "Tiếng Việt"},
    "search.label": {"vi": "Tìm bộ dữ liệu", "en": "Search datasets"},
    "search.placeholder": {
        "vi": "Ví dụ: chất lượng không khí, chat luong khong khi",
        "en": "For example: air quality, parking",
    },
    "search.submit": {"vi": "Tìm", "en": "Search"},
    "search.count": {"vi": "{count} bộ dữ liệu", "en": "{count} datasets"},
    "search.count.one": {"vi": "1 bộ dữ liệu", "en": "1 dataset"},
    "search.none": {"vi": "Không tìm thấy bộ dữ liệu nào.", "en": "No dataset found."},
    "search.error": {"vi": "Không hiểu được câu tìm kiếm", "en": "The search could not be understood"},
    "search.clear": {"vi": "Bỏ mọi bộ lọc", "en": "Clear all filters"},
    "sort.label": {"vi": "Sắp xếp", "en": "Sort by"},
    "sort.relevance": {"vi": "Phù hợp nhất", "en": "Relevance"},
    "sort.modified": {"vi": "Mới cập nhật", "en": "Last modified"},
    "sort.name": {"vi": "Tên (A-Z)", "en": "Name (A-Z)"},
    "page.previous": {"vi": "Trang trước", "en": "Previous"},
    "page.next": {"vi": "Trang sau", "en": "Next"},
    "page.of": {"vi": "Trang {page} / {pages}", "en": "Page {page} of {pages}"},
    "facet.organization": {"vi": "Cơ quan", "en": "Organisation"},
    "facet.groups": {"vi": "Chủ đề", "en": "Theme"},
    "facet.tags": {"vi": "Từ khóa", "en": "Tags"},
    "facet.res_format": {"vi": "Định dạng", "en": "Format"},
    "facet.license_id": {"vi": "Giấy phép", "en": "Licence"},
    "facet.remove": {"vi": "Bỏ lọc", "en": "Remove filter"},
    "facet.filters": {"vi": "Bộ lọc", "en": "Filters"},
    "ds.organization": {"vi": "Cơ quan", "en": "Organisation"},
    "ds.themes": {"vi": "Chủ đề", "en": "Themes"},
    "ds.tags": {"vi": "Từ khóa", "en": "Tags"},
    "ds.license": {"vi": "Giấy phép", "en": "Licence"},
    "ds.temporal": {"vi": "Phạm vi thời gian", "en": "Temporal coverage"},
    "ds.spatial": {"vi": "Phạm vi không gian", "en": "Spatial coverage"},
    "ds.frequency": {"vi": "Tần suất cập nhật", "en": "Update frequency"},
    "ds.modified": {"vi": "Cập nhật lần cuối", "en": "Last updated"},
    "ds.created": {"vi": "Ngày tạo", "en": "Created"},
    "ds.version": {"vi": "Phiên bản", "en": "Version"},
    "ds.details": {"vi": "Thông tin", "en": "Details"},
    "ds.resources": {"vi": "Tài nguyên và tải về", "en": "Resources and downloads"},
    "ds.no_resources": {"vi": "Bộ dữ liệu chưa có tài nguyên.", "en": "This dataset has no resources yet."},
    "ds.rows": {"vi": "{count} dòng", "en": "{count} rows"},
    "ds.download": {"vi": "Tải về", "en": "Download"},
    "ds.source": {"vi": "Liên kết gốc", "en": "Source link"},
    "ds.preview": {"vi": "Xem trước", "en": "Preview"},
    "ds.preview.of": {"vi": "{shown} dòng đầu trên tổng {total}", "en": "First {shown} of {total} rows"},
    "ds.preview.none": {
        "vi": "Tài nguyên này không có trong kho dữ liệu truy vấn được.",
        "en": "This resource is not in the queryable datastore.",
    },
    "ds.preview.empty": {"vi": "Chưa có dòng dữ liệu nào.", "en": "No rows yet."},
    "ds.preview.failed": {
        "vi": "Tạm thời không xem trước được dữ liệu.",
        "en": "The preview is not available right now.",
    },
    "ds.preview.pick": {"vi": "Xem trước tài nguyên này", "en": "Preview this resource"},
    "ds.chart": {"vi": "Biểu đồ theo thời gian", "en": "Time series chart"},
    "ds.chart.value": {"vi": "Giá trị", "en": "Value"},
    "ds.chart.time": {"vi": "Thời gian", "en": "Time"},
    "ds.chart.series": {"vi": "Chuỗi", "en": "Series"},
    "ds.chart.citytime": {"vi": "Giờ TP.HCM (UTC+7)", "en": "HCMC time (UTC+7)"},
    "ds.chart.note": {"vi": "{count} điểm gần nhất", "en": "latest {count} points"},
    "ds.map": {"vi": "Bản đồ", "en": "Map"},
    "ds.map.note": {"vi": "{count} đối tượng", "en": "{count} features"},
    "ds.map.nojs": {
        "vi": "Bản đồ và biểu đồ cần JavaScript; bảng xem trước và các tệp tải về thì không.",
        "en": "The map and the chart need JavaScript; the preview table and the downloads do not.",
    },
    "ds.api": {"vi": "Dùng qua API", "en": "Use it through the API"},
    "ds.api.show": {"vi": "Thông tin bộ dữ liệu (CKAN)", "en": "Dataset metadata (CKAN)"},
    "ds.api.search": {"vi": "Truy vấn dữ liệu", "en": "Query the rows"},
    "ds.api.python": {"vi": "Python với ckanapi", "en": "Python with ckanapi"},
    "ds.api.dcat": {"vi": "Siêu dữ liệu DCAT-AP (Turtle)", "en": "DCAT-AP metadata (Turtle)"},
    "ds.copy": {"vi": "Sao chép", "en": "Copy"},
    "ds.copied": {"vi": "Đã sao chép", "en": "Copied"},
    "ds.private": {"vi": "Riêng tư", "en": "Private"},
    "ds.modelled": {"vi": "Dữ liệu mô phỏng", "en": "Modelled data"},
    "ds.modelled.note": {
        "vi": "Đây là dữ liệu mô phỏng (tổng hợp), không phải số đo thực tế.",
        "en": "These are modelled (synthetic) values, not real measurements.",
    },
    "ds.none": {"vi": "—", "en": "—"},
    "list.datasets": {"vi": "Bộ dữ liệu của đơn vị", "en": "Datasets"},
    "list.organizations": {"vi": "Các cơ quan", "en": "Organisations"},
    "list.groups": {"vi": "Các chủ đề", "en": "Themes"},
    "list.all": {"vi": "Xem tất cả bộ dữ liệu của đơn vị này", "en": "See all its datasets"},
    "api.title": {"vi": "API dữ liệu mở", "en": "Open data API"},
    "api.intro": {
        "vi": (
            "Mọi dữ liệu trên trang này đều đọc được qua API, không cần đăng ký. API tương thích với "
            "Action API của CKAN (dùng được với thư viện ckanapi và các bộ thu thập dữ liệu), có kho dữ liệu "
            "truy vấn được (datastore), tải về CSV, JSON, GeoJSON, Parquet, và danh mục DCAT-AP 3.0."
        ),
        "en": (
            "Everything on this site can be read through the API, without registering. It speaks CKAN's Action "
            "API (the ckanapi client and data portals' harvesters work unchanged), has a queryable datastore, "
            "downloads as CSV, JSON, GeoJSON and Parquet, and a DCAT-AP 3.0 catalogue."
        ),
    },
    "api.openapi": {"vi": "Mô tả OpenAPI (JSON)", "en": "OpenAPI description (JSON)"},
    "api.docs": {"vi": "Tài liệu API tương tác", "en": "Interactive API documentation"},
    "api.examples": {"vi": "Ví dụ", "en": "Examples"},
    "api.search": {"vi": "Tìm bộ dữ liệu", "en": "Search datasets"},
    "api.list": {"vi": "Danh sách bộ dữ liệu", "en": "List datasets"},
    "api.sql": {"vi": "Truy vấn SQL (chỉ đọc)", "en": "SQL query (read-only)"},
    "api.catalog": {"vi": "Danh mục DCAT-AP", "en": "DCAT-AP catalogue"},
    "api.download": {"vi": "Tải về một tài nguyên", "en": "Download a resource"},
    "error.404.title": {"vi": "Không tìm thấy", "en": "Not found"},
    "error.404.dataset": {
        "vi": "Không có bộ dữ liệu nào tên “{name}”.",
        "en": "There is no dataset named “{name}”.",
    },
    "error.404.organization": {
        "vi": "Không có cơ quan nào tên “{name}”.",
        "en": "There is no organisation named “{name}”.",
    },
    "error.404.group": {"vi": "Không có chủ đề nào tên “{name}”.", "en": "There is no theme named “{name}”."},
    "error.back": {"vi": "Về trang tìm kiếm", "en": "Back to the search"},
    "error.unavailable.title": {"vi": "Tạm thời chưa phục vụ được", "en": "Temporarily unavailable"},
    "error.unavailable": {
        "vi": "Danh mục dữ liệu tạm thời không trả lời. Vui lòng thử lại sau.",
        "en": "The data catalogue is not answering right now. Please try again later.",
    },
    "error.bad.title": {"vi": "Yêu cầu không hợp lệ", "en": "Bad request"},
    "footer.licence": {
        "vi": "Dữ liệu được công bố theo giấy phép ghi trên từng bộ dữ liệu.",
        "en": "Data is published under the licence shown on each dataset.",
    },
    "freq.continuous": {"vi": "Liên tục", "en": "Continuous"},
    "freq.hourly": {"vi": "Hằng giờ", "en": "Hourly"},
    "freq.daily": {"vi": "Hằng ngày", "en": "Daily"},
    "freq.weekly": {"vi": "Hằng tuần", "en": "Weekly"},
    "freq.monthly": {"vi": "Hằng tháng", "en": "Monthly"},
    "freq.quarterly": {"vi": "Hằng quý", "en": "Quarterly"},
    "freq.annual": {"vi": "Hằng năm", "en": "Annual"},
    "freq.irregular": {"vi": "Không định kỳ", "en": "Irregular"},
    "freq.never": {"vi": "Không cập nhật", "en": "Never"},
    "freq.5min": {"vi": "5 phút một lần", "en": "Every 5 minutes"},
    "freq.15min": {"vi": "15 phút một lần", "en": "Every 15 minutes"},
}

#: update frequencies as CKAN portals and the EU vocabulary spell them -> the key of their label
FREQUENCIES = {
    "continuous": "freq.continuous",
    "cont": "freq.continuous",
    "update_cont": "freq.continuous",
    "hourly": "freq.hourly",
    "daily": "freq.daily",
    "weekly": "freq.weekly",
    "monthly": "freq.monthly",
    "quarterly": "freq.quarterly",
    "annual": "freq.annual",
    "yearly": "freq.annual",
    "irregular": "freq.irregular",
    "irreg": "freq.irregular",
    "never": "freq.never",
    "pt5m": "freq.5min",
    "5min": "freq.5min",
    "pt15m": "freq.15min",
    "15min": "freq.15min",
    "pt1h": "freq.hourly",
    "p1d": "freq.daily",
    "p1w": "freq.weekly",
    "p1m": "freq.monthly",
    "p1y": "freq.annual",
}


def text(lang: Lang, key: str, **values: object) -> str:
    """The string ``key`` in ``lang`` (the key itself when missing: visible, never a crash)."""
    found = STRINGS.get(key)
    if found is None:
        return key
    return found[lang].format(**values) if values else found[lang]


def _extra(obj: Mapping[str, Any], key: str) -> Any:
    for extra in obj.get("extras") or ():
        if isinstance(extra, Mapping) and extra.get("key") == key:
            return extra.get("value")
    return None


def field(obj: Mapping[str, Any], key: str) -> Any:
    """A dataset's field, top-level or among CKAN's ``extras`` (portals put custom fields in either)."""
    value = obj.get(key)
    return value if value not in (None, "") else _extra(obj, key)


def localized(obj: Mapping[str, Any], key: str, lang: Lang) -> str:
    """A bilingual field in ``lang``: ``{key}_translated`` (ckanext-fluent's shape), ``{key}_{lang}`` (top-level or
    an extra), else the field itself (the catalogue's primary language is Vietnamese)."""
    translated = obj.get(f"{key}_translated")
    if isinstance(translated, Mapping):
        for candidate in (lang, DEFAULT, "vi", "en"):
            value = translated.get(candidate)
            if isinstance(value, str) and value.strip():
                return value
    value = field(obj, f"{key}_{lang}")
    if isinstance(value, str) and value.strip():
        return value
    plain = obj.get(key)
    return plain if isinstance(plain, str) else ""


def frequency(value: object, lang: Lang) -> str:
    if not isinstance(value, str) or not value:
        return ""
    code = value.rstrip("/").rsplit("/", 1)[-1].lower()
    key = FREQUENCIES.get(code)
    return text(lang, key) if key else value


def parse_time(value: object) -> datetime | None:
    """CKAN's ISO 8601 strings (UTC without offset) and ISO dates; None when not a time."""
    if not isinstance(value, str) or not value:
        return None
    try:
        found = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return found if found.tzinfo is not None else found.replace(tzinfo=UTC)


def show_time(value: object, lang: Lang, *, with_time: bool = True) -> str:
    """A time as the city reads it (Asia/Ho_Chi_Minh); the value itself when it is not a time."""
    found = parse_time(value)
    if found is None:
        return value if isinstance(value, str) else ""
    local = found.astimezone(CITY_ZONE)
    clock = "%H:%M"
    if lang == "vi":
        return local.strftime(f"{clock} %d/%m/%Y" if with_time else "%d/%m/%Y")
    return local.strftime(f"%Y-%m-%d {clock}" if with_time else "%Y-%m-%d")


def show_date(value: object, lang: Lang) -> str:
    if isinstance(value, str) and len(value) == 10:  # a plain date: no time zone to apply
        try:
            day = datetime.strptime(value, "%Y-%m-%d")
        except ValueError:
            return value
        return day.strftime("%d/%m/%Y") if lang == "vi" else value
    return show_time(value, lang, with_time=False)


def show_number(value: int, lang: Lang) -> str:
    grouped = f"{value:,}"
    return grouped.replace(",", ".") if lang == "vi" else grouped
