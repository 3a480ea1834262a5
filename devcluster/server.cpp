#include "devcluster/server.hpp"

#include <cstdio>
#include <fcntl.h>
#include <future>
#include <stdexcept>
#include <sys/stat.h>
#include <unistd.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/signal_set.hpp>
#include <nlohmann/json.hpp>

#include "devcluster/api_server.hpp"
#include "devcluster/bootstrap.hpp"
#include "devcluster/crypto.hpp"
#include "devcluster/http_server.hpp"
#include "devcluster/object_store.hpp"
#include "devcluster/util.hpp"
#include "process/fd_limit.hpp"

namespace istio_csr::devcluster {

namespace {

using json = nlohmann::json;
namespace net = boost::asio;

std::pair<std::string, uint16_t> split_host_port(const std::string& listen) {
  auto colon = listen.rfind(':');
  if (colon == std::string::npos)
    throw std::invalid_argument("--listen must be HOST:PORT, got " + listen);
  auto host = listen.substr(0, colon);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']')
    host = host.substr(1, host.size() - 2);
  auto port = parse_uint(listen.substr(colon + 1));
  if (!port || *port > 65535)
    throw std::invalid_argument("--listen has a bad port: " + listen);
  return {host, static_cast<uint16_t>(*port)};
}

void write_private_file(const std::string& path, const std::string& content) {
  auto tmp = path + ".tmp";
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0)
    throw std::runtime_error("cannot write " + tmp);
  size_t off = 0;
  while (off < content.size()) {
    auto n = ::write(fd, content.data() + off, content.size() - off);
    if (n <= 0) {
      ::close(fd);
      throw std::runtime_error("cannot write " + tmp);
    }
    off += static_cast<size_t>(n);
  }
  ::close(fd);
  if (::rename(tmp.c_str(), path.c_str()) != 0)
    throw std::runtime_error("cannot rename " + tmp + " to " + path);
}

} // namespace

struct server::impl {
  explicit impl(server_options o) : opts(std::move(o)) {}

  server_options opts;
  // Destroyed in reverse order: the API outlives the io_context, whose
  // destruction frees every session (and so every watch) first.
  std::unique_ptr<api_server> api;
  std::unique_ptr<net::io_context> ioc = std::make_unique<net::io_context>(1);
  std::unique_ptr<http_server> http;
  std::unique_ptr<net::signal_set> signals;
  std::string url;
  uint16_t port = 0;
  std::string admin_token;
  std::string ca_pem;
  std::string kubeconfig;

  ~impl() {
    signals.reset();
    http.reset();
    ioc.reset();
    api.reset();
  }
};

server::server(server_options opts)
  : impl_(std::make_unique<impl>(std::move(opts))) {}

server::~server() = default;

void server::start() {
  auto& d = *impl_;
  // Hundreds of connections and watches (benchmarks): use every file
  // descriptor we may.
  process::raise_fd_limit();
  auto [host, port] = split_host_port(d.opts.listen);
  // RSA key generation is the slow part (up to a second on a busy machine):
  // it goes on in the background; only requests that need the key wait.
  auto sa_key = std::async(std::launch::async,
                           [] { return key_pair::generate_rsa(2048); });
  auto cluster_ca
    = cert_authority::self_signed(key_pair::generate_ec_p256(), "devcluster-ca",
                                  "devcluster", std::chrono::hours(24 * 365));
  auto serving_key = key_pair::generate_ec_p256();
  auto serving_cert = cluster_ca.issue(
    serving_key, "kube-apiserver",
    {"localhost", "kubernetes", "kubernetes.default", "kubernetes.default.svc",
     "kubernetes.default.svc.cluster.local"},
    {"127.0.0.1", "::1"}, std::chrono::hours(24 * 365));
  d.ca_pem = cluster_ca.cert_pem();
  d.admin_token
    = d.opts.admin_token.empty() ? random_token(43) : d.opts.admin_token;
  // The handler may only run once run() runs, after the API exists.
  auto api_ptr = std::make_shared<api_server*>(nullptr);
  d.http = std::make_unique<http_server>(
    *d.ioc, serving_cert + d.ca_pem, serving_key.private_pem(),
    [api_ptr, verbose = d.opts.verbosity >= 2](
      http_request req, std::function<void(api_result)> done) {
      if (verbose) {
        auto start = std::chrono::steady_clock::now();
        auto line = req.method + " " + req.target;
        done = [done = std::move(done), line, start](api_result r) {
          auto us = std::chrono::duration_cast<std::chrono::microseconds>(
                      std::chrono::steady_clock::now() - start)
                      .count();
          std::fprintf(stderr, "devcluster: %s -> %u%s (%lld us)\n",
                       line.c_str(), r.stream ? 200 : r.response.status,
                       r.stream ? " stream" : "", static_cast<long long>(us));
          done(std::move(r));
        };
      }
      (*api_ptr)->handle(std::move(req), std::move(done));
    });
  d.port = d.http->listen(host, port);
  auto address = (host.find(':') != std::string::npos ? "[" + host + "]" : host)
                 + ":" + std::to_string(d.port);
  d.url = "https://" + address;
  api_config cfg;
  cfg.admin_token = d.admin_token;
  cfg.server_address = address;
  cfg.history_limit = d.opts.history_size;
  cfg.issuer = d.opts.issuer;
  cfg.api_audiences = d.opts.api_audiences;
  cfg.namespace_finalize_delay = d.opts.namespace_finalize_delay;
  cfg.cluster_ca_pem = d.ca_pem;
  d.api
    = std::make_unique<api_server>(*d.ioc, std::move(cfg), std::move(sa_key));
  *api_ptr = d.api.get();
  if (d.opts.bootstrap)
    for (auto& obj : bootstrap_objects())
      d.api->create(obj.collection, obj.body);
  // A real API server's watch cache starts when the server does: a watch
  // from an earlier resourceVersion (say 1) gets ERROR 410 Expired, not the
  // history.
  d.api->store().compact();
  if (!d.opts.faults.empty()) {
    auto config = json::parse(d.opts.faults, nullptr, false);
    if (config.is_discarded())
      throw std::invalid_argument("--faults is not valid JSON");
    if (auto err = d.api->configure_faults(config))
      throw std::invalid_argument("--faults: " + *err);
  }
  d.kubeconfig = "apiVersion: v1\n"
                 "kind: Config\n"
                 "clusters:\n"
                 "- name: devcluster\n"
                 "  cluster:\n"
                 "    server: "
                 + d.url
                 + "\n"
                   "    certificate-authority-data: "
                 + base64_encode(d.ca_pem)
                 + "\n"
                   "users:\n"
                   "- name: devcluster-admin\n"
                   "  user:\n"
                   "    token: "
                 + d.admin_token
                 + "\n"
                   "contexts:\n"
                   "- name: devcluster\n"
                   "  context:\n"
                   "    cluster: devcluster\n"
                   "    user: devcluster-admin\n"
                   "current-context: devcluster\n";
  if (!d.opts.kubeconfig_out.empty())
    write_private_file(d.opts.kubeconfig_out, d.kubeconfig);
}

void server::run() {
  auto& d = *impl_;
  if (d.opts.handle_signals && !d.signals) {
    d.signals = std::make_unique<net::signal_set>(*d.ioc, SIGINT, SIGTERM);
    d.signals->async_wait([this](const boost::system::error_code& ec, int) {
      if (!ec)
        impl_->ioc->stop();
    });
  }
  d.ioc->run();
}

void server::stop() {
  impl_->ioc->stop();
}

const std::string& server::url() const {
  return impl_->url;
}

uint16_t server::port() const {
  return impl_->port;
}

const std::string& server::admin_token() const {
  return impl_->admin_token;
}

const std::string& server::ca_pem() const {
  return impl_->ca_pem;
}

const std::string& server::kubeconfig() const {
  return impl_->kubeconfig;
}

} // namespace istio_csr::devcluster
