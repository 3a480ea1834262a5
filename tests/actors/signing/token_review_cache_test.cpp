// The TokenReview cache alone (actors/signing/token_review_cache.hpp): the
// key, the JWT `exp` read without trust, expiry and the LRU bound with
// explicit time points. Its use by the csr-signer on virtual time is in
// signer_races_test.cpp.

#define CAF_SUITE actors.token_review_cache

#include "caf/test/unit_test.hpp"

#include <chrono>
#include <string>

#include <nlohmann/json.hpp>

#include "actors/signing/token_review_cache.hpp"

using namespace std::chrono_literals;
using istio_csr::actors::signing::jwt_expiry;
using istio_csr::actors::signing::token_review_cache;
using json = nlohmann::json;

namespace {

using wall = std::chrono::system_clock::time_point;

const wall wall_now{std::chrono::seconds{1800000000}};

// {"alg":"none"} . {"exp":1800000004} . sig, base64url without padding.
const std::string token_exp
  = "eyJhbGciOiJub25lIn0.eyJleHAiOjE4MDAwMDAwMDR9.sig";

token_review_cache::time_point t(std::chrono::nanoseconds d) {
  return token_review_cache::time_point{} + d;
}

json status(const std::string& user) {
  return json{{"authenticated", true}, {"user", {{"username", user}}}};
}

} // namespace

CAF_TEST(the key hashes token and audiences) {
  auto k = token_review_cache::key_of("tok", {"istio-ca"});
  CAF_CHECK_EQUAL(k.size(), 32u);
  CAF_CHECK(k.find("tok") == std::string::npos);
  CAF_CHECK(k == token_review_cache::key_of("tok", {"istio-ca"}));
  CAF_CHECK(k != token_review_cache::key_of("tok2", {"istio-ca"}));
  CAF_CHECK(k != token_review_cache::key_of("tok", {"other"}));
  CAF_CHECK(k != token_review_cache::key_of("tok", {"istio-ca", "x"}));
  // Parts are length-prefixed: no two splits of one text collide.
  CAF_CHECK(token_review_cache::key_of("ab", {"c"})
            != token_review_cache::key_of("a", {"bc"}));
}

CAF_TEST(the exp claim is read without trust) {
  auto exp = jwt_expiry(token_exp);
  CAF_REQUIRE(exp.has_value());
  CAF_CHECK(*exp == wall_now + 4s);
  // Padding is tolerated.
  CAF_CHECK(jwt_expiry("eyJhbGciOiJub25lIn0.eyJleHAiOjE4MDAwMDAwMDR9==.s"));
  for (auto bad : {"", "abc", "a.b", "a.b.c.d", "a.%%%.c",
                   // {"sub":"x"}: no exp
                   "e30.eyJzdWIiOiJ4In0.s",
                   // {"exp":"soon"}
                   "e30.eyJleHAiOiJzb29uIn0.s",
                   // {"exp":-5}
                   "e30.eyJleHAiOi01fQ.s",
                   // [1]: not an object
                   "e30.WzFd.s"})
    CAF_CHECK_EQUAL(jwt_expiry(bad).has_value(), false);
}

// Found by fuzz/request_metadata: an `exp` beyond what system_clock holds
// (nanoseconds since 1970: until 2262), e.g. in milliseconds, was converted
// with undefined behaviour; on x86 it read as 1677, a token long expired,
// and its review was never cached.
CAF_TEST(an exp beyond the range of the clock is the latest time it holds) {
  // {"exp":1801700000000} (milliseconds), {"exp":1e300}.
  for (auto token :
       {"e30.eyJleHAiOjE4MDE3MDAwMDAwMDB9.s", "e30.eyJleHAiOjFlMzAwfQ.s"}) {
    auto exp = jwt_expiry(token);
    CAF_REQUIRE(exp.has_value());
    CAF_CHECK(*exp > wall_now + std::chrono::hours{24 * 365 * 200});
    token_review_cache cache{10s, 4, [] { return wall_now; }};
    auto k = token_review_cache::key_of(token, {"a"});
    cache.insert(k, token, status("u"), t(0s));
    CAF_CHECK(cache.find(k, t(10s - 1ns)) == status("u"));
  }
}

CAF_TEST(entries expire at the ttl or the token expiry) {
  token_review_cache cache{10s, 4, [] { return wall_now; }};
  auto k1 = token_review_cache::key_of("plain", {"a"});
  cache.insert(k1, "plain", status("u1"), t(0s));
  CAF_CHECK(cache.find(k1, t(10s - 1ns)) == status("u1"));
  CAF_CHECK(!cache.find(k1, t(10s)));
  CAF_CHECK_EQUAL(cache.size(), 0u); // dropped when found expired
  auto k2 = token_review_cache::key_of(token_exp, {"a"});
  cache.insert(k2, token_exp, status("u2"), t(100s));
  CAF_CHECK(cache.find(k2, t(104s - 1ns)).has_value());
  CAF_CHECK(!cache.find(k2, t(104s)));
  // Already expired: not kept.
  token_review_cache late{10s, 4, [] { return wall_now + 4s; }};
  late.insert(k2, token_exp, status("u2"), t(0s));
  CAF_CHECK_EQUAL(late.size(), 0u);
  // A TTL of zero keeps nothing.
  token_review_cache off{0s};
  off.insert(k1, "plain", status("u1"), t(0s));
  CAF_CHECK_EQUAL(off.size(), 0u);
  CAF_CHECK(!off.find(k1, t(0s)));
}

CAF_TEST(the least recently used entry goes first) {
  token_review_cache cache{10s, 2};
  auto a = token_review_cache::key_of("a", {});
  auto b = token_review_cache::key_of("b", {});
  auto c = token_review_cache::key_of("c", {});
  cache.insert(a, "a", status("a"), t(0s));
  cache.insert(b, "b", status("b"), t(0s));
  CAF_CHECK(cache.find(a, t(1s)));
  cache.insert(c, "c", status("c"), t(1s));
  CAF_CHECK_EQUAL(cache.size(), 2u);
  CAF_CHECK(!cache.find(b, t(1s)));
  CAF_CHECK(cache.find(a, t(1s)));
  CAF_CHECK(cache.find(c, t(1s)));
  // A re-insert refreshes value and lifetime without growing.
  cache.insert(a, "a", status("a2"), t(5s));
  CAF_CHECK_EQUAL(cache.size(), 2u);
  CAF_CHECK(cache.find(a, t(14s)) == status("a2"));
}
