#include "e2e/fixture.hpp"
#include "errors/describe.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <csignal>
#include <cstring>
#include <mutex>

#include <grpcpp/grpcpp.h>
#include <grpcpp/security/credentials.h>

#include "kube/api/base64.hpp"
#include "pki/issue.hpp"
#include "pki/pem.hpp"
#include "proto/ca.grpc.pb.h"

namespace istio_csr::test::e2e {

namespace {

/// A socket closed on scope exit.
struct socket_fd {
  int fd = -1;
  ~socket_fd() {
    if (fd >= 0)
      ::close(fd);
  }
};

sockaddr_in loopback(std::uint16_t port) {
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  return addr;
}

/// The value of ` port="N"` (or ` port=N`) in a log line; 0 if absent.
std::uint16_t port_field(const std::string& line) {
  auto pos = line.find(" port=");
  if (pos == std::string::npos)
    return 0;
  pos += 6;
  if (pos < line.size() && line[pos] == '"')
    ++pos;
  auto value = std::atoi(line.c_str() + pos);
  return value > 0 && value < 65536 ? static_cast<std::uint16_t>(value) : 0;
}

std::string tail(const std::string& text, size_t max) {
  return text.size() <= max ? text : "..." + text.substr(text.size() - max);
}

std::array<std::atomic<int>, 32> abort_groups{};

extern "C" void kill_groups_and_abort(int sig) {
  for (auto& group : abort_groups) {
    int pgid = group.load();
    if (pgid > 0)
      ::kill(-pgid, SIGKILL);
  }
  std::signal(sig, SIG_DFL);
  std::raise(sig);
}

} // namespace

void kill_on_abort(int pgid) {
  static std::once_flag installed;
  std::call_once(installed, [] {
    struct sigaction sa {};
    sa.sa_handler = kill_groups_and_abort;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = SA_RESETHAND;
    sigaction(SIGABRT, &sa, nullptr);
  });
  for (auto& group : abort_groups) {
    int expected = 0;
    if (group.compare_exchange_strong(expected, pgid))
      return;
  }
}

void forget_on_abort(int pgid) {
  for (auto& group : abort_groups) {
    int expected = pgid;
    if (group.compare_exchange_strong(expected, 0))
      return;
  }
}

bool retriable(int grpc_code) {
  // Canceled, DeadlineExceeded, ResourceExhausted, Aborted, Internal,
  // Unavailable.
  return grpc_code == 1 || grpc_code == 4 || grpc_code == 8 || grpc_code == 10
         || grpc_code == 13 || grpc_code == 14;
}

std::string code_name(int grpc_code) {
  static constexpr const char* names[] = {"OK",
                                          "CANCELLED",
                                          "UNKNOWN",
                                          "INVALID_ARGUMENT",
                                          "DEADLINE_EXCEEDED",
                                          "NOT_FOUND",
                                          "ALREADY_EXISTS",
                                          "PERMISSION_DENIED",
                                          "RESOURCE_EXHAUSTED",
                                          "FAILED_PRECONDITION",
                                          "ABORTED",
                                          "OUT_OF_RANGE",
                                          "UNIMPLEMENTED",
                                          "INTERNAL",
                                          "UNAVAILABLE",
                                          "DATA_LOSS",
                                          "UNAUTHENTICATED"};
  if (grpc_code >= 0 && grpc_code < static_cast<int>(std::size(names)))
    return names[grpc_code];
  return "CODE_" + std::to_string(grpc_code);
}

std::uint16_t free_port() {
  socket_fd s{::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)};
  if (s.fd < 0)
    return 0;
  auto addr = loopback(0);
  if (::bind(s.fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0)
    return 0;
  socklen_t len = sizeof(addr);
  if (::getsockname(s.fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0)
    return 0;
  return ntohs(addr.sin_port);
}

int http_status(std::uint16_t port, const std::string& path) {
  socket_fd s{::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)};
  if (s.fd < 0)
    return -1;
  timeval tv{2, 0};
  ::setsockopt(s.fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
  ::setsockopt(s.fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
  auto addr = loopback(port);
  if (::connect(s.fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0)
    return -1;
  auto req = "GET " + path
             + " HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n";
  if (::send(s.fd, req.data(), req.size(), MSG_NOSIGNAL)
      != static_cast<ssize_t>(req.size()))
    return -1;
  std::string answer;
  char buf[512];
  while (answer.find("\r\n") == std::string::npos) {
    auto n = ::recv(s.fd, buf, sizeof(buf), 0);
    if (n <= 0)
      break;
    answer.append(buf, static_cast<size_t>(n));
  }
  // "HTTP/1.1 200 OK"
  auto sp = answer.find(' ');
  if (answer.rfind("HTTP/", 0) != 0 || sp == std::string::npos
      || answer.size() < sp + 4)
    return -1;
  return std::atoi(answer.substr(sp + 1, 3).c_str());
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
  grpc::SslCredentialsOptions ssl;
  ssl.pem_root_certs = root_pem;
  ssl.pem_cert_chain = opts.client_cert_pem;
  ssl.pem_private_key = opts.client_key_pem;
  grpc::ChannelArguments args;
  args.SetSslTargetNameOverride(serving_dns);
  // istio-agent dials a new connection after every failure: no sharing.
  args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
  auto channel
    = grpc::CreateCustomChannel(address, grpc::SslCredentials(ssl), args);
  auto stub = istio::v1::auth::IstioCertificateService::NewStub(channel);
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() + opts.timeout);
  if (opts.token && !opts.token->empty())
    ctx.AddMetadata("authorization", "Bearer " + *opts.token);
  if (!opts.cluster_id.empty())
    ctx.AddMetadata("clusterid", opts.cluster_id);
  istio::v1::auth::IstioCertificateRequest req;
  req.set_csr(csr_pem);
  req.set_validity_duration(opts.validity_seconds);
  if (!opts.metadata.empty()) {
    auto& fields = *req.mutable_metadata()->mutable_fields();
    for (const auto& [key, value] : opts.metadata)
      fields[key].set_string_value(value);
  }
  istio::v1::auth::IstioCertificateResponse resp;
  auto started = std::chrono::steady_clock::now();
  auto status = stub->CreateCertificate(&ctx, req, &resp);
  call_result out;
  out.elapsed = std::chrono::duration_cast<std::chrono::milliseconds>(
    std::chrono::steady_clock::now() - started);
  out.code = static_cast<int>(status.error_code());
  out.message = status.error_message();
  out.chain.assign(resp.cert_chain().begin(), resp.cert_chain().end());
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

std::unique_ptr<agent> agent::start(const test_cluster& cluster,
                                    const agent_settings& settings,
                                    std::string& why,
                                    std::chrono::milliseconds ready_timeout) {
  std::unique_ptr<agent> result{new agent};
  // Every listener on an ephemeral port; the agent logs the bound ports
  // ("serving gRPC ... port=N", "serving readiness port=N").
  std::vector<std::string> argv{
    bin("istio-csr"),
    "--kubeconfig=" + cluster.kubeconfig(),
    "--serving-address=127.0.0.1:0",
    "--readiness-probe-port=0",
    "--metrics-port="
      + std::to_string(settings.metrics ? free_port() : std::uint16_t{0}),
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
    argv.push_back("--certificate-request-timeout=" + settings.request_timeout);
  argv.insert(argv.end(), settings.extra_args.begin(),
              settings.extra_args.end());
  result->process_ = child_process::spawn(argv);
  if (!result->process_) {
    why = "cannot start " + argv[0];
    return nullptr;
  }
  kill_on_abort(result->process_->pid());
  auto* proc = result->process_.get();
  auto deadline = std::chrono::steady_clock::now() + ready_timeout;
  auto remaining = [&] {
    return std::chrono::duration_cast<std::chrono::milliseconds>(
      std::max(deadline - std::chrono::steady_clock::now(),
               std::chrono::steady_clock::duration{0}));
  };
  auto grpc_line = proc->wait_for_line("serving gRPC", remaining(), true);
  auto ready_line
    = grpc_line ? proc->wait_for_line("serving readiness", remaining(), true)
                : std::nullopt;
  if (grpc_line)
    result->port_ = port_field(*grpc_line);
  if (ready_line)
    result->readiness_port_ = port_field(*ready_line);
  if (ready_line && settings.metrics) {
    auto metrics_line
      = proc->wait_for_line("serving metrics", remaining(), true);
    if (!metrics_line) {
      why = "istio-csr did not log \"serving metrics port=N\"; its "
            "output:\n"
            + result->log_tail();
      return nullptr;
    }
    result->metrics_port_ = port_field(*metrics_line);
  }
  if (result->port_ == 0 || result->readiness_port_ == 0) {
    why = "istio-csr did not log its ports (\"serving gRPC ... port=N\", "
          "\"serving readiness port=N\"); its output:\n"
          + result->log_tail();
    return nullptr;
  }
  result->address_ = "127.0.0.1:" + std::to_string(result->port_);
  auto port = result->readiness_port_;
  bool ready = wait_until(
    [&] { return !proc->running() || http_status(port, "/readyz") == 200; },
    remaining(), 50ms);
  if (!ready || !proc->running()) {
    why = std::string{"istio-csr "}
          + (proc->running() ? "did not answer 200 on /readyz in time"
                             : "exited before it was ready")
          + "; its output:\n" + result->log_tail();
    return nullptr;
  }
  return result;
}

agent::~agent() {
  if (process_) {
    process_->stop();
    forget_on_abort(process_->pid());
  }
}

std::string agent::scrape() const {
  if (metrics_port_ == 0)
    return {};
  auto res
    = run({program("curl"), "-sS", "--fail", "--max-time", "20",
           "http://127.0.0.1:" + std::to_string(metrics_port_) + "/metrics"},
          30s);
  return res.exit_code == 0 ? res.out : std::string{};
}

std::string agent::log_tail(size_t max) const {
  return "--- stdout\n" + tail(process_->out(), max) + "\n--- stderr\n"
         + tail(process_->err(), max);
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
  env->csr_agent = agent::start(*env->cluster, env->settings, env->error);
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
