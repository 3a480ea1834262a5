#define CAF_SUITE grpc_bridge.rotation

#include "tests/grpc_bridge/fixture.hpp"

#include "proto/ca.pb.h"

using namespace istio_csr;
using namespace istio_csr::test;

CAF_TEST_FIXTURE_SCOPE(rotation_tests, bridge_fixture)

CAF_TEST(serving certificate rotation keeps calls in
           flight and new connections see the new certificate) {
  start();
  handler->auto_answer = false;
  auto ch = channel();
  auto stub = IstioCertificateService::NewStub(ch);
  constexpr int n = 10;
  struct pending {
    grpc::ClientContext ctx;
    IstioCertificateRequest req;
    IstioCertificateResponse resp;
    grpc::Status status;
    std::atomic<bool> done{false};
  };
  std::vector<std::unique_ptr<pending>> calls;
  for (int i = 0; i < n; ++i) {
    auto p = std::make_unique<pending>();
    p->req.set_csr("in-flight-" + std::to_string(i));
    auto* raw = p.get();
    stub->async()->CreateCertificate(&raw->ctx, &raw->req, &raw->resp,
                                     [raw](grpc::Status s) {
                                       raw->status = std::move(s);
                                       raw->done = true;
                                     });
    calls.push_back(std::move(p));
  }
  CAF_REQUIRE(handler->wait_for(n));
  auto old_serial = serving.cert.serial_hex();
  auto before = s_client(srv->port(), ca_file(), {"-alpn", "h2"});
  CAF_REQUIRE(before.connected);
  CAF_CHECK_EQUAL(
    unwrap(pki::certificate::from_pem(before.server_cert_pem)).serial_hex(),
    old_serial);
  // Rotate: new key, new certificate.
  auto next = make_serving(ca);
  CAF_REQUIRE_NOT_EQUAL(next.cert.serial_hex(), old_serial);
  CAF_REQUIRE(!srv->set_serving_certificate({next.cert}, next.key));
  CAF_CHECK_EQUAL(srv->serving_leaf()->serial_hex(), next.cert.serial_hex());
  for (auto& c : handler->all())
    CAF_CHECK(c->finish_ok({"leaf:" + c->request.csr_pem, "root"}));
  CAF_CHECK(wait_until(
    [&] {
      for (auto& p : calls)
        if (!p->done)
          return false;
      return true;
    },
    10s));
  for (auto& p : calls) {
    CAF_CHECK(p->status.ok());
    CAF_CHECK_EQUAL(p->resp.cert_chain(0), "leaf:" + p->req.csr());
  }
  // The established connection goes on working.
  handler->auto_answer = true;
  CAF_CHECK(create_certificate(*ch, "after").status.ok());
  CAF_CHECK_EQUAL(srv->transport_stats().handshakes_ok, 2u); // ch + s_client
  // New connections get the new certificate.
  auto after = s_client(srv->port(), ca_file(), {"-alpn", "h2"});
  CAF_REQUIRE(after.connected);
  CAF_CHECK_EQUAL(
    unwrap(pki::certificate::from_pem(after.server_cert_pem)).serial_hex(),
    next.cert.serial_hex());
  auto fresh = channel();
  CAF_CHECK(create_certificate(*fresh, "fresh").status.ok());
}

CAF_TEST(a key that does not match the certificate is refused) {
  start();
  auto other = make_serving(ca);
  CAF_CHECK(srv->set_serving_certificate({serving.cert}, other.key));
  // The old credentials stay in place.
  CAF_CHECK_EQUAL(srv->serving_leaf()->serial_hex(), serving.cert.serial_hex());
  auto ch = channel();
  CAF_CHECK(create_certificate(*ch, "still").status.ok());
}

CAF_TEST(roots rotation changes client certificate verification) {
  start();
  auto next_ca = make_ca("next mesh root");
  auto old_client = make_workload(ca, "spiffe://cluster.local/ns/a/sa/old");
  auto new_client
    = make_workload(next_ca, "spiffe://cluster.local/ns/a/sa/new");
  {
    auto ch = channel({old_client, {}});
    CAF_CHECK(create_certificate(*ch, "x").status.ok());
    auto ch2 = channel({new_client, {}});
    CAF_CHECK_EQUAL(create_certificate(*ch2, "x", 5s).status.error_code(),
                    grpc::StatusCode::UNAVAILABLE);
  }
  CAF_REQUIRE(!srv->set_roots({next_ca.cert}));
  {
    auto ch = channel({old_client, {}});
    CAF_CHECK_EQUAL(create_certificate(*ch, "x", 5s).status.error_code(),
                    grpc::StatusCode::UNAVAILABLE);
    auto ch2 = channel({new_client, {}});
    auto res = create_certificate(*ch2, "x");
    CAF_CHECK(res.status.ok());
  }
  // Both roots during a CA rotation.
  CAF_REQUIRE(!srv->set_roots({ca.cert, next_ca.cert}));
  auto ch = channel({old_client, {}});
  CAF_CHECK(create_certificate(*ch, "x").status.ok());
  auto ch2 = channel({new_client, {}});
  CAF_CHECK(create_certificate(*ch2, "x").status.ok());
  auto calls = handler->all();
  CAF_REQUIRE_EQUAL(calls.size(), 4u);
  CAF_CHECK_EQUAL(calls[1]->caller().client_cert->spiffe_id,
                  "spiffe://cluster.local/ns/a/sa/new");
  // Clients without certificates are not affected by the roots at all.
  auto plain = channel();
  CAF_CHECK(create_certificate(*plain, "x").status.ok());
}

CAF_TEST_FIXTURE_SCOPE_END()
