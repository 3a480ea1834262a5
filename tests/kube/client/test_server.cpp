#include "tests/kube/client/test_server.hpp"

#include <sys/socket.h>

#include <cstdio>

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>

#include <openssl/ssl.h>
#include <openssl/x509.h>

#include "pki/extensions.hpp"
#include "pki/issue.hpp"
#include "pki/private_key.hpp"

namespace istio_csr::test {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace ssl = asio::ssl;
using tcp = asio::ip::tcp;

namespace {

template <class T>
T must(caf::expected<T> x, const char* what) {
  if (!x) {
    std::fprintf(stderr, "test_pki: %s failed: %s\n", what,
                 caf::to_string(x.error()).c_str());
    std::abort();
  }
  return std::move(*x);
}

test_pki make_pki() {
  using namespace std::chrono;
  test_pki result;
  auto ca_key = must(pki::private_key::generate_ec(256), "ca key");
  pki::cert_template ca_tmpl;
  ca_tmpl.subject.common_name = "test-ca";
  ca_tmpl.is_ca = true;
  ca_tmpl.key_usage = pki::key_usage::cert_sign | pki::key_usage::crl_sign;
  ca_tmpl.not_before = system_clock::now() - hours{1};
  auto ca = must(pki::self_sign(ca_tmpl, ca_key), "ca cert");
  result.ca_pem = ca.to_pem();
  auto server_key = must(pki::private_key::generate_ec(256), "server key");
  pki::cert_template server_tmpl;
  server_tmpl.subject.common_name = "kube-apiserver";
  server_tmpl.sans.dns = {"localhost", "kube.test"};
  server_tmpl.sans.ips = {"127.0.0.1"};
  server_tmpl.key_usage = pki::key_usage::digital_signature;
  server_tmpl.ext_key_usages = {std::string{pki::oid::server_auth}};
  server_tmpl.not_before = system_clock::now() - hours{1};
  auto server
    = must(pki::issue(server_tmpl, server_key.public_key(), ca, ca_key),
           "server cert");
  result.server_cert_pem = server.to_pem();
  result.server_key_pem = server_key.to_pem();
  auto client_key = must(pki::private_key::generate_ec(256), "client key");
  pki::cert_template client_tmpl;
  client_tmpl.subject.common_name = "test-client";
  client_tmpl.key_usage = pki::key_usage::digital_signature;
  client_tmpl.ext_key_usages = {std::string{pki::oid::client_auth}};
  client_tmpl.not_before = system_clock::now() - hours{1};
  auto client
    = must(pki::issue(client_tmpl, client_key.public_key(), ca, ca_key),
           "client cert");
  result.client_cert_pem = client.to_pem();
  result.client_key_pem = client_key.to_pem();
  auto other_key = must(pki::private_key::generate_ec(256), "other key");
  auto other = must(pki::self_sign(ca_tmpl, other_key), "other ca");
  result.other_ca_pem = other.to_pem();
  return result;
}

std::string reason_of(int status) {
  auto text = http::obsolete_reason(static_cast<http::status>(status));
  return std::string{text.data(), text.size()};
}

} // namespace

const test_pki& test_pki::get() {
  static const test_pki instance = make_pki();
  return instance;
}

struct https_test_server::impl {
  explicit impl(handler fn) : h(std::move(fn)), acceptor(ioc) {
    // nop
  }

  handler h;
  ssl::context ctx{ssl::context::tls_server};
  asio::io_context ioc;
  tcp::acceptor acceptor;
  std::thread accept_thread;
  mutable std::mutex mtx;
  std::vector<std::thread> sessions;
  std::vector<int> fds;
  std::vector<request_info> log;
  std::atomic<bool> stopping{false};

  class conn_impl : public connection {
   public:
    explicit conn_impl(beast::ssl_stream<tcp::socket>& s) : stream(s) {
      // nop
    }

    void respond(int status, const std::string& body,
                 const std::map<std::string, std::string>& headers) override {
      http::response<http::string_body> res{static_cast<http::status>(status),
                                            11};
      res.set(http::field::content_type, "application/json");
      for (auto& [key, value] : headers)
        res.set(key, value);
      res.body() = body;
      res.keep_alive(true);
      res.prepare_payload();
      beast::error_code ec;
      http::write(stream, res, ec);
      if (ec)
        closed = true;
    }

    void begin_chunked(int status) override {
      write("HTTP/1.1 " + std::to_string(status) + " " + reason_of(status)
            + "\r\nContent-Type: application/json\r\nTransfer-Encoding: "
              "chunked\r\n\r\n");
    }

    void chunk(const std::string& data) override {
      char size[32];
      std::snprintf(size, sizeof(size), "%zx\r\n", data.size());
      write(size + data + "\r\n");
    }

    void end_chunked() override {
      write("0\r\n\r\n");
    }

    void drop() override {
      ::shutdown(stream.next_layer().native_handle(), SHUT_RDWR);
      closed = true;
    }

    void write(const std::string& bytes) {
      beast::error_code ec;
      asio::write(stream, asio::buffer(bytes), ec);
      if (ec)
        closed = true;
    }

    beast::ssl_stream<tcp::socket>& stream;
    bool closed = false;
  };

  void session(tcp::socket sock, int id) {
    beast::ssl_stream<tcp::socket> stream{std::move(sock), ctx};
    beast::error_code ec;
    stream.handshake(ssl::stream_base::server, ec);
    if (ec) {
      std::lock_guard guard{mtx};
      std::erase(fds, stream.next_layer().native_handle());
      return;
    }
    std::string sni;
    if (auto name
        = SSL_get_servername(stream.native_handle(), TLSEXT_NAMETYPE_host_name))
      sni = name;
    std::string cn;
    if (auto peer = SSL_get1_peer_certificate(stream.native_handle())) {
      char buf[256];
      if (X509_NAME_get_text_by_NID(X509_get_subject_name(peer), NID_commonName,
                                    buf, sizeof(buf))
          > 0)
        cn = buf;
      X509_free(peer);
    }
    beast::flat_buffer buffer;
    conn_impl conn{stream};
    while (!stopping) {
      http::request<http::string_body> req;
      http::read(stream, buffer, req, ec);
      if (ec)
        break;
      request_info info;
      info.method = std::string{req.method_string()};
      info.target = std::string{req.target()};
      info.body = req.body();
      for (auto& field : req) {
        auto name = std::string{field.name_string()};
        for (auto& c : name)
          c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
        if (name == "impersonate-group")
          info.impersonate_groups.emplace_back(field.value());
        info.headers[name] = std::string{field.value()};
      }
      info.connection_id = id;
      info.sni = sni;
      info.client_cn = cn;
      {
        std::lock_guard guard{mtx};
        log.push_back(info);
      }
      h(info, conn);
      if (conn.closed || !req.keep_alive())
        break;
    }
    auto fd = stream.next_layer().native_handle();
    ::shutdown(fd, SHUT_RDWR);
    // Forget the descriptor before it is closed (and maybe reused).
    std::lock_guard guard{mtx};
    std::erase(fds, fd);
  }
};

https_test_server::https_test_server(handler h, bool request_client_cert)
  : impl_(std::make_unique<impl>(std::move(h))) {
  auto& pki = test_pki::get();
  auto& ctx = impl_->ctx;
  ctx.use_certificate_chain(asio::buffer(pki.server_cert_pem));
  ctx.use_private_key(asio::buffer(pki.server_key_pem), ssl::context::pem);
  if (request_client_cert) {
    ctx.add_certificate_authority(asio::buffer(pki.ca_pem));
    ctx.set_verify_mode(ssl::verify_peer);
  }
  tcp::endpoint ep{asio::ip::make_address("127.0.0.1"), 0};
  impl_->acceptor.open(ep.protocol());
  impl_->acceptor.set_option(tcp::acceptor::reuse_address(true));
  impl_->acceptor.bind(ep);
  impl_->acceptor.listen();
  port_ = impl_->acceptor.local_endpoint().port();
  impl_->accept_thread = std::thread{[this] {
    auto& self = *impl_;
    for (;;) {
      tcp::socket sock{self.ioc};
      beast::error_code ec;
      self.acceptor.accept(sock, ec);
      if (ec || self.stopping)
        return;
      auto id = ++accepted_;
      std::lock_guard guard{self.mtx};
      self.fds.push_back(sock.native_handle());
      self.sessions.emplace_back([&self, s = std::move(sock), id]() mutable {
        self.session(std::move(s), id);
      });
    }
  }};
}

https_test_server::~https_test_server() {
  impl_->stopping = true;
  ::shutdown(impl_->acceptor.native_handle(), SHUT_RDWR);
  impl_->accept_thread.join();
  std::vector<std::thread> sessions;
  {
    std::lock_guard guard{impl_->mtx};
    for (auto fd : impl_->fds)
      ::shutdown(fd, SHUT_RDWR);
    sessions = std::move(impl_->sessions);
  }
  for (auto& t : sessions)
    t.join();
}

std::string https_test_server::url() const {
  return "https://127.0.0.1:" + std::to_string(port_);
}

std::vector<request_info> https_test_server::requests() const {
  std::lock_guard guard{impl_->mtx};
  return impl_->log;
}

size_t https_test_server::count(const std::string& method) const {
  std::lock_guard guard{impl_->mtx};
  size_t n = 0;
  for (auto& r : impl_->log)
    if (r.method == method)
      ++n;
  return n;
}

} // namespace istio_csr::test
