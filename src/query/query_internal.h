// Shared pieces of the query layer: index segments of a snapshot, the tail, segment loading.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "format/manifest.h"
#include "index/vector_index.h"
#include "table/snapshot.h"
#include "table/table_store.h"
#include "tessera/query.h"

namespace tessera::query {

index::Metric ToMetric(DistanceType type);

/// The segments of the index called `name` (or of any index on `column` when `name` is empty).
std::vector<const format::IndexSegmentMeta*> SegmentsOf(const format::Manifest& manifest,
                                                        const std::string& name,
                                                        const std::string& column);

/// Sorted, merged row-id ranges covered by `segments`.
std::vector<format::RowIdRange> CoveredRanges(
    const std::vector<const format::IndexSegmentMeta*>& segments);

/// Append to `out` the parts of [range.start, range.end) not inside `covered` (sorted, merged).
void SubtractCovered(const format::RowIdRange& range,
                     const std::vector<format::RowIdRange>& covered,
                     std::vector<format::RowIdRange>* out);

/// Load (or take from a process-wide cache of immutable segment files) the index of a segment.
/// Shared because concurrent queries hold a segment while the cache may evict it.
Result<std::shared_ptr<const index::VectorIndex>> LoadSegment(table::TableStore* store,
                                                              const format::IndexSegmentMeta& meta);

/// Collect the live rows (skipping those inside `covered`, when given):
/// their non-null vectors of column `column_index` and row ids.
Status GatherVectors(table::TableStore* store, const table::Snapshot& snapshot, int column_index,
                     const std::vector<format::RowIdRange>* covered, std::vector<float>* vectors,
                     std::vector<uint64_t>* row_ids);

}  // namespace tessera::query
