#include "contract/services/dnsmasq.h"

#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <array>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <thread>

namespace eltrix::contract {
namespace {

std::string quote(const std::string& text) {
  std::string out = "'";
  for (char c : text) {
    if (c == '\'') {
      out += "'\\''";
    } else {
      out += c;
    }
  }
  return out + "'";
}

std::string helper() {
  return quote((source_root() / "scripts" / "lib" / "dnsmasq.sh").string());
}

std::string joined(const std::vector<std::string>& words) {
  std::string out;
  for (const auto& word : words) out += " " + quote(word);
  return out;
}

// How many times dnsmasq has (re)read its hosts file so far.
int hosts_reads(const std::filesystem::path& dir) {
  std::ifstream log(dir / "dnsmasq.log");
  const std::string marker = "read " + (dir / "hosts").string();
  int count = 0;
  for (std::string line; std::getline(log, line);) {
    if (line.find(marker) != std::string::npos) ++count;
  }
  return count;
}

}  // namespace

std::filesystem::path source_root() {
  if (const char* root = std::getenv("ELTRIX_TEST_SOURCE_ROOT"); root != nullptr && *root != 0) {
    return root;
  }
  return ELTRIX_TEST_SOURCE_ROOT;
}

std::string run_command(const std::string& command) {
  FILE* pipe = ::popen((command + " 2>&1").c_str(), "r");
  if (pipe == nullptr) throw std::runtime_error("popen failed: " + command);
  std::string output;
  std::array<char, 4096> buffer{};
  while (std::size_t got = std::fread(buffer.data(), 1, buffer.size(), pipe)) {
    output.append(buffer.data(), got);
  }
  const int status = ::pclose(pipe);
  if (status != 0) {
    throw std::runtime_error("command failed (status " + std::to_string(status) + "): " + command +
                             "\n" + output);
  }
  return output;
}

std::uint16_t free_loopback_port() {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) throw std::runtime_error("socket failed");
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t size = sizeof address;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0 ||
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &size) != 0) {
    ::close(fd);
    throw std::runtime_error("could not bind a loopback port");
  }
  ::close(fd);
  return ntohs(address.sin_port);
}

Dnsmasq::Dnsmasq(const std::string& name, const std::vector<std::string>& addresses)
    : port_(free_loopback_port()) {
  run_command(helper() + " start " + quote(dir_.path().string()) + " " + std::to_string(port_) +
              " " + quote(name) + joined(addresses));
}

Dnsmasq::~Dnsmasq() {
  try {
    run_command(helper() + " stop " + quote(dir_.path().string()));
  } catch (const std::exception& e) {
    WARN(e.what());
  }
}

void Dnsmasq::set(const std::string& name, const std::vector<std::string>& addresses) {
  const int before = hosts_reads(dir_.path());
  run_command(helper() + " set " + quote(dir_.path().string()) + " " + quote(name) +
              joined(addresses));
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  while (hosts_reads(dir_.path()) <= before) {
    if (std::chrono::steady_clock::now() > deadline) {
      throw std::runtime_error("dnsmasq did not reload " + (dir_.path() / "hosts").string());
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
}

}  // namespace eltrix::contract
