#include "tests/actors/signing/fixture.hpp"

#include <algorithm>

#include "caf/exit_reason.hpp"
#include "caf/send.hpp"
#include "caf/system_messages.hpp"

#include "actors/signing/dispatcher.hpp"
#include "actors/signing/errors.hpp"
#include "actors/signing/messages.hpp"
#include "errors/describe.hpp"
#include "kube/api/base64.hpp"
#include "kube/api/errc.hpp"
#include "kube/api/object.hpp"
#include "kube/client/config.hpp"
#include "logging/logging.hpp"
#include "pki/csr.hpp"
#include "pki/error.hpp"
#include "pki/issue.hpp"
#include "tests/support/actors.hpp"
#include "tests/support/skip.hpp"

namespace istio_csr::test::signing {

namespace {

template <class T>
T unwrap(caf::expected<T> x, const char* what) {
  if (!x)
    CAF_FAIL(what << ": " << errors::message(x.error()));
  return std::move(*x);
}

} // namespace

test_cluster& cluster() {
  static std::unique_ptr<test_cluster> instance = [] {
    auto result = test_cluster::start();
    if (!result)
      CAF_FAIL("cannot start the test cluster");
    return result;
  }();
  return *instance;
}

bool devcluster_only(const char* what) {
  if (cluster().is_devcluster())
    return true;
  ICSR_SKIP("on a real cluster (needs devcluster): " << what);
  return false;
}

std::shared_ptr<kube::client> admin() {
  static std::shared_ptr<kube::client> instance = [] {
    config::kube_client_flags flags;
    flags.kubeconfig = cluster().kubeconfig();
    auto cfg = kube::load_config(flags);
    if (!cfg)
      CAF_FAIL("kubeconfig: " << errors::describe(cfg.error()));
    auto c = kube::client::make(std::move(*cfg));
    if (!c)
      CAF_FAIL("client: " << errors::describe(c.error()));
    return std::move(*c);
  }();
  return instance;
}

caf::expected<json> call(kube::request req) {
  auto p = std::make_shared<std::promise<caf::expected<json>>>();
  auto f = p->get_future();
  admin()->execute(std::move(req),
                   [p](caf::expected<json> r) { p->set_value(std::move(r)); });
  if (f.wait_for(60s) != std::future_status::ready)
    CAF_FAIL("request did not complete");
  return f.get();
}

void set_faults(const json& faults) {
  call_ok(
    kube::request::raw(kube::verb::create, "/devcluster/v1/faults", faults));
}

json call_ok(kube::request req) {
  auto what = to_string(req.method) + " " + req.target();
  auto res = call(std::move(req));
  if (!res)
    CAF_FAIL(what << " failed: " << errors::describe(res.error()));
  return std::move(*res);
}

namespace {

/// The CA every test namespace's Issuer signs with: devcluster's bootstrap
/// `istio-system/istio-ca`, or on a cluster without it one made here.
struct ca_material {
  std::string cert_pem;
  std::string key_pem;
};

const ca_material& test_ca() {
  static ca_material ca = [] {
    auto secret = call(
      kube::request::get(kube::resources::secrets, "istio-system", "istio-ca"));
    if (secret) {
      auto crt
        = kube::base64_decode(kube::string_at(*secret, {"data", "tls.crt"}));
      auto key
        = kube::base64_decode(kube::string_at(*secret, {"data", "tls.key"}));
      if (crt && key && !crt->empty() && !key->empty())
        return ca_material{*crt, *key};
    }
    auto key = unwrap(pki::private_key::generate_ec(256), "CA key");
    pki::cert_template tmpl;
    tmpl.subject.common_name = "istio-csr signing_actors test CA";
    tmpl.is_ca = true;
    tmpl.key_usage = pki::key_usage::cert_sign | pki::key_usage::crl_sign
                     | pki::key_usage::digital_signature;
    tmpl.not_before = std::chrono::system_clock::now() - 1h;
    tmpl.not_after = tmpl.not_before + 24h * 30;
    auto cert = unwrap(pki::self_sign(tmpl, key), "CA certificate");
    return ca_material{cert.to_pem(), key.to_pem()};
  }();
  return ca;
}

/// Namespaces made by this process (deleted after each test on a real
/// cluster).
std::vector<std::string>& made_namespaces() {
  static std::vector<std::string> names;
  return names;
}

} // namespace

const std::string& bootstrap_ca_pem() {
  return test_ca().cert_pem;
}

void delete_test_namespaces() {
  auto& names = made_namespaces();
  if (!cluster().is_devcluster())
    for (auto& ns : names)
      call(kube::request::remove(kube::resources::namespaces, "", ns));
  names.clear();
}

std::string make_namespace(const std::string& prefix,
                           const std::string& behaviour,
                           const std::string& delay) {
  auto ns = test_cluster::unique_name(prefix);
  call_ok(kube::request::create(kube::resources::namespaces, "",
                                json{{"apiVersion", "v1"},
                                     {"kind", "Namespace"},
                                     {"metadata", {{"name", ns}}}}));
  made_namespaces().push_back(ns);
  const auto& ca = test_ca();
  json copy{{"apiVersion", "v1"},
            {"kind", "Secret"},
            {"metadata", {{"name", "istio-ca"}, {"namespace", ns}}},
            {"type", "kubernetes.io/tls"},
            {"data",
             {{"tls.crt", kube::base64_encode(ca.cert_pem)},
              {"tls.key", kube::base64_encode(ca.key_pem)},
              {"ca.crt", kube::base64_encode(ca.cert_pem)}}}};
  call_ok(kube::request::create(kube::resources::secrets, ns, copy));
  json annotations = json::object();
  if (!behaviour.empty())
    annotations["devcluster.istio-csr.io/behaviour"] = behaviour;
  if (!delay.empty())
    annotations["devcluster.istio-csr.io/delay"] = delay;
  json issuer{
    {"apiVersion", "cert-manager.io/v1"},
    {"kind", "Issuer"},
    {"metadata",
     {{"name", "istio-ca"}, {"namespace", ns}, {"annotations", annotations}}},
    {"spec", {{"ca", {{"secretName", "istio-ca"}}}}}};
  call_ok(kube::request::create(kube::resources::issuers, ns, issuer));
  auto ready = wait_until(
    [&] {
      auto obj
        = call(kube::request::get(kube::resources::issuers, ns, "istio-ca"));
      if (!obj)
        return false;
      for (auto& c : kube::conditions_of(*obj))
        if (c.type == "Ready" && c.status == "True")
          return true;
      return false;
    },
    30s, 20ms);
  if (!ready)
    CAF_FAIL("issuer " << ns << "/istio-ca did not get Ready");
  return ns;
}

void set_behaviour(const std::string& ns, const std::string& behaviour,
                   const std::string& delay) {
  json b = behaviour.empty() ? json(nullptr) : json(behaviour);
  json d = delay.empty() ? json(nullptr) : json(delay);
  call_ok(kube::request::merge_patch(
    kube::resources::issuers, ns, "istio-ca",
    json{{"metadata",
          {{"annotations",
            {{"devcluster.istio-csr.io/behaviour", b},
             {"devcluster.istio-csr.io/delay", d}}}}}}));
}

std::string sa_token(const std::string& ns, const std::string& sa,
                     const std::vector<std::string>& audiences) {
  auto created
    = call(kube::request::create(kube::resources::serviceaccounts, ns,
                                 json{{"apiVersion", "v1"},
                                      {"kind", "ServiceAccount"},
                                      {"metadata", {{"name", sa}}}}));
  if (!created && !kube::is(created.error(), kube::errc::already_exists))
    CAF_FAIL("serviceaccount: " << errors::describe(created.error()));
  auto tr = call_ok(kube::request::create_subresource(
    kube::resources::serviceaccounts, ns, sa, "token",
    json{{"apiVersion", "authentication.k8s.io/v1"},
         {"kind", "TokenRequest"},
         {"spec", {{"audiences", audiences}, {"expirationSeconds", 3600}}}}));
  return tr["status"]["token"].get<std::string>();
}

std::string spiffe_id(const std::string& ns, const std::string& sa) {
  return "spiffe://cluster.local/ns/" + ns + "/sa/" + sa;
}

std::string workload_csr(const std::vector<std::string>& uris) {
  auto key = unwrap(pki::private_key::generate_ec(256), "key");
  pki::csr_template tmpl;
  tmpl.sans.uris = uris;
  return unwrap(pki::make_csr(key, tmpl), "csr").to_pem();
}

std::vector<std::string> cr_names(const std::string& ns, bool ours_only) {
  kube::list_options lo;
  if (ours_only)
    lo.label_selector = sg::managed_by_selector();
  auto list = call_ok(
    kube::request::list_of(kube::resources::certificaterequests, ns, lo));
  std::vector<std::string> result;
  for (auto& item : list["items"])
    result.push_back(kube::object_ref{item}.name());
  return result;
}

bool wait_no_crs(const std::string& ns, std::chrono::milliseconds timeout) {
  return wait_until([&] { return cr_names(ns).empty(); }, timeout, 20ms);
}

// -- cr_recorder --------------------------------------------------------------

cr_recorder::cr_recorder(const std::string& ns) {
  kube::list_options lo;
  lo.resource_version = "0";
  watch_ = admin()->watch(
    kube::request::watch(kube::resources::certificaterequests, ns, lo),
    [st = st_](kube::watch_event&& ev) {
      std::lock_guard<std::mutex> guard{st->mtx};
      if (ev.type == kube::watch_event_type::added)
        st->added.push_back(ev.object);
      else if (ev.type == kube::watch_event_type::deleted)
        st->deleted.push_back(kube::object_ref{ev.object}.name());
    },
    [](caf::error) {});
}

cr_recorder::~cr_recorder() {
  if (watch_)
    watch_->cancel();
}

std::optional<json> cr_recorder::first_added(std::chrono::milliseconds t) {
  std::optional<json> result;
  wait_until(
    [&] {
      std::lock_guard<std::mutex> guard{st_->mtx};
      if (st_->added.empty())
        return false;
      result = st_->added.front();
      return true;
    },
    t);
  return result;
}

bool cr_recorder::deleted(const std::string& name,
                          std::chrono::milliseconds t) {
  return wait_until(
    [&] {
      std::lock_guard<std::mutex> guard{st_->mtx};
      return std::find(st_->deleted.begin(), st_->deleted.end(), name)
             != st_->deleted.end();
    },
    t);
}

std::vector<json> cr_recorder::added() {
  std::lock_guard<std::mutex> guard{st_->mtx};
  return st_->added;
}

// -- tree_fixture -------------------------------------------------------------

tree_fixture::tree_fixture() {
  cfg_ = std::make_unique<actors::system_config>();
  sys_ = std::make_unique<caf::actor_system>(*cfg_);
}

tree_fixture::~tree_fixture() {
  stop();
  sys_.reset();
  delete_test_namespaces();
}

sg::signing_setup tree_fixture::defaults(const std::string& ns) {
  sg::signing_setup s;
  s.client = admin();
  s.issuer = std::make_shared<sg::active_issuer>(
    kube::issuer_ref{"istio-ca", "Issuer", "cert-manager.io"});
  auto roots = sg::policy::load_root_bundle(bootstrap_ca_pem());
  if (!roots)
    CAF_FAIL("bootstrap roots: " << errors::message(roots.error()));
  s.roots = std::make_shared<sg::root_store>(std::move(*roots));
  sg::cr_settings cr;
  cr.namespace_ = ns;
  s.signer.cr = cr;
  s.watcher.cr = cr;
  s.obtainer.cr = cr;
  s.signers = 2;
  s.with_cert_obtainer = false;
  s.obtainer.roots_from_file = true;
  auto mtx = deliveries_mtx_;
  auto out = deliveries_;
  s.sink = [mtx, out](std::vector<pki::certificate> chain, pki::private_key key,
                      std::vector<pki::certificate> roots) -> caf::error {
    std::lock_guard<std::mutex> guard{*mtx};
    out->push_back(
      delivered{std::move(chain), std::move(key), std::move(roots)});
    return {};
  };
  return s;
}

void tree_fixture::start(sg::signing_setup s) {
  setup = std::move(s);
  actors::supervisor_options opts;
  opts.name = "test-root";
  // A test failure must not end the test process.
  opts.on_give_up = actors::escalate;
  auto handle
    = actors::spawn_supervisor(*sys_, opts, sg::signing_children(setup));
  if (!handle)
    CAF_FAIL("spawn_supervisor: " << sys_->render(handle.error()));
  tree_ = std::move(*handle);
  running_ = true;
}

std::shared_future<call_result> tree_fixture::sign_async(const sign_args& a) {
  signing_api::sign_request req;
  req.csr_pem = a.csr;
  req.validity_seconds = a.validity_seconds;
  req.impersonated_identity = a.impersonate;
  req.deadline = std::chrono::steady_clock::now() + a.deadline;
  auto& caller = req.caller;
  if (!a.token.empty()) {
    caller.has_authorization = true;
    caller.bearer_token = a.token;
  }
  caller.cluster_ids = a.cluster_ids;
  caller.client_cert = a.client_cert;
  caller.peer = "127.0.0.1:1";
  auto p = std::make_shared<std::promise<call_result>>();
  std::shared_future<call_result> f = p->get_future().share();
  auto reply
    = signing_api::callback_reply::make([p](signing_api::sign_result r) {
        call_result out;
        if (r) {
          out.code = "ok";
          out.chain = std::move(*r);
        } else if (auto code = signing_api::sign_errc_of(r.error())) {
          out.code = to_string(*code);
        } else {
          out.code = istio_csr::errors::describe(r.error());
        }
        p->set_value(std::move(out));
      });
  req.reply = reply;
  last_call_ = reply;
  sg::dispatch_handler handler{
    caf::actor_cast<sg::dispatcher_actor>(child(sg::names::dispatcher))};
  handler.handle(std::move(req));
  return f;
}

call_result tree_fixture::sign(const sign_args& args,
                               std::chrono::milliseconds wait) {
  auto f = sign_async(args);
  if (f.wait_for(wait) != std::future_status::ready)
    CAF_FAIL("no answer within " << wait.count() << " ms");
  return f.get();
}

std::vector<sg::signer_stats> tree_fixture::signer_stats() {
  std::vector<sg::signer_stats> result;
  for (size_t i = 0; i < setup.signers; ++i)
    result.push_back(
      ask<sg::signer_stats>(sg::names::signer(i), sg::stats_atom::value));
  return result;
}

sg::watcher_stats tree_fixture::watcher_stats() {
  return ask<sg::watcher_stats>(sg::names::cr_watcher, sg::stats_atom::value);
}

void tree_fixture::kill_child(const std::string& name) {
  caf::scoped_actor self{*sys_};
  self
    ->request(tree_.supervisor, std::chrono::seconds{30},
              actors::kill_child_atom::value, name,
              caf::make_error(caf::exit_reason::kill))
    .receive([] {},
             [&](caf::error& err) {
               CAF_FAIL("kill " << name << ": "
                                << istio_csr::errors::describe(err));
             });
}

std::size_t tree_fixture::restarts(const std::string& name) {
  caf::scoped_actor self{*sys_};
  std::size_t result = 0;
  self
    ->request(tree_.supervisor, std::chrono::seconds{30},
              actors::child_status_atom::value, name)
    .receive([&](actors::child_status& st) { result = st.restarts; },
             [&](caf::error& err) {
               CAF_FAIL("status of " << name << ": "
                                     << istio_csr::errors::describe(err));
             });
  return result;
}

sg::obtainer_status tree_fixture::obtainer_status() {
  return ask<sg::obtainer_status>(sg::names::cert_obtainer,
                                  sg::stats_atom::value);
}

std::vector<delivered> tree_fixture::deliveries() {
  std::lock_guard<std::mutex> guard{*deliveries_mtx_};
  return *deliveries_;
}

void tree_fixture::stop() {
  if (!running_)
    return;
  running_ = false;
  if (!stop_and_wait(*sys_, tree_.supervisor, caf::exit_reason::user_shutdown,
                     60s))
    CAF_FAIL("the signing tree did not stop");
  tree_ = actors::supervisor_handle{};
}

// -- behaviour_fixture --------------------------------------------------------

bool behaviour_fixture::prepare_namespace(const char* what,
                                          const std::string& prefix,
                                          const std::string& behaviour,
                                          const std::string& delay) {
  if (!devcluster_only(what))
    return false;
  ns = make_namespace(prefix, behaviour, delay);
  token = sa_token(ns, "app");
  id = spiffe_id(ns, "app");
  return true;
}

// -- log_capture --------------------------------------------------------------

log_capture::log_capture() {
  logging::set_writer_for_testing(
    [mtx = mtx_, text = text_](std::string_view line) {
      std::lock_guard<std::mutex> guard{*mtx};
      text->append(line);
    });
}

log_capture::~log_capture() {
  logging::set_writer_for_testing({});
}

bool log_capture::contains(const std::string& needle) {
  std::lock_guard<std::mutex> guard{*mtx_};
  return text_->find(needle) != std::string::npos;
}

bool log_capture::wait_for(const std::string& needle,
                           std::chrono::milliseconds timeout) {
  return wait_until([&] { return contains(needle); }, timeout);
}

} // namespace istio_csr::test::signing
