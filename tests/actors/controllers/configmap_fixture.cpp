#include "tests/actors/controllers/configmap_fixture.hpp"

#include <future>

#include "caf/exit_reason.hpp"

#include "actors/controllers/namespace_watcher.hpp"
#include "actors/controllers/root_cert.hpp"
#include "actors/signing/errors.hpp"
#include "actors/signing/policy/chain.hpp"
#include "actors/signing/root_ca.hpp"
#include "errors/describe.hpp"
#include "kube/api/errc.hpp"
#include "kube/api/object.hpp"
#include "kube/client/client_actor.hpp"
#include "kube/client/config.hpp"
#include "pki/error.hpp"
#include "tests/e2e/fixture.hpp"
#include "tests/support/actors.hpp"
#include "tests/support/skip.hpp"

namespace istio_csr::test::controllers {

std::string make_root_pem(const std::string& common_name) {
  return e2e::make_root(common_name).cert.to_pem();
}

// -- cluster_fixture ----------------------------------------------------------

cluster_fixture::cluster_fixture() {
  cluster_ = test_cluster::start();
  if (!cluster_)
    CAF_FAIL("cannot start the test cluster");
  if (auto* proc = cluster_->process())
    kill_on_abort(proc->pid());
  config::kube_client_flags flags;
  flags.kubeconfig = cluster_->kubeconfig();
  auto cfg = kube::load_config(flags);
  if (!cfg)
    CAF_FAIL("kubeconfig: " << errors::describe(cfg.error()));
  auto c = kube::client::make(std::move(*cfg));
  if (!c)
    CAF_FAIL("client: " << errors::describe(c.error()));
  admin_ = std::move(*c);
}

cluster_fixture::~cluster_fixture() {
  if (cluster_ && !cluster_->is_devcluster())
    for (auto& ns : namespaces_)
      call(kube::request::remove(kube::resources::namespaces, "", ns));
  admin_.reset();
  if (cluster_ && cluster_->is_devcluster()) {
    auto pid = cluster_->process()->pid();
    cluster_.reset();
    forget_on_abort(pid);
  }
}

bool cluster_fixture::devcluster_only(const char* what) {
  if (cluster_->is_devcluster())
    return true;
  ICSR_SKIP("on a real cluster (needs devcluster): " << what);
  return false;
}

caf::expected<json> cluster_fixture::call(kube::request req) {
  auto p = std::make_shared<std::promise<caf::expected<json>>>();
  auto f = p->get_future();
  admin_->execute(std::move(req),
                  [p](caf::expected<json> r) { p->set_value(std::move(r)); });
  if (f.wait_for(60s) != std::future_status::ready)
    CAF_FAIL("request did not complete");
  return f.get();
}

json cluster_fixture::call_ok(kube::request req) {
  auto what = to_string(req.method) + " " + req.target();
  auto res = call(std::move(req));
  if (!res)
    CAF_FAIL(what << " failed: " << errors::describe(res.error()));
  return std::move(*res);
}

std::string cluster_fixture::make_namespace(const std::string& prefix,
                                            const labels_map& labels) {
  auto name = test_cluster::unique_name(prefix);
  call_ok(kube::request::create(
    kube::resources::namespaces, "",
    json{{"apiVersion", "v1"},
         {"kind", "Namespace"},
         {"metadata", kube::make_metadata("", name, labels)}}));
  namespaces_.push_back(name);
  return name;
}

void cluster_fixture::set_label(const std::string& ns, const std::string& key,
                                std::optional<std::string> value) {
  json v = value ? json(*value) : json(nullptr);
  call_ok(kube::request::merge_patch(kube::resources::namespaces, "", ns,
                                     {{"metadata", {{"labels", {{key, v}}}}}}));
}

std::optional<json> cluster_fixture::root_cert(const std::string& ns) {
  auto res = call(
    kube::request::get(kube::resources::configmaps, ns, "istio-ca-root-cert"));
  if (!res) {
    if (!kube::is(res.error(), kube::errc::not_found))
      CAF_FAIL("get configmap in " << ns << ": "
                                   << errors::describe(res.error()));
    return std::nullopt;
  }
  return std::move(*res);
}

std::string cluster_fixture::root_cert_version(const std::string& ns) {
  auto cm = root_cert(ns);
  return cm ? kube::object_ref{*cm}.resource_version() : std::string{};
}

json cluster_fixture::put_root_cert(const std::string& ns, json labels,
                                    json data) {
  json cm{{"apiVersion", "v1"},
          {"kind", "ConfigMap"},
          {"metadata", {{"name", "istio-ca-root-cert"}, {"namespace", ns}}}};
  if (!labels.is_null())
    cm["metadata"]["labels"] = std::move(labels);
  if (!data.is_null())
    cm["data"] = std::move(data);
  if (auto current = root_cert(ns)) {
    cm["metadata"]["resourceVersion"]
      = kube::object_ref{*current}.resource_version();
    return call_ok(kube::request::update(kube::resources::configmaps, cm));
  }
  return call_ok(kube::request::create(kube::resources::configmaps, ns, cm));
}

bool cluster_fixture::converged(const std::string& ns, const std::string& pem) {
  auto cm = root_cert(ns);
  if (!cm)
    return false;
  auto want_labels = cm->at("metadata").value("labels", json::object());
  return cm->value("data", json::object())
           == json::object({{"root-cert.pem", pem}})
         && want_labels.value("istio.io/config", "") == "true";
}

bool cluster_fixture::wait_converged(const std::string& ns,
                                     const std::string& pem,
                                     std::chrono::milliseconds timeout) {
  return wait_until([&] { return converged(ns, pem); }, timeout, 20ms);
}

void cluster_fixture::set_faults(const json& faults) {
  call_ok(
    kube::request::raw(kube::verb::create, "/devcluster/v1/faults", faults));
}

// -- distributor_fixture ------------------------------------------------------

distributor_fixture::distributor_fixture() {
  cfg_ = std::make_unique<actors::system_config>();
  sys_ = std::make_unique<caf::actor_system>(*cfg_);
  root_pem = make_root_pem("root-ca");
  auto bundle = sg::policy::load_root_bundle(root_pem);
  if (!bundle)
    CAF_FAIL("roots: " << errors::message(bundle.error()));
  roots = std::make_shared<sg::root_store>(std::move(*bundle));
}

distributor_fixture::~distributor_fixture() {
  stop();
  sys_.reset();
}

void distributor_fixture::start(const std::string& selector,
                                ctl::configmap_options cm) {
  auto sel = kube::label_selector::parse(selector);
  if (!sel)
    CAF_FAIL("bad selector " << selector);
  ctl::namespace_watcher_options opts;
  opts.selector = std::move(*sel);
  opts.configmap = cm;
  std::vector<actors::child_spec> children;
  children.emplace_back("kube-client",
                        [c = admin()](actors::child_context& ctx) {
                          return caf::actor_cast<caf::actor>(
                            kube::spawn_client_actor(ctx.system(), c));
                        });
  children.emplace_back("root-ca", [r = roots](actors::child_context& ctx) {
    return caf::actor_cast<caf::actor>(sg::spawn_root_ca(ctx.system(), {}, r));
  });
  children.emplace_back(
    "namespace-watcher", [opts, c = admin()](actors::child_context& ctx) {
      ctl::namespace_watcher_deps deps{
        c, ctx.sibling_as<kube::client_actor>("kube-client"),
        ctx.sibling("root-ca")};
      return ctl::spawn_namespace_watcher(ctx.system(), opts, deps);
    });
  actors::supervisor_options sup;
  sup.name = "test";
  sup.on_give_up = actors::escalate;
  auto tree = actors::spawn_supervisor(*sys_, sup, std::move(children));
  if (!tree)
    CAF_FAIL("cannot start the actors: " << sys_->render(tree.error()));
  tree_ = std::move(*tree);
  running_ = true;
}

void distributor_fixture::stop() {
  if (!running_)
    return;
  running_ = false;
  if (!stop_and_wait(*sys_, tree_.supervisor, caf::exit_reason::user_shutdown,
                     30s))
    CAF_FAIL("the actors did not stop");
}

caf::actor distributor_fixture::watcher() const {
  return tree_.child("namespace-watcher");
}

ctl::watcher_stats distributor_fixture::watcher_stats() {
  auto st = ask<ctl::watcher_stats>(*sys_, watcher(),
                                    ctl::configmap_stats_atom::value);
  if (!st)
    CAF_FAIL("the namespace watcher did not answer");
  return std::move(*st);
}

bool distributor_fixture::wait_children(
  const std::vector<std::string>& candidates,
  const std::vector<std::string>& namespaces,
  std::chrono::milliseconds timeout) {
  return wait_until(
    [&] {
      auto st = watcher_stats();
      if (!st.synced)
        return false;
      for (auto& ns : candidates) {
        bool has = std::find(st.namespaces.begin(), st.namespaces.end(), ns)
                   != st.namespaces.end();
        bool want = std::find(namespaces.begin(), namespaces.end(), ns)
                    != namespaces.end();
        if (has != want)
          return false;
      }
      return true;
    },
    timeout, 20ms);
}

caf::actor distributor_fixture::configmap_child(const std::string& ns) {
  auto st = watcher_stats();
  if (!st.configmap_supervisor)
    return {};
  auto hdl = ask<caf::actor>(*sys_, st.configmap_supervisor,
                             actors::get_child_atom::value,
                             ctl::configmap_child_name(ns));
  return hdl ? *hdl : caf::actor{};
}

std::optional<ctl::configmap_stats>
distributor_fixture::configmap_stats(const std::string& ns) {
  auto child = configmap_child(ns);
  if (!child)
    return std::nullopt;
  return ask<ctl::configmap_stats>(*sys_, child,
                                   ctl::configmap_stats_atom::value);
}

std::string distributor_fixture::rotate_roots(const std::string& common_name) {
  auto pem = make_root_pem(common_name);
  auto bundle = sg::policy::load_root_bundle(pem);
  if (!bundle)
    CAF_FAIL("roots: " << errors::message(bundle.error()));
  roots->set(std::move(*bundle));
  root_pem = pem;
  return pem;
}

// -- the agent ----------------------------------------------------------------

std::unique_ptr<agent_process>
start_agent(const test_cluster& cluster, const std::string& root_file,
            const std::vector<std::string>& extra,
            const std::map<std::string, std::string>& env, std::string& why) {
  agent_options opts;
  opts.kubeconfig = cluster.kubeconfig();
  opts.env = env;
  opts.args = {
    "--serving-certificate-dns-names=" + e2e::serving_dns,
    "--certificate-namespace=istio-system",
    "--issuer-name=istio-ca",
    "--issuer-kind=Issuer",
    "--issuer-group=cert-manager.io",
    "--trust-domain=cluster.local",
    "--leader-election-namespace=istio-system",
    "--root-ca-file=" + root_file,
    "--log-level=2",
  };
  opts.args.insert(opts.args.end(), extra.begin(), extra.end());
  auto agent = agent_process::start(opts, why);
  if (agent && leader_identity(*agent).empty()) {
    why = "istio-csr did not log its leader-election identity; its output:\n"
          + agent->log_tail();
    return nullptr;
  }
  return agent;
}

std::vector<std::string> active_namespaces(const test_cluster& cluster) {
  std::string err;
  auto list = e2e::kubectl_json(cluster, {"get", "namespaces"}, &err);
  if (list.is_null())
    CAF_FAIL("kubectl get namespaces: " << err);
  std::vector<std::string> out;
  for (auto& item : list.at("items"))
    if (kube::string_at(item, {"status", "phase"}) == "Active")
      out.push_back(kube::object_ref{item}.name());
  return out;
}

} // namespace istio_csr::test::controllers
