#include "services/push_sender.h"

#include "log/log.h"
#include "metrics/registry.h"
#include "rooms/event_store.h"
#include "services/push_payload.h"
#include "storage/push_notifications.h"

#include <Poco/Net/Context.h>
#include <Poco/Net/HTTPClientSession.h>
#include <Poco/Net/HTTPRequest.h>
#include <Poco/Net/HTTPResponse.h>
#include <Poco/Net/HTTPSClientSession.h>
#include <Poco/Net/SSLManager.h>
#include <Poco/StreamCopier.h>
#include <Poco/URI.h>

#include <memory>
#include <optional>
#include <sstream>

namespace eltrix::services {

namespace {

using json = nlohmann::json;

const log::Logger& logger() {
  static const log::Logger instance("push");
  return instance;
}

/// A gateway's answer is a small JSON object; more is not read.
constexpr std::size_t kMaxAnswerBytes = 64 * 1024;

/// One TLS client context for every gateway, checking certificates against
/// the system's CA store. Made on first use (most deployments with pushers
/// use HTTPS gateways; tests use plain HTTP).
Poco::Net::Context::Ptr tls_context() {
  static const Poco::Net::Context::Ptr context = [] {
    Poco::Net::initializeSSL();
    return Poco::Net::Context::Ptr(
        new Poco::Net::Context(Poco::Net::Context::TLS_CLIENT_USE, "", "", "",
                               Poco::Net::Context::VERIFY_RELAXED, 9, true));
  }();
  return context;
}

struct Answer {
  int status = 0;
  std::string body;
};

/// POSTs `body` to `url`; throws on connection errors and timeouts.
Answer post_json(const std::string& url, const std::string& body,
                 std::chrono::milliseconds timeout) {
  const Poco::URI uri(url);
  std::unique_ptr<Poco::Net::HTTPClientSession> session;
  if (uri.getScheme() == "https") {
    session = std::make_unique<Poco::Net::HTTPSClientSession>(uri.getHost(), uri.getPort(),
                                                              tls_context());
  } else {
    session = std::make_unique<Poco::Net::HTTPClientSession>(uri.getHost(), uri.getPort());
  }
  const Poco::Timespan span(std::chrono::duration_cast<std::chrono::microseconds>(timeout).count());
  session->setTimeout(span, span, span);
  Poco::Net::HTTPRequest request(Poco::Net::HTTPRequest::HTTP_POST, uri.getPathAndQuery(),
                                 Poco::Net::HTTPMessage::HTTP_1_1);
  request.setContentType("application/json");
  request.setContentLength(static_cast<std::streamsize>(body.size()));
  session->sendRequest(request) << body;
  Poco::Net::HTTPResponse response;
  std::istream& in = session->receiveResponse(response);
  Answer answer;
  answer.status = static_cast<int>(response.getStatus());
  std::string chunk(4096, '\0');
  while (answer.body.size() < kMaxAnswerBytes && in.read(chunk.data(), chunk.size()).gcount() > 0) {
    answer.body.append(chunk.data(), static_cast<std::size_t>(in.gcount()));
  }
  return answer;
}

std::optional<std::string> state_string(storage::Transaction& tx, const std::string& room_id,
                                        const char* type, const std::string& state_key,
                                        const char* field) {
  auto event = rooms::current_state_event(tx, room_id, type, state_key);
  if (!event) return std::nullopt;
  const json content = event->pdu.value("content", json::object());
  auto value = content.find(field);
  if (value == content.end() || !value->is_string() || value->empty()) return std::nullopt;
  return value->get<std::string>();
}

/// What the push says, read in one transaction; nullopt when the event is
/// gone (purged room): nothing left to push.
std::optional<PushFacts> load_facts(storage::Database& db, const storage::QueuedPush& push) {
  // On the primary (a lagging replica may not have the event yet, and a
  // push whose event is missing is dropped), read-only: no transaction ID,
  // so it holds back no one's stream bound.
  return db.read_latest([&](storage::Transaction& tx) -> std::optional<PushFacts> {
    auto event = rooms::load_event(tx, push.event_id);
    if (!event) return std::nullopt;
    PushFacts facts;
    facts.user_id = push.user_id;
    facts.event = rooms::client_event(*event, push.user_id, "", rooms::now_ms());
    facts.sender_display_name =
        state_string(tx, push.room_id, "m.room.member", event->sender(), "displayname");
    facts.room_name = state_string(tx, push.room_id, "m.room.name", "", "name");
    facts.room_alias = state_string(tx, push.room_id, "m.room.canonical_alias", "", "alias");
    facts.unread = storage::unread_notifications(tx, push.user_id, push.room_id);
    facts.app_id = push.app_id;
    facts.pushkey = push.pushkey;
    facts.pushkey_ts = push.pushkey_ts.value_or(0);
    facts.pusher_data = json::parse(push.pusher_data, nullptr, false);
    if (!facts.pusher_data.is_object()) facts.pusher_data = json::object();
    facts.tweaks = json::parse(push.tweaks, nullptr, false);
    if (!facts.tweaks.is_object()) facts.tweaks = json::object();
    return facts;
  });
}

}  // namespace

PushSender::PushSender(storage::Database& db, metrics::Registry& metrics, PushSenderOptions options)
    : db_(db),
      sent_(metrics.counter("eltrix_pushes_sent_total", "Pushes a push gateway accepted (2xx)")),
      failed_(metrics.counter("eltrix_pushes_failed_total",
                              "Push attempts that failed (connection, timeout or non-2xx); "
                              "retried with backoff")),
      given_up_(metrics.counter("eltrix_pushes_given_up_total",
                                "Pushes dropped after too many failed attempts or too long")),
      rejected_(metrics.counter("eltrix_pushers_rejected_total",
                                "Pushers removed because their gateway rejected the pushkey")),
      options_(options),
      // A full round means more may be due: go on at once.
      task_("push sender", options.interval, [this] { return run_round() >= options_.batch; }) {}

std::size_t PushSender::run_round() {
  const std::int64_t now = rooms::now_ms();
  // The lease: a node that dies mid-round leaves its pushes due again once
  // every POST of the round would have timed out.
  const std::int64_t lease =
      now + static_cast<std::int64_t>(options_.batch + 1) * options_.timeout.count();
  // Idle rounds only read: a write every round would move the primary's WAL
  // position for nothing and keep replicas looking behind.
  if (!db_.read_latest([&](storage::Transaction& tx) { return storage::any_push_due(tx, now); })) {
    return 0;
  }
  auto pushes = db_.write([&](storage::Transaction& tx) {
    return storage::claim_pushes(tx, now, lease, options_.batch);
  });
  for (const auto& push : pushes) {
    if (task_.stopping()) break;  // the lease brings the rest back later
    std::optional<PushFacts> facts;
    try {
      facts = load_facts(db_, push);
    } catch (const std::exception& e) {
      logger().warn("push not prepared", {{"event_id", push.event_id}, {"error", e.what()}});
      continue;  // the lease brings it back
    }
    if (!facts) {
      db_.write([&](storage::Transaction& tx) { storage::delete_push(tx, push); });
      continue;
    }
    const std::string url = facts->pusher_data.value("url", "");
    Answer answer;
    std::string error;
    try {
      answer = post_json(url, notify_body(*facts).dump(), options_.timeout);
    } catch (const std::exception& e) {
      error = e.what();
    }
    if (error.empty() && answer.status >= 200 && answer.status < 300) {
      sent_.inc();
      const auto rejected = rejected_pushkeys(answer.body);
      const std::size_t removed = db_.write([&](storage::Transaction& tx) {
        storage::delete_push(tx, push);
        return storage::delete_rejected_pushers(tx, push.app_id, rejected);
      });
      if (removed > 0) rejected_.inc(static_cast<double>(removed));
      continue;
    }
    failed_.inc();
    if (error.empty()) error = "HTTP " + std::to_string(answer.status);
    const bool give_up = push.attempts >= options_.max_attempts ||
                         rooms::now_ms() - push.created_ts >= options_.max_age.count();
    logger().warn(give_up ? "push given up" : "push failed, will retry",
                  {{"user_id", push.user_id},
                   {"app_id", push.app_id},
                   {"attempts", std::to_string(push.attempts)},
                   {"error", error}});
    db_.write([&](storage::Transaction& tx) {
      if (give_up) {
        storage::delete_push(tx, push);
      } else {
        storage::retry_push(
            tx, push,
            rooms::now_ms() + push_retry_delay_ms(push.attempts, options_.retry_base.count(),
                                                  options_.retry_max.count()));
      }
    });
    if (give_up) given_up_.inc();
  }
  return pushes.size();
}

}  // namespace eltrix::services
