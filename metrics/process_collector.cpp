#include "metrics/process_collector.hpp"

#include <sys/resource.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <limits>
#include <sstream>
#include <string>

namespace istio_csr::metrics {

namespace {

prometheus::MetricFamily one(const char* name, const char* help,
                             prometheus::MetricType type, double value) {
  prometheus::MetricFamily f;
  f.name = name;
  f.help = help;
  f.type = type;
  prometheus::ClientMetric m;
  if (type == prometheus::MetricType::Counter)
    m.counter.value = value;
  else
    m.gauge.value = value;
  f.metric.push_back(std::move(m));
  return f;
}

/// Seconds since the epoch at boot (`btime` in /proc/stat), 0 if unknown.
double boot_time() {
  std::ifstream in{"/proc/stat"};
  std::string key;
  while (in >> key) {
    if (key == "btime") {
      double t = 0;
      in >> t;
      return t;
    }
    in.ignore(std::numeric_limits<std::streamsize>::max(), '\n');
  }
  return 0;
}

} // namespace

std::vector<prometheus::MetricFamily> collect_process() {
  using prometheus::MetricType;
  std::vector<prometheus::MetricFamily> out;
  const double ticks = static_cast<double>(::sysconf(_SC_CLK_TCK));
  const double page = static_cast<double>(::sysconf(_SC_PAGESIZE));
  std::ifstream stat_file{"/proc/self/stat"};
  std::string stat{std::istreambuf_iterator<char>{stat_file}, {}};
  // Fields after the command name (which may hold spaces): from ") ".
  if (auto close = stat.rfind(')'); close != std::string::npos && ticks > 0) {
    std::istringstream fields{stat.substr(close + 2)};
    std::vector<std::string> f{std::istream_iterator<std::string>{fields}, {}};
    // f[0] is field 3 (state): field n is f[n - 3].
    if (f.size() > 21) {
      double utime = std::stod(f[11]);
      double stime = std::stod(f[12]);
      double start = std::stod(f[19]);
      double vsize = std::stod(f[20]);
      double rss = std::stod(f[21]);
      out.push_back(one("process_cpu_seconds_total",
                        "Total user and system CPU time spent in seconds.",
                        MetricType::Counter, (utime + stime) / ticks));
      out.push_back(one("process_resident_memory_bytes",
                        "Resident memory size in bytes.", MetricType::Gauge,
                        rss * page));
      out.push_back(one("process_virtual_memory_bytes",
                        "Virtual memory size in bytes.", MetricType::Gauge,
                        vsize));
      if (auto boot = boot_time(); boot > 0)
        out.push_back(one("process_start_time_seconds",
                          "Start time of the process since unix epoch in "
                          "seconds.",
                          MetricType::Gauge, boot + start / ticks));
    }
  }
  std::error_code ec;
  double fds = 0;
  for (std::filesystem::directory_iterator i{"/proc/self/fd", ec}, end;
       !ec && i != end; i.increment(ec))
    ++fds;
  if (!ec)
    // Less the descriptor of the directory listing itself.
    out.push_back(one("process_open_fds", "Number of open file descriptors.",
                      MetricType::Gauge, fds > 0 ? fds - 1 : 0));
  if (rlimit lim{}; ::getrlimit(RLIMIT_NOFILE, &lim) == 0)
    out.push_back(
      one("process_max_fds", "Maximum number of open file descriptors.",
          MetricType::Gauge,
          lim.rlim_cur == RLIM_INFINITY ? -1.0
                                        : static_cast<double>(lim.rlim_cur)));
  return out;
}

} // namespace istio_csr::metrics
