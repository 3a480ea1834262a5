#include "devcluster/protobuf.hpp"

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <vector>

#include "devcluster/crypto.hpp"
#include "devcluster/util.hpp"

namespace istio_csr::devcluster {

namespace {

using json = nlohmann::json;

// --- wire format -----------------------------------------------------------

struct field {
  uint32_t number = 0;
  uint32_t wire = 0;
  uint64_t varint = 0;
  std::string_view bytes;
};

class reader {
 public:
  explicit reader(std::string_view data) : data_(data) {}

  bool done() const {
    return pos_ >= data_.size();
  }

  std::optional<uint64_t> varint() {
    uint64_t v = 0;
    for (int shift = 0; shift < 64; shift += 7) {
      if (pos_ >= data_.size())
        return std::nullopt;
      auto b = static_cast<uint8_t>(data_[pos_++]);
      v |= static_cast<uint64_t>(b & 0x7f) << shift;
      if ((b & 0x80) == 0)
        return v;
    }
    return std::nullopt;
  }

  std::optional<field> next() {
    auto key = varint();
    if (!key)
      return std::nullopt;
    field f;
    f.number = static_cast<uint32_t>(*key >> 3);
    f.wire = static_cast<uint32_t>(*key & 7);
    switch (f.wire) {
      case 0: {
        auto v = varint();
        if (!v)
          return std::nullopt;
        f.varint = *v;
        return f;
      }
      case 1:
        if (pos_ + 8 > data_.size())
          return std::nullopt;
        f.bytes = data_.substr(pos_, 8);
        pos_ += 8;
        return f;
      case 2: {
        auto len = varint();
        if (!len || *len > data_.size() - pos_)
          return std::nullopt;
        f.bytes = data_.substr(pos_, *len);
        pos_ += *len;
        return f;
      }
      case 5:
        if (pos_ + 4 > data_.size())
          return std::nullopt;
        f.bytes = data_.substr(pos_, 4);
        pos_ += 4;
        return f;
      default: return std::nullopt;
    }
  }

 private:
  std::string_view data_;
  size_t pos_ = 0;
};

// --- schemas -----------------------------------------------------------------

enum class kind {
  string,
  bytes, ///< base64 in JSON
  int64,
  int32,
  boolean,
  time,       ///< metav1.Time
  micro_time, ///< metav1.MicroTime
  message,
  map_string, ///< map<string, string>
  map_bytes,  ///< map<string, bytes>
};

struct field_schema {
  uint32_t number;
  const char* name;
  kind type;
  bool repeated = false;
  const char* message = nullptr; ///< schema name for kind::message
};

using schema = std::vector<field_schema>;

const std::map<std::string, schema>& schemas() {
  static const std::map<std::string, schema> all = {
    {"TypeMeta", {{1, "apiVersion", kind::string}, {2, "kind", kind::string}}},
    {"ObjectMeta",
     {{1, "name", kind::string},
      {2, "generateName", kind::string},
      {3, "namespace", kind::string},
      {5, "uid", kind::string},
      {6, "resourceVersion", kind::string},
      {7, "generation", kind::int64},
      {8, "creationTimestamp", kind::time},
      {9, "deletionTimestamp", kind::time},
      {10, "deletionGracePeriodSeconds", kind::int64},
      {11, "labels", kind::map_string},
      {12, "annotations", kind::map_string},
      {13, "ownerReferences", kind::message, true, "OwnerReference"},
      {14, "finalizers", kind::string, true}}},
    {"OwnerReference",
     {{1, "kind", kind::string},
      {3, "name", kind::string},
      {4, "uid", kind::string},
      {5, "apiVersion", kind::string},
      {6, "controller", kind::boolean},
      {7, "blockOwnerDeletion", kind::boolean}}},
    {"ObjectReference",
     {{1, "kind", kind::string},
      {2, "namespace", kind::string},
      {3, "name", kind::string},
      {4, "uid", kind::string},
      {5, "apiVersion", kind::string},
      {6, "resourceVersion", kind::string},
      {7, "fieldPath", kind::string}}},
    {"LocalObjectReference", {{1, "name", kind::string}}},
    {"ConfigMap",
     {{1, "metadata", kind::message, false, "ObjectMeta"},
      {2, "data", kind::map_string},
      {3, "binaryData", kind::map_bytes},
      {4, "immutable", kind::boolean}}},
    {"Secret",
     {{1, "metadata", kind::message, false, "ObjectMeta"},
      {2, "data", kind::map_bytes},
      {3, "type", kind::string},
      {4, "stringData", kind::map_string},
      {5, "immutable", kind::boolean}}},
    {"Namespace",
     {{1, "metadata", kind::message, false, "ObjectMeta"},
      {2, "spec", kind::message, false, "NamespaceSpec"},
      {3, "status", kind::message, false, "NamespaceStatus"}}},
    {"NamespaceSpec", {{1, "finalizers", kind::string, true}}},
    {"NamespaceStatus", {{1, "phase", kind::string}}},
    {"ServiceAccount",
     {{1, "metadata", kind::message, false, "ObjectMeta"},
      {2, "secrets", kind::message, true, "ObjectReference"},
      {3, "imagePullSecrets", kind::message, true, "LocalObjectReference"},
      {4, "automountServiceAccountToken", kind::boolean}}},
    {"TokenRequest",
     {{1, "metadata", kind::message, false, "ObjectMeta"},
      {2, "spec", kind::message, false, "TokenRequestSpec"}}},
    {"TokenRequestSpec",
     {{1, "audiences", kind::string, true},
      {3, "boundObjectRef", kind::message, false, "BoundObjectReference"},
      {4, "expirationSeconds", kind::int64}}},
    {"BoundObjectReference",
     {{1, "kind", kind::string},
      {2, "apiVersion", kind::string},
      {3, "name", kind::string},
      {4, "uid", kind::string}}},
    {"TokenReview",
     {{1, "metadata", kind::message, false, "ObjectMeta"},
      {2, "spec", kind::message, false, "TokenReviewSpec"}}},
    {"TokenReviewSpec",
     {{1, "token", kind::string}, {2, "audiences", kind::string, true}}},
    {"Lease",
     {{1, "metadata", kind::message, false, "ObjectMeta"},
      {2, "spec", kind::message, false, "LeaseSpec"}}},
    {"LeaseSpec",
     {{1, "holderIdentity", kind::string},
      {2, "leaseDurationSeconds", kind::int32},
      {3, "acquireTime", kind::micro_time},
      {4, "renewTime", kind::micro_time},
      {5, "leaseTransitions", kind::int32},
      {6, "strategy", kind::string},
      {7, "preferredHolder", kind::string}}},
    {"SelfSubjectReview",
     {{1, "metadata", kind::message, false, "ObjectMeta"}}},
    {"SelfSubjectAccessReview",
     {{1, "metadata", kind::message, false, "ObjectMeta"},
      {2, "spec", kind::message, false, "SelfSubjectAccessReviewSpec"}}},
    {"SelfSubjectAccessReviewSpec",
     {{1, "resourceAttributes", kind::message, false, "ResourceAttributes"},
      {2, "nonResourceAttributes", kind::message, false,
       "NonResourceAttributes"}}},
    {"ResourceAttributes",
     {{1, "namespace", kind::string},
      {2, "verb", kind::string},
      {3, "group", kind::string},
      {4, "version", kind::string},
      {5, "resource", kind::string},
      {6, "subresource", kind::string},
      {7, "name", kind::string}}},
    {"NonResourceAttributes",
     {{1, "path", kind::string}, {2, "verb", kind::string}}},
    {"DeleteOptions",
     {{1, "gracePeriodSeconds", kind::int64},
      {2, "preconditions", kind::message, false, "Preconditions"},
      {3, "orphanDependents", kind::boolean},
      {4, "propagationPolicy", kind::string},
      {5, "dryRun", kind::string, true}}},
    {"Preconditions",
     {{1, "uid", kind::string}, {2, "resourceVersion", kind::string}}},
  };
  return all;
}

std::optional<json> decode_message(std::string_view data,
                                   const std::string& name, int depth);

std::optional<std::pair<std::string, std::string>>
decode_map_entry(std::string_view data) {
  reader r{data};
  std::pair<std::string, std::string> kv;
  while (!r.done()) {
    auto f = r.next();
    if (!f || f->wire != 2)
      return std::nullopt;
    if (f->number == 1)
      kv.first = std::string(f->bytes);
    else if (f->number == 2)
      kv.second = std::string(f->bytes);
  }
  return kv;
}

std::optional<std::string> decode_time(std::string_view data, bool micro) {
  reader r{data};
  int64_t seconds = 0;
  int64_t nanos = 0;
  while (!r.done()) {
    auto f = r.next();
    if (!f || f->wire != 0)
      return std::nullopt;
    if (f->number == 1)
      seconds = static_cast<int64_t>(f->varint);
    else if (f->number == 2)
      nanos = static_cast<int64_t>(f->varint);
  }
  std::chrono::system_clock::time_point t{
    std::chrono::duration_cast<std::chrono::system_clock::duration>(
      std::chrono::seconds{seconds} + std::chrono::nanoseconds{nanos})};
  return micro ? format_micro_time(t) : format_time(t);
}

std::optional<json> decode_message(std::string_view data,
                                   const std::string& name, int depth) {
  if (depth > 16)
    return std::nullopt;
  auto it = schemas().find(name);
  if (it == schemas().end())
    return std::nullopt;
  json out = json::object();
  reader r{data};
  while (!r.done()) {
    auto f = r.next();
    if (!f)
      return std::nullopt;
    const field_schema* fs = nullptr;
    for (auto& s : it->second)
      if (s.number == f->number)
        fs = &s;
    if (fs == nullptr)
      continue; // unknown field: ignore, as proto3 does
    json value;
    switch (fs->type) {
      case kind::string:
        if (f->wire != 2)
          return std::nullopt;
        // Protobuf clients send empty strings (generateName: ""); the API
        // server's JSON omits them (omitempty), so do we.
        if (f->bytes.empty())
          continue;
        value = std::string(f->bytes);
        break;
      case kind::bytes:
        if (f->wire != 2)
          return std::nullopt;
        value = base64_encode(f->bytes);
        break;
      case kind::int64:
        if (f->wire != 0)
          return std::nullopt;
        value = static_cast<int64_t>(f->varint);
        break;
      case kind::int32:
        if (f->wire != 0)
          return std::nullopt;
        value = static_cast<int32_t>(f->varint);
        break;
      case kind::boolean:
        if (f->wire != 0)
          return std::nullopt;
        value = f->varint != 0;
        break;
      case kind::time:
      case kind::micro_time: {
        if (f->wire != 2)
          return std::nullopt;
        auto t = decode_time(f->bytes, fs->type == kind::micro_time);
        if (!t)
          return std::nullopt;
        value = *t;
        break;
      }
      case kind::message: {
        if (f->wire != 2)
          return std::nullopt;
        auto m = decode_message(f->bytes, fs->message, depth + 1);
        if (!m)
          return std::nullopt;
        value = std::move(*m);
        break;
      }
      case kind::map_string:
      case kind::map_bytes: {
        if (f->wire != 2)
          return std::nullopt;
        auto kv = decode_map_entry(f->bytes);
        if (!kv)
          return std::nullopt;
        auto& m = out[fs->name];
        if (!m.is_object())
          m = json::object();
        m[kv->first] = fs->type == kind::map_bytes ? base64_encode(kv->second)
                                                   : kv->second;
        continue;
      }
    }
    if (fs->repeated) {
      auto& arr = out[fs->name];
      if (!arr.is_array())
        arr = json::array();
      arr.push_back(std::move(value));
    } else {
      out[fs->name] = std::move(value);
    }
  }
  return out;
}

} // namespace

std::variant<json, std::string>
decode_kubernetes_protobuf(std::string_view body) {
  static constexpr std::string_view magic{"k8s\0", 4};
  if (body.substr(0, 4) != magic)
    return std::string("protobuf body without the k8s envelope");
  reader r{body.substr(4)};
  std::string api_version, kind_name;
  std::string_view raw;
  while (!r.done()) {
    auto f = r.next();
    if (!f)
      return std::string("malformed protobuf envelope");
    if (f->number == 1 && f->wire == 2) {
      auto tm = decode_message(f->bytes, "TypeMeta", 0);
      if (!tm)
        return std::string("malformed protobuf type meta");
      api_version = tm->value("apiVersion", "");
      kind_name = tm->value("kind", "");
    } else if (f->number == 2 && f->wire == 2) {
      raw = f->bytes;
    }
  }
  if (!schemas().count(kind_name) || kind_name == "TypeMeta"
      || kind_name == "ObjectMeta")
    return "devcluster cannot decode protobuf " + kind_name
           + "; send application/json";
  auto obj = decode_message(raw, kind_name, 0);
  if (!obj)
    return "malformed protobuf " + kind_name;
  if (!api_version.empty())
    (*obj)["apiVersion"] = api_version;
  (*obj)["kind"] = kind_name;
  return std::move(*obj);
}

} // namespace istio_csr::devcluster
