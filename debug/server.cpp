#include "debug/server.hpp"

#include <arpa/inet.h>

#include <array>
#include <string_view>
#include <utility>

#include <nlohmann/json.hpp>

#include "caf/actor_system.hpp"
#include "caf/event_based_actor.hpp"

#include "actors/supervisor/errors.hpp"
#include "actors/supervisor/tree.hpp"
#include "debug/tree_json.hpp"
#include "errors/describe.hpp"
#include "health/server.hpp"
#include "logging/logging.hpp"

namespace istio_csr::debug {

namespace {

using introspection::tree_node;

constexpr std::string_view actors_path = "/debug/actors";
constexpr std::string_view chaos_stop_path = "/debug/chaos/stop";
constexpr std::string_view kill_suffix = "/kill";

health::response json_response(unsigned status,
                               const nlohmann::ordered_json& body) {
  return {status, "application/json", body.dump(2) + "\n", {}};
}

health::response error_response(unsigned status, std::string message) {
  return json_response(status, {{"error", std::move(message)}});
}

health::response not_allowed(const char* allow) {
  auto r = error_response(405, "method not allowed");
  r.headers.emplace_back("Allow", allow);
  return r;
}

/// Whether `host` (a Host header: `name`, `name:port`, `[v6]:port`) names
/// an IP address or localhost, as every legitimate client here does. A
/// browser tricked by DNS rebinding sends the attacker's host name.
bool plain_host(std::string_view host) {
  std::array<unsigned char, 16> bytes{};
  if (!host.empty() && host.front() == '[') {
    auto end = host.find(']');
    return end != std::string_view::npos
           && ::inet_pton(AF_INET6,
                          std::string{host.substr(1, end - 1)}.c_str(),
                          bytes.data())
                == 1;
  }
  host = host.substr(0, host.find(':'));
  return host == "localhost"
         || ::inet_pton(AF_INET, std::string{host}.c_str(), bytes.data()) == 1;
}

/// A short-lived actor per request: asks the tree, answers, quits.
caf::behavior list_actors(caf::event_based_actor* self, caf::actor root,
                          caf::timespan budget, health::responder reply) {
  actors::query_tree(
    self, root, budget, [self, reply](caf::expected<tree_node> tree) {
      if (tree)
        reply(json_response(200, to_json(*tree)));
      else
        reply(error_response(503, "the actor tree did not answer: "
                                    + errors::message(tree.error())));
      self->quit();
    });
  return {[](caf::ok_atom) {}};
}

caf::behavior kill_actor(caf::event_based_actor* self, caf::actor root,
                         caf::timespan budget, std::string path,
                         health::responder reply) {
  actors::query_tree(
    self, root, budget, [self, reply, path](caf::expected<tree_node> tree) {
      auto finish = [self, reply](health::response r) {
        reply(std::move(r));
        self->quit();
      };
      if (!tree) {
        finish(error_response(503, "the actor tree did not answer: "
                                     + errors::message(tree.error())));
        return;
      }
      const auto* node = introspection::find_path(*tree, path);
      if (node == nullptr) {
        finish(error_response(404, "no actor " + path
                                     + " (GET /debug/actors lists them)"));
        return;
      }
      if (node == &*tree) {
        finish(error_response(403, "refusing to kill the root supervisor "
                                   "(nothing would restart it)"));
        return;
      }
      if (!node->running) {
        finish(
          error_response(409, path + " is not running (" + node->state + ")"));
        return;
      }
      auto incarnation = node->incarnation;
      logging::warn(
        *logging::get("debug"), "debug endpoint: killing actor",
        {{"actor", path}, {"incarnation", std::to_string(incarnation)}});
      actors::kill_node(
        self, *node,
        actors::make_error(actors::supervisor_errc::killed, "debug endpoint"),
        [finish, path, incarnation](caf::error err) {
          if (err == actors::make_error(actors::supervisor_errc::no_such_child))
            finish(error_response(409, path + " is not running"));
          else if (err)
            finish(error_response(503, "cannot kill " + path + ": "
                                         + errors::message(err)));
          else
            finish(json_response(
              200, {{"killed", path}, {"incarnation", incarnation}}));
        });
    });
  return {[](caf::ok_atom) {}};
}

/// The routes, on the HTTP server's I/O thread: nothing here waits.
struct router {
  caf::actor_system* sys;
  caf::actor root;
  caf::timespan budget;
  caf::actor chaos;

  void operator()(const health::request& req, health::responder reply) const {
    if (req.header("Origin")) {
      reply(error_response(403, "requests from web pages (with an Origin "
                                "header) are refused"));
      return;
    }
    if (auto host = req.header("Host"); host && !plain_host(*host)) {
      reply(error_response(403, "the Host header must be an IP address or "
                                "localhost"));
      return;
    }
    auto path = req.target.substr(0, req.target.find('?'));
    if (path == actors_path || path == std::string{actors_path} + "/") {
      if (req.method != "GET" && req.method != "HEAD") {
        reply(not_allowed("GET, HEAD"));
        return;
      }
      sys->spawn(list_actors, root, budget, std::move(reply));
      return;
    }
    auto prefix = std::string{actors_path} + "/";
    if (path.size() > prefix.size() + kill_suffix.size()
        && path.compare(0, prefix.size(), prefix) == 0
        && path.compare(path.size() - kill_suffix.size(), kill_suffix.size(),
                        kill_suffix)
             == 0) {
      if (req.method != "POST") {
        reply(not_allowed("POST"));
        return;
      }
      std::string node{path.substr(prefix.size(), path.size() - prefix.size()
                                                    - kill_suffix.size())};
      sys->spawn(kill_actor, root, budget, std::move(node), std::move(reply));
      return;
    }
    if (path == chaos_stop_path) {
      if (req.method != "POST") {
        reply(not_allowed("POST"));
        return;
      }
      if (!chaos) {
        reply(error_response(404, "chaos mode is off"));
        return;
      }
      logging::warn(*logging::get("chaos"),
                    "chaos mode stopped through the debug endpoint");
      caf::anon_send_exit(chaos, caf::exit_reason::user_shutdown);
      reply(json_response(200, {{"chaos", "stopped"}}));
      return;
    }
    reply(error_response(404, "not found: GET /debug/actors, POST "
                              "/debug/actors/<path>/kill, POST "
                              "/debug/chaos/stop"));
  }
};

} // namespace

server::server(caf::actor_system& sys, caf::actor root, settings s) {
  health::settings hs;
  hs.address = std::move(s.address);
  hs.port = s.port;
  hs.max_connections = 16;
  hs.handler
    = router{&sys, std::move(root), s.query_budget, std::move(s.chaos)};
  http_ = std::make_unique<health::server>(std::move(hs));
}

server::~server() {
  stop();
}

caf::error server::start() {
  return http_->start();
}

std::uint16_t server::port() const noexcept {
  return http_->port();
}

void server::stop() {
  http_->stop();
}

} // namespace istio_csr::debug
