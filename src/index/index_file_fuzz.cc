// Fuzz the index-segment reader: any bytes must load as an index or fail with an error, and a
// loaded index must answer a search without crashing.
#include <cstddef>
#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "index/index_file.h"
#include "index/vector_index.h"

namespace {

// Re-frame `payload` with a valid header and checksums is not possible from outside the codec,
// so mutations mostly exercise header and checksum validation; seeds cover every index type.
std::string Encode(tessera::index::IndexType type) {
  constexpr int32_t kDim = 8;
  std::mt19937 rng(3);
  std::normal_distribution<float> unit(0, 1);
  std::vector<float> vectors(64 * kDim);
  for (float& v : vectors) v = unit(rng);
  std::vector<uint64_t> ids(64);
  for (size_t i = 0; i < ids.size(); ++i) ids[i] = i * 3;
  tessera::index::IndexBuildOptions options;
  options.type = type;
  options.num_partitions = 2;
  options.num_threads = 1;
  auto index = tessera::index::BuildIndex(options, vectors, kDim, ids);
  return index.ok() ? tessera::index::SerializeIndex(**index) : std::string();
}

}  // namespace

std::vector<std::string> TesseraFuzzSeeds() {
  return {Encode(tessera::index::IndexType::kIvfHnswSq),
          Encode(tessera::index::IndexType::kIvfFlat), Encode(tessera::index::IndexType::kIvfSq),
          Encode(tessera::index::IndexType::kHnsw), Encode(tessera::index::IndexType::kIvfPq)};
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto index =
      tessera::index::DeserializeIndex(std::string_view(reinterpret_cast<const char*>(data), size));
  if (!index.ok()) return 0;
  std::vector<float> query(static_cast<size_t>((*index)->dim()), 0.5f);
  tessera::index::SearchOptions options;
  options.k = 5;
  std::vector<tessera::index::Neighbor> results;
  (*index)->Search(query, options, &results).IgnoreError();
  return 0;
}
