// Fuzz target for DecodeManifest: any bytes must yield an error or a manifest that
// re-encodes and decodes to the same bytes; never a crash, leak or out-of-bounds read.
//
// Input format: if the first byte is 0x01, the rest is a manifest payload (a flatbuffer)
// that the target wraps in a valid header and crc32c first, so that mutations reach the
// flatbuffer verifier and the semantic checks instead of failing the checksum. Any other
// input is decoded as a whole file.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "format/file_frame_internal.h"
#include "format/manifest.h"

namespace {

using tessera::Value;
using tessera::format::ColumnStats;
using tessera::format::FragmentMeta;
using tessera::format::IndexSegmentMeta;
using tessera::format::Manifest;
using tessera::format::RowIdRange;

constexpr char kWrapPayload = 0x01;

Manifest SeedManifest(bool full) {
  Manifest manifest;
  manifest.version = full ? 42 : 1;
  manifest.schema =
      tessera::Schema::Parse(full ? "id:int64 not null,score:float64,ok:bool,name:utf8,"
                                    "ts:timestamp,small:int32,f:float32,v:vector[3]"
                                  : "id:int64,v:vector[2]")
          .value();
  manifest.transaction = {"0b7e-uuid",
                          full ? "compact" : "create",
                          full ? 41u : 0u,
                          1700000000000000,
                          1234,
                          full ? 0 : 5,
                          0,
                          R"({"fragments_removed":2})"};
  if (!full) return manifest;
  FragmentMeta fragment{3, "data/a.arrow", 15, 4096, {RowIdRange{0, 10}, RowIdRange{20, 25}}, {}};
  fragment.stats = {ColumnStats{0, Value(int64_t{-1}), Value(int64_t{99}), 0},
                    ColumnStats{1, Value(0.5), Value(2.5), 3},
                    ColumnStats{2, Value(false), Value(true), 1},
                    ColumnStats{3, Value(std::string("aa")), Value(std::string("zz")), 0},
                    ColumnStats{7, Value(std::vector<float>{0, 1, 2}), Value(), 0}};
  manifest.fragments = {fragment,
                        FragmentMeta{4, "data/b.arrow", 5, 100, {RowIdRange{30, 35}}, {}}};
  manifest.deletion_files = {{"deletions/x.del", 2}, {"deletions/y.del", 7}};
  manifest.index_segments = {IndexSegmentMeta{"v_idx",
                                              "v",
                                              "IVF_HNSW_SQ",
                                              "indices/s/seg.idx",
                                              R"({"num_partitions":4,"m":16})",
                                              10,
                                              {RowIdRange{0, 10}, RowIdRange{20, 22}}}};
  manifest.next_row_id = 40;
  manifest.next_fragment_id = 5;
  manifest.stream_checkpoints = {{"kafka:0", 17}, {"kafka:1", 3}};
  manifest.config = {{"target_rows_per_fragment", "1000000"}, {"metric", "l2"}};
  return manifest;
}

}  // namespace

std::vector<std::string> TesseraFuzzSeeds() {
  std::vector<std::string> seeds;
  for (bool full : {false, true}) {
    const std::string bytes = tessera::format::EncodeManifest(SeedManifest(full));
    seeds.push_back(bytes);
    seeds.push_back(kWrapPayload + bytes.substr(tessera::format::internal::kFrameHeaderBytes));
  }
  return seeds;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view input(reinterpret_cast<const char*>(data), size);
  std::string wrapped;
  if (!input.empty() && input.front() == kWrapPayload) {
    wrapped = tessera::format::internal::FramePayload("TSMF", 1, input.substr(1));
    input = wrapped;
  }
  tessera::Result<Manifest> decoded = tessera::format::DecodeManifest(input);
  if (!decoded.ok()) {
    if (!decoded.status().IsCorruption() && !decoded.status().IsNotSupported()) std::abort();
    return 0;
  }
  // A decoded manifest must survive a round trip byte for byte and render as JSON.
  const std::string encoded = tessera::format::EncodeManifest(*decoded);
  tessera::Result<Manifest> again = tessera::format::DecodeManifest(encoded);
  if (!again.ok() || tessera::format::EncodeManifest(*again) != encoded) std::abort();
  if (tessera::format::ManifestToJson(*decoded).empty()) std::abort();
  return 0;
}
