#include "tests/devcluster/https_client.hpp"

#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>

#include "devcluster/crypto.hpp"
#include "pki/crypto.hpp"
#include "pki/csr.hpp"
#include "pki/private_key.hpp"
#include "tests/support/test_cluster.hpp"

namespace istio_csr::test {

namespace {

namespace beast = boost::beast;
namespace http = beast::http;
namespace net = boost::asio;
namespace ssl = net::ssl;
using tcp = net::ip::tcp;
using json = nlohmann::json;

std::string lower(std::string s) {
  for (auto& c : s)
    c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

std::string decode_b64(const std::string& text) {
  auto raw = devcluster::base64_decode(text);
  return raw ? *raw : std::string{};
}

/// One TLS connection with its own io_context; every operation runs the
/// context until it completes or a deadline passes.
class connection {
 public:
  explicit connection(const kube_access& a)
    : ctx_(ssl::context::tls_client), stream_(ioc_, ctx_) {
    auto rest = a.server.substr(a.server.find("://") + 3);
    auto slash = rest.find('/');
    if (slash != std::string::npos)
      rest = rest.substr(0, slash);
    auto colon = rest.rfind(':');
    host_ = colon == std::string::npos ? rest : rest.substr(0, colon);
    port_ = colon == std::string::npos ? "443" : rest.substr(colon + 1);
    if (host_.size() > 2 && host_.front() == '[')
      host_ = host_.substr(1, host_.size() - 2);
    ctx_.add_certificate_authority(net::buffer(a.ca_pem));
    if (!a.client_cert_pem.empty()) {
      ctx_.use_certificate_chain(net::buffer(a.client_cert_pem));
      ctx_.use_private_key(net::buffer(a.client_key_pem), ssl::context::pem);
    }
    stream_.set_verify_mode(ssl::verify_peer);
    stream_.set_verify_callback(ssl::host_name_verification(host_));
    SSL_set_tlsext_host_name(stream_.native_handle(), host_.c_str());
  }

  /// Runs the context until `done` or the deadline; false on timeout.
  template <class Done>
  bool run_until(Done&& done, std::chrono::steady_clock::time_point deadline) {
    while (!done()) {
      auto now = std::chrono::steady_clock::now();
      if (now >= deadline)
        return false;
      if (ioc_.stopped())
        ioc_.restart();
      ioc_.run_one_for(deadline - now);
    }
    return true;
  }

  beast::error_code connect(std::chrono::steady_clock::time_point deadline) {
    tcp::resolver resolver{ioc_};
    beast::error_code ec;
    auto results = resolver.resolve(host_, port_, ec);
    if (ec)
      return ec;
    bool done = false;
    beast::get_lowest_layer(stream_).async_connect(
      results, [&](beast::error_code e, const tcp::endpoint&) {
        ec = e;
        done = true;
      });
    if (!run_until([&] { return done; }, deadline))
      return net::error::timed_out;
    if (ec)
      return ec;
    done = false;
    stream_.async_handshake(ssl::stream_base::client, [&](beast::error_code e) {
      ec = e;
      done = true;
    });
    if (!run_until([&] { return done; }, deadline))
      return net::error::timed_out;
    return ec;
  }

  http::request<http::string_body>
  make_request(const kube_access& a, const std::string& method,
               const std::string& target, const std::string& body,
               const std::string& content_type,
               const std::map<std::string, std::string>& headers) {
    http::request<http::string_body> req{http::string_to_verb(method), target,
                                         11};
    req.set(http::field::host, host_);
    req.set(http::field::user_agent, "devcluster-test");
    if (!a.token.empty())
      req.set(http::field::authorization, "Bearer " + a.token);
    req.set(http::field::accept, "application/json");
    if (!body.empty() || method == "POST" || method == "PUT"
        || method == "PATCH")
      req.set(http::field::content_type, content_type);
    for (auto& [k, v] : headers)
      req.set(k, v);
    req.body() = body;
    req.prepare_payload();
    return req;
  }

  beast::error_code write(http::request<http::string_body>& req,
                          std::chrono::steady_clock::time_point deadline) {
    beast::error_code ec;
    bool done = false;
    http::async_write(stream_, req, [&](beast::error_code e, size_t) {
      ec = e;
      done = true;
    });
    if (!run_until([&] { return done; }, deadline))
      return net::error::timed_out;
    return ec;
  }

  net::io_context ioc_;
  ssl::context ctx_;
  beast::ssl_stream<beast::tcp_stream> stream_;
  beast::flat_buffer buffer_;
  std::string host_;
  std::string port_;
};

template <class Fields>
std::map<std::string, std::string> headers_of(const Fields& fields) {
  std::map<std::string, std::string> out;
  for (auto& f : fields)
    out[lower(std::string(f.name_string()))] = std::string(f.value());
  return out;
}

class stream_impl final : public event_stream {
 public:
  explicit stream_impl(std::unique_ptr<connection> conn)
    : conn_(std::move(conn)) {
    parser_.body_limit(boost::none);
    on_chunk_ = [this](std::uint64_t remain, beast::string_view body,
                       beast::error_code&) -> std::size_t {
      data_.append(body.data(), body.size());
      if (remain == body.size()) {
        // This piece completes its chunk.
        ++chunks_;
        if (data_.empty() || data_.back() != '\n')
          boundaries_ok_ = false;
      }
      return body.size();
    };
    parser_.on_chunk_body(on_chunk_);
  }

  bool open(const kube_access& a, const std::string& target,
            const std::map<std::string, std::string>& headers) {
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
    if (auto ec = conn_->connect(deadline)) {
      head_.error = ec.message();
      return false;
    }
    auto req = conn_->make_request(a, "GET", target, "", "", headers);
    if (auto ec = conn_->write(req, deadline)) {
      head_.error = ec.message();
      return false;
    }
    beast::error_code ec;
    bool done = false;
    http::async_read_header(conn_->stream_, conn_->buffer_, parser_,
                            [&](beast::error_code e, size_t) {
                              ec = e;
                              done = true;
                            });
    if (!conn_->run_until([&] { return done; }, deadline) || ec) {
      head_.error = ec ? ec.message() : "timeout";
      return false;
    }
    head_.status = static_cast<int>(parser_.get().result_int());
    head_.headers = headers_of(parser_.get());
    if (!parser_.get().chunked()) {
      // A complete (error) response: read the body.
      done = false;
      http::async_read(conn_->stream_, conn_->buffer_, parser_,
                       [&](beast::error_code e, size_t) {
                         ec = e;
                         done = true;
                       });
      conn_->run_until([&] { return done; }, deadline);
      head_.body = parser_.get().body();
      ended_ = true;
    }
    return true;
  }

  const http_result& head() const override {
    return head_;
  }

  std::optional<json> next(std::chrono::milliseconds timeout) override {
    auto deadline = std::chrono::steady_clock::now() + timeout;
    while (true) {
      auto nl = data_.find('\n', consumed_);
      if (nl != std::string::npos) {
        auto line = data_.substr(consumed_, nl - consumed_);
        consumed_ = nl + 1;
        auto j = json::parse(line, nullptr, false);
        return j.is_discarded() ? json("<not JSON: " + line + ">") : j;
      }
      if (ended_)
        return std::nullopt;
      if (!reading_)
        start_read();
      if (!conn_->run_until([&] { return !reading_; }, deadline))
        return std::nullopt;
    }
  }

  bool wait_end(std::chrono::milliseconds timeout) override {
    auto deadline = std::chrono::steady_clock::now() + timeout;
    while (!ended_) {
      if (!reading_)
        start_read();
      if (!conn_->run_until([&] { return !reading_; }, deadline))
        return false;
    }
    return true;
  }

  bool chunks_on_event_boundaries() const override {
    return boundaries_ok_;
  }

  size_t chunk_count() const override {
    return chunks_;
  }

 private:
  void start_read() {
    reading_ = true;
    http::async_read_some(conn_->stream_, conn_->buffer_, parser_,
                          [this](beast::error_code ec, size_t) {
                            reading_ = false;
                            if (ec || parser_.is_done())
                              ended_ = true;
                          });
  }

  std::unique_ptr<connection> conn_;
  std::function<std::size_t(std::uint64_t, beast::string_view,
                            beast::error_code&)>
    on_chunk_;
  http::response_parser<http::string_body> parser_;
  http_result head_;
  std::string data_;
  size_t consumed_ = 0;
  size_t chunks_ = 0;
  bool boundaries_ok_ = true;
  bool reading_ = false;
  bool ended_ = false;
};

} // namespace

kube_access kube_access::of(const test_cluster& cluster) {
  kube_access a;
  auto view
    = cluster.kubectl({"config", "view", "--raw", "--minify", "-o", "json"});
  auto cfg = json::parse(view.out, nullptr, false);
  if (cfg.is_discarded())
    return a;
  auto cl = cfg["clusters"][0]["cluster"];
  a.server = cl.value("server", "");
  if (cl.contains("certificate-authority-data"))
    a.ca_pem = decode_b64(cl["certificate-authority-data"]);
  else if (cl.contains("certificate-authority"))
    a.ca_pem = read_file(cl["certificate-authority"]);
  auto user = cfg["users"][0]["user"];
  a.token = user.value("token", "");
  if (user.contains("client-certificate-data"))
    a.client_cert_pem = decode_b64(user["client-certificate-data"]);
  else if (user.contains("client-certificate"))
    a.client_cert_pem = read_file(user["client-certificate"]);
  if (user.contains("client-key-data"))
    a.client_key_pem = decode_b64(user["client-key-data"]);
  else if (user.contains("client-key"))
    a.client_key_pem = read_file(user["client-key"]);
  return a;
}

json http_result::json() const {
  auto j = json::parse(body, nullptr, false);
  return j.is_discarded() ? nlohmann::json() : j;
}

std::string http_result::header(const std::string& name) const {
  auto it = headers.find(lower(name));
  return it == headers.end() ? std::string{} : it->second;
}

https_client::https_client(kube_access access) : access_(std::move(access)) {}

https_client https_client::with_token(const std::string& token) const {
  auto a = access_;
  a.token = token;
  a.client_cert_pem.clear();
  a.client_key_pem.clear();
  return https_client{a};
}

http_result
https_client::request(const std::string& method, const std::string& target,
                      const std::string& body, const std::string& content_type,
                      const std::map<std::string, std::string>& headers,
                      std::chrono::milliseconds timeout) const {
  http_result out;
  auto deadline = std::chrono::steady_clock::now() + timeout;
  connection conn{access_};
  if (auto ec = conn.connect(deadline)) {
    out.error = "connect: " + ec.message();
    return out;
  }
  auto req
    = conn.make_request(access_, method, target, body, content_type, headers);
  if (auto ec = conn.write(req, deadline)) {
    out.error = "write: " + ec.message();
    return out;
  }
  http::response_parser<http::string_body> parser;
  parser.body_limit(boost::none);
  beast::error_code ec;
  bool done = false;
  http::async_read(conn.stream_, conn.buffer_, parser,
                   [&](beast::error_code e, size_t) {
                     ec = e;
                     done = true;
                   });
  if (!conn.run_until([&] { return done; }, deadline)) {
    out.error = "read: timeout";
    return out;
  }
  if (ec) {
    out.error = "read: " + ec.message();
    return out;
  }
  auto& res = parser.get();
  out.status = static_cast<int>(res.result_int());
  out.headers = headers_of(res);
  out.body = res.body();
  return out;
}

std::unique_ptr<event_stream>
https_client::stream(const std::string& target,
                     const std::map<std::string, std::string>& headers) const {
  auto s = std::make_unique<stream_impl>(std::make_unique<connection>(access_));
  if (!s->open(access_, target, headers))
    return nullptr;
  return s;
}

json jwt_claims(const std::string& token) {
  auto d1 = token.find('.');
  auto d2 = token.find('.', d1 + 1);
  if (d1 == std::string::npos || d2 == std::string::npos)
    return nullptr;
  auto raw = devcluster::base64url_decode(token.substr(d1 + 1, d2 - d1 - 1));
  if (!raw)
    return nullptr;
  auto j = json::parse(*raw, nullptr, false);
  return j.is_discarded() ? json() : j;
}

json jwt_header(const std::string& token) {
  auto d1 = token.find('.');
  if (d1 == std::string::npos)
    return nullptr;
  auto raw = devcluster::base64url_decode(token.substr(0, d1));
  if (!raw)
    return nullptr;
  auto j = json::parse(*raw, nullptr, false);
  return j.is_discarded() ? json() : j;
}

std::string make_csr_pem(const std::string& dns) {
  auto key = pki::private_key::generate_ec(256);
  pki::csr_template tmpl;
  tmpl.subject = {};
  tmpl.sans.dns = {dns};
  auto csr = pki::make_csr(*key, tmpl);
  return csr ? csr->to_pem() : std::string{};
}

} // namespace istio_csr::test
