#include "grpc_bridge/server.hpp"

#include <mutex>
#include <optional>

#include <grpcpp/grpcpp.h>
#include <grpcpp/server_posix.h>

#include "caf/sec.hpp"

#include "grpc_bridge/connection_registry.hpp"
#include "grpc_bridge/service.hpp"
#include "grpc_bridge/tls/tls_context.hpp"
#include "logging/logging.hpp"

namespace istio_csr::grpc_bridge {

struct server::impl {
  server_settings settings;
  std::shared_ptr<connection_registry> registry
    = std::make_shared<connection_registry>();
  certificate_service service;
  std::unique_ptr<grpc::Server> grpc_server;
  std::unique_ptr<tls_server> tls;
  std::atomic<bool> serving{false};
  std::atomic<bool> shut_down{false};
  std::mutex lifecycle_mtx;

  // The credentials the current TLS context was built from.
  mutable std::mutex creds_mtx;
  std::vector<pki::certificate> chain;
  std::optional<pki::private_key> key;
  std::vector<pki::certificate> roots;

  impl(server_settings s, std::shared_ptr<signing_api::sign_handler> handler)
    : settings(std::move(s)),
      service(std::move(handler), registry, settings.max_active_calls) {}

  // Must hold creds_mtx.
  caf::error rebuild_locked() {
    if (!key)
      return {};
    auto ctx = tls_context::make(settings.tls, chain, *key, roots);
    if (!ctx)
      return std::move(ctx.error());
    tls->set_context(std::move(*ctx));
    return {};
  }
};

server::server(server_settings settings,
               std::shared_ptr<signing_api::sign_handler> handler)
  : impl_(std::make_unique<impl>(std::move(settings), std::move(handler))) {
  auto* self = impl_.get();
  self->tls = std::make_unique<tls_server>(
    self->settings.transport,
    [self](int fd, std::shared_ptr<const connection_info> info) {
      // Registered before grpc can see a call on it.
      self->registry->add(fd, info);
      grpc::AddInsecureChannelFromFd(self->grpc_server.get(), fd);
    },
    [self](int fd, const std::shared_ptr<const connection_info>& info) {
      self->registry->remove(fd, info->id);
    });
}

server::~server() {
  shutdown(std::chrono::milliseconds{0});
}

caf::error server::start() {
  auto& self = *impl_;
  std::lock_guard<std::mutex> guard{self.lifecycle_mtx};
  if (self.grpc_server || self.shut_down)
    return caf::make_error(caf::sec::invalid_argument,
                           "the gRPC server was already started");
  if (auto err = validate(self.settings.tls))
    return err;
  const auto& s = self.settings;
  if (s.max_metadata_size <= 0
      || s.transport.h2.max_header_block
           < static_cast<std::size_t>(s.max_metadata_size))
    return caf::make_error(caf::sec::invalid_argument,
                           "max_metadata_size must be positive and at most "
                           "transport.h2.max_header_block");
  if (s.max_concurrent_streams <= 0
      || s.transport.h2.max_open_streams
           < static_cast<std::size_t>(s.max_concurrent_streams))
    return caf::make_error(caf::sec::invalid_argument,
                           "max_concurrent_streams must be positive and at "
                           "most transport.h2.max_open_streams");
  grpc::ServerBuilder builder;
  builder.RegisterService(&self.service);
  builder.SetMaxReceiveMessageSize(s.max_receive_message_size);
  builder.SetMaxSendMessageSize(s.max_send_message_size);
  auto ms = [](std::chrono::milliseconds d) {
    return static_cast<int>(std::min<std::chrono::milliseconds::rep>(
      d.count(), std::numeric_limits<int>::max()));
  };
  builder.AddChannelArgument(
    GRPC_ARG_HTTP2_MIN_RECV_PING_INTERVAL_WITHOUT_DATA_MS,
    ms(s.min_recv_ping_interval));
  builder.AddChannelArgument(GRPC_ARG_HTTP2_MAX_PING_STRIKES,
                             s.max_ping_strikes);
  builder.AddChannelArgument(GRPC_ARG_KEEPALIVE_PERMIT_WITHOUT_CALLS, 1);
  builder.AddChannelArgument(GRPC_ARG_KEEPALIVE_TIME_MS, ms(s.keepalive_time));
  builder.AddChannelArgument(GRPC_ARG_KEEPALIVE_TIMEOUT_MS,
                             ms(s.keepalive_timeout));
  builder.AddChannelArgument(GRPC_ARG_MAX_CONNECTION_IDLE_MS,
                             ms(s.max_connection_idle));
  builder.AddChannelArgument(GRPC_ARG_MAX_CONCURRENT_STREAMS,
                             s.max_concurrent_streams);
  builder.AddChannelArgument(GRPC_ARG_MAX_METADATA_SIZE, s.max_metadata_size);
  // What grpc advertises is what the TLS front lets through. grpc's BDP
  // probing would raise the advertised max frame size with its receive
  // window (to 4 MiB at once); requests are small, so it has nothing to gain.
  builder.AddChannelArgument(GRPC_ARG_HTTP2_MAX_FRAME_SIZE,
                             static_cast<int>(s.transport.h2.max_frame_size));
  builder.AddChannelArgument(GRPC_ARG_HTTP2_BDP_PROBE, 0);
  self.grpc_server = builder.BuildAndStart();
  if (!self.grpc_server)
    return caf::make_error(caf::sec::runtime_error,
                           "cannot start the gRPC server");
  if (auto err = self.tls->start()) {
    self.grpc_server->Shutdown();
    self.grpc_server->Wait();
    self.grpc_server.reset();
    return err;
  }
  self.serving = true;
  return {};
}

std::uint16_t server::port() const noexcept {
  return impl_->tls->port();
}

caf::error server::set_serving_certificate(std::vector<pki::certificate> chain,
                                           pki::private_key key) {
  auto& self = *impl_;
  std::lock_guard<std::mutex> guard{self.creds_mtx};
  auto old_chain = std::exchange(self.chain, std::move(chain));
  auto old_key = std::exchange(self.key, std::move(key));
  if (auto err = self.rebuild_locked()) {
    self.chain = std::move(old_chain);
    self.key = std::move(old_key);
    return err;
  }
  return {};
}

caf::error server::set_roots(std::vector<pki::certificate> roots) {
  auto& self = *impl_;
  std::lock_guard<std::mutex> guard{self.creds_mtx};
  auto old_roots = std::exchange(self.roots, std::move(roots));
  if (auto err = self.rebuild_locked()) {
    self.roots = std::move(old_roots);
    return err;
  }
  return {};
}

caf::error server::set_credentials(std::vector<pki::certificate> chain,
                                   pki::private_key key,
                                   std::vector<pki::certificate> roots) {
  auto& self = *impl_;
  std::lock_guard<std::mutex> guard{self.creds_mtx};
  auto old_chain = std::exchange(self.chain, std::move(chain));
  auto old_key = std::exchange(self.key, std::move(key));
  auto old_roots = std::exchange(self.roots, std::move(roots));
  if (auto err = self.rebuild_locked()) {
    self.chain = std::move(old_chain);
    self.key = std::move(old_key);
    self.roots = std::move(old_roots);
    return err;
  }
  return {};
}

void server::clear_credentials() {
  auto& self = *impl_;
  std::lock_guard<std::mutex> guard{self.creds_mtx};
  self.chain.clear();
  self.key.reset();
  self.tls->set_context(nullptr);
}

bool server::has_tls_config() const {
  return impl_->tls->context() != nullptr;
}

bool server::serving() const noexcept {
  return impl_->serving;
}

std::optional<pki::certificate> server::serving_leaf() const {
  if (auto ctx = impl_->tls->context())
    return ctx->leaf();
  return std::nullopt;
}

void server::shutdown(std::chrono::milliseconds drain) {
  auto& self = *impl_;
  std::lock_guard<std::mutex> guard{self.lifecycle_mtx};
  if (self.shut_down.exchange(true))
    return;
  self.serving = false;
  // 1. No new connections; handshakes in progress are dropped.
  self.tls->stop_accepting();
  // 2. GOAWAY everywhere, calls in flight get `drain` to finish; then grpc
  //    cancels them (our reactors finish cancelled calls at once) and
  //    closes its transports, which ends our pumps.
  if (self.grpc_server) {
    auto deadline = std::chrono::system_clock::now() + drain;
    self.grpc_server->Shutdown(deadline);
  }
  // 3. Whatever is still open is closed; the I/O threads end.
  self.tls->stop();
  if (self.grpc_server) {
    self.grpc_server->Wait();
    self.grpc_server.reset();
  }
}

tls_server_stats server::transport_stats() const {
  return impl_->tls->stats();
}

std::size_t server::active_calls() const {
  return impl_->service.active_calls();
}

std::size_t server::registered_connections() const {
  return impl_->registry->size();
}

} // namespace istio_csr::grpc_bridge
