// Fuzz target for DecodeDeletionFile: any bytes must yield an error or a row id set that
// re-encodes to an equal set; never a crash, leak or out-of-bounds read.
//
// Input format: if the first byte is 0x01, the rest is a deletion file payload that the
// target wraps in a valid header and crc32c first, so that mutations reach the run parser
// instead of failing the checksum. Any other input is decoded as a whole file.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "format/deletion_file.h"
#include "format/file_frame_internal.h"

namespace {

using tessera::format::RowIdSet;

constexpr char kWrapPayload = 0x01;

}  // namespace

std::vector<std::string> TesseraFuzzSeeds() {
  std::vector<RowIdSet> sets(4);
  sets[1].add(uint64_t{7});
  for (uint64_t row_id = 100; row_id < 3000; row_id += 3) sets[2].add(row_id);
  for (uint64_t row_id = (uint64_t{1} << 32) - 10; row_id < (uint64_t{1} << 32) + 10; ++row_id) {
    sets[3].add(row_id);
  }
  sets[3].flip(uint64_t{1} << 20, (uint64_t{1} << 20) + 300000);
  sets[3].add(~uint64_t{0});
  std::vector<std::string> seeds;
  for (const RowIdSet& set : sets) {
    const std::string bytes = tessera::format::EncodeDeletionFile(set);
    seeds.push_back(bytes);
    seeds.push_back(kWrapPayload + bytes.substr(tessera::format::internal::kFrameHeaderBytes));
  }
  return seeds;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view input(reinterpret_cast<const char*>(data), size);
  std::string wrapped;
  if (!input.empty() && input.front() == kWrapPayload) {
    wrapped = tessera::format::internal::FramePayload("TSDL", 1, input.substr(1));
    input = wrapped;
  }
  tessera::Result<RowIdSet> decoded = tessera::format::DecodeDeletionFile(input);
  if (!decoded.ok()) {
    if (!decoded.status().IsCorruption() && !decoded.status().IsNotSupported()) std::abort();
    return 0;
  }
  const std::string encoded = tessera::format::EncodeDeletionFile(*decoded);
  tessera::Result<RowIdSet> again = tessera::format::DecodeDeletionFile(encoded);
  if (!again.ok() || !(*again == *decoded) ||
      tessera::format::EncodeDeletionFile(*again) != encoded) {
    std::abort();
  }
  return 0;
}
