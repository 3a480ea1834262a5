#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <string>

#include "caf/expected.hpp"

namespace istio_csr::actors::signing {

/// Reads a whole file (for small files such as a root bundle).
caf::expected<std::string> read_whole_file(const std::string& path);

/// Watches one file with inotify through Asio on a thread of its own
/// (`posix::stream_descriptor`: nothing ever blocks on the inotify fd). It
/// watches the file itself (writes, attribute changes, removal) and its
/// directory (creates, renames, deletes), so it sees in-place writes,
/// editors' rename-over and the atomic `..data` symlink swap of a mounted
/// ConfigMap or Secret. After each burst of events (settled for `settle`)
/// it re-arms the watch on the file's current target and reads the file.
class file_watcher {
 public:
  /// Receives the file's content or the read error, on the watcher's
  /// thread; must not block. Called once right after start, then after
  /// every change.
  using handler = std::function<void(caf::expected<std::string>)>;

  static caf::expected<std::unique_ptr<file_watcher>>
  start(std::string path, handler fn,
        std::chrono::milliseconds settle = std::chrono::milliseconds{50});

  /// Stops watching and joins the thread.
  ~file_watcher();

  file_watcher(const file_watcher&) = delete;
  file_watcher& operator=(const file_watcher&) = delete;

  struct impl;

 private:
  explicit file_watcher(std::unique_ptr<impl> ptr);
  std::unique_ptr<impl> impl_;
};

} // namespace istio_csr::actors::signing
