"""The admin API's media endpoints end to end: a user's media, a room's
media, quarantine (then not served), protection, deletion of one item, of a
user's media and of old media (through the media store: the file goes), the
remote cache purge, server_version; each refused to non-admins."""

import time

from conftest import http

from admin_client import (SERVER, admin_error, admin_ok, assert_admin_only, q,
                          server)  # noqa: F401 (fixture)

MEDIA = "/_matrix/media/v3"


def upload(client, data=b"hello media", name="a.txt"):
    status, out = client.call("POST", "/upload", raw=data, prefix=MEDIA, filename=name)
    assert status == 200, out
    return out["content_uri"].rsplit("/", 1)[1]


def download_status(client, media_id):
    status, _, _ = http("GET", client.node.url(f"{MEDIA}/download/{SERVER}/{media_id}"),
                        headers={"Authorization": f"Bearer {client.token}"})
    return status


def test_user_media_list_and_delete(server):
    user = server.new_user("media")
    first = upload(user, b"one")
    second = upload(user, b"two two", "b.txt")
    path = f"/v1/users/{q(user.user_id)}/media"
    out = admin_ok(server.admin, "GET", path, order_by="media_length", dir="b")
    assert out["total"] == 2 and [m["media_id"] for m in out["media"]] == [second, first]
    assert out["media"][0]["media_length"] == 7 and out["media"][0]["upload_name"] == "b.txt"
    page = admin_ok(server.admin, "GET", path, limit="1")
    assert page["next_token"] == 1 and len(page["media"]) == 1
    # One item; then the rest of the user's.
    out = admin_ok(server.admin, "DELETE", f"/v1/media/{SERVER}/{first}")
    assert out == {"deleted_media": [first], "total": 1}
    assert download_status(user, first) == 404
    admin_error(server.admin, 404, "M_NOT_FOUND", "DELETE", f"/v1/media/{SERVER}/{first}")
    admin_error(server.admin, 400, "M_INVALID_PARAM", "DELETE", f"/v1/media/elsewhere.org/{first}")
    assert admin_ok(server.admin, "DELETE", path) == {"deleted_media": [second], "total": 1}
    assert admin_ok(server.admin, "GET", path)["total"] == 0
    admin_error(server.admin, 400, "M_INVALID_PARAM", "GET", path, order_by="nope")
    assert_admin_only(server, "GET", path)
    assert_admin_only(server, "DELETE", path)
    assert_admin_only(server, "DELETE", f"/v1/media/{SERVER}/{second}")


def test_quarantine_and_protect(server):
    user = server.new_user("quar")
    media_id = upload(user)
    assert download_status(user, media_id) == 200
    path = f"/v1/media/quarantine/{SERVER}/{media_id}"
    assert_admin_only(server, "POST", path)
    admin_ok(server.admin, "POST", path)
    assert download_status(user, media_id) == 404
    listed = admin_ok(server.admin, "GET", f"/v1/users/{q(user.user_id)}/media")["media"][0]
    assert listed["quarantined_by"] == server.admin.user_id
    admin_ok(server.admin, "POST", f"/v1/media/unquarantine/{SERVER}/{media_id}")
    assert download_status(user, media_id) == 200
    # Protected media is not quarantined (here through the user's bulk call).
    admin_ok(server.admin, "POST", f"/v1/media/protect/{media_id}")
    other = upload(user, b"other")
    out = admin_ok(server.admin, "POST", f"/v1/user/{q(user.user_id)}/media/quarantine")
    assert out == {"num_quarantined": 1}
    assert download_status(user, media_id) == 200 and download_status(user, other) == 404
    admin_ok(server.admin, "POST", f"/v1/media/unprotect/{media_id}")
    admin_error(server.admin, 404, "M_NOT_FOUND", "POST", "/v1/media/protect/nosuchmedia")
    assert_admin_only(server, "POST", f"/v1/media/protect/{media_id}")
    assert_admin_only(server, "POST", f"/v1/user/{q(user.user_id)}/media/quarantine")


def test_room_media(server):
    user = server.new_user("roommedia")
    media_id = upload(user)
    room = user.ok("POST", "/createRoom", {})["room_id"]
    user.ok("PUT", f"/rooms/{q(room)}/send/m.room.message/m1",
            {"msgtype": "m.image", "body": "pic", "url": f"mxc://{SERVER}/{media_id}"})
    user.ok("PUT", f"/rooms/{q(room)}/send/m.room.message/m2",
            {"msgtype": "m.image", "body": "remote", "url": "mxc://elsewhere.org/abc"})
    out = admin_ok(server.admin, "GET", f"/v1/room/{q(room)}/media")
    assert out == {"local": [f"mxc://{SERVER}/{media_id}"], "remote": ["mxc://elsewhere.org/abc"]}
    out = admin_ok(server.admin, "POST", f"/v1/room/{q(room)}/media/quarantine")
    assert out == {"num_quarantined": 1}
    assert download_status(user, media_id) == 404
    assert_admin_only(server, "GET", f"/v1/room/{q(room)}/media")
    assert_admin_only(server, "POST", f"/v1/room/{q(room)}/media/quarantine")


def test_delete_old_media_through_the_store(server):
    user = server.new_user("old")
    old = upload(user, b"x" * 100)
    small = upload(user, b"y")
    avatar = upload(user, b"z" * 100)
    user.ok("PUT", f"/profile/{q(user.user_id)}/avatar_url", {"avatar_url":
                                                              f"mxc://{SERVER}/{avatar}"})
    time.sleep(0.05)
    cutoff = int(time.time() * 1000)
    newer = upload(user, b"w" * 100)
    files_before = server.sql(f"SELECT count(*) FROM media WHERE uploader = '{user.user_id}'")
    assert files_before == "4"
    admin_error(server.admin, 400, "M_MISSING_PARAM", "POST", "/v1/media/delete")
    assert_admin_only(server, "POST", "/v1/media/delete", before_ts=str(cutoff))
    out = admin_ok(server.admin, "POST", f"/v1/media/{SERVER}/delete", before_ts=str(cutoff),
                   size_gt="10")
    # Older than the cutoff and bigger than 10 bytes, but not an avatar.
    assert old in out["deleted_media"] and small not in out["deleted_media"]
    assert avatar not in out["deleted_media"] and newer not in out["deleted_media"]
    assert download_status(user, old) == 404 and download_status(user, newer) == 200
    # The bytes are gone from the media store too (media-store-fs here).
    assert not list(server.media_root.rglob(f"*{old}"))
    assert list(server.media_root.rglob(f"*{newer}"))
    assert admin_ok(server.admin, "POST", "/v1/purge_media_cache",
                    before_ts=str(cutoff)) == {"deleted": 0}
    assert_admin_only(server, "POST", "/v1/purge_media_cache", before_ts=str(cutoff))


def test_user_media_statistics(server):
    big = server.new_user("statsbig")
    small = server.new_user("statssmall")
    upload(big, b"a" * 300)
    upload(big, b"b" * 300)
    upload(small, b"c")
    out = admin_ok(server.admin, "GET", "/v1/statistics/users/media", search_term="stats",
                   order_by="media_length", dir="b")
    assert out["total"] == 2
    assert [(u["user_id"], u["media_count"], u["media_length"]) for u in out["users"]] == \
        [(big.user_id, 2, 600), (small.user_id, 1, 1)]
    page = admin_ok(server.admin, "GET", "/v1/statistics/users/media", search_term="stats",
                    limit="1")
    assert page["next_token"] == 1 and len(page["users"]) == 1
    future = admin_ok(server.admin, "GET", "/v1/statistics/users/media", search_term="stats",
                      from_ts=str(int(time.time() * 1000) + 60_000))
    assert future["total"] == 0
    admin_error(server.admin, 400, "M_INVALID_PARAM", "GET", "/v1/statistics/users/media",
                order_by="size")
    assert_admin_only(server, "GET", "/v1/statistics/users/media")
