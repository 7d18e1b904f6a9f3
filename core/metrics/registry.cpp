#include "metrics/registry.h"

#include <eltrix/plugin/error.h>

#include <dirent.h>
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <fstream>
#include <limits>
#include <sstream>

namespace eltrix::metrics {
namespace {

constexpr double kDefaultLatencyBuckets[] = {0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1,
                                             0.25,  0.5,    1.0,   2.5,  5.0,   10.0};

[[noreturn]] void invalid(std::string_view name, const std::string& what) {
  throw plugin::Error(plugin::ErrorKind::invalid_argument,
                      "metric '" + std::string(name) + "': " + what);
}

bool is_metric_name(std::string_view s) {
  if (s.empty()) return false;
  for (std::size_t i = 0; i < s.size(); ++i) {
    const char c = s[i];
    const bool alpha = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c == ':';
    const bool digit = c >= '0' && c <= '9';
    if (!(alpha || (i > 0 && digit))) return false;
  }
  return true;
}

bool is_label_name(std::string_view s) {
  if (s.empty()) return false;
  for (std::size_t i = 0; i < s.size(); ++i) {
    const char c = s[i];
    const bool alpha = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
    const bool digit = c >= '0' && c <= '9';
    if (!(alpha || (i > 0 && digit))) return false;
  }
  return true;
}

bool is_utf8(std::string_view s) {
  std::size_t i = 0;
  while (i < s.size()) {
    const auto c = static_cast<unsigned char>(s[i]);
    std::size_t extra = 0;
    std::uint32_t cp = 0;
    if (c < 0x80) {
      ++i;
      continue;
    } else if ((c & 0xe0) == 0xc0) {
      extra = 1;
      cp = c & 0x1f;
    } else if ((c & 0xf0) == 0xe0) {
      extra = 2;
      cp = c & 0x0f;
    } else if ((c & 0xf8) == 0xf0) {
      extra = 3;
      cp = c & 0x07;
    } else {
      return false;
    }
    if (i + extra >= s.size()) return false;
    for (std::size_t k = 1; k <= extra; ++k) {
      const auto cc = static_cast<unsigned char>(s[i + k]);
      if ((cc & 0xc0) != 0x80) return false;
      cp = (cp << 6) | (cc & 0x3f);
    }
    // Reject overlong forms, surrogates and values beyond U+10FFFF.
    if ((extra == 1 && cp < 0x80) || (extra == 2 && cp < 0x800) || (extra == 3 && cp < 0x10000) ||
        (cp >= 0xd800 && cp <= 0xdfff) || cp > 0x10ffff) {
      return false;
    }
    i += extra + 1;
  }
  return true;
}

void append_number(std::string& out, double v) {
  if (std::isnan(v)) {
    out += "NaN";
  } else if (std::isinf(v)) {
    out += v > 0 ? "+Inf" : "-Inf";
  } else {
    char buf[64];
    auto res = std::to_chars(buf, buf + sizeof(buf), v);
    out.append(buf, res.ptr);
  }
}

void append_uint(std::string& out, std::uint64_t v) {
  char buf[32];
  auto res = std::to_chars(buf, buf + sizeof(buf), v);
  out.append(buf, res.ptr);
}

void append_help(std::string& out, std::string_view help) {
  for (char c : help) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out += c;
    }
  }
}

void append_label_value(std::string& out, std::string_view value) {
  for (char c : value) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '\n') {
      out += "\\n";
    } else if (c == '"') {
      out += "\\\"";
    } else {
      out += c;
    }
  }
}

/// `{a="x",b="y"` without the closing brace, or nothing when there are no labels
/// and no extra label follows.
void append_labels(std::string& out, const Labels& labels, std::string_view extra_name = {},
                   std::string_view extra_value = {}) {
  if (labels.empty() && extra_name.empty()) return;
  out += '{';
  bool first = true;
  for (const auto& [k, v] : labels) {
    if (!first) out += ',';
    first = false;
    out += k;
    out += "=\"";
    append_label_value(out, v);
    out += '"';
  }
  if (!extra_name.empty()) {
    if (!first) out += ',';
    out += extra_name;
    out += "=\"";
    out += extra_value;
    out += '"';
  }
  out += '}';
}

std::string_view type_name(Type type) {
  switch (type) {
    case Type::counter: return "counter";
    case Type::gauge: return "gauge";
    case Type::histogram: return "histogram";
  }
  return "untyped";
}

void add_double(std::atomic<double>& target, double delta) {
  double current = target.load(std::memory_order_relaxed);
  while (!target.compare_exchange_weak(current, current + delta, std::memory_order_relaxed)) {
  }
}

std::vector<double> checked_bounds(std::string_view name, std::span<const double> buckets) {
  std::vector<double> bounds(buckets.begin(), buckets.end());
  if (!bounds.empty() && std::isinf(bounds.back()) && bounds.back() > 0) bounds.pop_back();
  for (std::size_t i = 0; i < bounds.size(); ++i) {
    if (!std::isfinite(bounds[i])) invalid(name, "histogram bucket bounds must be finite");
    if (i > 0 && !(bounds[i] > bounds[i - 1])) {
      invalid(name, "histogram bucket bounds must be strictly increasing");
    }
  }
  return bounds;
}

}  // namespace

// ---------------------------------------------------------------------------
// Series types

void Counter::inc(double amount) {
  if (!(amount > 0)) return;  // negative, zero or NaN
  add_double(value_, amount);
}

double Counter::value() const {
  return value_.load(std::memory_order_relaxed);
}

void Gauge::set(double value) {
  value_.store(value, std::memory_order_relaxed);
}

void Gauge::add(double delta) {
  add_double(value_, delta);
}

double Gauge::value() const {
  return value_.load(std::memory_order_relaxed);
}

Histogram::Histogram(std::span<const double> bounds)
    : bounds_(bounds.begin(), bounds.end()),
      buckets_(std::make_unique<std::atomic<std::uint64_t>[]>(bounds_.size() + 1)) {
  for (std::size_t i = 0; i <= bounds_.size(); ++i) buckets_[i].store(0, std::memory_order_relaxed);
}

void Histogram::observe(double value) {
  if (std::isnan(value)) return;
  // Bucket i counts values with bounds[i-1] < value <= bounds[i].
  const auto it = std::lower_bound(bounds_.begin(), bounds_.end(), value);
  const auto index = static_cast<std::size_t>(it - bounds_.begin());
  buckets_[index].fetch_add(1, std::memory_order_relaxed);
  add_double(sum_, value);
}

std::uint64_t Histogram::count() const {
  std::uint64_t total = 0;
  for (std::size_t i = 0; i <= bounds_.size(); ++i) {
    total += buckets_[i].load(std::memory_order_relaxed);
  }
  return total;
}

double Histogram::sum() const {
  return sum_.load(std::memory_order_relaxed);
}

std::uint64_t Histogram::bucket_count(std::size_t i) const {
  return i <= bounds_.size() ? buckets_[i].load(std::memory_order_relaxed) : 0;
}

std::span<const double> default_latency_buckets() {
  return kDefaultLatencyBuckets;
}

// ---------------------------------------------------------------------------
// Registry

struct Registry::Family {
  std::string name;
  std::string help;
  Type type;
  bool has_label_names = false;
  std::vector<std::string> label_names;  // sorted; fixed by the first series
  std::vector<double> bounds;            // histograms: fixed by the first series
  bool has_bounds = false;
  std::map<Labels, std::unique_ptr<Counter>> counters;
  std::map<Labels, std::unique_ptr<Gauge>> gauges;
  std::map<Labels, std::unique_ptr<Histogram>> histograms;
};

Registry::Registry() = default;
Registry::~Registry() = default;

Registry::Family& Registry::family_locked(std::string_view name, std::string_view help, Type type) {
  if (!is_metric_name(name)) {
    invalid(name, "invalid metric name (expected [a-zA-Z_:][a-zA-Z0-9_:]*)");
  }
  if (!is_utf8(help)) invalid(name, "help text is not valid UTF-8");

  auto it = families_.find(name);
  if (it != families_.end()) {
    Family& f = *it->second;
    if (f.type != type) {
      invalid(name, "already registered as a " + std::string(type_name(f.type)) +
                        ", requested as a " + std::string(type_name(type)));
    }
    if (f.help != help) {
      invalid(name, "already registered with help \"" + f.help + "\", requested with \"" +
                        std::string(help) + "\"");
    }
    return f;
  }

  // A histogram "x" also exposes x_bucket, x_sum and x_count; keep those names free.
  static constexpr std::string_view kSuffixes[] = {"_bucket", "_sum", "_count"};
  for (auto suffix : kSuffixes) {
    if (name.size() > suffix.size() && name.ends_with(suffix)) {
      auto base = families_.find(name.substr(0, name.size() - suffix.size()));
      if (base != families_.end() && base->second->type == Type::histogram) {
        invalid(name, "clashes with the series of histogram '" + base->first + "'");
      }
    }
    if (type == Type::histogram) {
      const std::string derived = std::string(name) + std::string(suffix);
      if (families_.count(derived) != 0) {
        invalid(name, "histogram series would clash with metric '" + derived + "'");
      }
    }
  }

  auto family = std::make_unique<Family>();
  family->name = std::string(name);
  family->help = std::string(help);
  family->type = type;
  Family& ref = *family;
  families_.emplace(family->name, std::move(family));
  return ref;
}

namespace {

Labels normalized_labels(std::string_view name, const Labels& labels, Type type) {
  Labels sorted = labels;
  std::sort(sorted.begin(), sorted.end(),
            [](const auto& a, const auto& b) { return a.first < b.first; });
  for (std::size_t i = 0; i < sorted.size(); ++i) {
    const auto& [k, v] = sorted[i];
    if (!is_label_name(k)) {
      invalid(name, "invalid label name '" + k + "' (expected [a-zA-Z_][a-zA-Z0-9_]*)");
    }
    if (k.starts_with("__")) invalid(name, "label name '" + k + "' is reserved");
    if (type == Type::histogram && k == "le") {
      invalid(name, "label name 'le' is reserved for histogram buckets");
    }
    if (i > 0 && sorted[i - 1].first == k) invalid(name, "duplicate label name '" + k + "'");
    if (!is_utf8(v)) invalid(name, "value of label '" + k + "' is not valid UTF-8");
  }
  return sorted;
}

template <typename Family>
void check_label_names(Family& f, const Labels& sorted) {
  std::vector<std::string> names;
  names.reserve(sorted.size());
  for (const auto& kv : sorted) names.push_back(kv.first);
  if (!f.has_label_names) {
    f.label_names = std::move(names);
    f.has_label_names = true;
    return;
  }
  if (names != f.label_names) {
    std::string expected;
    for (const auto& n : f.label_names) expected += (expected.empty() ? "" : ",") + n;
    std::string got;
    for (const auto& n : names) got += (got.empty() ? "" : ",") + n;
    invalid(f.name, "label names {" + got + "} differ from the family's {" + expected + "}");
  }
}

}  // namespace

Counter& Registry::counter(std::string_view name, std::string_view help, const Labels& labels) {
  Labels key = normalized_labels(name, labels, Type::counter);
  std::lock_guard lock(mutex_);
  Family& f = family_locked(name, help, Type::counter);
  if (auto it = f.counters.find(key); it != f.counters.end()) return *it->second;
  check_label_names(f, key);
  auto& slot = f.counters[std::move(key)];
  slot = std::make_unique<Counter>();
  return *slot;
}

Gauge& Registry::gauge(std::string_view name, std::string_view help, const Labels& labels) {
  Labels key = normalized_labels(name, labels, Type::gauge);
  std::lock_guard lock(mutex_);
  Family& f = family_locked(name, help, Type::gauge);
  if (auto it = f.gauges.find(key); it != f.gauges.end()) return *it->second;
  check_label_names(f, key);
  auto& slot = f.gauges[std::move(key)];
  slot = std::make_unique<Gauge>();
  return *slot;
}

Histogram& Registry::histogram(std::string_view name, std::string_view help, const Labels& labels,
                               std::span<const double> buckets) {
  Labels key = normalized_labels(name, labels, Type::histogram);
  std::vector<double> bounds = checked_bounds(name, buckets);
  std::lock_guard lock(mutex_);
  Family& f = family_locked(name, help, Type::histogram);
  if (!f.has_bounds) {
    if (buckets.empty()) {
      auto d = default_latency_buckets();
      bounds.assign(d.begin(), d.end());
    }
    f.bounds = std::move(bounds);
    f.has_bounds = true;
  } else if (!buckets.empty() && bounds != f.bounds) {
    invalid(name, "already registered with different histogram buckets");
  }
  if (auto it = f.histograms.find(key); it != f.histograms.end()) return *it->second;
  check_label_names(f, key);
  auto& slot = f.histograms[std::move(key)];
  slot = std::make_unique<Histogram>(f.bounds);
  return *slot;
}

void Registry::describe(std::string_view name, std::string_view help, Type type) {
  std::lock_guard lock(mutex_);
  family_locked(name, help, type);
}

void Registry::add_collector(std::function<void()> collect) {
  if (!collect) return;
  std::lock_guard lock(mutex_);
  collectors_.push_back(std::move(collect));
}

std::string Registry::render() {
  {
    // Collectors may register metrics, so they run without the registry lock,
    // but one render at a time so they never race with each other.
    std::lock_guard collect_lock(collect_mutex_);
    std::vector<std::function<void()>> collectors;
    {
      std::lock_guard lock(mutex_);
      collectors = collectors_;
    }
    for (auto& c : collectors) {
      try {
        c();
      } catch (...) {
        // A broken collector must not take /metrics down; its gauges go stale.
      }
    }
  }

  std::string out;
  std::lock_guard lock(mutex_);
  out.reserve(families_.size() * 256);
  for (const auto& [name, fp] : families_) {
    const Family& f = *fp;
    out += "# HELP ";
    out += name;
    out += ' ';
    append_help(out, f.help);
    out += "\n# TYPE ";
    out += name;
    out += ' ';
    out += type_name(f.type);
    out += '\n';
    switch (f.type) {
      case Type::counter:
        for (const auto& [labels, c] : f.counters) {
          out += name;
          append_labels(out, labels);
          out += ' ';
          append_number(out, c->value());
          out += '\n';
        }
        break;
      case Type::gauge:
        for (const auto& [labels, g] : f.gauges) {
          out += name;
          append_labels(out, labels);
          out += ' ';
          append_number(out, g->value());
          out += '\n';
        }
        break;
      case Type::histogram:
        for (const auto& [labels, h] : f.histograms) {
          // Read each bucket once; _count is the +Inf bucket so the two always agree.
          std::uint64_t cumulative = 0;
          const auto& bounds = h->bounds();
          for (std::size_t i = 0; i <= bounds.size(); ++i) {
            cumulative += h->bucket_count(i);
            std::string le;
            if (i < bounds.size()) {
              append_number(le, bounds[i]);
            } else {
              le = "+Inf";
            }
            out += name;
            out += "_bucket";
            append_labels(out, labels, "le", le);
            out += ' ';
            append_uint(out, cumulative);
            out += '\n';
          }
          out += name;
          out += "_sum";
          append_labels(out, labels);
          out += ' ';
          append_number(out, h->sum());
          out += '\n';
          out += name;
          out += "_count";
          append_labels(out, labels);
          out += ' ';
          append_uint(out, cumulative);
          out += '\n';
        }
        break;
    }
  }
  return out;
}

// ---------------------------------------------------------------------------
// Process metrics

namespace {

struct ProcStat {
  bool ok = false;
  double cpu_seconds = 0;
  double start_seconds_since_boot = 0;
  double virtual_bytes = 0;
  double resident_bytes = 0;
};

ProcStat read_proc_stat() {
  ProcStat s;
  std::ifstream in("/proc/self/stat");
  std::string line;
  if (!std::getline(in, line)) return s;
  // The command name (field 2) is in parentheses and may contain spaces.
  const auto close = line.rfind(')');
  if (close == std::string::npos) return s;
  std::istringstream rest(line.substr(close + 1));
  std::vector<std::string> fields;  // fields[0] is field 3 (state)
  std::string tok;
  while (rest >> tok) fields.push_back(tok);
  if (fields.size() < 22) return s;
  const auto field = [&](int n) { return std::strtod(fields[n - 3].c_str(), nullptr); };
  const double ticks = static_cast<double>(sysconf(_SC_CLK_TCK));
  const double page = static_cast<double>(sysconf(_SC_PAGESIZE));
  s.cpu_seconds = (field(14) + field(15)) / ticks;
  s.start_seconds_since_boot = field(22) / ticks;
  s.virtual_bytes = field(23);
  s.resident_bytes = field(24) * page;
  s.ok = true;
  return s;
}

double boot_time_seconds() {
  std::ifstream in("/proc/stat");
  std::string key;
  while (in >> key) {
    if (key == "btime") {
      double v = 0;
      in >> v;
      return v;
    }
    in.ignore(std::numeric_limits<std::streamsize>::max(), '\n');
  }
  return 0;
}

double open_fds() {
  DIR* dir = opendir("/proc/self/fd");
  if (dir == nullptr) return -1;
  double n = 0;
  while (dirent* e = readdir(dir)) {
    if (e->d_name[0] != '.') n += 1;
  }
  closedir(dir);
  return n - 1;  // the directory handle itself
}

}  // namespace

void register_process_metrics(Registry& registry) {
  Gauge& resident =
      registry.gauge("process_resident_memory_bytes", "Resident memory size in bytes.");
  Gauge& virt = registry.gauge("process_virtual_memory_bytes", "Virtual memory size in bytes.");
  Counter& cpu =
      registry.counter("process_cpu_seconds_total", "Total user and system CPU time in seconds.");
  Gauge& fds = registry.gauge("process_open_fds", "Number of open file descriptors.");
  Gauge& max_fds = registry.gauge("process_max_fds", "Maximum number of open file descriptors.");
  Gauge& start = registry.gauge("process_start_time_seconds",
                                "Start time of the process since unix epoch in seconds.");

  const double boot = boot_time_seconds();
  const ProcStat initial = read_proc_stat();
  if (initial.ok) start.set(boot + initial.start_seconds_since_boot);

  registry.add_collector([&resident, &virt, &cpu, &fds, &max_fds] {
    const ProcStat s = read_proc_stat();
    if (s.ok) {
      resident.set(s.resident_bytes);
      virt.set(s.virtual_bytes);
      // The counter follows the kernel's total; a second collector adds nothing.
      cpu.inc(s.cpu_seconds - cpu.value());
    }
    const double n = open_fds();
    if (n >= 0) fds.set(n);
    rlimit lim{};
    if (getrlimit(RLIMIT_NOFILE, &lim) == 0) {
      max_fds.set(lim.rlim_cur == RLIM_INFINITY ? std::numeric_limits<double>::infinity()
                                                : static_cast<double>(lim.rlim_cur));
    }
  });
}

}  // namespace eltrix::metrics
