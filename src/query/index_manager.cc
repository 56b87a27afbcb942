// Table's vector-index management: CreateIndex, ListIndices, IndexStats, DropIndex,
// OptimizeIndices. Each index is a list of immutable segments in the manifest; a segment
// records the row ids it covers, so the unindexed tail is every live row no segment covers.
#include <algorithm>
#include <cctype>
#include <cmath>
#include <map>
#include <nlohmann/json.hpp>
#include <set>

#include "base/uuid.h"
#include "index/index_file.h"
#include "index/ivf_hnsw_sq.h"
#include "index/ivf_pq.h"
#include "query/query_internal.h"
#include "table/key_index.h"
#include "tessera/table.h"

namespace tessera {
namespace {

// optimize_indices merges segments once an index would have more than this many.
constexpr int64_t kMaxSegmentsPerIndex = 16;
// optimize_indices retrains an index once more than this fraction of the rows it indexed are
// deleted.
constexpr double kRetrainDeletedFraction = 0.2;

// optimize_indices indexes an IVF_HNSW_SQ tail as a segment without graphs (the IVF_SQ
// layout: the index's partitions and SQ8 codes; a probed partition is scanned in full), ~100x
// cheaper to build than graphs, so that a streaming tail is indexed within seconds instead of
// waiting tens of seconds for graph construction while it grows (the streaming benchmark's
// adaptive run: indexing a 50k-row 768-d tail took ~35 s). Graph-less segments are merged
// into one with graphs once they hold this many rows together (in the same run, in a second
// commit). A query scans about nprobes / partitions of a graph-less segment's rows as SQ8
// codes: at this size ~1 ms.
constexpr int64_t kGraphMinRows = 32768;

// params_json marks a graph-less segment of an IVF_HNSW_SQ index.
constexpr char kGraphsParam[] = "graphs";

// Whether `segment` belongs to an IVF_HNSW_SQ index, whose segments may lack graphs.
bool OfIvfHnswSq(const format::IndexSegmentMeta& segment) {
  return segment.index_type == index::IndexTypeToString(index::IndexType::kIvfHnswSq);
}

bool IsGraphless(const format::IndexSegmentMeta& segment) {
  if (!OfIvfHnswSq(segment)) return false;
  const auto params = nlohmann::json::parse(segment.params_json, nullptr, false);
  return params.is_object() && params.contains(kGraphsParam) && params[kGraphsParam] == false;
}

// The index's parameters, marked graph-less or not.
std::string SegmentParams(const std::string& index_params, bool graphless) {
  auto params = nlohmann::json::parse(index_params, nullptr, false);
  if (!params.is_object()) return index_params;
  params.erase(kGraphsParam);
  if (graphless) params[kGraphsParam] = false;
  return params.dump();
}

// optimize_indices retrains an index whose largest partition holds more than this many times
// the mean partition size (and at least 1,000 rows).
constexpr double kRetrainImbalance = 4.0;

bool Unbalanced(const std::vector<int64_t>& sizes) {
  if (sizes.size() < 2) return false;
  int64_t total = 0, largest = 0;
  for (int64_t size : sizes) {
    total += size;
    largest = std::max(largest, size);
  }
  const double mean = static_cast<double>(total) / static_cast<double>(sizes.size());
  return largest >= 1000 && static_cast<double>(largest) > kRetrainImbalance * mean;
}

// The fraction of the rows `segments` indexed that are no longer live in `snapshot`.
double DeletedFraction(const table::Snapshot& snapshot,
                       const std::vector<const format::IndexSegmentMeta*>& segments) {
  int64_t indexed = 0;
  for (const auto* segment : segments) indexed += segment->num_rows;
  if (indexed == 0) return 0;
  const std::vector<format::RowIdRange> covered = query::CoveredRanges(segments);
  const format::RowIdSet& deleted = snapshot.deleted();
  auto deleted_in = [&deleted](uint64_t start, uint64_t end) -> int64_t {
    if (end <= start) return 0;
    const uint64_t below = start == 0 ? 0 : deleted.rank(start - 1);
    return static_cast<int64_t>(deleted.rank(end - 1) - below);
  };
  int64_t live = 0;  // stored, covered and not deleted
  std::vector<format::RowIdRange> uncovered;
  for (const auto& fragment : snapshot.manifest().fragments) {
    for (const auto& range : fragment.row_ids) {
      uncovered.clear();
      query::SubtractCovered(range, covered, &uncovered);  // sorted, disjoint, inside `range`
      uint64_t at = range.start;
      for (const auto& piece : uncovered) {  // the covered pieces lie between the uncovered ones
        live += static_cast<int64_t>(piece.start - at) - deleted_in(at, piece.start);
        at = piece.end;
      }
      live += static_cast<int64_t>(range.end - at) - deleted_in(at, range.end);
    }
  }
  return 1.0 - static_cast<double>(std::max<int64_t>(live, 0)) / static_cast<double>(indexed);
}

}  // namespace
namespace {

using query::CoveredRanges;
using query::SegmentsOf;

// Row-id ranges of every fragment of `snapshot` (live or deleted): what a segment built from it
// covers. Rows committed later are not covered and form the tail.
std::vector<format::RowIdRange> AllRanges(const table::Snapshot& snapshot) {
  std::vector<format::RowIdRange> ranges;
  for (const auto& fragment : snapshot.manifest().fragments) {
    ranges.insert(ranges.end(), fragment.row_ids.begin(), fragment.row_ids.end());
  }
  std::sort(
      ranges.begin(), ranges.end(),
      [](const format::RowIdRange& a, const format::RowIdRange& b) { return a.start < b.start; });
  std::vector<format::RowIdRange> merged;
  for (const auto& range : ranges) {
    if (!merged.empty() && merged.back().end == range.start) {
      merged.back().end = range.end;
    } else {
      merged.push_back(range);
    }
  }
  return merged;
}

Result<format::IndexSegmentMeta> WriteSegment(table::TableStore* store,
                                              const index::VectorIndex& built) {
  format::IndexSegmentMeta meta;
  const std::string dir = "indices/" + base::NewUuid();
  meta.path = dir + "/segment.idx";
  TESSERA_RETURN_IF_ERROR(store->fs()->CreateDirs(store->Path(dir)));
  Status st =
      io::WriteFileDurably(store->fs(), store->Path(meta.path), index::SerializeIndex(built));
  if (st.ok()) st = store->fs()->SyncDir(store->Path(dir));
  if (st.ok()) st = store->fs()->SyncDir(store->Path("indices"));
  if (!st.ok()) return st.WithContext("writing index segment ", meta.path);
  meta.num_rows = built.num_rows();
  return meta;
}

Result<int> VectorColumn(const Schema& schema, std::string_view column) {
  const int index = schema.FieldIndex(column);
  if (index < 0) return Status::InvalidArgument("unknown column '", column, "'");
  if (schema.field(index).type.id != TypeId::kVector) {
    return Status::InvalidArgument("column '", column, "' is ", schema.field(index).type.ToString(),
                                   ", not a vector column");
  }
  return index;
}

IndexInfo Describe(table::TableStore* store, const table::Snapshot& snapshot,
                   const std::vector<const format::IndexSegmentMeta*>& segments) {
  IndexInfo info;
  const format::IndexSegmentMeta& first = *segments.front();
  info.name = first.index_name;
  info.column = first.column;
  info.type = first.index_type;
  info.params_json = first.params_json;
  auto params = nlohmann::json::parse(first.params_json, nullptr, false);
  if (!params.is_discarded() && params.contains("metric")) info.metric = params["metric"];
  info.num_segments = static_cast<int64_t>(segments.size());
  const std::vector<format::RowIdRange> covered = CoveredRanges(segments);
  std::vector<format::RowIdRange> tail;
  for (const auto& fragment : snapshot.manifest().fragments) {
    for (const auto& range : fragment.row_ids) query::SubtractCovered(range, covered, &tail);
  }
  int64_t unindexed = 0;
  for (const auto& range : tail) {
    for (uint64_t id = range.start; id < range.end; ++id)
      unindexed += snapshot.IsDeleted(id) ? 0 : 1;
  }
  info.num_unindexed_rows = unindexed;
  info.num_indexed_rows = snapshot.num_live_rows() - unindexed;
  for (const auto* segment : segments) {
    auto stat = store->fs()->Stat(store->Path(segment->path));
    if (stat.ok()) info.size_bytes += stat->size_bytes;
  }
  return info;
}

// Build the segment of a vector index over `column` of `snapshot` (name, column left to the
// caller).
Result<format::IndexSegmentMeta> BuildVectorSegment(table::TableStore* store,
                                                    const table::Snapshot* snapshot,
                                                    std::string_view column,
                                                    const IndexConfig& config) {
  TESSERA_ASSIGN_OR_RETURN(int column_index, VectorColumn(snapshot->schema(), column));
  index::IndexBuildOptions options;
  TESSERA_ASSIGN_OR_RETURN(options.type, index::ParseIndexType(config.type));
  options.metric = query::ToMetric(config.metric);
  if (config.num_partitions < 0 || config.m < 0 || config.ef_construction < 0 ||
      config.sample_rate < 0 || config.num_sub_vectors < 0) {
    return Status::InvalidArgument("index parameters must not be negative");
  }
  if (config.num_sub_vectors > 0 && options.type != index::IndexType::kIvfPq) {
    return Status::InvalidArgument("num_sub_vectors applies to IVF_PQ only, not ", config.type);
  }
  options.num_sub_vectors = config.num_sub_vectors;
  options.num_partitions = config.num_partitions;
  if (config.m > 0) options.m = config.m;
  if (config.ef_construction > 0) options.ef_construction = config.ef_construction;
  if (config.sample_rate > 0) options.sample_rate = config.sample_rate;
  options.progress = config.progress;
  options.num_threads = config.num_threads;
  std::vector<float> vectors;
  std::vector<uint64_t> row_ids;
  TESSERA_RETURN_IF_ERROR(
      query::GatherVectors(store, *snapshot, column_index, nullptr, &vectors, &row_ids));
  if (row_ids.empty())
    return Status::InvalidArgument("create index: the table has no rows to index");
  const int32_t dim = snapshot->schema().field(column_index).type.dim;
  TESSERA_ASSIGN_OR_RETURN(auto built, index::BuildIndex(options, vectors, dim, row_ids));
  TESSERA_ASSIGN_OR_RETURN(format::IndexSegmentMeta segment, WriteSegment(store, *built));
  segment.index_type = std::string(index::IndexTypeToString(options.type));
  segment.covered = AllRanges(*snapshot);
  (void)column;
  // The values actually used (derived defaults resolved), and the request a retrain repeats.
  nlohmann::json params{{"metric", std::string(index::MetricToString(options.metric))},
                        {"num_partitions", built->num_partitions()},
                        {"num_partitions_requested", options.num_partitions},
                        {"m", options.m},
                        {"ef_construction", options.ef_construction},
                        {"sample_rate", options.sample_rate}};
  if (const auto* pq = dynamic_cast<const index::IvfPqIndex*>(built.get())) {
    params["num_sub_vectors"] = pq->quantizer().num_sub_vectors();
    params["num_sub_vectors_requested"] = options.num_sub_vectors;
  }
  segment.params_json = params.dump();
  return segment;
}

// Build the segment of a scalar key index (BTREE) over `column` of `snapshot`.
Result<format::IndexSegmentMeta> BuildKeySegment(table::TableStore* store,
                                                 const table::Snapshot* snapshot,
                                                 std::string_view column,
                                                 const IndexConfig& config) {
  const Schema& schema = snapshot->schema();
  const int column_index = schema.FieldIndex(column);
  if (column_index < 0) return Status::InvalidArgument("unknown column '", column, "'");
  switch (schema.field(column_index).type.id) {
    case TypeId::kInt32:
    case TypeId::kInt64:
    case TypeId::kTimestamp:
    case TypeId::kUtf8:
    case TypeId::kBool:
      break;
    default:
      return Status::InvalidArgument(
          "column '", column, "' is ", schema.field(column_index).type.ToString(),
          ": a BTREE index needs an int32, int64, timestamp, utf8 or bool column");
  }
  if (config.num_sub_vectors != 0 || config.num_partitions != 0) {
    return Status::InvalidArgument("a BTREE index takes no vector-index parameters");
  }
  if (config.progress) config.progress(0.0);
  std::vector<format::RowIdRange> covered;
  TESSERA_ASSIGN_OR_RETURN(table::KeyIndex keys,
                           table::BuildKeyIndex(store, *snapshot, column_index, nullptr, &covered));
  TESSERA_ASSIGN_OR_RETURN(format::IndexSegmentMeta segment, table::WriteKeyIndex(store, keys));
  segment.index_type = std::string(table::kKeyIndexType);
  segment.covered = AllRanges(*snapshot);
  segment.params_json = "{}";
  if (config.progress) config.progress(1.0);
  return segment;
}

// Return true if `type` names the scalar key index ("BTREE", any case).
bool IsKeyIndexName(std::string_view type) {
  std::string upper(type);
  for (char& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return upper == table::kKeyIndexType;
}

}  // namespace

Status Table::CreateIndex(std::string_view column, const IndexConfig& config) {
  if (read_only())
    return Status::InvalidArgument("table is checked out read-only at an old version");
  const int64_t started_us = base::NowMicros();
  TESSERA_ASSIGN_OR_RETURN(auto snapshot, CurrentSnapshot());
  const std::string name = config.name.empty() ? std::string(column) + "_idx" : config.name;
  if (!config.replace && !SegmentsOf(snapshot->manifest(), name, "").empty()) {
    return Status::AlreadyExists("index '", name, "' already exists");
  }
  TESSERA_ASSIGN_OR_RETURN(
      format::IndexSegmentMeta segment,
      IsKeyIndexName(config.type)
          ? BuildKeySegment(internal_store(), snapshot.get(), column, config)
          : BuildVectorSegment(internal_store(), snapshot.get(), column, config));
  segment.index_name = name;
  segment.column = std::string(column);
  const int column_index = snapshot->schema().FieldIndex(column);
  format::TransactionMeta txn;
  txn.operation = "create_index";
  txn.duration_us = base::NowMicros() - started_us;
  txn.detail = nlohmann::json{{"index", name}, {"rows", segment.num_rows}}.dump();
  auto build = [&](const table::Snapshot* latest,
                   std::span<const format::TransactionMeta> winners) -> Result<format::Manifest> {
    for (const format::TransactionMeta& winner : winners) {
      if (winner.operation == "restore" || winner.operation == "overwrite") {
        return Status::Conflict("create index: the table was ", winner.operation,
                                "d concurrently; retry");
      }
    }
    format::Manifest next = latest->manifest();
    next.transaction = {};
    if (latest->schema().FieldIndex(column) != column_index) {
      return Status::Conflict("create index: the schema changed concurrently");
    }
    std::erase_if(next.index_segments, [&](const auto& s) { return s.index_name == name; });
    next.index_segments.push_back(segment);
    return next;
  };
  TESSERA_ASSIGN_OR_RETURN(auto committed, internal_store()->Commit(snapshot, txn, build));
  (void)committed;
  return Status::OK();
}

Result<std::vector<IndexInfo>> Table::ListIndices() {
  TESSERA_ASSIGN_OR_RETURN(auto snapshot, CurrentSnapshot());
  std::vector<std::string> names;
  for (const auto& segment : snapshot->manifest().index_segments) {
    if (std::find(names.begin(), names.end(), segment.index_name) == names.end()) {
      names.push_back(segment.index_name);
    }
  }
  std::vector<IndexInfo> infos;
  for (const std::string& name : names) {
    infos.push_back(
        Describe(internal_store(), *snapshot, SegmentsOf(snapshot->manifest(), name, "")));
  }
  return infos;
}

Result<IndexInfo> Table::IndexStats(std::string_view name) {
  TESSERA_ASSIGN_OR_RETURN(auto snapshot, CurrentSnapshot());
  auto segments = SegmentsOf(snapshot->manifest(), std::string(name), "");
  if (segments.empty()) return Status::NotFound("index '", name, "' does not exist");
  return Describe(internal_store(), *snapshot, segments);
}

Status Table::DropIndex(std::string_view name) {
  if (read_only())
    return Status::InvalidArgument("table is checked out read-only at an old version");
  TESSERA_ASSIGN_OR_RETURN(auto snapshot, CurrentSnapshot());
  if (SegmentsOf(snapshot->manifest(), std::string(name), "").empty()) {
    return Status::NotFound("index '", name, "' does not exist");
  }
  format::TransactionMeta txn;
  txn.operation = "drop_index";
  txn.detail = nlohmann::json{{"index", std::string(name)}}.dump();
  auto build = [&](const table::Snapshot* latest,
                   std::span<const format::TransactionMeta>) -> Result<format::Manifest> {
    format::Manifest next = latest->manifest();
    next.transaction = {};
    std::erase_if(next.index_segments, [&](const auto& s) { return s.index_name == name; });
    return next;
  };
  return internal_store()->Commit(snapshot, txn, build).status();
}

Result<OptimizeIndicesResult> Table::OptimizeIndices(const OptimizeIndicesOptions& options) {
  if (read_only())
    return Status::InvalidArgument("table is checked out read-only at an old version");
  const int64_t started_us = base::NowMicros();
  OptimizeIndicesResult result;
  // Retrain from scratch an index whose indexed rows are mostly gone: its centroids describe
  // data that no longer exists and its graphs route through deleted nodes.
  {
    TESSERA_ASSIGN_OR_RETURN(auto before, CurrentSnapshot());
    std::vector<std::string> retrain;
    for (const auto& segment : before->manifest().index_segments) {
      if (std::find(retrain.begin(), retrain.end(), segment.index_name) != retrain.end()) continue;
      const auto segments = SegmentsOf(before->manifest(), segment.index_name, "");
      if (segments.front() != &segment) continue;  // once per index
      if (DeletedFraction(*before, segments) > kRetrainDeletedFraction) {
        retrain.push_back(segment.index_name);
        continue;
      }
      if (table::IsScalarIndexType(segment.index_type)) continue;  // no partitions
      // Unbalanced partitions: the data drifted away from the trained centroids (tail segments
      // join the existing partitions), so a probe reads far more rows in some partitions.
      std::vector<int64_t> sizes;
      bool same_model = true;
      for (const auto* part : segments) {
        auto loaded = query::LoadSegment(internal_store(), *part);
        if (!loaded.ok()) return loaded.status().WithContext("optimize_indices");
        const std::vector<int64_t> part_sizes = (*loaded)->partition_sizes();
        if (sizes.empty()) sizes.assign(part_sizes.size(), 0);
        if (part_sizes.size() != sizes.size()) same_model = false;
        for (size_t p = 0; same_model && p < part_sizes.size(); ++p) sizes[p] += part_sizes[p];
      }
      if (same_model && Unbalanced(sizes)) retrain.push_back(segment.index_name);
    }
    for (const std::string& name : retrain) {
      const auto segments = SegmentsOf(before->manifest(), name, "");
      IndexConfig config;
      config.name = name;
      config.type = segments.front()->index_type;
      const auto params = nlohmann::json::parse(segments.front()->params_json, nullptr, false);
      if (!params.is_discarded() && params.is_object()) {
        if (params.contains("metric")) {
          TESSERA_ASSIGN_OR_RETURN(config.metric,
                                   ParseDistanceType(params["metric"].get<std::string>()));
        }
        config.num_partitions = params.value("num_partitions_requested", 0);
        config.m = params.value("m", 0);
        config.ef_construction = params.value("ef_construction", 0);
        config.sample_rate = params.value("sample_rate", 0);
        config.num_sub_vectors = params.value("num_sub_vectors_requested", 0);
      }
      config.num_threads = options.num_threads;
      Status rebuilt = CreateIndex(segments.front()->column, config);
      if (!rebuilt.ok()) return rebuilt.WithContext("optimize_indices: retraining '", name, "'");
      ++result.indices_retrained;
    }
  }
  // Two passes, two commits: first the tail of every index becomes a segment (cheap when it is
  // graph-less), then segments are merged. A long merge never holds back the tail's commit.
  auto pass = [&](bool merge_pass) -> Status {
    TESSERA_ASSIGN_OR_RETURN(auto snapshot, CurrentSnapshot());
    std::vector<std::string> names;
    for (const auto& segment : snapshot->manifest().index_segments) {
      if (std::find(names.begin(), names.end(), segment.index_name) == names.end()) {
        names.push_back(segment.index_name);
      }
    }
    std::vector<format::IndexSegmentMeta> added;
    std::set<std::string> merged_paths;  // segments replaced by the merged one
    int64_t segments_merged = 0, rows_indexed = 0;
    for (const std::string& name : names) {
      auto segments = SegmentsOf(snapshot->manifest(), name, "");
      const format::IndexSegmentMeta& first = *segments.front();
      const int column_index = snapshot->schema().FieldIndex(first.column);
      if (column_index < 0) continue;
      // The merge pass folds some segments into one new segment with the tail (same centroids
      // and quantizer). Too many segments (each one is a graph search per query): size-tiered as
      // in an LSM tree: segments fall into tiers by size (powers of 4 rows), and the lowest tier
      // holding two or more is merged whole (or, if every tier holds one, the two smallest
      // segments). A run then re-indexes segments of similar size, never the whole index, and a
      // row is re-indexed O(log n) times. (Folding every segment but the largest made 70-90 s
      // optimize runs at 500k rows in the streaming benchmark, during which the tail grew to 200k
      // rows.) Otherwise graph-less segments holding kGraphMinRows rows together are merged into
      // one with graphs.
      std::vector<const format::IndexSegmentMeta*> kept = segments;
      std::vector<const format::IndexSegmentMeta*> merged;
      if (merge_pass && static_cast<int64_t>(segments.size()) + 1 > kMaxSegmentsPerIndex) {
        std::map<int, std::vector<const format::IndexSegmentMeta*>> tiers;
        for (const auto* segment : segments) {
          const int tier = static_cast<int>(
              std::log(static_cast<double>(std::max<int64_t>(segment->num_rows, 1))) /
              std::log(4.0));
          tiers[tier].push_back(segment);
        }
        for (const auto& [tier, members] : tiers) {
          if (members.size() >= 2) {
            merged = members;
            break;
          }
        }
        if (merged.empty()) {
          std::vector<const format::IndexSegmentMeta*> by_size = segments;
          std::stable_sort(by_size.begin(), by_size.end(),
                           [](const auto* a, const auto* b) { return a->num_rows < b->num_rows; });
          merged = {by_size[0], by_size[1]};
        }
      } else if (merge_pass) {
        int64_t graphless_rows = 0;
        for (const auto* segment : segments) {
          if (!IsGraphless(*segment)) continue;
          merged.push_back(segment);
          graphless_rows += segment->num_rows;
        }
        if (graphless_rows < kGraphMinRows) merged.clear();
      }
      if (merge_pass && merged.empty()) continue;  // the tail waits for the next run
      if (!merged.empty()) {
        kept.clear();
        for (const auto* segment : segments) {
          if (std::find(merged.begin(), merged.end(), segment) == merged.end()) {
            kept.push_back(segment);
          }
        }
      }
      const std::vector<format::RowIdRange> covered = CoveredRanges(kept);
      if (table::IsScalarIndexType(first.index_type)) {  // a key index: its tail as a segment
        std::vector<format::RowIdRange> tail;
        TESSERA_ASSIGN_OR_RETURN(
            table::KeyIndex keys,
            table::BuildKeyIndex(internal_store(), *snapshot, column_index, &covered, &tail));
        if (keys.num_rows() == 0) continue;
        for (const auto* segment : merged) merged_paths.insert(segment->path);
        segments_merged += static_cast<int64_t>(merged.size());
        TESSERA_ASSIGN_OR_RETURN(format::IndexSegmentMeta segment,
                                 table::WriteKeyIndex(internal_store(), keys));
        segment.index_name = name;
        segment.column = first.column;
        segment.index_type = first.index_type;
        segment.params_json = first.params_json;
        segment.covered = std::move(tail);
        rows_indexed += keys.num_rows();
        added.push_back(std::move(segment));
        continue;
      }
      std::vector<float> vectors;
      std::vector<uint64_t> row_ids;
      TESSERA_RETURN_IF_ERROR(query::GatherVectors(internal_store(), *snapshot, column_index,
                                                   &covered, &vectors, &row_ids));
      if (row_ids.empty()) continue;
      for (const auto* segment : merged) merged_paths.insert(segment->path);
      segments_merged += static_cast<int64_t>(merged.size());
      const int32_t dim = snapshot->schema().field(column_index).type.dim;
      // The tail joins the existing partitions (same centroids and quantizer): no retraining.
      TESSERA_ASSIGN_OR_RETURN(auto model, query::LoadSegment(internal_store(), first));
      std::unique_ptr<index::VectorIndex> built;
      // The tail pass never builds graphs: it commits within seconds however large the tail;
      // the merge pass right after it builds them once kGraphMinRows rows are graph-less.
      const bool graphless = OfIvfHnswSq(first) &&
                             (!merge_pass || static_cast<int64_t>(row_ids.size()) < kGraphMinRows);
      if (const auto* ivf = dynamic_cast<const index::IvfHnswSqIndex*>(model.get())) {
        const index::IndexType type = !OfIvfHnswSq(first) ? ivf->type()
                                      : graphless         ? index::IndexType::kIvfSq
                                                          : index::IndexType::kIvfHnswSq;
        TESSERA_ASSIGN_OR_RETURN(
            built, ivf->BuildWithSameModelAs(type, ivf->hnsw_params(), vectors, row_ids, nullptr,
                                             options.num_threads));
      } else if (const auto* pq = dynamic_cast<const index::IvfPqIndex*>(model.get())) {
        TESSERA_ASSIGN_OR_RETURN(
            built, pq->BuildWithSameModel(vectors, row_ids, nullptr, options.num_threads));
      } else {
        index::IndexBuildOptions build_options;
        build_options.type = model->type();
        build_options.metric = model->metric();
        build_options.num_threads = options.num_threads;
        TESSERA_ASSIGN_OR_RETURN(built, index::BuildIndex(build_options, vectors, dim, row_ids));
      }
      TESSERA_ASSIGN_OR_RETURN(format::IndexSegmentMeta segment,
                               WriteSegment(internal_store(), *built));
      segment.index_name = name;
      segment.column = first.column;
      segment.index_type = first.index_type;
      segment.params_json = SegmentParams(first.params_json, graphless);
      // Covers exactly the rows it indexed: the tail and the merged segments' rows (rows deleted
      // meanwhile are skipped at query time).
      std::vector<format::RowIdRange> tail;
      for (const auto& fragment : snapshot->manifest().fragments) {
        for (const auto& range : fragment.row_ids) query::SubtractCovered(range, covered, &tail);
      }
      segment.covered = std::move(tail);
      rows_indexed += static_cast<int64_t>(row_ids.size());
      added.push_back(std::move(segment));
    }
    if (added.empty()) return Status::OK();
    format::TransactionMeta txn;
    txn.operation = "optimize_indices";
    txn.duration_us = base::NowMicros() - started_us;
    txn.detail = nlohmann::json{{"segments_added", added.size()},
                                {"segments_merged", segments_merged},
                                {"rows", rows_indexed}}
                     .dump();
    auto build = [&](const table::Snapshot* latest,
                     std::span<const format::TransactionMeta> winners) -> Result<format::Manifest> {
      for (const format::TransactionMeta& winner : winners) {
        // Another optimizer indexed (part of) the same tail: two segments must never cover a row.
        if (winner.operation == "optimize_indices" || winner.operation == "create_index" ||
            winner.operation == "restore" || winner.operation == "overwrite") {
          return Status::Conflict("optimize_indices: indices were updated concurrently; retry");
        }
      }
      format::Manifest next = latest->manifest();
      next.transaction = {};
      std::erase_if(next.index_segments,
                    [&](const format::IndexSegmentMeta& s) { return merged_paths.count(s.path); });
      for (const auto& segment : added) {
        // Drop the new segment if its index was dropped or replaced concurrently.
        if (SegmentsOf(next, segment.index_name, "").empty()) continue;
        next.index_segments.push_back(segment);
      }
      return next;
    };
    TESSERA_ASSIGN_OR_RETURN(auto committed, internal_store()->Commit(snapshot, txn, build));
    result.version = committed.version;
    result.segments_added += static_cast<int64_t>(added.size());
    result.segments_merged += segments_merged;
    result.rows_indexed += rows_indexed;
    return Status::OK();
  };
  TESSERA_RETURN_IF_ERROR(pass(/*merge_pass=*/false));
  TESSERA_RETURN_IF_ERROR(pass(/*merge_pass=*/true));
  if (result.version == 0 && result.indices_retrained > 0) {
    TESSERA_ASSIGN_OR_RETURN(result.version, version());
  }
  return result;
}

}  // namespace tessera
