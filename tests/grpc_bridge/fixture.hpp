#pragma once

// Shared by the grpc_bridge test translation units: test PKI, a recording
// call handler, a running bridge server, gRPC, raw HTTP/2 and
// `openssl s_client` clients. Include only from CAF test translation units.

#include <atomic>
#include <chrono>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include <grpcpp/grpcpp.h>

#include "caf/test/unit_test.hpp"

#include "errors/describe.hpp"
#include "grpc_bridge/server.hpp"
#include "pki/certificate.hpp"
#include "pki/error.hpp"
#include "pki/issue.hpp"
#include "pki/private_key.hpp"
#include "proto/ca.grpc.pb.h"
#include "signing_api/sign_errc.hpp"
#include "signing_api/sign_request.hpp"
#include "signing_api/spiffe.hpp"
#include "tests/grpc_bridge/h2_client.hpp"
#include "tests/support/process.hpp"

namespace istio_csr::test {

using namespace std::chrono_literals;
using istio::v1::auth::IstioCertificateRequest;
using istio::v1::auth::IstioCertificateResponse;
using istio::v1::auth::IstioCertificateService;

/// The DNS name of the serving certificate (upstream's default).
inline const std::string serving_dns
  = "cert-manager-istio-csr.cert-manager.svc";

template <class T>
T unwrap(caf::expected<T> x) {
  if (!x)
    CAF_FAIL("unexpected error: " << errors::message(x.error()));
  return std::move(*x);
}

struct key_and_cert {
  pki::private_key key;
  pki::certificate cert;
};

inline key_and_cert make_ca(const std::string& cn) {
  auto key = unwrap(pki::private_key::generate_ec(256));
  pki::cert_template tmpl;
  tmpl.subject.common_name = cn;
  tmpl.is_ca = true;
  tmpl.key_usage = pki::key_usage::cert_sign | pki::key_usage::crl_sign
                   | pki::key_usage::digital_signature;
  tmpl.not_before = std::chrono::system_clock::now() - 1h;
  tmpl.not_after = tmpl.not_before + 24h * 365;
  auto cert = unwrap(pki::self_sign(tmpl, key));
  return {std::move(key), std::move(cert)};
}

inline key_and_cert
make_leaf(const key_and_cert& ca, pki::subject_alt_names sans,
          std::vector<std::string> ekus = {std::string{pki::oid::server_auth},
                                           std::string{pki::oid::client_auth}},
          bool rsa = false) {
  auto key = unwrap(rsa ? pki::private_key::generate_rsa(2048)
                        : pki::private_key::generate_ec(256));
  pki::cert_template tmpl;
  tmpl.sans = std::move(sans);
  tmpl.key_usage
    = pki::key_usage::digital_signature | pki::key_usage::key_encipherment;
  tmpl.ext_key_usages = std::move(ekus);
  tmpl.not_before = std::chrono::system_clock::now() - 5min;
  tmpl.not_after = tmpl.not_before + 1h;
  auto cert = unwrap(pki::issue(tmpl, key.public_key(), ca.cert, ca.key));
  return {std::move(key), std::move(cert)};
}

/// A serving certificate for `serving_dns`; ECDSA P-256 unless `rsa`
/// (upstream's default serving key is RSA-2048).
inline key_and_cert make_serving(const key_and_cert& ca, bool rsa = false) {
  pki::subject_alt_names sans;
  sans.dns = {serving_dns};
  return make_leaf(ca, sans, {std::string{pki::oid::server_auth}}, rsa);
}

inline key_and_cert make_workload(const key_and_cert& ca,
                                  const std::string& spiffe_id) {
  pki::subject_alt_names sans;
  sans.uris = {spiffe_id};
  return make_leaf(ca, sans);
}

/// One call as the handler received it: the request the bridge made of it.
struct recorded_call {
  signing_api::sign_request request;

  const signing_api::caller_info& caller() const {
    return request.caller;
  }

  std::chrono::steady_clock::time_point deadline() const {
    return request.deadline;
  }

  bool cancelled() const {
    return request.reply->cancelled();
  }

  bool finished() const {
    return request.reply->finished();
  }

  void on_cancel(std::function<void()> f) {
    request.reply->on_cancel(std::move(f));
  }

  bool finish_ok(std::vector<std::string> chain) {
    return request.reply->finish(std::move(chain));
  }

  bool finish_error(signing_api::sign_errc code) {
    return request.reply->finish(signing_api::make_error(code));
  }
};

/// Records every call; answers at once with ["leaf:<csr>", "root"] while
/// `auto_answer` is set, else leaves the call to the test.
class recording_handler : public signing_api::sign_handler {
 public:
  std::atomic<bool> auto_answer{true};

  void handle(signing_api::sign_request request) override;

  std::size_t count() const {
    std::lock_guard<std::mutex> guard{mtx_};
    return calls_.size();
  }

  std::shared_ptr<recorded_call> at(std::size_t i) const {
    std::lock_guard<std::mutex> guard{mtx_};
    return calls_.at(i);
  }

  std::vector<std::shared_ptr<recorded_call>> all() const {
    std::lock_guard<std::mutex> guard{mtx_};
    return calls_;
  }

  bool wait_for(std::size_t n, std::chrono::milliseconds timeout = 10s) const {
    return wait_until([&] { return count() >= n; }, timeout);
  }

 private:
  mutable std::mutex mtx_;
  std::vector<std::shared_ptr<recorded_call>> calls_;
};

/// Options of a test gRPC client channel.
struct client_options {
  std::optional<key_and_cert> client_cert;
  /// Extra channel arguments (integers).
  std::vector<std::pair<std::string, int>> args;
};

/// A bridge server on 127.0.0.1:0 with a test CA, its serving certificate
/// and a recording handler.
struct bridge_fixture {
  key_and_cert ca = make_ca("mesh root");
  key_and_cert serving = make_serving(ca);
  std::shared_ptr<recording_handler> handler
    = std::make_shared<recording_handler>();
  std::unique_ptr<grpc_bridge::server> srv;
  temp_dir dir;

  bridge_fixture();
  ~bridge_fixture();

  static grpc_bridge::server_settings default_settings();

  /// Starts a server with `settings` and the fixture's credentials.
  void start(grpc_bridge::server_settings settings = default_settings());

  std::string target() const;

  /// A channel that trusts the fixture's CA, on its own connection.
  std::shared_ptr<grpc::Channel> channel(const client_options& opts = {});

  /// The fixture CA as a file (for s_client).
  std::string ca_file();

  /// A raw HTTP/2 client on its own TLS connection, for attack tests.
  std::unique_ptr<h2::raw_client> raw_client(const h2::raw_options& opts = {});
};

/// One CreateCertificate with `token` and `cluster_id` as metadata.
struct call_result {
  grpc::Status status;
  IstioCertificateResponse response;
};

call_result create_certificate(grpc::Channel& ch, const std::string& csr,
                               std::chrono::milliseconds timeout = 10s,
                               const std::string& token = "test-token",
                               const std::string& cluster_id = "Kubernetes");

/// What `openssl s_client` reported.
struct s_client_result {
  bool connected = false;
  std::string protocol; ///< "TLSv1.3"
  std::string cipher;   ///< "TLS_AES_128_GCM_SHA256"
  std::string temp_key; ///< "X25519, 253 bits"
  std::string alpn;     ///< "h2", empty if none
  std::string server_cert_pem;
  std::string output; ///< stdout + stderr
};

/// Runs `openssl s_client` against 127.0.0.1:`port` with `args` added.
s_client_result s_client(std::uint16_t port, const std::string& ca_file,
                         const std::vector<std::string>& args);

} // namespace istio_csr::test
