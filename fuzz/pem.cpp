// PEM as the agent reads it: workload CSRs (`pem_decode_exact`), what Go
// programs would read from the same text (`first_pem_block`, `pem_blocks`),
// certificate bundles (root CA files, issued chains) and the CSR and
// certificate readers built on them.

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "fuzz/fuzz_input.hpp"
#include "pki/certificate.hpp"
#include "pki/csr.hpp"
#include "pki/pem.hpp"

using namespace istio_csr;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data,
                                      std::size_t size) {
  auto in = fuzz::text(data, size);
  auto blocks = pki::pem_blocks(in);
  auto first = pki::first_pem_block(in);
  fuzz::require(static_cast<bool>(first) == !blocks.empty(),
                "first_pem_block finds a block iff pem_blocks does");
  if (first)
    fuzz::require(first->type == blocks.front().type
                    && first->der == blocks.front().der,
                  "first_pem_block is pem_blocks' first");
  for (const auto& block : blocks) {
    // What we write reads back as the same block; except, as in Go, an
    // empty one whose label holds ':' (its END line reads as a header).
    if (block.der.empty() && block.type.find(':') != std::string::npos)
      continue;
    auto again = pki::first_pem_block(pki::pem_encode(block.type, block.der));
    fuzz::require(again && again->type == block.type && again->der == block.der,
                  "pem_encode of a decoded block decodes to it");
  }
  for (std::string_view type : {"CERTIFICATE REQUEST", "CERTIFICATE"}) {
    auto exact = pki::pem_decode_exact(in, type);
    if (!exact)
      continue;
    // The promise of pem_decode_exact: a Go program reads the same.
    fuzz::require(blocks.size() == 1 && blocks.front().type == type
                    && blocks.front().der == *exact
                    && blocks.front().headers.empty(),
                  "pem_decode_exact agrees with Go's reading");
    auto again = pki::pem_decode_exact(pki::pem_encode(type, *exact), type);
    fuzz::require(again && *again == *exact,
                  "pem_encode output passes pem_decode_exact");
  }
  (void)pki::parse_pem_bundle(in, 1024 * 1024);
  (void)pki::csr::from_pem(in);
  (void)pki::csr::from_pem_exact(in);
  (void)pki::certificate::from_pem(in);
  return 0;
}
