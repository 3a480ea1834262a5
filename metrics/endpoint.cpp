#include "metrics/endpoint.hpp"

#include <string_view>

#include "health/server.hpp"
#include "metrics/registry.hpp"

namespace istio_csr::metrics {

namespace {

health::response answer(std::string_view target) {
  auto path = target.substr(0, target.find('?'));
  if (path != "/metrics" && path != "/metrics/")
    return {404, "text/plain; charset=utf-8", "404 page not found\n", {}};
  return {200, text_content_type, scrape(), {}};
}

} // namespace

endpoint::endpoint(endpoint_settings s) {
  health::settings hs;
  hs.address = std::move(s.address);
  hs.port = s.port;
  hs.handler = [](const health::request& req, health::responder reply) {
    reply(answer(req.target));
  };
  server_ = std::make_unique<health::server>(std::move(hs));
}

endpoint::~endpoint() {
  stop();
}

caf::error endpoint::start() {
  return server_->start();
}

std::uint16_t endpoint::port() const noexcept {
  return server_->port();
}

void endpoint::stop() {
  server_->stop();
}

} // namespace istio_csr::metrics
