// Vector query execution (DESIGN.md "Query plan"): filter -> ANN over each index segment ->
// flat scan of the unindexed tail (SIMD, straight over the mmapped fragments, both cores) ->
// drop deleted rows -> merge top-k -> project the requested columns.
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <mutex>
#include <nlohmann/json.hpp>
#include <thread>

#include "expr/filter.h"
#include "index/simd/distance.h"
#include "query/query_internal.h"
#include "tessera/process_metrics.h"
#include "tessera/table.h"

namespace tessera {
namespace {

using Clock = std::chrono::steady_clock;

double MsSince(Clock::time_point start) {
  return std::chrono::duration<double, std::milli>(Clock::now() - start).count();
}

// Rows smaller than this are flat-scanned on one thread; above it, on every core.
constexpr int64_t kParallelScanRows = 16384;

// Full-precision vectors of a snapshot's rows, by row id, straight from the mmapped fragments.
// Thread-safe.
class VectorSource {
 public:
  VectorSource(table::TableStore* store, const table::Snapshot& snapshot, int column_index)
      : store_(store),
        snapshot_(snapshot),
        column_index_(column_index),
        batches_(snapshot.manifest().fragments.size()) {}

  Result<const RecordBatch*> Fragment(int fragment_index) {
    std::lock_guard<std::mutex> lock(mu_);
    auto& slot = batches_[fragment_index];
    if (!slot) {
      TESSERA_ASSIGN_OR_RETURN(
          RecordBatch batch, store_->ReadFragment(snapshot_.manifest().fragments[fragment_index]));
      slot = std::make_unique<RecordBatch>(std::move(batch));
    }
    return slot.get();
  }

  // Return the vector of `row_id`, or nullptr if it is gone (deleted, null or unreadable).
  const float* Lookup(uint64_t row_id) {
    if (snapshot_.IsDeleted(row_id)) return nullptr;
    auto loc = snapshot_.Locate(row_id);
    if (!loc.ok()) return nullptr;
    auto batch = Fragment(loc->fragment_index);
    if (!batch.ok()) return nullptr;
    const Array& column = (*batch)->column(column_index_);
    if (column.IsNull(loc->row_idx)) return nullptr;
    return column.Vector(loc->row_idx).data();
  }

 private:
  table::TableStore* store_;
  const table::Snapshot& snapshot_;
  const int column_index_;
  std::mutex mu_;
  std::vector<std::unique_ptr<RecordBatch>> batches_;  // GUARDED_BY(mu_); stable addresses
};

struct ScanCounters {
  std::atomic<int64_t> scanned{0};
  std::atomic<int64_t> filtered{0};
  std::atomic<int64_t> deleted{0};
};

// Flat-scan the rows of one fragment that no segment covers, pushing candidates into `top`.
Status ScanFragment(int fragment_index, const table::Snapshot& snapshot, VectorSource* source,
                    int column_index, const expr::Filter* filter,
                    const std::vector<format::RowIdRange>& covered, index::Metric metric,
                    const float* query, int32_t dim, index::TopK* top, ScanCounters* counters) {
  const format::FragmentMeta& fragment = snapshot.manifest().fragments[fragment_index];
  std::vector<std::pair<format::RowIdRange, int64_t>> pieces;  // row ids, first row index
  int64_t row_idx = 0;
  std::vector<format::RowIdRange> wanted;
  for (const format::RowIdRange& range : fragment.row_ids) {
    wanted.clear();
    query::SubtractCovered(range, covered, &wanted);
    for (const auto& piece : wanted) {
      pieces.push_back({piece, row_idx + static_cast<int64_t>(piece.start - range.start)});
    }
    row_idx += static_cast<int64_t>(range.end - range.start);
  }
  if (pieces.empty()) return Status::OK();
  if (filter != nullptr && !filter->MayMatch(fragment.stats, fragment.num_rows)) {
    int64_t skipped = 0;
    for (const auto& [range, first] : pieces)
      skipped += static_cast<int64_t>(range.end - range.start);
    counters->filtered += skipped;
    return Status::OK();
  }
  TESSERA_ASSIGN_OR_RETURN(const RecordBatch* batch, source->Fragment(fragment_index));
  std::vector<uint8_t> pass;
  if (filter != nullptr) {
    TESSERA_ASSIGN_OR_RETURN(pass, filter->Evaluate(*batch));
  }
  const Array& column = batch->column(column_index);
  const auto& kernels = index::simd::BestKernels();
  const bool any_deleted = !snapshot.deleted().isEmpty();
  std::vector<float> distances;
  int64_t scanned = 0, filtered = 0, deleted = 0;
  for (const auto& [range, first_row] : pieces) {
    const int64_t n = static_cast<int64_t>(range.end - range.start);
    const float* base = column.Vector(first_row).data();
    distances.resize(static_cast<size_t>(n));
    switch (metric) {
      case index::Metric::kL2:
        kernels.l2_squared_batch(query, base, n, dim, distances.data());
        break;
      case index::Metric::kDot:
        kernels.dot_batch(query, base, n, dim, distances.data());
        for (float& d : distances) d = -d;
        break;
      case index::Metric::kCosine:
        for (int64_t i = 0; i < n; ++i) {
          distances[i] = index::ExactDistance(metric, query, base + i * dim, dim);
        }
        break;
    }
    scanned += n;
    for (int64_t i = 0; i < n; ++i) {
      const int64_t row = first_row + i;
      if (!pass.empty() && !pass[row]) {
        ++filtered;
        continue;
      }
      const uint64_t id = range.start + static_cast<uint64_t>(i);
      if (any_deleted && snapshot.IsDeleted(id)) {
        ++deleted;
        continue;
      }
      if (column.IsNull(row)) continue;
      top->Push(distances[i], id);
    }
  }
  counters->scanned += scanned;
  counters->filtered += filtered;
  counters->deleted += deleted;
  return Status::OK();
}

}  // namespace

Result<DistanceType> ParseDistanceType(std::string_view name) {
  TESSERA_ASSIGN_OR_RETURN(index::Metric metric, index::ParseMetric(name));
  switch (metric) {
    case index::Metric::kL2:
      return DistanceType::kL2;
    case index::Metric::kCosine:
      return DistanceType::kCosine;
    case index::Metric::kDot:
      return DistanceType::kDot;
  }
  return DistanceType::kL2;
}

std::string_view DistanceTypeName(DistanceType type) {
  return index::MetricToString(query::ToMetric(type));
}

std::string QueryStats::ToJson() const {
  return nlohmann::json{{"segments_searched", segments_searched},
                        {"rows_via_index", rows_via_index},
                        {"rows_flat_scanned", rows_flat_scanned},
                        {"rows_filtered_out", rows_filtered_out},
                        {"deleted_rows_dropped", deleted_rows_dropped},
                        {"filter_ms", filter_ms},
                        {"index_ms", index_ms},
                        {"flat_ms", flat_ms},
                        {"merge_ms", merge_ms},
                        {"project_ms", project_ms},
                        {"total_ms", total_ms}}
      .dump();
}

VectorQuery Table::Search(std::span<const float> vector) {
  return VectorQuery(this, std::vector<float>(vector.begin(), vector.end()));
}

class QueryExecutor {
 public:
  static Result<RecordBatch> Run(const VectorQuery& q, std::span<const float> vector,
                                 QueryStats* stats, bool parallel);
};

Result<RecordBatch> QueryExecutor::Run(const VectorQuery& q, std::span<const float> vector,
                                       QueryStats* stats_out, bool parallel) {
  const auto total_start = Clock::now();
  QueryStats stats;
  TESSERA_ASSIGN_OR_RETURN(auto snapshot, q.table_->CurrentSnapshot());
  table::TableStore* store = q.table_->internal_store();
  const Schema& schema = snapshot->schema();
  int column_index = -1;
  if (!q.column_.empty()) {
    column_index = schema.FieldIndex(q.column_);
    if (column_index < 0) return Status::InvalidArgument("unknown column '", q.column_, "'");
    if (schema.field(column_index).type.id != TypeId::kVector) {
      return Status::InvalidArgument("column '", q.column_, "' is not a vector column");
    }
  } else {
    column_index = schema.VectorFieldIndex();
    if (column_index == -1)
      return Status::InvalidArgument("search: the table has no vector column");
    if (column_index == -2) {
      return Status::InvalidArgument("search: the table has several vector columns; name one");
    }
  }
  const Field& field = schema.field(column_index);
  const int32_t dim = field.type.dim;
  if (static_cast<int64_t>(vector.size()) != dim) {
    return Status::InvalidArgument("query vector has dimension ", vector.size(), ", column '",
                                   field.name, "' has dimension ", dim);
  }
  for (float v : vector) {
    if (!std::isfinite(v)) return Status::InvalidArgument("query vector holds NaN or infinity");
  }
  if (q.k_ < 1) return Status::InvalidArgument("search: limit must be >= 1, got ", q.k_);
  if (q.nprobes_ < 0) return Status::InvalidArgument("search: nprobes must be >= 1");
  if (q.refine_factor_ < 0 || q.ef_ < 0) {
    return Status::InvalidArgument("search: ef and refine_factor must not be negative");
  }
  for (const std::string& column : q.columns_) {
    if (schema.FieldIndex(column) < 0)
      return Status::InvalidArgument("unknown column '", column, "'");
  }
  std::unique_ptr<expr::Filter> filter;
  if (!q.where_.empty()) {
    TESSERA_ASSIGN_OR_RETURN(expr::Filter parsed, expr::Filter::Parse(q.where_, schema));
    filter = std::make_unique<expr::Filter>(std::move(parsed));
  }
  const expr::Filter* prefilter = q.prefilter_ ? filter.get() : nullptr;

  // Which index serves the query: the first index on the column whose metric matches.
  std::vector<const format::IndexSegmentMeta*> segments =
      query::SegmentsOf(snapshot->manifest(), "", field.name);
  std::string index_metric;
  if (!segments.empty()) {
    auto params = nlohmann::json::parse(segments.front()->params_json, nullptr, false);
    if (!params.is_discarded() && params.contains("metric")) index_metric = params["metric"];
    const std::string name = segments.front()->index_name;
    std::erase_if(segments, [&](const auto* s) { return s->index_name != name; });
  }
  index::Metric metric = index::Metric::kL2;
  if (q.has_metric_) {
    metric = query::ToMetric(q.metric_);
  } else if (!index_metric.empty()) {
    TESSERA_ASSIGN_OR_RETURN(metric, index::ParseMetric(index_metric));
  }
  if (q.bypass_index_ || index_metric != index::MetricToString(metric)) segments.clear();
  const std::vector<format::RowIdRange> covered = query::CoveredRanges(segments);

  std::vector<float> query(vector.begin(), vector.end());
  if (metric == index::Metric::kCosine) index::NormalizeVector(query.data(), dim);
  // Postfilter: fetch more candidates so that filtering them afterwards usually leaves k.
  const int64_t k = q.k_;
  index::TopK top(static_cast<int32_t>(k));
  VectorSource source(store, *snapshot, column_index);

  // 1. Index segments.
  if (!segments.empty()) {
    const auto filter_start = Clock::now();
    std::unique_ptr<format::RowIdSet> allowed;
    if (prefilter != nullptr) {
      allowed = std::make_unique<format::RowIdSet>();
      for (size_t f = 0; f < snapshot->manifest().fragments.size(); ++f) {
        const auto& fragment = snapshot->manifest().fragments[f];
        if (!prefilter->MayMatch(fragment.stats, fragment.num_rows)) continue;
        TESSERA_ASSIGN_OR_RETURN(const RecordBatch* batch, source.Fragment(static_cast<int>(f)));
        TESSERA_ASSIGN_OR_RETURN(std::vector<uint8_t> pass, prefilter->Evaluate(*batch));
        const std::vector<uint64_t> ids = table::ExpandRowIds(fragment);
        for (size_t row = 0; row < ids.size(); ++row) {
          if (pass[row]) allowed->add(ids[row]);
        }
      }
    }
    stats.filter_ms += MsSince(filter_start);
    const auto index_start = Clock::now();
    const table::Snapshot& snap = *snapshot;
    std::atomic<int64_t> deleted_dropped{0};
    index::RowFilter row_filter = [&](uint64_t id) {
      // A segment may list rows that were deleted, or deleted and then dropped by compaction.
      if (snap.IsDeleted(id) || !snap.Stores(id)) {
        ++deleted_dropped;
        return false;
      }
      return allowed == nullptr || allowed->contains(id);
    };
    index::VectorLookup lookup = [&](uint64_t id) { return source.Lookup(id); };
    index::SearchOptions options;
    options.k = static_cast<int32_t>(k);
    options.nprobes = q.nprobes_;
    options.ef = q.ef_;
    options.refine_factor = q.refine_factor_;
    options.filter = &row_filter;
    options.vectors = &lookup;
    std::vector<index::Neighbor> found;
    for (const auto* segment : segments) {
      TESSERA_ASSIGN_OR_RETURN(auto idx, query::LoadSegment(store, *segment));
      found.clear();
      TESSERA_RETURN_IF_ERROR(idx->Search(query, options, &found));
      ++stats.segments_searched;
      stats.rows_via_index += static_cast<int64_t>(found.size());
      for (const auto& neighbor : found) top.Push(neighbor.distance, neighbor.row_id);
    }
    stats.deleted_rows_dropped += deleted_dropped;
    stats.index_ms += MsSince(index_start);
  }

  // 2. Flat scan of the tail (everything when no index serves the query).
  if (!q.fast_search_ || segments.empty()) {
    const auto flat_start = Clock::now();
    const int num_fragments = static_cast<int>(snapshot->manifest().fragments.size());
    int64_t tail_rows = 0;
    for (const auto& fragment : snapshot->manifest().fragments) tail_rows += fragment.num_rows;
    const int num_threads =
        parallel && tail_rows >= kParallelScanRows
            ? static_cast<int>(std::max(1u, std::min(8u, std::thread::hardware_concurrency())))
            : 1;
    ScanCounters counters;
    std::vector<index::TopK> tops;
    for (int t = 0; t < num_threads; ++t) tops.emplace_back(static_cast<int32_t>(k));
    std::vector<Status> errors(num_threads);
    std::atomic<int> next{0};
    auto worker = [&](int t) {
      for (int f = next++; f < num_fragments; f = next++) {
        Status st = ScanFragment(f, *snapshot, &source, column_index, prefilter, covered, metric,
                                 query.data(), dim, &tops[t], &counters);
        if (!st.ok()) {
          errors[t] = st;
          return;
        }
      }
    };
    if (num_threads == 1) {
      worker(0);
    } else {
      std::vector<std::thread> threads;
      for (int t = 0; t < num_threads; ++t) threads.emplace_back(worker, t);
      for (auto& thread : threads) thread.join();
    }
    for (const Status& st : errors) TESSERA_RETURN_IF_ERROR(st);
    for (auto& t : tops) top.Merge(std::move(t));
    stats.rows_flat_scanned += counters.scanned;
    stats.rows_filtered_out += counters.filtered;
    stats.deleted_rows_dropped += counters.deleted;
    stats.flat_ms += MsSince(flat_start);
  }

  // 3. Merge: best first, each row once (segments never overlap, but stay safe).
  const auto merge_start = Clock::now();
  std::vector<index::Neighbor> results = top.Take();
  {
    std::vector<uint64_t> seen;
    std::erase_if(results, [&](const index::Neighbor& n) {
      if (std::find(seen.begin(), seen.end(), n.row_id) != seen.end()) return true;
      seen.push_back(n.row_id);
      return false;
    });
  }
  stats.merge_ms += MsSince(merge_start);

  // 4. Project the requested columns (and apply a postfilter).
  const auto project_start = Clock::now();
  RecordBatchBuilder builder(schema);
  std::vector<const index::Neighbor*> kept;
  for (const index::Neighbor& neighbor : results) {
    TESSERA_ASSIGN_OR_RETURN(table::Snapshot::RowLocation loc, snapshot->Locate(neighbor.row_id));
    TESSERA_ASSIGN_OR_RETURN(const RecordBatch* batch, source.Fragment(loc.fragment_index));
    if (filter != nullptr && !q.prefilter_) {
      TESSERA_ASSIGN_OR_RETURN(std::vector<uint8_t> pass,
                               filter->Evaluate(batch->Slice(loc.row_idx, 1)));
      if (!pass[0]) {
        ++stats.rows_filtered_out;
        continue;
      }
    }
    for (int col = 0; col < batch->num_columns(); ++col) {
      builder.column(col).AppendFrom(batch->column(col), loc.row_idx);
    }
    kept.push_back(&neighbor);
  }
  TESSERA_ASSIGN_OR_RETURN(RecordBatch out, builder.Finish());
  if (!q.columns_.empty()) {
    TESSERA_ASSIGN_OR_RETURN(out, out.SelectColumns(q.columns_));
  }
  ArrayBuilder distances(DataType::Float32());
  ArrayBuilder row_ids(DataType::Int64());
  for (const index::Neighbor* neighbor : kept) {
    distances.AppendDouble(neighbor->distance).IgnoreError();
    row_ids.AppendInt(static_cast<int64_t>(neighbor->row_id)).IgnoreError();
  }
  TESSERA_ASSIGN_OR_RETURN(
      out, out.AddColumn({"_distance", DataType::Float32(), false}, distances.Finish()));
  if (q.with_row_id_) {
    TESSERA_ASSIGN_OR_RETURN(out,
                             out.AddColumn({"_rowid", DataType::Int64(), false}, row_ids.Finish()));
  }
  stats.project_ms += MsSince(project_start);
  stats.total_ms = MsSince(total_start);
  q.table_->mutable_query_latency()->Record(stats.total_ms);
  ProcessMetrics& process = ProcessMetrics::Get();
  process.query_latency.Record(stats.total_ms);
  ++process.queries;
  process.rows_flat_scanned += stats.rows_flat_scanned;
  if (stats_out != nullptr) *stats_out = stats;
  return out;
}

Result<RecordBatch> VectorQuery::Execute(QueryStats* stats) const {
  return QueryExecutor::Run(*this, vector_, stats, /*parallel=*/true);
}

Result<std::vector<RecordBatch>> VectorQuery::ExecuteBatch(std::span<const float> queries,
                                                           int64_t num_queries) const {
  if (num_queries < 0 ||
      (num_queries > 0 && queries.size() % static_cast<size_t>(num_queries) != 0)) {
    return Status::InvalidArgument("search batch: ", queries.size(), " floats is not ", num_queries,
                                   " vectors");
  }
  std::vector<RecordBatch> results(static_cast<size_t>(num_queries));
  if (num_queries == 0) return results;
  const size_t dim = queries.size() / static_cast<size_t>(num_queries);
  const int num_threads = static_cast<int>(
      std::min<int64_t>(num_queries, std::max(1u, std::thread::hardware_concurrency())));
  std::vector<Status> errors(num_threads);
  std::atomic<int64_t> next{0};
  auto worker = [&](int t) {
    for (int64_t i = next++; i < num_queries; i = next++) {
      auto result = QueryExecutor::Run(*this, queries.subspan(i * dim, dim), nullptr, false);
      if (!result.ok()) {
        errors[t] = result.status().WithContext("query ", i);
        return;
      }
      results[i] = std::move(result).value();
    }
  };
  std::vector<std::thread> threads;
  for (int t = 0; t < num_threads; ++t) threads.emplace_back(worker, t);
  for (auto& thread : threads) thread.join();
  for (const Status& st : errors) TESSERA_RETURN_IF_ERROR(st);
  return results;
}

}  // namespace tessera
