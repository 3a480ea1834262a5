#pragma once

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace istio_csr::test {

using namespace std::chrono_literals;

/// Polls `pred` until it returns true or `timeout` passes. Returns the last
/// result of `pred`. This is the only way tests wait: never a bare sleep.
bool wait_until(const std::function<bool()>& pred,
                std::chrono::milliseconds timeout,
                std::chrono::milliseconds poll = 5ms);

/// Path of a program built by this tree (e.g. "devcluster", "istio-csr").
std::string bin(const std::string& name);

/// Path of a file in the source tree, relative to the repository root.
std::string source_path(const std::string& relative);

/// Full path of an external program the tests run (kubectl, helm, curl,
/// openssl), found in this order:
///  1. the environment variable named like the program in upper case, '-' as
///     '_' (KUBECTL=/path/to/kubectl, HELM=...), when set and not empty;
///  2. tools/NAME in the source tree, where `make deps` (scripts/install-tools)
///     puts helm, and kubectl when the PATH has none >= 1.24;
///  3. the first executable NAME in $PATH.
/// Empty when there is none.
std::string find_program(const std::string& name);

/// find_program(name); when there is none, prints a hint ("run make deps") to
/// stderr and returns `name` as is, so that running it fails with exit status
/// 127 and "cannot execute NAME" on its stderr.
std::string program(const std::string& name);

/// A fresh directory under $TMPDIR, removed with its contents on destruction.
class temp_dir {
 public:
  temp_dir();
  ~temp_dir();
  temp_dir(const temp_dir&) = delete;
  temp_dir& operator=(const temp_dir&) = delete;

  const std::string& path() const noexcept {
    return path_;
  }

  /// Returns path() + "/" + name.
  std::string file(const std::string& name) const;

  /// Writes `content` to `name` inside the directory; returns the full path.
  std::string write(const std::string& name, const std::string& content) const;

 private:
  std::string path_;
};

/// This process's resident set size (VmRSS), in bytes; 0 if unknown.
std::size_t self_rss_bytes();

/// The resident set size (VmRSS) of process `pid`, in bytes; 0 if unknown
/// (e.g. it has exited).
std::size_t rss_bytes_of(int pid);

/// The peak resident set size (VmHWM) of process `pid` so far, in bytes; 0
/// if unknown.
std::size_t peak_rss_bytes_of(int pid);

/// CPU time (user + system) process `pid` has used so far
/// (`/proc/PID/stat`, in clock ticks: 10 ms steps); 0 if unknown.
std::chrono::microseconds cpu_time_of(int pid);

/// CPU time (user + system) this process has used so far.
std::chrono::microseconds self_cpu_time();

/// Reads a whole file; empty on error.
std::string read_file(const std::string& path);

/// The result of a finished command.
struct command_result {
  int exit_code = -1; ///< exit status, or 128+signal, or -1 on timeout
  std::string out;
  std::string err;
};

/// Runs `argv` to completion (killing it after `timeout`), feeding
/// `stdin_data`, with `env` added to the environment.
command_result run(const std::vector<std::string>& argv,
                   std::chrono::milliseconds timeout = 60s,
                   const std::string& stdin_data = {},
                   const std::map<std::string, std::string>& env = {});

/// A program running in the background. Its stdout and stderr go to files
/// in a private temp dir so that they can be read at any time. Destruction
/// sends SIGTERM, then SIGKILL after a grace period.
class child_process {
 public:
  /// Starts `argv[0]` (a path) with `argv`, adding `env` to the environment.
  static std::unique_ptr<child_process>
  spawn(const std::vector<std::string>& argv,
        const std::map<std::string, std::string>& env = {});

  ~child_process();
  child_process(const child_process&) = delete;
  child_process& operator=(const child_process&) = delete;

  int pid() const noexcept {
    return pid_;
  }

  /// Everything written to stdout so far.
  std::string out() const;

  /// Everything written to stderr so far.
  std::string err() const;

  /// Waits until a line of stdout (or of stderr, if `include_err`) contains
  /// `needle`; returns that line, or nullopt on timeout or early exit.
  std::optional<std::string> wait_for_line(const std::string& needle,
                                           std::chrono::milliseconds timeout,
                                           bool include_err = false);

  /// Whether the process is still running (reaps it if it has exited).
  bool running();

  /// Waits for the process to exit; returns its status (exit code, or
  /// 128+signal) or nullopt on timeout.
  std::optional<int> wait_exit(std::chrono::milliseconds timeout);

  /// Sends `sig`.
  void signal(int sig);

  /// SIGTERM, then SIGKILL after `grace`; returns the exit status.
  int stop(std::chrono::milliseconds grace = 5s);

 private:
  child_process() = default;
  int pid_ = -1;
  std::optional<int> status_;
  std::unique_ptr<temp_dir> dir_;
  std::string out_path_;
  std::string err_path_;
};

/// Registers the process group `pgid` (a child_process's pid) to be killed
/// when this test program aborts: CAF 0.17 aborts on a failed CAF_REQUIRE or
/// CAF_FAIL, skipping the destructors that would stop the children.
void kill_on_abort(int pgid);

/// Undoes `kill_on_abort` (the child was stopped normally).
void forget_on_abort(int pgid);

} // namespace istio_csr::test
