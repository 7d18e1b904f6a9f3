"""Reporting content (POST /rooms/{roomId}/report/{eventId}) and the admin
API's event_reports (list, get, delete), each refused to non-admins."""

from admin_client import (admin_error, admin_ok, assert_admin_only, q,
                          server)  # noqa: F401 (fixture)


def test_report_and_review(server):
    reporter = server.new_user("reporter")
    sender = server.new_user("offender")
    outsider = server.new_user("outsider")
    room = sender.ok("POST", "/createRoom", {"name": "Reported", "preset": "public_chat"})["room_id"]
    reporter.ok("POST", f"/join/{q(room)}", {})
    event_id = sender.ok("PUT", f"/rooms/{q(room)}/send/m.room.message/r1",
                         {"msgtype": "m.text", "body": "bad words"})["event_id"]
    report_path = f"/rooms/{q(room)}/report/{q(event_id)}"
    assert reporter.ok("POST", report_path, {"reason": "rude", "score": -100}) == {}
    # Not a member, an unknown event: both 404 (no probing); bad score: 400.
    outsider.error(404, "M_NOT_FOUND", "POST", report_path, {"reason": "x"})
    reporter.error(404, "M_NOT_FOUND", "POST", f"/rooms/{q(room)}/report/{q('$nope')}", {})
    reporter.error(400, "M_INVALID_PARAM", "POST", report_path, {"score": 5})

    out = admin_ok(server.admin, "GET", "/v1/event_reports")
    assert out["total"] == 1
    report = out["event_reports"][0]
    assert (report["room_id"], report["event_id"], report["user_id"], report["reason"],
            report["score"], report["sender"], report["name"]) == \
        (room, event_id, reporter.user_id, "rude", -100, sender.user_id, "Reported")
    assert isinstance(report["id"], int) and report["received_ts"] > 0
    assert admin_ok(server.admin, "GET", "/v1/event_reports",
                    room_id=room)["total"] == 1
    assert admin_ok(server.admin, "GET", "/v1/event_reports",
                    user_id=sender.user_id)["total"] == 0
    one = admin_ok(server.admin, "GET", f"/v1/event_reports/{report['id']}")
    assert one["event_json"]["content"]["body"] == "bad words"
    assert one["event_json"]["event_id"] == event_id
    admin_error(server.admin, 400, "M_INVALID_PARAM", "GET", "/v1/event_reports/abc")
    assert_admin_only(server, "GET", "/v1/event_reports")
    assert_admin_only(server, "GET", f"/v1/event_reports/{report['id']}")
    assert_admin_only(server, "DELETE", f"/v1/event_reports/{report['id']}")
    admin_ok(server.admin, "DELETE", f"/v1/event_reports/{report['id']}")
    admin_error(server.admin, 404, "M_NOT_FOUND", "GET", f"/v1/event_reports/{report['id']}")
    assert admin_ok(server.admin, "GET", "/v1/event_reports")["total"] == 0
