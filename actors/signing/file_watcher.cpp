#include "actors/signing/file_watcher.hpp"

#include <array>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>
#include <thread>

#include <sys/inotify.h>
#include <unistd.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>

#include "caf/error.hpp"
#include "caf/sec.hpp"

namespace istio_csr::actors::signing {

namespace asio = boost::asio;

caf::expected<std::string> read_whole_file(const std::string& path) {
  std::ifstream in{path, std::ios::binary};
  if (!in)
    return caf::make_error(caf::sec::runtime_error,
                           "cannot open " + path + ": " + std::strerror(errno));
  std::ostringstream out;
  out << in.rdbuf();
  if (in.bad())
    return caf::make_error(caf::sec::runtime_error, "cannot read " + path);
  return std::move(out).str();
}

struct file_watcher::impl {
  impl(std::string p, handler f, std::chrono::milliseconds s)
    : path(std::move(p)), fn(std::move(f)), settle(s) {
    auto slash = path.rfind('/');
    dir = slash == std::string::npos ? "."
          : slash == 0               ? "/"
                                     : path.substr(0, slash);
  }

  std::string path;
  std::string dir;
  handler fn;
  std::chrono::milliseconds settle;
  asio::io_context ioc;
  asio::posix::stream_descriptor sd{ioc};
  asio::steady_timer timer{ioc};
  std::thread thread;
  alignas(inotify_event) std::array<char, 16 * 1024> buf{};

  int fd() {
    return sd.native_handle();
  }

  /// (Re-)watches the file's current target: after a symlink swap or a
  /// rename-over the path names another inode.
  void arm_file() {
    inotify_add_watch(fd(), path.c_str(),
                      IN_MODIFY | IN_CLOSE_WRITE | IN_ATTRIB | IN_DELETE_SELF
                        | IN_MOVE_SELF);
  }

  void read_events() {
    sd.async_read_some(asio::buffer(buf),
                       [this](const boost::system::error_code& ec, size_t) {
                         if (ec)
                           return; // stopped
                         changed();
                         read_events();
                       });
  }

  void changed() {
    arm_file();
    timer.expires_after(settle); // restarts the settle time of a burst
    timer.async_wait([this](const boost::system::error_code& ec) {
      if (!ec)
        reload();
    });
  }

  void reload() {
    fn(read_whole_file(path));
  }
};

caf::expected<std::unique_ptr<file_watcher>>
file_watcher::start(std::string path, handler fn,
                    std::chrono::milliseconds settle) {
  auto ptr = std::make_unique<impl>(std::move(path), std::move(fn), settle);
  int fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
  if (fd < 0)
    return caf::make_error(caf::sec::runtime_error,
                           std::string{"inotify_init1: "}
                             + std::strerror(errno));
  ptr->sd.assign(fd);
  if (inotify_add_watch(fd, ptr->dir.c_str(),
                        IN_CREATE | IN_MOVED_TO | IN_MOVED_FROM | IN_DELETE
                          | IN_CLOSE_WRITE | IN_MODIFY | IN_ATTRIB)
      < 0)
    return caf::make_error(caf::sec::runtime_error, "cannot watch " + ptr->dir
                                                      + ": "
                                                      + std::strerror(errno));
  ptr->arm_file(); // may fail while the file is missing: the dir watch sees it
  ptr->read_events();
  // One read right away: a change between the caller's first load and the
  // watch would otherwise go unseen.
  asio::post(ptr->ioc, [p = ptr.get()] { p->reload(); });
  auto* raw = ptr.get();
  ptr->thread = std::thread{[raw] { raw->ioc.run(); }};
  return std::unique_ptr<file_watcher>{new file_watcher(std::move(ptr))};
}

file_watcher::file_watcher(std::unique_ptr<impl> ptr) : impl_(std::move(ptr)) {
  // nop
}

file_watcher::~file_watcher() {
  impl_->ioc.stop();
  if (impl_->thread.joinable())
    impl_->thread.join();
}

} // namespace istio_csr::actors::signing
