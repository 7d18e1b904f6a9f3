#include "api_client.h"

#include "../common/peer_poller.h"

#include <Poco/Exception.h>
#include <Poco/Net/HTTPRequest.h>
#include <Poco/Net/HTTPResponse.h>
#include <Poco/Net/HTTPSClientSession.h>
#include <Poco/Net/NetException.h>
#include <Poco/Net/SSLException.h>
#include <Poco/Timespan.h>

#include <array>
#include <cstring>
#include <fstream>
#include <sstream>

namespace eltrix::cluster_kubernetes {
namespace {

using cluster_common::FetchFailure;

// A PodList of thousands of pods is a few megabytes; anything far beyond
// is not an answer worth holding in memory.
constexpr std::size_t kMaxBody = 32U * 1024U * 1024U;

std::string read_body(std::istream& in) {
  std::string body;
  std::array<char, 16384> buffer{};
  while (in) {
    in.read(buffer.data(), static_cast<std::streamsize>(buffer.size()));
    body.append(buffer.data(), static_cast<std::size_t>(in.gcount()));
    if (body.size() > kMaxBody) {
      throw FetchFailure("bad_json", "the API server's answer exceeds " +
                                         std::to_string(kMaxBody / (1024U * 1024U)) + " MiB");
    }
  }
  return body;
}

std::string trimmed(std::string text) {
  while (!text.empty() && std::strchr(" \t\r\n", text.back()) != nullptr) text.pop_back();
  std::size_t start = 0;
  while (start < text.size() && std::strchr(" \t\r\n", text[start]) != nullptr) ++start;
  return text.substr(start);
}

}  // namespace

std::string percent_encode(std::string_view text) {
  static constexpr std::string_view kHex = "0123456789ABCDEF";
  std::string out;
  for (char c : text) {
    const auto byte = static_cast<unsigned char>(c);
    if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
        c == '_' || c == '.' || c == '~') {
      out += c;
    } else {
      out += '%';
      out += kHex[byte >> 4U];
      out += kHex[byte & 0x0FU];
    }
  }
  return out;
}

ApiClient::ApiClient(ApiOptions options) : options_(std::move(options)) {}

std::string ApiClient::server() const {
  const bool v6 = options_.host.find(':') != std::string::npos;
  return "https://" + (v6 ? "[" + options_.host + "]" : options_.host) + ":" +
         std::to_string(options_.port);
}

std::string ApiClient::pods_path(const std::string& resource_version) const {
  std::string path = "/api/v1/namespaces/" + percent_encode(options_.pod_namespace) +
                     "/pods?labelSelector=" + percent_encode(options_.selector);
  if (!resource_version.empty()) {
    path += "&resourceVersion=" + percent_encode(resource_version) +
            "&resourceVersionMatch=NotOlderThan";
  }
  return path;
}

std::string ApiClient::read_token() const {
  // Read on every poll: projected service-account tokens are rotated by the
  // kubelet (hourly by default), and a cached one would start failing with 401.
  std::ifstream in(options_.token_file);
  std::ostringstream text;
  text << in.rdbuf();
  std::string token = trimmed(text.str());
  if (!in || token.empty()) {
    throw FetchFailure("token", "cannot read the service-account token from " +
                                    options_.token_file.string() +
                                    " (missing, unreadable or "
                                    "empty)");
  }
  return token;
}

Poco::Net::Context::Ptr ApiClient::context() {
  std::error_code ec;
  auto modified = std::filesystem::last_write_time(options_.ca_file, ec);
  std::lock_guard lock(mutex_);
  if (context_ && !ec && modified == ca_time_) return context_;
  if (ec) {
    throw FetchFailure(
        "tls", "cannot read the CA file " + options_.ca_file.string() + ": " + ec.message());
  }
  try {
    // VERIFY_STRICT: the server must present a certificate chaining to this
    // CA alone (no system CAs), for the host name or IP address we dialled.
    context_ = new Poco::Net::Context(Poco::Net::Context::TLS_CLIENT_USE, "", "",
                                      options_.ca_file.string(), Poco::Net::Context::VERIFY_STRICT,
                                      9, false);
    ca_time_ = modified;
  } catch (const Poco::Exception& e) {
    throw FetchFailure(
        "tls", "cannot use the CA file " + options_.ca_file.string() + ": " + e.displayText());
  }
  return context_;
}

PodListAnswer ApiClient::list_pods() {
  const std::string token = read_token();
  auto tls = context();
  std::string resource_version;
  {
    std::lock_guard lock(mutex_);
    resource_version = resource_version_;
  }
  const std::string path = pods_path(resource_version);
  const std::string where =
      "GET " + server() + "/api/v1/namespaces/" + options_.pod_namespace + "/pods";
  std::string body;
  Poco::Net::HTTPResponse response;
  try {
    // A new connection per poll: one TLS handshake every few seconds costs
    // the API server little, and needs no handling of idle connections the
    // server closed between polls.
    Poco::Net::HTTPSClientSession session(options_.host, options_.port, tls);
    session.setTimeout(Poco::Timespan(options_.timeout.count(), 0));
    Poco::Net::HTTPRequest request(Poco::Net::HTTPRequest::HTTP_GET, path,
                                   Poco::Net::HTTPMessage::HTTP_1_1);
    request.set("Authorization", "Bearer " + token);
    request.set("Accept", "application/json");
    request.set("User-Agent", "eltrix-cluster-strategy-kubernetes/1.0");
    session.sendRequest(request);
    body = read_body(session.receiveResponse(response));
  } catch (const FetchFailure&) {
    throw;
  } catch (const Poco::Net::SSLException& e) {
    // Includes CertificateValidationException: the server's certificate is
    // not signed by ca.crt, or not for this host.
    throw FetchFailure("tls", where + " failed: TLS error: " + e.displayText());
  } catch (const Poco::TimeoutException& e) {
    throw FetchFailure("timeout", where + " failed: no answer within " +
                                      std::to_string(options_.timeout.count()) + "s");
  } catch (const Poco::Exception& e) {
    throw FetchFailure("unreachable", where + " failed: " + e.displayText());
  } catch (const std::exception& e) {
    throw FetchFailure("unreachable", where + " failed: " + e.what());
  }

  const int status = static_cast<int>(response.getStatus());
  if (status != 200) {
    // Ask without a resourceVersion next time, in case it was the problem
    // (410 Gone, or "too large" after an etcd restore).
    {
      std::lock_guard lock(mutex_);
      resource_version_.clear();
    }
    std::string message =
        where + " answered HTTP " + std::to_string(status) + " " + response.getReason();
    if (auto detail = status_message(body); !detail.empty()) message += ": " + detail;
    if (status == 401) message += " (is the service-account token valid?)";
    if (status == 403) {
      message += " (the service account needs get and list on pods; see docs/scaling.md)";
    }
    throw FetchFailure("http_" + std::to_string(status), message);
  }
  PodListAnswer answer = parse_pod_list(body);
  if (!answer.resource_version.empty()) {
    std::lock_guard lock(mutex_);
    resource_version_ = answer.resource_version;
  }
  return answer;
}

}  // namespace eltrix::cluster_kubernetes
