// hnswlib behind ReferenceIndex. Compiled with -march=native (bench/CMakeLists.txt) so that
// hnswlib's L2 uses its AVX-512 path, as a user building hnswlib for this machine would get.
#include <atomic>
#include <thread>

#include "reference_index.h"

#if TESSERA_BENCH_HAVE_HNSWLIB
#include <hnswlib/hnswlib.h>
#endif

namespace tessera::bench {

#if TESSERA_BENCH_HAVE_HNSWLIB
namespace {

class HnswlibIndex final : public ReferenceIndex {
 public:
  HnswlibIndex(int32_t dim, int64_t num_rows, int32_t m, int32_t ef_construction)
      : space_(static_cast<size_t>(dim)),
        index_(&space_, static_cast<size_t>(num_rows), static_cast<size_t>(m),
               static_cast<size_t>(ef_construction)) {}

  void Add(std::span<const float> base, int32_t dim, int num_threads) {
    const int64_t num_rows = static_cast<int64_t>(base.size()) / dim;
    if (num_rows == 0) return;
    index_.addPoint(base.data(), 0);
    std::atomic<int64_t> next{1};
    auto worker = [&] {
      for (int64_t row = next++; row < num_rows; row = next++) {
        index_.addPoint(base.data() + row * dim, static_cast<hnswlib::labeltype>(row));
      }
    };
    std::vector<std::thread> threads;
    for (int t = 1; t < num_threads; ++t) threads.emplace_back(worker);
    worker();
    for (auto& thread : threads) thread.join();
  }

  void SetSearchParam(int32_t value) override { index_.setEf(static_cast<size_t>(value)); }

  void Search(const float* query, int32_t k, std::vector<uint64_t>* ids) override {
    auto heap = index_.searchKnn(query, static_cast<size_t>(k));  // farthest on top
    ids->resize(heap.size());
    for (size_t idx = heap.size(); idx > 0; --idx) {
      (*ids)[idx - 1] = static_cast<uint64_t>(heap.top().second);
      heap.pop();
    }
  }

  size_t memory_bytes() const override {
    size_t upper_levels = 0;
    for (size_t node = 0; node < index_.cur_element_count; ++node) {
      upper_levels += static_cast<size_t>(index_.element_levels_[node]);
    }
    return index_.cur_element_count * index_.size_data_per_element_ +
           upper_levels * index_.size_links_per_element_;
  }

  std::string memory_note() const override {
    return "rows x size_data_per_element (float vector + level-0 links + label) + upper-level "
           "link lists";
  }

 private:
  hnswlib::L2Space space_;
  hnswlib::HierarchicalNSW<float> index_;
};

}  // namespace

bool HaveHnswlib() { return true; }

Result<std::unique_ptr<ReferenceIndex>> BuildHnswlib(std::span<const float> base, int32_t dim,
                                                     int32_t m, int32_t ef_construction,
                                                     int num_threads) {
  const int64_t num_rows = static_cast<int64_t>(base.size()) / dim;
  auto index = std::make_unique<HnswlibIndex>(dim, num_rows, m, ef_construction);
  index->Add(base, dim, num_threads);
  return std::unique_ptr<ReferenceIndex>(std::move(index));
}

#else

bool HaveHnswlib() { return false; }

Result<std::unique_ptr<ReferenceIndex>> BuildHnswlib(std::span<const float>, int32_t, int32_t,
                                                     int32_t, int) {
  return Status::NotSupported(
      "hnswlib not found at configure time (apt-get install "
      "libhnswlib-dev, then re-run cmake)");
}

#endif

}  // namespace tessera::bench
