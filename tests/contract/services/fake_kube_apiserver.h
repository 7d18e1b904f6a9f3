// tests/cluster/fake_kube_apiserver.py run for the kubernetes cluster
// strategy's tests: HTTPS with a certificate from a throwaway CA made here
// with openssl (CN and SAN 127.0.0.1), a bearer token, a namespace file, and a
// pod set the test rewrites over time.
#pragma once

#include "contract/harness.h"

#include <nlohmann/json.hpp>

#include <sys/types.h>

#include <string>
#include <vector>

namespace eltrix::contract {

/// One pod object as the API server returns it.
struct PodSpec {
  std::string name;
  std::string ip;  ///< status.podIP; empty: none yet
  std::string phase = "Running";
  bool ready = true;         ///< the Ready condition's status ("True"/"False")
  bool terminating = false;  ///< metadata.deletionTimestamp set
  std::string app = "eltrix";
  std::string pod_namespace = "eltrix-test";
};
nlohmann::json pod_json(const PodSpec& pod);

class FakeKubeApiServer {
 public:
  /// Starts with no pods; namespace file "eltrix-test", token accepted and
  /// given to the plugin alike. Namespace "kube-system" answers 403.
  FakeKubeApiServer();
  ~FakeKubeApiServer();
  FakeKubeApiServer(const FakeKubeApiServer&) = delete;
  FakeKubeApiServer& operator=(const FakeKubeApiServer&) = delete;

  /// Replaces the pod set (the server rereads it on every request).
  void set_pods(const std::vector<PodSpec>& pods, const std::string& resource_version);
  /// The token the server accepts.
  void set_server_token(const std::string& token);
  /// The token the plugin reads (its cluster.kubernetes.token_file).
  void set_client_token(const std::string& token);
  void set_namespace_file(const std::string& content);

  /// Keys pointing the plugin at this server, polling every second.
  [[nodiscard]] ConfigValues config(const std::string& selector = "app=eltrix") const;
  /// Each request so far: {"path", "query": {name: [values]}, "authorised"}.
  [[nodiscard]] std::vector<nlohmann::json> requests() const;

  [[nodiscard]] std::uint16_t port() const { return port_; }
  [[nodiscard]] std::filesystem::path file(const std::string& name) const {
    return dir_.path() / name;
  }

 private:
  void write(const std::string& name, const std::string& content) const;

  TempDir dir_;
  pid_t pid_ = -1;
  std::uint16_t port_ = 0;
};

}  // namespace eltrix::contract
