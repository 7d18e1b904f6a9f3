#include "contract/services/fake_kube_apiserver.h"

#include "contract/services/dnsmasq.h"

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <thread>

extern char** environ;

namespace eltrix::contract {
namespace {

// EC keys: a throwaway CA and server certificate in a few milliseconds.
void make_certificates(const std::filesystem::path& dir) {
  const std::string d = "'" + dir.string() + "'";
  const std::string ec = " -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes";
  {
    std::ofstream ext(dir / "server.ext");
    ext << "subjectAltName=IP:127.0.0.1\nbasicConstraints=CA:FALSE\n"
           "extendedKeyUsage=serverAuth\n";
  }
  run_command("openssl req -x509" + ec + " -days 2 -subj /CN=eltrix-test-ca -keyout " + d +
              "/ca.key -out " + d + "/ca.crt");
  run_command("openssl req" + ec + " -subj /CN=127.0.0.1 -keyout " + d + "/server.key -out " + d +
              "/server.csr");
  run_command("openssl x509 -req -days 2 -in " + d + "/server.csr -CA " + d + "/ca.crt -CAkey " +
              d + "/ca.key -CAcreateserial -extfile " + d + "/server.ext -out " + d +
              "/server.crt");
  // A second CA that signed nothing the server presents.
  run_command("openssl req -x509" + ec + " -days 2 -subj /CN=other-ca -keyout " + d +
              "/other-ca.key -out " + d + "/other-ca.crt");
}

}  // namespace

nlohmann::json pod_json(const PodSpec& pod) {
  nlohmann::json metadata = {{"name", pod.name},
                             {"namespace", pod.pod_namespace},
                             {"uid", "uid-" + pod.name},
                             {"labels", {{"app", pod.app}}}};
  if (pod.terminating) metadata["deletionTimestamp"] = "2026-01-01T00:00:00Z";
  nlohmann::json status = {{"phase", pod.phase}};
  if (!pod.ip.empty()) {
    status["podIP"] = pod.ip;
    status["podIPs"] = nlohmann::json::array({{{"ip", pod.ip}}});
  }
  if (pod.phase != "Pending") {
    status["conditions"] = nlohmann::json::array(
        {{{"type", "Initialized"}, {"status", "True"}},
         {{"type", "Ready"}, {"status", pod.ready ? "True" : "False"}},
         {{"type", "ContainersReady"}, {"status", pod.ready ? "True" : "False"}},
         {{"type", "PodScheduled"}, {"status", "True"}}});
  }
  return {{"metadata", metadata},
          {"spec", {{"containers", nlohmann::json::array()}}},
          {"status", status}};
}

FakeKubeApiServer::FakeKubeApiServer() {
  make_certificates(dir_.path());
  write("server-token", "token-1\n");
  write("token", "token-1\n");
  write("namespace", "eltrix-test");
  set_pods({}, "1");

  const std::string script =
      (source_root() / "tests" / "cluster" / "fake_kube_apiserver.py").string();
  std::vector<std::string> args = {"/usr/bin/python3",
                                   script,
                                   "--cert",
                                   file("server.crt").string(),
                                   "--key",
                                   file("server.key").string(),
                                   "--token-file",
                                   file("server-token").string(),
                                   "--pods-file",
                                   file("pods.json").string(),
                                   "--port-file",
                                   file("port").string(),
                                   "--requests-log",
                                   file("requests.log").string(),
                                   "--forbidden-namespaces",
                                   "kube-system"};
  std::vector<char*> argv;
  argv.reserve(args.size() + 1);
  for (auto& arg : args) argv.push_back(arg.data());
  argv.push_back(nullptr);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  const std::string log = file("server.log").string();
  posix_spawn_file_actions_addopen(&actions, 1, log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  posix_spawn_file_actions_adddup2(&actions, 1, 2);
  const int rc = posix_spawn(&pid_, argv[0], &actions, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  if (rc != 0) throw std::runtime_error("could not start " + script);

  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(15);
  while (port_ == 0) {
    std::ifstream in(file("port"));
    int port = 0;
    if (in >> port) {
      port_ = static_cast<std::uint16_t>(port);
      break;
    }
    int status = 0;
    if (::waitpid(pid_, &status, WNOHANG) == pid_) {
      pid_ = -1;
      std::ifstream err(log);
      std::stringstream text;
      text << err.rdbuf();
      throw std::runtime_error("fake_kube_apiserver.py exited:\n" + text.str());
    }
    if (std::chrono::steady_clock::now() > deadline) {
      throw std::runtime_error("fake_kube_apiserver.py did not start listening");
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
}

FakeKubeApiServer::~FakeKubeApiServer() {
  if (pid_ <= 0) return;
  ::kill(pid_, SIGTERM);
  for (int i = 0; i < 250; ++i) {
    int status = 0;
    if (::waitpid(pid_, &status, WNOHANG) == pid_) return;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  ::kill(pid_, SIGKILL);
  int status = 0;
  ::waitpid(pid_, &status, 0);
}

void FakeKubeApiServer::write(const std::string& name, const std::string& content) const {
  // Atomically, as the kubelet swaps projected files: a reader never sees half.
  const auto tmp = file(name + ".tmp");
  {
    std::ofstream out(tmp, std::ios::trunc);
    out << content;
  }
  std::filesystem::rename(tmp, file(name));
}

void FakeKubeApiServer::set_pods(const std::vector<PodSpec>& pods,
                                 const std::string& resource_version) {
  nlohmann::json items = nlohmann::json::array();
  for (const auto& pod : pods) items.push_back(pod_json(pod));
  write("pods.json", nlohmann::json{{"resourceVersion", resource_version}, {"pods", items}}.dump());
}

void FakeKubeApiServer::set_server_token(const std::string& token) {
  write("server-token", token + "\n");
}

void FakeKubeApiServer::set_client_token(const std::string& token) {
  write("token", token + "\n");
}

void FakeKubeApiServer::set_namespace_file(const std::string& content) {
  write("namespace", content);
}

ConfigValues FakeKubeApiServer::config(const std::string& selector) const {
  return {{"cluster.kubernetes.selector", selector},
          {"cluster.kubernetes.api_host", "127.0.0.1"},
          {"cluster.kubernetes.api_port", std::to_string(port_)},
          {"cluster.kubernetes.token_file", file("token").string()},
          {"cluster.kubernetes.ca_file", file("ca.crt").string()},
          {"cluster.kubernetes.namespace_file", file("namespace").string()},
          {"cluster.kubernetes.poll_interval", "1"},
          {"cluster.kubernetes.timeout", "2"}};
}

std::vector<nlohmann::json> FakeKubeApiServer::requests() const {
  std::vector<nlohmann::json> out;
  std::ifstream in(file("requests.log"));
  for (std::string line; std::getline(in, line);) {
    if (!line.empty()) out.push_back(nlohmann::json::parse(line));
  }
  return out;
}

}  // namespace eltrix::contract
