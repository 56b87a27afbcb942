#include "query/query_internal.h"

#include <algorithm>
#include <list>
#include <map>
#include <mutex>

#include "base/lru_cache.h"
#include "index/index_file.h"
#include "table/key_index.h"

namespace tessera::query {

index::Metric ToMetric(DistanceType type) {
  switch (type) {
    case DistanceType::kL2:
      return index::Metric::kL2;
    case DistanceType::kCosine:
      return index::Metric::kCosine;
    case DistanceType::kDot:
      return index::Metric::kDot;
  }
  return index::Metric::kL2;
}

std::vector<const format::IndexSegmentMeta*> SegmentsOf(const format::Manifest& manifest,
                                                        const std::string& name,
                                                        const std::string& column) {
  std::vector<const format::IndexSegmentMeta*> out;
  for (const format::IndexSegmentMeta& segment : manifest.index_segments) {
    if (!name.empty() ? segment.index_name == name : segment.column == column) {
      out.push_back(&segment);
    }
  }
  return out;
}

std::vector<format::RowIdRange> CoveredRanges(
    const std::vector<const format::IndexSegmentMeta*>& segments) {
  return table::MergedCoverage(segments);
}

void SubtractCovered(const format::RowIdRange& range,
                     const std::vector<format::RowIdRange>& covered,
                     std::vector<format::RowIdRange>* out) {
  const std::vector<format::RowIdRange> rest = table::SubtractRanges({range}, covered);
  out->insert(out->end(), rest.begin(), rest.end());
}

namespace {

// A process-wide LRU of decoded segments, keyed by absolute path. Segment files are immutable
// and uniquely named, so a path always means the same bytes.
// Loaded index segments (immutable files), shared by every table handle of the process.
base::LruCache<std::shared_ptr<const index::VectorIndex>>& SegmentCache() {
  static auto* cache =  // never destroyed: used at exit by threads
      new base::LruCache<std::shared_ptr<const index::VectorIndex>>(size_t{4} << 30);
  return *cache;
}

}  // namespace

Result<std::shared_ptr<const index::VectorIndex>> LoadSegment(
    table::TableStore* store, const format::IndexSegmentMeta& meta) {
  const std::string key = store->Path(meta.path);
  if (auto cached = SegmentCache().Get(key)) return *cached;
  TESSERA_ASSIGN_OR_RETURN(std::string bytes, store->fs()->ReadFile(key));
  auto decoded = index::DeserializeIndex(bytes);
  if (!decoded.ok()) return decoded.status().WithContext("index segment ", meta.path);
  std::shared_ptr<const index::VectorIndex> shared = std::move(decoded).value();
  SegmentCache().Put(key, shared, shared->memory_bytes());
  return shared;
}

Status GatherVectors(table::TableStore* store, const table::Snapshot& snapshot, int column_index,
                     const std::vector<format::RowIdRange>* covered, std::vector<float>* vectors,
                     std::vector<uint64_t>* row_ids) {
  const int32_t dim = snapshot.schema().field(column_index).type.dim;
  std::vector<format::RowIdRange> wanted;
  for (const format::FragmentMeta& fragment : snapshot.manifest().fragments) {
    wanted.clear();
    int64_t row_idx = 0;
    std::vector<std::pair<format::RowIdRange, int64_t>> pieces;  // range, row index of start
    for (const format::RowIdRange& range : fragment.row_ids) {
      if (covered == nullptr) {
        pieces.push_back({range, row_idx});
      } else {
        wanted.clear();
        SubtractCovered(range, *covered, &wanted);
        for (const auto& piece : wanted) {
          pieces.push_back({piece, row_idx + static_cast<int64_t>(piece.start - range.start)});
        }
      }
      row_idx += static_cast<int64_t>(range.end - range.start);
    }
    if (pieces.empty()) continue;
    TESSERA_ASSIGN_OR_RETURN(RecordBatch batch, store->ReadFragment(fragment));
    const Array& column = batch.column(column_index);
    for (const auto& [range, first_row] : pieces) {
      for (uint64_t id = range.start; id < range.end; ++id) {
        const int64_t row = first_row + static_cast<int64_t>(id - range.start);
        if (column.IsNull(row) || snapshot.IsDeleted(id)) continue;
        const float* v = column.Vector(row).data();
        vectors->insert(vectors->end(), v, v + dim);
        row_ids->push_back(id);
      }
    }
  }
  return Status::OK();
}

}  // namespace tessera::query
