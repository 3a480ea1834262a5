// The runtime issuer watcher (docs/upstream.md §3.5) against the test cluster:
// the ConfigMap's data becomes the active issuer, incomplete data keeps the
// previous one, deletion reverts to the startup issuer (or to none), only
// the named ConfigMap counts, a restarted watcher notices a deletion it
// missed, and dropped watches resume.

#define CAF_SUITE controllers.runtime_issuer

#include "tests/actors/controllers/runtime_fixture.hpp"

#include "caf/after.hpp"

#include "actors/signing/messages.hpp"
#include "config/options.hpp"
#include "kube/api/config_map.hpp"

using namespace istio_csr;
using namespace istio_csr::test;
using namespace istio_csr::test::controllers;
namespace ctl = istio_csr::actors::controllers;

namespace {

const std::string cm_name = "runtime-config-map";

const kube::issuer_ref startup = issuer_of("istio-ca");
const kube::issuer_ref runtime_a = issuer_of("runtimeconfig-ca-issuer");
const kube::issuer_ref runtime_b{"vault", "ClusterIssuer", "example.io"};

json config_map(const std::map<std::string, std::string>& data) {
  return kube::make_config_map("ns", "cm", {}, data);
}

struct fixture : runtime_fixture {
  std::string ns;

  fixture() {
    ns = make_namespace("runtime");
  }

  ctl::runtime_issuer_options options(std::optional<kube::issuer_ref> fixed) {
    ctl::runtime_issuer_options o;
    o.name = cm_name;
    o.namespace_ = ns;
    o.static_issuer = std::move(fixed);
    return o;
  }

  /// Starts a watcher whose startup issuer is `fixed` (also the holder's
  /// initial value, as in the agent) and waits for its first list.
  caf::actor start(std::optional<kube::issuer_ref> fixed) {
    reset_issuer(fixed);
    auto hdl = spawn_runtime_issuer(options(fixed));
    CAF_REQUIRE(wait_until([&] { return runtime_status(hdl).synced; }, 20s));
    return hdl;
  }

  void put(const std::map<std::string, std::string>& data,
           const std::string& name = cm_name) {
    put_config_map(cluster(), ns, name, data);
  }
};

} // namespace

// -- reading the data
// ----------------------------------------------------------

CAF_TEST(complete data names the issuer) {
  auto cfg = ctl::parse_runtime_issuer(config_map(runtime_data(runtime_b)));
  CAF_REQUIRE(cfg.issuer.has_value());
  CAF_CHECK(*cfg.issuer == runtime_b);
  CAF_CHECK(cfg.errors.empty());
}

CAF_TEST(every missing or empty key is reported) {
  auto data = runtime_data(runtime_a);
  data.erase(ctl::issuer_kind_key);
  data[ctl::issuer_group_key] = "";
  auto cfg = ctl::parse_runtime_issuer(config_map(data));
  CAF_CHECK(!cfg.issuer.has_value());
  CAF_REQUIRE_EQUAL(cfg.errors.size(), 2u);
  CAF_CHECK_NOT_EQUAL(cfg.errors[0].find("issuer-kind"), std::string::npos);
  CAF_CHECK_NOT_EQUAL(cfg.errors[1].find("issuer-group"), std::string::npos);
  auto none = ctl::parse_runtime_issuer(config_map({}));
  CAF_CHECK(!none.issuer.has_value());
  CAF_CHECK_EQUAL(none.errors.size(), 3u);
  // Other keys do not matter.
  data = runtime_data(runtime_a);
  data["other"] = "x";
  CAF_CHECK(ctl::parse_runtime_issuer(config_map(data)).issuer == runtime_a);
}

CAF_TEST(options from the command line) {
  config::options opts;
  opts.runtime_config.name = "rc";
  opts.runtime_config.namespace_ = "cert-manager";
  opts.issuer.static_issuer = config::issuer_ref{"a", "Issuer", "g"};
  auto o = ctl::runtime_issuer_options_from(opts);
  CAF_CHECK_EQUAL(o.name, "rc");
  CAF_CHECK_EQUAL(o.namespace_, "cert-manager");
  CAF_CHECK(o.static_issuer == kube::issuer_ref{"a", "Issuer", "g"});
  opts.issuer.static_issuer.reset();
  CAF_CHECK(!ctl::runtime_issuer_options_from(opts).static_issuer);
}

// -- against the cluster
// -------------------------------------------------------

CAF_TEST_FIXTURE_SCOPE(runtime_issuer_tests, fixture)

CAF_TEST(the ConfigMap switches the issuer and its deletion reverts it) {
  auto hdl = start(startup);
  CAF_CHECK(issuer->get() == startup);
  put(runtime_data(runtime_a));
  CAF_CHECK(wait_issuer(runtime_a));
  put(runtime_data(runtime_b));
  CAF_CHECK(wait_issuer(runtime_b));
  delete_config_map(cluster(), ns, cm_name);
  CAF_CHECK(wait_issuer(startup));
  auto st = runtime_status(hdl);
  CAF_CHECK_EQUAL(st.applied, 2u);
  CAF_CHECK_EQUAL(st.reverted, 1u);
  CAF_CHECK(!st.present);
  // And again: the watch still runs.
  put(runtime_data(runtime_a));
  CAF_CHECK(wait_issuer(runtime_a));
}

CAF_TEST(incomplete data keeps the previous issuer) {
  auto hdl = start(startup);
  // Incomplete from the start: the startup issuer stays.
  put({{ctl::issuer_name_key, "x"}});
  CAF_REQUIRE(
    wait_until([&] { return runtime_status(hdl).rejected >= 1; }, 10s));
  CAF_CHECK(issuer->get() == startup);
  put(runtime_data(runtime_a));
  CAF_REQUIRE(wait_issuer(runtime_a));
  // An update that loses a key, or empties one: runtime_a stays.
  auto data = runtime_data(runtime_b);
  data.erase(ctl::issuer_group_key);
  put(data);
  CAF_REQUIRE(
    wait_until([&] { return runtime_status(hdl).rejected >= 2; }, 10s));
  CAF_CHECK(issuer->get() == runtime_a);
  data = runtime_data(runtime_b);
  data[ctl::issuer_name_key] = "";
  put(data);
  CAF_REQUIRE(
    wait_until([&] { return runtime_status(hdl).rejected >= 3; }, 10s));
  CAF_CHECK(issuer->get() == runtime_a);
  auto st = runtime_status(hdl);
  CAF_CHECK_NOT_EQUAL(st.last_error.find("issuer-name"), std::string::npos);
  CAF_CHECK(st.configured == runtime_a);
  // Deleting an incomplete ConfigMap still reverts.
  delete_config_map(cluster(), ns, cm_name);
  CAF_CHECK(wait_issuer(startup));
}

CAF_TEST(without a startup issuer deletion leaves none) {
  auto hdl = start(std::nullopt);
  CAF_CHECK(!issuer->get());
  put(runtime_data(runtime_a));
  CAF_CHECK(wait_issuer(runtime_a));
  delete_config_map(cluster(), ns, cm_name);
  CAF_CHECK(wait_issuer(std::nullopt));
  CAF_CHECK_EQUAL(runtime_status(hdl).reverted, 1u);
  put(runtime_data(runtime_b));
  CAF_CHECK(wait_issuer(runtime_b));
}

CAF_TEST(a ConfigMap present at start applies at once) {
  put(runtime_data(runtime_b));
  start(startup);
  CAF_CHECK(wait_issuer(runtime_b));
}

CAF_TEST(only the named ConfigMap counts) {
  auto hdl = start(startup);
  put(runtime_data(runtime_a), "another-config-map");
  // The other namespace's ConfigMap of the same name neither.
  auto other_ns = make_namespace("runtime-other");
  put_config_map(cluster(), other_ns, cm_name, runtime_data(runtime_a));
  // A marker written afterwards proves both were ignored, not just late.
  put(runtime_data(runtime_b));
  CAF_REQUIRE(wait_issuer(runtime_b));
  auto st = runtime_status(hdl);
  CAF_CHECK_EQUAL(st.applied, 1u);
  CAF_CHECK_EQUAL(st.rejected, 0u);
}

CAF_TEST(subscribers hear of every change) {
  start(startup);
  caf::scoped_actor self{sys()};
  issuer->subscribe(self);
  auto next = [&]() -> std::optional<kube::issuer_ref> {
    std::optional<kube::issuer_ref> result;
    self->receive(
      [&](actors::signing::issuer_changed_atom,
          const actors::signing::issuer_update& up) { result = up.issuer; },
      caf::after(std::chrono::seconds{10}) >>
        [] { CAF_FAIL("no issuer notification"); });
    return result;
  };
  CAF_CHECK(next() == startup); // at subscription
  put(runtime_data(runtime_a));
  CAF_CHECK(next() == runtime_a);
  delete_config_map(cluster(), ns, cm_name);
  CAF_CHECK(next() == startup);
  issuer->unsubscribe(self->address());
}

CAF_TEST(a restarted watcher notices a deletion it missed) {
  auto hdl = start(startup);
  put(runtime_data(runtime_a));
  CAF_REQUIRE(wait_issuer(runtime_a));
  kill(hdl);
  delete_config_map(cluster(), ns, cm_name);
  // The holder outlives the watcher and still says runtime_a...
  CAF_CHECK(issuer->get() == runtime_a);
  // ...until a new incarnation lists and finds nothing.
  auto next = spawn_runtime_issuer(options(startup));
  CAF_CHECK(wait_issuer(startup));
  CAF_CHECK_EQUAL(runtime_status(next).reverted, 1u);
}

CAF_TEST(the watch resumes after drops and compaction) {
  if (!devcluster_only("dropped watches and compaction"))
    return;
  auto hdl = start(startup);
  auto before = runtime_status(hdl).watches;
  call_ok(kube::request::raw(kube::verb::create, "/devcluster/v1/drop-watches",
                             json::object()));
  put(runtime_data(runtime_a));
  CAF_CHECK(wait_issuer(runtime_a));
  CAF_CHECK(
    wait_until([&] { return runtime_status(hdl).watches > before; }, 10s));
  // A change while no watch runs, then compaction: the informer re-lists
  // and still sees the deletion.
  set_faults(json{{"watch", {{"dropAfterEvents", 1}}}});
  delete_config_map(cluster(), ns, cm_name);
  CAF_CHECK(wait_issuer(startup));
  put(runtime_data(runtime_b));
  CAF_CHECK(wait_issuer(runtime_b));
  call_ok(kube::request::raw(kube::verb::create, "/devcluster/v1/compact",
                             json::object()));
  call_ok(kube::request::raw(kube::verb::create, "/devcluster/v1/drop-watches",
                             json::object()));
  delete_config_map(cluster(), ns, cm_name);
  CAF_CHECK(wait_issuer(startup));
  set_faults(json::object());
}

CAF_TEST_FIXTURE_SCOPE_END()
