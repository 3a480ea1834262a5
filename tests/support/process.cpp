#include "tests/support/process.hpp"

#include <array>
#include <atomic>
#include <cctype>
#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fcntl.h>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <random>
#include <sstream>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>

extern char** environ;

namespace istio_csr::test {

namespace {

int decode_status(int status) {
  if (WIFEXITED(status))
    return WEXITSTATUS(status);
  if (WIFSIGNALED(status))
    return 128 + WTERMSIG(status);
  return -1;
}

// Builds argv/envp arrays for execve; the strings outlive the call.
struct exec_args {
  std::vector<std::string> env_strings;
  std::vector<char*> argv;
  std::vector<char*> envp;

  exec_args(const std::vector<std::string>& args,
            const std::map<std::string, std::string>& env) {
    for (auto& a : args)
      argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    std::map<std::string, std::string> merged;
    for (char** e = environ; *e != nullptr; ++e) {
      std::string kv = *e;
      auto eq = kv.find('=');
      if (eq != std::string::npos)
        merged[kv.substr(0, eq)] = kv.substr(eq + 1);
    }
    for (auto& [k, v] : env)
      merged[k] = v;
    for (auto& [k, v] : merged)
      env_strings.push_back(k + "=" + v);
    for (auto& s : env_strings)
      envp.push_back(s.data());
    envp.push_back(nullptr);
  }
};

// Forks and execs; stdin from `in_fd` (or /dev/null), stdout/stderr to the
// given files. Returns the pid or -1.
int fork_exec(const std::vector<std::string>& argv,
              const std::map<std::string, std::string>& env, int in_fd,
              const std::string& out_path, const std::string& err_path) {
  exec_args args{argv, env};
  const std::string exec_failed = "cannot execute " + argv.at(0) + "\n";
  auto parent = getpid();
  auto pid = fork();
  if (pid != 0)
    return pid;
  // Child: only async-signal-safe calls from here on.
  // Die with the test, however it ends (a failed requirement, a crash, a
  // ctest timeout's SIGKILL): a leftover devcluster issuer or agent would
  // keep acting on a shared real cluster. The signal follows the forking
  // thread; tests spawn from the thread that runs them.
  prctl(PR_SET_PDEATHSIG, SIGKILL);
  if (getppid() != parent)
    _exit(127);
  int null_fd = open("/dev/null", O_RDONLY);
  dup2(in_fd >= 0 ? in_fd : null_fd, STDIN_FILENO);
  int out = open(out_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
  int err = open(err_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
  dup2(out, STDOUT_FILENO);
  dup2(err, STDERR_FILENO);
  // Own process group, so that stop() also reaches grandchildren.
  setpgid(0, 0);
  execve(args.argv[0], args.argv.data(), args.envp.data());
  // Say why on stderr: a missing program is otherwise a bare exit 127.
  ssize_t ignored
    = write(STDERR_FILENO, exec_failed.data(), exec_failed.size());
  (void)ignored;
  _exit(127);
}

} // namespace

bool wait_until(const std::function<bool()>& pred,
                std::chrono::milliseconds timeout,
                std::chrono::milliseconds poll) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    if (pred())
      return true;
    if (std::chrono::steady_clock::now() >= deadline)
      return pred();
    std::this_thread::sleep_for(poll);
  }
}

namespace {

// A "Name:  1234 kB" line of /proc/PID/status (or /proc/self/status), in
// bytes; 0 if absent.
std::size_t status_bytes(const std::string& pid, const std::string& name) {
  std::istringstream status{read_file("/proc/" + pid + "/status")};
  std::string line;
  auto prefix = name + ":";
  while (std::getline(status, line)) {
    if (line.rfind(prefix, 0) == 0)
      return std::stoull(line.substr(prefix.size())) * 1024;
  }
  return 0;
}

} // namespace

std::size_t self_rss_bytes() {
  return status_bytes("self", "VmRSS");
}

std::size_t rss_bytes_of(int pid) {
  return status_bytes(std::to_string(pid), "VmRSS");
}

std::size_t peak_rss_bytes_of(int pid) {
  return status_bytes(std::to_string(pid), "VmHWM");
}

std::chrono::microseconds cpu_time_of(int pid) {
  auto text = read_file("/proc/" + std::to_string(pid) + "/stat");
  // The fields after the command name, which is in parentheses and may
  // contain anything: state is field 3, utime and stime are 14 and 15.
  auto close = text.rfind(')');
  if (close == std::string::npos)
    return std::chrono::microseconds{0};
  std::istringstream fields{text.substr(close + 1)};
  std::string field;
  unsigned long long utime = 0, stime = 0;
  for (int i = 3; i <= 15 && fields >> field; ++i) {
    if (i == 14)
      utime = std::stoull(field);
    else if (i == 15)
      stime = std::stoull(field);
  }
  auto ticks = static_cast<long long>(utime + stime);
  return std::chrono::microseconds{ticks * 1'000'000 / ::sysconf(_SC_CLK_TCK)};
}

std::chrono::microseconds self_cpu_time() {
  rusage usage{};
  ::getrusage(RUSAGE_SELF, &usage);
  auto us = [](const timeval& tv) {
    return std::chrono::seconds{tv.tv_sec}
           + std::chrono::microseconds{tv.tv_usec};
  };
  return us(usage.ru_utime) + us(usage.ru_stime);
}

std::string bin(const std::string& name) {
  return std::string{ICSR_BIN_DIR} + "/" + name;
}

std::string source_path(const std::string& relative) {
  return std::string{ICSR_SOURCE_DIR} + "/" + relative;
}

namespace {

bool executable_file(const std::string& path) {
  std::error_code ec;
  return std::filesystem::is_regular_file(path, ec)
         && ::access(path.c_str(), X_OK) == 0;
}

} // namespace

std::string find_program(const std::string& name) {
  std::string var;
  for (char c : name)
    var += c == '-'
             ? '_'
             : static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  if (const char* set = std::getenv(var.c_str()); set != nullptr && *set)
    return set;
  if (auto tool = source_path("tools/" + name); executable_file(tool))
    return tool;
  const char* path = std::getenv("PATH");
  std::string dirs = path != nullptr ? path : "/usr/bin:/bin";
  size_t start = 0;
  while (start <= dirs.size()) {
    auto end = dirs.find(':', start);
    if (end == std::string::npos)
      end = dirs.size();
    auto dir = dirs.substr(start, end - start);
    if (!dir.empty())
      if (auto candidate = dir + "/" + name; executable_file(candidate))
        return candidate;
    start = end + 1;
  }
  return {};
}

std::string program(const std::string& name) {
  auto found = find_program(name);
  if (!found.empty())
    return found;
  std::fprintf(stderr,
               "tests: %s not found (not in $PATH nor in tools/): run 'make "
               "deps', which installs it\n",
               name.c_str());
  return name;
}

temp_dir::temp_dir() {
  const char* base = std::getenv("TMPDIR");
  std::string tmpl
    = std::string{base != nullptr ? base : "/tmp"} + "/istio-csr-test-XXXXXX";
  if (mkdtemp(tmpl.data()) == nullptr)
    throw std::runtime_error("mkdtemp failed: " + std::string{strerror(errno)});
  path_ = tmpl;
}

temp_dir::~temp_dir() {
  std::error_code ec;
  std::filesystem::remove_all(path_, ec);
}

std::string temp_dir::file(const std::string& name) const {
  return path_ + "/" + name;
}

std::string temp_dir::write(const std::string& name,
                            const std::string& content) const {
  auto p = file(name);
  std::ofstream f{p, std::ios::binary | std::ios::trunc};
  f << content;
  return p;
}

std::string read_file(const std::string& path) {
  std::ifstream f{path, std::ios::binary};
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

command_result run(const std::vector<std::string>& argv,
                   std::chrono::milliseconds timeout,
                   const std::string& stdin_data,
                   const std::map<std::string, std::string>& env) {
  temp_dir dir;
  auto in_path = dir.write("stdin", stdin_data);
  int in_fd = open(in_path.c_str(), O_RDONLY);
  auto out_path = dir.file("stdout");
  auto err_path = dir.file("stderr");
  command_result result;
  auto pid = fork_exec(argv, env, in_fd, out_path, err_path);
  close(in_fd);
  if (pid < 0)
    return result;
  int status = 0;
  bool done = wait_until([&] { return waitpid(pid, &status, WNOHANG) == pid; },
                         timeout, 2ms);
  if (done) {
    result.exit_code = decode_status(status);
  } else {
    kill(-pid, SIGKILL);
    waitpid(pid, &status, 0);
    result.exit_code = -1;
  }
  result.out = read_file(out_path);
  result.err = read_file(err_path);
  return result;
}

std::unique_ptr<child_process>
child_process::spawn(const std::vector<std::string>& argv,
                     const std::map<std::string, std::string>& env) {
  std::unique_ptr<child_process> result{new child_process};
  result->dir_ = std::make_unique<temp_dir>();
  result->out_path_ = result->dir_->file("stdout");
  result->err_path_ = result->dir_->file("stderr");
  result->pid_ = fork_exec(argv, env, -1, result->out_path_, result->err_path_);
  if (result->pid_ < 0)
    return nullptr;
  return result;
}

child_process::~child_process() {
  if (pid_ > 0 && !status_)
    stop();
}

std::string child_process::out() const {
  return read_file(out_path_);
}

std::string child_process::err() const {
  return read_file(err_path_);
}

std::optional<std::string>
child_process::wait_for_line(const std::string& needle,
                             std::chrono::milliseconds timeout,
                             bool include_err) {
  std::optional<std::string> found;
  auto scan = [&](const std::string& text) {
    std::istringstream in{text};
    std::string line;
    while (std::getline(in, line))
      if (line.find(needle) != std::string::npos && !in.eof()) {
        found = line;
        return true;
      }
    return false;
  };
  wait_until(
    [&] {
      if (scan(out()) || (include_err && scan(err())))
        return true;
      return !running(); // gave up: the process is gone
    },
    timeout);
  if (!found) {
    // The process may have printed the line just before exiting.
    if (!scan(out()) && include_err)
      scan(err());
  }
  return found;
}

bool child_process::running() {
  if (status_)
    return false;
  int status = 0;
  auto res = waitpid(pid_, &status, WNOHANG);
  if (res == pid_) {
    status_ = decode_status(status);
    return false;
  }
  return res == 0;
}

std::optional<int> child_process::wait_exit(std::chrono::milliseconds timeout) {
  wait_until([&] { return !running(); }, timeout, 2ms);
  return status_;
}

void child_process::signal(int sig) {
  if (running())
    kill(pid_, sig);
}

int child_process::stop(std::chrono::milliseconds grace) {
  if (running()) {
    kill(pid_, SIGTERM);
    if (!wait_exit(grace)) {
      kill(-pid_, SIGKILL);
      kill(pid_, SIGKILL);
      int status = 0;
      waitpid(pid_, &status, 0);
      status_ = decode_status(status);
    }
  }
  return status_.value_or(-1);
}

// -- kill_on_abort ------------------------------------------------------------

namespace {

std::array<std::atomic<int>, 32> abort_groups{};

extern "C" void kill_groups_and_abort(int sig) {
  for (auto& group : abort_groups) {
    int pgid = group.load();
    if (pgid > 0)
      ::kill(-pgid, SIGKILL);
  }
  std::signal(sig, SIG_DFL);
  std::raise(sig);
}

} // namespace

void kill_on_abort(int pgid) {
  static std::once_flag installed;
  std::call_once(installed, [] {
    struct sigaction sa {};
    sa.sa_handler = kill_groups_and_abort;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = SA_RESETHAND;
    sigaction(SIGABRT, &sa, nullptr);
  });
  for (auto& group : abort_groups) {
    int expected = 0;
    if (group.compare_exchange_strong(expected, pgid))
      return;
  }
}

void forget_on_abort(int pgid) {
  for (auto& group : abort_groups) {
    int expected = pgid;
    if (group.compare_exchange_strong(expected, 0))
      return;
  }
}

} // namespace istio_csr::test
