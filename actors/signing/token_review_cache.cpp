#include "actors/signing/token_review_cache.hpp"

#include <algorithm>
#include <array>
#include <cmath>
#include <memory>

#include <openssl/evp.h>

namespace istio_csr::actors::signing {

namespace {

/// The value of a base64url character (RFC 4648 §5), or -1.
int base64url_value(char c) {
  if (c >= 'A' && c <= 'Z')
    return c - 'A';
  if (c >= 'a' && c <= 'z')
    return c - 'a' + 26;
  if (c >= '0' && c <= '9')
    return c - '0' + 52;
  if (c == '-')
    return 62;
  if (c == '_')
    return 63;
  return -1;
}

/// Decodes unpadded base64url (trailing '=' tolerated); nullopt on any
/// other character.
std::optional<std::string> base64url_decode(std::string_view in) {
  while (!in.empty() && in.back() == '=')
    in.remove_suffix(1);
  if (in.size() % 4 == 1)
    return std::nullopt;
  std::string out;
  out.reserve(in.size() * 3 / 4);
  uint32_t acc = 0;
  int bits = 0;
  for (char c : in) {
    auto v = base64url_value(c);
    if (v < 0)
      return std::nullopt;
    acc = (acc << 6) | static_cast<uint32_t>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out.push_back(static_cast<char>((acc >> bits) & 0xffu));
    }
  }
  return out;
}

/// The last second system_clock holds (2262 with libstdc++'s nanoseconds):
/// a later `exp` cannot shorten anything either, and would not convert.
constexpr double max_exp_seconds
  = static_cast<double>(std::chrono::duration_cast<std::chrono::seconds>(
                          std::chrono::system_clock::duration::max())
                          .count());

} // namespace

std::optional<std::chrono::system_clock::time_point>
jwt_expiry(std::string_view token) {
  auto first = token.find('.');
  if (first == std::string_view::npos)
    return std::nullopt;
  auto second = token.find('.', first + 1);
  if (second == std::string_view::npos
      || token.find('.', second + 1) != std::string_view::npos)
    return std::nullopt;
  auto payload = base64url_decode(token.substr(first + 1, second - first - 1));
  if (!payload)
    return std::nullopt;
  auto claims = nlohmann::json::parse(*payload, nullptr, false);
  if (claims.is_discarded() || !claims.is_object())
    return std::nullopt;
  auto i = claims.find("exp");
  if (i == claims.end() || !i->is_number())
    return std::nullopt;
  auto seconds = i->get<double>();
  if (!std::isfinite(seconds) || seconds < 0)
    return std::nullopt;
  seconds = std::min(seconds, max_exp_seconds);
  return std::chrono::system_clock::time_point{
    std::chrono::duration_cast<std::chrono::system_clock::duration>(
      std::chrono::duration<double>{std::floor(seconds)})};
}

token_review_cache::token_review_cache(duration ttl, std::size_t capacity,
                                       wall_clock_fn wall_clock)
  : ttl_(ttl), capacity_(capacity),
    wall_clock_(wall_clock ? std::move(wall_clock) : wall_clock_fn{[] {
      return std::chrono::system_clock::now();
    }}) {}

std::string
token_review_cache::key_of(std::string_view token,
                           const std::vector<std::string>& audiences) {
  std::array<unsigned char, EVP_MAX_MD_SIZE> md{};
  unsigned int len = 0;
  // Fed part by part (no copy of the token), each length-prefixed:
  // ("ab", ["c"]) and ("a", ["bc"]) differ.
  std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> ctx{EVP_MD_CTX_new(),
                                                              &EVP_MD_CTX_free};
  bool ok = ctx && EVP_DigestInit_ex(ctx.get(), EVP_sha256(), nullptr) == 1;
  auto add = [&](std::string_view part) {
    std::array<unsigned char, 8> n{};
    for (std::size_t i = 0; i < n.size(); ++i)
      n[i] = static_cast<unsigned char>((uint64_t{part.size()} >> (8 * i))
                                        & 0xffu);
    ok = ok && EVP_DigestUpdate(ctx.get(), n.data(), n.size()) == 1
         && EVP_DigestUpdate(ctx.get(), part.data(), part.size()) == 1;
  };
  add(token);
  for (auto& aud : audiences)
    add(aud);
  ok = ok && EVP_DigestFinal_ex(ctx.get(), md.data(), &len) == 1;
  if (!ok)
    return {}; // An empty key is never inserted (see insert).
  return std::string(reinterpret_cast<const char*>(md.data()), len);
}

std::optional<nlohmann::json> token_review_cache::find(const std::string& key,
                                                       time_point now) {
  std::lock_guard<std::mutex> guard{mtx_};
  auto i = index_.find(key);
  if (i == index_.end())
    return std::nullopt;
  auto pos = i->second;
  if (now >= pos->expires) {
    lru_.erase(pos);
    index_.erase(i);
    return std::nullopt;
  }
  lru_.splice(lru_.begin(), lru_, pos);
  return pos->status;
}

void token_review_cache::insert(const std::string& key, std::string_view token,
                                nlohmann::json status, time_point now) {
  if (ttl_ <= duration::zero() || capacity_ == 0 || key.empty())
    return;
  auto expires = now + ttl_;
  if (auto exp = jwt_expiry(token)) {
    auto left = *exp - wall_clock_();
    if (left <= left.zero())
      return;
    if (left < ttl_)
      expires = now + std::chrono::duration_cast<duration>(left);
  }
  std::lock_guard<std::mutex> guard{mtx_};
  if (auto i = index_.find(key); i != index_.end()) {
    i->second->status = std::move(status);
    i->second->expires = expires;
    lru_.splice(lru_.begin(), lru_, i->second);
    return;
  }
  lru_.push_front(entry{key, std::move(status), expires});
  index_.emplace(key, lru_.begin());
  while (lru_.size() > capacity_) {
    index_.erase(lru_.back().key);
    lru_.pop_back();
  }
}

std::size_t token_review_cache::size() const {
  std::lock_guard<std::mutex> guard{mtx_};
  return lru_.size();
}

} // namespace istio_csr::actors::signing
