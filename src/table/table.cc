#include "tessera/table.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <nlohmann/json.hpp>
#include <optional>
#include <thread>
#include <unordered_map>

#include "base/uuid.h"
#include "expr/filter.h"
#include "expr/value_expr.h"
#include "table/key_index.h"
#include "table/snapshot.h"
#include "table/table_store.h"
#include "tessera/process_metrics.h"

namespace tessera {
namespace {

using table::Snapshot;
using table::TableStore;

Result<io::FileSystem*> FileSystemOf(std::string_view uri, const TableOptions& options) {
  return io::FileSystemFor(uri, options.file_system);
}

// Reorder `batch`'s columns (matched by name) to `schema`, filling absent nullable columns with
// nulls, and check every value a table must never hold.
Result<RecordBatch> ConformBatch(const RecordBatch& batch, const Schema& schema) {
  for (const Field& field : batch.schema().fields()) {
    if (schema.FieldIndex(field.name) < 0) {
      return Status::InvalidArgument("unknown column '", field.name,
                                     "' (table schema: ", schema.ToString(), ")");
    }
  }
  std::vector<Array> columns;
  columns.reserve(schema.fields().size());
  for (const Field& field : schema.fields()) {
    const int index = batch.schema().FieldIndex(field.name);
    if (index < 0) {
      if (!field.nullable) return Status::InvalidArgument("missing column '", field.name, "'");
      ArrayBuilder nulls(field.type);
      for (int64_t row = 0; row < batch.num_rows(); ++row) nulls.AppendNull();
      columns.push_back(nulls.Finish());
      continue;
    }
    const Array& array = batch.column(index);
    if (!(array.type() == field.type)) {
      if (array.type().id == TypeId::kVector && field.type.id == TypeId::kVector) {
        return Status::InvalidArgument("column '", field.name, "' has vector dimension ",
                                       array.type().dim, ", table expects ", field.type.dim);
      }
      return Status::InvalidArgument("column '", field.name, "' has type ", array.type().ToString(),
                                     ", table expects ", field.type.ToString());
    }
    if (!field.nullable && array.null_count() > 0) {
      return Status::InvalidArgument("column '", field.name, "' is not nullable but has ",
                                     array.null_count(), " nulls");
    }
    if (field.type.id == TypeId::kVector) {
      for (int64_t row = 0; row < array.length(); ++row) {
        if (array.IsNull(row)) continue;
        for (float v : array.Vector(row)) {
          if (!std::isfinite(v)) {
            return Status::InvalidArgument("column '", field.name, "' row ", row, " holds ",
                                           std::isnan(v) ? "NaN" : "an infinite value",
                                           " (vectors must be finite)");
          }
        }
      }
    }
    columns.push_back(array);
  }
  return RecordBatch::Make(schema, std::move(columns));
}

// Rows of a fragment that pass deletions and the filter.
Result<std::vector<int64_t>> SelectRows(const RecordBatch& batch, const std::vector<uint64_t>& ids,
                                        const Snapshot& snapshot, const expr::Filter* filter) {
  std::vector<uint8_t> pass;
  if (filter != nullptr) {
    TESSERA_ASSIGN_OR_RETURN(pass, filter->Evaluate(batch));
  }
  std::vector<int64_t> rows;
  rows.reserve(static_cast<size_t>(batch.num_rows()));
  const bool any_deleted = !snapshot.deleted().isEmpty();
  for (int64_t row = 0; row < batch.num_rows(); ++row) {
    if (filter != nullptr && !pass[row]) continue;
    if (any_deleted && snapshot.IsDeleted(ids[row])) continue;
    rows.push_back(row);
  }
  return rows;
}

Result<std::unique_ptr<expr::Filter>> ParseWhere(std::string_view where, const Schema& schema) {
  if (where.empty()) return std::unique_ptr<expr::Filter>();
  TESSERA_ASSIGN_OR_RETURN(expr::Filter filter, expr::Filter::Parse(where, schema));
  return std::make_unique<expr::Filter>(std::move(filter));
}

// Visit the live rows of `snapshot` matching `filter`, fragment by fragment: `visit` gets the
// fragment's batch, its row ids and the selected row indices.
Status ForEachMatch(TableStore* store, const Snapshot& snapshot, const expr::Filter* filter,
                    const std::function<Status(const RecordBatch&, const std::vector<uint64_t>&,
                                               const std::vector<int64_t>&)>& visit) {
  for (const format::FragmentMeta& fragment : snapshot.manifest().fragments) {
    if (filter != nullptr && !filter->MayMatch(fragment.stats, fragment.num_rows)) continue;
    TESSERA_ASSIGN_OR_RETURN(RecordBatch batch, store->ReadFragment(fragment));
    const std::vector<uint64_t> ids = table::ExpandRowIds(fragment);
    TESSERA_ASSIGN_OR_RETURN(std::vector<int64_t> rows, SelectRows(batch, ids, snapshot, filter));
    if (rows.empty()) continue;
    TESSERA_RETURN_IF_ERROR(visit(batch, ids, rows));
  }
  return Status::OK();
}

format::Manifest NextManifestFrom(const Snapshot& latest) {
  format::Manifest next = latest.manifest();
  next.transaction = {};
  return next;
}

}  // namespace

Table::Table(std::string uri, std::unique_ptr<TableStore> store,
             std::shared_ptr<const Snapshot> snapshot, const TableOptions& options)
    : uri_(std::move(uri)),
      store_(std::move(store)),
      backpressure_(options.backpressure),
      read_consistency_interval_ms_(options.read_consistency_interval_ms),
      last_refresh_us_(::tessera::base::NowMicros()),
      snapshot_(std::move(snapshot)) {}

Table::~Table() = default;

Result<std::unique_ptr<Table>> Table::Create(std::string_view uri, const Schema& schema,
                                             CreateMode mode, const TableOptions& options) {
  return CreateImpl(uri, schema, nullptr, mode, options);
}

Result<std::unique_ptr<Table>> Table::Create(std::string_view uri, const RecordBatch& first,
                                             CreateMode mode, const TableOptions& options) {
  return CreateImpl(uri, first.schema(), &first, mode, options);
}

Result<std::unique_ptr<Table>> Table::CreateImpl(std::string_view uri, const Schema& schema,
                                                 const RecordBatch* first, CreateMode mode,
                                                 const TableOptions& options) {
  const int64_t started_us = ::tessera::base::NowMicros();
  if (schema.num_fields() == 0) return Status::InvalidArgument("create: schema has no columns");
  TESSERA_ASSIGN_OR_RETURN(Schema checked, Schema::Make(schema.fields()));  // reserved names
  RecordBatch rows;
  if (first != nullptr) {
    TESSERA_ASSIGN_OR_RETURN(rows, ConformBatch(*first, checked));
  }
  TESSERA_ASSIGN_OR_RETURN(io::FileSystem * fs, FileSystemOf(uri, options));
  auto store = std::make_unique<TableStore>(fs, std::string(uri), options.max_commit_attempts);
  TESSERA_RETURN_IF_ERROR(fs->CreateDirs(std::string(uri)));
  TESSERA_ASSIGN_OR_RETURN(uint64_t latest_version, store->LatestVersion());
  std::shared_ptr<const Snapshot> latest;
  if (latest_version > 0) {
    if (mode == CreateMode::kCreate) {
      return Status::AlreadyExists("table '", uri, "' already exists");
    }
    TESSERA_ASSIGN_OR_RETURN(latest, store->LoadSnapshot(latest_version));
    if (mode == CreateMode::kExistOk) {
      if (!(latest->schema() == schema)) {
        return Status::InvalidArgument("table '", uri, "' exists with schema ",
                                       latest->schema().ToString(), ", not ", schema.ToString());
      }
      return std::unique_ptr<Table>(new Table(std::string(uri), std::move(store), latest, options));
    }
  }
  std::optional<format::FragmentMeta> fragment;
  if (rows.num_rows() > 0) {
    TESSERA_ASSIGN_OR_RETURN(fragment, store->WriteFragment(rows));
  }
  format::TransactionMeta txn;
  txn.operation = latest ? "overwrite" : "create";
  txn.rows_added = rows.num_rows();
  txn.duration_us = ::tessera::base::NowMicros() - started_us;
  auto build = [&](const Snapshot* base,
                   std::span<const format::TransactionMeta>) -> Result<format::Manifest> {
    if (base != nullptr && mode == CreateMode::kCreate) {
      return Status::AlreadyExists("table '", uri, "' already exists");
    }
    format::Manifest next;
    next.schema = schema;
    if (base != nullptr) {
      // Overwrite: a new, empty version; row ids keep growing so they are never reused.
      next.next_row_id = base->manifest().next_row_id;
      next.next_fragment_id = base->manifest().next_fragment_id;
      next.stream_checkpoints = base->manifest().stream_checkpoints;
    }
    if (fragment) {
      format::FragmentMeta meta = *fragment;
      meta.id = next.next_fragment_id++;
      meta.row_ids = {{next.next_row_id, next.next_row_id + static_cast<uint64_t>(meta.num_rows)}};
      next.next_row_id += static_cast<uint64_t>(meta.num_rows);
      next.fragments.push_back(std::move(meta));
    }
    return next;
  };
  auto committed = store->Commit(latest, txn, build);
  if (!committed.ok()) {
    if (committed.status().IsAlreadyExists() && mode == CreateMode::kExistOk) {
      return Open(uri, options);
    }
    return committed.status();
  }
  std::shared_ptr<const Snapshot> snapshot = committed->snapshot;
  if (!snapshot) {
    TESSERA_ASSIGN_OR_RETURN(snapshot, store->LoadSnapshot(committed->version));
  }
  return std::unique_ptr<Table>(
      new Table(std::string(uri), std::move(store), std::move(snapshot), options));
}

Result<std::unique_ptr<Table>> Table::Open(std::string_view uri, const TableOptions& options) {
  TESSERA_ASSIGN_OR_RETURN(io::FileSystem * fs, FileSystemOf(uri, options));
  auto store = std::make_unique<TableStore>(fs, std::string(uri), options.max_commit_attempts);
  TESSERA_ASSIGN_OR_RETURN(uint64_t latest, store->LatestVersion());
  if (latest == 0) return Status::NotFound("no table at '", uri, "'");
  TESSERA_ASSIGN_OR_RETURN(auto snapshot, store->LoadSnapshot(latest));
  return std::unique_ptr<Table>(
      new Table(std::string(uri), std::move(store), std::move(snapshot), options));
}

Result<std::shared_ptr<const Snapshot>> Table::CurrentSnapshot() {
  std::shared_ptr<const Snapshot> current;
  const int64_t now_us = ::tessera::base::NowMicros();
  {
    std::lock_guard<std::mutex> lock(mu_);
    current = snapshot_;
    if (read_only_) return current;
    // Bounded staleness: skip the check for newer versions within the interval.
    if (read_consistency_interval_ms_ < 0 ||
        (read_consistency_interval_ms_ > 0 &&
         now_us - last_refresh_us_ < read_consistency_interval_ms_ * 1000)) {
      return current;
    }
  }
  TESSERA_ASSIGN_OR_RETURN(auto latest, store_->Refresh(current));
  std::lock_guard<std::mutex> lock(mu_);
  last_refresh_us_ = now_us;
  if (!read_only_ && snapshot_->version() < latest->version()) snapshot_ = latest;
  return latest;
}

Schema Table::schema() const {
  std::lock_guard<std::mutex> lock(mu_);
  return snapshot_->schema();
}

Result<uint64_t> Table::version() {
  TESSERA_ASSIGN_OR_RETURN(auto snapshot, CurrentSnapshot());
  return snapshot->version();
}

bool Table::read_only() const {
  std::lock_guard<std::mutex> lock(mu_);
  return read_only_;
}

Result<int64_t> Table::StreamCheckpoint(std::string_view stream_id) {
  TESSERA_ASSIGN_OR_RETURN(auto snapshot, CurrentSnapshot());
  const auto& checkpoints = snapshot->manifest().stream_checkpoints;
  auto it = checkpoints.find(std::string(stream_id));
  return it == checkpoints.end() ? int64_t{-1} : it->second;
}

Result<AddResult> Table::Add(const RecordBatch& batch, const AddOptions& options) {
  const int64_t started_us = ::tessera::base::NowMicros();
  if (read_only()) {
    return Status::InvalidArgument("table is checked out read-only at an old version");
  }
  const bool streamed = !options.stream_id.empty();
  if (streamed && options.batch_id < 0) {
    return Status::InvalidArgument("add: batch_id must be >= 0 for stream '", options.stream_id,
                                   "'");
  }
  TESSERA_ASSIGN_OR_RETURN(auto base, CurrentSnapshot());
  const auto already = [&](const format::Manifest& manifest) {
    if (!streamed) return false;
    auto it = manifest.stream_checkpoints.find(options.stream_id);
    return it != manifest.stream_checkpoints.end() && it->second >= options.batch_id;
  };
  if (already(base->manifest())) {
    AddResult result;
    result.already_committed = true;
    result.version = base->version();
    return result;
  }
  const Schema schema = base->schema();
  TESSERA_ASSIGN_OR_RETURN(RecordBatch conformed, ConformBatch(batch, schema));
  if (conformed.num_rows() == 0) return Status::InvalidArgument("add: batch has no rows");
  int64_t waited_ms = 0;
  TESSERA_ASSIGN_OR_RETURN(std::vector<std::string> warnings, ApplyBackpressure(&base, &waited_ms));
  TESSERA_ASSIGN_OR_RETURN(format::FragmentMeta fragment, store_->WriteFragment(conformed));
  format::TransactionMeta txn;
  txn.operation = "add";
  if (streamed) {
    txn.detail =
        nlohmann::json{{"stream_id", options.stream_id}, {"batch_id", options.batch_id}}.dump();
  }
  txn.duration_us = ::tessera::base::NowMicros() - started_us;  // Commit adds its own time
  txn.rows_added = conformed.num_rows();
  uint64_t first_row_id = 0;
  auto build = [&](const Snapshot* latest,
                   std::span<const format::TransactionMeta>) -> Result<format::Manifest> {
    if (!(latest->schema() == schema)) {
      return Status::InvalidArgument("add: the table schema changed concurrently to ",
                                     latest->schema().ToString());
    }
    if (already(latest->manifest())) {  // another process committed this batch meanwhile
      return Status::AlreadyExists("stream '", options.stream_id, "' batch ", options.batch_id,
                                   " already committed");
    }
    format::Manifest next = NextManifestFrom(*latest);
    if (streamed) next.stream_checkpoints[options.stream_id] = options.batch_id;
    format::FragmentMeta meta = fragment;
    meta.id = next.next_fragment_id++;
    first_row_id = next.next_row_id;
    meta.row_ids = {{next.next_row_id, next.next_row_id + static_cast<uint64_t>(meta.num_rows)}};
    next.next_row_id += static_cast<uint64_t>(meta.num_rows);
    next.fragments.push_back(std::move(meta));
    return next;
  };
  auto committed = store_->Commit(base, txn, build);
  if (!committed.ok()) {
    // The data file is an orphan; cleanup removes it after its grace period.
    if (streamed && committed.status().IsAlreadyExists()) {
      AddResult result;
      result.already_committed = true;
      TESSERA_ASSIGN_OR_RETURN(result.version, version());
      return result;
    }
    return committed.status().WithContext("add");
  }
  if (committed->snapshot) {
    std::lock_guard<std::mutex> lock(mu_);
    if (!read_only_ && snapshot_->version() < committed->version) snapshot_ = committed->snapshot;
  }
  const double add_ms = static_cast<double>(::tessera::base::NowMicros() - started_us) / 1000.0;
  add_latency_.Record(add_ms);
  ProcessMetrics::Get().add_latency.Record(add_ms);
  AddResult result;
  result.version = committed->version;
  result.first_row_id = first_row_id;
  result.num_rows = conformed.num_rows();
  result.warnings = std::move(warnings);
  result.backpressure_wait_ms = waited_ms;
  return result;
}

Result<std::vector<std::string>> Table::ApplyBackpressure(std::shared_ptr<const Snapshot>* base,
                                                          int64_t* waited_ms) {
  *waited_ms = 0;
  if (backpressure_.mode == BackpressureMode::kNone) return std::vector<std::string>{};
  std::vector<std::string> problems = table::DebtProblems(**base, backpressure_.limits);
  if (backpressure_.mode == BackpressureMode::kWait && !problems.empty()) {
    // Poll for maintenance committed by any process; the add is never refused, only delayed,
    // so a stream can not lose data to a maintenance job that died.
    const int64_t started_us = ::tessera::base::NowMicros();
    while (!problems.empty()) {
      const int64_t elapsed_ms = (::tessera::base::NowMicros() - started_us) / 1000;
      if (elapsed_ms >= backpressure_.max_wait_ms) break;
      const int64_t sleep_ms = std::max<int64_t>(
          1, std::min(backpressure_.poll_interval_ms, backpressure_.max_wait_ms - elapsed_ms));
      std::this_thread::sleep_for(std::chrono::milliseconds(sleep_ms));
      TESSERA_ASSIGN_OR_RETURN(*base, CurrentSnapshot());
      problems = table::DebtProblems(**base, backpressure_.limits);
    }
    *waited_ms = (::tessera::base::NowMicros() - started_us) / 1000;
    if (!problems.empty()) {
      problems.insert(problems.begin(), "waited " + std::to_string(*waited_ms) +
                                            " ms for maintenance; the table is still past " +
                                            std::to_string(problems.size()) + " limit(s)");
    }
  }
  return problems;
}

Result<DeleteResult> Table::DeleteRows(std::string_view where) {
  if (read_only())
    return Status::InvalidArgument("table is checked out read-only at an old version");
  if (where.empty())
    return Status::InvalidArgument("delete: empty filter (use 'true' to delete all)");
  // A delete whose rows were concurrently deleted or restored away is re-run from the start on
  // the newer version, so that its deletion file never overlaps another one in force.
  const int64_t started_us = ::tessera::base::NowMicros();
  for (int run = 0; run < 20; ++run) {
    TESSERA_ASSIGN_OR_RETURN(auto base, CurrentSnapshot());
    TESSERA_ASSIGN_OR_RETURN(auto filter, ParseWhere(where, base->schema()));
    format::RowIdSet matched;
    TESSERA_RETURN_IF_ERROR(ForEachMatch(store_.get(), *base, filter.get(),
                                         [&](const RecordBatch&, const std::vector<uint64_t>& ids,
                                             const std::vector<int64_t>& rows) {
                                           for (int64_t row : rows) matched.add(ids[row]);
                                           return Status::OK();
                                         }));
    if (matched.isEmpty()) return DeleteResult{0, 0};
    TESSERA_ASSIGN_OR_RETURN(format::DeletionFileMeta file, store_->WriteDeletionFile(matched));
    format::TransactionMeta txn;
    txn.operation = "delete";
    txn.duration_us = ::tessera::base::NowMicros() - started_us;
    txn.rows_deleted = file.num_rows;
    txn.detail = nlohmann::json{{"where", std::string(where)}}.dump();
    auto build = [&](const Snapshot* latest,
                     std::span<const format::TransactionMeta> winners) -> Result<format::Manifest> {
      for (const format::TransactionMeta& winner : winners) {
        if (winner.operation == "restore" || winner.operation == "overwrite") {
          return Status::Conflict("delete: table was ", winner.operation, "d concurrently");
        }
      }
      format::RowIdSet overlap = matched;
      overlap &= latest->deleted();
      if (!winners.empty() && !overlap.isEmpty()) {
        return Status::Conflict("delete: some rows were deleted concurrently");
      }
      // Rows removed by a concurrent rewrite (compaction) keep their ids: nothing to rebase.
      format::Manifest next = NextManifestFrom(*latest);
      next.deletion_files.push_back(file);
      return next;
    };
    auto committed = store_->Commit(base, txn, build);
    if (committed.ok()) {
      if (committed->snapshot) {
        std::lock_guard<std::mutex> lock(mu_);
        if (!read_only_ && snapshot_->version() < committed->version)
          snapshot_ = committed->snapshot;
      }
      return DeleteResult{committed->version, file.num_rows};
    }
    if (!committed.status().IsConflict()) return committed.status().WithContext("delete");
    ++ProcessMetrics::Get().commit_retries;
    // Re-run on the newer version; this attempt's deletion file is an orphan.
  }
  return Status::Conflict("delete: gave up after repeated concurrent changes");
}

Result<int64_t> Table::CountRows(std::string_view where) {
  TESSERA_ASSIGN_OR_RETURN(auto snapshot, CurrentSnapshot());
  if (where.empty()) return snapshot->num_live_rows();
  TESSERA_ASSIGN_OR_RETURN(auto filter, ParseWhere(where, snapshot->schema()));
  int64_t count = 0;
  TESSERA_RETURN_IF_ERROR(ForEachMatch(
      store_.get(), *snapshot, filter.get(),
      [&](const RecordBatch&, const std::vector<uint64_t>&, const std::vector<int64_t>& rows) {
        count += static_cast<int64_t>(rows.size());
        return Status::OK();
      }));
  return count;
}

Status Table::ScanBatches(const ScanOptions& options,
                          const std::function<Status(const RecordBatch&)>& visit) {
  TESSERA_ASSIGN_OR_RETURN(auto snapshot, CurrentSnapshot());
  const Schema& schema = snapshot->schema();
  for (const std::string& column : options.columns) {
    if (schema.FieldIndex(column) < 0) {
      return Status::InvalidArgument("unknown column '", column,
                                     "' (table schema: ", schema.ToString(), ")");
    }
  }
  TESSERA_ASSIGN_OR_RETURN(auto filter, ParseWhere(options.where, schema));
  int64_t remaining = options.limit < 0 ? INT64_MAX : options.limit;
  if (remaining == 0) return Status::OK();
  Status stop = Status::Cancelled("limit reached");
  Status st = ForEachMatch(
      store_.get(), *snapshot, filter.get(),
      [&](const RecordBatch& batch, const std::vector<uint64_t>& ids, std::vector<int64_t> rows) {
        if (static_cast<int64_t>(rows.size()) > remaining)
          rows.resize(static_cast<size_t>(remaining));
        remaining -= static_cast<int64_t>(rows.size());
        RecordBatch out;
        if (static_cast<int64_t>(rows.size()) == batch.num_rows()) {
          out = batch;  // zero-copy: every row selected
        } else if (rows.back() - rows.front() + 1 == static_cast<int64_t>(rows.size())) {
          out = batch.Slice(rows.front(), static_cast<int64_t>(rows.size()));  // contiguous
        } else {
          out = batch.Take(rows);
        }
        if (!options.columns.empty()) {
          TESSERA_ASSIGN_OR_RETURN(out, out.SelectColumns(options.columns));
        }
        if (options.with_row_id) {
          ArrayBuilder row_ids(DataType::Int64());
          for (int64_t row : rows) row_ids.AppendInt(static_cast<int64_t>(ids[row])).IgnoreError();
          TESSERA_ASSIGN_OR_RETURN(
              out, out.AddColumn({"_rowid", DataType::Int64(), false}, row_ids.Finish()));
        }
        TESSERA_RETURN_IF_ERROR(visit(out));
        return remaining == 0 ? stop : Status::OK();
      });
  if (st.IsCancelled() && st.message() == stop.message()) return Status::OK();
  return st;
}

Result<RecordBatch> Table::Scan(const ScanOptions& options) {
  std::vector<RecordBatch> batches;
  TESSERA_RETURN_IF_ERROR(ScanBatches(options, [&](const RecordBatch& batch) {
    batches.push_back(batch);
    return Status::OK();
  }));
  if (batches.size() == 1) return batches.front();
  // The output schema: projected columns plus _rowid.
  TESSERA_ASSIGN_OR_RETURN(auto snapshot, CurrentSnapshot());
  RecordBatch empty = RecordBatch::Empty(snapshot->schema());
  if (!options.columns.empty()) {
    TESSERA_ASSIGN_OR_RETURN(empty, empty.SelectColumns(options.columns));
  }
  if (options.with_row_id) {
    TESSERA_ASSIGN_OR_RETURN(empty, empty.AddColumn({"_rowid", DataType::Int64(), false},
                                                    ArrayBuilder(DataType::Int64()).Finish()));
  }
  if (batches.empty()) return empty;
  return RecordBatch::Concatenate(empty.schema(), batches);
}

Result<RecordBatch> Table::Take(std::span<const uint64_t> row_ids,
                                const std::vector<std::string>& columns) {
  TESSERA_ASSIGN_OR_RETURN(auto snapshot, CurrentSnapshot());
  RecordBatchBuilder builder(snapshot->schema());
  for (uint64_t id : row_ids) {
    TESSERA_ASSIGN_OR_RETURN(Snapshot::RowLocation loc, snapshot->Locate(id));
    if (snapshot->IsDeleted(id)) return Status::NotFound("row id ", id, " was deleted");
    TESSERA_ASSIGN_OR_RETURN(
        RecordBatch batch,
        store_->ReadFragment(snapshot->manifest().fragments[loc.fragment_index]));
    for (int col = 0; col < batch.num_columns(); ++col) {
      builder.column(col).AppendFrom(batch.column(col), loc.row_idx);
    }
  }
  TESSERA_ASSIGN_OR_RETURN(RecordBatch out, builder.Finish());
  if (columns.empty()) return out;
  return out.SelectColumns(columns);
}

Result<std::vector<VersionInfo>> Table::ListVersions() {
  TESSERA_ASSIGN_OR_RETURN(uint64_t latest, store_->LatestVersion());
  std::vector<VersionInfo> versions;
  for (uint64_t version = 1; version <= latest; ++version) {
    auto manifest = store_->ReadManifest(version);
    if (!manifest.ok()) {
      if (manifest.status().IsNotFound()) continue;  // cleaned up
      return manifest.status();
    }
    VersionInfo info;
    info.version = version;
    info.timestamp_us = manifest->transaction.timestamp_us;
    info.operation = manifest->transaction.operation;
    info.base_version = manifest->transaction.base_version;
    info.duration_us = manifest->transaction.duration_us;
    info.rows_added = manifest->transaction.rows_added;
    info.rows_deleted = manifest->transaction.rows_deleted;
    info.num_fragments = static_cast<int64_t>(manifest->fragments.size());
    for (const auto& fragment : manifest->fragments) info.num_rows += fragment.num_rows;
    for (const auto& file : manifest->deletion_files) info.num_rows -= file.num_rows;
    info.num_unindexed_rows = table::UnindexedRows(*manifest);
    versions.push_back(std::move(info));
  }
  return versions;
}

Status Table::Checkout(uint64_t version) {
  TESSERA_ASSIGN_OR_RETURN(auto snapshot, store_->LoadSnapshot(version));
  std::lock_guard<std::mutex> lock(mu_);
  snapshot_ = std::move(snapshot);
  read_only_ = true;
  return Status::OK();
}

Status Table::CheckoutTag(std::string_view tag) {
  TESSERA_ASSIGN_OR_RETURN(uint64_t version, store_->ReadTag(tag));
  return Checkout(version);
}

Status Table::CheckoutLatest() {
  TESSERA_ASSIGN_OR_RETURN(uint64_t latest, store_->LatestVersion());
  TESSERA_ASSIGN_OR_RETURN(auto snapshot, store_->LoadSnapshot(latest));
  std::lock_guard<std::mutex> lock(mu_);
  snapshot_ = std::move(snapshot);
  read_only_ = false;
  return Status::OK();
}

Result<uint64_t> Table::Restore(uint64_t version) {
  TESSERA_ASSIGN_OR_RETURN(format::Manifest target, store_->ReadManifest(version));
  TESSERA_ASSIGN_OR_RETURN(uint64_t latest_version, store_->LatestVersion());
  TESSERA_ASSIGN_OR_RETURN(auto base, store_->LoadSnapshot(latest_version));
  format::TransactionMeta txn;
  txn.operation = "restore";
  txn.detail = "{\"restored_version\":" + std::to_string(version) + "}";
  auto build = [&](const Snapshot* latest,
                   std::span<const format::TransactionMeta>) -> Result<format::Manifest> {
    format::Manifest next = target;
    next.transaction = {};
    // Row ids and fragment ids are never reused; stream checkpoints only move forward.
    next.next_row_id = std::max(target.next_row_id, latest->manifest().next_row_id);
    next.next_fragment_id = std::max(target.next_fragment_id, latest->manifest().next_fragment_id);
    next.stream_checkpoints = latest->manifest().stream_checkpoints;
    return next;
  };
  TESSERA_ASSIGN_OR_RETURN(auto committed, store_->Commit(base, txn, build));
  std::lock_guard<std::mutex> lock(mu_);
  if (committed.snapshot && !read_only_) snapshot_ = committed.snapshot;
  return committed.version;
}

Status Table::CreateTag(std::string_view name, uint64_t version) {
  return store_->CreateTag(name, version);
}

Status Table::DeleteTag(std::string_view name) { return store_->DeleteTag(name); }

Result<std::map<std::string, uint64_t>> Table::ListTags() { return store_->ListTags(); }

}  // namespace tessera

namespace tessera {
namespace {

// The key of row `row` of `batch`, whose key columns are at `key_indices`.
Result<std::string> KeyOf(const RecordBatch& batch, const std::vector<int>& key_indices,
                          int64_t row) {
  std::string key;
  for (int index : key_indices)
    TESSERA_RETURN_IF_ERROR(table::AppendKeyPart(batch.column(index), row, &key));
  return key;
}

// Visit, fragment by fragment, the live rows of `snapshot` outside `covered` (sorted, merged
// row-id ranges): the tail that no key-index segment covers.
Status ForEachUncovered(TableStore* store, const Snapshot& snapshot,
                        const std::vector<format::RowIdRange>& covered,
                        const std::function<Status(const RecordBatch&, const std::vector<uint64_t>&,
                                                   const std::vector<int64_t>&)>& visit) {
  for (const format::FragmentMeta& fragment : snapshot.manifest().fragments) {
    if (table::SubtractRanges(fragment.row_ids, covered).empty()) continue;
    TESSERA_ASSIGN_OR_RETURN(RecordBatch batch, store->ReadFragment(fragment));
    const std::vector<uint64_t> ids = table::ExpandRowIds(fragment);
    std::vector<int64_t> rows;
    for (int64_t row = 0; row < batch.num_rows(); ++row) {
      const uint64_t id = ids[row];
      if (snapshot.IsDeleted(id)) continue;
      auto it = std::upper_bound(covered.begin(), covered.end(), id,
                                 [](uint64_t v, const format::RowIdRange& r) { return v < r.end; });
      if (it != covered.end() && it->start <= id) continue;  // indexed
      rows.push_back(row);
    }
    if (!rows.empty()) TESSERA_RETURN_IF_ERROR(visit(batch, ids, rows));
  }
  return Status::OK();
}

// "id=5" / "(id=5, name='x')" for error messages.
std::string DescribeKey(const RecordBatch& batch, const std::vector<int>& key_indices,
                        int64_t row) {
  std::string out;
  for (int index : key_indices) {
    if (!out.empty()) out += ", ";
    out +=
        batch.schema().field(index).name + "=" + ValueToString(batch.column(index).GetValue(row));
  }
  return key_indices.size() > 1 ? "(" + out + ")" : out;
}

}  // namespace

Result<UpsertResult> Table::Upsert(const RecordBatch& source, const UpsertOptions& options) {
  if (read_only()) {
    return Status::InvalidArgument("table is checked out read-only at an old version");
  }
  if (options.on.empty()) return Status::InvalidArgument("upsert: no key column (on)");
  const int64_t started_us = ::tessera::base::NowMicros();
  for (int run = 0; run < 50; ++run) {
    TESSERA_ASSIGN_OR_RETURN(auto base, CurrentSnapshot());
    const Schema schema = base->schema();
    std::vector<int> key_indices;
    for (const std::string& name : options.on) {
      const int index = schema.FieldIndex(name);
      if (index < 0) {
        return Status::InvalidArgument("upsert: unknown key column '", name,
                                       "' (table schema: ", schema.ToString(), ")");
      }
      key_indices.push_back(index);
    }
    TESSERA_ASSIGN_OR_RETURN(RecordBatch rows, ConformBatch(source, schema));
    // The source's keys: unique, not null.
    std::unordered_map<std::string, int64_t> source_keys;
    std::vector<std::string> duplicates;
    for (int64_t row = 0; row < rows.num_rows(); ++row) {
      auto key = KeyOf(rows, key_indices, row);
      if (!key.ok()) {
        return key.status().WithContext("upsert: source row ", row, " (",
                                        DescribeKey(rows, key_indices, row), ")");
      }
      if (!source_keys.emplace(*key, row).second && duplicates.size() < 5) {
        duplicates.push_back(DescribeKey(rows, key_indices, row));
      }
    }
    if (!duplicates.empty()) {
      std::string list;
      for (const std::string& d : duplicates) list += (list.empty() ? "" : "; ") + d;
      return Status::InvalidArgument("upsert: duplicate keys in the source: ", list);
    }
    TESSERA_ASSIGN_OR_RETURN(auto by_source_filter,
                             ParseWhere(options.when_not_matched_by_source_filter, schema));

    // Match against every live row of the base version: through the key column's scalar index
    // (BTREE) when there is one and the key is that one column, scanning only the rows no
    // index segment covers; else by scanning the table. Deleting rows not in the source needs
    // every row, so it always scans.
    format::RowIdSet replaced;
    format::RowIdSet removed;
    std::vector<bool> matched(static_cast<size_t>(rows.num_rows()), false);
    const auto visit = [&](const RecordBatch& batch, const std::vector<uint64_t>& ids,
                           const std::vector<int64_t>& live) -> Status {
      for (int64_t row : live) {
        auto key = KeyOf(batch, key_indices, row);
        if (!key.ok()) continue;  // a null key in the table matches nothing
        auto it = source_keys.find(*key);
        if (it != source_keys.end()) {
          matched[static_cast<size_t>(it->second)] = true;
          if (options.when_matched_update_all) replaced.add(ids[row]);
        } else if (options.when_not_matched_by_source_delete) {
          removed.add(ids[row]);
        }
      }
      return Status::OK();
    };
    std::vector<const format::IndexSegmentMeta*> key_segments;
    if (key_indices.size() == 1 && !options.when_not_matched_by_source_delete) {
      for (const format::IndexSegmentMeta& segment : base->manifest().index_segments) {
        if (table::IsScalarIndexType(segment.index_type) && segment.column == options.on[0]) {
          key_segments.push_back(&segment);
        }
      }
    }
    int64_t rows_scanned = 0;
    const auto counting_visit = [&](const RecordBatch& batch, const std::vector<uint64_t>& ids,
                                    const std::vector<int64_t>& live) -> Status {
      rows_scanned += static_cast<int64_t>(live.size());
      return visit(batch, ids, live);
    };
    if (key_segments.empty()) {
      TESSERA_RETURN_IF_ERROR(ForEachMatch(store_.get(), *base, nullptr, counting_visit));
    } else {
      std::vector<uint64_t> found;
      for (const format::IndexSegmentMeta* segment : key_segments) {
        auto keys = table::LoadKeyIndex(store_.get(), *segment);
        if (!keys.ok()) return keys.status().WithContext("upsert");
        for (const auto& [key, row] : source_keys) {
          found.clear();
          (*keys)->Lookup(key, &found);
          for (uint64_t id : found) {
            // Deleted, or dropped by a compaction that materialized deletions.
            if (base->IsDeleted(id) || !base->Stores(id)) continue;
            matched[static_cast<size_t>(row)] = true;
            if (options.when_matched_update_all) replaced.add(id);
          }
        }
      }
      TESSERA_RETURN_IF_ERROR(ForEachUncovered(
          store_.get(), *base, table::MergedCoverage(key_segments), counting_visit));
    }
    if (by_source_filter && !removed.isEmpty()) {  // only rows the filter selects go
      format::RowIdSet selected;
      TESSERA_RETURN_IF_ERROR(ForEachMatch(store_.get(), *base, by_source_filter.get(),
                                           [&](const RecordBatch&, const std::vector<uint64_t>& ids,
                                               const std::vector<int64_t>& live) {
                                             for (int64_t row : live) selected.add(ids[row]);
                                             return Status::OK();
                                           }));
      removed &= selected;
    }
    std::vector<int64_t> written_rows;
    UpsertResult result;
    result.rows_scanned = rows_scanned;
    result.used_key_index = !key_segments.empty();
    for (int64_t row = 0; row < rows.num_rows(); ++row) {
      const bool is_match = matched[static_cast<size_t>(row)];
      if (is_match ? options.when_matched_update_all : options.when_not_matched_insert_all) {
        written_rows.push_back(row);
        ++(is_match ? result.rows_updated : result.rows_inserted);
      }
    }
    result.rows_deleted = static_cast<int64_t>(removed.cardinality());
    format::RowIdSet deleted = replaced;
    deleted |= removed;
    if (written_rows.empty() && deleted.isEmpty()) return result;  // nothing to commit

    std::optional<format::FragmentMeta> fragment;
    if (!written_rows.empty()) {
      const RecordBatch written = static_cast<int64_t>(written_rows.size()) == rows.num_rows()
                                      ? rows
                                      : rows.Take(written_rows);
      TESSERA_ASSIGN_OR_RETURN(fragment, store_->WriteFragment(written));
    }
    std::optional<format::DeletionFileMeta> deletion;
    if (!deleted.isEmpty()) {
      TESSERA_ASSIGN_OR_RETURN(deletion, store_->WriteDeletionFile(deleted));
    }
    format::TransactionMeta txn;
    txn.operation = "upsert";
    txn.duration_us = ::tessera::base::NowMicros() - started_us;
    txn.rows_added = static_cast<int64_t>(written_rows.size());
    txn.rows_deleted = static_cast<int64_t>(deleted.cardinality());
    txn.detail = nlohmann::json{{"on", options.on},
                                {"keys", source_keys.size()},
                                {"inserted", result.rows_inserted},
                                {"updated", result.rows_updated},
                                {"deleted", result.rows_deleted}}
                     .dump();
    const uint64_t base_next_row_id = base->manifest().next_row_id;
    auto build = [&](const Snapshot* latest,
                     std::span<const format::TransactionMeta> winners) -> Result<format::Manifest> {
      for (const format::TransactionMeta& winner : winners) {
        if (winner.operation == "restore" || winner.operation == "overwrite") {
          return Status::Conflict("upsert: table was ", winner.operation, "d concurrently");
        }
      }
      if (!winners.empty()) {
        // A row we replace or delete was deleted meanwhile (by a delete, an update or another
        // upsert of the same key): re-run on the newer version.
        format::RowIdSet overlap = deleted;
        overlap &= latest->deleted();
        if (!overlap.isEmpty())
          return Status::Conflict("upsert: matched rows changed concurrently");
        // Rows committed meanwhile (ids above our base's) holding one of our keys: without a
        // re-run the key would exist twice. This is the check that makes two upserts of the
        // same new key, or an add and an upsert, end with one row per key.
        for (const format::FragmentMeta& f : latest->manifest().fragments) {
          if (f.row_ids.empty() || f.row_ids.back().end <= base_next_row_id) continue;
          TESSERA_ASSIGN_OR_RETURN(RecordBatch batch, store_->ReadFragment(f));
          const std::vector<uint64_t> ids = table::ExpandRowIds(f);
          for (int64_t row = 0; row < batch.num_rows(); ++row) {
            if (ids[row] < base_next_row_id || latest->IsDeleted(ids[row])) continue;
            auto key = KeyOf(batch, key_indices, row);
            if (key.ok() && source_keys.count(*key)) {
              return Status::Conflict("upsert: key ", DescribeKey(batch, key_indices, row),
                                      " was written concurrently");
            }
          }
        }
      }
      if (!(latest->schema() == schema)) {
        return Status::Conflict("upsert: the table schema changed concurrently");
      }
      format::Manifest next = NextManifestFrom(*latest);
      if (fragment) {
        format::FragmentMeta meta = *fragment;
        meta.id = next.next_fragment_id++;
        meta.row_ids = {
            {next.next_row_id, next.next_row_id + static_cast<uint64_t>(meta.num_rows)}};
        next.next_row_id += static_cast<uint64_t>(meta.num_rows);
        next.fragments.push_back(std::move(meta));
      }
      if (deletion) next.deletion_files.push_back(*deletion);
      return next;
    };
    auto committed = store_->Commit(base, txn, build);
    if (committed.ok()) {
      if (committed->snapshot) {
        std::lock_guard<std::mutex> lock(mu_);
        if (!read_only_ && snapshot_->version() < committed->version) {
          snapshot_ = committed->snapshot;
        }
      }
      result.version = committed->version;
      return result;
    }
    if (!committed.status().IsConflict()) return committed.status().WithContext("upsert");
    ++ProcessMetrics::Get().commit_retries;
    // Re-run from the start on the newer version; this attempt's files are orphans.
  }
  return Status::Conflict("upsert: gave up after repeated concurrent changes of the same keys");
}

}  // namespace tessera

namespace tessera {

Result<UpdateResult> Table::Update(std::string_view where,
                                   const std::map<std::string, std::string>& set) {
  if (read_only()) {
    return Status::InvalidArgument("table is checked out read-only at an old version");
  }
  if (set.empty()) return Status::InvalidArgument("update: no column to set");
  const int64_t started_us = ::tessera::base::NowMicros();
  for (int run = 0; run < 50; ++run) {
    TESSERA_ASSIGN_OR_RETURN(auto base, CurrentSnapshot());
    const Schema schema = base->schema();
    TESSERA_ASSIGN_OR_RETURN(auto filter, ParseWhere(where, schema));
    std::vector<std::optional<expr::ValueExpr>> values(static_cast<size_t>(schema.num_fields()));
    for (const auto& [column, text] : set) {
      const int index = schema.FieldIndex(column);
      if (index < 0) {
        return Status::InvalidArgument("update: unknown column '", column,
                                       "' (table schema: ", schema.ToString(), ")");
      }
      auto parsed = expr::ValueExpr::Parse(text, schema);
      if (!parsed.ok()) return parsed.status().WithContext("update: column '", column, "'");
      values[static_cast<size_t>(index)] = std::move(parsed).value();
    }
    RecordBatchBuilder builder(schema);
    format::RowIdSet old_rows;
    TESSERA_RETURN_IF_ERROR(ForEachMatch(
        store_.get(), *base, filter.get(),
        [&](const RecordBatch& batch, const std::vector<uint64_t>& ids,
            const std::vector<int64_t>& rows) -> Status {
          for (int64_t row : rows) {
            for (int c = 0; c < schema.num_fields(); ++c) {
              if (!values[static_cast<size_t>(c)]) {
                builder.column(c).AppendFrom(batch.column(c), row);
                continue;
              }
              auto value = values[static_cast<size_t>(c)]->Evaluate(batch, row);
              Status st = value.ok() ? builder.column(c).AppendValue(*value) : value.status();
              if (!st.ok()) {
                return st.WithContext("update: column '", schema.field(c).name, "' of row id ",
                                      ids[row]);
              }
            }
            old_rows.add(ids[row]);
          }
          return Status::OK();
        }));
    if (old_rows.isEmpty()) return UpdateResult{};
    auto built = builder.Finish();
    if (!built.ok()) return built.status().WithContext("update");
    TESSERA_ASSIGN_OR_RETURN(RecordBatch new_rows, ConformBatch(*built, schema));
    TESSERA_ASSIGN_OR_RETURN(format::FragmentMeta fragment, store_->WriteFragment(new_rows));
    TESSERA_ASSIGN_OR_RETURN(format::DeletionFileMeta deletion,
                             store_->WriteDeletionFile(old_rows));
    format::TransactionMeta txn;
    txn.operation = "update";
    txn.duration_us = ::tessera::base::NowMicros() - started_us;
    txn.rows_added = new_rows.num_rows();
    txn.rows_deleted = new_rows.num_rows();
    nlohmann::json detail = {{"where", std::string(where)}};
    for (const auto& [column, text] : set) detail["set"][column] = text;
    txn.detail = detail.dump();
    auto build = [&](const Snapshot* latest,
                     std::span<const format::TransactionMeta> winners) -> Result<format::Manifest> {
      for (const format::TransactionMeta& winner : winners) {
        if (winner.operation == "restore" || winner.operation == "overwrite") {
          return Status::Conflict("update: table was ", winner.operation, "d concurrently");
        }
      }
      format::RowIdSet overlap = old_rows;
      overlap &= latest->deleted();
      if (!winners.empty() && !overlap.isEmpty()) {
        return Status::Conflict("update: some rows were changed concurrently");
      }
      if (!(latest->schema() == schema)) {
        return Status::Conflict("update: the table schema changed concurrently");
      }
      format::Manifest next = NextManifestFrom(*latest);
      format::FragmentMeta meta = fragment;
      meta.id = next.next_fragment_id++;
      meta.row_ids = {{next.next_row_id, next.next_row_id + static_cast<uint64_t>(meta.num_rows)}};
      next.next_row_id += static_cast<uint64_t>(meta.num_rows);
      next.fragments.push_back(std::move(meta));
      next.deletion_files.push_back(deletion);
      return next;
    };
    auto committed = store_->Commit(base, txn, build);
    if (committed.ok()) {
      if (committed->snapshot) {
        std::lock_guard<std::mutex> lock(mu_);
        if (!read_only_ && snapshot_->version() < committed->version) {
          snapshot_ = committed->snapshot;
        }
      }
      return UpdateResult{committed->version, new_rows.num_rows()};
    }
    if (!committed.status().IsConflict()) return committed.status().WithContext("update");
    ++ProcessMetrics::Get().commit_retries;
  }
  return Status::Conflict("update: gave up after repeated concurrent changes");
}

}  // namespace tessera
