#include "tests/e2e/fixture.hpp"
#include "errors/describe.hpp"

#include <atomic>
#include <sstream>

#include "csrctl/agent_retry.hpp"
#include "kube/api/base64.hpp"
#include "pki/issue.hpp"
#include "pki/pem.hpp"

namespace istio_csr::test::e2e {

bool retriable(int grpc_code) {
  return csrctl::agent_retry::retried_code(grpc_code);
}

double metric_sample(const std::string& text, const std::string& series) {
  std::istringstream lines{text};
  for (std::string line; std::getline(lines, line);)
    if (line.size() > series.size()
        && line.compare(0, series.size(), series) == 0
        && line[series.size()] == ' ')
      return std::stod(line.substr(series.size() + 1));
  return -1;
}

json kubectl_json(const test_cluster& cluster,
                  const std::vector<std::string>& args, std::string* err) {
  auto argv = args;
  argv.insert(argv.end(), {"-o", "json"});
  auto res = cluster.kubectl(argv);
  if (res.exit_code != 0) {
    if (err != nullptr)
      *err = res.err;
    return nullptr;
  }
  auto parsed = json::parse(res.out, nullptr, false);
  if (parsed.is_discarded()) {
    if (err != nullptr)
      *err = "kubectl printed no JSON: " + res.out;
    return nullptr;
  }
  return parsed;
}

json read_lease(const test_cluster& cluster, const std::string& namespace_,
                const std::string& name) {
  std::string err;
  auto lease
    = kubectl_json(cluster, {"get", "lease", name, "-n", namespace_}, &err);
  return lease.is_object() ? lease : json(nullptr);
}

std::string leader_identity(const agent_process& agent) {
  return agent.field_of("attempting to acquire leader lease", "identity");
}

std::vector<json> certificate_requests(const test_cluster& cluster) {
  std::string err;
  auto list = kubectl_json(
    cluster, {"get", "certificaterequests", "-n", certificate_namespace}, &err);
  if (list.is_null())
    CAF_FAIL("kubectl get certificaterequests failed: " << err);
  std::vector<json> out;
  if (auto it = list.find("items"); it != list.end() && it->is_array())
    for (auto& item : *it)
      out.push_back(item);
  return out;
}

std::string decoded(const json& object, const std::vector<std::string>& path) {
  const json* at = &object;
  for (const auto& key : path) {
    if (!at->is_object() || !at->contains(key))
      return {};
    at = &(*at)[key];
  }
  if (!at->is_string())
    return {};
  return kube::base64_decode(at->get<std::string>()).value_or("");
}

std::optional<json> find_request(const test_cluster& cluster,
                                 const std::string& csr_pem) {
  for (auto& cr : certificate_requests(cluster))
    if (decoded(cr, {"spec", "request"}) == csr_pem)
      return cr;
  return std::nullopt;
}

std::string create_ca_issuer(const test_cluster& cluster,
                             const std::string& name,
                             const std::string& secret) {
  json issuer{
    {"apiVersion", "cert-manager.io/v1"},
    {"kind", "Issuer"},
    {"metadata", {{"name", name}, {"namespace", certificate_namespace}}},
    {"spec", {{"ca", {{"secretName", secret}}}}}};
  auto res = cluster.kubectl({"apply", "-f", "-"}, issuer.dump());
  if (res.exit_code != 0)
    return "kubectl apply issuer: " + res.err;
  return {};
}

void set_issuer_behaviour(const test_cluster& cluster, const std::string& name,
                          const std::string& behaviour) {
  auto res
    = cluster.kubectl({"annotate", "issuer", name, "-n", certificate_namespace,
                       behaviour_annotation + "=" + behaviour, "--overwrite"});
  if (res.exit_code != 0)
    CAF_FAIL("kubectl annotate issuer " << name << ": " << res.err);
}

std::string issuer_root(const test_cluster& cluster,
                        const std::string& issuer_name, std::string& err) {
  auto issuer = kubectl_json(
    cluster, {"get", "issuer", issuer_name, "-n", certificate_namespace}, &err);
  if (issuer.is_null())
    return {};
  auto secret_name = issuer.value("spec", json::object())
                       .value("ca", json::object())
                       .value("secretName", std::string{});
  if (secret_name.empty()) {
    err = "issuer " + issuer_name + " is not a CA issuer";
    return {};
  }
  auto secret = kubectl_json(
    cluster, {"get", "secret", secret_name, "-n", certificate_namespace}, &err);
  if (secret.is_null())
    return {};
  auto ca = decoded(secret, {"data", "ca.crt"});
  if (ca.empty())
    ca = decoded(secret, {"data", "tls.crt"});
  if (ca.empty())
    err = "Secret " + secret_name + " has neither ca.crt nor tls.crt";
  return ca;
}

std::string mint_token(const test_cluster& cluster,
                       const std::string& namespace_,
                       const std::string& service_account,
                       const std::string& audience) {
  auto res
    = cluster.kubectl({"create", "token", service_account, "-n", namespace_,
                       "--audience", audience, "--duration", "30m"});
  if (res.exit_code != 0)
    CAF_FAIL("kubectl create token failed: " << res.err);
  auto token = res.out;
  while (!token.empty() && (token.back() == '\n' || token.back() == '\r'))
    token.pop_back();
  return token;
}

workload_csr make_csr(const pki::subject_alt_names& sans, bool rsa,
                      std::optional<std::string> common_name) {
  auto key = unwrap(rsa ? pki::private_key::generate_rsa(2048)
                        : pki::private_key::generate_ec(256));
  pki::csr_template tmpl;
  tmpl.sans = sans;
  if (common_name)
    tmpl.subject.common_name = common_name;
  auto req = unwrap(pki::make_csr(key, tmpl));
  return {std::move(key), req.to_pem()};
}

workload_csr make_csr(const std::string& uri, bool rsa) {
  pki::subject_alt_names sans;
  sans.uris = {uri};
  return make_csr(sans, rsa);
}

call_result create_certificate(const std::string& address,
                               const std::string& root_pem,
                               const std::string& csr_pem,
                               const call_options& opts) {
  csrctl::ca_call call;
  call.address = address;
  call.server_name = serving_dns;
  call.root_pem = root_pem;
  call.client_cert_pem = opts.client_cert_pem;
  call.client_key_pem = opts.client_key_pem;
  call.token = opts.token.value_or("");
  call.cluster_id = opts.cluster_id;
  call.csr_pem = csr_pem;
  call.validity_seconds = opts.validity_seconds;
  call.metadata = opts.metadata;
  call.timeout = opts.timeout;
  auto started = std::chrono::steady_clock::now();
  auto res = csrctl::create_certificate(call);
  call_result out;
  out.elapsed = std::chrono::duration_cast<std::chrono::milliseconds>(
    std::chrono::steady_clock::now() - started);
  out.code = res.code;
  out.message = std::move(res.message);
  out.chain = std::move(res.cert_chain);
  return out;
}

namespace {

void put_varint(std::string& out, uint64_t v) {
  while (v >= 0x80) {
    out += static_cast<char>((v & 0x7f) | 0x80);
    v >>= 7;
  }
  out += static_cast<char>(v);
}

/// The value of header `name` in curl's `-D` output ("" when absent).
std::string header_value(const std::string& headers, const std::string& name) {
  auto key = "\n" + name + ": ";
  auto pos = ("\n" + headers).find(key);
  if (pos == std::string::npos)
    return {};
  auto start = pos + key.size() - 1;
  auto end = headers.find_first_of("\r\n", start);
  return headers.substr(start, end == std::string::npos ? end : end - start);
}

} // namespace

curl_result curl_create_certificate(const temp_dir& dir, std::uint16_t port,
                                    const std::string& root_pem,
                                    const std::string& csr_pem,
                                    const std::string& token,
                                    int64_t validity_seconds) {
  // IstioCertificateRequest {csr = 1, validity_duration = 3}, framed.
  std::string msg;
  msg += '\x0a';
  put_varint(msg, csr_pem.size());
  msg += csr_pem;
  msg += '\x18';
  put_varint(msg, static_cast<uint64_t>(validity_seconds));
  std::string body(1, '\0');
  auto n = static_cast<uint32_t>(msg.size());
  for (int shift = 24; shift >= 0; shift -= 8)
    body += static_cast<char>((n >> shift) & 0xff);
  body += msg;
  static std::atomic<int> calls{0};
  auto id = std::to_string(++calls);
  auto req_file = dir.write("request-" + id + ".bin", body);
  auto resp_file = dir.file("response-" + id + ".bin");
  auto headers_file = dir.file("headers-" + id + ".txt");
  auto root_file = dir.write("root-" + id + ".pem", root_pem);
  auto target = serving_dns + ":" + std::to_string(port);
  auto started = std::chrono::steady_clock::now();
  auto res = run({program("curl"),
                  "-sS",
                  "--http2",
                  "--tlsv1.3",
                  "--tls-max",
                  "1.3",
                  "--tls13-ciphers",
                  "TLS_AES_128_GCM_SHA256",
                  "--cacert",
                  root_file,
                  "--resolve",
                  target + ":127.0.0.1",
                  "-X",
                  "POST",
                  "-H",
                  "content-type: application/grpc",
                  "-H",
                  "te: trailers",
                  "-H",
                  "authorization: Bearer " + token,
                  "-H",
                  "clusterid: Kubernetes",
                  "--data-binary",
                  "@" + req_file,
                  "-D",
                  headers_file,
                  "-o",
                  resp_file,
                  "-w",
                  "%{http_version} %{http_code}",
                  "https://" + target
                    + "/istio.v1.auth.IstioCertificateService/"
                      "CreateCertificate"},
                 60s);
  curl_result out;
  out.elapsed = std::chrono::duration_cast<std::chrono::milliseconds>(
    std::chrono::steady_clock::now() - started);
  out.exit_code = res.exit_code;
  out.http = res.out;
  auto headers = read_file(headers_file);
  out.grpc_status = header_value(headers, "grpc-status");
  out.grpc_message = header_value(headers, "grpc-message");
  out.diagnostics = res.out + res.err + headers;
  // IstioCertificateResponse: repeated string cert_chain = 1.
  auto framed = read_file(resp_file);
  if (framed.size() <= 5)
    return out;
  auto resp = framed.substr(5);
  size_t pos = 0;
  while (pos < resp.size() && resp[pos] == '\x0a') {
    ++pos;
    uint64_t len = 0;
    int shift = 0;
    while (pos < resp.size()) {
      auto byte = static_cast<unsigned char>(resp[pos++]);
      len |= static_cast<uint64_t>(byte & 0x7f) << shift;
      shift += 7;
      if ((byte & 0x80) == 0)
        break;
    }
    out.chain.push_back(resp.substr(pos, len));
    pos += len;
  }
  return out;
}

response_chain parse_response(const std::vector<std::string>& chain) {
  if (chain.size() < 2)
    CAF_FAIL("a chain needs at least 2 elements, got " << chain.size());
  response_chain out{unwrap(pki::certificate::from_pem(chain.front())), {}, {}};
  for (size_t i = 1; i + 1 < chain.size(); ++i)
    out.intermediates.push_back(unwrap(pki::certificate::from_pem(chain[i])));
  out.roots = unwrap(pki::parse_pem_bundle(chain.back(), 330000));
  return out;
}

std::string openssl_verify(const temp_dir& dir, const std::string& roots_pem,
                           const std::vector<std::string>& intermediates_pem,
                           const std::string& leaf_pem) {
  std::vector<std::string> argv{program("openssl"), "verify", "-CAfile",
                                dir.write("verify-roots.pem", roots_pem)};
  if (!intermediates_pem.empty()) {
    std::string all;
    for (const auto& pem : intermediates_pem)
      all += pem;
    argv.insert(argv.end(),
                {"-untrusted", dir.write("verify-intermediates.pem", all)});
  }
  auto leaf = dir.write("verify-leaf.pem", leaf_pem);
  argv.push_back(leaf);
  auto res = run(argv, 30s);
  if (res.exit_code == 0 && res.out.find(leaf + ": OK") != std::string::npos)
    return {};
  return "exit " + std::to_string(res.exit_code) + ": " + res.out + res.err;
}

test_ca make_root(const std::string& common_name) {
  auto key = unwrap(pki::private_key::generate_ec(256));
  pki::cert_template tmpl;
  tmpl.subject.common_name = common_name;
  tmpl.is_ca = true;
  tmpl.key_usage = pki::key_usage::cert_sign | pki::key_usage::crl_sign
                   | pki::key_usage::digital_signature;
  tmpl.not_before = std::chrono::system_clock::now() - 1h;
  tmpl.not_after = tmpl.not_before + 24h * 365;
  auto cert = unwrap(pki::self_sign(tmpl, key));
  return {std::move(key), std::move(cert)};
}

// -- agent --------------------------------------------------------------------

std::unique_ptr<agent_process>
start_agent(const test_cluster& cluster, const agent_settings& settings,
            std::string& why, std::chrono::milliseconds ready_timeout) {
  agent_options opts;
  opts.kubeconfig = cluster.kubeconfig();
  opts.ready_timeout = ready_timeout;
  opts.metrics = settings.metrics;
  opts.env = settings.env;
  opts.args = {
    "--serving-certificate-dns-names=" + alt_serving_dns,
    "--serving-certificate-dns-names=" + serving_dns,
    "--serving-certificate-duration=1h",
    "--certificate-namespace=" + certificate_namespace,
    "--issuer-name=" + settings.issuer_name,
    "--issuer-kind=Issuer",
    "--issuer-group=cert-manager.io",
    "--trust-domain=" + settings.trust_domain,
    "--max-client-certificate-duration=" + settings.max_duration,
    "--leader-election-namespace=" + certificate_namespace,
    "--certificate-request-additional-annotations=" + policy_annotation
      + "=istio-csr",
    "--preserve-certificate-requests="
      + std::string{settings.preserve ? "true" : "false"},
    "--enable-client-cert-authenticator="
      + std::string{settings.client_cert_auth ? "true" : "false"},
    "--root-ca-file=" + settings.root_ca_file,
    "--log-level=2",
  };
  if (!settings.request_timeout.empty())
    opts.args.push_back("--certificate-request-timeout="
                        + settings.request_timeout);
  opts.args.insert(opts.args.end(), settings.extra_args.begin(),
                   settings.extra_args.end());
  return agent_process::start(opts, why);
}

// -- environment --------------------------------------------------------------

std::unique_ptr<environment>
environment::start(agent_settings settings,
                   const std::function<std::string(environment&)>& prepare) {
  auto env = std::make_unique<environment>();
  env->settings = std::move(settings);
  env->dir = std::make_unique<temp_dir>();
  env->cluster = test_cluster::start();
  if (!env->cluster) {
    env->error = "cannot start the test cluster";
    return env;
  }
  if (auto* proc = env->cluster->process())
    kill_on_abort(proc->pid());
  env->service_account = test_cluster::unique_name("e2e");
  auto created
    = env->cluster->kubectl({"create", "serviceaccount", env->service_account,
                             "-n", env->workload_namespace});
  if (created.exit_code != 0) {
    env->error = "kubectl create serviceaccount failed: " + created.err;
    return env;
  }
  env->identity = "spiffe://" + env->settings.trust_domain + "/ns/"
                  + env->workload_namespace + "/sa/" + env->service_account;
  auto token = env->cluster->kubectl(
    {"create", "token", env->service_account, "-n", env->workload_namespace,
     "--audience", "istio-ca", "--duration", "30m"});
  if (token.exit_code != 0) {
    env->error = "kubectl create token failed: " + token.err;
    return env;
  }
  env->token = token.out;
  while (!env->token.empty() && env->token.back() == '\n')
    env->token.pop_back();
  if (prepare) {
    env->error = prepare(*env);
    if (!env->error.empty())
      return env;
  }
  if (env->root_pem.empty()) {
    env->root_pem
      = issuer_root(*env->cluster, env->settings.issuer_name, env->error);
    if (env->root_pem.empty())
      return env;
  }
  env->csr_agent = start_agent(*env->cluster, env->settings, env->error);
  return env;
}

environment::~environment() {
  // Stop the agent before its cluster; on a real cluster, clean up.
  csr_agent.reset();
  if (cluster && cluster->is_devcluster()) {
    auto pid = cluster->process()->pid();
    cluster.reset();
    forget_on_abort(pid);
    return;
  }
  if (!cluster || service_account.empty())
    return;
  // Preserved CertificateRequests of this workload, then its account.
  auto list = kubectl_json(
    *cluster, {"get", "certificaterequests", "-n", certificate_namespace});
  std::vector<std::string> args{"delete", "certificaterequests", "-n",
                                certificate_namespace, "--ignore-not-found"};
  if (list.is_object() && list.contains("items"))
    for (auto& cr : list["items"]) {
      auto meta = cr.value("metadata", json::object());
      auto ids = meta.value("annotations", json::object())
                   .value(identities_annotation, std::string{});
      if (ids.find("/sa/" + service_account) != std::string::npos)
        args.push_back(meta.value("name", std::string{}));
    }
  if (args.size() > 5)
    cluster->kubectl(args);
  cluster->kubectl({"delete", "serviceaccount", service_account, "-n",
                    workload_namespace, "--ignore-not-found"});
}

void environment::require() const {
  if (!ok())
    CAF_FAIL("the end-to-end environment did not start: " << error);
}

call_result environment::call(const std::string& csr_pem,
                              call_options opts) const {
  if (!opts.token)
    opts.token = token;
  return create_certificate(csr_agent->address(), root_pem, csr_pem, opts);
}

} // namespace istio_csr::test::e2e
