#include "table/snapshot.h"

#include <algorithm>

#include "table/key_index.h"

namespace tessera::table {

Snapshot::Snapshot(format::Manifest manifest, format::RowIdSet deleted)
    : manifest_(std::move(manifest)), deleted_(std::move(deleted)) {
  for (size_t frag = 0; frag < manifest_.fragments.size(); ++frag) {
    const format::FragmentMeta& meta = manifest_.fragments[frag];
    num_stored_rows_ += meta.num_rows;
    int64_t row_idx = 0;
    for (const format::RowIdRange& range : meta.row_ids) {
      ranges_.push_back({range.start, range.end, static_cast<int>(frag), row_idx});
      row_idx += static_cast<int64_t>(range.end - range.start);
    }
  }
  std::sort(ranges_.begin(), ranges_.end(),
            [](const RangeEntry& a, const RangeEntry& b) { return a.start < b.start; });
}

Result<Snapshot::RowLocation> Snapshot::Locate(uint64_t row_id) const {
  auto it = std::upper_bound(ranges_.begin(), ranges_.end(), row_id,
                             [](uint64_t id, const RangeEntry& e) { return id < e.start; });
  if (it == ranges_.begin()) return Status::NotFound("row id ", row_id, " does not exist");
  --it;
  if (row_id >= it->end) return Status::NotFound("row id ", row_id, " does not exist");
  return RowLocation{it->fragment_index,
                     it->first_row_idx + static_cast<int64_t>(row_id - it->start)};
}

std::vector<std::string> DebtProblems(const Snapshot& snapshot, const HealthLimits& limits) {
  std::vector<std::string> problems;
  auto check = [&](int64_t value, int64_t limit, const char* what, const char* fix) {
    if (limit >= 0 && value > limit) {
      problems.push_back(std::string(what) + ": " + std::to_string(value) + " > limit " +
                         std::to_string(limit) + " (" + fix + ")");
    }
  };
  const format::Manifest& manifest = snapshot.manifest();
  int64_t small = 0;
  for (const auto& fragment : manifest.fragments) {
    if (fragment.num_rows < limits.target_rows_per_fragment / 8) ++small;
  }
  check(static_cast<int64_t>(manifest.fragments.size()), limits.max_fragments, "fragments",
        "run compaction");
  check(small, limits.max_small_fragments, "small fragments", "run compaction");
  check(UnindexedRows(manifest), limits.max_unindexed_rows, "unindexed rows",
        "run optimize_indices");
  check(snapshot.num_deleted_rows(), limits.max_deleted_rows, "deleted rows not materialized",
        "run compaction");
  return problems;
}

int64_t UnindexedRows(const format::Manifest& manifest) {
  // The tail of the first vector index (scalar key indices do not change what a query scans).
  std::vector<format::RowIdRange> covered;
  std::string first_vector_index;
  for (const auto& segment : manifest.index_segments) {
    if (!IsScalarIndexType(segment.index_type)) {
      first_vector_index = segment.index_name;
      break;
    }
  }
  for (const auto& segment : manifest.index_segments) {
    if (first_vector_index.empty() || segment.index_name != first_vector_index) continue;
    covered.insert(covered.end(), segment.covered.begin(), segment.covered.end());
  }
  std::sort(
      covered.begin(), covered.end(),
      [](const format::RowIdRange& a, const format::RowIdRange& b) { return a.start < b.start; });
  int64_t unindexed = 0;
  for (const auto& fragment : manifest.fragments) {
    for (const auto& range : fragment.row_ids) {
      // Rows of `range` not inside any covered range (covered ranges do not overlap).
      uint64_t inside = 0;
      auto it =
          std::upper_bound(covered.begin(), covered.end(), range.start,
                           [](uint64_t id, const format::RowIdRange& r) { return id < r.end; });
      for (; it != covered.end() && it->start < range.end; ++it) {
        inside += std::min(it->end, range.end) - std::max(it->start, range.start);
      }
      unindexed += static_cast<int64_t>(range.end - range.start - inside);
    }
  }
  return unindexed;
}

bool Snapshot::Stores(uint64_t row_id) const {
  auto it = std::upper_bound(ranges_.begin(), ranges_.end(), row_id,
                             [](uint64_t id, const RangeEntry& e) { return id < e.start; });
  return it != ranges_.begin() && row_id < std::prev(it)->end;
}

std::vector<uint64_t> ExpandRowIds(const format::FragmentMeta& fragment) {
  std::vector<uint64_t> ids;
  ids.reserve(static_cast<size_t>(fragment.num_rows));
  for (const format::RowIdRange& range : fragment.row_ids) {
    for (uint64_t id = range.start; id < range.end; ++id) ids.push_back(id);
  }
  return ids;
}

}  // namespace tessera::table
