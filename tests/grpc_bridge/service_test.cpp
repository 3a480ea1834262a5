#define CAF_SUITE grpc_bridge.service

#include "errors/describe.hpp"
#include "tests/grpc_bridge/fixture.hpp"

#include <condition_variable>
#include <thread>

#include <grpcpp/generic/generic_stub.h>

#include "proto/ca.pb.h"

using namespace istio_csr;
using namespace istio_csr::test;

namespace {

std::string spiffe(const std::string& ns, const std::string& sa,
                   const std::string& td = "cluster.local") {
  return "spiffe://" + td + "/ns/" + ns + "/sa/" + sa;
}

} // namespace

CAF_TEST_FIXTURE_SCOPE(service_tests, bridge_fixture)

CAF_TEST(a call reaches the handler with token cluster id and deadline) {
  start();
  auto ch = channel();
  auto before = std::chrono::steady_clock::now();
  auto res = create_certificate(*ch, "CSR-1", 30s, "tok-123", "cluster-a");
  CAF_REQUIRE(res.status.ok());
  CAF_REQUIRE_EQUAL(res.response.cert_chain_size(), 2);
  CAF_CHECK_EQUAL(res.response.cert_chain(0), "leaf:CSR-1");
  CAF_CHECK_EQUAL(res.response.cert_chain(1), "root");
  CAF_REQUIRE_EQUAL(handler->count(), 1u);
  auto c = handler->at(0);
  CAF_CHECK_EQUAL(c->request.csr_pem, "CSR-1");
  CAF_CHECK_EQUAL(c->request.validity_seconds, 3600);
  CAF_REQUIRE(c->caller().bearer_token.has_value());
  CAF_CHECK_EQUAL(*c->caller().bearer_token, "tok-123");
  CAF_CHECK(c->caller().has_authorization);
  CAF_CHECK_EQUAL(c->caller().cluster_ids,
                  std::vector<std::string>{"cluster-a"});
  // No client certificate was sent.
  CAF_CHECK(!c->caller().client_cert.has_value());
  CAF_CHECK_EQUAL(c->caller().peer.rfind("127.0.0.1:", 0), 0u);
  CAF_CHECK_NOT_EQUAL(c->caller().peer,
                      "127.0.0.1:" + std::to_string(srv->port()));
  CAF_CHECK(c->caller().connection_id != 0);
  // The deadline is the client's 30 s, give or take scheduling.
  auto after = std::chrono::steady_clock::now();
  CAF_CHECK(c->deadline() > before + 25s);
  CAF_CHECK(c->deadline() <= after + 30s);
  CAF_CHECK(c->finished());
  CAF_CHECK(!c->cancelled());
}

CAF_TEST(metadata keeps every cluster id and the first bearer token) {
  start();
  auto ch = channel();
  auto stub = IstioCertificateService::NewStub(ch);
  grpc::ClientContext ctx;
  ctx.AddMetadata("authorization", "Basic abc");
  ctx.AddMetadata("authorization", "Bearer first");
  ctx.AddMetadata("authorization", "Bearer second");
  ctx.AddMetadata("clusterid", "c1");
  ctx.AddMetadata("clusterid", "c2");
  IstioCertificateRequest req;
  req.set_csr("x");
  (*req.mutable_metadata()->mutable_fields())["ImpersonatedIdentity"]
    .set_string_value(spiffe("ns", "sa"));
  IstioCertificateResponse resp;
  auto status = stub->CreateCertificate(&ctx, req, &resp);
  CAF_REQUIRE(status.ok());
  auto c = handler->at(0);
  CAF_CHECK_EQUAL(*c->caller().bearer_token, "first");
  CAF_CHECK_EQUAL(c->caller().cluster_ids,
                  (std::vector<std::string>{"c1", "c2"}));
  CAF_CHECK_EQUAL(c->request.impersonated_identity, spiffe("ns", "sa"));
  // No deadline set by the client.
  CAF_CHECK(c->deadline() == std::chrono::steady_clock::time_point::max());
}

CAF_TEST(no authorization header and no bearer token are told apart) {
  start();
  auto ch = channel();
  CAF_REQUIRE(create_certificate(*ch, "a", 10s, "", "").status.ok());
  CAF_CHECK(!handler->at(0)->caller().has_authorization);
  CAF_CHECK(!handler->at(0)->caller().bearer_token);
  CAF_CHECK(handler->at(0)->caller().cluster_ids.empty());
}

CAF_TEST(a handler error reaches the client with code and message) {
  start();
  handler->auto_answer = false;
  auto ch = channel();
  std::thread answer([&] {
    if (handler->wait_for(1))
      handler->at(0)->finish_error(signing_api::sign_errc::unauthenticated);
  });
  auto res = create_certificate(*ch, "csr");
  answer.join();
  CAF_CHECK_EQUAL(res.status.error_code(), grpc::StatusCode::UNAUTHENTICATED);
  CAF_CHECK_EQUAL(res.status.error_message(), "request authenticate failure");
  // A second finish is a no-op.
  CAF_CHECK(!handler->at(0)->finish_ok({"late"}));
}

CAF_TEST(a client certificate gives the caller its identity) {
  start();
  pki::subject_alt_names sans;
  sans.uris = {spiffe("vm", "agent")};
  sans.dns = {"vm.example"};
  sans.ips = {"10.1.2.3"};
  auto client = make_leaf(ca, sans);
  auto ch = channel({client, {}});
  auto res = create_certificate(*ch, "csr");
  CAF_REQUIRE(res.status.ok());
  auto c = handler->at(0);
  CAF_REQUIRE(c->caller().client_cert.has_value());
  const auto& id = *c->caller().client_cert;
  CAF_CHECK_EQUAL(id.spiffe_id, spiffe("vm", "agent"));
  CAF_CHECK_EQUAL(id.dns, std::vector<std::string>{"vm.example"});
  CAF_CHECK_EQUAL(id.ips, std::vector<std::string>{"10.1.2.3"});
  CAF_CHECK_EQUAL(id.identities(),
                  (std::vector<std::string>{spiffe("vm", "agent"), "vm.example",
                                            "10.1.2.3"}));
  // The token still comes through: authenticators decide, not the bridge.
  CAF_CHECK_EQUAL(*c->caller().bearer_token, "test-token");
}

CAF_TEST(bad client certificates fail the handshake) {
  start();
  auto other_ca = make_ca("other root");
  pki::subject_alt_names two_uris;
  two_uris.uris = {spiffe("a", "b"), spiffe("c", "d")};
  pki::subject_alt_names no_uri;
  no_uri.dns = {"host.example"};
  struct bad_case {
    std::string name;
    key_and_cert cert;
  };
  std::vector<bad_case> cases{
    {"wrong trust domain", make_workload(ca, spiffe("ns", "sa", "other.td"))},
    {"two URIs", make_leaf(ca, two_uris)},
    {"no URI", make_leaf(ca, no_uri)},
    {"not SPIFFE", make_workload(ca, "https://example.com/ns/a/sa/b")},
    {"untrusted CA", make_workload(other_ca, spiffe("ns", "sa"))},
    {"server auth only", make_leaf(ca,
                                   [] {
                                     pki::subject_alt_names s;
                                     s.uris
                                       = {"spiffe://cluster.local/ns/ns/sa/sa"};
                                     return s;
                                   }(),
                                   {std::string{pki::oid::server_auth}})},
  };
  for (auto& bad : cases) {
    CAF_MESSAGE("case: " << bad.name);
    auto failed_before = srv->transport_stats().handshakes_failed;
    auto ch = channel({bad.cert, {}});
    auto res = create_certificate(*ch, "csr", 5s);
    CAF_CHECK_EQUAL(res.status.error_code(), grpc::StatusCode::UNAVAILABLE);
    CAF_CHECK(wait_until(
      [&] { return srv->transport_stats().handshakes_failed > failed_before; },
      5s));
  }
  CAF_CHECK_EQUAL(handler->count(), 0u);
  // A good one still works afterwards.
  auto good = make_workload(ca, spiffe("ns", "sa"));
  auto ch = channel({good, {}});
  CAF_CHECK(create_certificate(*ch, "csr").status.ok());
  CAF_CHECK_EQUAL(handler->count(), 1u);
}

CAF_TEST(many concurrent calls are answered later from another thread) {
  start();
  handler->auto_answer = false;
  // At most 32 concurrent streams per connection (server_settings).
  constexpr int channels = 8;
  constexpr int per_channel = 25;
  std::vector<std::shared_ptr<grpc::Channel>> chans;
  for (int i = 0; i < channels; ++i)
    chans.push_back(channel());
  struct pending {
    grpc::ClientContext ctx;
    IstioCertificateRequest req;
    IstioCertificateResponse resp;
    grpc::Status status;
    std::atomic<bool> done{false};
  };
  std::vector<std::unique_ptr<pending>> calls;
  std::vector<std::unique_ptr<IstioCertificateService::Stub>> stubs;
  for (auto& ch : chans)
    stubs.push_back(IstioCertificateService::NewStub(ch));
  for (int i = 0; i < channels * per_channel; ++i) {
    auto p = std::make_unique<pending>();
    p->req.set_csr("csr-" + std::to_string(i));
    p->ctx.set_deadline(std::chrono::system_clock::now() + 30s);
    p->ctx.AddMetadata("authorization", "Bearer t" + std::to_string(i));
    auto* raw = p.get();
    stubs[i % channels]->async()->CreateCertificate(
      &raw->ctx, &raw->req, &raw->resp, [raw](grpc::Status s) {
        raw->status = std::move(s);
        raw->done = true;
      });
    calls.push_back(std::move(p));
  }
  auto total = static_cast<std::size_t>(channels * per_channel);
  CAF_REQUIRE(handler->wait_for(total, 30s));
  CAF_CHECK_EQUAL(srv->active_calls(), total);
  // Answer from another thread, in reverse order.
  std::thread answerer([&] {
    auto all = handler->all();
    for (auto i = all.rbegin(); i != all.rend(); ++i) {
      auto& c = *i;
      c->finish_ok(
        {"leaf-for:" + c->request.csr_pem + ":" + *c->caller().bearer_token,
         "root"});
    }
  });
  answerer.join();
  CAF_CHECK(wait_until(
    [&] {
      for (auto& p : calls)
        if (!p->done)
          return false;
      return true;
    },
    30s));
  for (int i = 0; i < channels * per_channel; ++i) {
    auto& p = *calls[i];
    CAF_REQUIRE(p.done);
    CAF_CHECK(p.status.ok());
    CAF_REQUIRE_EQUAL(p.resp.cert_chain_size(), 2);
    CAF_CHECK_EQUAL(p.resp.cert_chain(0), "leaf-for:csr-" + std::to_string(i)
                                            + ":t" + std::to_string(i));
  }
  CAF_CHECK(wait_until([&] { return srv->active_calls() == 0; }, 10s));
  // Each channel used one TLS connection.
  CAF_CHECK_EQUAL(srv->transport_stats().handshakes_ok,
                  static_cast<std::uint64_t>(channels));
}

CAF_TEST(a cancelled call reports it and later finishes do nothing) {
  start();
  handler->auto_answer = false;
  auto ch = channel();
  auto stub = IstioCertificateService::NewStub(ch);
  grpc::ClientContext ctx;
  IstioCertificateRequest req;
  req.set_csr("to-cancel");
  IstioCertificateResponse resp;
  std::atomic<bool> done{false};
  grpc::Status status;
  stub->async()->CreateCertificate(&ctx, &req, &resp, [&](grpc::Status s) {
    status = std::move(s);
    done = true;
  });
  CAF_REQUIRE(handler->wait_for(1));
  auto c = handler->at(0);
  std::atomic<int> cancel_callbacks{0};
  c->on_cancel([&] { ++cancel_callbacks; });
  CAF_CHECK(!c->cancelled());
  ctx.TryCancel();
  CAF_CHECK(wait_until([&] { return c->cancelled(); }, 10s));
  CAF_CHECK_EQUAL(cancel_callbacks.load(), 1);
  CAF_CHECK(!c->finish_ok({"too", "late"}));
  CAF_CHECK(wait_until([&] { return done.load(); }, 10s));
  CAF_CHECK_EQUAL(status.error_code(), grpc::StatusCode::CANCELLED);
  CAF_CHECK(wait_until([&] { return srv->active_calls() == 0; }, 10s));
  // A callback registered after the cancellation runs at once.
  bool late = false;
  c->on_cancel([&] { late = true; });
  CAF_CHECK(late);
}

CAF_TEST(an expired deadline cancels the call) {
  start();
  handler->auto_answer = false;
  auto ch = channel();
  auto res = create_certificate(*ch, "slow", 300ms);
  CAF_CHECK_EQUAL(res.status.error_code(), grpc::StatusCode::DEADLINE_EXCEEDED);
  CAF_REQUIRE_EQUAL(handler->count(), 1u);
  CAF_CHECK(wait_until([&] { return handler->at(0)->cancelled(); }, 10s));
  CAF_CHECK(!handler->at(0)->finish_ok({"late"}));
}

CAF_TEST(oversized requests are refused before the handler) {
  start();
  auto ch = channel();
  auto res = create_certificate(*ch, std::string(200 * 1024, 'x'));
  CAF_CHECK_EQUAL(res.status.error_code(),
                  grpc::StatusCode::RESOURCE_EXHAUSTED);
  CAF_CHECK_EQUAL(handler->count(), 0u);
  // The connection survives.
  CAF_CHECK(create_certificate(*ch, "small").status.ok());
}

CAF_TEST(only CreateCertificate is served) {
  start();
  auto ch = channel();
  grpc::GenericStub generic(ch);
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() + 10s);
  grpc::Slice payload(std::string{"\x0a\x01x"});
  grpc::ByteBuffer request(&payload, 1);
  grpc::ByteBuffer response;
  std::mutex mtx;
  std::condition_variable cv;
  bool done = false;
  grpc::Status status;
  generic.UnaryCall(&ctx, "/grpc.health.v1.Health/Check", {}, &request,
                    &response, [&](grpc::Status s) {
                      std::lock_guard<std::mutex> guard{mtx};
                      status = std::move(s);
                      done = true;
                      cv.notify_all();
                    });
  std::unique_lock<std::mutex> lock{mtx};
  CAF_REQUIRE(cv.wait_for(lock, 10s, [&] { return done; }));
  CAF_CHECK_EQUAL(status.error_code(), grpc::StatusCode::UNIMPLEMENTED);
}

CAF_TEST_FIXTURE_SCOPE_END()
