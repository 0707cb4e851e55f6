"""Photos: type by magic bytes, decoded whole, metadata stripped, size limit, served back by content hash."""

from __future__ import annotations

import hashlib
import io

import pytest
from fastapi.testclient import TestClient
from PIL import Image

from smartcity.ioc.open311.errors import InvalidInput
from smartcity.ioc.open311.photos import MediaStore, clean, sniff
from tests.ioc.open311.conftest import MAX_PHOTO
from tests.ioc.open311.support import BEN_THANH, FakeDesk, assert_georeport_error, photo

FIELDS = {"service_code": "MT-RAC", "lat": str(BEN_THANH[1]), "long": str(BEN_THANH[2])}


def send(client: TestClient, data: bytes, name: str = "a.jpg", kind: str = "image/jpeg", fmt: str = "json") -> object:
    return client.post(f"/open311/v2/requests.{fmt}", data=FIELDS, files={"media": (name, data, kind)})


def test_a_jpeg_is_stored_without_its_exif_and_served_back(faked: TestClient, fake_desk: FakeDesk) -> None:
    original = photo("JPEG", exif_gps=True)
    assert b"PhoneMaker" in original
    r = send(faked, original)
    assert r.status_code == 201, r.text  # type: ignore[attr-defined]
    request_id = r.json()[0]["service_request_id"]  # type: ignore[attr-defined]
    view = faked.get(f"/open311/v2/requests/{request_id}.json").json()[0]
    url = view["media_url"]
    assert url.startswith("/open311/v2/media/") and url.endswith(".jpg")
    served = faked.get(url)
    assert served.status_code == 200 and served.headers["content-type"] == "image/jpeg"
    assert served.headers["x-content-type-options"] == "nosniff"
    assert b"PhoneMaker" not in served.content and b"GPS" not in served.content
    assert url.rsplit("/", 1)[-1] == hashlib.sha256(served.content).hexdigest() + ".jpg"
    with Image.open(io.BytesIO(served.content)) as image:
        assert image.size == (64, 48) and not image.getexif()
    assert url in fake_desk.opened[0].description


@pytest.mark.parametrize(("kind", "ext"), [("PNG", "png"), ("WEBP", "webp")])
def test_png_and_webp_are_accepted_whatever_the_client_calls_them(faked: TestClient, kind: str, ext: str) -> None:
    r = send(faked, photo(kind), name="photo.gif", kind="application/octet-stream")
    assert r.status_code == 201, r.text  # type: ignore[attr-defined]
    view = faked.get(f"/open311/v2/requests/{r.json()[0]['service_request_id']}.json").json()[0]  # type: ignore[attr-defined]
    assert view["media_url"].endswith(f".{ext}")


@pytest.mark.parametrize(
    "data",
    [
        b"<script>alert(1)</script>",
        b"GIF89a" + b"\x00" * 100,
        b"\xff\xd8\xff\xe0" + b"\x00" * 200,  # a JPEG header without an image
        photo("PNG")[:60],  # truncated
        photo("JPEG", size=(4, 4)),  # too small to be a photo
        b"",
    ],
    ids=["script", "gif", "jpeg-header-only", "truncated-png", "tiny", "empty"],
)
def test_anything_but_a_whole_photo_is_400(faked: TestClient, fake_desk: FakeDesk, data: bytes) -> None:
    assert "media" in assert_georeport_error(send(faked, data), 400)
    assert fake_desk.opened == []


def test_an_oversize_photo_is_400_in_both_formats(faked: TestClient) -> None:
    noise = Image.effect_noise((220, 220), 80).convert("RGB")
    out = io.BytesIO()
    noise.save(out, "PNG")
    big = out.getvalue()
    assert MAX_PHOTO < len(big) < MAX_PHOTO + 200_000  # within the request limit: the photo itself is refused
    assert "too large" in assert_georeport_error(send(faked, big, "big.png", "image/png"), 400)
    huge = big * 4  # past the whole request's limit: refused unread
    assert "too large" in assert_georeport_error(send(faked, huge, "big.png", "image/png", "xml"), 400, "xml")


def test_media_url_only_from_our_own_store(faked: TestClient) -> None:
    first = send(faked, photo())
    url = faked.get(
        f"/open311/v2/requests/{first.json()[0]['service_request_id']}.json"  # type: ignore[attr-defined]
    ).json()[0]["media_url"]
    again = faked.post("/open311/v2/requests.json", data={**FIELDS, "media_url": url})
    assert again.status_code == 201, again.text
    for foreign in ("https://evil.example/x.jpg", "/open311/v2/media/" + "0" * 64 + ".jpg", "javascript:alert(1)"):
        assert_georeport_error(faked.post("/open311/v2/requests.json", data={**FIELDS, "media_url": foreign}), 400)


def test_unknown_or_malformed_media_names_are_404(faked: TestClient) -> None:
    for name in ("0" * 64 + ".jpg", "..%2F..%2Fetc%2Fpasswd", "x.jpg"):
        assert_georeport_error(faked.get(f"/open311/v2/media/{name}"), 404)


def test_clean_and_sniff_directly(tmp_path: object) -> None:
    assert sniff(photo("JPEG")) == "jpg" and sniff(photo("PNG")) == "png" and sniff(photo("WEBP")) == "webp"
    assert sniff(b"BM" + b"\x00" * 20) is None
    with pytest.raises(InvalidInput):
        clean(photo("JPEG"), limit=10)
    store = MediaStore(f"{tmp_path}/m", 1_000_000)
    a, b = store.put(photo("PNG")), store.put(photo("PNG"))
    assert a == b and store.path_of(a.name) is not None and store.path_of("../" + a.name) is None
