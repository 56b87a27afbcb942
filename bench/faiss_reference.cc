// FAISS behind ReferenceIndex. Debian's libfaiss is built without AVX2, so these numbers
// understate FAISS by 2-6x; they are printed for orientation only.
#include <algorithm>

#include "reference_index.h"

#if TESSERA_BENCH_HAVE_FAISS
#include <faiss/IndexFlat.h>
#include <faiss/IndexHNSW.h>
#include <faiss/IndexIVFPQ.h>
#include <faiss/IndexScalarQuantizer.h>
#include <omp.h>
#endif

namespace tessera::bench {

#if TESSERA_BENCH_HAVE_FAISS
namespace {

class FaissIndex final : public ReferenceIndex {
 public:
  FaissIndex(std::unique_ptr<faiss::IndexFlatL2> quantizer, std::unique_ptr<faiss::Index> index)
      : quantizer_(std::move(quantizer)), index_(std::move(index)) {}

  void SetSearchParam(int32_t value) override {
    if (auto* hnsw = dynamic_cast<faiss::IndexHNSW*>(index_.get())) {
      hnsw->hnsw.efSearch = value;
    } else if (auto* ivf = dynamic_cast<faiss::IndexIVF*>(index_.get())) {
      ivf->nprobe = static_cast<size_t>(value);
    }
  }

  void Search(const float* query, int32_t k, std::vector<uint64_t>* ids) override {
    omp_set_num_threads(1);
    distances_.resize(k);
    labels_.resize(k);
    index_->search(1, query, k, distances_.data(), labels_.data());
    ids->clear();
    for (faiss::Index::idx_t label : labels_) {
      if (label >= 0) ids->push_back(static_cast<uint64_t>(label));
    }
  }

  size_t memory_bytes() const override {
    if (const auto* hnsw = dynamic_cast<const faiss::IndexHNSWFlat*>(index_.get())) {
      const auto& graph = hnsw->hnsw;
      return static_cast<size_t>(hnsw->ntotal) * hnsw->d * sizeof(float) +
             graph.neighbors.size() * sizeof(faiss::HNSW::storage_idx_t) +
             graph.levels.size() * sizeof(int) + graph.offsets.size() * sizeof(size_t);
    }
    if (const auto* pq = dynamic_cast<const faiss::IndexIVFPQ*>(index_.get())) {
      return static_cast<size_t>(pq->ntotal) * (pq->code_size + sizeof(faiss::Index::idx_t)) +
             pq->nlist * pq->d * sizeof(float) + pq->pq.centroids.size() * sizeof(float);
    }
    if (const auto* ivf = dynamic_cast<const faiss::IndexIVFScalarQuantizer*>(index_.get())) {
      return static_cast<size_t>(ivf->ntotal) * (ivf->code_size + sizeof(faiss::Index::idx_t)) +
             ivf->nlist * ivf->d * sizeof(float);
    }
    return 0;
  }

  std::string memory_note() const override {
    return "HNSWFlat: float vectors + neighbor arrays; IVFSQ/IVFPQ: codes + 64-bit ids + "
           "centroids (+ PQ codebooks)";
  }

 private:
  std::unique_ptr<faiss::IndexFlatL2> quantizer_;  // the IVF's coarse quantizer, or null
  std::unique_ptr<faiss::Index> index_;
  std::vector<float> distances_;
  std::vector<faiss::Index::idx_t> labels_;
};

}  // namespace

bool HaveFaiss() { return true; }

Result<std::unique_ptr<ReferenceIndex>> BuildFaissHnswFlat(std::span<const float> base, int32_t dim,
                                                           int32_t m, int32_t ef_construction,
                                                           int num_threads) {
  omp_set_num_threads(num_threads);
  auto index = std::make_unique<faiss::IndexHNSWFlat>(dim, m);
  index->hnsw.efConstruction = ef_construction;
  index->add(static_cast<faiss::Index::idx_t>(base.size() / dim), base.data());
  return std::unique_ptr<ReferenceIndex>(std::make_unique<FaissIndex>(nullptr, std::move(index)));
}

Result<std::unique_ptr<ReferenceIndex>> BuildFaissIvfSq8(std::span<const float> base, int32_t dim,
                                                         int32_t num_lists, int num_threads) {
  omp_set_num_threads(num_threads);
  const int64_t num_rows = static_cast<int64_t>(base.size()) / dim;
  auto quantizer = std::make_unique<faiss::IndexFlatL2>(dim);
  auto index = std::make_unique<faiss::IndexIVFScalarQuantizer>(
      quantizer.get(), dim, num_lists, faiss::ScalarQuantizer::QT_8bit, faiss::METRIC_L2);
  const int64_t num_train = std::min<int64_t>(num_rows, int64_t{256} * num_lists);
  index->train(num_train, base.data());  // the first rows: the data sets are in random order
  index->add(num_rows, base.data());
  return std::unique_ptr<ReferenceIndex>(
      std::make_unique<FaissIndex>(std::move(quantizer), std::move(index)));
}

Result<std::unique_ptr<ReferenceIndex>> BuildFaissIvfPq(std::span<const float> base, int32_t dim,
                                                        int32_t num_lists, int32_t sub_vectors,
                                                        int num_threads) {
  omp_set_num_threads(num_threads);
  const int64_t num_rows = static_cast<int64_t>(base.size()) / dim;
  auto quantizer = std::make_unique<faiss::IndexFlatL2>(dim);
  auto index = std::make_unique<faiss::IndexIVFPQ>(quantizer.get(), dim, num_lists, sub_vectors, 8);
  const int64_t num_train = std::min<int64_t>(num_rows, int64_t{256} * num_lists);
  index->train(num_train, base.data());  // the first rows: the data sets are in random order
  index->add(num_rows, base.data());
  return std::unique_ptr<ReferenceIndex>(
      std::make_unique<FaissIndex>(std::move(quantizer), std::move(index)));
}

#else

bool HaveFaiss() { return false; }

Result<std::unique_ptr<ReferenceIndex>> BuildFaissIvfPq(std::span<const float>, int32_t, int32_t,
                                                        int32_t, int) {
  return Status::NotSupported(
      "FAISS not found at configure time (apt-get install libfaiss-dev, "
      "then re-run cmake)");
}

Result<std::unique_ptr<ReferenceIndex>> BuildFaissHnswFlat(std::span<const float>, int32_t, int32_t,
                                                           int32_t, int) {
  return Status::NotSupported(
      "FAISS not found at configure time (apt-get install libfaiss-dev, "
      "then re-run cmake)");
}

Result<std::unique_ptr<ReferenceIndex>> BuildFaissIvfSq8(std::span<const float>, int32_t, int32_t,
                                                         int) {
  return Status::NotSupported(
      "FAISS not found at configure time (apt-get install libfaiss-dev, "
      "then re-run cmake)");
}

#endif

}  // namespace tessera::bench
