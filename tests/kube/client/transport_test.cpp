#define CAF_SUITE kube.transport
#include "caf/test/unit_test.hpp"

#include "errors/describe.hpp"
#include "kube/api/errc.hpp"
#include "kube/api/validation.hpp"
#include "kube/client/client.hpp"
#include "tests/kube/client/helpers.hpp"
#include "tests/kube/client/test_server.hpp"
#include "tests/support/process.hpp"

using namespace istio_csr;
using namespace istio_csr::kube;
using namespace std::chrono_literals;
using istio_csr::test::https_test_server;
using istio_csr::test::request_info;
using istio_csr::test::test_pki;
using istio_csr::test::wait_until;
using json = nlohmann::json;
using conn_t = https_test_server::connection;
using istio_csr::kube::testing::call;
using istio_csr::kube::testing::config_for;
using istio_csr::kube::testing::gate;
using istio_csr::kube::testing::make_client;
using istio_csr::kube::testing::watch_log;

namespace {

json status_body(int code, const std::string& reason, const std::string& msg) {
  return json{{"kind", "Status"}, {"apiVersion", "v1"}, {"status", "Failure"},
              {"code", code},     {"reason", reason},   {"message", msg}};
}

json config_map(const std::string& name, const std::string& rv) {
  return json{{"kind", "ConfigMap"},
              {"apiVersion", "v1"},
              {"metadata",
               {{"name", name}, {"namespace", "ns"}, {"resourceVersion", rv}}}};
}

std::string event(const char* type, const json& obj) {
  return json{{"type", type}, {"object", obj}}.dump() + "\n";
}

/// A copy of the last request (CAF_CHECK_EQUAL binds its arguments by
/// reference: no references into temporaries).
request_info last_request(const https_test_server& srv) {
  return srv.requests().back();
}

} // namespace

CAF_TEST(keep alive connections are reused) {
  https_test_server srv{[](const request_info& req, conn_t& c) {
    c.respond(200, config_map("cm", "1").dump());
    (void)req;
  }};
  auto cli = make_client(config_for(srv));
  for (int i = 0; i < 5; ++i) {
    auto res = call(*cli, request::get(resources::configmaps, "ns", "cm"));
    CAF_REQUIRE(res);
    CAF_CHECK_EQUAL((*res)["metadata"]["name"], "cm");
  }
  CAF_CHECK_EQUAL(srv.connections(), 1);
  CAF_CHECK_EQUAL(cli->stats().connections_opened, 1u);
  CAF_CHECK_EQUAL(cli->stats().connections_reused, 4u);
  auto reqs = srv.requests();
  CAF_REQUIRE_EQUAL(reqs.size(), 5u);
  CAF_CHECK_EQUAL(reqs[0].target, "/api/v1/namespaces/ns/configmaps/cm");
  CAF_CHECK_EQUAL(reqs[0].header("authorization"), "Bearer static-token");
  CAF_CHECK_EQUAL(reqs[0].header("accept"), "application/json");
  CAF_CHECK_EQUAL(reqs[0].header("host"),
                  "127.0.0.1:" + std::to_string(srv.port()));
}

CAF_TEST(a connection the server closed is not reused) {
  https_test_server srv{[](const request_info&, conn_t& c) {
    c.respond(200, config_map("cm", "1").dump(), {{"Connection", "close"}});
    c.drop();
  }};
  auto cli = make_client(config_for(srv));
  for (int i = 0; i < 3; ++i)
    CAF_CHECK(call(*cli, request::get(resources::configmaps, "ns", "cm")));
  CAF_CHECK_EQUAL(srv.connections(), 3);
}

CAF_TEST(an idle connection the server dropped is detected before reuse) {
  std::atomic<int> n{0};
  std::atomic<bool> dropped{false};
  https_test_server srv{[&](const request_info&, conn_t& c) {
    c.respond(200, config_map("cm", "1").dump());
    if (++n == 1) {
      c.drop(); // closes after answering, without Connection: close
      dropped = true;
    }
  }};
  auto cli = make_client(config_for(srv));
  CAF_REQUIRE(call(*cli, request::get(resources::configmaps, "ns", "cm")));
  // The server has shut the socket (the FIN is on its way over loopback).
  CAF_REQUIRE(wait_until([&] { return dropped.load(); }, 5s));
  // A non-idempotent write must not be lost on the stale connection.
  auto res = call(
    *cli, request::create(resources::configmaps, "ns", config_map("x", "")));
  CAF_CHECK(res);
  CAF_CHECK_EQUAL(srv.connections(), 2);
}

CAF_TEST(concurrent requests are bounded by max connections) {
  std::atomic<int> active{0};
  std::atomic<int> peak{0};
  https_test_server srv{[&](const request_info&, conn_t& c) {
    auto now = ++active;
    for (int p = peak; now > p && !peak.compare_exchange_weak(p, now);)
      ;
    wait_until([] { return false; }, 20ms); // hold the connection a moment
    --active;
    c.respond(200, config_map("cm", "1").dump());
  }};
  client_options opts;
  opts.max_connections = 2;
  auto cli = make_client(config_for(srv), opts);
  std::vector<std::future<caf::expected<json>>> results;
  for (int i = 0; i < 8; ++i) {
    auto p = std::make_shared<std::promise<caf::expected<json>>>();
    results.push_back(p->get_future());
    cli->get(resources::configmaps, "ns", "cm",
             [p](caf::expected<json> r) { p->set_value(std::move(r)); });
  }
  for (auto& f : results) {
    CAF_REQUIRE(f.wait_for(20s) == std::future_status::ready);
    CAF_CHECK(f.get());
  }
  CAF_CHECK_LESS_OR_EQUAL(srv.connections(), 2);
  CAF_CHECK_LESS_OR_EQUAL(peak.load(), 2);
}

CAF_TEST(status bodies become typed errors) {
  https_test_server srv{[](const request_info& req, conn_t& c) {
    if (req.target.ends_with("/missing"))
      c.respond(404,
                status_body(404, "NotFound", "configmaps \"missing\" not found")
                  .dump());
    else if (req.method == "PUT")
      c.respond(409, status_body(409, "Conflict",
                                 "Operation cannot be fulfilled: the object "
                                 "has been modified")
                       .dump());
    else if (req.method == "POST")
      c.respond(409,
                status_body(409, "AlreadyExists", "already exists").dump());
    else if (req.method == "PATCH")
      c.respond(422, status_body(422, "Invalid", "bad patch").dump());
    else if (req.method == "DELETE")
      c.respond(403, status_body(403, "Forbidden", "no").dump());
    else
      c.respond(200, "this is not json");
  }};
  auto cli = make_client(config_for(srv));
  auto res = call(*cli, request::get(resources::configmaps, "ns", "missing"));
  CAF_REQUIRE(!res);
  CAF_CHECK(is(res.error(), errc::not_found));
  CAF_CHECK_EQUAL(errors::message(res.error()),
                  "configmaps \"missing\" not found");
  res
    = call(*cli, request::update(resources::configmaps, config_map("a", "1")));
  CAF_CHECK(!res && is(res.error(), errc::conflict));
  res = call(*cli,
             request::create(resources::configmaps, "ns", config_map("a", "")));
  CAF_CHECK(!res && is(res.error(), errc::already_exists));
  res = call(*cli, request::merge_patch(resources::configmaps, "ns", "a",
                                        json{{"data", {{"x", "y"}}}}));
  CAF_CHECK(!res && is(res.error(), errc::invalid));
  res = call(*cli, request::remove(resources::configmaps, "ns", "a"));
  CAF_CHECK(!res && is(res.error(), errc::forbidden));
  res = call(*cli, request::get(resources::configmaps, "ns", "a"));
  CAF_CHECK(!res && is(res.error(), errc::decode_error));
  // None of these was retried.
  CAF_CHECK_EQUAL(srv.requests().size(), 6u);
  auto patch = srv.requests()[3];
  CAF_CHECK_EQUAL(patch.header("content-type"), "application/merge-patch+json");
}

// Found by fuzz/kube_object: a success answer whose JSON is no object (a
// broken or hostile server) threw from the client's I/O thread for a paged
// list (std::terminate), and reached callers as an "object" otherwise.
CAF_TEST(a success answer that is no JSON object is a decode error) {
  https_test_server srv{[](const request_info& req, conn_t& c) {
    c.respond(200,
              req.target.find("/cm") != std::string::npos ? "\"cm\"" : "[1]");
  }};
  auto cli = make_client(config_for(srv));
  auto res = call(*cli, request::list_all(resources::configmaps, "ns", {}));
  CAF_CHECK(!res && is(res.error(), errc::decode_error));
  res = call(*cli, request::get(resources::configmaps, "ns", "cm"));
  CAF_CHECK(!res && is(res.error(), errc::decode_error));
  if (!res)
    CAF_CHECK_EQUAL(errors::message(res.error()),
                    "get /api/v1/namespaces/ns/configmaps/cm: the response "
                    "is not a JSON object");
}

CAF_TEST(429 is retried after Retry-After even for generateName creates) {
  std::atomic<int> n{0};
  https_test_server srv{[&](const request_info&, conn_t& c) {
    if (++n == 1)
      c.respond(429, status_body(429, "TooManyRequests", "slow down").dump(),
                {{"Retry-After", "1"}});
    else
      c.respond(201, config_map("istio-csr-abcde", "1").dump());
  }};
  auto cli = make_client(config_for(srv));
  auto cr = json{{"metadata", {{"generateName", "istio-csr-"}}}};
  auto start = std::chrono::steady_clock::now();
  auto res
    = call(*cli, request::create(resources::certificaterequests, "ns", cr));
  CAF_REQUIRE(res);
  CAF_CHECK_GREATER_OR_EQUAL(std::chrono::steady_clock::now() - start, 1s);
  CAF_CHECK_EQUAL(srv.count("POST"), 2u);
  CAF_CHECK_EQUAL(cli->stats().retries, 1u);
}

CAF_TEST(5xx is retried for reads but not for generateName creates) {
  std::atomic<int> gets{0};
  https_test_server srv{[&](const request_info& req, conn_t& c) {
    if (req.method == "GET" && ++gets > 2)
      c.respond(200, config_map("cm", "1").dump());
    else
      c.respond(500, status_body(500, "InternalError", "etcd hiccup").dump());
  }};
  auto cli = make_client(config_for(srv));
  auto res = call(*cli, request::get(resources::configmaps, "ns", "cm"));
  CAF_CHECK(res);
  CAF_CHECK_EQUAL(srv.count("GET"), 3u);
  auto cr = json{{"metadata", {{"generateName", "istio-csr-"}}}};
  res = call(*cli, request::create(resources::certificaterequests, "ns", cr));
  CAF_REQUIRE(!res);
  CAF_CHECK(is(res.error(), errc::server_error));
  CAF_CHECK_EQUAL(errors::message(res.error()), "etcd hiccup");
  CAF_CHECK_EQUAL(srv.count("POST"), 1u);
  // TokenReview creates store nothing and are retried.
  res = call(*cli, request::create(resources::tokenreviews, "", json{}));
  CAF_CHECK(!res);
  CAF_CHECK_EQUAL(srv.count("POST"), 6u); // 1 + 5 attempts
}

CAF_TEST(connection refused is retried then reported) {
  uint16_t port;
  {
    // A port nobody listens on any more.
    https_test_server tmp{[](const request_info&, conn_t&) {}};
    port = tmp.port();
  }
  client_config cfg;
  cfg.server = "https://127.0.0.1:" + std::to_string(port);
  cfg.ca_pem = test_pki::get().ca_pem;
  client_options opts;
  opts.retry.max_attempts = 3;
  auto cli = make_client(cfg, opts);
  auto res = call(*cli, request::get(resources::configmaps, "ns", "cm"));
  CAF_REQUIRE(!res);
  CAF_CHECK(is(res.error(), errc::connection_failed));
  CAF_CHECK_EQUAL(cli->stats().requests, 3u);
  // A write fails the same way: it never reached the server, so retrying
  // was safe.
  auto cr = json{{"metadata", {{"generateName", "istio-csr-"}}}};
  res = call(*cli, request::create(resources::certificaterequests, "ns", cr));
  CAF_CHECK(!res && is(res.error(), errc::connection_failed));
  CAF_CHECK_EQUAL(cli->stats().requests, 6u);
}

CAF_TEST(tls verification) {
  https_test_server srv{
    [](const request_info&, conn_t& c) { c.respond(200, "{}"); }};
  auto get = [&](client_config cfg) {
    client_options opts;
    opts.retry.max_attempts = 1;
    auto cli = make_client(std::move(cfg), opts);
    return call(*cli, request::get(resources::namespaces, "", "x"));
  };
  // The right CA, by IP.
  CAF_CHECK(get(config_for(srv)));
  // An unrelated CA.
  auto cfg = config_for(srv);
  cfg.ca_pem = test_pki::get().other_ca_pem;
  auto res = get(cfg);
  CAF_REQUIRE(!res);
  CAF_CHECK(is(res.error(), errc::tls_error));
  CAF_CHECK(errors::message(res.error()).find("certificate verification failed")
            != std::string::npos);
  // A name the certificate does not cover.
  cfg = config_for(srv);
  cfg.tls_server_name = "wrong.test";
  res = get(cfg);
  CAF_CHECK(!res && is(res.error(), errc::tls_error));
  // tls-server-name: SNI and verification against that name.
  cfg.tls_server_name = "kube.test";
  CAF_CHECK(get(cfg));
  CAF_CHECK_EQUAL(last_request(srv).sni, "kube.test");
  // A DNS host name in the URL.
  cfg = config_for(srv);
  cfg.server = "https://localhost:" + std::to_string(srv.port());
  CAF_CHECK(get(cfg));
  CAF_CHECK_EQUAL(last_request(srv).sni, "localhost");
  // No SNI for an IP address.
  CAF_CHECK(get(config_for(srv)));
  CAF_CHECK_EQUAL(last_request(srv).sni, "");
  // insecure-skip-tls-verify accepts anything.
  cfg = config_for(srv);
  cfg.ca_pem.clear();
  cfg.insecure_skip_tls_verify = true;
  cfg.tls_server_name = "wrong.test";
  CAF_CHECK(get(cfg));
  // A CA that is not PEM is a configuration error at creation.
  cfg = config_for(srv);
  cfg.ca_pem = "garbage";
  auto bad = client::make(cfg);
  CAF_REQUIRE(!bad);
  CAF_CHECK(is(bad.error(), errc::config_error));
}

CAF_TEST(client certificate authentication) {
  https_test_server srv{
    [](const request_info&, conn_t& c) { c.respond(200, "{}"); }, true};
  auto cfg = config_for(srv);
  cfg.token.clear();
  cfg.client_cert_pem = test_pki::get().client_cert_pem;
  cfg.client_key_pem = test_pki::get().client_key_pem;
  auto cli = make_client(cfg);
  CAF_REQUIRE(call(*cli, request::get(resources::namespaces, "", "x")));
  CAF_CHECK_EQUAL(last_request(srv).client_cn, "test-client");
  CAF_CHECK_EQUAL(srv.requests().back().header("authorization"), "");
  // A key that does not match the certificate.
  cfg.client_key_pem = test_pki::get().server_key_pem;
  auto bad = client::make(cfg);
  CAF_CHECK(!bad && is(bad.error(), errc::config_error));
}

CAF_TEST(the token file is read again when it changes) {
  istio_csr::test::temp_dir dir;
  auto path = dir.write("token", "token-1\n");
  https_test_server srv{[](const request_info& req, conn_t& c) {
    if (req.header("authorization") == "Bearer token-3")
      c.respond(200, "{}");
    else if (req.header("authorization") == "Bearer token-2"
             || req.header("authorization") == "Bearer token-1")
      c.respond(200, "{}");
    else
      c.respond(401, status_body(401, "Unauthorized", "Unauthorized").dump());
  }};
  auto cfg = config_for(srv);
  cfg.token.clear();
  cfg.token_file = path;
  auto cli = make_client(cfg);
  CAF_REQUIRE(call(*cli, request::get(resources::namespaces, "", "x")));
  CAF_CHECK_EQUAL(srv.requests().back().header("authorization"),
                  "Bearer token-1");
  // Rotation by rename, as the kubelet does for projected tokens.
  dir.write("token.new", "token-2");
  std::filesystem::rename(dir.file("token.new"), path);
  CAF_REQUIRE(call(*cli, request::get(resources::namespaces, "", "x")));
  CAF_CHECK_EQUAL(srv.requests().back().header("authorization"),
                  "Bearer token-2");
  // Rewrite in place, same size.
  dir.write("token", "token-3");
  CAF_REQUIRE(call(*cli, request::get(resources::namespaces, "", "x")));
  CAF_CHECK_EQUAL(srv.requests().back().header("authorization"),
                  "Bearer token-3");
  // A rejected token: unauthorized, not retried.
  dir.write("token", "token-bad");
  auto res = call(*cli, request::get(resources::namespaces, "", "x"));
  CAF_CHECK(!res && is(res.error(), errc::unauthorized));
}

CAF_TEST(impersonation headers) {
  https_test_server srv{
    [](const request_info&, conn_t& c) { c.respond(200, "{}"); }};
  auto cfg = config_for(srv);
  cfg.impersonate_user = "jane";
  cfg.impersonate_uid = "u-1";
  cfg.impersonate_groups = {"g1", "g2"};
  cfg.impersonate_extra = {{"scopes", {"view"}}};
  auto cli = make_client(cfg);
  CAF_REQUIRE(call(*cli, request::get(resources::namespaces, "", "x")));
  auto req = srv.requests().back();
  CAF_CHECK_EQUAL(req.header("impersonate-user"), "jane");
  CAF_CHECK_EQUAL(req.header("impersonate-uid"), "u-1");
  CAF_CHECK_EQUAL(req.impersonate_groups,
                  (std::vector<std::string>{"g1", "g2"}));
  CAF_CHECK_EQUAL(req.header("impersonate-extra-scopes"), "view");
}

CAF_TEST(the rate limiter delays and never fails) {
  https_test_server srv{
    [](const request_info&, conn_t& c) { c.respond(200, "{}"); }};
  auto cfg = config_for(srv);
  cfg.qps = 20;
  cfg.burst = 2;
  auto cli = make_client(cfg);
  auto start = std::chrono::steady_clock::now();
  std::vector<std::future<caf::expected<json>>> results;
  for (int i = 0; i < 6; ++i) {
    auto p = std::make_shared<std::promise<caf::expected<json>>>();
    results.push_back(p->get_future());
    cli->get(resources::namespaces, "", "x",
             [p](caf::expected<json> r) { p->set_value(std::move(r)); });
  }
  for (auto& f : results) {
    CAF_REQUIRE(f.wait_for(20s) == std::future_status::ready);
    CAF_CHECK(f.get());
  }
  // 2 at once, then 4 more at 20/s: at least 200 ms.
  CAF_CHECK_GREATER_OR_EQUAL(std::chrono::steady_clock::now() - start, 195ms);
  CAF_CHECK_EQUAL(cli->stats().throttled, 4u);
  // Disabled: no throttling at all.
  cfg.disable_rate_limiter = true;
  auto free = make_client(cfg);
  for (int i = 0; i < 6; ++i)
    CAF_CHECK(call(*free, request::get(resources::namespaces, "", "x")));
  CAF_CHECK_EQUAL(free->stats().throttled, 0u);
}

CAF_TEST(request timeout) {
  gate release;
  https_test_server srv{[&](const request_info&, conn_t& c) {
    release.wait();
    c.respond(200, "{}");
  }};
  auto cfg = config_for(srv);
  cfg.request_timeout = 300ms;
  auto cli = make_client(cfg);
  auto start = std::chrono::steady_clock::now();
  auto res = call(*cli, request::get(resources::namespaces, "", "x"));
  auto elapsed = std::chrono::steady_clock::now() - start;
  release.release();
  CAF_REQUIRE(!res);
  CAF_CHECK(is(res.error(), errc::timeout));
  CAF_CHECK_GREATER_OR_EQUAL(elapsed, 290ms);
  CAF_CHECK_LESS(elapsed, 5s);
}

CAF_TEST(list all follows continue tokens) {
  https_test_server srv{[](const request_info& req, conn_t& c) {
    json page{{"kind", "ConfigMapList"},
              {"apiVersion", "v1"},
              {"metadata", {{"resourceVersion", "100"}}},
              {"items", json::array()}};
    int from = 0;
    if (auto pos = req.target.find("continue="); pos != std::string::npos)
      from = std::stoi(req.target.substr(pos + 9));
    for (int i = from; i < std::min(from + 2, 5); ++i)
      page["items"].push_back(config_map("cm" + std::to_string(i), "1"));
    if (from + 2 < 5) {
      page["metadata"]["continue"] = std::to_string(from + 2);
      page["metadata"]["remainingItemCount"] = 5 - from - 2;
    }
    c.respond(200, page.dump());
  }};
  auto cli = make_client(config_for(srv));
  list_options lo;
  lo.limit = 2;
  lo.label_selector = "a=b";
  auto res = call(*cli, request::list_all(resources::configmaps, "ns", lo));
  CAF_REQUIRE(res);
  CAF_REQUIRE_EQUAL((*res)["items"].size(), 5u);
  CAF_CHECK_EQUAL((*res)["items"][4]["metadata"]["name"], "cm4");
  CAF_CHECK_EQUAL((*res)["metadata"]["resourceVersion"], "100");
  CAF_CHECK(!(*res)["metadata"].contains("continue"));
  CAF_CHECK_EQUAL(srv.requests().size(), 3u);
  for (auto& r : srv.requests()) {
    CAF_CHECK(r.target.find("limit=2") != std::string::npos);
    CAF_CHECK(r.target.find("labelSelector=a%3Db") != std::string::npos);
  }
}

CAF_TEST(watch events are decoded as chunks arrive) {
  gate second_half;
  auto one = event("ADDED", config_map("a", "1"));
  auto two = event("MODIFIED", config_map("a", "2"));
  auto three
    = event("BOOKMARK", json{{"kind", "ConfigMap"},
                             {"apiVersion", "v1"},
                             {"metadata", {{"resourceVersion", "3"}}}});
  https_test_server srv{[&](const request_info&, conn_t& c) {
    c.begin_chunked();
    // Event one plus half of event two in one chunk.
    c.chunk(one + two.substr(0, 20));
    second_half.wait();
    // The rest split mid-event across chunks.
    c.chunk(two.substr(20, 5));
    c.chunk(two.substr(25) + three.substr(0, 7));
    c.chunk(three.substr(7));
    c.end_chunked();
  }};
  auto cli = make_client(config_for(srv));
  watch_log log;
  list_options lo;
  lo.resource_version = "0";
  lo.allow_watch_bookmarks = true;
  lo.timeout_seconds = 60;
  auto handle = cli->watch(request::watch(resources::configmaps, "ns", lo),
                           log.on_event(), log.on_done());
  // Event one arrives while the stream is still open.
  CAF_REQUIRE(wait_until([&] { return log.count() == 1; }, 10s));
  CAF_CHECK(!log.ended());
  second_half.release();
  CAF_REQUIRE(wait_until([&] { return log.ended(); }, 10s));
  std::lock_guard guard{log.mtx};
  CAF_REQUIRE_EQUAL(log.events.size(), 3u);
  CAF_CHECK(log.events[1].type == watch_event_type::modified);
  CAF_CHECK_EQUAL(log.events[1].object["metadata"]["resourceVersion"], "2");
  CAF_CHECK(log.events[2].type == watch_event_type::bookmark);
  CAF_CHECK(!*log.end); // the server ended the stream cleanly
  auto req = srv.requests().front();
  CAF_CHECK_EQUAL(req.target, "/api/v1/namespaces/ns/configmaps?watch=true"
                              "&resourceVersion=0&timeoutSeconds=60"
                              "&allowWatchBookmarks=true");
}

CAF_TEST(watch ERROR 410 and HTTP 410 end the watch with gone) {
  https_test_server srv{[&](const request_info& req, conn_t& c) {
    if (req.target.find("resourceVersion=5") != std::string::npos) {
      c.begin_chunked();
      c.chunk(event("ERROR", status_body(410, "Expired",
                                         "too old resource version: 5 (90)")));
      c.end_chunked();
    } else {
      c.respond(410, status_body(410, "Gone", "gone").dump());
    }
  }};
  auto cli = make_client(config_for(srv));
  for (auto rv : {"5", "6"}) {
    watch_log log;
    list_options lo;
    lo.resource_version = rv;
    cli->watch(request::watch(resources::configmaps, "ns", lo), log.on_event(),
               log.on_done());
    CAF_REQUIRE(wait_until([&] { return log.ended(); }, 10s));
    CAF_CHECK_EQUAL(log.count(), 0u);
    CAF_CHECK_EQUAL(istio_csr::errors::describe(*log.end),
                    rv == std::string{"5"} ? "kube.gone: too old resource "
                                             "version: 5 (90)"
                                           : "kube.gone: gone");
  }
  // Neither was retried.
  CAF_CHECK_EQUAL(srv.requests().size(), 2u);
}

CAF_TEST(a watch dropped mid stream ends with a connection error) {
  https_test_server srv{[&](const request_info&, conn_t& c) {
    c.begin_chunked();
    c.chunk(event("ADDED", config_map("a", "1")));
    c.chunk(event("ADDED", config_map("b", "2")).substr(0, 10));
    c.drop();
  }};
  auto cli = make_client(config_for(srv));
  watch_log log;
  cli->watch(request::watch(resources::configmaps, "ns"), log.on_event(),
             log.on_done());
  CAF_REQUIRE(wait_until([&] { return log.ended(); }, 10s));
  CAF_CHECK_EQUAL(log.count(), 1u);
  CAF_CHECK(is(*log.end, errc::connection_failed));
}

CAF_TEST(a cancelled watch calls nothing more) {
  gate done;
  https_test_server srv{[&](const request_info&, conn_t& c) {
    c.begin_chunked();
    c.chunk(event("ADDED", config_map("a", "1")));
    done.wait();
    c.chunk(event("ADDED", config_map("b", "2")));
  }};
  auto cli = make_client(config_for(srv));
  watch_log log;
  auto handle = cli->watch(request::watch(resources::configmaps, "ns"),
                           log.on_event(), log.on_done());
  CAF_REQUIRE(wait_until([&] { return log.count() == 1; }, 10s));
  handle->cancel();
  // The cancel is processed on the client thread; a round trip through it
  // proves that.
  std::promise<void> flushed;
  cli->post([&] { flushed.set_value(); });
  flushed.get_future().wait();
  done.release();
  CAF_CHECK(!wait_until([&] { return log.count() > 1 || log.ended(); }, 300ms));
}

CAF_TEST(destroying the client cancels open requests) {
  gate release;
  https_test_server srv{[&](const request_info&, conn_t& c) {
    release.wait();
    c.respond(200, "{}");
  }};
  auto cli = make_client(config_for(srv));
  auto p = std::make_shared<std::promise<caf::expected<json>>>();
  auto f = p->get_future();
  cli->get(resources::namespaces, "", "x",
           [p](caf::expected<json> r) { p->set_value(std::move(r)); });
  CAF_REQUIRE(wait_until([&] { return srv.requests().size() == 1; }, 10s));
  cli.reset();
  CAF_REQUIRE(f.wait_for(10s) == std::future_status::ready);
  auto res = f.get();
  CAF_CHECK(!res && is(res.error(), errc::cancelled));
  release.release();
}
