#include "tests/grpc_bridge/fixture.hpp"

#include <grpcpp/security/credentials.h>

namespace istio_csr::test {

void recording_handler::handle(signing_api::sign_request request) {
  auto c = std::make_shared<recorded_call>(recorded_call{std::move(request)});
  {
    std::lock_guard<std::mutex> guard{mtx_};
    calls_.push_back(c);
  }
  if (auto_answer)
    c->finish_ok({"leaf:" + c->request.csr_pem, "root"});
}

bridge_fixture::bridge_fixture() = default;

bridge_fixture::~bridge_fixture() {
  if (srv)
    srv->shutdown(0ms);
}

grpc_bridge::server_settings bridge_fixture::default_settings() {
  grpc_bridge::server_settings s;
  s.transport.address = "127.0.0.1:0";
  s.transport.threads = 2;
  return s;
}

void bridge_fixture::start(grpc_bridge::server_settings settings) {
  srv = std::make_unique<grpc_bridge::server>(std::move(settings), handler);
  auto err = srv->start();
  CAF_REQUIRE(!err);
  err = srv->set_credentials({serving.cert, ca.cert}, serving.key, {ca.cert});
  CAF_REQUIRE(!err);
  CAF_REQUIRE(srv->port() != 0);
}

std::string bridge_fixture::target() const {
  return "127.0.0.1:" + std::to_string(srv->port());
}

std::shared_ptr<grpc::Channel>
bridge_fixture::channel(const client_options& opts) {
  grpc::SslCredentialsOptions ssl;
  ssl.pem_root_certs = ca.cert.to_pem();
  if (opts.client_cert) {
    ssl.pem_private_key = opts.client_cert->key.to_pem();
    ssl.pem_cert_chain = opts.client_cert->cert.to_pem();
  }
  grpc::ChannelArguments args;
  args.SetSslTargetNameOverride(serving_dns);
  // Every channel gets its own connection (no shared subchannel pool).
  args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
  for (const auto& [key, value] : opts.args)
    args.SetInt(key, value);
  return grpc::CreateCustomChannel(target(), grpc::SslCredentials(ssl), args);
}

std::string bridge_fixture::ca_file() {
  return dir.write("ca.pem", ca.cert.to_pem());
}

std::unique_ptr<h2::raw_client>
bridge_fixture::raw_client(const h2::raw_options& opts) {
  return std::make_unique<h2::raw_client>(srv->port(), ca.cert.to_pem(),
                                          serving_dns, opts);
}

call_result create_certificate(grpc::Channel& ch, const std::string& csr,
                               std::chrono::milliseconds timeout,
                               const std::string& token,
                               const std::string& cluster_id) {
  auto stub = IstioCertificateService::NewStub(
    std::shared_ptr<grpc::Channel>(&ch, [](grpc::Channel*) {}));
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() + timeout);
  if (!token.empty())
    ctx.AddMetadata("authorization", "Bearer " + token);
  if (!cluster_id.empty())
    ctx.AddMetadata("clusterid", cluster_id);
  IstioCertificateRequest req;
  req.set_csr(csr);
  req.set_validity_duration(3600);
  call_result result;
  result.status = stub->CreateCertificate(&ctx, req, &result.response);
  return result;
}

namespace {

std::string line_value(const std::string& text, const std::string& prefix) {
  auto pos = text.find(prefix);
  if (pos == std::string::npos)
    return {};
  pos += prefix.size();
  auto end = text.find('\n', pos);
  auto value = text.substr(pos, end == std::string::npos ? end : end - pos);
  while (!value.empty() && (value.back() == '\r' || value.back() == ' '))
    value.pop_back();
  return value;
}

} // namespace

s_client_result s_client(std::uint16_t port, const std::string& ca_file,
                         const std::vector<std::string>& args) {
  std::vector<std::string> argv{program("openssl"),
                                "s_client",
                                "-connect",
                                "127.0.0.1:" + std::to_string(port),
                                "-servername",
                                serving_dns,
                                "-CAfile",
                                ca_file,
                                "-verify_return_error"};
  argv.insert(argv.end(), args.begin(), args.end());
  auto res = run(argv, 30s);
  s_client_result out;
  out.output
    = "exit code " + std::to_string(res.exit_code) + "\n" + res.out + res.err;
  // "New, TLSv1.3, Cipher is TLS_AES_128_GCM_SHA256"
  auto session = line_value(out.output, "New, ");
  if (!session.empty()) {
    auto comma = session.find(',');
    out.protocol = session.substr(0, comma);
    out.cipher = line_value(session + "\n", "Cipher is ");
  }
  out.connected = !out.cipher.empty() && out.cipher != "(NONE)";
  out.temp_key = line_value(out.output, "Server Temp Key: ");
  out.alpn = line_value(out.output, "ALPN protocol: ");
  auto begin = out.output.find("-----BEGIN CERTIFICATE-----");
  auto end = out.output.find("-----END CERTIFICATE-----");
  if (begin != std::string::npos && end != std::string::npos)
    out.server_cert_pem
      = out.output.substr(
          begin, end + std::string{"-----END CERTIFICATE-----"}.size() - begin)
        + "\n";
  return out;
}

} // namespace istio_csr::test
