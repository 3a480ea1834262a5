#include "tests/actors/controllers/runtime_fixture.hpp"

#include "caf/exit_reason.hpp"
#include "caf/scoped_actor.hpp"
#include "caf/send.hpp"
#include "caf/system_messages.hpp"

#include "actors/signing/errors.hpp"
#include "errors/describe.hpp"
#include "kube/api/base64.hpp"
#include "kube/api/errc.hpp"
#include "pki/issue.hpp"
#include "tests/e2e/fixture.hpp"
#include "tests/support/actors.hpp"

namespace istio_csr::test::controllers {

namespace ctl = istio_csr::actors::controllers;

kube::issuer_ref issuer_of(const std::string& name) {
  return kube::issuer_ref{name, "Issuer", "cert-manager.io"};
}

namespace {

/// `kubectl create` or, when the object exists, `kubectl replace` (which
/// drops keys the new object leaves out, unlike `apply`).
void put_object(const test_cluster& cluster, const std::string& kind,
                const nlohmann::json& obj) {
  const auto& meta = obj.at("metadata");
  auto ns = meta.value("namespace", std::string{});
  auto name = meta.value("name", std::string{});
  auto exists = cluster.kubectl({"get", kind, name, "-n", ns, "-o", "name"});
  auto res = cluster.kubectl(
    {exists.exit_code == 0 ? "replace" : "create", "-f", "-"}, obj.dump());
  if (res.exit_code != 0)
    CAF_FAIL("kubectl put " << kind << " " << ns << "/" << name << ": "
                            << res.err);
}

} // namespace

void make_ca_issuer(const test_cluster& cluster, const std::string& namespace_,
                    const std::string& name, const std::string& secret,
                    const std::map<std::string, std::string>& annotations) {
  nlohmann::json meta{{"name", name}, {"namespace", namespace_}};
  if (!annotations.empty())
    meta["annotations"] = annotations;
  put_object(cluster, "issuer",
             {{"apiVersion", "cert-manager.io/v1"},
              {"kind", "Issuer"},
              {"metadata", meta},
              {"spec", {{"ca", {{"secretName", secret}}}}}});
}

void forget_istiod_state(const test_cluster& cluster,
                         const std::string& cm_namespace,
                         const std::string& cm_name) {
  if (cluster.is_devcluster())
    return;
  cluster.kubectl({"delete", "certificate", "istiod-dynamic", "-n",
                   "istio-system", "--ignore-not-found"});
  cluster.kubectl({"delete", "secret", "istiod-tls", "-n", "istio-system",
                   "--ignore-not-found"});
  if (!cm_name.empty())
    cluster.kubectl({"delete", "configmap", cm_name, "-n", cm_namespace,
                     "--ignore-not-found"});
}

std::string make_intermediate_issuer(const test_cluster& cluster,
                                     const std::string& namespace_,
                                     const std::string& name,
                                     const std::string& ou) {
  std::string err;
  auto secret = e2e::kubectl_json(
    cluster, {"get", "secret", "istio-ca", "-n", istio_system}, &err);
  if (secret.is_null())
    CAF_FAIL("cannot read the istio-ca Secret: " << err);
  auto root_cert
    = pki::certificate::from_pem(e2e::decoded(secret, {"data", "tls.crt"}));
  auto root_key
    = pki::private_key::from_pem(e2e::decoded(secret, {"data", "tls.key"}));
  if (!root_cert || !root_key)
    CAF_FAIL("cannot parse the istio-ca Secret");
  auto key = pki::private_key::generate_ec(256);
  if (!key)
    CAF_FAIL("cannot make a key");
  pki::cert_template tmpl;
  tmpl.subject.common_name = name;
  tmpl.subject.organizational_units = {ou};
  tmpl.is_ca = true;
  tmpl.key_usage = pki::key_usage::cert_sign | pki::key_usage::crl_sign
                   | pki::key_usage::digital_signature;
  tmpl.not_before = std::chrono::system_clock::now() - std::chrono::hours{1};
  tmpl.not_after = tmpl.not_before + std::chrono::hours{48};
  auto inter = pki::issue(tmpl, key->public_key(), *root_cert, *root_key);
  if (!inter)
    CAF_FAIL(
      "cannot issue the intermediate: " << errors::message(inter.error()));
  auto root_pem = root_cert->to_pem();
  put_object(cluster, "secret",
             {{"apiVersion", "v1"},
              {"kind", "Secret"},
              {"type", "kubernetes.io/tls"},
              {"metadata", {{"name", name}, {"namespace", namespace_}}},
              {"data",
               {{"tls.crt", kube::base64_encode(inter->to_pem() + root_pem)},
                {"tls.key", kube::base64_encode(key->to_pem())},
                {"ca.crt", kube::base64_encode(root_pem)}}}});
  make_ca_issuer(cluster, namespace_, name, name);
  return root_pem;
}

void put_config_map(const test_cluster& cluster, const std::string& namespace_,
                    const std::string& name,
                    const std::map<std::string, std::string>& data) {
  nlohmann::json obj{{"apiVersion", "v1"},
                     {"kind", "ConfigMap"},
                     {"metadata", {{"name", name}, {"namespace", namespace_}}}};
  if (!data.empty())
    obj["data"] = data;
  put_object(cluster, "configmap", obj);
}

void delete_config_map(const test_cluster& cluster,
                       const std::string& namespace_, const std::string& name) {
  auto res = cluster.kubectl({"delete", "configmap", name, "-n", namespace_});
  if (res.exit_code != 0)
    CAF_FAIL("kubectl delete configmap " << namespace_ << "/" << name << ": "
                                         << res.err);
}

std::map<std::string, std::string> runtime_data(const kube::issuer_ref& ref) {
  return {{ctl::issuer_name_key, ref.name},
          {ctl::issuer_kind_key, ref.kind},
          {ctl::issuer_group_key, ref.group}};
}

nlohmann::json get_certificate(const test_cluster& cluster,
                               const std::string& namespace_,
                               const std::string& name) {
  auto res = cluster.kubectl(
    {"get", "certificate", name, "-n", namespace_, "-o", "json"});
  if (res.exit_code != 0)
    return nullptr;
  try {
    return nlohmann::json::parse(res.out);
  } catch (const std::exception&) {
    return nullptr;
  }
}

// -- runtime_fixture ----------------------------------------------------------

runtime_fixture::runtime_fixture() {
  cfg_ = std::make_unique<actors::system_config>();
  sys_ = std::make_unique<caf::actor_system>(*cfg_);
  issuer = std::make_shared<actors::signing::active_issuer>(std::nullopt);
}

runtime_fixture::~runtime_fixture() {
  if (!stop_and_wait(*sys_, spawned_, caf::exit_reason::kill, 10s))
    CAF_FAIL("actor did not terminate");
  spawned_.clear();
  sys_->await_all_actors_done();
}

void runtime_fixture::reset_issuer(std::optional<kube::issuer_ref> initial) {
  issuer = std::make_shared<actors::signing::active_issuer>(std::move(initial));
}

caf::actor
runtime_fixture::spawn_runtime_issuer(ctl::runtime_issuer_options o) {
  o.min_watch_timeout = std::chrono::seconds{5};
  auto hdl = ctl::spawn_runtime_issuer(*sys_, std::move(o), admin(), issuer);
  spawned_.push_back(hdl);
  return hdl;
}

caf::actor runtime_fixture::spawn_istiod_cert(ctl::istiod_cert_options o) {
  o.min_watch_timeout = std::chrono::seconds{5};
  ctl::istiod_cert_deps deps;
  deps.client = admin();
  deps.issuer = issuer;
  auto hdl = ctl::spawn_istiod_cert(*sys_, std::move(o), std::move(deps));
  spawned_.push_back(hdl);
  return hdl;
}

void runtime_fixture::kill(caf::actor hdl) {
  if (!stop_and_wait(*sys_, hdl, caf::exit_reason::kill, 10s))
    CAF_FAIL("actor did not terminate");
}

ctl::runtime_issuer_status
runtime_fixture::runtime_status(const caf::actor& hdl) {
  auto res = ask<ctl::runtime_issuer_status>(
    *sys_, hdl, ctl::runtime_issuer_status_atom::value);
  if (!res)
    CAF_FAIL("no status from the runtime issuer watcher");
  return std::move(*res);
}

ctl::istiod_cert_status runtime_fixture::istiod_status(const caf::actor& hdl) {
  auto res = ask<ctl::istiod_cert_status>(*sys_, hdl,
                                          ctl::istiod_cert_status_atom::value);
  if (!res)
    CAF_FAIL("no status from the istiod Certificate controller");
  return std::move(*res);
}

bool runtime_fixture::wait_issuer(const std::optional<kube::issuer_ref>& want,
                                  std::chrono::milliseconds timeout) {
  return wait_until([&] { return issuer->get() == want; }, timeout, 10ms);
}

} // namespace istio_csr::test::controllers
