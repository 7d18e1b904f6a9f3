#include "kubernetes_strategy.h"

#include <eltrix/plugin/error.h>

#include <fstream>
#include <sstream>

namespace eltrix::cluster_kubernetes {
namespace {

constexpr const char* kSelector = "cluster.kubernetes.selector";
constexpr const char* kNamespace = "cluster.kubernetes.namespace";
constexpr const char* kNamespaceFile = "cluster.kubernetes.namespace_file";
constexpr const char* kApiHost = "cluster.kubernetes.api_host";

[[noreturn]] void refuse(const std::string& key, const std::string& message) {
  throw plugin::Error(plugin::ErrorKind::permanent, key + ": " + message);
}

// Problems with the values alone (no files): the text after "key: ".
std::string selector_problem(const std::string& selector) {
  if (selector.empty()) {
    return "is empty; expected a label selector such as app=eltrix";
  }
  if (selector.size() > 1024) return "is longer than 1024 characters";
  for (char c : selector) {
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) {
      return "'" + selector +
             "' contains a control character; expected a label selector such "
             "as app=eltrix";
    }
  }
  return {};
}

// A DNS-1123 label, what Kubernetes allows as a namespace name.
std::string namespace_problem(const std::string& name) {
  bool ok = !name.empty() && name.size() <= 63 && name.front() != '-' && name.back() != '-';
  for (char c : name) ok = ok && ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-');
  if (ok) return {};
  return "'" + name +
         "' is not a namespace name; expected lower-case letters, digits and '-' (at most 63)";
}

std::string host_problem(const std::string& host) {
  if (host.empty()) {
    return "is empty; expected the API server's address (Kubernetes sets "
           "KUBERNETES_SERVICE_HOST in every pod; set it or cluster.kubernetes.api_host outside "
           "a cluster)";
  }
  for (char c : host) {
    if (c == '/' || c == ' ' || c == '@' || c == '[' || c == ']') {
      return "'" + host + "' is not a host name or IP address (no scheme, port or brackets)";
    }
  }
  return {};
}

std::string read_namespace(const plugin::Config& config) {
  if (auto name = config.get_string(kNamespace); !name.empty()) {
    if (auto problem = namespace_problem(name); !problem.empty()) refuse(kNamespace, problem);
    return name;
  }
  const std::string path = config.get_string(kNamespaceFile);
  std::ifstream in(path);
  std::ostringstream text;
  text << in.rdbuf();
  std::string name = text.str();
  while (!name.empty() && (name.back() == '\n' || name.back() == '\r' || name.back() == ' ')) {
    name.pop_back();
  }
  if (!in || name.empty()) {
    refuse(kNamespaceFile, "cannot read the namespace from '" + path +
                               "'; expected the service-account namespace file of a pod, or set "
                               "cluster.kubernetes.namespace");
  }
  if (auto problem = namespace_problem(name); !problem.empty()) {
    refuse(kNamespaceFile, "'" + path + "' holds " + problem);
  }
  return name;
}

ApiOptions read_options(const plugin::Config& config) {
  ApiOptions options;
  options.selector = config.get_string(kSelector);
  if (auto problem = selector_problem(options.selector); !problem.empty()) {
    refuse(kSelector, problem);
  }
  options.host = config.get_string(kApiHost);
  if (auto problem = host_problem(options.host); !problem.empty()) refuse(kApiHost, problem);
  options.port = static_cast<std::uint16_t>(config.get_int("cluster.kubernetes.api_port", 443));
  options.pod_namespace = read_namespace(config);
  options.token_file = config.get_string("cluster.kubernetes.token_file");
  options.ca_file = config.get_string("cluster.kubernetes.ca_file");
  options.timeout = std::chrono::seconds(config.get_int("cluster.kubernetes.timeout", 5));
  return options;
}

}  // namespace

KubernetesStrategy::KubernetesStrategy(plugin::Host& host, const plugin::Config& config)
    : client_(std::make_unique<ApiClient>(read_options(config))),
      poller_(host, "kubernetes",
              "pods " + config.get_string(kSelector) + " in namespace " +
                  client_->pods_namespace() + " at " + client_->server(),
              std::chrono::seconds(config.get_int("cluster.kubernetes.poll_interval", 5)),
              [this] { return client_->list_pods().peers; }) {
  host.info("kubernetes cluster strategy",
            {{"selector", config.get_string(kSelector)},
             {"namespace", client_->pods_namespace()},
             {"api_server", client_->server()},
             {"poll_interval_s", config.get_string("cluster.kubernetes.poll_interval", "5")}});
  poller_.start();
}

KubernetesStrategy::~KubernetesStrategy() {
  poller_.stop();
}

void KubernetesStrategy::validate(const plugin::Config& config,
                                  std::vector<plugin::ConfigProblem>& problems) {
  if (auto problem = selector_problem(config.get_string(kSelector)); !problem.empty()) {
    problems.push_back({kSelector, problem});
  }
  if (auto problem = host_problem(config.get_string(kApiHost)); !problem.empty()) {
    problems.push_back({kApiHost, problem});
  }
  if (auto name = config.get_string(kNamespace); !name.empty()) {
    if (auto problem = namespace_problem(name); !problem.empty()) {
      problems.push_back({kNamespace, problem});
    }
  }
}

plugin::Health KubernetesStrategy::health() {
  return poller_.health();
}

std::vector<plugin::Peer> KubernetesStrategy::discover() {
  return poller_.discover();
}

void KubernetesStrategy::watch(plugin::PeerListener* listener) {
  poller_.watch(listener);
}

}  // namespace eltrix::cluster_kubernetes
