#define CAF_SUITE devcluster_issuer.robustness

#include "caf/test/unit_test.hpp"

#include <map>

#include "tests/devcluster/issuer/fixture.hpp"
#include "tests/support/skip.hpp"

using namespace istio_csr;
using namespace istio_csr::test;
using namespace istio_csr::test::issuer;

namespace {

bool ready(const json& cr) {
  return has_condition(cr, "Ready", "True");
}

} // namespace

// `devcluster issuer` as a separate process against a devcluster that drops
// watches, forgets history quickly (410 on resume) and fails a third of the
// status updates: every request is still signed, exactly once, also across a
// restart of the controllers.
CAF_TEST(dropped watches and 410s and API errors and restarts) {
  json faults{{"seed", 7},
              {"rules",
               {{{"verbs", {"update"}},
                 {"resources", {"certificaterequests/status"}},
                 {"error", 500},
                 {"probability", 0.3}}}},
              {"watch", {{"dropAfterEvents", 3}, {"dropAfterSeconds", 0.5}}}};
  auto own = test_cluster::start({"--no-issuer-controllers", "--history-size",
                                  "15", "--faults", faults.dump()});
  CAF_REQUIRE(own != nullptr);
  if (!own->is_devcluster()) {
    ICSR_SKIP("needs devcluster's fault injection");
    return;
  }
  auto start_controllers = [&] {
    auto p = child_process::spawn(
      {bin("devcluster"), "issuer", "--kubeconfig", own->kubeconfig()});
    CAF_REQUIRE(p != nullptr);
    CAF_REQUIRE(p->wait_for_line("devcluster issuer running", 30s));
    return p;
  };
  auto controllers = start_controllers();
  auto get_cr = [&](const std::string& name) -> std::optional<json> {
    auto res = own->kubectl(
      {"get", "certificaterequest", name, "-n", "istio-system", "-o", "json"});
    if (res.exit_code != 0)
      return std::nullopt;
    return json::parse(res.out);
  };
  auto create_cr = [&](const std::string& name) {
    auto key = pki::private_key::generate_ec(256);
    CAF_REQUIRE(key);
    auto res = own->kubectl(
      {"create", "-f", "-"},
      make_request("istio-system", name,
                   make_csr_pem(*key, {"spiffe://cluster.local/r/" + name}),
                   "istio-ca", "Issuer", {"client auth"}, "1h")
        .dump());
    CAF_REQUIRE_EQUAL(res.exit_code, 0);
  };
  auto wait_ready = [&](const std::string& name) {
    std::optional<json> last;
    auto ok = wait_until(
      [&] {
        last = get_cr(name);
        return last && ready(*last);
      },
      60s, 50ms);
    if (!ok)
      CAF_MESSAGE("not ready: " << name << ": "
                                << (last ? last->dump() : "absent") << "\n"
                                << controllers->err());
    return ok ? last : std::nullopt;
  };
  std::map<std::string, std::string> issued;
  for (int i = 0; i < 12; ++i)
    create_cr("r" + std::to_string(i));
  for (int i = 0; i < 12; ++i) {
    auto name = "r" + std::to_string(i);
    auto cr = wait_ready(name);
    CAF_REQUIRE(cr);
    issued[name] = status_pem(*cr, "certificate");
    CAF_CHECK(!issued[name].empty());
  }
  // The issuer's log tells that the faults were hit and retried.
  auto log = controllers->err();
  CAF_CHECK(log.find("retrying") != std::string::npos);
  // A restart: the new process sees terminal requests and leaves them.
  CAF_CHECK_EQUAL(controllers->stop(), 0);
  controllers = start_controllers();
  create_cr("after-restart");
  CAF_REQUIRE(wait_ready("after-restart"));
  for (auto& [name, pem] : issued) {
    auto cr = get_cr(name);
    CAF_REQUIRE(cr);
    auto now = status_pem(*cr, "certificate");
    CAF_CHECK_EQUAL(now, pem);
  }
}
