"""Errors under ``/data/`` that no page handled (an unknown address, a missing file): a small bilingual HTML page.

Registered in :data:`smartcity.web.errors.FAMILIES` for the prefix ``/data/`` (with its slash: ``/datastore/``
keeps the CKAN family). The site's own pages answer their errors themselves, in the visitor's language.
"""

from __future__ import annotations

from fastapi import Response
from markupsafe import escape

from smartcity.hub.errors import NgsiError
from smartcity.ioc.dashboard.assets import CSP

PREFIX = "/data/"

PAGE = """<!doctype html>
<html lang="vi">
<head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>{status} · Dữ liệu mở TP. Hồ Chí Minh</title><link rel="icon" href="data:,">
<link rel="stylesheet" href="/data/static/site.css"></head>
<body><main class="page error-page">
<h1>{status} · {vi}</h1><p lang="en">{en}</p><p class="detail">{detail}</p>
<p><a href="/data">Về trang tìm kiếm</a> · <a href="/data?lang=en" lang="en">Back to the search</a></p>
</main></body></html>
"""
TITLES = {
    400: ("Yêu cầu không hợp lệ", "Bad request"),
    404: ("Không tìm thấy", "Not found"),
    405: ("Phương thức không được phép", "Method not allowed"),
}


def site_error(error: NgsiError) -> Response:
    vi, en = TITLES.get(error.status, ("Đã xảy ra lỗi", "Something went wrong"))
    body = PAGE.format(status=error.status, vi=escape(vi), en=escape(en), detail=escape(error.detail))
    headers = {"Content-Security-Policy": CSP, "X-Content-Type-Options": "nosniff", "Cache-Control": "no-store"}
    return Response(body, status_code=error.status, media_type="text/html; charset=utf-8", headers=headers)
