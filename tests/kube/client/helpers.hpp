#pragma once

// Shared by the kube test programs: synchronous wrappers for tests (the test
// thread may block; the client thread never does), gates, watch recorders
// and the cluster fixture.

#include <condition_variable>
#include <future>
#include <map>
#include <mutex>
#include <optional>
#include <vector>

#include "caf/actor_system.hpp"
#include "caf/actor_system_config.hpp"
#include "caf/test/unit_test.hpp"

#include "errors/describe.hpp"
#include "kube/api/errc.hpp"
#include "kube/client/client.hpp"
#include "kube/client/config.hpp"
#include "pki/csr.hpp"
#include "pki/private_key.hpp"
#include "tests/kube/client/test_server.hpp"
#include "tests/support/skip.hpp"
#include "tests/support/test_cluster.hpp"

namespace istio_csr::kube::testing {

using namespace std::chrono_literals;
using json = nlohmann::json;

/// Runs one request and waits for its completion.
inline caf::expected<json> call(client& c, request req,
                                std::chrono::seconds timeout = 60s) {
  auto p = std::make_shared<std::promise<caf::expected<json>>>();
  auto f = p->get_future();
  c.execute(std::move(req),
            [p](caf::expected<json> r) { p->set_value(std::move(r)); });
  if (f.wait_for(timeout) != std::future_status::ready)
    CAF_FAIL("request did not complete");
  return f.get();
}

/// Like `call`, failing the test on an error.
inline json call_ok(client& c, request req) {
  auto what = to_string(req.method) + " " + req.target();
  auto res = call(c, std::move(req));
  if (!res)
    CAF_FAIL(what << " failed: " << errors::describe(res.error()));
  return std::move(*res);
}

/// A one-shot gate a server handler can wait on.
struct gate {
  std::mutex mtx;
  std::condition_variable cv;
  bool open = false;

  void release() {
    std::lock_guard guard{mtx};
    open = true;
    cv.notify_all();
  }

  bool wait(std::chrono::milliseconds timeout = 10s) {
    std::unique_lock guard{mtx};
    return cv.wait_for(guard, timeout, [this] { return open; });
  }
};

/// Collects the events and the end of a watch.
struct watch_log {
  std::mutex mtx;
  std::vector<watch_event> events;
  std::optional<caf::error> end;

  watch_event_handler on_event() {
    return [this](watch_event&& ev) {
      std::lock_guard guard{mtx};
      events.push_back(std::move(ev));
    };
  }

  watch_done_handler on_done() {
    return [this](caf::error err) {
      std::lock_guard guard{mtx};
      end = std::move(err);
    };
  }

  size_t count() {
    std::lock_guard guard{mtx};
    return events.size();
  }

  bool ended() {
    std::lock_guard guard{mtx};
    return end.has_value();
  }
};

/// A real actor system that renders `kube::errc` errors.
struct actor_system_fixture {
  actor_system_fixture() : sys(init(cfg)) {
    // nop
  }

  static caf::actor_system_config& init(caf::actor_system_config& cfg) {
    errors::add_categories(cfg, {error_category});
    return cfg;
  }

  caf::actor_system_config cfg;
  caf::actor_system sys;
};

/// A client configuration for the in-test server `srv` (its CA, a static
/// token).
inline client_config config_for(const test::https_test_server& srv) {
  client_config cfg;
  cfg.server = srv.url();
  cfg.ca_pem = test::test_pki::get().ca_pem;
  cfg.token = "static-token";
  return cfg;
}

/// A client of `cfg` whose retries start after 10 ms (unless `backoff`).
inline std::shared_ptr<client>
make_client(client_config cfg, client_options opts = {},
            std::chrono::milliseconds backoff = 10ms) {
  opts.retry.initial_backoff = backoff;
  auto c = client::make(std::move(cfg), std::move(opts));
  if (!c)
    CAF_FAIL("client::make failed: " << errors::describe(c.error()));
  return std::move(*c);
}

/// The cluster of this test process: one devcluster (or the real cluster
/// of ISTIO_CSR_TEST_KUBECONFIG), started on first use.
inline test::test_cluster& cluster() {
  static std::unique_ptr<test::test_cluster> instance = [] {
    auto result = test::test_cluster::start();
    if (!result)
      CAF_FAIL("cannot start the test cluster");
    return result;
  }();
  return *instance;
}

/// A client for the test cluster (admin credentials of its kubeconfig).
inline std::shared_ptr<client>
cluster_client(const std::function<void(client_config&)>& tweak = {},
               client_options opts = {}) {
  config::kube_client_flags flags;
  flags.kubeconfig = cluster().kubeconfig();
  auto cfg = load_config(flags);
  if (!cfg)
    CAF_FAIL("kubeconfig: " << errors::describe(cfg.error()));
  if (tweak)
    tweak(*cfg);
  opts.retry.initial_backoff = 20ms;
  auto c = client::make(std::move(*cfg), std::move(opts));
  if (!c)
    CAF_FAIL("client::make: " << errors::describe(c.error()));
  return std::move(*c);
}

/// Deletes, at exit, the namespaces tests created on a real cluster
/// (devcluster's state goes away with the process).
struct namespace_janitor {
  std::vector<std::string> names;

  ~namespace_janitor() {
    if (names.empty() || cluster().is_devcluster())
      return;
    std::vector<std::string> args{"delete", "namespace", "--wait=false",
                                  "--ignore-not-found"};
    args.insert(args.end(), names.begin(), names.end());
    cluster().kubectl(args);
  }

  static namespace_janitor& get() {
    // Constructed after the cluster, hence destroyed before it.
    cluster();
    static namespace_janitor instance;
    return instance;
  }
};

/// Creates a fresh namespace for one test.
inline std::string fresh_namespace(client& c, const std::string& prefix) {
  auto name = test::test_cluster::unique_name(prefix);
  namespace_janitor::get().names.push_back(name);
  call_ok(c, request::create(resources::namespaces, "",
                             json{{"apiVersion", "v1"},
                                  {"kind", "Namespace"},
                                  {"metadata", {{"name", name}}}}));
  return name;
}

/// Whether devcluster-only features are available; logs why not.
inline bool devcluster_only(const char* what) {
  if (cluster().is_devcluster())
    return true;
  ICSR_SKIP("on a real cluster (needs devcluster): " << what);
  return false;
}

/// A real CSR PEM (the cert-manager admission webhook checks it).
inline const std::string& test_csr_pem() {
  static const std::string pem = [] {
    auto key = pki::private_key::generate_ec(256);
    if (!key)
      CAF_FAIL("key generation failed");
    pki::csr_template tmpl;
    tmpl.sans.uris = {"spiffe://cluster.local/ns/a/sa/b"};
    auto req = pki::make_csr(*key, tmpl);
    if (!req)
      CAF_FAIL("CSR generation failed");
    return req->to_pem();
  }();
  return pem;
}

/// Every namespace holds a `kube-root-ca.crt` ConfigMap (as on a real
/// cluster); tests that count ConfigMaps leave it out.
inline constexpr const char* root_ca_config_map = "kube-root-ca.crt";

/// Sets devcluster's fault injection (`{}` clears it).
inline void set_faults(client& c, const json& faults) {
  call_ok(c, request::raw(verb::create, "/devcluster/v1/faults", faults));
}

} // namespace istio_csr::kube::testing
