#include "csrctl/ca_client.hpp"

#include <optional>

#include <grpcpp/grpcpp.h>
#include <grpcpp/security/credentials.h>

#include "proto/ca.grpc.pb.h"

namespace istio_csr::csrctl {

async_calls::~async_calls() = default;

namespace {

using istio::v1::auth::IstioCertificateRequest;
using istio::v1::auth::IstioCertificateResponse;
using istio::v1::auth::IstioCertificateService;

/// A request as every attempt sends it, built once.
struct prepared_request {
  IstioCertificateRequest message;
  std::string authorization; ///< "Bearer <token>", empty: no header
  std::string cluster_id;
};

prepared_request prepare(ca_request req) {
  prepared_request out;
  out.message.set_csr(std::move(req.csr_pem));
  out.message.set_validity_duration(req.validity_seconds);
  if (!req.metadata.empty()) {
    auto& fields = *out.message.mutable_metadata()->mutable_fields();
    for (const auto& [key, value] : req.metadata)
      fields[key].set_string_value(value);
  }
  if (!req.token.empty())
    out.authorization = "Bearer " + req.token;
  out.cluster_id = std::move(req.cluster_id);
  return out;
}

/// One attempt's state. The reader lives in the call's arena, which the
/// context owns: it is declared after the context so that it goes first.
struct slot_state {
  std::optional<grpc::ClientContext> context;
  std::unique_ptr<grpc::ClientAsyncResponseReader<IstioCertificateResponse>>
    reader;
  IstioCertificateResponse response;
  grpc::Status status;
  ca_result result;
  bool busy = false;
};

/// `deadline` on gRPC's monotonic clock.
gpr_timespec to_gpr(async_calls::clock::time_point deadline) {
  if (deadline == async_calls::clock::time_point::max())
    return gpr_inf_future(GPR_CLOCK_MONOTONIC);
  auto left = std::chrono::duration_cast<std::chrono::nanoseconds>(
    deadline - async_calls::clock::now());
  if (left.count() < 0)
    left = std::chrono::nanoseconds::zero();
  return gpr_time_add(gpr_now(GPR_CLOCK_MONOTONIC),
                      gpr_time_from_nanos(left.count(), GPR_TIMESPAN));
}

class grpc_ca_client final : public async_calls {
 public:
  grpc_ca_client(const ca_target& target, std::vector<ca_request> requests,
                 size_t connections, size_t slots)
    : slots_(std::make_unique<slot_state[]>(slots)), slot_count_(slots) {
    grpc::SslCredentialsOptions ssl;
    ssl.pem_root_certs = target.root_pem;
    ssl.pem_cert_chain = target.client_cert_pem;
    ssl.pem_private_key = target.client_key_pem;
    auto creds = grpc::SslCredentials(ssl);
    for (size_t i = 0; i < connections; ++i) {
      grpc::ChannelArguments args;
      if (!target.server_name.empty())
        args.SetSslTargetNameOverride(target.server_name);
      // Each channel its own connection: a subchannel pool of its own, and
      // arguments that differ from every other channel's.
      args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
      args.SetInt("istio_csr.csrctl.connection", static_cast<int>(i));
      // Several addresses: each channel reaches all of them round robin,
      // as clients of a Kubernetes Service reach its pods; calls avoid an
      // address that is down.
      auto address = target.address;
      if (address.find(',') != std::string::npos) {
        address = "ipv4:" + address;
        args.SetLoadBalancingPolicyName("round_robin");
      }
      channels_.push_back(grpc::CreateCustomChannel(address, creds, args));
      stubs_.push_back(IstioCertificateService::NewStub(channels_.back()));
    }
    requests_.reserve(requests.size());
    for (auto& req : requests)
      requests_.push_back(prepare(std::move(req)));
  }

  ~grpc_ca_client() override {
    cancel_all();
    while (in_flight_ > 0)
      next(clock::time_point::max());
    cq_.Shutdown();
    void* tag = nullptr;
    bool ok = false;
    while (cq_.Next(&tag, &ok)) {
      // Nothing else is queued once every attempt has finished.
    }
  }

  size_t slots() const noexcept override {
    return slot_count_;
  }

  clock::time_point now() const override {
    return clock::now();
  }

  size_t connect(clock::time_point deadline) override {
    for (auto& ch : channels_)
      ch->GetState(true);
    size_t ready = 0;
    for (auto& ch : channels_)
      if (ch->WaitForConnected(to_gpr(deadline)))
        ++ready;
    return ready;
  }

  void start(size_t slot, size_t request, size_t connection,
             std::chrono::milliseconds timeout) override {
    auto& s = slots_[slot];
    const auto& req = requests_[request];
    s.reader.reset();
    s.context.emplace();
    s.context->set_deadline(to_gpr(clock::now() + timeout));
    if (!req.authorization.empty())
      s.context->AddMetadata("authorization", req.authorization);
    if (!req.cluster_id.empty())
      s.context->AddMetadata("clusterid", req.cluster_id);
    s.response.Clear();
    s.reader = stubs_[connection]->PrepareAsyncCreateCertificate(
      &*s.context, req.message, &cq_);
    s.reader->StartCall();
    s.reader->Finish(&s.response, &s.status, &s);
    s.busy = true;
    ++in_flight_;
  }

  std::optional<size_t> next(clock::time_point deadline) override {
    void* tag = nullptr;
    bool ok = false;
    if (cq_.AsyncNext(&tag, &ok, to_gpr(deadline))
        != grpc::CompletionQueue::GOT_EVENT)
      return std::nullopt;
    auto* s = static_cast<slot_state*>(tag);
    s->busy = false;
    --in_flight_;
    auto& res = s->result;
    res.code = static_cast<int>(s->status.error_code());
    res.message = s->status.error_message();
    if (s->status.ok())
      res.cert_chain.assign(s->response.cert_chain().begin(),
                            s->response.cert_chain().end());
    else
      res.cert_chain.clear();
    return static_cast<size_t>(s - slots_.get());
  }

  const ca_result& result(size_t slot) const override {
    return slots_[slot].result;
  }

  void cancel_all() override {
    for (size_t i = 0; i < slot_count_; ++i)
      if (slots_[i].busy)
        slots_[i].context->TryCancel();
  }

 private:
  std::vector<std::shared_ptr<grpc::Channel>> channels_;
  std::vector<std::unique_ptr<IstioCertificateService::Stub>> stubs_;
  std::vector<prepared_request> requests_;
  grpc::CompletionQueue cq_;
  std::unique_ptr<slot_state[]> slots_;
  size_t slot_count_;
  size_t in_flight_ = 0;
};

} // namespace

std::unique_ptr<async_calls> make_ca_client(const ca_target& target,
                                            std::vector<ca_request> requests,
                                            size_t connections, size_t slots) {
  return std::make_unique<grpc_ca_client>(target, std::move(requests),
                                          connections, slots);
}

} // namespace istio_csr::csrctl
