#define CAF_SUITE pki.pem_go

#include "caf/test/unit_test.hpp"

#include <fstream>
#include <map>

#include <nlohmann/json.hpp>

#include "errors/describe.hpp"
#include "pki/crypto.hpp"
#include "pki/csr.hpp"
#include "pki/error.hpp"
#include "pki/pem.hpp"
#include "tests/pki/pem_texts.hpp"
#include "tests/pki/test_pki.hpp"

using namespace istio_csr;
using istio_csr::test::unwrap;

namespace {

constexpr std::string_view csr_type = "CERTIFICATE REQUEST";

/// The lines of the Go corpus (tests/pki/go/pem_corpus.go).
std::vector<nlohmann::json> go_corpus() {
  std::ifstream in{ICSR_SOURCE_DIR "/tests/pki/data/go_pem_corpus.jsonl"};
  std::vector<nlohmann::json> out;
  for (std::string line; std::getline(in, line);)
    out.push_back(nlohmann::json::parse(line));
  return out;
}

std::string b64(const nlohmann::json& j) {
  return unwrap(pki::base64_decode(j.get<std::string>()));
}

/// Go keeps the last value of a repeated header key.
std::map<std::string, std::string> header_map(const pki::pem_block& block) {
  std::map<std::string, std::string> out;
  for (const auto& [k, v] : block.headers)
    out[k] = v;
  return out;
}

std::string csr_der(bool rsa = false) {
  auto key
    = rsa ? unwrap(pki::private_key::generate_rsa(2048)) : test::ec_key();
  pki::csr_template tmpl;
  tmpl.sans.uris = {"spiffe://cluster.local/ns/a/sa/b"};
  return unwrap(pki::make_csr(key, tmpl)).to_der();
}

/// A CSR DER whose length is not a multiple of 3 (so its base64 has unused
/// bits).
std::string csr_der_with_unused_bits() {
  for (;;)
    if (auto der = csr_der(); der.size() % 3 != 0)
      return der;
}

} // namespace

CAF_TEST(our go reader reads the go corpus exactly as go does) {
  auto corpus = go_corpus();
  CAF_REQUIRE_EQUAL(corpus.size(), 2000u);
  size_t mismatches = 0;
  size_t with_blocks = 0;
  for (const auto& entry : corpus) {
    auto text = b64(entry["text"]);
    auto ours = pki::pem_blocks(text);
    const auto& go = entry["blocks"];
    bool same = ours.size() == go.size();
    for (size_t i = 0; same && i < ours.size(); ++i) {
      std::map<std::string, std::string> go_headers;
      for (auto& [k, v] : go[i]["headers"].items())
        go_headers[k] = v.get<std::string>();
      same = ours[i].type == go[i]["type"].get<std::string>()
             && ours[i].der == b64(go[i]["der"])
             && header_map(ours[i]) == go_headers;
    }
    if (!go.empty())
      ++with_blocks;
    if (!same && ++mismatches <= 5)
      CAF_MESSAGE("differs from Go: " << nlohmann::json(text).dump()
                                      << " go: " << go.dump());
  }
  CAF_CHECK_EQUAL(mismatches, 0u);
  // The corpus exercises both outcomes.
  CAF_CHECK_GREATER(with_blocks, 500u);
}

CAF_TEST(exact decoding accepts only what go reads the same way) {
  // Against real Go's answers: a text the exact reader accepts is, for Go,
  // that one block with those bytes.
  size_t accepted = 0;
  for (const auto& entry : go_corpus()) {
    auto text = b64(entry["text"]);
    const auto& go = entry["blocks"];
    for (std::string type : {"CERTIFICATE REQUEST", "CERTIFICATE", "X"}) {
      auto der = pki::pem_decode_exact(text, type);
      if (!der) {
        // The cross-check with Go's reading never has to step in: the
        // grammar alone excludes every ambiguous text.
        CAF_CHECK_NOT_EQUAL(errors::message(der.error()),
                            "PEM text reads differently in Go");
        continue;
      }
      ++accepted;
      CAF_REQUIRE_EQUAL(go.size(), 1u);
      CAF_CHECK_EQUAL(go[0]["type"].get<std::string>(), type);
      CAF_CHECK_EQUAL(b64(go[0]["der"]), *der);
      CAF_CHECK(go[0]["headers"].empty());
    }
  }
  // Most corpus texts are mangled on purpose; some are canonical.
  CAF_CHECK_GREATER(accepted, 5u);
}

CAF_TEST(exact decoding takes the shapes istio agent and ztunnel send) {
  auto der = csr_der();
  auto lf = pki::pem_encode(csr_type, der);
  CAF_CHECK_EQUAL(unwrap(pki::pem_decode_exact(lf, csr_type)), der);
  // CRLF lines (Rust's pem crate), no final newline, blank lines and
  // spaces around, spaces after the markers.
  auto b64text = pki::base64_encode(der);
  for (auto text : {test::pem_block_text(csr_type, b64text, "\r\n"),
                    lf.substr(0, lf.size() - 1), "\n\n" + lf + " \t\r\n\n",
                    test::pem_block_text(csr_type, b64text, "\n", " ", "\t"),
                    test::pem_block_text(csr_type, b64text, "\n", "", "", 76)})
    CAF_CHECK_EQUAL(unwrap(pki::pem_decode_exact(text, csr_type)), der);
}

CAF_TEST(exact decoding refuses everything else) {
  auto der = csr_der();
  auto pem = pki::pem_encode(csr_type, der);
  auto b64text = pki::base64_encode(der);
  auto refused = [](const std::string& text) {
    return !pki::pem_decode_exact(text, csr_type);
  };
  CAF_CHECK(refused(""));
  CAF_CHECK(refused("junk\n" + pem));
  CAF_CHECK(refused(" " + pem));
  CAF_CHECK(refused(pem + "junk"));
  CAF_CHECK(refused(pem + pem));
  CAF_CHECK(refused(pki::pem_encode("CERTIFICATE", der)));
  CAF_CHECK(refused(pki::pem_encode("NEW CERTIFICATE REQUEST", der)));
  CAF_CHECK(refused(pki::pem_encode(csr_type, "")));
  // Headers, CR-only or doubled-CR line ends, white space inside the data.
  auto with_header = pem;
  with_header.insert(with_header.find('\n') + 1, "Proc-Type: 4,ENCRYPTED\n");
  CAF_CHECK(refused(with_header));
  CAF_CHECK(refused(test::pem_block_text(csr_type, b64text, "\r")));
  CAF_CHECK(refused(test::pem_block_text(csr_type, b64text, "\r\r\n")));
  CAF_CHECK(refused(test::pem_block_text(csr_type, b64text, "\n", "\r\r")));
  CAF_CHECK(refused(test::pem_block_text(csr_type, b64text, "\n", "", "\r\r")));
  auto spaced = pem;
  spaced.insert(spaced.find('\n') + 10, " ");
  CAF_CHECK(refused(spaced));
  // Non-canonical base64: missing padding, unused bits set.
  auto der2 = csr_der_with_unused_bits();
  auto b64_2 = pki::base64_encode(der2);
  CAF_CHECK(!refused(test::pem_block_text(csr_type, b64_2)));
  CAF_CHECK(
    refused(test::pem_block_text(csr_type, b64_2.substr(0, b64_2.find('=')))));
  CAF_CHECK(refused(
    test::pem_block_text(csr_type, test::base64_with_trailing_bits(der2))));
}

CAF_TEST(the smuggling texts mean another csr to go and are refused) {
  auto own = csr_der();
  auto other = csr_der_with_unused_bits();
  auto texts = test::make_smuggling_texts(own, other);
  for (const auto& text :
       {texts.begin_line_cr, texts.end_line_cr, texts.trailing_bits}) {
    // What cert-manager would sign: the other CSR.
    CAF_CHECK_EQUAL(unwrap(pki::first_pem_block(text)).der, other);
    // What the agent accepts: nothing.
    auto exact = pki::csr::from_pem_exact(text);
    CAF_CHECK(!exact);
  }
}

CAF_TEST(generated texts never read differently when accepted) {
  std::vector<std::string> ders{csr_der(), csr_der_with_unused_bits(),
                                csr_der(true)};
  test::pem_text_generator gen{ders, std::string{csr_type}, 20261206};
  size_t accepted = 0;
  size_t go_only = 0;
  for (int i = 0; i < 20000; ++i) {
    auto text = gen.next();
    auto go = pki::pem_blocks(text);
    auto der = pki::pem_decode_exact(text, csr_type);
    if (!der) {
      CAF_CHECK_NOT_EQUAL(errors::message(der.error()),
                          "PEM text reads differently in Go");
      if (!go.empty())
        ++go_only;
      continue;
    }
    ++accepted;
    CAF_REQUIRE_EQUAL(go.size(), 1u);
    CAF_CHECK_EQUAL(go.front().der, *der);
    CAF_CHECK_EQUAL(go.front().type, csr_type);
  }
  CAF_MESSAGE("accepted " << accepted << ", Go-only " << go_only);
  // Both outcomes occur often: the property is exercised.
  CAF_CHECK_GREATER(accepted, 200u);
  CAF_CHECK_GREATER(go_only, 2000u);
}
