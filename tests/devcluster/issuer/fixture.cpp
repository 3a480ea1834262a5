#include "tests/devcluster/issuer/fixture.hpp"

#include <cstdio>
#include <map>
#include <memory>

#include "caf/test/unit_test.hpp"

#include "kube/api/base64.hpp"
#include "pki/csr.hpp"
#include "pki/extensions.hpp"
#include "pki/issue.hpp"
#include "pki/pem.hpp"

namespace istio_csr::test::issuer {

namespace {

struct environment {
  /// On a real cluster it also runs the `devcluster issuer` under test.
  std::unique_ptr<test_cluster> cluster;
  temp_dir dir;
  bool failed = false;
  /// Namespaces made by the tests, removed from a shared (real) cluster.
  std::vector<std::string> namespaces;

  ~environment() {
    if (cluster && !cluster->is_devcluster())
      for (auto& ns : namespaces)
        cluster->kubectl({"delete", "namespace", ns, "--wait=false"});
  }
};

environment& env() {
  static environment e;
  return e;
}

} // namespace

test_cluster* cluster() {
  auto& e = env();
  if (e.cluster || e.failed)
    return e.cluster.get();
  e.cluster = test_cluster::start();
  if (!e.cluster) {
    e.failed = true;
    return nullptr;
  }
  return e.cluster.get();
}

const temp_dir& scratch() {
  return env().dir;
}

std::string kubectl(const std::vector<std::string>& args,
                    const std::string& input) {
  auto* c = cluster();
  CAF_REQUIRE(c != nullptr);
  auto res = c->kubectl(args, input);
  if (res.exit_code != 0) {
    std::string line;
    for (auto& a : args)
      line += " " + a;
    CAF_FAIL("kubectl" << line << " failed (" << res.exit_code
                       << "): " << res.err);
  }
  return res.out;
}

void create(const json& object) {
  kubectl({"create", "-f", "-"}, object.dump());
}

std::optional<json> get(const std::string& kind, const std::string& ns,
                        const std::string& name) {
  auto* c = cluster();
  CAF_REQUIRE(c != nullptr);
  std::vector<std::string> args{"get", kind, name, "-o", "json"};
  if (!ns.empty()) {
    args.push_back("-n");
    args.push_back(ns);
  }
  auto res = c->kubectl(args);
  if (res.exit_code != 0)
    return std::nullopt;
  auto obj = json::parse(res.out, nullptr, false);
  if (obj.is_discarded())
    return std::nullopt;
  return obj;
}

std::pair<std::optional<json>, bool>
wait_for(const std::string& kind, const std::string& ns,
         const std::string& name, const std::function<bool(const json&)>& pred,
         std::chrono::milliseconds timeout) {
  std::optional<json> last;
  auto ok = wait_until(
    [&] {
      last = get(kind, ns, name);
      return last && pred(*last);
    },
    timeout, 50ms);
  return {std::move(last), ok};
}

std::string make_namespace(const std::string& prefix) {
  auto name = test_cluster::unique_name(prefix);
  kubectl({"create", "namespace", name});
  env().namespaces.push_back(name);
  return name;
}

json condition(const json& obj, const std::string& type) {
  auto status = obj.find("status");
  if (status == obj.end() || !status->contains("conditions"))
    return nullptr;
  for (auto& c : (*status)["conditions"])
    if (c.value("type", "") == type)
      return c;
  return nullptr;
}

bool has_condition(const json& obj, const std::string& type,
                   const std::string& status) {
  auto c = condition(obj, type);
  return c.is_object() && c.value("status", "") == status;
}

std::string make_csr_pem(const pki::private_key& key,
                         const std::vector<std::string>& uris,
                         const std::vector<std::string>& dns) {
  pki::csr_template tmpl;
  tmpl.sans.uris = uris;
  tmpl.sans.dns = dns;
  auto csr = pki::make_csr(key, tmpl);
  CAF_REQUIRE(csr);
  return csr->to_pem();
}

json make_request(const std::string& ns, const std::string& name,
                  const std::string& csr_pem, const std::string& issuer,
                  const std::string& kind,
                  const std::vector<std::string>& usages,
                  const std::string& duration, bool is_ca) {
  json spec{{"request", kube::base64_encode(csr_pem)},
            {"issuerRef",
             {{"name", issuer}, {"kind", kind}, {"group", "cert-manager.io"}}},
            {"isCA", is_ca}};
  if (!usages.empty())
    spec["usages"] = usages;
  if (!duration.empty())
    spec["duration"] = duration;
  return json{{"apiVersion", "cert-manager.io/v1"},
              {"kind", "CertificateRequest"},
              {"metadata", {{"name", name}, {"namespace", ns}}},
              {"spec", std::move(spec)}};
}

namespace {

pki::private_key new_key(bool rsa) {
  auto key = rsa ? pki::private_key::generate_rsa(2048)
                 : pki::private_key::generate_ec(256);
  CAF_REQUIRE(key);
  return *key;
}

pki::cert_template ca_template(const std::string& cn, std::chrono::hours life) {
  pki::cert_template tmpl;
  tmpl.subject.common_name = cn;
  tmpl.subject.organizations = {"devcluster-issuer-test"};
  tmpl.not_before = std::chrono::system_clock::now() - std::chrono::minutes{5};
  tmpl.not_after = std::chrono::system_clock::now() + life;
  tmpl.is_ca = true;
  tmpl.key_usage = pki::key_usage::cert_sign | pki::key_usage::crl_sign
                   | pki::key_usage::digital_signature;
  return tmpl;
}

} // namespace

test_ca make_root(const std::string& cn, bool rsa, std::chrono::hours life) {
  auto key = new_key(rsa);
  auto cert = pki::self_sign(ca_template(cn, life), key);
  CAF_REQUIRE(cert);
  return test_ca{*cert, key};
}

test_ca make_intermediate(const std::string& cn, const test_ca& parent,
                          std::chrono::hours life) {
  auto key = new_key(false);
  auto cert = pki::issue(ca_template(cn, life), key.public_key(), parent.cert,
                         parent.key);
  CAF_REQUIRE(cert);
  return test_ca{*cert, key};
}

json make_tls_secret(const std::string& ns, const std::string& name,
                     const std::string& tls_crt, const std::string& tls_key,
                     const std::string& ca_crt) {
  json data{{"tls.crt", kube::base64_encode(tls_crt)},
            {"tls.key", kube::base64_encode(tls_key)}};
  if (!ca_crt.empty())
    data["ca.crt"] = kube::base64_encode(ca_crt);
  return json{{"apiVersion", "v1"},
              {"kind", "Secret"},
              {"metadata", {{"name", name}, {"namespace", ns}}},
              {"type", "kubernetes.io/tls"},
              {"data", std::move(data)}};
}

json make_ca_issuer(const std::string& ns, const std::string& name,
                    const std::string& secret_name,
                    const std::map<std::string, std::string>& annotations) {
  json meta{{"name", name}};
  if (!ns.empty())
    meta["namespace"] = ns;
  if (!annotations.empty())
    meta["annotations"] = annotations;
  return json{{"apiVersion", "cert-manager.io/v1"},
              {"kind", ns.empty() ? "ClusterIssuer" : "Issuer"},
              {"metadata", std::move(meta)},
              {"spec", {{"ca", {{"secretName", secret_name}}}}}};
}

std::string status_pem(const json& cr, const std::string& field) {
  auto status = cr.find("status");
  if (status == cr.end() || !status->contains(field))
    return {};
  auto decoded = kube::base64_decode((*status)[field].get<std::string>());
  return decoded.value_or("");
}

std::vector<pki::certificate> certs_of(const std::string& pem) {
  auto parsed = pki::parse_pem_bundle(pem, 1 << 20);
  if (!parsed)
    return {};
  return *parsed;
}

std::pair<int, std::string> openssl_verify(const std::string& leaf_pem,
                                           const std::string& untrusted_pem,
                                           const std::string& ca_pem) {
  static int counter = 0;
  auto prefix = std::to_string(++counter) + "-";
  const auto& dir = scratch();
  auto leaf = dir.write(prefix + "leaf.pem", leaf_pem);
  auto ca = dir.write(prefix + "ca.pem", ca_pem);
  std::vector<std::string> argv{program("openssl"), "verify", "-CAfile", ca};
  if (!untrusted_pem.empty()) {
    argv.push_back("-untrusted");
    argv.push_back(dir.write(prefix + "untrusted.pem", untrusted_pem));
  }
  argv.push_back(leaf);
  auto res = run(argv);
  return {res.exit_code, res.out + res.err};
}

int64_t lifetime_seconds(const pki::certificate& cert) {
  return std::chrono::duration_cast<std::chrono::seconds>(cert.not_after()
                                                          - cert.not_before())
    .count();
}

} // namespace istio_csr::test::issuer
