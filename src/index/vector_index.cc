#include "index/vector_index.h"

#include <cctype>
#include <string>

#include "index/ivf_flat.h"
#include "index/ivf_hnsw_sq.h"
#include "index/ivf_pq.h"

namespace tessera::index {

Result<IndexType> ParseIndexType(std::string_view name) {
  std::string upper(name);
  for (char& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  if (upper == "IVF_FLAT") return IndexType::kIvfFlat;
  if (upper == "IVF_SQ") return IndexType::kIvfSq;
  if (upper == "IVF_HNSW_SQ") return IndexType::kIvfHnswSq;
  if (upper == "HNSW") return IndexType::kHnsw;
  if (upper == "IVF_PQ") return IndexType::kIvfPq;
  return Status::InvalidArgument("unknown index type '", name, "'");
}

std::string_view IndexTypeToString(IndexType type) {
  switch (type) {
    case IndexType::kIvfFlat:
      return "IVF_FLAT";
    case IndexType::kIvfSq:
      return "IVF_SQ";
    case IndexType::kIvfHnswSq:
      return "IVF_HNSW_SQ";
    case IndexType::kHnsw:
      return "HNSW";
    case IndexType::kIvfPq:
      return "IVF_PQ";
  }
  return "UNKNOWN";
}

Result<std::unique_ptr<VectorIndex>> BuildIndex(const IndexBuildOptions& options,
                                                std::span<const float> vectors, int32_t dim,
                                                std::span<const uint64_t> row_ids) {
  switch (options.type) {
    case IndexType::kIvfFlat: {
      TESSERA_ASSIGN_OR_RETURN(std::unique_ptr<IvfFlatIndex> index,
                               IvfFlatIndex::Build(options, vectors, dim, row_ids));
      return std::unique_ptr<VectorIndex>(std::move(index));
    }
    case IndexType::kIvfPq: {
      TESSERA_ASSIGN_OR_RETURN(std::unique_ptr<IvfPqIndex> index,
                               IvfPqIndex::Build(options, vectors, dim, row_ids));
      return std::unique_ptr<VectorIndex>(std::move(index));
    }
    case IndexType::kIvfSq:
    case IndexType::kIvfHnswSq:
    case IndexType::kHnsw: {
      TESSERA_ASSIGN_OR_RETURN(std::unique_ptr<IvfHnswSqIndex> index,
                               IvfHnswSqIndex::Build(options, vectors, dim, row_ids));
      return std::unique_ptr<VectorIndex>(std::move(index));
    }
  }
  return Status::InvalidArgument("unknown index type ", static_cast<int>(options.type));
}

}  // namespace tessera::index
