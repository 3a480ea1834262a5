// devcluster's building blocks, in process: store and history, utilities,
// protobuf decoding, faults, tokens.
#define CAF_SUITE devcluster.units
#include "caf/test/unit_test.hpp"

#include <future>

#include "devcluster/auth.hpp"
#include "devcluster/crypto.hpp"
#include "devcluster/faults.hpp"
#include "devcluster/object_store.hpp"
#include "devcluster/protobuf.hpp"
#include "devcluster/resources.hpp"
#include "devcluster/util.hpp"

using namespace istio_csr::devcluster;
using json = nlohmann::json;

namespace {

json cm(const std::string& ns, const std::string& name,
        const std::string& value = "") {
  return json{{"metadata", {{"namespace", ns}, {"name", name}}},
              {"data", {{"v", value}}}};
}

struct recorder : change_listener {
  std::vector<std::string> seen;
  void on_change(const change& c) override {
    static const char* names[] = {"added", "modified", "deleted"};
    seen.push_back(std::string(names[static_cast<int>(c.kind)]) + ":"
                   + c.object->ns + "/" + c.object->name);
  }
};

// --- protobuf encoding helpers (the wire format of k8s.io protobuf) ---

std::string varint(uint64_t v) {
  std::string out;
  while (v >= 0x80) {
    out += static_cast<char>((v & 0x7f) | 0x80);
    v >>= 7;
  }
  out += static_cast<char>(v);
  return out;
}

std::string bytes_field(int number, const std::string& data) {
  return varint(static_cast<uint64_t>(number) << 3 | 2) + varint(data.size())
         + data;
}

std::string int_field(int number, uint64_t v) {
  return varint(static_cast<uint64_t>(number) << 3) + varint(v);
}

std::string envelope(const std::string& api_version, const std::string& kind,
                     const std::string& raw) {
  auto type_meta = bytes_field(1, api_version) + bytes_field(2, kind);
  return std::string("k8s\0", 4) + bytes_field(1, type_meta)
         + bytes_field(2, raw);
}

std::string map_entry(int number, const std::string& k, const std::string& v) {
  return bytes_field(number, bytes_field(1, k) + bytes_field(2, v));
}

} // namespace

CAF_TEST(the store hands out contiguous resource versions) {
  resource_registry reg;
  object_store store{reg, 100};
  auto& cms = reg.core("configmaps");
  auto a = store.put(cms, cm("ns1", "a"));
  auto b = store.put(cms, cm("ns1", "b"));
  auto a2 = store.put(cms, cm("ns1", "a", "x"));
  CAF_CHECK_EQUAL(a->rv + 1, b->rv);
  CAF_CHECK_EQUAL(b->rv + 1, a2->rv);
  CAF_CHECK_EQUAL(a2->body["metadata"]["resourceVersion"],
                  std::to_string(a2->rv));
  auto gone = store.remove(cms, "ns1", "b");
  CAF_REQUIRE(gone != nullptr);
  CAF_CHECK_EQUAL(gone->rv, a2->rv + 1);
  CAF_CHECK(store.remove(cms, "ns1", "b") == nullptr);
  CAF_CHECK_EQUAL(store.resource_version(), gone->rv);
  CAF_CHECK_EQUAL(store.count(cms), 1u);
  CAF_CHECK_EQUAL(store.count(cms, std::string_view{"ns1"}), 1u);
  CAF_CHECK_EQUAL(store.count(cms, std::string_view{"ns2"}), 0u);
}

CAF_TEST(snapshots rebuild older states from the history) {
  resource_registry reg;
  object_store store{reg, 100};
  auto& cms = reg.core("configmaps");
  store.put(cms, cm("ns", "a", "1"));
  store.put(cms, cm("other", "z", "1"));
  auto at = store.resource_version();
  store.put(cms, cm("ns", "a", "2"));
  store.put(cms, cm("ns", "b", "1"));
  store.remove(cms, "other", "z");
  auto snap = store.snapshot(cms, std::nullopt, at);
  CAF_REQUIRE_EQUAL(snap.size(), 2u);
  CAF_CHECK_EQUAL(snap[0]->name, "a");
  CAF_CHECK_EQUAL(snap[0]->body["data"]["v"], "1");
  CAF_CHECK_EQUAL(snap[1]->ns, "other");
  auto scoped = store.snapshot(cms, std::string_view{"ns"}, at);
  CAF_CHECK_EQUAL(scoped.size(), 1u);
  CAF_CHECK(store.changed_since(cms, std::string_view{"ns"}, at));
  CAF_CHECK(!store.changed_since(cms, std::string_view{"ns"},
                                 store.resource_version()));
  auto now = store.snapshot(cms, std::nullopt, store.resource_version());
  CAF_CHECK_EQUAL(now.size(), 2u);
}

CAF_TEST(the history is bounded and compaction forgets it) {
  resource_registry reg;
  object_store store{reg, 3};
  auto& cms = reg.core("configmaps");
  for (int i = 0; i < 5; ++i)
    store.put(cms, cm("ns", "o" + std::to_string(i)));
  CAF_CHECK_EQUAL(store.history_size(), 3u);
  CAF_CHECK_EQUAL(store.oldest_resource_version(), 2u);
  std::vector<uint64_t> rvs;
  store.for_each_change_since(3, [&](const change& c) { rvs.push_back(c.rv); });
  CAF_CHECK_EQUAL(rvs, (std::vector<uint64_t>{4, 5}));
  store.compact();
  CAF_CHECK_EQUAL(store.history_size(), 0u);
  CAF_CHECK_EQUAL(store.oldest_resource_version(), 5u);
}

CAF_TEST(listeners see their namespace and changes in all namespaces) {
  resource_registry reg;
  object_store store{reg, 10};
  auto& cms = reg.core("configmaps");
  recorder in_a, everywhere, secrets;
  store.subscribe(cms, "a", &in_a);
  store.subscribe(cms, "", &everywhere);
  store.subscribe(reg.core("secrets"), "", &secrets);
  store.put(cms, cm("a", "x"));
  store.put(cms, cm("b", "y"));
  store.put(cms, cm("a", "x", "2"));
  store.remove(cms, "a", "x");
  CAF_CHECK_EQUAL(in_a.seen, (std::vector<std::string>{
                               "added:a/x", "modified:a/x", "deleted:a/x"}));
  CAF_CHECK_EQUAL(everywhere.seen.size(), 4u);
  CAF_CHECK(secrets.seen.empty());
  store.unsubscribe(cms, "a", &in_a);
  store.put(cms, cm("a", "w"));
  CAF_CHECK_EQUAL(in_a.seen.size(), 3u);
  CAF_CHECK_EQUAL(store.listener_count(), 2u);
}

CAF_TEST(times and durations) {
  auto t = parse_time("2024-05-01T10:00:00.123456Z");
  CAF_REQUIRE(t);
  CAF_CHECK_EQUAL(format_micro_time(*t), "2024-05-01T10:00:00.123456Z");
  CAF_CHECK_EQUAL(format_time(*t), "2024-05-01T10:00:00Z");
  auto offset = parse_time("2024-05-01T12:00:00+02:00");
  CAF_REQUIRE(offset);
  CAF_CHECK_EQUAL(format_time(*offset), "2024-05-01T10:00:00Z");
  CAF_CHECK_EQUAL(format_micro_time(*parse_time("2024-05-01T10:00:00Z")),
                  "2024-05-01T10:00:00.000000Z");
  CAF_CHECK(!parse_time("2024-05-01 10:00:00"));
  CAF_CHECK(!parse_time("2024-13-01T10:00:00Z"));
  using std::chrono::seconds;
  CAF_CHECK_EQUAL(human_duration(seconds{5}), "5s");
  CAF_CHECK_EQUAL(human_duration(seconds{125}), "2m5s");
  CAF_CHECK_EQUAL(human_duration(seconds{1200}), "20m");
  CAF_CHECK_EQUAL(human_duration(seconds{3 * 3600 + 600}), "3h10m");
  CAF_CHECK_EQUAL(human_duration(seconds{30 * 3600}), "30h");
  CAF_CHECK_EQUAL(human_duration(seconds{3 * 86400 + 7200}), "3d2h");
  CAF_CHECK_EQUAL(human_duration(seconds{20 * 86400}), "20d");
}

CAF_TEST(names uuids and queries) {
  auto suffix = random_name_suffix();
  CAF_CHECK_EQUAL(suffix.size(), 5u);
  for (char c : suffix)
    CAF_CHECK(std::string_view("bcdfghjklmnpqrstvwxz2456789").find(c)
              != std::string_view::npos);
  auto u1 = new_uuid();
  CAF_CHECK_EQUAL(u1.size(), 36u);
  CAF_CHECK_EQUAL(u1[14], '4');
  CAF_CHECK_NOT_EQUAL(u1, new_uuid());
  auto q = parse_query("labelSelector=app%3Dx%2Cy+z&watch=1&empty");
  CAF_CHECK_EQUAL(q["labelSelector"], "app=x,y z");
  CAF_CHECK_EQUAL(q["watch"], "1");
  CAF_CHECK_EQUAL(q.count("empty"), 1u);
  CAF_CHECK_EQUAL(url_decode("/a%2Fb+c"), "/a/b+c");
  CAF_CHECK_EQUAL(go_quote("a\"b\n"), "\"a\\\"b\\n\"");
  CAF_CHECK(parse_uint("123") == uint64_t{123});
  CAF_CHECK(!parse_uint("-1"));
  CAF_CHECK(!parse_uint(""));
}

CAF_TEST(base64 is strict like Go) {
  CAF_CHECK_EQUAL(base64_encode("hi"), "aGk=");
  CAF_CHECK(base64_decode("aGk=") == std::string{"hi"});
  CAF_CHECK(!base64_decode("aGk"));  // padding required
  CAF_CHECK(!base64_decode("aGl=")); // stray bits
  CAF_CHECK(!base64_decode("a*k="));
  CAF_CHECK_EQUAL(base64url_encode("\xfb\xff"), "-_8");
  CAF_CHECK(base64url_decode("-_8") == std::string{"\xfb\xff"});
}

CAF_TEST(protobuf bodies of kubectl decode to json) {
  auto labels = map_entry(11, "app", "x");
  auto meta = bytes_field(1, "cm1") + bytes_field(3, "ns1") + labels;
  auto raw = bytes_field(1, meta) + map_entry(2, "k", "v")
             + map_entry(3, "bin", std::string("\x00\x01", 2));
  auto decoded = decode_kubernetes_protobuf(envelope("v1", "ConfigMap", raw));
  auto* obj = std::get_if<json>(&decoded);
  CAF_REQUIRE(obj != nullptr);
  CAF_CHECK_EQUAL((*obj)["apiVersion"], "v1");
  CAF_CHECK_EQUAL((*obj)["kind"], "ConfigMap");
  CAF_CHECK_EQUAL((*obj)["metadata"]["name"], "cm1");
  CAF_CHECK_EQUAL((*obj)["metadata"]["namespace"], "ns1");
  CAF_CHECK_EQUAL((*obj)["metadata"]["labels"]["app"], "x");
  CAF_CHECK_EQUAL((*obj)["data"]["k"], "v");
  CAF_CHECK_EQUAL((*obj)["binaryData"]["bin"], "AAE=");
  // A TokenRequest as `kubectl create token` sends it.
  auto ref = bytes_field(1, "Pod") + bytes_field(2, "v1") + bytes_field(3, "p");
  auto spec = bytes_field(1, "istio-ca") + bytes_field(1, "other")
              + bytes_field(3, ref) + int_field(4, 3600);
  auto tr = decode_kubernetes_protobuf(
    envelope("authentication.k8s.io/v1", "TokenRequest",
             bytes_field(1, bytes_field(1, "default")) + bytes_field(2, spec)));
  auto* req = std::get_if<json>(&tr);
  CAF_REQUIRE(req != nullptr);
  CAF_CHECK_EQUAL((*req)["spec"]["audiences"], (json{"istio-ca", "other"}));
  CAF_CHECK_EQUAL((*req)["spec"]["expirationSeconds"], 3600);
  CAF_CHECK_EQUAL((*req)["spec"]["boundObjectRef"]["name"], "p");
  // Malformed or unsupported input.
  CAF_CHECK(std::holds_alternative<std::string>(
    decode_kubernetes_protobuf("{\"kind\":\"ConfigMap\"}")));
  auto truncated = envelope("v1", "ConfigMap", raw);
  truncated.resize(truncated.size() - 3);
  CAF_CHECK(
    std::holds_alternative<std::string>(decode_kubernetes_protobuf(truncated)));
  CAF_CHECK(std::holds_alternative<std::string>(
    decode_kubernetes_protobuf(envelope("v1", "Pod", bytes_field(1, meta)))));
}

CAF_TEST(fault rules match retire and validate) {
  fault_injector f;
  CAF_CHECK(!f.configure(
    json{{"rules",
          {{{"verbs", {"get"}},
            {"resources", {"configmaps"}},
            {"namespaces", {"a"}},
            {"error", 500},
            {"count", 1}},
           {{"resources", {"pods/status"}}, {"latencyMs", 10}}}}}));
  CAF_CHECK_EQUAL(f.decide("get", "configmaps", "", "b").error, 0u);
  CAF_CHECK_EQUAL(f.decide("list", "configmaps", "", "a").error, 0u);
  CAF_CHECK_EQUAL(f.decide("get", "configmaps", "", "a").error, 500u);
  CAF_CHECK_EQUAL(f.decide("get", "configmaps", "", "a").error, 0u);
  CAF_CHECK_EQUAL(f.to_json()["rules"].size(), 1u);
  CAF_CHECK_EQUAL(f.decide("update", "pods", "status", "x").latency.count(),
                  10);
  CAF_CHECK_EQUAL(f.decide("update", "pods", "", "x").latency.count(), 0);
  // Invalid configurations keep the old one.
  CAF_CHECK(f.configure(json{{"rules", {{{"error", 404}}}}}));
  CAF_CHECK(f.configure(json{{"rules", {{{"verbs", "get"}, {"error", 500}}}}}));
  CAF_CHECK(f.configure(json{{"rules", {json::object()}}}));
  CAF_CHECK(f.configure(json::array()));
  CAF_CHECK_EQUAL(f.to_json()["rules"].size(), 1u);
  CAF_CHECK(!f.configure(json{{"watch", {{"dropAfterEvents", 3}}}}));
  CAF_CHECK(f.empty());
  CAF_CHECK(f.watch().drop_after_events == int64_t{3});
}

CAF_TEST(tokens verify like the kube apiserver) {
  token_authority auth{key_pair::generate_rsa(2048),
                       "https://kubernetes.default.svc.cluster.local",
                       {"https://kubernetes.default.svc.cluster.local"}};
  auto now = std::chrono::system_clock::now();
  token_claims c;
  c.ns = "ns";
  c.service_account = "sa";
  c.service_account_uid = "sa-uid";
  c.audiences = {"istio-ca", "x"};
  c.expiration_seconds = 600;
  c.pod_name = "p";
  c.pod_uid = "p-uid";
  c.node_name = "n";
  auto token = auth.issue(c, now);
  CAF_CHECK(auth.is_own_token(token));
  auto ok = auth.verify(token, {"nope", "istio-ca"}, now);
  auto* v = std::get_if<token_authority::verified>(&ok);
  CAF_REQUIRE(v != nullptr);
  CAF_CHECK_EQUAL(v->audiences, (std::vector<std::string>{"istio-ca"}));
  CAF_CHECK_EQUAL(v->claims.pod_uid, "p-uid");
  CAF_CHECK_EQUAL(v->claims.node_name, "n");
  CAF_CHECK_EQUAL(v->claims.jti, c.jti);
  auto user = service_account_user(v->claims);
  CAF_CHECK_EQUAL(user.name, "system:serviceaccount:ns:sa");
  CAF_CHECK_EQUAL(user.extra["authentication.kubernetes.io/pod-uid"],
                  (std::vector<std::string>{"p-uid"}));
  auto error_of = [](const auto& result) {
    auto* e = std::get_if<std::string>(&result);
    return e ? *e : std::string{};
  };
  // Audiences: the server's own by default.
  CAF_CHECK_EQUAL(error_of(auth.verify(token, {}, now)),
                  "[invalid bearer token, token audiences [\"istio-ca\" "
                  "\"x\"] is invalid for the target audiences "
                  "[\"https://kubernetes.default.svc.cluster.local\"]]");
  // Expired, past the one-minute leeway.
  CAF_CHECK(error_of(auth.verify(token, {"x"}, now + std::chrono::seconds(659)))
              .empty());
  CAF_CHECK_EQUAL(
    error_of(auth.verify(token, {"x"}, now + std::chrono::seconds(662))),
    "[invalid bearer token, service account token has expired]");
  // Tampered payload.
  auto d1 = token.find('.');
  auto d2 = token.find('.', d1 + 1);
  auto claims
    = json::parse(*base64url_decode(token.substr(d1 + 1, d2 - d1 - 1)));
  claims["sub"] = "system:serviceaccount:ns:admin";
  auto forged = token.substr(0, d1 + 1) + base64url_encode(claims.dump())
                + token.substr(d2);
  CAF_CHECK(error_of(auth.verify(forged, {"x"}, now)).find("cryptographic")
            != std::string::npos);
  // Not ours at all.
  CAF_CHECK_EQUAL(error_of(auth.verify("abc", {"x"}, now)),
                  "invalid bearer token");
  auto jwks = auth.jwks();
  CAF_CHECK_EQUAL(jwks["keys"][0]["kid"], auth.key_id());
  CAF_CHECK_EQUAL(jwks["keys"][0]["alg"], "RS256");
}

CAF_TEST(the signing key may arrive after start) {
  std::promise<key_pair> key;
  token_authority auth{key.get_future(), "https://issuer", {"https://issuer"}};
  CAF_CHECK(!auth.ready());
  CAF_CHECK(!auth.ready());
  key.set_value(key_pair::generate_rsa(2048));
  CAF_REQUIRE(auth.ready());
  CAF_CHECK(!auth.key_id().empty());
  token_claims c;
  c.ns = "ns";
  c.service_account = "sa";
  c.audiences = {"https://issuer"};
  auto now = std::chrono::system_clock::now();
  auto token = auth.issue(c, now);
  CAF_CHECK(std::holds_alternative<token_authority::verified>(
    auth.verify(token, {}, now)));
}
