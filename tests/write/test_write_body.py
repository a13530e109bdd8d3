"""Reading request bodies: size limit, gzip, content type, JSON (docs/write-api.md, "Request bodies")."""
import gzip
import io
import zlib

import pytest
from write_support import AUTH, build_app, stored

from backdrop.web import ApiError, get_storage
from backdrop.write.body import inflate, parse_json

URL = "/data/dinosaur/droppings"
WRAPPED = "ValidationError('Expected header: Content-type: application/json',)"
PLAIN = "Expected header: Content-type: application/json"
TOO_LARGE = {"status": "error", "message": "Request Entity Too Large"}


def post_bytes(client, data, content_type="application/json", url=URL, **headers):
    return client.post(url, data=data, content_type=content_type, headers={**AUTH, **headers})


def gzip_bomb(size: int) -> bytes:
    compressor = zlib.compressobj(9, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
    block = b"\0" * (1024 * 1024)
    parts = [compressor.compress(block) for _ in range(size // len(block))]
    return b"".join(parts) + compressor.flush()


# ---------------------------------------------------------------------------- empty and JSON


def test_zero_bytes_is_refused(client, dinosaurs):
    response = post_bytes(client, b"")
    assert response.status_code == 400
    assert response.json == {"status": "error",
                              "message": "Expected JSON request body but received zero bytes."}


def test_zero_bytes_is_refused_whatever_the_content_type(client, dinosaurs):
    response = post_bytes(client, b"", content_type="text/plain")
    assert response.json["message"] == "Expected JSON request body but received zero bytes."


def test_invalid_json_names_the_parser_problem(client, dinosaurs):
    response = post_bytes(client, b"{borked!}")
    assert response.status_code == 400
    assert response.json["status"] == "error"
    assert response.json["message"].startswith('Error parsing JSON: "')


def test_nan_is_not_json(client, dinosaurs):
    response = post_bytes(client, b'{"foo": NaN}')
    assert response.status_code == 400
    assert response.json["message"].startswith("Error parsing JSON: ")


def test_invalid_utf8_is_400(client, storage, dinosaurs):
    response = post_bytes(client, b'{"foo": "\xff\xfe"}')
    assert response.status_code == 400
    assert response.json == {"status": "error", "message": "Request body is not valid UTF-8"}
    assert stored(storage, "dinosaurs") == []


@pytest.mark.parametrize("body", [b'{"foo\xed\xa0\x80": 1}', b'{"foo": "\xed\xb0\x80"}'])
def test_the_utf8_bytes_of_a_surrogate_are_not_utf8(client, storage, dinosaurs, body):
    response = post_bytes(client, body)
    assert response.json == {"status": "error", "message": "Request body is not valid UTF-8"}
    assert stored(storage, "dinosaurs") == []


def test_a_scalar_body_is_400(client, dinosaurs):
    for body in (b"5", b'"x"', b"true"):
        response = post_bytes(client, body)
        assert response.status_code == 400, body
        assert response.json == {"status": "error",
                                 "message": "Expected a JSON object or a list of JSON objects"}


def test_list_elements_must_be_objects(client, storage, dinosaurs):
    response = post_bytes(client, b'[{"foo": "bar"}, 5]')
    assert response.status_code == 400
    assert response.json["errors"] == [{"index": 1, "message": "record must be a JSON object"}]
    assert stored(storage, "dinosaurs") == []


# ---------------------------------------------------------------------------- content type


def test_charset_parameter_is_accepted(client, dinosaurs):
    assert post_bytes(client, b'{"foo": "bar"}', content_type="application/json; charset=utf-8").status_code == 200


@pytest.mark.parametrize("content_type", ["text/json", "application/vnd+json", "text/plain", None])
def test_post_with_another_content_type_is_a_validation_message(client, dinosaurs, content_type):
    response = post_bytes(client, b'{"foo": "bar"}', content_type=content_type)
    assert response.status_code == 400
    assert response.json == {"messages": [WRAPPED]}


def test_post_of_null_is_like_a_missing_content_type(client, dinosaurs):
    response = post_bytes(client, b"null")
    assert response.status_code == 400
    assert response.json == {"messages": [WRAPPED]}


def test_legacy_post_with_another_content_type_is_a_validation_message(client, dinosaurs):
    response = post_bytes(client, b'{"foo": "bar"}', content_type="text/plain", url="/dinosaurs")
    assert response.json == {"messages": [WRAPPED]}


def test_put_with_another_content_type_is_an_error_message(client, dinosaurs):
    response = client.put(URL, data=b"[]", content_type="text/plain", headers=AUTH)
    assert response.status_code == 400
    assert response.json == {"status": "error", "message": WRAPPED}


def test_put_of_null_is_like_a_missing_content_type(client, dinosaurs):
    response = client.put(URL, data=b"null", content_type="application/json", headers=AUTH)
    assert response.json == {"status": "error", "message": WRAPPED}


def test_patch_with_another_content_type_is_400(client, dinosaurs):
    response = client.patch(f"{URL}/x", data=b'{"foo": "bar"}', content_type="text/plain", headers=AUTH)
    assert response.status_code == 400
    assert response.json == {"status": "error", "message": PLAIN}


def test_transform_with_another_content_type_is_400(client, dinosaurs):
    response = client.post(f"{URL}/transform", data=b'{"_start_at": "2014-01-01"}', headers=AUTH)
    assert response.status_code == 400
    assert response.json == {"status": "error", "message": PLAIN}


# ---------------------------------------------------------------------------- gzip and size


def test_a_gzip_body_is_decompressed(client, storage, dinosaurs):
    body = gzip.compress(b'[{"foo": "bar"}, {"foo": "baz"}]')
    response = post_bytes(client, body, **{"Content-Encoding": "gzip"})
    assert response.status_code == 200
    assert sorted(r["foo"] for r in stored(storage, "dinosaurs")) == ["bar", "baz"]


def test_content_encoding_is_matched_case_insensitively(client, dinosaurs):
    body = gzip.compress(b'{"foo": "bar"}')
    assert post_bytes(client, body, **{"Content-Encoding": "GZIP"}).status_code == 200


def test_concatenated_gzip_members_are_one_body(client, storage, dinosaurs):
    body = gzip.compress(b'[{"foo": ') + gzip.compress(b'"bar"}]')
    assert post_bytes(client, body, **{"Content-Encoding": "gzip"}).status_code == 200
    assert [r["foo"] for r in stored(storage, "dinosaurs")] == ["bar"]


def test_a_gzip_bomb_is_413(client, storage, dinosaurs):
    response = post_bytes(client, gzip_bomb(20 * 1024 * 1024), **{"Content-Encoding": "gzip"})
    assert response.status_code == 413
    assert response.json == TOO_LARGE


def test_a_bomb_is_refused_before_its_input_is_all_read():
    bomb = gzip_bomb(20 * 1024 * 1024)
    chunks = [bomb[i:i + 1024] for i in range(0, len(bomb), 1024)]
    consumed = []

    def feed():
        for chunk in chunks:
            consumed.append(chunk)
            yield chunk

    with pytest.raises(ApiError) as refused:
        inflate(feed(), 1024 * 1024)
    assert refused.value.status == 413
    assert len(consumed) < len(chunks) / 4


def test_inflate_returns_exactly_the_content_at_the_limit():
    content = bytes(range(256)) * 400
    assert inflate(iter([gzip.compress(content)]), len(content)) == content


def test_a_body_claiming_gzip_that_is_not_is_400(client, dinosaurs):
    response = post_bytes(client, b'{"foo": "bar"}', **{"Content-Encoding": "gzip"})
    assert response.status_code == 400
    assert response.json == {"status": "error", "message": "Request body is not valid gzip data"}


def test_a_truncated_gzip_body_is_400(client, dinosaurs):
    body = gzip.compress(b'[{"foo": "bar"}]' * 100)
    response = post_bytes(client, body[: len(body) // 2], **{"Content-Encoding": "gzip"})
    assert response.status_code == 400
    assert response.json["message"] == "Request body is not valid gzip data"


def test_gzip_of_invalid_utf8_is_400(client, dinosaurs):
    response = post_bytes(client, gzip.compress(b'{"foo": "\xc3\x28"}'), **{"Content-Encoding": "gzip"})
    assert response.status_code == 400
    assert response.json["message"] == "Request body is not valid UTF-8"


@pytest.fixture
def small_client(tmp_path):
    app = build_app(tmp_path, BACKDROP_MAX_BODY_BYTES="100")
    from backdrop.core import registry

    registry.create(get_storage(app), {"name": "dinosaurs", "data_group": "dinosaur",
                                       "data_type": "droppings", "bearer_token": AUTH["Authorization"][7:]})
    yield app.test_client()
    get_storage(app).close()


def test_a_plain_body_over_the_limit_is_413(small_client):
    body = b'{"foo": "' + b"x" * 200 + b'"}'
    response = post_bytes(small_client, body)
    assert response.status_code == 413
    assert response.json == TOO_LARGE


def test_a_streamed_body_without_length_over_the_limit_is_413(small_client):
    body = b'{"foo": "' + b"x" * 200 + b'"}'
    response = small_client.post(URL, input_stream=io.BytesIO(body), content_type="application/json",
                                 headers=AUTH, environ_overrides={"wsgi.input_terminated": True})
    assert response.status_code == 413


def test_a_streamed_body_without_length_within_the_limit_is_read(small_client):
    response = small_client.post(URL, input_stream=io.BytesIO(b'{"foo": "bar"}'), content_type="application/json",
                                 headers=AUTH, environ_overrides={"wsgi.input_terminated": True})
    assert response.status_code == 200


def test_a_body_at_the_limit_is_accepted(small_client):
    body = b'{"foo": "' + b"x" * 89 + b'"}'
    assert len(body) == 100
    assert post_bytes(small_client, body).status_code == 200


def test_a_gzip_body_inflating_beyond_the_limit_is_413(small_client):
    body = gzip.compress(b'{"foo": "' + b"x" * 200 + b'"}')
    assert len(body) < 100
    response = post_bytes(small_client, body, **{"Content-Encoding": "gzip"})
    assert response.status_code == 413
    assert response.json == TOO_LARGE


# ---------------------------------------------------------------------------- exact integers

@pytest.mark.parametrize("text, value", [
    (b'{"n": 100000000000000000000000000000}', {"n": 10**29}),
    (b'[-9223372036854775809, 18446744073709551616]', [-(2**63) - 1, 2**64]),
    (b'{"s": "1234567890123456789012", "f": 1234567890123456789012.5, "e": 1e30}',
     {"s": "1234567890123456789012", "f": 1234567890123456789012.5, "e": 1e30}),
])
def test_record_bodies_keep_every_integer_exact(text, value):
    parsed = parse_json(text, exact_integers=True)
    assert parsed == value
    assert repr(parsed) == repr(value)  # ints stay ints, doubles stay doubles


def test_other_bodies_are_read_as_orjson_reads_them():
    assert parse_json(b'{"n": 100000000000000000000000000000}') == {"n": 1e29}
    assert type(parse_json(b"100000000000000000000000000000")) is float


def test_a_too_long_integer_is_still_a_json_error_first():
    with pytest.raises(ApiError) as caught:
        parse_json(b"1" + b"0" * 400, exact_integers=True)
    assert caught.value.status == 400
    assert caught.value.body["message"].startswith("Error parsing JSON: ")
